//! The household list: filters (region, status, type, cause, a name, ID number or household
//! number) within the user's scope, keyset paging by id so that page 5,000 of a million
//! households costs what page 1 does.

use ducha_domain::access::Scope;
use ducha_domain::id_number::normalise;
use ducha_domain::labelled::Labelled;
use ducha_domain::region::RegionCode;
use ducha_domain::registry::{HouseholdStatus, HouseholdType, PovertyCause};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;

use super::scope_sql;
use crate::{Db, StorageError};

#[derive(Debug, Clone, Default)]
pub struct HouseholdFilter {
    pub region: Option<RegionCode>,
    pub status: Option<HouseholdStatus>,
    pub household_type: Option<HouseholdType>,
    pub cause: Option<PovertyCause>,
    /// A member's full name, an ID number, or a household number.
    pub q: Option<String>,
}

impl HouseholdFilter {
    /// The filter as said to a person ("区划 440781；状态 帮扶中"), "全部" for none; for the
    /// audit record of an export. A searched ID number is masked.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(r) = &self.region {
            parts.push(format!("区划 {}", r.as_str()));
        }
        if let Some(s) = self.status {
            parts.push(format!("状态 {}", s.label()));
        }
        if let Some(t) = self.household_type {
            parts.push(format!("属性 {}", t.label()));
        }
        if let Some(c) = self.cause {
            parts.push(format!("致贫原因 {}", c.label()));
        }
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let q =
                if SearchKind::of(q) == SearchKind::IdNumber { ducha_domain::privacy::mask_id(q) } else { q.into() };
            parts.push(format!("查询 {q}"));
        }
        if parts.is_empty() { "全部".into() } else { parts.join("；") }
    }
}

/// What a search text was taken to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    IdNumber,
    HouseholdNumber,
    Name,
}

impl SearchKind {
    pub fn of(q: &str) -> SearchKind {
        let n = normalise(q);
        // By bytes, not by cutting the text: a name of six Chinese characters is 18 bytes too.
        if n.len() == 18 && n.bytes().take(17).all(|b| b.is_ascii_digit()) {
            SearchKind::IdNumber
        } else if n.len() >= 6 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            SearchKind::HouseholdNumber
        } else {
            SearchKind::Name
        }
    }
}

/// One line of the list. The head's ID number is raw here; the web layer masks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
pub struct HouseholdRow {
    pub id: i64,
    pub number: String,
    pub village_code: String,
    pub household_type: String,
    pub main_cause: String,
    pub status: String,
    pub head_name: Option<String>,
    pub head_id_number: Option<crate::personal::Personal<crate::personal::IdNumber>>,
    pub size: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListPage {
    pub rows: Vec<HouseholdRow>,
    pub total: i64,
    /// Pass as `after` for the next page.
    pub next_after: Option<i64>,
    /// Pass as `before` for the previous page.
    pub prev_before: Option<i64>,
}

struct Sql {
    conds: Vec<String>,
    values: Vec<Value>,
}

impl Sql {
    fn push(&mut self, cond: impl FnOnce(usize) -> String, value: Value) {
        let n = self.values.len() + 1;
        self.conds.push(cond(n));
        self.values.push(value);
    }

    /// A condition over several values: `cond` gets their placeholders, comma-separated.
    fn push_in(&mut self, cond: impl FnOnce(&str) -> String, values: Vec<Value>) {
        let first = self.values.len() + 1;
        let list = (first..first + values.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
        self.conds.push(cond(&list));
        self.values.extend(values);
    }

    fn push_region(&mut self, (cond, values): (String, Vec<Value>)) {
        self.conds.push(cond);
        self.values.extend(values);
    }

    fn clause(&self) -> String {
        if self.conds.is_empty() { "1 = 1".into() } else { self.conds.join(" AND ") }
    }
}

/// The head: the member recorded as 户主, else the first member.
const HEAD: &str = "FROM members m WHERE m.household_id = h.id AND m.left_on IS NULL ORDER BY CASE WHEN m.relation = 'head' THEN 0 ELSE 1 END, m.seq LIMIT 1";

/// The WHERE clause (over `households AS h`) of a scope and a filter, with its values.
fn where_clause(db: &Db, scope: &Scope, filter: &HouseholdFilter) -> Result<Sql, StorageError> {
    let mut sql = Sql { conds: vec![], values: vec![] };
    let (scope_cond, scope_values) = scope_sql(scope, 1);
    sql.push_region((scope_cond, scope_values));
    if let Some(r) = &filter.region {
        // A filter outside the scope finds nothing (and says nothing about what is there).
        let n = sql.values.len() + 1;
        sql.push_region(scope_sql(&Scope::Region(r.clone()), n));
    }
    if let Some(s) = filter.status {
        sql.push(|n| format!("h.status = ${n}"), s.code().into());
    }
    if let Some(t) = filter.household_type {
        sql.push(|n| format!("h.household_type = ${n}"), t.code().into());
    }
    if let Some(c) = filter.cause {
        sql.push(
            |n| format!("(h.main_cause = ${n} OR h.other_cause_1 = ${n} OR h.other_cause_2 = ${n})"),
            c.code().into(),
        );
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        match SearchKind::of(q) {
            SearchKind::IdNumber => sql.push_in(
                |list| {
                    format!(
                        "h.id IN (SELECT household_id FROM members WHERE id_lookup IN ({list}) AND left_on IS NULL)"
                    )
                },
                db.id_lookups(&normalise(q))?.into_iter().map(Value::from).collect(),
            ),
            SearchKind::HouseholdNumber => sql.push(|n| format!("h.number = ${n}"), q.to_string().into()),
            SearchKind::Name => sql.push(
                |n| format!("h.id IN (SELECT household_id FROM members WHERE name = ${n} AND left_on IS NULL)"),
                q.to_string().into(),
            ),
        }
    }
    Ok(sql)
}

pub(crate) async fn list_households(
    db: &Db,
    scope: &Scope,
    filter: &HouseholdFilter,
    after: Option<i64>,
    before: Option<i64>,
    size: u64,
) -> Result<ListPage, StorageError> {
    let size = size.clamp(1, 200);
    let sql = where_clause(db, scope, filter)?;
    let base = sql.clause();
    #[derive(FromQueryResult)]
    struct Count {
        n: i64,
    }
    let count_row = Count::find_by_statement(
        db.stmt(&format!("SELECT COUNT(*) AS n FROM households h WHERE {base}"), sql.values.clone()),
    )
    .one(db.conn())
    .await?;
    let total: i64 = count_row.map(|r| r.n).unwrap_or(0);

    let (keyset, order) = match (after, before) {
        (_, Some(b)) => (format!(" AND h.id < {b}"), "DESC"),
        (Some(a), None) => (format!(" AND h.id > {a}"), "ASC"),
        (None, None) => (String::new(), "ASC"),
    };
    let select = format!(
        "SELECT h.id AS id, h.number AS number, h.village_code AS village_code, h.household_type AS household_type, \
         h.main_cause AS main_cause, h.status AS status, \
         (SELECT m.name {HEAD}) AS head_name, (SELECT m.id_number {HEAD}) AS head_id_number, \
         (SELECT COUNT(*) FROM members m WHERE m.household_id = h.id AND m.left_on IS NULL) AS size \
         FROM households h WHERE {base}{keyset} ORDER BY h.id {order} LIMIT {}",
        size + 1
    );
    let mut out = HouseholdRow::find_by_statement(db.stmt(&select, sql.values.clone())).all(db.conn()).await?;
    let more = out.len() as u64 > size;
    out.truncate(size as usize);
    if before.is_some() {
        out.reverse();
    }
    // Whether any row on the other side of the page matches: one indexed probe each.
    let exists = |cond: String| format!("SELECT h.id AS id FROM households h WHERE {base} AND {cond} LIMIT 1");
    let (first, last) = (out.first().map(|r| r.id), out.last().map(|r| r.id));
    let has_prev = match (before, first) {
        (Some(_), _) => more,
        (None, Some(f)) if after.is_some() => {
            db.conn().query_one_raw(db.stmt(&exists(format!("h.id < {f}")), sql.values.clone())).await?.is_some()
        }
        _ => false,
    };
    let has_next = match (before, last) {
        (None, _) => more,
        (Some(_), Some(l)) => {
            db.conn().query_one_raw(db.stmt(&exists(format!("h.id > {l}")), sql.values.clone())).await?.is_some()
        }
        _ => false,
    };
    Ok(ListPage {
        next_after: if has_next { last } else { None },
        prev_before: if has_prev { first } else { None },
        rows: out,
        total,
    })
}

/// The next `limit` households of a filtered list after id `after`, with their current members
/// in order: what an export writes, a batch at a time.
pub(crate) async fn export_batch(
    db: &Db,
    scope: &Scope,
    filter: &HouseholdFilter,
    after: i64,
    limit: u64,
) -> Result<Vec<(super::household::Model, Vec<super::member::Model>)>, StorageError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let sql = where_clause(db, scope, filter)?;
    let q = format!(
        "SELECT h.id AS id FROM households h WHERE {} AND h.id > {after} ORDER BY h.id LIMIT {limit}",
        sql.clause()
    );
    #[derive(FromQueryResult)]
    struct Id {
        id: i64,
    }
    let ids: Vec<i64> =
        Id::find_by_statement(db.stmt(&q, sql.values)).all(db.conn()).await?.into_iter().map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let households = super::household::Entity::find()
        .filter(super::household::Column::Id.is_in(ids.clone()))
        .order_by_asc(super::household::Column::Id)
        .all(db.conn())
        .await?;
    let mut members: std::collections::HashMap<i64, Vec<super::member::Model>> = Default::default();
    for m in super::member::Entity::find()
        .filter(super::member::Column::HouseholdId.is_in(ids))
        .filter(super::member::Column::LeftOn.is_null())
        .order_by_asc(super::member::Column::HouseholdId)
        .order_by_asc(super::member::Column::Seq)
        .all(db.conn())
        .await?
    {
        members.entry(m.household_id).or_default().push(m);
    }
    Ok(households
        .into_iter()
        .map(|h| {
            let ms = members.remove(&h.id).unwrap_or_default();
            (h, ms)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::SearchKind;

    #[test]
    fn a_search_is_told_apart_without_cutting_the_text() {
        // Six Chinese characters are 18 bytes, the length of an ID number.
        assert_eq!(SearchKind::of("欧阳娜娜娜娜"), SearchKind::Name);
        assert_eq!(SearchKind::of("123456789012345欧"), SearchKind::Name);
        assert_eq!(SearchKind::of("44070319800101123x"), SearchKind::IdNumber);
        assert_eq!(SearchKind::of("4407030010010001"), SearchKind::HouseholdNumber);
    }
}
