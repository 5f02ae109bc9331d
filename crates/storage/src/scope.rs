//! The one translation of a region scope into SQL, used by every capability: a row lies in a
//! scope when the code of its district, town or village (whichever the scope's level names)
//! equals the scope's code. A city is a range over district codes, so that the district index
//! serves it on both databases.

use ducha_domain::access::Scope;
use ducha_domain::region::RegionLevel;
use sea_orm::Value;

/// Where a table keeps the codes of the divisions a row lies in: SQL expressions over the
/// query's alias. `None`: the table has no rows at that level (postings belong to towns, so
/// nothing lies within a village).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Columns<'a> {
    pub district: &'a str,
    pub town: Option<&'a str>,
    pub village: Option<&'a str>,
}

impl Columns<'static> {
    /// `households AS h`.
    pub const HOUSEHOLDS: Columns<'static> =
        Columns { district: "h.district_code", town: Some("h.town_code"), village: Some("h.village_code") };
}

/// The condition that keeps rows inside `scope`, with its parameters numbered from `$n`.
pub(crate) fn filter(scope: &Scope, cols: Columns<'_>, n: usize) -> (String, Vec<Value>) {
    let code = match scope {
        Scope::All => return ("1 = 1".into(), vec![]),
        Scope::Region(code) => code,
    };
    let col = match code.level() {
        RegionLevel::City => {
            let c = cols.district;
            let m = n + 1;
            return (
                format!("{c} >= ${n} AND {c} < ${m}"),
                vec![code.as_str().into(), next_prefix(code.as_str()).into()],
            );
        }
        RegionLevel::District => Some(cols.district),
        RegionLevel::Town => cols.town,
        RegionLevel::Village => cols.village,
    };
    match col {
        Some(c) => (format!("{c} = ${n}"), vec![code.as_str().into()]),
        None => ("1 = 0".into(), vec![]),
    }
}

/// The smallest code after every code that starts with `prefix` ("4407" → "4408").
pub(crate) fn next_prefix(prefix: &str) -> String {
    let width = prefix.len();
    let n: u64 = prefix.parse().unwrap_or(0);
    format!("{:0width$}", n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ducha_domain::region::RegionCode;

    fn region(code: &str) -> Scope {
        Scope::Region(RegionCode::parse(code).expect("code"))
    }

    #[test]
    fn the_code_after_a_prefix() {
        assert_eq!(next_prefix("4407"), "4408");
        assert_eq!(next_prefix("4409"), "4410");
        assert_eq!(next_prefix("440781"), "440782");
    }

    #[test]
    fn each_level_names_its_column_and_a_city_is_a_range() {
        let cols = Columns { district: "p.district_code", town: Some("p.town_code"), village: None };
        assert_eq!(filter(&Scope::All, cols, 1).0, "1 = 1");
        let (sql, values) = filter(&region("4407"), cols, 3);
        assert_eq!(sql, "p.district_code >= $3 AND p.district_code < $4");
        assert_eq!(values.len(), 2);
        assert_eq!(filter(&region("440705"), cols, 1).0, "p.district_code = $1");
        assert_eq!(filter(&region("440705001"), cols, 1).0, "p.town_code = $1");
        // No column at the village level: nothing lies there.
        assert_eq!(filter(&region("440705001001"), cols, 1).0, "1 = 0");
    }
}
