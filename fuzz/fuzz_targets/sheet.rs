//! The sheet reader on raw bytes (a zip that may be a workbook, or csv in UTF-8 or GBK), then
//! every typed parser over what it read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ducha_fuzz::panics_as_in_the_server();
    let name = if data.starts_with(b"PK") { "导入.xlsx" } else { "导入.csv" };
    if let Ok(tables) = ducha_reports::sheet::read(name, data, ducha_reports::households::SHEET) {
        ducha_fuzz::parse_tables(tables);
    }
});
