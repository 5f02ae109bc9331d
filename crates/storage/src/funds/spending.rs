//! Spending progress of the check year: allocated, arrived, committed and paid by region and by
//! fund source, against the target curve.

use chrono::NaiveDate;
use ducha_domain::access::Scope;
use ducha_domain::labelled::Labelled;
use ducha_domain::money::Money;
use ducha_domain::region::RegionLevel;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;

use super::PROJECTS;
use crate::scope::filter;
use crate::{Db, StorageError};

/// A `fund_allocations` row as spending counts it.
#[derive(FromQueryResult)]
struct AllocatedRow {
    region_code: String,
    amount_fen: i64,
    arrived_on: Option<NaiveDate>,
    parent_id: Option<i64>,
}

/// An amount at a project's place (`place`, `amount`).
#[derive(FromQueryResult)]
struct PlacedAmount {
    place: String,
    amount: i64,
}

/// Spending progress of a region on a day: allocated, arrived, committed (budgets of projects
/// past approval), paid, and paid ÷ allocated against the target curve.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Spending {
    pub code: String,
    pub name: String,
    pub allocated: Money,
    pub arrived: Money,
    pub committed: Money,
    pub paid: Money,
    pub percent: Option<i64>,
    pub target_percent: i64,
}

impl Spending {
    /// How many points the region's progress is below the target, if it is.
    pub fn lag(&self) -> Option<i64> {
        self.percent.filter(|p| *p < self.target_percent).map(|p| self.target_percent - p)
    }
}

/// Spending by district (the city, a district) or of a town (its own office), for the check year, on `on`.
async fn spending(
    db: &Db,
    scope: &Scope,
    on: NaiveDate,
    full_by_month: u32,
    today: NaiveDate,
) -> Result<Vec<Spending>, StorageError> {
    let (year, _) = crate::settings::check_period(db, db.conn(), today).await?;
    // Funds are allocated to districts (and sometimes towns): progress is a district's, so a
    // district sees its own line; a town, its own.
    let level = match scope.level() {
        Some(RegionLevel::Town | RegionLevel::Village) => RegionLevel::Town,
        _ => RegionLevel::District,
    };
    spending_by(db, db.conn(), scope, year, on, full_by_month, level).await
}

/// The same progress by fund source (中央, 省级, …) within a scope: allocated and arrived as
/// recorded per source (a town counts what reached it, a district or the city what was sent to
/// it); committed as project budgets by source; paid as each project's payments shared out over
/// its budget's sources in proportion (a payment names no source), so that the sources add up to
/// what was paid.
async fn spending_by_source(
    db: &Db,
    scope: &Scope,
    on: NaiveDate,
    full_by_month: u32,
    today: NaiveDate,
) -> Result<Vec<Spending>, StorageError> {
    use ducha_domain::funds::FundSource;
    let c = db.conn();
    let (year, _) = crate::settings::check_period(db, c, today).await?;
    let town_level = matches!(scope.level(), Some(RegionLevel::Town | RegionLevel::Village));
    let target = ducha_domain::funds::target_percent(year, on, full_by_month);
    let mut out: Vec<Spending> = <FundSource as Labelled>::ALL
        .iter()
        .map(|s| Spending {
            code: s.code().to_string(),
            name: s.label().to_string(),
            target_percent: target,
            ..Default::default()
        })
        .collect();
    let at = |code: &str| <FundSource as Labelled>::ALL.iter().position(|s| s.code() == code);
    #[derive(FromQueryResult)]
    struct SourcedRow {
        source: String,
        #[sea_orm(nested)]
        a: AllocatedRow,
    }
    for SourcedRow { source, a: r } in SourcedRow::find_by_statement(db.stmt(
        "SELECT source, region_code, amount_fen, arrived_on, parent_id FROM fund_allocations WHERE year = $1 AND allocated_on <= $2",
        vec![year.into(), on.into()],
    ))
    .all(c)
    .await?
    {
        let region = r.region_code;
        let parent = r.parent_id;
        // A town counts what reached it; above, what was passed down is already counted.
        let counts = scope.contains(&region) && if town_level { region.len() >= 9 } else { parent.is_none() };
        let Some(k) = at(&source).filter(|_| counts) else { continue };
        let amount = Money::from_fen(r.amount_fen);
        out[k].allocated += amount;
        if r.arrived_on.is_some_and(|a| a <= on) {
            out[k].arrived += amount;
        }
    }
    let (cond, values) = filter(scope, PROJECTS, 3);
    let mut all: Vec<Value> = vec![year.into(), on.into()];
    all.extend(values);
    // Each project's budget by source, its stage, and what it paid by `on`.
    let sql = format!(
        "SELECT p.id AS id, p.stage AS stage, b.source AS source, b.amount_fen AS amount, \
         (SELECT CAST(COALESCE(SUM(d.amount_fen), 0) AS BIGINT) FROM disbursements d WHERE d.project_id = p.id AND d.paid_on <= $2) AS paid \
         FROM projects p JOIN project_budgets b ON b.project_id = p.id WHERE p.year = $1 AND {cond} ORDER BY p.id, b.source"
    );
    let mut budgets: std::collections::BTreeMap<i64, (i64, Vec<(usize, i64)>)> = std::collections::BTreeMap::new();
    #[derive(FromQueryResult)]
    struct BudgetRow {
        id: i64,
        stage: String,
        source: String,
        amount: i64,
        paid: i64,
    }
    for r in BudgetRow::find_by_statement(db.stmt(&sql, all)).all(c).await? {
        let Some(k) = at(&r.source) else { continue };
        let amount = r.amount;
        if matches!(r.stage.as_str(), "implementation" | "acceptance" | "archived") {
            out[k].committed += Money::from_fen(amount);
        }
        let entry = budgets.entry(r.id).or_insert((r.paid, Vec::new()));
        entry.1.push((k, amount));
    }
    for (paid, parts) in budgets.values() {
        let total: i64 = parts.iter().map(|(_, a)| a).sum();
        if total <= 0 || *paid == 0 {
            continue;
        }
        // In proportion, the largest source taking what rounding leaves.
        let mut given = 0;
        for (k, amount) in parts {
            // In i128: a payment of 30 million yuan times a budget as large overflows i64 fen.
            let share = i64::try_from(i128::from(*paid) * i128::from(*amount) / i128::from(total)).unwrap_or(*paid);
            out[*k].paid += Money::from_fen(share);
            given += share;
        }
        if let Some((k, _)) = parts.iter().max_by_key(|(_, a)| *a) {
            out[*k].paid += Money::from_fen(paid - given);
        }
    }
    out.retain(|s| s.allocated.fen() > 0 || s.paid.fen() > 0 || s.committed.fen() > 0);
    for s in &mut out {
        s.percent = (s.allocated.fen() > 0).then(|| s.paid.fen() * 100 / s.allocated.fen());
    }
    Ok(out)
}

/// Spending of `year` within a scope summed by districts or by towns, on a given connection.
pub(super) async fn spending_by<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    year: i32,
    on: NaiveDate,
    full_by_month: u32,
    level: RegionLevel,
) -> Result<Vec<Spending>, StorageError> {
    let tree = crate::regions::tree_in(c).await?;
    let width = if level == RegionLevel::District { 6 } else { 9 };
    let target = ducha_domain::funds::target_percent(year, on, full_by_month);
    let mut out: Vec<Spending> = Vec::new();
    let mut add = |code: &str, f: &dyn Fn(&mut Spending)| {
        let Some(key) = code.get(..width) else { return };
        if !scope.contains(code) {
            return;
        }
        let k = match out.iter().position(|s| s.code == key) {
            Some(k) => k,
            None => {
                let name = tree.get(key).map(|r| r.name.clone()).unwrap_or_else(|| key.to_string());
                out.push(Spending { code: key.to_string(), name, target_percent: target, ..Default::default() });
                out.len() - 1
            }
        };
        f(&mut out[k]);
    };
    let y: Vec<Value> = vec![year.into(), on.into()];
    for r in AllocatedRow::find_by_statement(db.stmt(
        "SELECT region_code, amount_fen, arrived_on, parent_id FROM fund_allocations WHERE year = $1 AND allocated_on <= $2",
        y.clone(),
    ))
    .all(c)
    .await?
    {
        // Funds passed down are already in the district's own allocation.
        if r.parent_id.is_some() && level == RegionLevel::District {
            continue;
        }
        let code = r.region_code;
        let amount = Money::from_fen(r.amount_fen);
        let arrived = r.arrived_on.is_some_and(|a| a <= on);
        add(&code, &|s| {
            s.allocated += amount;
            if arrived {
                s.arrived += amount;
            }
        });
    }
    for r in PlacedAmount::find_by_statement(db.stmt(
        "SELECT p.place_code AS place, d.amount_fen AS amount FROM disbursements d JOIN projects p ON p.id = d.project_id \
         WHERE p.year = $1 AND d.paid_on <= $2",
        y.clone(),
    ))
    .all(c)
    .await?
    {
        let amount = Money::from_fen(r.amount);
        add(&r.place, &|s| s.paid += amount);
    }
    for r in PlacedAmount::find_by_statement(db.stmt(
        "SELECT p.place_code AS place, b.amount_fen AS amount FROM project_budgets b JOIN projects p ON p.id = b.project_id \
         WHERE p.year = $1 AND p.stage IN ('implementation', 'acceptance', 'archived')",
        vec![year.into()],
    ))
    .all(c)
    .await?
    {
        let amount = Money::from_fen(r.amount);
        add(&r.place, &|s| s.committed += amount);
    }
    for s in &mut out {
        s.percent = (s.allocated.fen() > 0).then(|| s.paid.fen() * 100 / s.allocated.fen());
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

/// Spending progress as one actor sees it (`s.funds().spending()`).
pub struct SpendingProgress<'a>(pub(crate) &'a crate::Scoped);

impl SpendingProgress<'_> {
    /// Spending by district (the city, a district) or of a town (its own office), for the check
    /// year, on `on`, against a target of all spent by the month `full_by_month`.
    pub async fn by_region(&self, on: NaiveDate, full_by_month: u32) -> Result<Vec<Spending>, StorageError> {
        spending(self.0.db(), self.0.scope(), on, full_by_month, self.0.today()).await
    }

    /// The same progress by fund source (中央, 省级, …) within the scope; payments are shared
    /// out over each project's budget sources in proportion.
    pub async fn by_source(&self, on: NaiveDate, full_by_month: u32) -> Result<Vec<Spending>, StorageError> {
        spending_by_source(self.0.db(), self.0.scope(), on, full_by_month, self.0.today()).await
    }
}
