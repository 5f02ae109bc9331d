//! The audit trail: every change records who, when, from where, what entity, the action, and the
//! values before and after, in the same transaction as the change. Records are append-only and
//! chained: each carries the hash of the one before, so that `verify` finds the first record that
//! was altered or removed.
//!
//! Every audited write begins by locking the one `audit_head` row. That serialises appends to the
//! chain on both databases (and makes a SQLite write transaction take its write lock first, so
//! that it never fails on upgrading a read).
//!
//! A hash chain alone can be recomputed by whoever writes the database: [`anchor`] signs each
//! record with a key kept outside it and keeps the head in a witness file, and `verify` checks both.

pub mod anchor;

use chrono::{DateTime, SubsecRound, Utc};
use ducha_domain::access::Actor;
use ducha_vault::Suite;
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult, TransactionTrait, Value};
use serde::Serialize;

use crate::{Db, StorageError};

/// An open write transaction that appends to the audit chain.
pub struct AuditTxn<'a> {
    db: &'a Db,
    txn: DatabaseTransaction,
    actor: &'a Actor,
    last_id: i64,
    last_hash: String,
    /// The key that signs what this transaction appends (None: the chain is not signed yet).
    key: Option<anchor::AuditKey>,
    at: DateTime<Utc>,
    /// What this transaction changed that the data-quality rules read: re-checked after it
    /// commits (by the door, not here: the audit trail calls no business rules).
    touched: Touched,
}

/// What a write touched that the data-quality rules read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    /// Households whose facts changed.
    pub households: std::collections::BTreeSet<i64>,
    /// Towns and districts whose postings, offices, institutions, projects or spending changed.
    pub regions: std::collections::BTreeSet<String>,
}

impl Touched {
    pub fn is_empty(&self) -> bool {
        self.households.is_empty() && self.regions.is_empty()
    }
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
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
    /// HMAC of `hash` under the audit key; None for records from before the key existed.
    #[serde(skip)]
    pub mac: Option<String>,
}

impl AuditRecord {
    /// The record as a person reads it: personal values in its diff opened (the stored record,
    /// and its hash, keep the ciphertext).
    fn opened(mut self) -> Result<AuditRecord, StorageError> {
        self.before = crate::personal::open_diff(self.before.take())?;
        self.after = crate::personal::open_diff(self.after.take())?;
        Ok(self)
    }
}

fn timestamp(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The key to sign with, given the fingerprint the head row holds: nothing is appended unsigned
/// to a signed chain, nor signed with a key the database does not know.
fn signing_key(db: &Db, registered: Option<&str>) -> Result<Option<anchor::AuditKey>, StorageError> {
    match (registered, db.anchor()) {
        (None, None) => Ok(None),
        (Some(id), Some(a)) if a.key.id() == id => Ok(Some(a.key.clone())),
        (Some(_), None) => Err(StorageError::Rejected(
            "审计链已用密钥签名，本进程没有载入审计密钥，不能写入：请用 --audit-key 指定与其他 ducha 进程相同的密钥文件".into(),
        )),
        (Some(_), Some(a)) => Err(StorageError::Rejected(format!(
            "审计密钥文件 {} 与数据库登记的密钥不符，不能写入",
            a.key_path.display()
        ))),
        (None, Some(a)) => Err(StorageError::Rejected(format!(
            "数据库没有登记审计密钥文件 {} 的密钥（连错了数据库，或审计链头被改动），不能写入；请运行 ducha audit-log verify",
            a.key_path.display()
        ))),
    }
}

/// How an SM3 chain hash begins; a SHA-256 one is bare hex, as every hash was before the suites.
const SM3: &str = "sm3:";

/// The suite a chain hash was made with (its MAC under the audit key uses the same suite).
pub(crate) fn chain_suite(hash: &str) -> Suite {
    if hash.starts_with(SM3) { Suite::Sm } else { Suite::Intl }
}

/// The hash of a record: the suite's hash (SHA-256, or SM3 under the national suite) over its
/// fields, separated by a control character no field holds.
fn hash_of(r: &AuditRecord, suite: Suite) -> String {
    let mut bytes = Vec::with_capacity(256);
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
        bytes.extend_from_slice(part.as_bytes());
        bytes.push(0x1f);
    }
    let digest = crate::crypto::hex(&suite.hash(&bytes));
    match suite {
        Suite::Intl => digest,
        Suite::Sm => format!("{SM3}{digest}"),
    }
}

/// A record's chain hash, as `verify` recomputes it (with the suite its stored hash names):
/// anyone can recompute it; the MAC under the audit key is what they cannot.
pub fn record_hash(r: &AuditRecord) -> String {
    hash_of(r, chain_suite(&r.hash))
}

impl<'a> AuditTxn<'a> {
    pub(crate) async fn begin(db: &'a Db, actor: &'a Actor) -> Result<AuditTxn<'a>, StorageError> {
        let txn = db.conn().begin().await?;
        #[derive(FromQueryResult)]
        struct Head {
            last_id: i64,
            last_hash: String,
            key_id: Option<String>,
        }
        let row =
            Head::find_by_statement(db.stmt(
                "UPDATE audit_head SET last_id = last_id WHERE id = 1 RETURNING last_id, last_hash, key_id",
                vec![],
            ))
            .one(&txn)
            .await?
            .ok_or_else(|| StorageError::Corrupt("审计链头缺失：数据库未正确初始化".into()))?;
        Ok(AuditTxn {
            db,
            last_id: row.last_id,
            last_hash: row.last_hash,
            key: signing_key(db, row.key_id.as_deref())?,
            txn,
            actor,
            // Microseconds: what both databases keep, so the hash recomputes from what is read back.
            at: Utc::now().trunc_subsecs(6),
            touched: Default::default(),
        })
    }

    /// Mark a household as changed, so that its data-quality findings are brought up to date
    /// once the write commits: a fix shows as fixed by the time its page answers.
    pub fn household_changed(&mut self, id: i64) {
        self.touched.households.insert(id);
    }

    /// Mark a town or district whose platform or funds records changed (a town's or district's
    /// code; a village's is taken as its town's).
    pub fn region_changed(&mut self, code: &str) {
        let code = if code.len() > 9 { &code[..9] } else { code };
        self.touched.regions.insert(code.to_string());
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
        let keys = self.db.keys().ok();
        // The chain is hashed with the suite personal data is sealed with (SM3 under "sm").
        let suite = keys.as_ref().map(|k| k.suite()).unwrap_or(Suite::Intl);
        // 14 parameters a row: 500 rows stay under SQLite's 32,766.
        for chunk in entries.chunks(500) {
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 14);
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
                    before: crate::personal::seal_diff(keys.as_deref(), e.before.clone())?,
                    after: crate::personal::seal_diff(keys.as_deref(), e.after.clone())?,
                    prev_hash: self.last_hash.clone(),
                    hash: String::new(),
                    mac: None,
                };
                rec.hash = hash_of(&rec, suite);
                rec.mac = self.key.as_ref().map(|k| k.sign(&rec.hash));
                let n = values.len();
                tuples.push(format!("({})", (1..=14).map(|k| format!("${}", n + k)).collect::<Vec<_>>().join(", ")));
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
                    rec.mac.into(),
                ]);
            }
            if tuples.is_empty() {
                continue;
            }
            let sql = format!(
                "INSERT INTO audit_log (id, at, actor, actor_id, origin, entity, entity_id, region_code, action, before, after, prev_hash, hash, mac) VALUES {}",
                tuples.join(", ")
            );
            self.txn.execute_raw(self.db.stmt(&sql, values)).await?;
        }
        Ok(())
    }

    /// Move the chain's head and commit; what the write touched is handed back for the re-check.
    pub async fn commit(self) -> Result<Touched, StorageError> {
        self.txn
            .execute_raw(self.db.stmt(
                "UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1",
                vec![self.last_id.into(), self.last_hash.clone().into()],
            ))
            .await?;
        // An import's data and its job's end are one commit (see `import_jobs::run_as`).
        if let Some(job) = crate::import_jobs::running_job() {
            self.txn
                .execute_raw(self.db.stmt(
                    "UPDATE import_jobs SET status = 'done', finished_at = $1 WHERE id = $2 AND status = 'running'",
                    vec![Utc::now().into(), job.into()],
                ))
                .await?;
        }
        self.txn.commit().await?;
        Ok(self.touched)
    }
}

const COLUMNS: &str =
    "id, at, actor, actor_id, origin, entity, entity_id, region_code, action, before, after, prev_hash, hash, mac";

/// The records from id `from` on, oldest first, at most `limit`.
pub(crate) async fn range(db: &Db, from: i64, limit: u64) -> Result<Vec<AuditRecord>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE id >= $1 ORDER BY id LIMIT {limit}");
    Ok(AuditRecord::find_by_statement(db.stmt(&sql, vec![from.into()])).all(db.conn()).await?)
}

/// The records about one entity, newest first.
pub(crate) async fn for_entity(
    db: &Db,
    entity: &str,
    entity_id: &str,
    limit: u64,
) -> Result<Vec<AuditRecord>, StorageError> {
    let sql =
        format!("SELECT {COLUMNS} FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY id DESC LIMIT {limit}");
    AuditRecord::find_by_statement(db.stmt(&sql, vec![entity.into(), entity_id.into()]))
        .all(db.conn())
        .await?
        .into_iter()
        .map(AuditRecord::opened)
        .collect()
}

/// The records about a household: its own, its members', its yearly finances', its help records
/// and their evidence (not a campaign's files: see [`crate::evidence::for_household`]).
pub(crate) async fn for_household(db: &Db, household_id: i64, limit: u64) -> Result<Vec<AuditRecord>, StorageError> {
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
    AuditRecord::find_by_statement(db.stmt(&sql, vec![household_id.to_string().into(), household_id.into()]))
        .all(db.conn())
        .await?
        .into_iter()
        .map(AuditRecord::opened)
        .collect()
}

pub(crate) async fn count(db: &Db) -> Result<i64, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        n: i64,
    }
    let row = Row::find_by_statement(db.stmt("SELECT COUNT(*) AS n FROM audit_log", vec![])).one(db.conn()).await?;
    Ok(match row {
        Some(r) => r.n,
        None => 0,
    })
}

/// For monitoring: the audit chain's length (its head, no count over the table) and how many
/// data-quality runs are stored.
pub(crate) async fn figures(db: &Db) -> Result<(i64, i64), StorageError> {
    let sql = "SELECT (SELECT last_id FROM audit_head WHERE id = 1) AS records, \
               (SELECT COUNT(*) FROM check_runs) AS runs";
    #[derive(FromQueryResult)]
    struct Row {
        records: Option<i64>,
        runs: i64,
    }
    let row = Row::find_by_statement(db.stmt(sql, vec![])).one(db.conn()).await?;
    Ok(match row {
        Some(r) => (r.records.unwrap_or(0), r.runs),
        None => (0, 0),
    })
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub checked: i64,
    /// The first broken link: the record's id and what is wrong with it (id 0: the witness file
    /// itself is wrong).
    pub broken: Option<(i64, String)>,
    /// The first record signed with the audit key (None: no key loaded, hashes only).
    pub keyed_from: Option<i64>,
    /// The newest head the witness file holds, and when it was written (None: no witness yet).
    pub witnessed: Option<(i64, DateTime<Utc>)>,
}

/// Walk the whole chain in order and report the first record that was altered or removed: each
/// record's link and hash; from the key's first record on, its MAC under the audit key (so a
/// chain recomputed without the key fails); every head in the witness file still in the chain
/// (so records cut from the end fail, down to the last witnessed one).
///
/// A chain whose head row says it is signed cannot be verified without the key: that is an
/// error, not a clean report.
pub(crate) async fn verify(db: &Db) -> Result<VerifyReport, StorageError> {
    const PAGE: i64 = 5_000;
    let anchor = db.anchor();
    let key = anchor.map(|a| &a.key);
    let mut report = VerifyReport { checked: 0, broken: None, keyed_from: key.map(|k| k.from()), witnessed: None };
    // The witness file's heads by record id; read before the head row, so that it holds no head
    // newer than the one the walk stops at.
    let mut witnessed: std::collections::BTreeMap<i64, anchor::WitnessLine> = Default::default();
    if let Some(a) = anchor {
        match anchor::read_witness(a)? {
            Ok(lines) => {
                for l in lines {
                    if let Some(seen) = witnessed.get(&l.id)
                        && seen.hash != l.hash
                    {
                        report.broken = Some((l.id, format!("审计见证文件中第 {} 条记录的两次见证哈希不同", l.id)));
                        return Ok(report);
                    }
                    witnessed.entry(l.id).or_insert(l);
                }
            }
            Err(why) => {
                report.broken = Some((0, why));
                return Ok(report);
            }
        }
        report.witnessed = witnessed.last_key_value().map(|(id, l)| (*id, l.at));
    }
    // The walk stops at the head as it is now: records appended meanwhile are for the next run.
    let state = anchor::head(db).await?;
    if anchor.is_none()
        && let Some(from) = state.keyed_from
    {
        return Err(StorageError::Rejected(format!(
            "审计链自第 {from} 条记录起由审计密钥签名，没有载入密钥文件就无法校验"
        )));
    }
    let genesis = crate::migration::m0002_accounts_audit::GENESIS_HASH;
    if let Some(w) = witnessed.get(&0)
        && w.hash != genesis
    {
        report.broken = Some((0, "审计见证文件记载的空审计链哈希不正确".into()));
        return Ok(report);
    }
    let mut expected_id = 1;
    let mut prev_hash = genesis.to_string();
    let broken = |report: &mut VerifyReport, id: i64, why: String| {
        report.broken = Some((id, why));
    };
    loop {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE id >= $1 AND id <= $2 ORDER BY id LIMIT {PAGE}");
        let rows = AuditRecord::find_by_statement(db.stmt(&sql, vec![expected_id.into(), state.last_id.into()]))
            .all(db.conn())
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            if r.id != expected_id {
                broken(&mut report, expected_id, format!("第 {expected_id} 条审计记录缺失（已被删除）"));
                return Ok(report);
            }
            if r.prev_hash != prev_hash {
                let why = format!("第 {} 条审计记录的“前一条哈希”与第 {} 条不符", r.id, r.id - 1);
                broken(&mut report, r.id, why);
                return Ok(report);
            }
            if record_hash(&r) != r.hash {
                let why = format!("第 {} 条审计记录的内容已被改动（{} {} {}）", r.id, r.entity, r.entity_id, r.action);
                broken(&mut report, r.id, why);
                return Ok(report);
            }
            if let Some(k) = key
                && r.id >= k.from()
            {
                let signed =
                    r.mac.as_deref().is_some_and(|m| crate::crypto::same(m.as_bytes(), k.sign(&r.hash).as_bytes()));
                if !signed {
                    let why = if r.mac.is_none() {
                        format!(
                            "第 {} 条审计记录没有签名（自第 {} 条起每条都应由审计密钥签名）：记录被改写或整条链被重算",
                            r.id,
                            k.from()
                        )
                    } else {
                        format!("第 {} 条审计记录的签名不符：记录被改动，或审计链被不持有密钥者重算", r.id)
                    };
                    broken(&mut report, r.id, why);
                    return Ok(report);
                }
            }
            if let Some(w) = witnessed.get(&r.id)
                && w.hash != r.hash
            {
                let why = format!(
                    "第 {} 条审计记录与见证不符：{} 见证时它的哈希是 {}",
                    r.id,
                    w.at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S"),
                    w.hash
                );
                broken(&mut report, r.id, why);
                return Ok(report);
            }
            prev_hash = r.hash;
            expected_id += 1;
            report.checked += 1;
        }
    }
    let next = report.checked + 1;
    // The key was made when the chain had `from - 1` records: fewer now means some were removed.
    if let Some(k) = key
        && report.checked < k.from() - 1
    {
        let why = format!(
            "第 {next} 条及之后的审计记录缺失：启用审计密钥时审计链已有 {} 条，现在只有 {} 条",
            k.from() - 1,
            report.checked
        );
        broken(&mut report, next, why);
        return Ok(report);
    }
    if let Some((id, w)) = witnessed.last_key_value()
        && *id > report.checked
    {
        let why = format!(
            "第 {next} 条及之后的审计记录缺失（已被删除）：{} 见证时审计链已到第 {id} 条",
            w.at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")
        );
        broken(&mut report, next, why);
        return Ok(report);
    }
    // Records removed from the end leave the chain head pointing past them.
    if state.last_id != report.checked || state.last_hash != prev_hash {
        broken(&mut report, next, format!("第 {next} 条及之后的审计记录缺失（已被删除）"));
        return Ok(report);
    }
    // Records beyond the head: the head row was moved back. (The newest id is read before the
    // head, so a write committed in between only moves the head further.)
    #[derive(FromQueryResult)]
    struct Max {
        m: Option<i64>,
    }
    let max: Option<i64> = Max::find_by_statement(db.stmt("SELECT MAX(id) AS m FROM audit_log", vec![]))
        .one(db.conn())
        .await?
        .and_then(|r| r.m);
    let now = anchor::head(db).await?;
    if max.is_some_and(|m| m > now.last_id) {
        let why = format!("审计链头停在第 {} 条，而其后还有记录：链头被改动", now.last_id);
        broken(&mut report, now.last_id + 1, why);
    }
    Ok(report)
}

/// The audit trail as one actor may read it: a household's records only when the household lies
/// in their scope; the whole chain (its length, a range, an entity's records, the walk that
/// verifies it) only for a user over everything (the command line, an administrator, ducha itself).
pub struct Audit<'a>(&'a crate::Scoped);

impl crate::Scoped {
    pub fn audit(&self) -> Audit<'_> {
        Audit(self)
    }
}

impl Audit<'_> {
    /// The records about a household in scope, newest first (None: not in scope, or no such household).
    pub async fn for_household(&self, household_id: i64, limit: u64) -> Result<Option<Vec<AuditRecord>>, StorageError> {
        let db = self.0.db();
        if crate::registry::in_scope(db, self.0.scope(), &[household_id]).await?.is_empty() {
            return Ok(None);
        }
        for_household(db, household_id, limit).await.map(Some)
    }

    fn whole(&self) -> Result<&Db, StorageError> {
        match self.0.scope() {
            ducha_domain::access::Scope::All => Ok(self.0.db()),
            ducha_domain::access::Scope::Region(_) => {
                Err(StorageError::Forbidden("只有管理全部数据的用户才能查看整条审计链".into()))
            }
        }
    }

    /// The records about one entity, newest first.
    pub async fn for_entity(
        &self,
        entity: &str,
        entity_id: &str,
        limit: u64,
    ) -> Result<Vec<AuditRecord>, StorageError> {
        for_entity(self.whole()?, entity, entity_id, limit).await
    }

    /// The records from id `from` on, oldest first, at most `limit`.
    pub async fn range(&self, from: i64, limit: u64) -> Result<Vec<AuditRecord>, StorageError> {
        range(self.whole()?, from, limit).await
    }

    /// How many records the chain holds.
    pub async fn count(&self) -> Result<i64, StorageError> {
        count(self.whole()?).await
    }

    /// For monitoring: the chain's length and the number of stored data-quality runs.
    pub async fn figures(&self) -> Result<(i64, i64), StorageError> {
        figures(self.whole()?).await
    }

    /// Walk the whole chain (see [`verify`]).
    pub async fn verify(&self) -> Result<VerifyReport, StorageError> {
        verify(self.whole()?).await
    }
}
