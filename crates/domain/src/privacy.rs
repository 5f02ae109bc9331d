//! Masking of personal data (ID numbers, phones, bank accounts) for list views, notices and roles
//! without the personal-data right.

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
    }
}
