//! The voucher bundle reader (a ledger and its vouchers in one zip, names in UTF-8 or GBK), then
//! the ledger it finds through the sheet reader and the ledger parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ducha_fuzz::panics_as_in_the_server();
    let _ = ducha_reports::bundle::is_bundle(data);
    if let Ok((sheet, _vouchers)) = ducha_reports::bundle::unpack(data)
        && let Ok(tables) =
            ducha_reports::sheet::read(&sheet.filename, &sheet.bytes, ducha_reports::help_sheets::PAYMENT_SHEET)
    {
        ducha_fuzz::parse_tables(tables);
    }
});
