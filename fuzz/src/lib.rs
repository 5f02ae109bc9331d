//! What the fuzz targets share: the division list and a fixed date the parsers check against,
//! every typed sheet parser run over read tables, and a zip built from the fuzzer's entries.

use std::io::{Cursor, Write};
use std::sync::OnceLock;

use chrono::NaiveDate;
use ducha_domain::RegionTree;
use ducha_domain::access::Scope;
use ducha_domain::region::{JIANGMEN_CSV, RegionCode, parse_region_file};
use ducha_reports::help_sheets;
use ducha_reports::households;
use ducha_reports::sheet::Table;

/// The shipped Jiangmen divisions, parsed once.
pub fn tree() -> &'static RegionTree {
    static TREE: OnceLock<RegionTree> = OnceLock::new();
    TREE.get_or_init(|| RegionTree::new(parse_region_file(JIANGMEN_CSV.as_bytes()).unwrap_or_default()))
}

/// A fixed "today" (the seed circular's date), so that a crash reproduces on any day.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2017, 11, 6).unwrap_or_default()
}

/// The scopes an import runs in: the city office and one town office (海宴镇).
fn scopes() -> [Scope; 2] {
    let code = |c: &str| RegionCode::parse(c).map(Scope::Region).unwrap_or(Scope::All);
    [code("4407"), code("440781111")]
}

/// Every typed parser that reads a sheet: the households template and each platform sheet.
pub fn parse_tables(tables: Vec<Table>) {
    let (tree, today) = (tree(), today());
    for table in &tables {
        let _ = help_sheets::detect(table);
        let _ = help_sheets::parse_plans(table, 2017);
        let _ = help_sheets::parse_logs(table, today);
        for scope in &scopes() {
            let mut notes = Vec::new();
            let _ = help_sheets::parse_attendance(table, tree, scope, today, &mut notes);
            let _ = help_sheets::parse_projects(table, tree, scope, &mut notes);
            let _ = help_sheets::parse_payments(table, tree, scope, today, &mut notes);
            let _ = help_sheets::parse_postings(table, tree, scope, &mut notes);
            let _ = help_sheets::parse_institutions(table, tree, scope, &mut notes);
            let _ = help_sheets::parse_allocations(table, tree, scope, 2017, today, &mut notes);
        }
    }
    let _ = households::parse_tables(tables, tree, today);
}

/// A zip of the fuzzer's entries: the input is `name NUL content NUL name NUL content …`, so
/// that mutations land in the workbook's XML rather than in deflate streams and checksums.
/// Entries are stored (not compressed); a name the zip writer refuses ends the list.
pub fn zip_of_entries(data: &[u8]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut parts = data.split(|b| *b == 0);
    while let (Some(name), Some(content)) = (parts.next(), parts.next()) {
        let name = String::from_utf8_lossy(name);
        if out.start_file(&*name, opts).is_err() || out.write_all(content).is_err() {
            break;
        }
    }
    out.finish().map(Cursor::into_inner).unwrap_or_default()
}

/// libfuzzer-sys aborts at any panic, even one the code under test catches. The sheet reader
/// catches calamine's panics on purpose (a file calamine chokes on is refused as damaged, in the
/// server too), so the workbook targets print a panic instead: one that nothing catches still
/// aborts (libfuzzer-sys's wrapper does) and is kept as a crash.
pub fn panics_as_in_the_server() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|info| eprintln!("panic (caught or not): {info}"))));
}
