//! Region scope: the part of the city a user (or a query) may see. Every query over households
//! takes one, so that a town office cannot reach another town's records.

use serde::Serialize;

use crate::region::{RegionCode, RegionLevel};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum Scope {
    /// Everything in the database (administrators, the CLI).
    All,
    /// One division and everything under it.
    Region(RegionCode),
}

impl Scope {
    /// Whether a record in division `code` lies inside the scope.
    pub fn contains(&self, code: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Region(r) => code.starts_with(r.as_str()),
        }
    }

    pub fn level(&self) -> Option<RegionLevel> {
        match self {
            Scope::All => None,
            Scope::Region(r) => Some(r.level()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_town_scope_holds_its_villages_and_nothing_else() {
        let town = Scope::Region(RegionCode::parse("440781111").unwrap());
        assert!(town.contains("440781111210"));
        assert!(!town.contains("440781109201"));
        assert!(!town.contains("440781"));
        assert!(Scope::All.contains("440703"));
    }
}
