//! The sheets that load funds: the project library (项目库), the disbursement ledger (拨付台账)
//! with its vouchers, and allocations (资金下达). Each is checked whole first; with `write` and no
//! problem, written in one transaction, each row audited.

use chrono::NaiveDate;
use ducha_domain::funds::{Allocation, ProjectState, payment_refusal};
use ducha_domain::labelled::Labelled;
use ducha_domain::money::Money;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::allocations::{ALLOCATION, AllocationRecord, allocation_of, insert_allocation};
use super::payments::insert_payment;
use super::projects::{ProjectRow, insert_project, row_in, state};
use super::{Allocations, PROJECTS, Payments, Projects, touched};
use crate::audit::AuditTxn;
use crate::campaigns::IdRow;
use crate::evidence::Upload;
use crate::help::store::SheetOutcome;
use crate::scope::filter;
use crate::{Db, StorageError};
use ducha_domain::access::Actor;

/// Import a project library sheet: every row checked first (the place and every household in
/// scope); a project already in the library (same name, place and year) is unchanged; with
/// `write` and no problem, all are entered at 筛选 in one transaction.
async fn import_projects(
    db: &Db,
    actor: &Actor,
    year: i32,
    incoming: &[ducha_domain::funds::IncomingProject],
    write: bool,
    today: NaiveDate,
) -> Result<SheetOutcome, StorageError> {
    use crate::registry::import::ImportProblem;
    if !actor.role.edits_registry() {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记项目", actor.role)));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let mut summary = crate::help::store::HelpImportSummary::default();
    let mut problems = Vec::new();
    let mut todo = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for g in incoming {
        let p = &g.project;
        // A row the sheet repeats counts once.
        if !seen.insert((p.name.clone(), p.place_code.clone())) {
            continue;
        }
        if !actor.scope.contains(&p.place_code) {
            problems.push(ImportProblem {
                row: g.row,
                field: "所在镇（街）",
                message: "项目所在地不在您的辖区内".into(),
            });
            continue;
        }
        let mut households = Vec::new();
        for number in &g.households {
            // Read inside the importing transaction, on its own connection.
            #[derive(FromQueryResult)]
            struct Found {
                id: i64,
                village_code: String,
            }
            let found = Found::find_by_statement(
                db.stmt("SELECT id, village_code FROM households WHERE number = $1", vec![number.clone().into()]),
            )
            .one(tx.conn())
            .await?;
            let in_scope = found.filter(|r| actor.scope.contains(&r.village_code)).map(|r| r.id);
            match in_scope {
                Some(id) => households.push((id, Money::ZERO)),
                None => problems.push(ImportProblem {
                    row: g.row,
                    field: "受益户",
                    message: format!("户编号 {number} 不存在或不在您的辖区内"),
                }),
            }
        }
        let exists = tx
            .conn()
            .query_one_raw(db.stmt(
                "SELECT id FROM projects WHERE name = $1 AND town_code = $2 AND year = $3",
                vec![p.name.clone().into(), p.place_code.get(..9).unwrap_or_default().to_string().into(), year.into()],
            ))
            .await?;
        if exists.is_some() {
            summary.unchanged += 1;
        } else {
            summary.new += 1;
            todo.push((p, households));
        }
    }
    if !write || !problems.is_empty() {
        return Ok((summary, problems));
    }
    let mut districts = std::collections::BTreeSet::new();
    for (p, households) in todo {
        insert_project(&mut tx, year, p, &households, today).await?;
        districts.insert(p.place_code.get(..6).unwrap_or_default().to_string());
    }
    for d in districts {
        touched(&mut tx, &d);
    }
    crate::scoped::commit(tx).await?;
    Ok((summary, problems))
}

/// What a ledger column a payment rule's field is reported at.
fn ledger_column(field: &str) -> &'static str {
    match field {
        "amount" => "金额（元）",
        "paid_on" => "拨付日期",
        "files" => "凭证文件",
        _ => "项目名称",
    }
}

/// Import a disbursement ledger (拨付台账) with its voucher files: every row is checked first
/// (the project found by name in its town, within scope and the year; each voucher among the
/// files sent, of an accepted type; the payment rules, with the sheet's earlier rows counted
/// against the budget); a payment already recorded (same project, day, amount and payee) is
/// unchanged, so the same ledger sent again writes nothing; with `write` and no problem, all
/// are recorded in one transaction.
async fn import_payments(
    db: &Db,
    actor: &Actor,
    year: i32,
    incoming: &[ducha_domain::funds::IncomingPayment],
    files: &[Upload],
    write: bool,
    today: NaiveDate,
) -> Result<SheetOutcome, StorageError> {
    use crate::registry::import::ImportProblem;
    use std::collections::HashMap;
    if !actor.role.manages_platform() {
        return Err(StorageError::Forbidden("资金拨付由市(区)扶贫办或市扶贫办登记".into()));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let mut summary = crate::help::store::HelpImportSummary::default();
    let mut problems = Vec::new();
    // Per project: its row and the rules' view, with the sheet's new payments added as they come.
    let mut projects: HashMap<i64, (ProjectRow, ProjectState)> = HashMap::new();
    // Payments already recorded, by (project, day, fen, payee): how many are left to match.
    let mut recorded: HashMap<(i64, NaiveDate, i64, String), i64> = HashMap::new();
    let mut todo: Vec<(i64, &ducha_domain::funds::IncomingPayment, Vec<&Upload>)> = Vec::new();
    for g in incoming {
        let mut problem = |field: &'static str, message: String| {
            problems.push(ImportProblem { row: g.row, field, message });
        };
        let (cond, mut values) = filter(&actor.scope, PROJECTS, 4);
        let mut all: Vec<Value> = vec![g.project.clone().into(), g.town_code.clone().into(), year.into()];
        all.append(&mut values);
        let found = IdRow::find_by_statement(db.stmt(
            &format!(
                "SELECT p.id AS id FROM projects p WHERE p.name = $1 AND p.town_code = $2 AND p.year = $3 AND {cond}"
            ),
            all,
        ))
        .all(tx.conn())
        .await?;
        let id: i64 = match found.as_slice() {
            [one] => one.id,
            [] => {
                problem("项目名称", format!("该镇（街）{year} 年的项目库中没有“{}”", g.project));
                continue;
            }
            _ => {
                problem("项目名称", format!("该镇（街）有多个名为“{}”的项目，请在页面上逐笔登记", g.project));
                continue;
            }
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = projects.entry(id) {
            if write {
                // Audited writes run one at a time (AuditTxn::begin takes the audit chain's head row): the
                // budget checked below is the one the payment is written against.
            }
            let row = row_in(db, tx.conn(), &actor.scope, id).await?;
            let st = state(db, tx.conn(), &row).await?;
            #[derive(FromQueryResult)]
            struct Recorded {
                paid_on: NaiveDate,
                amount_fen: i64,
                payee: String,
            }
            for r in Recorded::find_by_statement(
                db.stmt("SELECT paid_on, amount_fen, payee FROM disbursements WHERE project_id = $1", vec![id.into()]),
            )
            .all(tx.conn())
            .await?
            {
                let key = (id, r.paid_on, r.amount_fen, r.payee);
                *recorded.entry(key).or_default() += 1;
            }
            slot.insert((row, st));
        }
        let key = (id, g.paid_on, g.amount.fen(), g.payee.clone());
        if let Some(left) = recorded.get_mut(&key).filter(|n| **n > 0) {
            *left -= 1;
            summary.unchanged += 1;
            continue;
        }
        let mut vouchers = Vec::new();
        let mut missing = false;
        for name in &g.vouchers {
            match files.iter().find(|f| f.filename == *name) {
                Some(f) => match ducha_domain::evidence::accept(&f.filename, &f.bytes) {
                    Ok(_) => vouchers.push(f),
                    Err(m) => {
                        missing = true;
                        problem("凭证文件", format!("“{name}”：{m}"));
                    }
                },
                None => {
                    missing = true;
                    problem(
                        "凭证文件",
                        format!("上传的文件中没有“{name}”：请把台账和凭证一起选择上传，或打包成 zip 上传"),
                    );
                }
            }
        }
        // A row refused for its vouchers is not counted against the budget of the rows after it.
        if missing {
            continue;
        }
        let Some((_, st)) = projects.get_mut(&id) else { continue };
        if let Some((field, why)) = payment_refusal(st, g.amount, !g.vouchers.is_empty(), g.paid_on, today) {
            problem(ledger_column(field), why);
            continue;
        }
        // The next row of the same project counts this one against the budget.
        st.paid += g.amount;
        summary.new += 1;
        todo.push((id, g, vouchers));
    }
    if !write || !problems.is_empty() {
        return Ok((summary, problems));
    }
    let mut places = std::collections::BTreeSet::new();
    for (id, g, vouchers) in todo {
        let Some((row, _)) = projects.get(&id) else { continue };
        let vouchers: Vec<Upload> = vouchers.into_iter().cloned().collect();
        insert_payment(&mut tx, row, g.amount, g.paid_on, &g.payee, &vouchers).await?;
        places.insert(row.place_code.get(..6).unwrap_or_default().to_string());
    }
    for d in places {
        touched(&mut tx, &d);
    }
    crate::scoped::commit(tx).await?;
    Ok((summary, problems))
}

/// An allocation as an import will write it: passed down from which district allocation, if so.
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    allocation: Allocation,
    from: Option<i64>,
}

/// Import a sheet of allocations (资金下达) for the check year. A row already recorded (same
/// source, division, amount and date) is unchanged, or has its missing arrival date filled in (a
/// date recorded is never cleared or moved by a sheet); a row marked 由市(区)下拨 is passed down
/// from the district's allocation of that source that can bear it, under the same rules as on the
/// page. Every row is checked first; all are written in one transaction, each audited.
async fn import_allocations(
    db: &Db,
    actor: &Actor,
    incoming: &[ducha_domain::funds::IncomingAllocation],
    write: bool,
    today: NaiveDate,
) -> Result<SheetOutcome, StorageError> {
    use crate::sheet_plan::{RosterPlan, RosterStep};
    if !actor.role.manages_platform() {
        return Err(StorageError::Forbidden("资金由市扶贫办或市(区)扶贫办下达".into()));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let mut plan = RosterPlan::new();
    // What earlier rows of the sheet pass down from each district allocation.
    let mut pending: std::collections::HashMap<i64, Money> = std::collections::HashMap::new();
    for g in incoming {
        let a = &g.allocation;
        if !actor.scope.contains(&a.region_code) {
            plan.refuse(g.row, "下达到", "不在您的辖区内".into());
            continue;
        }
        let key = (a.source, a.region_code.clone(), a.amount, a.allocated_on);
        if !plan.first(key, g.row, "金额（元）", "笔资金（来源、下达到、金额和日期都相同）") {
            continue;
        }
        let kind = if g.passed_down { "parent_id IS NOT NULL" } else { "parent_id IS NULL" };
        #[derive(FromQueryResult)]
        struct Stored {
            id: i64,
            arrived_on: Option<NaiveDate>,
            parent_id: Option<i64>,
        }
        let found = Stored::find_by_statement(db.stmt(
            &format!(
                "SELECT id, arrived_on, parent_id FROM fund_allocations WHERE year = $1 AND source = $2 \
                     AND region_code = $3 AND amount_fen = $4 AND allocated_on = $5 AND {kind}"
            ),
            vec![
                a.year.into(),
                a.source.code().into(),
                a.region_code.clone().into(),
                a.amount.fen().into(),
                a.allocated_on.into(),
            ],
        ))
        .one(tx.conn())
        .await?;
        if let Some(Stored { id, arrived_on: stored, parent_id: from }) = found {
            let before = Planned { allocation: Allocation { arrived_on: stored, ..a.clone() }, from };
            match (stored, a.arrived_on) {
                (Some(was), Some(now)) if was != now => plan.refuse(
                    g.row,
                    "到位日期",
                    format!("这笔资金已登记于 {was} 到位，与表中的 {now} 不一致；到位日期请在页面上更正"),
                ),
                // A blank in the sheet leaves the recorded date as it is.
                (Some(_), None) => plan.compare(Some((id, before.clone())), &before),
                _ => plan.compare(Some((id, before)), &Planned { allocation: a.clone(), from }),
            }
            continue;
        }
        let from = if g.passed_down {
            match passed_from(&tx, a, &pending, today).await? {
                Ok(parent) => {
                    *pending.entry(parent).or_default() += a.amount;
                    Some(parent)
                }
                Err((field, why)) => {
                    plan.refuse(g.row, field, why);
                    continue;
                }
            }
        } else {
            None
        };
        // Passed down: it arrives the day it is passed, unless the sheet says otherwise.
        let arrived_on = if from.is_some() { a.arrived_on.or(Some(a.allocated_on)) } else { a.arrived_on };
        plan.compare(None, &Planned { allocation: Allocation { arrived_on, ..a.clone() }, from });
    }
    if !write || !plan.problems.is_empty() {
        return Ok((plan.summary, plan.problems));
    }
    let mut districts = std::collections::BTreeSet::new();
    for step in plan.steps {
        let code = match step {
            RosterStep::New(p) => {
                insert_allocation(&mut tx, &p.allocation, p.from).await?;
                p.allocation.region_code
            }
            RosterStep::Change(id, before, after) => {
                tx.conn()
                    .execute_raw(db.stmt(
                        "UPDATE fund_allocations SET arrived_on = $1 WHERE id = $2",
                        vec![after.allocation.arrived_on.into(), id.into()],
                    ))
                    .await?;
                let was = serde_json::json!({ "arrived_on": before.allocation.arrived_on });
                let now = serde_json::json!({ "arrived_on": after.allocation.arrived_on });
                let region = after.allocation.region_code;
                tx.record("fund_allocation", id, Some(&region), "update", Some(&was), Some(&now)).await?;
                region
            }
        };
        districts.insert(code.get(..6).unwrap_or_default().to_string());
    }
    for d in districts {
        touched(&mut tx, &d);
    }
    crate::scoped::commit(tx).await?;
    Ok((plan.summary, plan.problems))
}

/// The district allocation a sheet's 由市(区)下拨 row can come from: the earliest of that source
/// and year that the pass-down rules allow (with what earlier rows take from it), or the first
/// one's refusal as (column, why).
async fn passed_from(
    tx: &AuditTxn<'_>,
    a: &Allocation,
    pending: &std::collections::HashMap<i64, Money>,
    today: NaiveDate,
) -> Result<Result<i64, (&'static str, String)>, StorageError> {
    let db = tx.db();
    let district = a.region_code.get(..6).unwrap_or_default();
    let candidates = AllocationRecord::find_by_statement(db.stmt(
        &format!(
            "{ALLOCATION} WHERE a.year = $1 AND a.source = $2 AND a.region_code = $3 AND a.parent_id IS NULL \
                 ORDER BY a.allocated_on, a.id"
        ),
        vec![a.year.into(), a.source.code().into(), district.into()],
    ))
    .all(tx.conn())
    .await?;
    let tree = crate::regions::tree_in(tx.conn()).await?;
    let mut first_refusal = None;
    for r in candidates {
        let parent = allocation_of(r, &tree);
        let passed = parent.passed_down + pending.get(&parent.id).copied().unwrap_or_default();
        let refusal = ducha_domain::funds::transfer_refusal(
            &parent.allocation,
            passed,
            &a.region_code,
            a.amount,
            a.allocated_on,
            today,
        );
        match refusal {
            None => return Ok(Ok(parent.id)),
            Some(why) => {
                first_refusal.get_or_insert(why);
            }
        }
    }
    Ok(Err(match first_refusal {
        Some((field, why)) => (
            match field {
                "amount" => "金额（元）",
                "on" => "下达日期",
                _ => "下达到",
            },
            why,
        ),
        None => ("由市(区)下拨", format!("本市(区) {} 年没有{}资金可以下拨", a.year, a.source)),
    }))
}

impl Projects<'_> {
    /// Import a project library sheet for `year`: every row checked first (the place and every
    /// household in scope); a project already in the library (same name, place and year) is
    /// unchanged; with `write` and no problem, all are entered at 筛选 today in one transaction.
    pub async fn import(
        &self,
        year: i32,
        incoming: &[ducha_domain::funds::IncomingProject],
        write: bool,
    ) -> Result<SheetOutcome, StorageError> {
        import_projects(self.0.db(), self.0.actor(), year, incoming, write, self.0.today()).await
    }
}

impl Payments<'_> {
    /// Import a disbursement ledger of `year` with its voucher files (see `import_payments`).
    pub async fn import(
        &self,
        year: i32,
        incoming: &[ducha_domain::funds::IncomingPayment],
        files: &[Upload],
        write: bool,
    ) -> Result<SheetOutcome, StorageError> {
        import_payments(self.0.db(), self.0.actor(), year, incoming, files, write, self.0.today()).await
    }
}

impl Allocations<'_> {
    /// Import a sheet of allocations for the check year (see `import_allocations`).
    pub async fn import(
        &self,
        incoming: &[ducha_domain::funds::IncomingAllocation],
        write: bool,
    ) -> Result<SheetOutcome, StorageError> {
        import_allocations(self.0.db(), self.0.actor(), incoming, write, self.0.today()).await
    }
}
