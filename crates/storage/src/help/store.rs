//! Help records in the database: a household's cadre, yearly plans, measures delivered, help
//! logs, record book, and the cadres of a town. Every write checks role and scope and is audited.

use chrono::Utc;
use ducha_domain::access::{Actor, Scope};
use ducha_domain::help::{Cadre, LogInput, MeasureInput, PlanInput, RecordBook};
use ducha_domain::labelled::Labelled;
use ducha_domain::registry::HouseholdStatus;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::{cadre, log, measure, plan, plan_item};
use crate::audit::AuditTxn;
use crate::evidence::{self, EvidenceMeta, Upload};
use crate::registry::household;
use crate::registry::write::{add_status, field_error, household_in_scope};
use crate::{Db, StorageError};

fn require_help_writer(actor: &Actor) -> Result<(), StorageError> {
    if actor.role.writes_help() {
        Ok(())
    } else {
        Err(StorageError::Forbidden(format!("“{}”角色不能填写帮扶记录", actor.role)))
    }
}

/// A cadre of the household's town, or a field error at `field`.
async fn cadre_of_town<C: ConnectionTrait>(
    c: &C,
    h: &household::Model,
    id: Option<i64>,
    field: &str,
) -> Result<Option<cadre::Model>, StorageError> {
    let Some(id) = id else { return Ok(None) };
    match cadre::Entity::find_by_id(id).one(c).await? {
        Some(k) if k.town_code == h.town_code => Ok(Some(k)),
        _ => Err(field_error(field, "请选择本镇（街）的帮扶责任人".into())),
    }
}

/// Everything about the help a household receives.
#[derive(Debug, Clone, Serialize)]
pub struct HelpRecord {
    pub cadre: Option<cadre::Model>,
    pub plans: Vec<(plan::Model, Vec<String>)>,
    pub measures: Vec<measure::Model>,
    pub logs: Vec<(log::Model, Option<String>)>,
    pub evidence: Vec<EvidenceMeta>,
    pub town_cadres: Vec<cadre::Model>,
}

pub(crate) async fn for_household(
    db: &Db,
    scope: &Scope,
    household_id: i64,
) -> Result<Option<HelpRecord>, StorageError> {
    let c = db.conn();
    let Some(h) =
        household::Entity::find_by_id(household_id).filter(crate::registry::scope_condition(scope)).one(c).await?
    else {
        return Ok(None);
    };
    of_household(db, &h).await.map(Some)
}

/// The help of a household already read within the actor's scope.
pub(crate) async fn of_household(db: &Db, h: &household::Model) -> Result<HelpRecord, StorageError> {
    let c = db.conn();
    let town_cadres = cadre::Entity::find()
        .filter(cadre::Column::TownCode.eq(&h.town_code))
        .order_by_asc(cadre::Column::Id)
        .all(c)
        .await?;
    let plans = plan::Entity::find()
        .filter(plan::Column::HouseholdId.eq(h.id))
        .order_by_desc(plan::Column::Year)
        .all(c)
        .await?;
    // Every plan's items in one query, whatever the number of plans.
    let items = plan_item::Entity::find()
        .filter(plan_item::Column::PlanId.is_in(plans.iter().map(|p| p.id)))
        .order_by_asc(plan_item::Column::Id)
        .all(c)
        .await?;
    let measures = measure::Entity::find()
        .filter(measure::Column::HouseholdId.eq(h.id))
        .order_by_desc(measure::Column::DeliveredOn)
        .all(c)
        .await?;
    let logs = log::Entity::find()
        .filter(log::Column::HouseholdId.eq(h.id))
        .order_by_desc(log::Column::VisitedOn)
        .all(c)
        .await?;
    let evidence = evidence::for_household(db, h.id).await?;
    Ok(assemble(h, town_cadres, plans, items, measures, logs, evidence))
}

/// A household's help record from its rows, however they were read (one query each, or the
/// household page's single statement): the cadre found among the town's, each plan with its
/// items' categories, each log with its cadre's name.
pub(crate) fn assemble(
    h: &household::Model,
    town_cadres: Vec<cadre::Model>,
    plans: Vec<plan::Model>,
    items: Vec<plan_item::Model>,
    measures: Vec<measure::Model>,
    logs: Vec<log::Model>,
    evidence: Vec<EvidenceMeta>,
) -> HelpRecord {
    let cadre = h.cadre_id.and_then(|id| town_cadres.iter().find(|k| k.id == id).cloned());
    let plans = plans
        .into_iter()
        .map(|p| {
            let cats = items.iter().filter(|i| i.plan_id == p.id).map(|i| i.category.clone()).collect();
            (p, cats)
        })
        .collect();
    let logs = logs
        .into_iter()
        .map(|l| {
            let name = l.cadre_id.and_then(|id| town_cadres.iter().find(|k| k.id == id)).map(|k| k.name.clone());
            (l, name)
        })
        .collect();
    HelpRecord { cadre, plans, measures, logs, evidence, town_cadres }
}

/// Make or replace the household's plan for a year. A household just identified starts being
/// helped (帮扶中) when its first plan is made.
pub(crate) async fn save_plan(
    db: &Db,
    actor: &Actor,
    household_id: i64,
    input: &PlanInput,
    files: &[Upload],
) -> Result<i64, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let h = household_in_scope(tx.conn(), actor, household_id).await?;
    require_help_writer(actor)?;
    let id = save_plan_in(&mut tx, &h, input, files).await?;
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// The plan's writing, inside the caller's transaction (the form, the API and imports).
async fn save_plan_in(
    tx: &mut AuditTxn<'_>,
    h: &household::Model,
    input: &PlanInput,
    files: &[Upload],
) -> Result<i64, StorageError> {
    let actor = tx.actor().clone();
    let actor = &actor;
    cadre_of_town(tx.conn(), h, input.cadre_id, "cadre_id").await?;
    let existing = plan::Entity::find()
        .filter(plan::Column::HouseholdId.eq(h.id))
        .filter(plan::Column::Year.eq(input.year))
        .one(tx.conn())
        .await?;
    let today = crate::scoped::beijing_today();
    let (id, before) = match existing {
        Some(p) => {
            let old_items: Vec<String> = plan_item::Entity::find()
                .filter(plan_item::Column::PlanId.eq(p.id))
                .all(tx.conn())
                .await?
                .into_iter()
                .map(|i| i.category)
                .collect();
            let before = serde_json::json!({ "year": p.year, "target_income": p.target_income, "cadre_id": p.cadre_id, "categories": old_items });
            plan_item::Entity::delete_many().filter(plan_item::Column::PlanId.eq(p.id)).exec(tx.conn()).await?;
            let mut am: plan::ActiveModel = p.clone().into();
            am.target_income = Set(input.target_income.fen());
            am.cadre_id = Set(input.cadre_id);
            am.made_on = Set(today);
            am.update(tx.conn()).await?;
            (p.id, Some(before))
        }
        None => {
            let saved = plan::ActiveModel {
                id: NotSet,
                household_id: Set(h.id),
                year: Set(input.year),
                target_income: Set(input.target_income.fen()),
                made_on: Set(today),
                cadre_id: Set(input.cadre_id),
            }
            .insert(tx.conn())
            .await?;
            (saved.id, None)
        }
    };
    for cat in &input.categories {
        plan_item::ActiveModel { id: NotSet, plan_id: Set(id), category: Set(cat.code().into()), note: Set(None) }
            .insert(tx.conn())
            .await?;
    }
    let after = serde_json::json!({
        "year": input.year, "target_income": input.target_income.fen(), "cadre_id": input.cadre_id,
        "categories": input.categories.iter().map(|c| c.code()).collect::<Vec<_>>(),
    });
    let action = if before.is_some() { "update" } else { "create" };
    tx.record("help_plan", id, Some(&h.village_code), action, before.as_ref(), Some(&after)).await?;
    tx.household_changed(h.id);
    // The plan's cadre becomes the household's, if it has none yet.
    let adopt_cadre = h.cadre_id.is_none() && input.cadre_id.is_some();
    if adopt_cadre {
        let mut am: household::ActiveModel = h.clone().into();
        am.cadre_id = Set(input.cadre_id);
        am.update(tx.conn()).await?;
        let after = serde_json::json!({ "cadre_id": input.cadre_id });
        tx.record(
            "household",
            h.id,
            Some(&h.village_code),
            "assign_cadre",
            Some(&serde_json::json!({ "cadre_id": null })),
            Some(&after),
        )
        .await?;
    }
    if h.status == HouseholdStatus::Identified.code() {
        let mut am: household::ActiveModel = h.clone().into();
        am.status = Set(HouseholdStatus::Helping.code().into());
        am.version = Set(h.version + 1);
        if adopt_cadre {
            am.cadre_id = Set(input.cadre_id);
        }
        am.update(tx.conn()).await?;
        let by = actor.username.clone();
        add_status(tx.conn(), h.id, HouseholdStatus::Helping, today, "制定帮扶计划，开始帮扶", &by).await?;
        let status = serde_json::json!({ "status": HouseholdStatus::Helping.code() });
        tx.record(
            "household",
            h.id,
            Some(&h.village_code),
            "status",
            Some(&serde_json::json!({ "status": h.status })),
            Some(&status),
        )
        .await?;
    }
    for f in files {
        evidence::attach(tx, "help_plan", id, h, f).await?;
    }
    Ok(id)
}

pub(crate) async fn add_measure(
    db: &Db,
    actor: &Actor,
    household_id: i64,
    input: &MeasureInput,
    files: &[Upload],
) -> Result<i64, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let h = household_in_scope(tx.conn(), actor, household_id).await?;
    require_help_writer(actor)?;
    // The project a measure belongs to is one the user can see in the library.
    if let Some(p) = input.project_id {
        match crate::funds::row_in(db, tx.conn(), &actor.scope, p).await {
            Ok(_) => {}
            Err(StorageError::NotFound) => {
                let m = format!("项目编号 {p} 不存在或不在您的辖区内：请填写项目库中的项目编号");
                return Err(crate::registry::write::field_error("project_id", m));
            }
            Err(e) => return Err(e),
        }
    }
    let year = chrono::Datelike::year(&input.measure.delivered_on);
    let plan_id = plan::Entity::find()
        .filter(plan::Column::HouseholdId.eq(h.id))
        .filter(plan::Column::Year.eq(year))
        .one(tx.conn())
        .await?
        .map(|p| p.id);
    let m = &input.measure;
    let saved = measure::ActiveModel {
        id: NotSet,
        household_id: Set(h.id),
        plan_id: Set(plan_id),
        category: Set(m.category.code().into()),
        description: Set(m.description.clone()),
        delivered_on: Set(m.delivered_on),
        amount: Set(m.amount.fen()),
        income_generating: Set(m.income_generating),
        project_id: Set(input.project_id),
    }
    .insert(tx.conn())
    .await?;
    tx.record::<(), _>("help_measure", saved.id, Some(&h.village_code), "create", None, Some(input)).await?;
    tx.household_changed(h.id);
    for f in files {
        evidence::attach(&mut tx, "help_measure", saved.id, &h, f).await?;
    }
    crate::scoped::commit(tx).await?;
    Ok(saved.id)
}

pub(crate) async fn add_log(
    db: &Db,
    actor: &Actor,
    household_id: i64,
    input: &LogInput,
    files: &[Upload],
) -> Result<i64, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let h = household_in_scope(tx.conn(), actor, household_id).await?;
    require_help_writer(actor)?;
    let id = add_log_in(&mut tx, &h, input, files).await?;
    crate::scoped::commit(tx).await?;
    Ok(id)
}

async fn add_log_in(
    tx: &mut AuditTxn<'_>,
    h: &household::Model,
    input: &LogInput,
    files: &[Upload],
) -> Result<i64, StorageError> {
    let cadre_id = input.cadre_id.or(h.cadre_id);
    cadre_of_town(tx.conn(), h, cadre_id, "cadre_id").await?;
    let saved = log::ActiveModel {
        id: NotSet,
        household_id: Set(h.id),
        cadre_id: Set(cadre_id),
        visited_on: Set(input.visited_on),
        content: Set(input.content.clone()),
        location: Set(input.location.clone()),
    }
    .insert(tx.conn())
    .await?;
    tx.record::<(), _>("help_log", saved.id, Some(&h.village_code), "create", None, Some(input)).await?;
    tx.household_changed(h.id);
    for f in files {
        evidence::attach(tx, "help_log", saved.id, h, f).await?;
    }
    Ok(saved.id)
}

pub(crate) async fn assign_cadre(
    db: &Db,
    actor: &Actor,
    household_id: i64,
    cadre_id: Option<i64>,
) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let h = household_in_scope(tx.conn(), actor, household_id).await?;
    if !actor.role.edits_registry() {
        return Err(StorageError::Forbidden(format!("“{}”角色不能指定帮扶责任人", actor.role)));
    }
    cadre_of_town(tx.conn(), &h, cadre_id, "cadre_id").await?;
    let before = serde_json::json!({ "cadre_id": h.cadre_id });
    let mut am: household::ActiveModel = h.clone().into();
    am.cadre_id = Set(cadre_id);
    am.version = Set(h.version + 1);
    am.updated_at = Set(Utc::now());
    am.update(tx.conn()).await?;
    tx.record(
        "household",
        h.id,
        Some(&h.village_code),
        "assign_cadre",
        Some(&before),
        Some(&serde_json::json!({ "cadre_id": cadre_id })),
    )
    .await?;
    tx.household_changed(h.id);
    crate::scoped::commit(tx).await?;
    Ok(())
}

pub(crate) async fn update_record_book(
    db: &Db,
    actor: &Actor,
    household_id: i64,
    book: &RecordBook,
) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let h = household_in_scope(tx.conn(), actor, household_id).await?;
    require_help_writer(actor)?;
    let before = RecordBook {
        issued: h.record_book_issued,
        provincial_format: h.record_book_provincial,
        last_checked: h.record_book_checked_on,
    };
    let mut am: household::ActiveModel = h.clone().into();
    am.record_book_issued = Set(book.issued);
    am.record_book_provincial = Set(book.provincial_format);
    am.record_book_checked_on = Set(book.last_checked);
    am.version = Set(h.version + 1);
    am.updated_at = Set(Utc::now());
    am.update(tx.conn()).await?;
    tx.record("record_book", h.id, Some(&h.village_code), "update", Some(&before), Some(book)).await?;
    tx.household_changed(h.id);
    crate::scoped::commit(tx).await?;
    Ok(())
}

/// A cadre with how many households they help.
#[derive(Debug, Clone, Serialize)]
pub struct CadreRow {
    pub cadre: cadre::Model,
    pub households: i64,
}

/// The cadres of the towns in a scope.
pub(crate) async fn cadres(db: &Db, scope: &Scope) -> Result<Vec<CadreRow>, StorageError> {
    let mut q = cadre::Entity::find();
    if let Scope::Region(code) = scope {
        q = q.filter(cadre::Column::TownCode.starts_with(code.as_str()));
    }
    let list = q.order_by_asc(cadre::Column::TownCode).order_by_asc(cadre::Column::Id).all(db.conn()).await?;
    #[derive(sea_orm::FromQueryResult)]
    struct Count {
        cadre_id: i64,
        n: i64,
    }
    let counts = <Count as sea_orm::FromQueryResult>::find_by_statement(
        db.stmt("SELECT cadre_id, COUNT(*) AS n FROM households WHERE cadre_id IS NOT NULL GROUP BY cadre_id", vec![]),
    )
    .all(db.conn())
    .await?;
    let by_id: std::collections::HashMap<i64, i64> = counts.into_iter().map(|r| (r.cadre_id, r.n)).collect();
    Ok(list.into_iter().map(|c| CadreRow { households: by_id.get(&c.id).copied().unwrap_or(0), cadre: c }).collect())
}

/// One cadre in scope, with the numbers of their households.
pub(crate) async fn cadre(
    db: &Db,
    scope: &Scope,
    id: i64,
) -> Result<Option<(cadre::Model, Vec<household::Model>)>, StorageError> {
    let Some(c) = cadre::Entity::find_by_id(id).one(db.conn()).await? else { return Ok(None) };
    if !scope.contains(&c.town_code) {
        return Ok(None);
    }
    let hs = household::Entity::find()
        .filter(household::Column::CadreId.eq(id))
        .order_by_asc(household::Column::Number)
        .all(db.conn())
        .await?;
    Ok(Some((c, hs)))
}

pub(crate) async fn add_cadre(db: &Db, actor: &Actor, k: &Cadre) -> Result<i64, StorageError> {
    if !actor.scope.contains(&k.town_code) {
        return Err(field_error("town_code", "只能在本辖区内登记帮扶责任人".into()));
    }
    if !actor.role.edits_registry() {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记帮扶责任人", actor.role)));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let saved = cadre::ActiveModel {
        id: NotSet,
        name: Set(k.name.clone()),
        unit: Set(k.unit.clone()),
        phone: Set(crate::personal::seal_opt(&*db.keys()?, Some(k.phone.as_str()).filter(|p| !p.is_empty()))?),
        town_code: Set(k.town_code.clone()),
        active: Set(true),
    }
    .insert(tx.conn())
    .await?;
    tx.record::<(), _>("cadre", saved.id, Some(&k.town_code), "create", None, Some(k)).await?;
    crate::scoped::commit(tx).await?;
    Ok(saved.id)
}

/// What an import of plans or logs would do (or did).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct HelpImportSummary {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
}

/// What checking (or writing) a sheet came to: the counts, and every problem at its row.
pub type SheetOutcome = (HelpImportSummary, Vec<crate::registry::import::ImportProblem>);

/// The households and cadres an import names, found once.
struct Lookup {
    households: std::collections::HashMap<String, household::Model>,
    cadres: Vec<cadre::Model>,
}

async fn lookup<C: ConnectionTrait>(c: &C, numbers: Vec<String>) -> Result<Lookup, StorageError> {
    let mut households = std::collections::HashMap::new();
    for chunk in numbers.chunks(500) {
        for h in household::Entity::find().filter(household::Column::Number.is_in(chunk.to_vec())).all(c).await? {
            households.insert(h.number.clone(), h);
        }
    }
    let towns: Vec<String> = households
        .values()
        .map(|h| h.town_code.clone())
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .collect();
    let cadres = cadre::Entity::find().filter(cadre::Column::TownCode.is_in(towns)).all(c).await?;
    Ok(Lookup { households, cadres })
}

impl Lookup {
    /// The household of a number, if the actor may write to it.
    fn household(&self, actor: &Actor, number: &str) -> Result<&household::Model, String> {
        match self.households.get(number) {
            Some(h) if actor.scope.contains(&h.village_code) => Ok(h),
            _ => Err("户编号不存在或不在您的辖区内".into()),
        }
    }

    /// A cadre of the household's town by name; several of that name are refused, not guessed.
    fn cadre(&self, h: &household::Model, name: Option<&str>) -> Result<Option<i64>, String> {
        let Some(name) = name else { return Ok(None) };
        let found: Vec<&cadre::Model> =
            self.cadres.iter().filter(|k| k.town_code == h.town_code && k.name == name).collect();
        match found.as_slice() {
            [one] => Ok(Some(one.id)),
            [] => Err(format!("本镇（街）没有名为“{name}”的帮扶责任人，请先登记")),
            _ => Err(format!("本镇（街）有 {} 名帮扶责任人叫“{name}”，无法区分", found.len())),
        }
    }
}

/// Import plans: a household's plan for a year is made or replaced; the same file twice changes
/// nothing. With `write` false only the plan of the import is returned. All or nothing.
pub(crate) async fn import_plans(
    db: &Db,
    actor: &Actor,
    plans: &[ducha_domain::help::IncomingPlan],
    write: bool,
) -> Result<SheetOutcome, StorageError> {
    use crate::registry::import::ImportProblem;
    require_help_writer(actor)?;
    let mut tx = AuditTxn::begin(db, actor).await?;
    let l = lookup(tx.conn(), plans.iter().map(|p| p.number.clone()).collect()).await?;
    let mut summary = HelpImportSummary::default();
    let mut problems = Vec::new();
    let mut todo = Vec::new();
    for p in plans {
        let h = match l.household(actor, &p.number) {
            Ok(h) => h,
            Err(m) => {
                problems.push(ImportProblem { row: p.row, field: "户编号", message: m });
                continue;
            }
        };
        let cadre_id = match l.cadre(h, p.cadre_name.as_deref()) {
            Ok(c) => c,
            Err(m) => {
                problems.push(ImportProblem { row: p.row, field: "帮扶责任人", message: m });
                continue;
            }
        };
        let input =
            PlanInput { year: p.year, target_income: p.target_income, cadre_id, categories: p.categories.clone() };
        let existing = plan::Entity::find()
            .filter(plan::Column::HouseholdId.eq(h.id))
            .filter(plan::Column::Year.eq(p.year))
            .one(tx.conn())
            .await?;
        match existing {
            Some(e) => {
                let mut items: Vec<String> = plan_item::Entity::find()
                    .filter(plan_item::Column::PlanId.eq(e.id))
                    .all(tx.conn())
                    .await?
                    .into_iter()
                    .map(|i| i.category)
                    .collect();
                let mut wanted: Vec<String> = input.categories.iter().map(|c| c.code().to_string()).collect();
                items.sort();
                wanted.sort();
                if e.target_income == input.target_income.fen() && e.cadre_id == input.cadre_id && items == wanted {
                    summary.unchanged += 1;
                } else {
                    summary.changed += 1;
                    todo.push((h.clone(), input));
                }
            }
            None => {
                summary.new += 1;
                todo.push((h.clone(), input));
            }
        }
    }
    if write && problems.is_empty() {
        for (h, input) in &todo {
            save_plan_in(&mut tx, h, input, &[]).await?;
        }
        crate::scoped::commit(tx).await?;
    }
    Ok((summary, problems))
}

/// Import logs: a log already recorded (same household, date and content) is not added again.
pub(crate) async fn import_logs(
    db: &Db,
    actor: &Actor,
    logs: &[ducha_domain::help::IncomingLog],
    write: bool,
) -> Result<SheetOutcome, StorageError> {
    use crate::registry::import::ImportProblem;
    require_help_writer(actor)?;
    let mut tx = AuditTxn::begin(db, actor).await?;
    let l = lookup(tx.conn(), logs.iter().map(|p| p.number.clone()).collect()).await?;
    let mut summary = HelpImportSummary::default();
    let mut problems = Vec::new();
    let mut todo = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for g in logs {
        let h = match l.household(actor, &g.number) {
            Ok(h) => h,
            Err(m) => {
                problems.push(ImportProblem { row: g.row, field: "户编号", message: m });
                continue;
            }
        };
        let cadre_id = match l.cadre(h, g.cadre_name.as_deref()) {
            Ok(c) => c,
            Err(m) => {
                problems.push(ImportProblem { row: g.row, field: "帮扶责任人", message: m });
                continue;
            }
        };
        let already = log::Entity::find()
            .filter(log::Column::HouseholdId.eq(h.id))
            .filter(log::Column::VisitedOn.eq(g.visited_on))
            .filter(log::Column::Content.eq(g.content.clone()))
            .one(tx.conn())
            .await?
            .is_some();
        if already || !seen.insert((h.id, g.visited_on, g.content.clone())) {
            summary.unchanged += 1;
        } else {
            summary.new += 1;
            todo.push((
                h.clone(),
                LogInput {
                    visited_on: g.visited_on,
                    cadre_id,
                    content: g.content.clone(),
                    location: g.location.clone(),
                },
            ));
        }
    }
    if write && problems.is_empty() {
        for (h, input) in &todo {
            add_log_in(&mut tx, h, input, &[]).await?;
        }
        crate::scoped::commit(tx).await?;
    }
    Ok((summary, problems))
}

pub struct Help<'a>(pub(crate) &'a crate::Scoped);

impl crate::Scoped {
    pub fn help(&self) -> Help<'_> {
        Help(self)
    }
}

impl Help<'_> {
    pub async fn for_household(&self, household_id: i64) -> Result<Option<HelpRecord>, StorageError> {
        for_household(self.0.db(), self.0.scope(), household_id).await
    }

    /// Make or replace the household's plan for a year. A household just identified starts being
    /// helped (帮扶中) when its first plan is made.
    pub async fn save_plan(&self, household_id: i64, input: &PlanInput, files: &[Upload]) -> Result<i64, StorageError> {
        save_plan(self.0.db(), self.0.actor(), household_id, input, files).await
    }

    pub async fn add_measure(
        &self,
        household_id: i64,
        input: &MeasureInput,
        files: &[Upload],
    ) -> Result<i64, StorageError> {
        add_measure(self.0.db(), self.0.actor(), household_id, input, files).await
    }

    pub async fn add_log(&self, household_id: i64, input: &LogInput, files: &[Upload]) -> Result<i64, StorageError> {
        add_log(self.0.db(), self.0.actor(), household_id, input, files).await
    }

    pub async fn assign_cadre(&self, household_id: i64, cadre_id: Option<i64>) -> Result<(), StorageError> {
        assign_cadre(self.0.db(), self.0.actor(), household_id, cadre_id).await
    }

    pub async fn update_record_book(&self, household_id: i64, book: &RecordBook) -> Result<(), StorageError> {
        update_record_book(self.0.db(), self.0.actor(), household_id, book).await
    }

    /// The cadres of the towns in a scope.
    pub async fn cadres(&self) -> Result<Vec<CadreRow>, StorageError> {
        cadres(self.0.db(), self.0.scope()).await
    }

    /// One cadre in scope, with the numbers of their households.
    pub async fn cadre(&self, id: i64) -> Result<Option<(cadre::Model, Vec<household::Model>)>, StorageError> {
        cadre(self.0.db(), self.0.scope(), id).await
    }

    pub async fn add_cadre(&self, k: &Cadre) -> Result<i64, StorageError> {
        add_cadre(self.0.db(), self.0.actor(), k).await
    }

    /// Import plans: a household's plan for a year is made or replaced; the same file twice changes
    /// nothing. With `write` false only the plan of the import is returned. All or nothing.
    pub async fn import_plans(
        &self,
        plans: &[ducha_domain::help::IncomingPlan],
        write: bool,
    ) -> Result<SheetOutcome, StorageError> {
        import_plans(self.0.db(), self.0.actor(), plans, write).await
    }

    /// Import logs: a log already recorded (same household, date and content) is not added again.
    pub async fn import_logs(
        &self,
        logs: &[ducha_domain::help::IncomingLog],
        write: bool,
    ) -> Result<SheetOutcome, StorageError> {
        import_logs(self.0.db(), self.0.actor(), logs, write).await
    }
}
