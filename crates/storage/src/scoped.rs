//! The one way into storage: [`Db::scoped`] gives a [`Scoped`], which carries who acts, the
//! region they may see and today's date, and hands out one handle per capability
//! (`registry()`, `help()`, `funds()`, …). Every read and write of the register goes through such
//! a handle, so an out-of-scope id cannot be read: no read without an actor is reachable from
//! outside this crate. (The connection, the entities' queries and raw SQL are private here.)
//!
//! Writes go through [`Scoped::write`] and [`Scoped::commit`]: the audit transaction collects the
//! households and divisions it touched, and the data-quality re-check runs from that list after
//! the write has committed, so that the audit trail never calls business rules.

use chrono::NaiveDate;
use ducha_domain::access::{Actor, Scope};

use crate::audit::{AuditTxn, Touched};
use crate::{Db, StorageError};

/// Storage as one actor sees it, on one day.
#[derive(Debug, Clone)]
pub struct Scoped {
    db: Db,
    actor: Actor,
    today: NaiveDate,
}

/// Today's date where the offices are (China Standard Time, UTC+8, no daylight saving).
pub fn beijing_today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

impl Db {
    /// Storage as `actor` sees it, today (Beijing time).
    pub fn scoped(&self, actor: &Actor) -> Scoped {
        self.scoped_on(actor, beijing_today())
    }

    /// Storage as `actor` sees it on a given day (what the day decides: deadlines, a campaign's
    /// days, the check year).
    pub fn scoped_on(&self, actor: &Actor, today: NaiveDate) -> Scoped {
        Scoped { db: self.clone(), actor: actor.clone(), today }
    }

    /// ducha itself, for what it does on its own (removing expired uploads and sessions, marking
    /// abandoned imports, loading the default divisions): everything in scope, recorded as
    /// "system" in the audit trail.
    pub fn system(&self) -> Scoped {
        self.scoped(&Actor::system())
    }
}

impl Scoped {
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn scope(&self) -> &Scope {
        &self.actor.scope
    }

    pub fn today(&self) -> NaiveDate {
        self.today
    }

    /// The same actor on another day.
    pub fn on(&self, today: NaiveDate) -> Scoped {
        Scoped { today, ..self.clone() }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Begin a write: the audit chain's head is locked first (see [`AuditTxn`]).
    pub(crate) async fn write(&self) -> Result<AuditTxn<'_>, StorageError> {
        AuditTxn::begin(&self.db, &self.actor).await
    }

    /// Re-check what a committed write touched (households; towns and districts for the platform
    /// and funds rules).
    pub(crate) async fn recheck(&self, touched: Touched) -> Result<(), StorageError> {
        if touched.is_empty() {
            return Ok(());
        }
        let tx = AuditTxn::begin(&self.db, &self.actor).await?;
        crate::checks::after_write(&tx, &touched).await?;
        tx.commit().await.map(drop)
    }
}

/// Commit a write, then bring the data-quality findings of what it touched up to date. The
/// re-check runs after the commit, in a transaction of its own that appends nothing to the chain:
/// a fix shows as fixed by the time the page that saved it answers.
pub(crate) async fn commit(tx: AuditTxn<'_>) -> Result<(), StorageError> {
    let db = tx.db().clone();
    let actor = tx.actor().clone();
    let touched = tx.commit().await?;
    db.scoped(&actor).recheck(touched).await
}
