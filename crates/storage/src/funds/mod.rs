//! Projects and funds in the database, behind [`Funds`] (`s.funds()`): the project library and
//! its stages ([`projects`]), payments and their ledger ([`payments`]), allocations and what is
//! passed down ([`allocations`]), spending progress ([`spending`]), the sheets that load them
//! ([`imports`]) and the rules' facts ([`findings`]). Every write is scoped by the project's
//! place, audited, and refused whole (with the reason at its field) when a stage or payment rule
//! says no; the places it touched are re-checked after it commits.

use ducha_domain::funds::DocumentKind;
use ducha_domain::labelled::Labelled;

use crate::audit::AuditTxn;
use crate::scope::Columns;

pub mod allocations;
mod findings;
pub mod imports;
pub mod payments;
pub mod projects;
pub mod spending;

pub use allocations::{AllocationRow, Allocations};
pub(crate) use findings::findings;
pub use payments::{LedgerRow, Payment, Payments};
pub(crate) use projects::row_in;
pub use projects::{ProjectDetail, ProjectRow, Projects};
pub use spending::{Spending, SpendingProgress};

/// Funds as one actor sees them: `s.funds().projects()`, `.payments()`, `.allocations()`,
/// `.spending()`.
pub struct Funds<'a>(pub(crate) &'a crate::Scoped);

impl crate::Scoped {
    pub fn funds(&self) -> Funds<'_> {
        Funds(self)
    }
}

impl<'a> Funds<'a> {
    /// The project library: projects, their documents, notices and stages.
    pub fn projects(&self) -> Projects<'a> {
        Projects(self.0)
    }

    /// Payments out of projects' budgets and the disbursement ledger.
    pub fn payments(&self) -> Payments<'a> {
        Payments(self.0)
    }

    /// Funds allocated to districts and towns, and passed down.
    pub fn allocations(&self) -> Allocations<'a> {
        Allocations(self.0)
    }

    /// Spending progress against the target curve.
    pub fn spending(&self) -> SpendingProgress<'a> {
        SpendingProgress(self.0)
    }
}

/// Projects within a scope: `projects AS p` (a project's place is a town or a village).
const PROJECTS: Columns<'static> =
    Columns { district: "p.district_code", town: Some("p.town_code"), village: Some("p.place_code") };

/// Evidence owner kinds of a project's documents ("project:plan", …) and of a payment's voucher.
fn document_owner(kind: DocumentKind) -> String {
    format!("project:{}", kind.code())
}
const VOUCHER: &str = "disbursement";

/// Mark the district of a place for the re-check: its projects and its spending both may have
/// changed.
fn touched(tx: &mut AuditTxn<'_>, place: &str) {
    tx.region_changed(place.get(..6).unwrap_or(place));
}
