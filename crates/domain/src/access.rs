//! Region scope: the part of the city a user (or a query) may see. Every query over households
//! takes one, so that a town office cannot reach another town's records.

use serde::Serialize;

use crate::labelled_enum;
use crate::region::{RegionCode, RegionLevel};

labelled_enum! {
    /// What a user does, which decides what they may do.
    pub enum Role: "角色" {
        CityOffice => ("city", "市扶贫办"),
        DistrictOffice => ("district", "市(区)扶贫办"),
        TownOffice => ("town", "镇(街)扶贫办"),
        HelpCadre => ("cadre", "帮扶责任人"),
        Inspector => ("inspector", "督查组成员"),
        Leader => ("leader", "领导(只读)"),
        Admin => ("admin", "系统管理员"),
    }
}

impl Role {
    /// May create and edit households and members (within scope).
    pub fn edits_registry(self) -> bool {
        matches!(self, Self::CityOffice | Self::DistrictOffice | Self::TownOffice)
    }

    /// May post cadres to towns and record designated medical institutions: the offices above
    /// the towns (a town office keeps the attendance, not the postings).
    pub fn manages_platform(self) -> bool {
        matches!(self, Self::CityOffice | Self::DistrictOffice)
    }

    /// May see ID numbers, phones and bank accounts unmasked, one person at a time (each view is
    /// recorded in the audit trail). Lists are masked for everyone.
    pub fn sees_personal_data(self) -> bool {
        matches!(self, Self::CityOffice | Self::DistrictOffice | Self::TownOffice | Self::HelpCadre)
    }

    /// May take full personal data out in bulk (an export with unmasked ID numbers, phones and
    /// bank accounts): the offices that keep the register, not a help cadre, who sees one
    /// person at a time. Each such export is recorded with its scope and how many persons.
    pub fn exports_personal_data(self) -> bool {
        self.edits_registry()
    }

    /// May write help records (plans, measures, logs, evidence): the offices, and help cadres.
    pub fn writes_help(self) -> bool {
        self.edits_registry() || matches!(self, Self::HelpCadre)
    }

    /// May manage accounts and read the whole audit trail.
    pub fn administers(self) -> bool {
        matches!(self, Self::Admin)
    }

    /// The level of region a user of this role is scoped to, if the role requires one.
    pub fn scope_level(self) -> Option<RegionLevel> {
        match self {
            Self::DistrictOffice => Some(RegionLevel::District),
            Self::TownOffice | Self::HelpCadre => Some(RegionLevel::Town),
            _ => None,
        }
    }
}

/// Who is acting: a signed-in user, a script with a token, or the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    /// Where the request came from (an IP address), when there was one.
    pub origin: Option<String>,
}

impl Actor {
    /// The command line acts for the system user who runs it (`who`), over everything, with the
    /// city office's rights over the registry (the operator of the server).
    pub fn command_line(who: &str) -> Actor {
        Actor {
            user_id: None,
            username: format!("cli:{who}"),
            display_name: "命令行".into(),
            role: Role::CityOffice,
            scope: Scope::All,
            origin: None,
        }
    }

    /// ducha itself, for what it does on its own (loading the default divisions at start).
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            username: "system".into(),
            display_name: "系统".into(),
            role: Role::Admin,
            scope: Scope::All,
            origin: None,
        }
    }

    pub fn can_edit(&self, region_code: &str) -> bool {
        self.role.edits_registry() && self.scope.contains(region_code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum Scope {
    /// Everything in the database (administrators, the CLI).
    All,
    /// One division and everything under it.
    Region(RegionCode),
}

impl Scope {
    /// A scope that holds no record: a city code no division has. Inspectors have it outside
    /// their campaigns (which grant them their sampled towns, on the campaign's days).
    pub fn nothing() -> Scope {
        Scope::Region(RegionCode::no_division())
    }

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
    use crate::labelled::Labelled;

    #[test]
    fn roles_read_and_write_as_their_work_needs() {
        assert!(Role::TownOffice.edits_registry());
        assert!(!Role::Leader.edits_registry());
        assert!(!Role::Inspector.sees_personal_data());
        assert!(Role::HelpCadre.sees_personal_data() && !Role::HelpCadre.exports_personal_data());
        assert!(!Role::Leader.exports_personal_data() && Role::TownOffice.exports_personal_data());
        assert!(!Role::Admin.edits_registry());
        assert_eq!(Role::parse("镇(街)扶贫办"), Ok(Role::TownOffice));
        assert_eq!(Role::TownOffice.scope_level(), Some(RegionLevel::Town));
    }

    #[test]
    fn a_town_scope_holds_its_villages_and_nothing_else() {
        let town = Scope::Region(RegionCode::parse("440781111").unwrap());
        assert!(town.contains("440781111210"));
        assert!(!town.contains("440781109201"));
        assert!(!town.contains("440781"));
        assert!(Scope::All.contains("440703"));
    }
}
