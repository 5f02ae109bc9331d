//! The cheapest parsers of typed text, over any text: they answer (a value or a reason) and never
//! panic, and what they accept is what they promise. The fuzz targets (`fuzz/`, scripts/fuzz.sh)
//! go further; these run in the normal test suite in well under a second.

use ducha_domain::region::parse_region_file;
use ducha_domain::{IdNumber, Money, privacy, registry};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// Any text, and text made of what ID numbers are typed with (digits half- and full-width,
    /// x, X, spaces): a number that parses is 18 normal characters and parses again to itself;
    /// masking any text keeps its length in characters and never shows an ID number whole.
    #[test]
    fn id_numbers_and_masks_take_any_text(
        any in "\\PC{0,24}",
        typed in "[0-9０-９xXＸｘ 　]{0,22}",
    ) {
        for text in [&any, &typed] {
            if let Ok(id) = IdNumber::parse(text) {
                let s = id.as_str();
                prop_assert!(s.len() == 18 && s.bytes().all(|b| b.is_ascii_digit() || b == b'X'), "{s}");
                prop_assert_eq!(IdNumber::parse(s), Ok(id.clone()));
                prop_assert_ne!(privacy::mask_id(s), s);
            }
            for masked in [privacy::mask_id(text), privacy::mask_phone(text), privacy::mask_account(text)] {
                prop_assert_eq!(masked.chars().count(), text.chars().count());
            }
        }
    }

    /// Amounts and dates as typed: never a panic; an amount that parses reads back to itself.
    #[test]
    fn amounts_and_dates_take_any_text(any in "\\PC{0,24}", typed in "-?[0-9,，]{0,22}(\\.[0-9]{0,3})?元?") {
        for text in [&any, &typed] {
            if let Ok(m) = Money::parse_yuan(text) {
                let yuan = format!("{}{}.{:02}", if m.fen() < 0 { "-" } else { "" }, m.fen().unsigned_abs() / 100, m.fen().unsigned_abs() % 100);
                prop_assert_eq!(Money::parse_yuan(&yuan), Ok(m));
            }
            let _ = registry::parse_date(text);
        }
    }

    /// Division files with rows of every shape: refused with reasons, or accepted whole with
    /// every region's parent in the file (or the city's province).
    #[test]
    fn region_files_are_read_or_refused(
        rows in proptest::collection::vec(("[0-9]{0,13}", "\\PC{0,4}", "(city|district|town|village|x)", "[0-9]{0,10}"), 0..8),
        junk in "\\PC{0,30}",
    ) {
        let mut file = String::from("code,name,level,parent_code\n");
        for (code, name, level, parent) in &rows {
            file.push_str(&format!("{code},{name},{level},{parent}\n"));
        }
        file.push_str(&junk);
        if let Ok(regions) = parse_region_file(file.as_bytes()) {
            for r in &regions {
                prop_assert!(r.code.as_str().starts_with(&r.parent_code));
            }
        }
    }
}
