//! One household with everything recorded under it, in one statement: the household's row, and
//! its members, finances, status history, the town's cadres, plans and their items, measures,
//! logs and files, each set as a JSON array the database builds in a sub-select. The page is then
//! one consistent snapshot (never half of a save), and its cost does not grow with the number of
//! plans or members.
//!
//! The JSON differs between the databases only in the aggregate's name and in how a boolean and a
//! time are written; [`json_array`] says both once, and [`rows_json`] takes an entity's own column
//! list, so a column added to an entity is in the page without touching this file.

use sea_orm::{ColumnTrait, ColumnType, EntityTrait, FromQueryResult, IdenStatic, Iterable};
use serde::de::DeserializeOwned;

use super::{HouseholdRecord, finance, household, member, status_history};
use crate::db::Backend;
use crate::evidence::EvidenceMeta;
use crate::help::{cadre, log, measure, plan, plan_item};
use crate::scope::{self, Columns};
use crate::{Db, StorageError};
use ducha_domain::access::Scope;

/// How a column is written into the JSON: SQLite keeps a boolean as 0/1 and a time as text in
/// one of several layouts, so those two are converted to JSON's true/false and to RFC 3339.
#[derive(Clone, Copy)]
enum As {
    Plain,
    Bool,
    Time,
}

/// A sub-select giving the rows of `table` (alias `t`; `h` is the household) that match `cond`,
/// in `order`, as a JSON array of objects named by column (an empty array when there is none).
fn json_array(backend: Backend, table: &str, fields: &[(&str, As)], cond: &str, order: &str) -> String {
    let object = fields
        .iter()
        .map(|(name, kind)| {
            let value = match (backend, kind) {
                (Backend::Sqlite, As::Bool) => {
                    format!("json(CASE WHEN t.{name} IS NULL THEN NULL WHEN t.{name} THEN 'true' ELSE 'false' END)")
                }
                (Backend::Sqlite, As::Time) => format!("strftime('%Y-%m-%dT%H:%M:%fZ', t.{name})"),
                _ => format!("t.{name}"),
            };
            format!("'{name}', {value}")
        })
        .collect::<Vec<_>>()
        .join(", ");
    match backend {
        Backend::Sqlite => format!(
            "(SELECT json_group_array(json_object({object})) FROM (SELECT * FROM {table} t WHERE {cond} ORDER BY {order}) t)"
        ),
        Backend::Postgres => format!(
            "(SELECT coalesce(json_agg(json_build_object({object}) ORDER BY {order}), '[]'::json)::text \
             FROM {table} t WHERE {cond})"
        ),
    }
}

/// [`json_array`] over the rows of entity `E`, from its own column list: a column added to an
/// entity is in the page without touching this file.
fn rows_json<E: EntityTrait>(backend: Backend, cond: &str, order: &str) -> String {
    let table = E::default().table_name().to_string();
    let fields: Vec<(&str, As)> = E::Column::iter()
        .map(|c| {
            let kind = match c.def().get_column_type() {
                ColumnType::Boolean => As::Bool,
                ColumnType::TimestampWithTimeZone | ColumnType::DateTime | ColumnType::Timestamp => As::Time,
                _ => As::Plain,
            };
            (c.as_str(), kind)
        })
        .collect();
    json_array(backend, &table, &fields, cond, order)
}

/// The files attached to the household's own records (not a campaign's: those belong to the
/// campaign, and would tell the town which households were sampled).
fn evidence_json(backend: Backend) -> String {
    let fields = [
        ("id", As::Plain),
        ("owner_kind", As::Plain),
        ("owner_id", As::Plain),
        ("filename", As::Plain),
        ("content_type", As::Plain),
        ("size", As::Plain),
        ("sha256", As::Plain),
        ("uploaded_by", As::Plain),
        ("uploaded_at", As::Time),
    ];
    json_array(backend, "evidence", &fields, "t.household_id = h.id AND t.owner_kind NOT LIKE 'campaign%'", "id")
}

/// The household's row beside its sets, as the statement returns them.
#[derive(FromQueryResult)]
struct Bundle {
    #[sea_orm(nested)]
    household: household::Model,
    members_json: String,
    finances_json: String,
    history_json: String,
    cadres_json: String,
    plans_json: String,
    items_json: String,
    measures_json: String,
    logs_json: String,
    evidence_json: String,
}

/// What one statement reads of a household: its record and its help record.
pub(crate) struct Whole {
    pub record: HouseholdRecord,
    pub help: crate::help::store::HelpRecord,
}

fn parse<T: DeserializeOwned>(what: &str, json: &str) -> Result<Vec<T>, StorageError> {
    serde_json::from_str(json).map_err(|e| StorageError::Corrupt(format!("{what}：{e}")))
}

/// The household `id` with everything under it, if it lies in the scope; one statement.
pub(crate) async fn whole(db: &Db, scope: &Scope, id: i64) -> Result<Option<Whole>, StorageError> {
    let b = db.backend();
    let (in_scope, mut values) = scope::filter(scope, Columns::HOUSEHOLDS, 2);
    let sql = format!(
        "SELECT h.*, {members} AS members_json, {finances} AS finances_json, {history} AS history_json, \
         {cadres} AS cadres_json, {plans} AS plans_json, {items} AS items_json, {measures} AS measures_json, \
         {logs} AS logs_json, {evidence} AS evidence_json \
         FROM households h WHERE h.id = $1 AND {in_scope}",
        members = rows_json::<member::Entity>(b, "t.household_id = h.id", "seq"),
        finances = rows_json::<finance::Entity>(b, "t.household_id = h.id", "year"),
        history = rows_json::<status_history::Entity>(b, "t.household_id = h.id", "effective_on, id"),
        cadres = rows_json::<cadre::Entity>(b, "t.town_code = h.town_code", "id"),
        plans = rows_json::<plan::Entity>(b, "t.household_id = h.id", "year DESC"),
        items = rows_json::<plan_item::Entity>(
            b,
            "t.plan_id IN (SELECT p.id FROM help_plans p WHERE p.household_id = h.id)",
            "id"
        ),
        measures = rows_json::<measure::Entity>(b, "t.household_id = h.id", "delivered_on DESC"),
        logs = rows_json::<log::Entity>(b, "t.household_id = h.id", "visited_on DESC"),
        evidence = evidence_json(b),
    );
    values.insert(0, id.into());
    let Some(row) = Bundle::find_by_statement(db.stmt(&sql, values)).one(db.conn()).await? else { return Ok(None) };
    let h = row.household;
    let record = HouseholdRecord {
        members: parse("成员", &row.members_json)?,
        finances: parse("收支", &row.finances_json)?,
        history: parse("状态记录", &row.history_json)?,
        household: h.clone(),
    };
    let help = crate::help::store::assemble(
        &h,
        parse("帮扶责任人", &row.cadres_json)?,
        parse("帮扶计划", &row.plans_json)?,
        parse::<plan_item::Model>("帮扶计划项目", &row.items_json)?,
        parse("帮扶措施", &row.measures_json)?,
        parse("走访记录", &row.logs_json)?,
        parse::<EvidenceMeta>("附件", &row.evidence_json)?,
    );
    Ok(Some(Whole { record, help }))
}
