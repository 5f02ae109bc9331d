//! Region import's file parser (`code,name,level,parent_code`, every row checked), and the tree
//! built from a list that passed, with name resolution over it.
#![no_main]

use ducha_domain::RegionTree;
use ducha_domain::region::parse_region_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(regions) = parse_region_file(data) {
        let names: Vec<String> = regions.iter().take(8).map(|r| r.name.clone()).collect();
        let codes: Vec<String> = regions.iter().take(8).map(|r| r.code.as_str().to_string()).collect();
        let tree = RegionTree::new(regions);
        for (name, code) in names.iter().zip(&codes) {
            let _ = tree.resolve(name, None);
            let _ = (tree.ancestors(code), tree.path(code), tree.descendants(code, None));
        }
    }
});
