//! Money in integer fen (分): sums of many small amounts must come out exactly, so never f64.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("金额“{0}”格式不对：应为元，最多两位小数，如 1234.50")]
pub struct MoneyError(pub String);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    pub const fn from_yuan(yuan: i64) -> Self {
        Self(yuan * 100)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Parse yuan as typed: "1234", "1,234.5", "1234.50元", "-20".
    pub fn parse_yuan(text: &str) -> Result<Self, MoneyError> {
        let bad = || MoneyError(text.trim().to_string());
        let t: String = text.trim().trim_end_matches('元').chars().filter(|c| *c != ',' && *c != '，').collect();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest.to_string()),
            None => (false, t),
        };
        let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
        if int.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 2
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let yuan: i64 = int.parse().map_err(|_| bad())?;
        let fen: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        let total = yuan.checked_mul(100).and_then(|v| v.checked_add(fen)).ok_or_else(bad)?;
        Ok(Self(if neg { -total } else { total }))
    }

    /// Whole yuan, rounded half away from zero (for per-capita figures shown as 元).
    pub fn round_yuan(self) -> i64 {
        (self.0 + self.0.signum() * 50) / 100
    }

    /// `self / n`, rounded to the fen; None for n = 0.
    pub fn per(self, n: i64) -> Option<Money> {
        (n != 0).then(|| Money((self.0 * 2 + n.signum() * self.0.signum() * n.abs()) / (2 * n)))
    }
}

/// The largest amount ducha takes for what it measures. Not plausibility (the data-quality
/// rules judge that) but a bound: every sum of such amounts stays far inside `i64` fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// One household's figures: a year's income and expenditure, a plan's target income, a help
    /// measure, what a project brings one household. 1000 万元.
    Household,
    /// A project's budget from one source, a payment, funds passed down to a town. 10 亿元.
    Project,
    /// Funds allocated to a district or town. 100 亿元.
    Allocation,
}

impl Limit {
    pub const fn max(self) -> Money {
        match self {
            Limit::Household => Money::from_yuan(10_000_000),
            Limit::Project => Money::from_yuan(1_000_000_000),
            Limit::Allocation => Money::from_yuan(10_000_000_000),
        }
    }

    /// The limit as an office writes it: "1000 万元", "10 亿元".
    pub fn words(self) -> String {
        let yuan = self.max().fen() / 100;
        if yuan % 100_000_000 == 0 {
            format!("{} 亿元", yuan / 100_000_000)
        } else {
            format!("{} 万元", yuan / 10_000)
        }
    }
}

/// An amount in yuan as typed for the field called `label`: well formed, not negative, at most
/// the limit; each refusal names the field and, when too large, the limit.
pub fn parse_amount(label: &str, text: &str, limit: Limit) -> Result<Money, String> {
    let t = text.trim();
    let m =
        Money::parse_yuan(t).map_err(|_| format!("{label}应为金额（元，最多两位小数，如 1234.50），填的是“{t}”"))?;
    if m < Money::ZERO {
        return Err(format!("{label}不能为负数，填的是“{t}”"));
    }
    if m > limit.max() {
        return Err(format!("{label}不能超过 {}，填的是“{t}”", limit.words()));
    }
    Ok(m)
}

impl fmt::Display for Money {
    /// "1234.50"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02}", self.0.abs() / 100, self.0.abs() % 100)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, o: Money) -> Money {
        Money(self.0 + o.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, o: Money) {
        self.0 += o.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, o: Money) -> Money {
        Money(self.0 - o.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_bounded_by_what_they_measure() {
        assert_eq!(parse_amount("金额", "1,234.5", Limit::Household), Ok(Money::from_fen(123_450)));
        assert_eq!(parse_amount("金额", "10000000", Limit::Household), Ok(Limit::Household.max()));
        let e = parse_amount("帮扶金额", "10000000.01", Limit::Household).unwrap_err();
        assert_eq!(e, "帮扶金额不能超过 1000 万元，填的是“10000000.01”");
        let e = parse_amount("下达金额", "99999999999999", Limit::Allocation).unwrap_err();
        assert!(e.contains("不能超过 100 亿元"), "{e}");
        assert_eq!(Limit::Project.words(), "10 亿元");
        assert!(parse_amount("金额", "-1", Limit::Project).unwrap_err().contains("不能为负数"));
        // Beyond i64 fen: refused as a bad amount, never wrapped.
        assert!(parse_amount("金额", "999999999999999999999", Limit::Project).unwrap_err().contains("应为金额"));
    }

    #[test]
    fn parses_what_people_type() {
        assert_eq!(Money::parse_yuan("1234"), Ok(Money::from_fen(123_400)));
        assert_eq!(Money::parse_yuan("1,234.5"), Ok(Money::from_fen(123_450)));
        assert_eq!(Money::parse_yuan("1234.05元"), Ok(Money::from_fen(123_405)));
        assert_eq!(Money::parse_yuan("-20"), Ok(Money::from_fen(-2000)));
        assert!(Money::parse_yuan("12.345").is_err());
        assert!(Money::parse_yuan("十元").is_err());
        assert!(Money::parse_yuan("").is_err());
        assert_eq!(Money::from_fen(-5).to_string(), "-0.05");
    }

    #[test]
    fn per_capita_rounds_to_the_fen() {
        assert_eq!(Money::from_fen(1000).per(3), Some(Money::from_fen(333)));
        assert_eq!(Money::from_fen(2000).per(3), Some(Money::from_fen(667)));
        assert_eq!(Money::from_fen(-2000).per(3), Some(Money::from_fen(-667)));
        assert_eq!(Money::from_fen(1).per(0), None);
        assert_eq!(Money::from_fen(12_350).round_yuan(), 124);
    }
}
