//! Town platforms in the database, behind [`Platform`] (`s.platform()`): cadres posted to towns
//! ([`postings`]) and their check-ins ([`attendance`]), the designated medical institutions
//! ([`institutions`]) and the town poverty offices ([`offices`]). Every write is scoped and
//! audited; the towns (or districts) it touched are re-checked after it commits.

use ducha_domain::access::{Role, Scope};
use ducha_domain::checks::AuditParams;
use ducha_domain::region::{RegionKind, RegionLevel};
use sea_orm::ConnectionTrait;

use crate::scope::Columns;
use crate::{Db, StorageError};

pub mod attendance;
pub mod institutions;
pub mod offices;
pub mod postings;

pub use attendance::{Attendance, AttendanceSummary, CheckIn, Place, summary_level};
pub use institutions::{InstitutionRow, Institutions, OnlineSummary};
pub use offices::Offices;
pub(crate) use postings::insert_posting;
pub use postings::{PostingRow, Postings};

/// The town platforms as one actor sees them: `s.platform().postings()`, `.attendance()`,
/// `.institutions()`, `.offices()`.
pub struct Platform<'a>(pub(crate) &'a crate::Scoped);

impl crate::Scoped {
    pub fn platform(&self) -> Platform<'_> {
        Platform(self)
    }
}

impl<'a> Platform<'a> {
    /// Cadres posted to towns.
    pub fn postings(&self) -> Postings<'a> {
        Postings(self.0)
    }

    /// Posted cadres' check-ins and attendance.
    pub fn attendance(&self) -> Attendance<'a> {
        Attendance(self.0)
    }

    /// The districts' designated medical institutions.
    pub fn institutions(&self) -> Institutions<'a> {
        Institutions(self.0)
    }

    /// The town poverty offices: the checklist, judgements and staff.
    pub fn offices(&self) -> Offices<'a> {
        Offices(self.0)
    }
}

/// Postings within a scope: `postings AS p` (postings belong to towns: nothing lies within a village).
const POSTINGS: Columns<'static> = Columns { district: "p.district_code", town: Some("p.town_code"), village: None };

/// Institutions within a scope: `medical_institutions AS i` (a district's).
const INSTITUTIONS: Columns<'static> = Columns { district: "i.district_code", town: None, village: None };

/// Who may post cadres and record institutions: the district and city offices.
fn manages(role: Role) -> bool {
    role.manages_platform()
}

/// Who may record a check-in: the offices (the town office keeps the attendance sheet).
fn records_attendance(role: Role) -> bool {
    role.edits_registry()
}

/// The platform rules' findings within a scope: every posting, every town without a cadre on
/// post (streets and towns; special areas have no town office), every institution.
pub(crate) async fn findings<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    p: &AuditParams,
) -> Result<Vec<ducha_domain::checks::Finding>, StorageError> {
    use ducha_domain::platform::{institution_findings, posting_findings, town_without_posting};
    let mut out = Vec::new();
    let postings = postings::posting_facts(db, c, scope, None, p.year, p.as_of).await?;
    for (f, _) in &postings {
        out.extend(posting_findings(f, p));
    }
    let tree = crate::regions::tree_in(c).await?;
    let towns: Vec<_> = match scope {
        Scope::All => tree.descendants("", Some(RegionLevel::Town)),
        Scope::Region(code) if code.level() == RegionLevel::Village => vec![],
        Scope::Region(code) if code.level() == RegionLevel::Town => tree.get(code.as_str()).into_iter().collect(),
        Scope::Region(code) => tree.descendants(code.as_str(), Some(RegionLevel::Town)),
    };
    for town in towns.into_iter().filter(|t| t.kind != RegionKind::SpecialArea) {
        let on_post = postings
            .iter()
            .filter(|(f, _)| f.posting.town_code == town.code.as_str())
            .filter(|(f, _)| f.posting.started_on <= p.as_of && f.posting.ended_on.is_none_or(|e| e >= p.as_of))
            .count();
        out.extend(town_without_posting(town.code.as_str(), &town.name, on_post));
    }
    for (id, i) in institutions::institution_list(db, c, scope).await? {
        out.extend(institution_findings(id, &i, p));
    }
    out.extend(offices::findings(db, c, scope, p).await?);
    Ok(out)
}
