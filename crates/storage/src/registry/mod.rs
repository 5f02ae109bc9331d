//! The registry in the database: households, members, finances, status history; reads are
//! always scoped by region.

pub mod finance;
pub mod household;
pub mod member;
pub mod status_history;

use ducha_domain::access::Scope;
use ducha_domain::region::RegionLevel;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Value};
use serde::Serialize;

use crate::{Db, StorageError};

/// The household column that holds codes of a level.
fn scope_column(level: RegionLevel) -> household::Column {
    match level {
        RegionLevel::City | RegionLevel::District => household::Column::DistrictCode,
        RegionLevel::Town => household::Column::TownCode,
        RegionLevel::Village => household::Column::VillageCode,
    }
}

/// The condition that keeps a households query inside a scope.
pub fn scope_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        // A city holds the districts whose codes begin with its own.
        Scope::Region(code) if code.level() == RegionLevel::City => {
            Condition::all().add(household::Column::DistrictCode.starts_with(code.as_str()))
        }
        Scope::Region(code) => Condition::all().add(scope_column(code.level()).eq(code.as_str())),
    }
}

/// The same condition as SQL over `households AS h`, with its parameter from `$n`.
fn scope_sql(scope: &Scope, n: usize) -> (String, Vec<Value>) {
    match scope {
        Scope::All => ("1 = 1".into(), vec![]),
        Scope::Region(code) => {
            let col = match code.level() {
                RegionLevel::City | RegionLevel::District => "h.district_code",
                RegionLevel::Town => "h.town_code",
                RegionLevel::Village => "h.village_code",
            };
            if code.level() == RegionLevel::City {
                (format!("substr({col}, 1, 4) = ${n}"), vec![code.as_str().into()])
            } else {
                (format!("{col} = ${n}"), vec![code.as_str().into()])
            }
        }
    }
}

/// Households and members per district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DistrictCount {
    pub district_code: String,
    pub households: i64,
    pub members: i64,
}

pub async fn counts_by_district(db: &Db, scope: &Scope) -> Result<Vec<DistrictCount>, StorageError> {
    let (cond, values) = scope_sql(scope, 1);
    // COUNT is BIGINT on PostgreSQL and INTEGER on SQLite; both decode into i64.
    let sql = format!(
        "SELECT h.district_code AS district_code, COUNT(DISTINCT h.id) AS households, COUNT(m.id) AS members \
         FROM households h LEFT JOIN members m ON m.household_id = h.id \
         WHERE {cond} GROUP BY h.district_code ORDER BY h.district_code"
    );
    let rows = db.conn().query_all_raw(db.stmt(&sql, values)).await?;
    rows.into_iter()
        .map(|r| {
            Ok(DistrictCount {
                district_code: r.try_get("", "district_code")?,
                households: r.try_get("", "households")?,
                members: r.try_get("", "members")?,
            })
        })
        .collect()
}

/// Households per status (code) within a scope.
pub async fn counts_by_status(db: &Db, scope: &Scope) -> Result<Vec<(String, i64)>, StorageError> {
    let (cond, values) = scope_sql(scope, 1);
    let sql = format!(
        "SELECT h.status AS status, COUNT(*) AS n FROM households h WHERE {cond} GROUP BY h.status ORDER BY h.status"
    );
    let rows = db.conn().query_all_raw(db.stmt(&sql, values)).await?;
    rows.into_iter().map(|r| Ok((r.try_get("", "status")?, r.try_get("", "n")?))).collect()
}

/// One household with everything recorded about it.
#[derive(Debug, Clone)]
pub struct HouseholdRecord {
    pub household: household::Model,
    pub members: Vec<member::Model>,
    pub finances: Vec<finance::Model>,
    pub history: Vec<status_history::Model>,
}

/// A household by its number, if it lies in the scope (else None: no hint that it exists).
pub async fn household_by_number(
    db: &Db,
    scope: &Scope,
    number: &str,
) -> Result<Option<HouseholdRecord>, StorageError> {
    let c = db.conn();
    let Some(h) = household::Entity::find()
        .filter(household::Column::Number.eq(number.trim()))
        .filter(scope_condition(scope))
        .one(c)
        .await?
    else {
        return Ok(None);
    };
    let members = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(h.id))
        .order_by_asc(member::Column::Seq)
        .all(c)
        .await?;
    let finances = finance::Entity::find()
        .filter(finance::Column::HouseholdId.eq(h.id))
        .order_by_asc(finance::Column::Year)
        .all(c)
        .await?;
    let history = status_history::Entity::find()
        .filter(status_history::Column::HouseholdId.eq(h.id))
        .order_by_asc(status_history::Column::EffectiveOn)
        .order_by_asc(status_history::Column::Id)
        .all(c)
        .await?;
    Ok(Some(HouseholdRecord { household: h, members, finances, history }))
}

/// The first household numbers in a scope, in number order.
pub async fn household_numbers(db: &Db, scope: &Scope, limit: u64) -> Result<Vec<String>, StorageError> {
    use sea_orm::QuerySelect;
    Ok(household::Entity::find()
        .filter(scope_condition(scope))
        .order_by_asc(household::Column::Number)
        .limit(limit)
        .all(db.conn())
        .await?
        .into_iter()
        .map(|h| h.number)
        .collect())
}

/// Total households and members in a scope.
pub async fn totals(db: &Db, scope: &Scope) -> Result<(i64, i64), StorageError> {
    let rows = counts_by_district(db, scope).await?;
    Ok(rows.iter().fold((0, 0), |(h, m), r| (h + r.households, m + r.members)))
}

/// Whether the registry has any household at all.
pub async fn is_empty<C: ConnectionTrait>(c: &C) -> Result<bool, StorageError> {
    use sea_orm::PaginatorTrait;
    Ok(household::Entity::find().count(c).await? == 0)
}
