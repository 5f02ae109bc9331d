//! Town poverty offices: the checklist items (the city office edits the list), each town's
//! judgement per item and year (district or city office), and the office's staff (the town office
//! keeps them) with when they started and left.

use chrono::{Datelike, NaiveDate};
use ducha_domain::access::{Actor, Role, Scope};
use ducha_domain::checks::{AuditParams, Finding};
use ducha_domain::platform::{OfficeFacts, Staff, office_findings};
use ducha_domain::region::{RegionKind, RegionLevel};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;

use crate::audit::AuditTxn;
use crate::registry::write::field_error;
use crate::{Db, StorageError};

#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct Item {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub active: bool,
}

async fn items(db: &Db) -> Result<Vec<Item>, StorageError> {
    Ok(Item::find_by_statement(db.stmt("SELECT id, name, description, active FROM office_items ORDER BY id", vec![]))
        .all(db.conn())
        .await?)
}

/// The id a `RETURNING id` gives back.
#[derive(FromQueryResult)]
struct Inserted {
    id: i64,
}

/// Add an item to the checklist, or take one off it (city office).
async fn set_item(
    db: &Db,
    actor: &Actor,
    id: Option<i64>,
    name: &str,
    description: &str,
    active: bool,
) -> Result<i64, StorageError> {
    if !matches!(actor.role, Role::CityOffice) {
        return Err(StorageError::Forbidden("“六有”清单由市扶贫办维护".into()));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 20 {
        return Err(field_error("name", "请填写检查项名称（20 字以内）".into()));
    }
    if description.trim().chars().count() > 200 {
        return Err(field_error("description", "内容请在 200 字以内".into()));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let before = match id {
        Some(id) => {
            #[derive(FromQueryResult)]
            struct Row {
                name: String,
                description: String,
                active: bool,
            }
            Row::find_by_statement(
                db.stmt("SELECT name, description, active FROM office_items WHERE id = $1", vec![id.into()]),
            )
            .one(tx.conn())
            .await?
            .map(|r| serde_json::json!({ "name": r.name, "description": r.description, "active": r.active }))
        }
        None => None,
    };
    let id = match id {
        Some(id) => {
            let n = tx
                .conn()
                .execute_raw(db.stmt(
                    "UPDATE office_items SET name = $1, description = $2, active = $3 WHERE id = $4",
                    vec![name.into(), description.trim().into(), active.into(), id.into()],
                ))
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StorageError::NotFound);
            }
            id
        }
        None => {
            Inserted::find_by_statement(db.stmt(
                "INSERT INTO office_items (name, description, active) VALUES ($1, $2, $3) RETURNING id",
                vec![name.into(), description.trim().into(), active.into()],
            ))
            .one(tx.conn())
            .await?
            .ok_or_else(|| StorageError::Corrupt("检查项未能写入".into()))?
            .id
        }
    };
    let after = serde_json::json!({ "name": name, "description": description.trim(), "active": active });
    tx.record("office_item", id, None, "update", before.as_ref(), Some(&after)).await?;
    crate::scoped::commit(tx).await?;
    Ok(id)
}

fn town_in(actor: &Actor, town: &str) -> Result<(), StorageError> {
    if town.len() == 9 && actor.scope.contains(town) { Ok(()) } else { Err(StorageError::NotFound) }
}

/// One item of a town's checklist judged for a year.
#[derive(Debug, Clone, Serialize)]
pub struct Judgement {
    pub town: String,
    pub year: i32,
    pub item_id: i64,
    pub met: bool,
    pub note: String,
    pub on: NaiveDate,
}

/// Judge one item of a town for a year (district or city office), with a note.
async fn judge(db: &Db, actor: &Actor, j: &Judgement) -> Result<(), StorageError> {
    let (town, year, item_id, met, note, on) = (j.town.as_str(), j.year, j.item_id, j.met, j.note.as_str(), j.on);
    town_in(actor, town)?;
    if !actor.role.manages_platform() {
        return Err(StorageError::Forbidden("“六有”由市(区)扶贫办或市扶贫办检查认定".into()));
    }
    if !met && note.trim().is_empty() {
        return Err(field_error("note", "未达标的项请写明差距".into()));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    #[derive(FromQueryResult)]
    struct Known {
        name: String,
    }
    let known = Known::find_by_statement(
        db.stmt("SELECT name FROM office_items WHERE id = $1 AND active", vec![item_id.into()]),
    )
    .one(tx.conn())
    .await?;
    let Some(Known { name }) = known else { return Err(field_error("item_id", "没有这个检查项".into())) };
    #[derive(FromQueryResult)]
    struct Judged {
        met: bool,
        note: String,
    }
    let before = Judged::find_by_statement(db.stmt(
        "SELECT met, note FROM office_checks WHERE town_code = $1 AND item_id = $2 AND year = $3",
        vec![town.into(), item_id.into(), year.into()],
    ))
    .one(tx.conn())
    .await?
    .map(|r| serde_json::json!({ "item": name, "year": year, "met": r.met, "note": r.note }));
    tx.conn()
        .execute_raw(db.stmt(
            "INSERT INTO office_checks (town_code, item_id, year, met, note, judged_by, judged_on) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (town_code, item_id, year) DO UPDATE SET met = excluded.met, note = excluded.note, \
             judged_by = excluded.judged_by, judged_on = excluded.judged_on",
            vec![
                town.into(),
                item_id.into(),
                year.into(),
                met.into(),
                note.trim().chars().take(200).collect::<String>().into(),
                actor.username.clone().into(),
                on.into(),
            ],
        ))
        .await?;
    let after = serde_json::json!({ "item": name, "year": year, "met": met, "note": note.trim() });
    tx.record("office_check", town, Some(town), "update", before.as_ref(), Some(&after)).await?;
    tx.region_changed(town);
    crate::scoped::commit(tx).await?;
    Ok(())
}

/// Someone joins a town office's staff (town office or above).
async fn add_staff(db: &Db, actor: &Actor, s: &Staff, today: NaiveDate) -> Result<i64, StorageError> {
    town_in(actor, &s.town_code)?;
    if !actor.role.edits_registry() {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记扶贫办人员", actor.role)));
    }
    if s.name.trim().is_empty() || s.name.trim().chars().count() > 30 {
        return Err(field_error("name", "请填写姓名（30 字以内）".into()));
    }
    if s.position.trim().chars().count() > 40 {
        return Err(field_error("position", "职务请在 40 字以内".into()));
    }
    if s.started_on > today {
        return Err(field_error("started_on", format!("到岗日期 {} 还没有到", s.started_on)));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let id: i64 = Inserted::find_by_statement(db.stmt(
        "INSERT INTO office_staff (town_code, name, position, started_on) VALUES ($1, $2, $3, $4) RETURNING id",
        vec![s.town_code.clone().into(), s.name.trim().into(), s.position.trim().into(), s.started_on.into()],
    ))
    .one(tx.conn())
    .await?
    .ok_or_else(|| StorageError::Corrupt("人员未能写入".into()))?
    .id;
    tx.record::<(), _>("office_staff", id, Some(&s.town_code), "create", None, Some(s)).await?;
    tx.region_changed(&s.town_code);
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// Someone leaves a town office (on a date not before they started).
async fn staff_left(db: &Db, actor: &Actor, id: i64, on: NaiveDate, today: NaiveDate) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    #[derive(FromQueryResult)]
    struct Row {
        town_code: String,
        name: String,
        started_on: NaiveDate,
        ended_on: Option<NaiveDate>,
    }
    let row = Row::find_by_statement(
        db.stmt("SELECT town_code, name, started_on, ended_on FROM office_staff WHERE id = $1", vec![id.into()]),
    )
    .one(tx.conn())
    .await?
    .ok_or(StorageError::NotFound)?;
    let town = row.town_code;
    town_in(actor, &town)?;
    if !actor.role.edits_registry() {
        return Err(StorageError::Forbidden(format!("“{}”角色不能登记人员离岗", actor.role)));
    }
    let started = row.started_on;
    if on > today {
        return Err(field_error("ended_on", format!("离岗日期 {on} 还没有到")));
    }
    if on < started {
        return Err(field_error("ended_on", format!("离岗日期 {on} 早于到岗日期 {started}")));
    }
    if row.ended_on.is_some() {
        return Err(field_error("ended_on", "此人已登记离岗".into()));
    }
    tx.conn()
        .execute_raw(db.stmt("UPDATE office_staff SET ended_on = $1 WHERE id = $2", vec![on.into(), id.into()]))
        .await?;
    let after = serde_json::json!({ "name": row.name, "ended_on": on });
    tx.record::<(), _>("office_staff", id, Some(&town), "update", None, Some(&after)).await?;
    tx.region_changed(&town);
    crate::scoped::commit(tx).await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct StaffRow {
    pub id: i64,
    pub name: String,
    pub position: String,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
}

/// A town office in a year: its judgements (item, met, note) and its staff.
#[derive(Debug, Clone, Serialize)]
pub struct Office {
    pub town_code: String,
    pub town_name: String,
    pub judged: Vec<(String, bool, String)>,
    pub items_total: usize,
    pub staff: Vec<StaffRow>,
    pub on_staff: usize,
    pub left_this_year: i64,
}

impl Office {
    pub fn met(&self) -> usize {
        self.judged.iter().filter(|j| j.1).count()
    }

    pub fn failed(&self) -> Vec<String> {
        self.judged.iter().filter(|j| !j.1).map(|j| j.0.clone()).collect()
    }
}

/// The town offices within a scope (towns and streets) for a year.
async fn offices(db: &Db, scope: &Scope, year: i32) -> Result<Vec<Office>, StorageError> {
    offices_in(db, db.conn(), scope, year).await
}

async fn offices_in<C: ConnectionTrait>(db: &Db, c: &C, scope: &Scope, year: i32) -> Result<Vec<Office>, StorageError> {
    let tree = crate::regions::tree_in(c).await?;
    let towns: Vec<_> = match scope {
        Scope::All => tree.descendants("", Some(RegionLevel::Town)),
        Scope::Region(code) if code.level() == RegionLevel::Village => vec![],
        Scope::Region(code) if code.level() == RegionLevel::Town => tree.get(code.as_str()).into_iter().collect(),
        Scope::Region(code) => tree.descendants(code.as_str(), Some(RegionLevel::Town)),
    };
    #[derive(FromQueryResult)]
    struct ActiveItem {
        id: i64,
        name: String,
    }
    #[derive(FromQueryResult)]
    struct Check {
        town_code: String,
        item_id: i64,
        met: bool,
        note: String,
    }
    #[derive(FromQueryResult)]
    struct Staffed {
        town_code: String,
        #[sea_orm(nested)]
        staff: StaffRow,
    }
    let active: Vec<(i64, String)> =
        ActiveItem::find_by_statement(db.stmt("SELECT id, name FROM office_items WHERE active ORDER BY id", vec![]))
            .all(c)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
    let y: Vec<Value> = vec![year.into()];
    let checks =
        Check::find_by_statement(db.stmt("SELECT town_code, item_id, met, note FROM office_checks WHERE year = $1", y))
            .all(c)
            .await?;
    let staff = Staffed::find_by_statement(db.stmt(
        "SELECT id, town_code, name, position, started_on, ended_on FROM office_staff ORDER BY started_on, id",
        vec![],
    ))
    .all(c)
    .await?;
    let mut out = Vec::new();
    for town in towns.into_iter().filter(|t| t.kind != RegionKind::SpecialArea) {
        let code = town.code.as_str();
        let mut judged = Vec::new();
        for r in checks.iter().filter(|r| r.town_code == code) {
            if let Some((_, name)) = active.iter().find(|(id, _)| *id == r.item_id) {
                judged.push((name.clone(), r.met, r.note.clone()));
            }
        }
        let people: Vec<StaffRow> = staff.iter().filter(|r| r.town_code == code).map(|r| r.staff.clone()).collect();
        let left_this_year = people.iter().filter(|p| p.ended_on.is_some_and(|e| e.year() == year)).count() as i64;
        out.push(Office {
            town_code: code.to_string(),
            town_name: town.name.clone(),
            judged,
            items_total: active.len(),
            on_staff: people.iter().filter(|p| p.ended_on.is_none()).count(),
            staff: people,
            left_this_year,
        });
    }
    Ok(out)
}

/// The office rules over the towns of a scope.
pub(crate) async fn findings<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    p: &AuditParams,
) -> Result<Vec<Finding>, StorageError> {
    let mut out = Vec::new();
    for o in offices_in(db, c, scope, p.year).await? {
        let facts = OfficeFacts {
            town_code: o.town_code.clone(),
            town_name: o.town_name.clone(),
            failed: o.failed(),
            left_this_year: o.left_this_year,
        };
        out.extend(office_findings(&facts, p));
    }
    Ok(out)
}

/// The town poverty offices as one actor sees them (`s.platform().offices()`).
pub struct Offices<'a>(pub(crate) &'a crate::Scoped);

impl Offices<'_> {
    /// The checklist (“六有”), taken-off items included.
    pub async fn items(&self) -> Result<Vec<Item>, StorageError> {
        items(self.0.db()).await
    }

    /// Add an item to the checklist (`id` none), or change or take one off it (city office).
    pub async fn set_item(
        &self,
        id: Option<i64>,
        name: &str,
        description: &str,
        active: bool,
    ) -> Result<i64, StorageError> {
        set_item(self.0.db(), self.0.actor(), id, name, description, active).await
    }

    /// Judge one item of a town in scope for a year (district or city office), with a note.
    pub async fn judge(&self, j: &Judgement) -> Result<(), StorageError> {
        judge(self.0.db(), self.0.actor(), j).await
    }

    /// Someone joins the staff of a town office in scope (town office or above), not later than today.
    pub async fn add_staff(&self, s: &Staff) -> Result<i64, StorageError> {
        add_staff(self.0.db(), self.0.actor(), s, self.0.today()).await
    }

    /// Someone leaves a town office in scope (on a day not before they started, nor to come).
    pub async fn staff_left(&self, id: i64, on: NaiveDate) -> Result<(), StorageError> {
        staff_left(self.0.db(), self.0.actor(), id, on, self.0.today()).await
    }

    /// The town offices within the scope (towns and streets) for a year.
    pub async fn list(&self, year: i32) -> Result<Vec<Office>, StorageError> {
        offices(self.0.db(), self.0.scope(), year).await
    }

    /// The office of one town (or street) within the scope for a year; `None` outside the scope
    /// or for a code that is not a town's.
    pub async fn of_town(&self, town: &str, year: i32) -> Result<Option<Office>, StorageError> {
        let Ok(code) = ducha_domain::RegionCode::parse(town) else { return Ok(None) };
        if town_in(self.0.actor(), code.as_str()).is_err() {
            return Ok(None);
        }
        Ok(offices(self.0.db(), &Scope::Region(code), year).await?.pop())
    }
}
