//! The project library: a project's entry (at 筛选), its documents, its public notices and its
//! stages, each write scoped by the project's place.

use chrono::NaiveDate;
use ducha_domain::access::{Actor, Scope};
use ducha_domain::funds::{DocumentKind, FundSource, Project, ProjectState, ProjectType, Stage, advance_refusal};
use ducha_domain::labelled::Labelled;
use ducha_domain::money::Money;
use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult, Value};
use serde::Serialize;

use super::payments::Payment;
use super::{PROJECTS, VOUCHER, document_owner, touched};
use crate::audit::AuditTxn;
use crate::campaigns::IdRow;
use crate::evidence::EvidenceMeta;
use crate::evidence::{self, Upload};
use crate::registry::write::field_error;
use crate::scope::filter;
use crate::stored::{Code, code};
use crate::{Db, StorageError};

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

/// The list's columns; sums are cast because PostgreSQL's SUM of BIGINT is NUMERIC.
pub(super) const ROW: &str = "p.id AS id, p.year AS year, p.name AS name, p.kind AS kind, p.income_generating AS income_generating, \
    p.place_code AS place_code, p.unit AS unit, p.stage AS stage, p.stage_since AS stage_since, \
    (SELECT CAST(COALESCE(SUM(b.amount_fen), 0) AS BIGINT) FROM project_budgets b WHERE b.project_id = p.id) AS budget, \
    (SELECT CAST(COALESCE(SUM(d.amount_fen), 0) AS BIGINT) FROM disbursements d WHERE d.project_id = p.id) AS paid, \
    (SELECT COUNT(*) FROM project_households h WHERE h.project_id = p.id) AS households";

/// A row of [`ROW`] as stored.
#[derive(FromQueryResult)]
struct ProjectRecord {
    id: i64,
    year: i32,
    name: String,
    kind: Code<ProjectType>,
    income_generating: bool,
    place_code: String,
    unit: String,
    stage: Code<Stage>,
    stage_since: NaiveDate,
    budget: i64,
    paid: i64,
    households: i64,
}

impl From<ProjectRecord> for ProjectRow {
    fn from(r: ProjectRecord) -> Self {
        ProjectRow {
            id: r.id,
            year: r.year,
            name: r.name,
            kind: r.kind.0,
            income_generating: r.income_generating,
            place_code: r.place_code,
            unit: r.unit,
            stage: r.stage.0,
            stage_since: r.stage_since,
            budget: Money::from_fen(r.budget),
            paid: Money::from_fen(r.paid),
            households: r.households,
        }
    }
}

/// A row of [`ROW`] read by a caller that ran the query itself.
pub(super) fn row_of(r: &QueryResult) -> Result<ProjectRow, StorageError> {
    Ok(ProjectRecord::from_query_result(r, "")?.into())
}

/// A stage's public notice.
#[derive(FromQueryResult)]
struct NoticeRow {
    stage: Code<Stage>,
    noticed_on: NaiveDate,
}

async fn notices_of<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    project: Vec<Value>,
) -> Result<Vec<(Stage, NaiveDate)>, StorageError> {
    Ok(NoticeRow::find_by_statement(
        db.stmt("SELECT stage, noticed_on FROM project_notices WHERE project_id = $1", project),
    )
    .all(c)
    .await?
    .into_iter()
    .map(|r| (r.stage.0, r.noticed_on))
    .collect())
}

/// The projects within a scope, newest first.
async fn projects(db: &Db, scope: &Scope) -> Result<Vec<ProjectRow>, StorageError> {
    let (cond, values) = filter(scope, PROJECTS, 1);
    let sql = format!("SELECT {} FROM projects p WHERE {cond} ORDER BY p.id DESC", ROW);
    Ok(ProjectRecord::find_by_statement(db.stmt(&sql, values))
        .all(db.conn())
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// A project within the scope; not found outside it.
pub(crate) async fn row_in<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    id: i64,
) -> Result<ProjectRow, StorageError> {
    let (cond, mut values) = filter(scope, PROJECTS, 2);
    values.insert(0, id.into());
    let sql = format!("SELECT {} FROM projects p WHERE p.id = $1 AND {cond}", ROW);
    Ok(ProjectRecord::find_by_statement(db.stmt(&sql, values)).one(c).await?.ok_or(StorageError::NotFound)?.into())
}

/// The stage and payment rules' view of a stored project.
pub(super) async fn state<C: ConnectionTrait>(db: &Db, c: &C, row: &ProjectRow) -> Result<ProjectState, StorageError> {
    let owners: Vec<Value> = vec![row.id.into()];
    #[derive(FromQueryResult)]
    struct Doc {
        owner_kind: String,
    }
    #[derive(FromQueryResult)]
    struct Public {
        public_benefit: String,
    }
    let docs = Doc::find_by_statement(db.stmt(
        "SELECT DISTINCT owner_kind FROM evidence WHERE owner_id = $1 AND owner_kind LIKE 'project:%'",
        owners.clone(),
    ))
    .all(c)
    .await?;
    let mut documents = Vec::new();
    for r in docs {
        if let Some(stored) = r.owner_kind.strip_prefix("project:") {
            documents.push(code::<DocumentKind>(stored)?);
        }
    }
    let notices = notices_of(db, c, owners.clone()).await?;
    let public =
        Public::find_by_statement(db.stmt("SELECT public_benefit FROM projects WHERE id = $1", owners)).one(c).await?;
    let public_benefit = match public {
        Some(r) => !r.public_benefit.trim().is_empty(),
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
async fn project(db: &Db, scope: &Scope, id: i64) -> Result<Option<ProjectDetail>, StorageError> {
    let row = match row_in(db, db.conn(), scope, id).await {
        Ok(r) => r,
        Err(StorageError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let c = db.conn();
    let one: Vec<Value> = vec![id.into()];
    #[derive(FromQueryResult)]
    struct Texts {
        performance_target: String,
        public_benefit: String,
    }
    #[derive(FromQueryResult)]
    struct Budget {
        source: Code<FundSource>,
        amount_fen: i64,
    }
    #[derive(FromQueryResult)]
    struct Beneficiary {
        id: i64,
        number: String,
        benefit: i64,
    }
    #[derive(FromQueryResult)]
    struct Paid {
        id: i64,
        paid_on: NaiveDate,
        amount_fen: i64,
        payee: String,
    }
    let texts = Texts::find_by_statement(
        db.stmt("SELECT performance_target, public_benefit FROM projects WHERE id = $1", one.clone()),
    )
    .one(c)
    .await?
    .ok_or(StorageError::NotFound)?;
    let budget = Budget::find_by_statement(
        db.stmt("SELECT source, amount_fen FROM project_budgets WHERE project_id = $1 ORDER BY source", one.clone()),
    )
    .all(c)
    .await?
    .into_iter()
    .map(|r| (r.source.0, Money::from_fen(r.amount_fen)))
    .collect();
    let mut documents = Vec::new();
    for kind in <DocumentKind as Labelled>::ALL {
        for m in evidence::for_owner(db, &document_owner(*kind), id).await? {
            documents.push((*kind, m));
        }
    }
    let notices = notices_of(db, c, one.clone()).await?;
    let households = Beneficiary::find_by_statement(db.stmt(
            "SELECT ph.household_id AS id, h.number AS number, ph.expected_benefit_fen AS benefit FROM project_households ph \
             JOIN households h ON h.id = ph.household_id WHERE ph.project_id = $1 ORDER BY h.number",
            one.clone(),
        ))
        .all(c)
        .await?
        .into_iter()
        .map(|r| (r.id, r.number, Money::from_fen(r.benefit)))
        .collect();
    let mut payments = Vec::new();
    for r in Paid::find_by_statement(db.stmt(
        "SELECT id, paid_on, amount_fen, payee FROM disbursements WHERE project_id = $1 ORDER BY paid_on, id",
        one,
    ))
    .all(c)
    .await?
    {
        payments.push(Payment {
            id: r.id,
            paid_on: r.paid_on,
            amount: Money::from_fen(r.amount_fen),
            payee: r.payee,
            vouchers: evidence::for_owner(db, VOUCHER, r.id).await?,
        });
    }
    Ok(Some(ProjectDetail {
        row,
        performance_target: texts.performance_target,
        public_benefit: texts.public_benefit,
        budget,
        documents,
        notices,
        households,
        payments,
    }))
}

/// Enter a project in the library (at 筛选), with the households it serves and what each is
/// expected to gain a year. Offices within scope; every household must lie in the user's scope.
async fn add_project(
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
pub(super) async fn insert_project(
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
    #[derive(FromQueryResult)]
    struct Village {
        village_code: String,
    }
    for (hid, _) in households {
        let village = Village::find_by_statement(
            db.stmt("SELECT village_code FROM households WHERE id = $1", vec![(*hid).into()]),
        )
        .one(tx.conn())
        .await?
        .map(|r| r.village_code);
        // A beneficiary lives in the project's town (or village), and in the user's scope.
        let town = p.place_code.get(..9).unwrap_or(&p.place_code);
        if !village.is_some_and(|v| tx.actor().scope.contains(&v) && v.starts_with(town)) {
            return Err(field_error(
                "households",
                format!("受益户 {hid} 不存在、不在您的辖区内或不在项目所在镇（街）"),
            ));
        }
    }
    let id = IdRow::find_by_statement(db.stmt(
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
        .one(tx.conn())
        .await?
        .ok_or_else(|| StorageError::Corrupt("项目未能写入".into()))?
        .id;
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

/// Attach a document (plan, approval, acceptance …) to a project.
async fn add_document(db: &Db, actor: &Actor, id: i64, kind: DocumentKind, file: &Upload) -> Result<i64, StorageError> {
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
async fn record_notice(
    db: &Db,
    actor: &Actor,
    id: i64,
    stage: Stage,
    on: NaiveDate,
    today: NaiveDate,
) -> Result<(), StorageError> {
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
    if on > today {
        return Err(field_error("noticed_on", format!("公示日期 {on} 还没有到")));
    }
    // A notice recorded again for the stage replaces the date: the trail keeps the earlier one.
    #[derive(FromQueryResult)]
    struct Noticed {
        noticed_on: NaiveDate,
    }
    let before = Noticed::find_by_statement(db.stmt(
        "SELECT noticed_on FROM project_notices WHERE project_id = $1 AND stage = $2",
        vec![id.into(), stage.code().into()],
    ))
    .one(tx.conn())
    .await?
    .map(|r| serde_json::json!({ "stage": stage, "noticed_on": r.noticed_on }));
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
async fn advance(db: &Db, actor: &Actor, id: i64, to: Stage, on: NaiveDate) -> Result<(), StorageError> {
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

/// The project library as one actor sees it (`s.funds().projects()`).
pub struct Projects<'a>(pub(crate) &'a crate::Scoped);

impl Projects<'_> {
    /// The projects within the scope, newest first.
    pub async fn list(&self) -> Result<Vec<ProjectRow>, StorageError> {
        projects(self.0.db(), self.0.scope()).await
    }

    /// One project in full; `None` outside the scope.
    pub async fn get(&self, id: i64) -> Result<Option<ProjectDetail>, StorageError> {
        project(self.0.db(), self.0.scope(), id).await
    }

    /// Ok if the project lies in the scope, else not found (a guard before a form is read).
    pub async fn in_scope(&self, id: i64) -> Result<(), StorageError> {
        row_in(self.0.db(), self.0.db().conn(), self.0.scope(), id).await.map(drop)
    }

    /// Enter a project in the library (at 筛选) on `on`, with the households it serves and what
    /// each is expected to gain a year. Offices within scope; every household must lie in the
    /// user's scope.
    pub async fn add(
        &self,
        year: i32,
        p: &Project,
        households: &[(i64, Money)],
        on: NaiveDate,
    ) -> Result<i64, StorageError> {
        add_project(self.0.db(), self.0.actor(), year, p, households, on).await
    }

    /// Attach a document (plan, approval, acceptance …) to a project in scope.
    pub async fn add_document(&self, id: i64, kind: DocumentKind, file: &Upload) -> Result<i64, StorageError> {
        add_document(self.0.db(), self.0.actor(), id, kind, file).await
    }

    /// Record the public notice (公示) of a project's current stage (not a day to come).
    pub async fn record_notice(&self, id: i64, stage: Stage, on: NaiveDate) -> Result<(), StorageError> {
        record_notice(self.0.db(), self.0.actor(), id, stage, on, self.0.today()).await
    }

    /// Move a project to its next stage on `on` (district or city office), if its documents allow.
    pub async fn advance(&self, id: i64, to: Stage, on: NaiveDate) -> Result<(), StorageError> {
        advance(self.0.db(), self.0.actor(), id, to, on).await
    }
}
