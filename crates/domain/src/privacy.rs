//! Masking of personal data (ID numbers, phones, bank accounts) for list views, notices and roles
//! without the personal-data right.
//!
//! A masked ID number keeps its area code and its last four characters and hides exactly the
//! eight digits of the birth date, so wherever it is masked the birth date must be too: a view
//! that shows the masked number beside the full birth date has shown the whole number. Masked
//! views give the birth year only (about thirty dates of that year then fit the check character).

use chrono::{Datelike, NaiveDate};

/// "440703********123X": area code and the last four kept.
pub fn mask_id(id: &str) -> String {
    mask_middle(id, 6, 4)
}

/// "138****5678".
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

/// Only the last four digits of a bank account.
pub fn mask_account(account: &str) -> String {
    mask_middle(account, 0, 4)
}

/// "1980年": the year of a birth date, for every view where the ID number is masked.
pub fn mask_birth_date(date: NaiveDate) -> String {
    format!("{}年", date.year())
}

/// A personal field of a form that showed its masked value, as sent back: unchanged (the masked
/// value itself), it keeps what is stored; anything else is what was typed. So a form shows no
/// more than a list does, and editing an address needs no full view of the bank account.
pub fn unmasked(sent: &str, stored: Option<&str>, mask: fn(&str) -> String) -> String {
    match stored {
        Some(s) if sent.trim() == mask(s) => s.to_string(),
        _ => sent.to_string(),
    }
}

fn mask_middle(text: &str, keep_start: usize, keep_end: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    if n <= keep_start + keep_end {
        // Too short to keep anything and still hide something: hide all but the last character.
        return chars.iter().enumerate().map(|(i, c)| if i + 1 == n { *c } else { '*' }).collect();
    }
    chars.iter().enumerate().map(|(i, c)| if i < keep_start || i >= n - keep_end { *c } else { '*' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_id("44070319800101123X"), "440703********123X");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_account("6228480000123456789"), "***************6789");
        assert_eq!(mask_id("123"), "**3");
        assert_eq!(unmasked("138****5678", Some("13812345678"), mask_phone), "13812345678");
        assert_eq!(unmasked("13900000000", Some("13812345678"), mask_phone), "13900000000");
        assert_eq!(unmasked("", Some("13812345678"), mask_phone), "");
        assert_eq!(unmasked("138****5678", None, mask_phone), "138****5678");
        assert_eq!(mask_birth_date(NaiveDate::from_ymd_opt(1980, 1, 1).expect("date")), "1980年");
    }
}
