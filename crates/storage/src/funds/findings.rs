//! The facts the catalogue's project and spending rules judge (storage-internal: the checks
//! call them).

use ducha_domain::access::Scope;
use ducha_domain::region::RegionLevel;
use sea_orm::ConnectionTrait;

use super::PROJECTS;
use super::projects::{ProjectRow, ROW, row_of, state};
use super::spending::spending_by;
use crate::scope::filter;
use crate::{Db, StorageError};

/// The catalogue's project and spending rules over a scope (run with the checks, and re-checked
/// after every project, payment or allocation is saved).
pub(crate) async fn findings<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    p: &ducha_domain::checks::AuditParams,
) -> Result<Vec<ducha_domain::checks::Finding>, StorageError> {
    use ducha_domain::funds::{ProjectFacts, project_findings, spending_findings};
    let mut out = Vec::new();
    let (cond, values) = filter(scope, PROJECTS, 1);
    let sql = format!("SELECT {ROW} FROM projects p WHERE {cond} AND p.year = {} ORDER BY p.id", p.year);
    let rows: Vec<ProjectRow> =
        c.query_all_raw(db.stmt(&sql, values)).await?.iter().map(row_of).collect::<Result<_, _>>()?;
    for row in &rows {
        let st = state(db, c, row).await?;
        #[derive(sea_orm::FromQueryResult)]
        struct Count {
            n: i64,
        }
        let unvouchered = <Count as sea_orm::FromQueryResult>::find_by_statement(db.stmt(
            "SELECT COUNT(*) AS n FROM disbursements d WHERE d.project_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM evidence e WHERE e.owner_kind = 'disbursement' AND e.owner_id = d.id)",
            vec![row.id.into()],
        ))
        .one(c)
        .await?
        .map_or(0, |r| r.n);
        let facts = ProjectFacts {
            id: row.id,
            name: row.name.clone(),
            place_code: row.place_code.clone(),
            stage_since: row.stage_since,
            state: st,
            payments_without_voucher: unvouchered as usize,
        };
        out.extend(project_findings(&facts, p));
    }
    // Spending is judged per district; a town's scope holds no district.
    if !matches!(scope.level(), Some(RegionLevel::Town | RegionLevel::Village)) {
        let month = u32::try_from(p.spend_full_by_month).unwrap_or(12);
        for s in spending_by(db, c, scope, p.year, p.as_of, month, RegionLevel::District).await? {
            out.extend(spending_findings(&s.code, &s.name, s.percent, s.target_percent, p));
        }
    }
    Ok(out)
}
