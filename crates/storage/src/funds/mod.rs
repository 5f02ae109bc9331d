//! Projects and funds in the database. Every write is scoped by the project's place, audited,
//! and refused whole (with the reason at its field) when a stage or payment rule says no.

use chrono::{NaiveDate, Utc};
use ducha_domain::access::{Actor, Scope};
use ducha_domain::funds::{
    Allocation, DocumentKind, FundSource, Project, ProjectState, ProjectType, Stage, advance_refusal, payment_refusal,
};
use ducha_domain::labelled::Labelled;
use ducha_domain::money::Money;
use ducha_domain::region::RegionLevel;
use sea_orm::{ConnectionTrait, QueryResult, Value};
use serde::Serialize;

use crate::audit::AuditTxn;
use crate::evidence::{self, EvidenceMeta, Upload};
use crate::registry::write::field_error;
use crate::{Db, StorageError};

/// Projects within a scope, as SQL over `projects AS p`.
fn scope_cond(scope: &Scope, n: usize) -> (String, Vec<Value>) {
    match scope {
        Scope::All => ("1 = 1".into(), vec![]),
        Scope::Region(code) => match code.level() {
            RegionLevel::City => (format!("p.district_code LIKE ${n}"), vec![format!("{code}%").into()]),
            RegionLevel::District => (format!("p.district_code = ${n}"), vec![code.as_str().into()]),
            RegionLevel::Town => (format!("p.town_code = ${n}"), vec![code.as_str().into()]),
            RegionLevel::Village => (format!("p.place_code = ${n}"), vec![code.as_str().into()]),
        },
    }
}

fn vocab<T: Labelled>(code: &str) -> Result<T, StorageError> {
    T::parse(code).map_err(|e| StorageError::Rejected(format!("数据库中的取值有误：{e}")))
}

/// Evidence owner kinds of a project's documents ("project:plan", …) and of a payment's voucher.
fn document_owner(kind: DocumentKind) -> String {
    format!("project:{}", kind.code())
}
const VOUCHER: &str = "disbursement";

/// A project as listed.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectRow {
    pub id: i64,
    pub year: i32,
    pub name: String,
    pub kind: ProjectType,
    pub income_generating: bool,
    pub place_code: String,
    pub unit: String,
    pub stage: Stage,
    pub stage_since: NaiveDate,
    pub budget: Money,
    pub paid: Money,
    pub households: i64,
}

/// One project in full.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectDetail {
    pub row: ProjectRow,
    pub performance_target: String,
    pub public_benefit: String,
    pub budget: Vec<(FundSource, Money)>,
    pub documents: Vec<(DocumentKind, EvidenceMeta)>,
    pub notices: Vec<(Stage, NaiveDate)>,
    /// (household id, household number, expected yearly benefit).
    pub households: Vec<(i64, String, Money)>,
    pub payments: Vec<Payment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Payment {
    pub id: i64,
    pub paid_on: NaiveDate,
    pub amount: Money,
    pub payee: String,
    pub vouchers: Vec<EvidenceMeta>,
}

/// The list's columns; sums are cast because PostgreSQL's SUM of BIGINT is NUMERIC.
const ROW: &str = "p.id AS id, p.year AS year, p.name AS name, p.kind AS kind, p.income_generating AS income_generating, \
    p.place_code AS place_code, p.unit AS unit, p.stage AS stage, p.stage_since AS stage_since, \
    (SELECT CAST(COALESCE(SUM(b.amount_fen), 0) AS BIGINT) FROM project_budgets b WHERE b.project_id = p.id) AS budget, \
    (SELECT CAST(COALESCE(SUM(d.amount_fen), 0) AS BIGINT) FROM disbursements d WHERE d.project_id = p.id) AS paid, \
    (SELECT COUNT(*) FROM project_households h WHERE h.project_id = p.id) AS households";

fn row_of(r: &QueryResult) -> Result<ProjectRow, StorageError> {
    Ok(ProjectRow {
        id: r.try_get("", "id")?,
        year: r.try_get("", "year")?,
        name: r.try_get("", "name")?,
        kind: vocab(&r.try_get::<String>("", "kind")?)?,
        income_generating: r.try_get("", "income_generating")?,
        place_code: r.try_get("", "place_code")?,
        unit: r.try_get("", "unit")?,
        stage: vocab(&r.try_get::<String>("", "stage")?)?,
        stage_since: r.try_get("", "stage_since")?,
        budget: Money::from_fen(r.try_get("", "budget")?),
        paid: Money::from_fen(r.try_get("", "paid")?),
        households: r.try_get("", "households")?,
    })
}

/// The projects within a scope, newest first.
pub async fn projects(db: &Db, scope: &Scope) -> Result<Vec<ProjectRow>, StorageError> {
    let (cond, values) = scope_cond(scope, 1);
    let sql = format!("SELECT {} FROM projects p WHERE {cond} ORDER BY p.id DESC", ROW);
    db.conn().query_all_raw(db.stmt(&sql, values)).await?.iter().map(row_of).collect()
}

/// A project within the scope; not found outside it.
pub(crate) async fn row_in<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    id: i64,
) -> Result<ProjectRow, StorageError> {
    let (cond, mut values) = scope_cond(scope, 2);
    values.insert(0, id.into());
    let sql = format!("SELECT {} FROM projects p WHERE p.id = $1 AND {cond}", ROW);
    let row = c.query_one_raw(db.stmt(&sql, values)).await?.ok_or(StorageError::NotFound)?;
    row_of(&row)
}

/// The stage and payment rules' view of a stored project.
async fn state<C: ConnectionTrait>(db: &Db, c: &C, row: &ProjectRow) -> Result<ProjectState, StorageError> {
    let owners: Vec<Value> = vec![row.id.into()];
    let docs = c
        .query_all_raw(db.stmt(
            "SELECT DISTINCT owner_kind FROM evidence WHERE owner_id = $1 AND owner_kind LIKE 'project:%'",
            owners.clone(),
        ))
        .await?;
    let mut documents = Vec::new();
    for r in docs {
        let kind: String = r.try_get("", "owner_kind")?;
        if let Some(code) = kind.strip_prefix("project:") {
            documents.push(vocab::<DocumentKind>(code)?);
        }
    }
    let notices = c
        .query_all_raw(db.stmt("SELECT stage, noticed_on FROM project_notices WHERE project_id = $1", owners.clone()))
        .await?
        .iter()
        .map(|r| Ok((vocab::<Stage>(&r.try_get::<String>("", "stage")?)?, r.try_get("", "noticed_on")?)))
        .collect::<Result<Vec<_>, StorageError>>()?;
    let public: Option<QueryResult> =
        c.query_one_raw(db.stmt("SELECT public_benefit FROM projects WHERE id = $1", owners)).await?;
    let public_benefit = match public {
        Some(r) => !r.try_get::<String>("", "public_benefit")?.trim().is_empty(),
        None => false,
    };
    Ok(ProjectState {
        stage: row.stage,
        documents,
        notices,
        households: row.households as usize,
        public_benefit,
        budget: row.budget,
        paid: row.paid,
    })
}

/// One project in full; `None` outside the scope.
pub async fn project(db: &Db, scope: &Scope, id: i64) -> Result<Option<ProjectDetail>, StorageError> {
    let row = match row_in(db, db.conn(), scope, id).await {
        Ok(r) => r,
        Err(StorageError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let c = db.conn();
    let one: Vec<Value> = vec![id.into()];
    let texts = c
        .query_one_raw(db.stmt("SELECT performance_target, public_benefit FROM projects WHERE id = $1", one.clone()))
        .await?
        .ok_or(StorageError::NotFound)?;
    let budget = c
        .query_all_raw(
            db.stmt(
                "SELECT source, amount_fen FROM project_budgets WHERE project_id = $1 ORDER BY source",
                one.clone(),
            ),
        )
        .await?
        .iter()
        .map(|r| {
            Ok((
                vocab::<FundSource>(&r.try_get::<String>("", "source")?)?,
                Money::from_fen(r.try_get("", "amount_fen")?),
            ))
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    let mut documents = Vec::new();
    for kind in <DocumentKind as Labelled>::ALL {
        for m in evidence::for_owner(db, &document_owner(*kind), id).await? {
            documents.push((*kind, m));
        }
    }
    let notices = c
        .query_all_raw(db.stmt("SELECT stage, noticed_on FROM project_notices WHERE project_id = $1", one.clone()))
        .await?
        .iter()
        .map(|r| Ok((vocab::<Stage>(&r.try_get::<String>("", "stage")?)?, r.try_get("", "noticed_on")?)))
        .collect::<Result<Vec<_>, StorageError>>()?;
    let households = c
        .query_all_raw(db.stmt(
            "SELECT ph.household_id AS id, h.number AS number, ph.expected_benefit_fen AS benefit FROM project_households ph \
             JOIN households h ON h.id = ph.household_id WHERE ph.project_id = $1 ORDER BY h.number",
            one.clone(),
        ))
        .await?
        .iter()
        .map(|r| Ok((r.try_get("", "id")?, r.try_get("", "number")?, Money::from_fen(r.try_get("", "benefit")?))))
        .collect::<Result<Vec<_>, StorageError>>()?;
    let mut payments = Vec::new();
    for r in c
        .query_all_raw(db.stmt(
            "SELECT id, paid_on, amount_fen, payee FROM disbursements WHERE project_id = $1 ORDER BY paid_on, id",
            one,
        ))
        .await?
    {
        let pid: i64 = r.try_get("", "id")?;
        payments.push(Payment {
            id: pid,
            paid_on: r.try_get("", "paid_on")?,
            amount: Money::from_fen(r.try_get("", "amount_fen")?),
            payee: r.try_get("", "payee")?,
            vouchers: evidence::for_owner(db, VOUCHER, pid).await?,
        });
    }
    Ok(Some(ProjectDetail {
        row,
        performance_target: texts.try_get("", "performance_target")?,
        public_benefit: texts.try_get("", "public_benefit")?,
        budget,
        documents,
        notices,
        households,
        payments,
    }))
}

/// Mark the district of a place for the re-check: its projects and its spending both may have
/// changed.
fn touched(tx: &mut AuditTxn<'_>, place: &str) {
    tx.region_changed(place.get(..6).unwrap_or(place));
}

/// Enter a project in the library (at 筛选), with the households it serves and what each is
/// expected to gain a year. Offices within scope; every household must lie in the user's scope.
pub async fn add_project(
    db: &Db,
    actor: &Actor,
    year: i32,
    p: &Project,
    households: &[(i64, Money)],
    on: NaiveDate,
) -> Result<i64, StorageError> {
    if !actor.scope.contains(&p.place_code) {
        return Err(field_error("place_code", "项目所在地不在您的辖区内".into()));
    }
    if !actor.role.edits_registry() {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记项目", actor.role)));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let id = insert_project(&mut tx, year, p, households, on).await?;
    touched(&mut tx, &p.place_code);
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// The project, its budgets and households, and its audit record, inside a transaction: each
/// household must lie in the acting user's scope. Shared by the form and the import.
async fn insert_project(
    tx: &mut AuditTxn<'_>,
    year: i32,
    p: &Project,
    households: &[(i64, Money)],
    on: NaiveDate,
) -> Result<i64, StorageError> {
    let db = tx.db();
    // A project is known in its town's library by its name (the ledger names it so).
    let town = p.place_code.get(..9).unwrap_or(&p.place_code);
    let taken = tx
        .conn()
        .query_one_raw(db.stmt(
            "SELECT id FROM projects WHERE name = $1 AND town_code = $2 AND year = $3",
            vec![p.name.clone().into(), town.to_string().into(), year.into()],
        ))
        .await?;
    if taken.is_some() {
        return Err(field_error(
            "name",
            format!("该镇（街）{year} 年的项目库中已有“{}”，请换一个能区分的名称", p.name),
        ));
    }
    for (hid, _) in households {
        let village: Option<String> = tx
            .conn()
            .query_one_raw(db.stmt("SELECT village_code FROM households WHERE id = $1", vec![(*hid).into()]))
            .await?
            .map(|r| r.try_get("", "village_code"))
            .transpose()?;
        // A beneficiary lives in the project's town (or village), and in the user's scope.
        let town = p.place_code.get(..9).unwrap_or(&p.place_code);
        if !village.is_some_and(|v| tx.actor().scope.contains(&v) && v.starts_with(town)) {
            return Err(field_error(
                "households",
                format!("受益户 {hid} 不存在、不在您的辖区内或不在项目所在镇（街）"),
            ));
        }
    }
    let row = tx
        .conn()
        .query_one_raw(db.stmt(
            "INSERT INTO projects (year, name, kind, income_generating, place_code, town_code, district_code, unit, performance_target, \
             public_benefit, stage, stage_since) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            vec![
                year.into(),
                p.name.clone().into(),
                p.kind.code().into(),
                p.income_generating.into(),
                p.place_code.clone().into(),
                p.place_code.get(..9).unwrap_or_default().to_string().into(),
                p.place_code.get(..6).unwrap_or_default().to_string().into(),
                p.unit.clone().into(),
                p.performance_target.clone().into(),
                p.public_benefit.clone().into(),
                Stage::Screening.code().into(),
                on.into(),
            ],
        ))
        .await?
        .ok_or_else(|| StorageError::Rejected("项目未能写入".into()))?;
    let id: i64 = row.try_get("", "id")?;
    for (source, amount) in &p.budget {
        tx.conn()
            .execute_raw(db.stmt(
                "INSERT INTO project_budgets (project_id, source, amount_fen) VALUES ($1, $2, $3)",
                vec![id.into(), source.code().into(), amount.fen().into()],
            ))
            .await?;
    }
    for (hid, benefit) in households {
        tx.conn()
            .execute_raw(db.stmt(
                "INSERT INTO project_households (project_id, household_id, expected_benefit_fen) VALUES ($1, $2, $3) \
                 ON CONFLICT (project_id, household_id) DO NOTHING",
                vec![id.into(), (*hid).into(), benefit.fen().into()],
            ))
            .await?;
    }
    let after = serde_json::json!({ "project": p, "households": households.len() });
    tx.record::<(), _>("project", id, Some(&p.place_code), "create", None, Some(&after)).await?;
    Ok(id)
}

/// Import a project library sheet: every row checked first (the place and every household in
/// scope); a project already in the library (same name, place and year) is unchanged; with
/// `write` and no problem, all are entered at 筛选 in one transaction.
pub async fn import_projects(
    db: &Db,
    actor: &Actor,
    year: i32,
    incoming: &[ducha_domain::funds::IncomingProject],
    write: bool,
) -> Result<crate::help::store::SheetOutcome, StorageError> {
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
            let found = tx
                .conn()
                .query_one_raw(
                    db.stmt("SELECT id, village_code FROM households WHERE number = $1", vec![number.clone().into()]),
                )
                .await?;
            let in_scope = match found {
                Some(r) => {
                    let village: String = r.try_get("", "village_code")?;
                    actor.scope.contains(&village).then(|| r.try_get::<i64>("", "id")).transpose()?
                }
                None => None,
            };
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
    let today = chrono::Local::now().date_naive();
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

/// Attach a document (plan, approval, acceptance …) to a project.
pub async fn add_document(
    db: &Db,
    actor: &Actor,
    id: i64,
    kind: DocumentKind,
    file: &Upload,
) -> Result<i64, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let row = row_in(db, tx.conn(), &actor.scope, id).await?;
    if !actor.role.edits_registry() {
        return Err(StorageError::Forbidden(format!("“{}”角色不能上传项目材料", actor.role)));
    }
    let eid = evidence::attach_to(&mut tx, &document_owner(kind), id, None, &row.place_code, file).await?;
    touched(&mut tx, &row.place_code);
    crate::scoped::commit(tx).await?;
    Ok(eid)
}

/// Record the public notice (公示) of a stage.
pub async fn record_notice(db: &Db, actor: &Actor, id: i64, stage: Stage, on: NaiveDate) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let row = row_in(db, tx.conn(), &actor.scope, id).await?;
    if !actor.role.edits_registry() {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记公示", actor.role)));
    }
    if !stage.notice_to_leave() {
        return Err(field_error("stage", format!("“{stage}”阶段不需要公示")));
    }
    if stage != row.stage {
        return Err(field_error("stage", format!("项目当前处于“{}”阶段，只能登记本阶段的公示", row.stage)));
    }
    if on > chrono::Local::now().date_naive() {
        return Err(field_error("noticed_on", format!("公示日期 {on} 还没有到")));
    }
    // A notice recorded again for the stage replaces the date: the trail keeps the earlier one.
    let before = tx
        .conn()
        .query_one_raw(db.stmt(
            "SELECT noticed_on FROM project_notices WHERE project_id = $1 AND stage = $2",
            vec![id.into(), stage.code().into()],
        ))
        .await?
        .map(|r| r.try_get::<NaiveDate>("", "noticed_on"))
        .transpose()?
        .map(|d| serde_json::json!({ "stage": stage, "noticed_on": d }));
    tx.conn()
        .execute_raw(db.stmt(
            "INSERT INTO project_notices (project_id, stage, noticed_on) VALUES ($1, $2, $3) \
             ON CONFLICT (project_id, stage) DO UPDATE SET noticed_on = excluded.noticed_on",
            vec![id.into(), stage.code().into(), on.into()],
        ))
        .await?;
    let after = serde_json::json!({ "stage": stage, "noticed_on": on });
    tx.record("project_notice", id, Some(&row.place_code), "update", before.as_ref(), Some(&after)).await?;
    touched(&mut tx, &row.place_code);
    crate::scoped::commit(tx).await?;
    Ok(())
}

/// Move a project to its next stage (district or city office), if its documents allow.
pub async fn advance(db: &Db, actor: &Actor, id: i64, to: Stage, on: NaiveDate) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let row = row_in(db, tx.conn(), &actor.scope, id).await?;
    if !actor.role.manages_platform() {
        return Err(StorageError::Forbidden("项目阶段由市(区)扶贫办或市扶贫办审核推进".into()));
    }
    let st = state(db, tx.conn(), &row).await?;
    if let Some(why) = advance_refusal(&st, to) {
        return Err(field_error("stage", why));
    }
    tx.conn()
        .execute_raw(db.stmt(
            "UPDATE projects SET stage = $1, stage_since = $2 WHERE id = $3",
            vec![to.code().into(), on.into(), id.into()],
        ))
        .await?;
    let before = serde_json::json!({ "stage": row.stage });
    let after = serde_json::json!({ "stage": to, "since": on });
    tx.record("project", id, Some(&row.place_code), "update", Some(&before), Some(&after)).await?;
    touched(&mut tx, &row.place_code);
    crate::scoped::commit(tx).await?;
    Ok(())
}

/// Pay out for a project (district or city office): never without a project in implementation,
/// over its budget, or without a voucher.
pub async fn pay(
    db: &Db,
    actor: &Actor,
    id: i64,
    amount: Money,
    paid_on: NaiveDate,
    payee: &str,
    vouchers: &[Upload],
) -> Result<i64, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    // Audited writes run one at a time (AuditTxn::begin takes the audit chain's head row): the
    // budget checked below is the one the payment is written against.
    let row = row_in(db, tx.conn(), &actor.scope, id).await?;
    if !actor.role.manages_platform() {
        return Err(StorageError::Forbidden("资金拨付由市(区)扶贫办或市扶贫办登记".into()));
    }
    if payee.trim().is_empty() || payee.trim().chars().count() > 80 {
        return Err(field_error("payee", "请填写收款单位或个人（80 字以内）".into()));
    }
    let st = state(db, tx.conn(), &row).await?;
    if let Some((field, why)) =
        payment_refusal(&st, amount, !vouchers.is_empty(), paid_on, chrono::Local::now().date_naive())
    {
        return Err(field_error(field, why));
    }
    let pid = insert_payment(&mut tx, &row, amount, paid_on, payee.trim(), vouchers).await?;
    touched(&mut tx, &row.place_code);
    crate::scoped::commit(tx).await?;
    Ok(pid)
}

/// The payment, its vouchers and its audit record, inside a transaction (the form and the import).
async fn insert_payment(
    tx: &mut AuditTxn<'_>,
    row: &ProjectRow,
    amount: Money,
    paid_on: NaiveDate,
    payee: &str,
    vouchers: &[Upload],
) -> Result<i64, StorageError> {
    let db = tx.db();
    let username = tx.actor().username.clone();
    let r = tx
        .conn()
        .query_one_raw(db.stmt(
            "INSERT INTO disbursements (project_id, paid_on, amount_fen, payee, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            vec![
                row.id.into(),
                paid_on.into(),
                amount.fen().into(),
                payee.to_string().into(),
                username.into(),
                Utc::now().into(),
            ],
        ))
        .await?
        .ok_or_else(|| StorageError::Rejected("拨付未能写入".into()))?;
    let pid: i64 = r.try_get("", "id")?;
    for v in vouchers {
        evidence::attach_to(tx, VOUCHER, pid, None, &row.place_code, v).await?;
    }
    let after = serde_json::json!({ "project": row.id, "amount": amount, "paid_on": paid_on, "payee": payee });
    tx.record::<(), _>("disbursement", pid, Some(&row.place_code), "create", None, Some(&after)).await?;
    Ok(pid)
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
pub async fn import_payments(
    db: &Db,
    actor: &Actor,
    year: i32,
    incoming: &[ducha_domain::funds::IncomingPayment],
    files: &[Upload],
    write: bool,
) -> Result<crate::help::store::SheetOutcome, StorageError> {
    use crate::registry::import::ImportProblem;
    use std::collections::HashMap;
    if !actor.role.manages_platform() {
        return Err(StorageError::Forbidden("资金拨付由市(区)扶贫办或市扶贫办登记".into()));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let today = chrono::Local::now().date_naive();
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
        let (cond, mut values) = scope_cond(&actor.scope, 4);
        let mut all: Vec<Value> = vec![g.project.clone().into(), g.town_code.clone().into(), year.into()];
        all.append(&mut values);
        let found = tx
            .conn()
            .query_all_raw(db.stmt(
                &format!("SELECT p.id AS id FROM projects p WHERE p.name = $1 AND p.town_code = $2 AND p.year = $3 AND {cond}"),
                all,
            ))
            .await?;
        let id: i64 = match found.as_slice() {
            [one] => one.try_get("", "id")?,
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
            for r in tx
                .conn()
                .query_all_raw(db.stmt(
                    "SELECT paid_on, amount_fen, payee FROM disbursements WHERE project_id = $1",
                    vec![id.into()],
                ))
                .await?
            {
                let key = (id, r.try_get("", "paid_on")?, r.try_get("", "amount_fen")?, r.try_get("", "payee")?);
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

/// A payment as the disbursement ledger (拨付台账) lists it: the same columns the ledger import
/// reads, so that an exported ledger sent back is unchanged.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerRow {
    pub project: String,
    pub town_code: String,
    pub paid_on: NaiveDate,
    pub amount: Money,
    pub payee: String,
    /// The names of its voucher files.
    pub vouchers: Vec<String>,
}

/// The check year's payments within a scope, by project and date.
pub async fn ledger(db: &Db, scope: &Scope) -> Result<Vec<LedgerRow>, StorageError> {
    let (year, _) = crate::checks::current(db).await?;
    let (cond, values) = scope_cond(scope, 2);
    let mut all: Vec<Value> = vec![year.into()];
    all.extend(values);
    let sql = format!(
        "SELECT d.id AS id, p.name AS name, p.town_code AS town, d.paid_on AS paid_on, d.amount_fen AS amount, d.payee AS payee, \
         e.filename AS voucher FROM disbursements d JOIN projects p ON p.id = d.project_id \
         LEFT JOIN evidence e ON e.owner_kind = '{VOUCHER}' AND e.owner_id = d.id \
         WHERE p.year = $1 AND {cond} ORDER BY p.town_code, p.name, d.paid_on, d.id, e.id"
    );
    let mut out: Vec<(i64, LedgerRow)> = Vec::new();
    for r in db.conn().query_all_raw(db.stmt(&sql, all)).await? {
        let id: i64 = r.try_get("", "id")?;
        let voucher: Option<String> = r.try_get("", "voucher")?;
        match out.last_mut() {
            Some((last, row)) if *last == id => row.vouchers.extend(voucher),
            _ => out.push((
                id,
                LedgerRow {
                    project: r.try_get("", "name")?,
                    town_code: r.try_get("", "town")?,
                    paid_on: r.try_get("", "paid_on")?,
                    amount: Money::from_fen(r.try_get("", "amount")?),
                    payee: r.try_get("", "payee")?,
                    vouchers: voucher.into_iter().collect(),
                },
            )),
        }
    }
    Ok(out.into_iter().map(|(_, row)| row).collect())
}

/// Allocate a year's funds from a source to a district or town (city or district office, in scope).
pub async fn allocate(db: &Db, actor: &Actor, a: &Allocation) -> Result<i64, StorageError> {
    let region_code = a.region_code.as_str();
    if !actor.scope.contains(region_code) {
        return Err(field_error("region_code", format!("区划 {region_code} 不在您的辖区内，不能下达资金")));
    }
    if !actor.role.manages_platform() {
        return Err(StorageError::Forbidden("资金由市扶贫办或市(区)扶贫办下达".into()));
    }
    if let Some((field, why)) = a.refusal(chrono::Local::now().date_naive()) {
        return Err(field_error(field, why));
    }
    // Funds go to a district or a town of the list, not to a made-up code.
    let tree = crate::regions::tree(db).await?;
    match tree.get(region_code).map(|r| r.level) {
        Some(RegionLevel::District | RegionLevel::Town) => {}
        Some(_) => return Err(field_error("region_code", "资金下达到市(区)或镇(街)".into())),
        None => return Err(field_error("region_code", format!("区划代码 {region_code} 不存在"))),
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let id = insert_allocation(&mut tx, a, None).await?;
    touched(&mut tx, region_code);
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// The allocation and its audit record, inside a transaction (the form and the import).
/// `from`: the district allocation a town's is passed down from.
async fn insert_allocation(tx: &mut AuditTxn<'_>, a: &Allocation, from: Option<i64>) -> Result<i64, StorageError> {
    let r = tx
        .conn()
        .query_one_raw(tx.db().stmt(
            "INSERT INTO fund_allocations (year, source, region_code, district_code, amount_fen, allocated_on, arrived_on, parent_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            vec![
                a.year.into(),
                a.source.code().into(),
                a.region_code.clone().into(),
                a.region_code.get(..6).unwrap_or_default().to_string().into(),
                a.amount.fen().into(),
                a.allocated_on.into(),
                a.arrived_on.into(),
                from.into(),
            ],
        ))
        .await?
        .ok_or_else(|| StorageError::Rejected("资金下达未能写入".into()))?;
    let id: i64 = r.try_get("", "id")?;
    let after = serde_json::json!({
        "year": a.year, "source": a.source, "region": a.region_code, "amount": a.amount,
        "allocated_on": a.allocated_on, "arrived_on": a.arrived_on, "from": from,
    });
    tx.record::<(), _>("fund_allocation", id, Some(&a.region_code), "create", None, Some(&after)).await?;
    Ok(id)
}

/// An allocation as listed: where it came from (the district's allocation it was passed down
/// from) and how much of it has been passed down to towns.
#[derive(Debug, Clone, Serialize)]
pub struct AllocationRow {
    pub id: i64,
    pub allocation: Allocation,
    pub region_name: String,
    pub parent_id: Option<i64>,
    pub passed_down: Money,
}

impl AllocationRow {
    /// What is left to pass down (a district's allocation); nothing for a town's.
    pub fn left(&self) -> Money {
        if self.allocation.region_code.len() == 6 { self.allocation.amount - self.passed_down } else { Money::ZERO }
    }
}

const ALLOCATION: &str = "SELECT a.id AS id, a.year AS year, a.source AS source, a.region_code AS region_code, \
    a.amount_fen AS amount_fen, a.allocated_on AS allocated_on, a.arrived_on AS arrived_on, a.parent_id AS parent_id, \
    (SELECT CAST(COALESCE(SUM(c.amount_fen), 0) AS BIGINT) FROM fund_allocations c WHERE c.parent_id = a.id) AS passed \
    FROM fund_allocations a";

fn allocation_of(r: &QueryResult, tree: &ducha_domain::RegionTree) -> Result<AllocationRow, StorageError> {
    let region_code: String = r.try_get("", "region_code")?;
    Ok(AllocationRow {
        id: r.try_get("", "id")?,
        region_name: tree.path(&region_code).unwrap_or_else(|| region_code.clone()),
        allocation: Allocation {
            year: r.try_get("", "year")?,
            source: vocab(&r.try_get::<String>("", "source")?)?,
            region_code,
            amount: Money::from_fen(r.try_get("", "amount_fen")?),
            allocated_on: r.try_get("", "allocated_on")?,
            arrived_on: r.try_get("", "arrived_on")?,
        },
        parent_id: r.try_get("", "parent_id")?,
        passed_down: Money::from_fen(r.try_get("", "passed")?),
    })
}

/// The check year's allocations within a scope, districts' first, each followed by what was
/// passed down from it.
pub async fn allocations(db: &Db, scope: &Scope) -> Result<Vec<AllocationRow>, StorageError> {
    let (year, _) = crate::checks::current(db).await?;
    let tree = crate::regions::tree(db).await?;
    let sql = format!("{ALLOCATION} WHERE a.year = $1 ORDER BY a.region_code, a.allocated_on, a.id");
    let all: Vec<AllocationRow> = db
        .conn()
        .query_all_raw(db.stmt(&sql, vec![year.into()]))
        .await?
        .iter()
        .map(|r| allocation_of(r, &tree))
        .collect::<Result<_, _>>()?;
    Ok(all.into_iter().filter(|a| scope.contains(&a.allocation.region_code)).collect())
}

/// One allocation within a scope, on a connection.
async fn allocation_in<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    id: i64,
) -> Result<AllocationRow, StorageError> {
    let tree = crate::regions::tree_in(c).await?;
    let row = c
        .query_one_raw(db.stmt(&format!("{ALLOCATION} WHERE a.id = $1"), vec![id.into()]))
        .await?
        .ok_or(StorageError::NotFound)?;
    let a = allocation_of(&row, &tree)?;
    if scope.contains(&a.allocation.region_code) { Ok(a) } else { Err(StorageError::NotFound) }
}

/// One allocation within a scope; `None` outside it.
pub async fn allocation(db: &Db, scope: &Scope, id: i64) -> Result<Option<AllocationRow>, StorageError> {
    match allocation_in(db, db.conn(), scope, id).await {
        Ok(a) => Ok(Some(a)),
        Err(StorageError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Pass part of a district's allocation down to one of its towns (下拨), by the district (or
/// city) office: a town allocation of the same year and source, arrived the day it is passed,
/// that the district's totals do not count twice.
pub async fn transfer(
    db: &Db,
    actor: &Actor,
    parent_id: i64,
    town_code: &str,
    amount: Money,
    on: NaiveDate,
) -> Result<i64, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    // No other audited write runs until this one commits (AuditTxn::begin takes the audit
    // chain's head row), so what is left to pass down cannot change under this check.
    let parent = allocation_in(db, tx.conn(), &actor.scope, parent_id).await?;
    if !actor.role.manages_platform() {
        return Err(StorageError::Forbidden("资金由市扶贫办或市(区)扶贫办下拨".into()));
    }
    match crate::regions::tree_in(tx.conn()).await?.get(town_code).map(|r| r.level) {
        Some(RegionLevel::Town) => {}
        _ => return Err(field_error("town_code", format!("“{town_code}”不是镇(街)的区划代码"))),
    }
    let today = chrono::Local::now().date_naive();
    if let Some((field, why)) =
        ducha_domain::funds::transfer_refusal(&parent.allocation, parent.passed_down, town_code, amount, on, today)
    {
        return Err(field_error(field, why));
    }
    let child = Allocation {
        region_code: town_code.to_string(),
        amount,
        allocated_on: on,
        arrived_on: Some(on),
        ..parent.allocation.clone()
    };
    let id = insert_allocation(&mut tx, &child, Some(parent_id)).await?;
    touched(&mut tx, town_code);
    crate::scoped::commit(tx).await?;
    Ok(id)
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
pub async fn import_allocations(
    db: &Db,
    actor: &Actor,
    incoming: &[ducha_domain::funds::IncomingAllocation],
    write: bool,
) -> Result<crate::help::store::SheetOutcome, StorageError> {
    use crate::sheet_plan::{RosterPlan, RosterStep};
    if !actor.role.manages_platform() {
        return Err(StorageError::Forbidden("资金由市扶贫办或市(区)扶贫办下达".into()));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let today = chrono::Local::now().date_naive();
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
        let found = tx
            .conn()
            .query_one_raw(db.stmt(
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
            .await?;
        if let Some(r) = found {
            let id: i64 = r.try_get("", "id")?;
            let stored: Option<NaiveDate> = r.try_get("", "arrived_on")?;
            let from: Option<i64> = r.try_get("", "parent_id")?;
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
    let candidates = tx
        .conn()
        .query_all_raw(db.stmt(
            &format!(
                "{ALLOCATION} WHERE a.year = $1 AND a.source = $2 AND a.region_code = $3 AND a.parent_id IS NULL \
                 ORDER BY a.allocated_on, a.id"
            ),
            vec![a.year.into(), a.source.code().into(), district.into()],
        ))
        .await?;
    let tree = crate::regions::tree_in(tx.conn()).await?;
    let mut first_refusal = None;
    for r in &candidates {
        let parent = allocation_of(r, &tree)?;
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
pub async fn spending(
    db: &Db,
    scope: &Scope,
    on: NaiveDate,
    full_by_month: u32,
) -> Result<Vec<Spending>, StorageError> {
    // Funds are allocated to districts (and sometimes towns): progress is a district's, so a
    // district sees its own line; a town, its own.
    let level = match scope.level() {
        Some(RegionLevel::Town | RegionLevel::Village) => RegionLevel::Town,
        _ => RegionLevel::District,
    };
    spending_by(db, db.conn(), scope, on, full_by_month, level).await
}

/// The same progress by fund source (中央, 省级, …) within a scope: allocated and arrived as
/// recorded per source (a town counts what reached it, a district or the city what was sent to
/// it); committed as project budgets by source; paid as each project's payments shared out over
/// its budget's sources in proportion (a payment names no source), so that the sources add up to
/// what was paid.
pub async fn spending_by_source(
    db: &Db,
    scope: &Scope,
    on: NaiveDate,
    full_by_month: u32,
) -> Result<Vec<Spending>, StorageError> {
    use ducha_domain::funds::FundSource;
    let c = db.conn();
    let (year, _) = crate::checks::current_in(db, c).await?;
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
    for r in c
        .query_all_raw(db.stmt(
            "SELECT source, region_code, amount_fen, arrived_on, parent_id FROM fund_allocations WHERE year = $1 AND allocated_on <= $2",
            vec![year.into(), on.into()],
        ))
        .await?
    {
        let region: String = r.try_get("", "region_code")?;
        let parent: Option<i64> = r.try_get("", "parent_id")?;
        // A town counts what reached it; above, what was passed down is already counted.
        let counts = scope.contains(&region) && if town_level { region.len() >= 9 } else { parent.is_none() };
        let Some(k) = at(&r.try_get::<String>("", "source")?).filter(|_| counts) else { continue };
        let amount = Money::from_fen(r.try_get("", "amount_fen")?);
        out[k].allocated += amount;
        if r.try_get::<Option<NaiveDate>>("", "arrived_on")?.is_some_and(|a| a <= on) {
            out[k].arrived += amount;
        }
    }
    let (cond, values) = scope_cond(scope, 3);
    let mut all: Vec<Value> = vec![year.into(), on.into()];
    all.extend(values);
    // Each project's budget by source, its stage, and what it paid by `on`.
    let sql = format!(
        "SELECT p.id AS id, p.stage AS stage, b.source AS source, b.amount_fen AS amount, \
         (SELECT CAST(COALESCE(SUM(d.amount_fen), 0) AS BIGINT) FROM disbursements d WHERE d.project_id = p.id AND d.paid_on <= $2) AS paid \
         FROM projects p JOIN project_budgets b ON b.project_id = p.id WHERE p.year = $1 AND {cond} ORDER BY p.id, b.source"
    );
    let mut budgets: std::collections::BTreeMap<i64, (i64, Vec<(usize, i64)>)> = std::collections::BTreeMap::new();
    for r in c.query_all_raw(db.stmt(&sql, all)).await? {
        let Some(k) = at(&r.try_get::<String>("", "source")?) else { continue };
        let amount: i64 = r.try_get("", "amount")?;
        let stage: String = r.try_get("", "stage")?;
        if matches!(stage.as_str(), "implementation" | "acceptance" | "archived") {
            out[k].committed += Money::from_fen(amount);
        }
        let entry = budgets.entry(r.try_get("", "id")?).or_insert((r.try_get("", "paid")?, Vec::new()));
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

/// Spending within a scope summed by districts or by towns, on a given connection.
async fn spending_by<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    on: NaiveDate,
    full_by_month: u32,
    level: RegionLevel,
) -> Result<Vec<Spending>, StorageError> {
    let (year, _) = crate::checks::current_in(db, c).await?;
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
    for r in c
        .query_all_raw(db.stmt(
            "SELECT region_code, amount_fen, arrived_on, parent_id FROM fund_allocations WHERE year = $1 AND allocated_on <= $2",
            y.clone(),
        ))
        .await?
    {
        // Funds passed down are already in the district's own allocation.
        let parent: Option<i64> = r.try_get("", "parent_id")?;
        if parent.is_some() && level == RegionLevel::District {
            continue;
        }
        let code: String = r.try_get("", "region_code")?;
        let amount = Money::from_fen(r.try_get("", "amount_fen")?);
        let arrived: Option<NaiveDate> = r.try_get("", "arrived_on")?;
        let arrived = arrived.is_some_and(|a| a <= on);
        add(&code, &|s| {
            s.allocated += amount;
            if arrived {
                s.arrived += amount;
            }
        });
    }
    for r in c
        .query_all_raw(db.stmt(
            "SELECT p.place_code AS place, d.amount_fen AS amount FROM disbursements d JOIN projects p ON p.id = d.project_id \
             WHERE p.year = $1 AND d.paid_on <= $2",
            y.clone(),
        ))
        .await?
    {
        let code: String = r.try_get("", "place")?;
        let amount = Money::from_fen(r.try_get("", "amount")?);
        add(&code, &|s| s.paid += amount);
    }
    for r in c
        .query_all_raw(db.stmt(
            "SELECT p.place_code AS place, b.amount_fen AS amount FROM project_budgets b JOIN projects p ON p.id = b.project_id \
             WHERE p.year = $1 AND p.stage IN ('implementation', 'acceptance', 'archived')",
            vec![year.into()],
        ))
        .await?
    {
        let code: String = r.try_get("", "place")?;
        let amount = Money::from_fen(r.try_get("", "amount")?);
        add(&code, &|s| s.committed += amount);
    }
    for s in &mut out {
        s.percent = (s.allocated.fen() > 0).then(|| s.paid.fen() * 100 / s.allocated.fen());
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

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
    let (cond, values) = scope_cond(scope, 1);
    let sql = format!("SELECT {ROW} FROM projects p WHERE {cond} AND p.year = {} ORDER BY p.id", p.year);
    let rows: Vec<ProjectRow> =
        c.query_all_raw(db.stmt(&sql, values)).await?.iter().map(row_of).collect::<Result<_, _>>()?;
    for row in &rows {
        let st = state(db, c, row).await?;
        let unvouchered: i64 = c
            .query_one_raw(db.stmt(
                "SELECT COUNT(*) AS n FROM disbursements d WHERE d.project_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM evidence e WHERE e.owner_kind = 'disbursement' AND e.owner_id = d.id)",
                vec![row.id.into()],
            ))
            .await?
            .map(|r| r.try_get("", "n"))
            .transpose()?
            .unwrap_or(0);
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
        for s in spending_by(db, c, scope, p.as_of, month, RegionLevel::District).await? {
            out.extend(spending_findings(&s.code, &s.name, s.percent, s.target_percent, p));
        }
    }
    Ok(out)
}
