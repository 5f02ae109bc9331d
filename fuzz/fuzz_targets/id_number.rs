//! ID numbers as typed (full-width digits, spaces, a lower-case x), and the masks of IDs, phones
//! and accounts over any text. A number that parses must be 18 normal characters that parse
//! again to themselves, with a birth date and a sex.
#![no_main]

use ducha_domain::{IdNumber, privacy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = privacy::mask_id(&text);
    let _ = privacy::mask_phone(&text);
    let _ = privacy::mask_account(&text);
    let _ = ducha_domain::id_number::normalise(&text);
    if let Ok(id) = IdNumber::parse(&text) {
        let s = id.as_str();
        assert_eq!(s.len(), 18, "{s}");
        assert!(s.bytes().all(|b| b.is_ascii_digit() || b == b'X'), "{s}");
        assert_eq!(IdNumber::parse(s).as_ref(), Ok(&id));
        let _ = (id.area_code(), id.birth_date(), id.sex(), id.mismatches(None, None));
        let masked = privacy::mask_id(s);
        assert_ne!(masked, s, "a masked ID number shows all of it");
    }
});
