//! The audit trail: every change records who, when, from where, what entity, the action, and the
//! values before and after, in the same transaction as the change. Records are append-only and
//! chained: each carries the hash of the one before, so that `verify` finds the first record that
//! was altered or removed.
//!
//! Every audited write begins by locking the one `audit_head` row. That serialises appends to the
//! chain on both databases (and makes a SQLite write transaction take its write lock first, so
//! that it never fails on upgrading a read).

use chrono::{DateTime, SubsecRound, Utc};
use ducha_domain::access::Actor;
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait, Value};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Db, StorageError};

/// An open write transaction that appends to the audit chain.
pub struct AuditTxn<'a> {
    db: &'a Db,
    txn: DatabaseTransaction,
    actor: &'a Actor,
    last_id: i64,
    last_hash: String,
    at: DateTime<Utc>,
    /// Households whose facts this transaction changed: re-checked before it commits.
    changed: std::collections::BTreeSet<i64>,
}

/// A record to append: what changed and how; who, when and the chain are the transaction's.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    entity: String,
    entity_id: String,
    region_code: Option<String>,
    action: String,
    before: Option<String>,
    after: Option<String>,
}

impl AuditEntry {
    pub fn new<B: Serialize, A: Serialize>(
        entity: &str,
        entity_id: impl ToString,
        region_code: Option<&str>,
        action: &str,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Result<AuditEntry, StorageError> {
        let encode = |e: serde_json::Error| StorageError::Rejected(format!("审计记录无法编码：{e}"));
        Ok(AuditEntry {
            entity: entity.to_string(),
            entity_id: entity_id.to_string(),
            region_code: region_code.map(str::to_string),
            action: action.to_string(),
            before: before.map(serde_json::to_string).transpose().map_err(encode)?,
            after: after.map(serde_json::to_string).transpose().map_err(encode)?,
        })
    }
}

/// One record as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub actor_id: Option<i64>,
    pub origin: Option<String>,
    pub entity: String,
    pub entity_id: String,
    pub region_code: Option<String>,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

fn timestamp(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The hash of a record: SHA-256 over its fields, separated by a control character no field holds.
fn hash_of(r: &AuditRecord) -> String {
    let mut h = Sha256::new();
    for part in [
        r.id.to_string().as_str(),
        &timestamp(&r.at),
        &r.actor,
        &r.actor_id.map(|v| v.to_string()).unwrap_or_default(),
        r.origin.as_deref().unwrap_or(""),
        &r.entity,
        &r.entity_id,
        r.region_code.as_deref().unwrap_or(""),
        &r.action,
        r.before.as_deref().unwrap_or("\u{0}"),
        r.after.as_deref().unwrap_or("\u{0}"),
        &r.prev_hash,
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl<'a> AuditTxn<'a> {
    pub async fn begin(db: &'a Db, actor: &'a Actor) -> Result<AuditTxn<'a>, StorageError> {
        let txn = db.conn().begin().await?;
        let row = txn
            .query_one_raw(
                db.stmt("UPDATE audit_head SET last_id = last_id WHERE id = 1 RETURNING last_id, last_hash", vec![]),
            )
            .await?
            .ok_or_else(|| StorageError::Rejected("审计链头缺失：数据库未正确初始化".into()))?;
        Ok(AuditTxn {
            db,
            last_id: row.try_get("", "last_id")?,
            last_hash: row.try_get("", "last_hash")?,
            txn,
            actor,
            // Microseconds: what both databases keep, so the hash recomputes from what is read back.
            at: Utc::now().trunc_subsecs(6),
            changed: Default::default(),
        })
    }

    /// Mark a household as changed, so that its data-quality findings are brought up to date in
    /// this same transaction: a fix shows as fixed the moment it is saved.
    pub fn household_changed(&mut self, id: i64) {
        self.changed.insert(id);
    }

    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub fn actor(&self) -> &Actor {
        self.actor
    }

    pub fn db(&self) -> &Db {
        self.db
    }

    /// Append one record. `before`/`after` are the entity's values (None for create/delete).
    pub async fn record<B: Serialize, A: Serialize>(
        &mut self,
        entity: &str,
        entity_id: impl ToString,
        region_code: Option<&str>,
        action: &str,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Result<(), StorageError> {
        let entry = AuditEntry::new(entity, entity_id, region_code, action, before, after)?;
        self.record_many(vec![entry]).await
    }

    /// Append many records, chained in order, in as few statements as the databases allow
    /// (an import writes one per household).
    pub async fn record_many(&mut self, entries: Vec<AuditEntry>) -> Result<(), StorageError> {
        // 13 parameters a row: 500 rows stay under SQLite's 32,766.
        for chunk in entries.chunks(500) {
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 13);
            let mut tuples = Vec::with_capacity(chunk.len());
            for e in chunk {
                let mut rec = AuditRecord {
                    id: self.last_id + 1,
                    at: self.at,
                    actor: self.actor.username.clone(),
                    actor_id: self.actor.user_id,
                    origin: self.actor.origin.clone(),
                    entity: e.entity.clone(),
                    entity_id: e.entity_id.clone(),
                    region_code: e.region_code.clone(),
                    action: e.action.clone(),
                    before: e.before.clone(),
                    after: e.after.clone(),
                    prev_hash: self.last_hash.clone(),
                    hash: String::new(),
                };
                rec.hash = hash_of(&rec);
                let n = values.len();
                tuples.push(format!("({})", (1..=13).map(|k| format!("${}", n + k)).collect::<Vec<_>>().join(", ")));
                self.last_id = rec.id;
                self.last_hash = rec.hash.clone();
                values.extend([
                    rec.id.into(),
                    rec.at.into(),
                    rec.actor.into(),
                    rec.actor_id.into(),
                    rec.origin.into(),
                    rec.entity.into(),
                    rec.entity_id.into(),
                    rec.region_code.into(),
                    rec.action.into(),
                    rec.before.into(),
                    rec.after.into(),
                    rec.prev_hash.into(),
                    rec.hash.into(),
                ]);
            }
            if tuples.is_empty() {
                continue;
            }
            let sql = format!(
                "INSERT INTO audit_log (id, at, actor, actor_id, origin, entity, entity_id, region_code, action, before, after, prev_hash, hash) VALUES {}",
                tuples.join(", ")
            );
            self.txn.execute_raw(self.db.stmt(&sql, values)).await?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StorageError> {
        if !self.changed.is_empty() {
            let ids: Vec<i64> = self.changed.iter().copied().collect();
            crate::checks::recheck(&self, &ids).await?;
        }
        self.txn
            .execute_raw(self.db.stmt(
                "UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1",
                vec![self.last_id.into(), self.last_hash.clone().into()],
            ))
            .await?;
        self.txn.commit().await?;
        Ok(())
    }
}

fn from_row(r: &sea_orm::QueryResult) -> Result<AuditRecord, StorageError> {
    Ok(AuditRecord {
        id: r.try_get("", "id")?,
        at: r.try_get("", "at")?,
        actor: r.try_get("", "actor")?,
        actor_id: r.try_get("", "actor_id")?,
        origin: r.try_get("", "origin")?,
        entity: r.try_get("", "entity")?,
        entity_id: r.try_get("", "entity_id")?,
        region_code: r.try_get("", "region_code")?,
        action: r.try_get("", "action")?,
        before: r.try_get("", "before")?,
        after: r.try_get("", "after")?,
        prev_hash: r.try_get("", "prev_hash")?,
        hash: r.try_get("", "hash")?,
    })
}

const COLUMNS: &str =
    "id, at, actor, actor_id, origin, entity, entity_id, region_code, action, before, after, prev_hash, hash";

/// The records about one entity, newest first.
pub async fn for_entity(db: &Db, entity: &str, entity_id: &str, limit: u64) -> Result<Vec<AuditRecord>, StorageError> {
    let sql =
        format!("SELECT {COLUMNS} FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY id DESC LIMIT {limit}");
    let rows = db.conn().query_all_raw(db.stmt(&sql, vec![entity.into(), entity_id.into()])).await?;
    rows.iter().map(from_row).collect()
}

/// The records about a household: its own, its members', its yearly finances', its help records
/// and their evidence (not a campaign's files: see [`crate::evidence::for_household`]).
pub async fn for_household(db: &Db, household_id: i64, limit: u64) -> Result<Vec<AuditRecord>, StorageError> {
    let owned = |entity: &str, table: &str| {
        let own = if table == "evidence" { " AND owner_kind NOT LIKE 'campaign%'" } else { "" };
        format!(
            "(entity = '{entity}' AND entity_id IN (SELECT CAST(id AS VARCHAR(32)) FROM {table} WHERE household_id = $2{own}))"
        )
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_log WHERE (entity IN ('household', 'record_book') AND entity_id = $1) OR {} OR {} OR {} OR {} OR {} OR {} \
         ORDER BY id DESC LIMIT {limit}",
        owned("member", "members"),
        owned("household_finance", "household_finances"),
        owned("help_plan", "help_plans"),
        owned("help_measure", "help_measures"),
        owned("help_log", "help_logs"),
        owned("evidence", "evidence"),
    );
    let rows =
        db.conn().query_all_raw(db.stmt(&sql, vec![household_id.to_string().into(), household_id.into()])).await?;
    rows.iter().map(from_row).collect()
}

pub async fn count(db: &Db) -> Result<i64, StorageError> {
    let row = db.conn().query_one_raw(db.stmt("SELECT COUNT(*) AS n FROM audit_log", vec![])).await?;
    Ok(match row {
        Some(r) => r.try_get("", "n")?,
        None => 0,
    })
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub checked: i64,
    /// The first broken link: the record's id and what is wrong with it.
    pub broken: Option<(i64, String)>,
}

/// Walk the whole chain in order and report the first record that was altered or removed.
pub async fn verify(db: &Db) -> Result<VerifyReport, StorageError> {
    const PAGE: i64 = 5_000;
    let mut expected_id = 1;
    let mut prev_hash = crate::migration::m0002_accounts_audit::GENESIS_HASH.to_string();
    let mut checked = 0;
    loop {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE id >= $1 ORDER BY id LIMIT {PAGE}");
        let rows = db.conn().query_all_raw(db.stmt(&sql, vec![expected_id.into()])).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let r = from_row(row)?;
            if r.id != expected_id {
                return Ok(VerifyReport {
                    checked,
                    broken: Some((expected_id, format!("第 {expected_id} 条审计记录缺失（已被删除）"))),
                });
            }
            if r.prev_hash != prev_hash {
                return Ok(VerifyReport {
                    checked,
                    broken: Some((r.id, format!("第 {} 条审计记录的“前一条哈希”与第 {} 条不符", r.id, r.id - 1))),
                });
            }
            if hash_of(&r) != r.hash {
                return Ok(VerifyReport {
                    checked,
                    broken: Some((
                        r.id,
                        format!("第 {} 条审计记录的内容已被改动（{} {} {}）", r.id, r.entity, r.entity_id, r.action),
                    )),
                });
            }
            prev_hash = r.hash;
            expected_id += 1;
            checked += 1;
        }
    }
    // Records removed from the end leave the chain head pointing past them.
    let head =
        db.conn().query_one_raw(db.stmt("SELECT last_id, last_hash FROM audit_head WHERE id = 1", vec![])).await?;
    if let Some(h) = head {
        let last_id: i64 = h.try_get("", "last_id")?;
        let last_hash: String = h.try_get("", "last_hash")?;
        if last_id != checked || last_hash != prev_hash {
            let id = checked + 1;
            return Ok(VerifyReport {
                checked,
                broken: Some((id, format!("第 {id} 条及之后的审计记录缺失（已被删除）"))),
            });
        }
    }
    Ok(VerifyReport { checked, broken: None })
}
