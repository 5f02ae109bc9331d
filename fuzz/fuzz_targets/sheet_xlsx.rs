//! The sheet reader on workbooks whose parts the fuzzer writes (see `zip_of_entries`): past the
//! zip layer into calamine's XML, merged cells and the cell rules, then every typed parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ducha_fuzz::panics_as_in_the_server();
    let bytes = ducha_fuzz::zip_of_entries(data);
    if let Ok(tables) = ducha_reports::sheet::read("导入.xlsx", &bytes, ducha_reports::households::SHEET) {
        ducha_fuzz::parse_tables(tables);
    }
});
