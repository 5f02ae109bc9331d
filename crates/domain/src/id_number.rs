//! Resident ID numbers (公民身份号码) to GB 11643-1999: six-digit area code, eight-digit birth
//! date, three-digit sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check
//! character (0–9 or X).

use chrono::NaiveDate;

use crate::registry::Sex;

/// A well-formed ID number: 18 characters, a real province, a real birth date, a right check
/// character. Stored normalised: half-width digits and an upper-case X.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct IdNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("身份证号不能为空")]
    Empty,
    #[error("这是 15 位旧身份证号，请填写 18 位号码")]
    OldFifteenDigit,
    #[error("身份证号应为 18 位，实为 {0} 位")]
    BadLength(usize),
    #[error("身份证号第 {position} 位“{found}”不是数字{hint}")]
    BadCharacter { position: usize, found: char, hint: &'static str },
    #[error("身份证号前两位“{0}”不是有效的省级代码")]
    UnknownProvince(String),
    #[error("身份证号中的出生日期“{0}”不是真实日期")]
    BadBirthDate(String),
    #[error("身份证号校验位错误：按前 17 位应为“{expected}”，实为“{found}”")]
    BadCheckDigit { expected: char, found: char },
}

impl IdError {
    /// What is wrong, naming no character of the number that a mask would hide (the birth date,
    /// the sequence, or the check character the first 17 digits call for): for lists, beside the
    /// masked number.
    pub fn masked(&self) -> String {
        match self {
            IdError::BadCharacter { position, .. } if (7..=14).contains(position) => {
                "身份证号的出生日期部分有非数字字符".into()
            }
            IdError::BadBirthDate(_) => "身份证号中的出生日期不是真实日期".into(),
            IdError::BadCheckDigit { .. } => "身份证号校验位错误（与前 17 位不符）".into(),
            other => other.to_string(),
        }
    }
}

/// Province-level codes in use (GB/T 2260; 71 台湾, 81 香港, 82 澳门, 83 for the residence
/// permits of Taiwan residents).
const PROVINCES: [&str; 35] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
];

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character for the first 17 digits. Panics only on non-digits, which callers exclude.
pub fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

/// Half-width digits, upper-case X, no spaces: what people type, normalised.
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            'x' | 'Ｘ' | 'ｘ' => 'X',
            other => other,
        })
        .collect()
}

impl IdNumber {
    pub fn parse(text: &str) -> Result<Self, IdError> {
        // Most numbers in the registry are already normal (18 ASCII digits, upper-case X): the
        // checks parse every member's number, so that case copies nothing until it succeeds.
        let normal = text.len() == 18 && text.bytes().all(|b| b.is_ascii_digit() || b == b'X');
        let s: std::borrow::Cow<'_, str> = if normal { text.into() } else { normalise(text).into() };
        let chars: Vec<char> = if normal { Vec::new() } else { s.chars().collect() };
        let len = if normal { 18 } else { chars.len() };
        match len {
            0 => return Err(IdError::Empty),
            15 if chars.iter().all(char::is_ascii_digit) => return Err(IdError::OldFifteenDigit),
            18 => {}
            n => return Err(IdError::BadLength(n)),
        }
        for (i, c) in s.chars().enumerate() {
            let last = i == 17;
            if !(c.is_ascii_digit() || (last && c == 'X')) {
                let hint = if last { "或 X" } else { "" };
                return Err(IdError::BadCharacter { position: i + 1, found: c, hint });
            }
        }
        if !PROVINCES.contains(&&s[..2]) {
            return Err(IdError::UnknownProvince(s[..2].to_string()));
        }
        let birth = &s[6..14];
        let (y, m, d) = (birth[..4].parse::<i32>(), birth[4..6].parse::<u32>(), birth[6..].parse::<u32>());
        match (y, m, d) {
            // Nobody registered today was born before 1890; earlier years are typing errors.
            (Ok(y), Ok(m), Ok(d)) if y >= 1890 && NaiveDate::from_ymd_opt(y, m, d).is_some() => {}
            _ => return Err(IdError::BadBirthDate(birth.to_string())),
        }
        let expected = check_char(&s.as_bytes()[..17]);
        let found = char::from(s.as_bytes()[17]);
        if found != expected {
            return Err(IdError::BadCheckDigit { expected, found });
        }
        Ok(Self(s.into_owned()))
    }

    /// Build a valid number from its parts (the demo city and tests use this).
    pub fn compose(area: &str, birth: NaiveDate, sequence: u16) -> Result<Self, IdError> {
        let first17 = format!("{area:0>6.6}{}{:03}", birth.format("%Y%m%d"), sequence % 1000);
        let check = check_char(first17.as_bytes());
        Self::parse(&format!("{first17}{check}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The six-digit area code of the place the number was issued. Codes change over time, so an
    /// unknown one is a warning for the caller to give, not an error.
    pub fn area_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        // Checked by `parse`.
        let b = &self.0[6..14];
        let (y, m, d) = (b[..4].parse().unwrap_or(1890), b[4..6].parse().unwrap_or(1), b[6..].parse().unwrap_or(1));
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    /// Compare what was entered with what the number says; each mismatch names its field.
    pub fn mismatches(&self, sex: Option<Sex>, birth_date: Option<NaiveDate>) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(s) = sex.filter(|s| *s != self.sex()) {
            out.push(("sex", format!("性别填“{s}”，但身份证号表明为“{}”", self.sex())));
        }
        if let Some(d) = birth_date.filter(|d| *d != self.birth_date()) {
            out.push(("birth_date", format!("出生日期填 {d}，但身份证号表明为 {}", self.birth_date())));
        }
        out
    }
}

impl std::fmt::Display for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", check_char(first17.as_bytes()))
    }

    #[test]
    fn known_good_numbers_parse_and_yield_sex_and_birth_date() {
        // The example number of GB 11643-1999 itself.
        let id = IdNumber::parse("11010519491231002X").expect("the standard's example is valid");
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        let id = IdNumber::parse(&with_check("44078119800101123")).unwrap();
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.area_code(), "440781");
    }

    #[test]
    fn x_check_digit_lower_case_and_full_width_are_normalised() {
        assert_eq!(IdNumber::parse("11010519491231002x").unwrap().as_str(), "11010519491231002X");
        assert_eq!(IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ").unwrap().as_str(), "11010519491231002X");
        assert_eq!(IdNumber::parse(" 110105 19491231 002X ").unwrap().as_str(), "11010519491231002X");
    }

    #[test]
    fn each_kind_of_bad_number_is_named() {
        assert_eq!(IdNumber::parse(""), Err(IdError::Empty));
        assert_eq!(IdNumber::parse("440781800101123"), Err(IdError::OldFifteenDigit));
        assert_eq!(IdNumber::parse("4407811980010112"), Err(IdError::BadLength(16)));
        assert!(matches!(
            IdNumber::parse("4407811980O101123X"),
            Err(IdError::BadCharacter { position: 11, found: 'O', .. })
        ));
        assert!(matches!(IdNumber::parse("X40781198001011230"), Err(IdError::BadCharacter { position: 1, .. })));
        assert_eq!(IdNumber::parse(&with_check("99078119800101123")), Err(IdError::UnknownProvince("99".into())));
        assert_eq!(IdNumber::parse(&with_check("44078119800230123")), Err(IdError::BadBirthDate("19800230".into())));
        assert_eq!(IdNumber::parse(&with_check("44078118000101123")), Err(IdError::BadBirthDate("18000101".into())));
        let good = with_check("44078119800101123");
        let wrong = if good.ends_with('0') { '1' } else { '0' };
        let bad = format!("{}{wrong}", &good[..17]);
        assert!(matches!(IdNumber::parse(&bad), Err(IdError::BadCheckDigit { found, .. }) if found == wrong));
        let msg = IdNumber::parse(&bad).unwrap_err().to_string();
        assert!(msg.contains("校验位"), "{msg}");
    }

    #[test]
    fn mismatches_name_the_field() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        let m = id.mismatches(Some(Sex::Male), NaiveDate::from_ymd_opt(1949, 12, 30));
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, "sex");
        assert_eq!(m[1].0, "birth_date");
        assert!(id.mismatches(Some(Sex::Female), NaiveDate::from_ymd_opt(1949, 12, 31)).is_empty());
    }

    #[test]
    fn compose_makes_valid_numbers() {
        let d = NaiveDate::from_ymd_opt(2001, 2, 28).unwrap();
        let id = IdNumber::compose("440785", d, 457).unwrap();
        assert_eq!(id.birth_date(), d);
        assert_eq!(id.sex(), Sex::Male);
    }

    proptest::proptest! {
        #[test]
        fn changing_any_one_digit_breaks_the_check(pos in 0usize..17, delta in 1u8..10, day in 0i64..40000, seq in 0u16..1000) {
            let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(day);
            let id = IdNumber::compose("440703", birth, seq).unwrap();
            let mut bytes = id.as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            proptest::prop_assert!(IdNumber::parse(&changed).is_err());
        }
    }
}
