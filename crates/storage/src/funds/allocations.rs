//! Funds allocated (下达) from a source to a district or a town for a year, and part of a
//! district's allocation passed down (下拨) to one of its towns.

use chrono::NaiveDate;
use ducha_domain::access::{Actor, Scope};
use ducha_domain::funds::{Allocation, FundSource};
use ducha_domain::labelled::Labelled;
use ducha_domain::money::Money;
use ducha_domain::region::RegionLevel;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;

use super::touched;
use crate::audit::AuditTxn;
use crate::campaigns::IdRow;
use crate::registry::write::field_error;
use crate::stored::Code;
use crate::{Db, StorageError};

/// Allocate a year's funds from a source to a district or town (city or district office, in scope).
async fn allocate(db: &Db, actor: &Actor, a: &Allocation, today: NaiveDate) -> Result<i64, StorageError> {
    let region_code = a.region_code.as_str();
    if !actor.scope.contains(region_code) {
        return Err(field_error("region_code", format!("区划 {region_code} 不在您的辖区内，不能下达资金")));
    }
    if !actor.role.manages_platform() {
        return Err(StorageError::Forbidden("资金由市扶贫办或市(区)扶贫办下达".into()));
    }
    if let Some((field, why)) = a.refusal(today) {
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
pub(super) async fn insert_allocation(
    tx: &mut AuditTxn<'_>,
    a: &Allocation,
    from: Option<i64>,
) -> Result<i64, StorageError> {
    let id = IdRow::find_by_statement(tx.db().stmt(
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
        .one(tx.conn())
        .await?
        .ok_or_else(|| StorageError::Corrupt("资金下达未能写入".into()))?
        .id;
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

pub(super) const ALLOCATION: &str = "SELECT a.id AS id, a.year AS year, a.source AS source, a.region_code AS region_code, \
    a.amount_fen AS amount_fen, a.allocated_on AS allocated_on, a.arrived_on AS arrived_on, a.parent_id AS parent_id, \
    (SELECT CAST(COALESCE(SUM(c.amount_fen), 0) AS BIGINT) FROM fund_allocations c WHERE c.parent_id = a.id) AS passed \
    FROM fund_allocations a";

/// A row of [`ALLOCATION`] as stored.
#[derive(FromQueryResult)]
pub(super) struct AllocationRecord {
    id: i64,
    year: i32,
    source: Code<FundSource>,
    region_code: String,
    amount_fen: i64,
    allocated_on: NaiveDate,
    arrived_on: Option<NaiveDate>,
    parent_id: Option<i64>,
    passed: i64,
}

pub(super) fn allocation_of(r: AllocationRecord, tree: &ducha_domain::RegionTree) -> AllocationRow {
    AllocationRow {
        id: r.id,
        region_name: tree.path(&r.region_code).unwrap_or_else(|| r.region_code.clone()),
        allocation: Allocation {
            year: r.year,
            source: r.source.0,
            region_code: r.region_code,
            amount: Money::from_fen(r.amount_fen),
            allocated_on: r.allocated_on,
            arrived_on: r.arrived_on,
        },
        parent_id: r.parent_id,
        passed_down: Money::from_fen(r.passed),
    }
}

/// The check year's allocations within a scope, districts' first, each followed by what was
/// passed down from it.
async fn allocations(db: &Db, scope: &Scope, today: NaiveDate) -> Result<Vec<AllocationRow>, StorageError> {
    let (year, _) = crate::settings::check_period(db, db.conn(), today).await?;
    let tree = crate::regions::tree(db).await?;
    let sql = format!("{ALLOCATION} WHERE a.year = $1 ORDER BY a.region_code, a.allocated_on, a.id");
    let all: Vec<AllocationRow> = AllocationRecord::find_by_statement(db.stmt(&sql, vec![year.into()]))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|r| allocation_of(r, &tree))
        .collect();
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
    let row = AllocationRecord::find_by_statement(db.stmt(&format!("{ALLOCATION} WHERE a.id = $1"), vec![id.into()]))
        .one(c)
        .await?
        .ok_or(StorageError::NotFound)?;
    let a = allocation_of(row, &tree);
    if scope.contains(&a.allocation.region_code) { Ok(a) } else { Err(StorageError::NotFound) }
}

/// One allocation within a scope; `None` outside it.
async fn allocation(db: &Db, scope: &Scope, id: i64) -> Result<Option<AllocationRow>, StorageError> {
    match allocation_in(db, db.conn(), scope, id).await {
        Ok(a) => Ok(Some(a)),
        Err(StorageError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Pass part of a district's allocation down to one of its towns (下拨), by the district (or
/// city) office: a town allocation of the same year and source, arrived the day it is passed,
/// that the district's totals do not count twice.
async fn transfer(
    db: &Db,
    actor: &Actor,
    parent_id: i64,
    town_code: &str,
    amount: Money,
    on: NaiveDate,
    today: NaiveDate,
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

/// Allocations as one actor sees them (`s.funds().allocations()`).
pub struct Allocations<'a>(pub(crate) &'a crate::Scoped);

impl Allocations<'_> {
    /// The check year's allocations within the scope, districts' first, each followed by what
    /// was passed down from it.
    pub async fn list(&self) -> Result<Vec<AllocationRow>, StorageError> {
        allocations(self.0.db(), self.0.scope(), self.0.today()).await
    }

    /// One allocation within the scope; `None` outside it.
    pub async fn get(&self, id: i64) -> Result<Option<AllocationRow>, StorageError> {
        allocation(self.0.db(), self.0.scope(), id).await
    }

    /// Ok if the allocation lies in the scope, else not found (a guard before a form is read).
    pub async fn in_scope(&self, id: i64) -> Result<(), StorageError> {
        allocation_in(self.0.db(), self.0.db().conn(), self.0.scope(), id).await.map(drop)
    }

    /// Allocate a year's funds from a source to a district or town (city or district office,
    /// in scope).
    pub async fn allocate(&self, a: &Allocation) -> Result<i64, StorageError> {
        allocate(self.0.db(), self.0.actor(), a, self.0.today()).await
    }

    /// Pass part of a district's allocation in scope down to one of its towns on `on` (下拨), by
    /// the district (or city) office; not found outside the scope.
    pub async fn transfer(
        &self,
        parent_id: i64,
        town_code: &str,
        amount: Money,
        on: NaiveDate,
    ) -> Result<i64, StorageError> {
        transfer(self.0.db(), self.0.actor(), parent_id, town_code, amount, on, self.0.today()).await
    }
}
