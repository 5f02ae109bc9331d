//! The data keys of a database (issue 22): made at the first write, stored wrapped under the
//! master key (a file beside the database, owner-only, or `DUCHA_MASTER_KEY`), never in clear.
//! The database alone opens nothing; the master key alone opens nothing either (the wrapped keys
//! and the ciphertext are in the database).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::Utc;
pub use ducha_vault::Suite;
use ducha_vault::{DataKey, Keys, MasterKey, Purpose};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;

use crate::{Db, StorageError};

/// What [`open`] found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterStatus {
    /// A master key was made and written to this file: it must be backed up apart from the data.
    Created(PathBuf),
    /// The database's data keys were opened.
    Loaded,
    /// The database has no data keys yet and nothing was written (a reading command).
    None,
}

#[derive(FromQueryResult)]
struct Row {
    id: i64,
    suite: String,
    purpose: String,
    wrapped: String,
    retired_at: Option<chrono::DateTime<Utc>>,
}

fn fault(e: ducha_vault::Error) -> StorageError {
    StorageError::Rejected(e.to_string())
}

/// The master key: `DUCHA_MASTER_KEY` (64 hex characters) if set, else the file at `path`.
fn master(path: &Path) -> Result<Option<MasterKey>, StorageError> {
    if let Ok(v) = std::env::var("DUCHA_MASTER_KEY")
        && !v.trim().is_empty()
    {
        return MasterKey::from_env_value(&v).map(Some).map_err(fault);
    }
    match MasterKey::from_file(path) {
        Ok(k) => Ok(Some(k)),
        Err(ducha_vault::Error::KeyFileIo { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(fault(e)),
    }
}

/// The suite new keys are made with: `DUCHA_CRYPTO` ("intl", the default, or "sm").
fn suite() -> Result<Suite, StorageError> {
    match std::env::var("DUCHA_CRYPTO") {
        Ok(v) if !v.trim().is_empty() => v.parse().map_err(fault),
        _ => Ok(Suite::Intl),
    }
}

async fn rows(db: &Db) -> Result<Vec<Row>, StorageError> {
    Ok(Row::find_by_statement(db.stmt(
        "SELECT id, suite, purpose, wrapped, retired_at FROM data_keys ORDER BY created_at DESC, id DESC",
        vec![],
    ))
    .all(db.conn())
    .await?)
}

/// A random key id: random, not counted, so that the databases one process opens (the tests'
/// dozens) never share an id in the process-wide table of openers.
fn fresh_id() -> Result<u32, StorageError> {
    loop {
        let b = crate::crypto::random_bytes::<4>()?;
        let id = u32::from_be_bytes(b) & 0x7fff_ffff;
        if id != 0 {
            return Ok(id);
        }
    }
}

/// The unwrapped keys of one database and the master key that unwrapped them, shared by every
/// clone of its `Db`: a rotation made by another process is read from the key table again
/// ([`reload`]) without a restart.
#[derive(Clone, Default)]
pub(crate) struct KeyCell(Arc<RwLock<Option<Loaded>>>);

struct Loaded {
    keys: Arc<Keys>,
    master: Arc<MasterKey>,
    /// The key table as it was loaded (ids and which are retired): a change means a reload.
    stamp: String,
}

impl std::fmt::Debug for KeyCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCell(…)")
    }
}

impl KeyCell {
    pub(crate) fn keys(&self) -> Option<Arc<Keys>> {
        self.0.read().ok()?.as_ref().map(|l| l.keys.clone())
    }

    fn master(&self) -> Option<Arc<MasterKey>> {
        self.0.read().ok()?.as_ref().map(|l| l.master.clone())
    }

    fn stamp(&self) -> Option<String> {
        self.0.read().ok()?.as_ref().map(|l| l.stamp.clone())
    }

    fn set(&self, loaded: Loaded) {
        if let Ok(mut cell) = self.0.write() {
            *cell = Some(loaded);
        }
    }
}

fn stamp(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| format!("{}{}", r.id, if r.retired_at.is_some() { "r" } else { "" }))
        .collect::<Vec<_>>()
        .join(",")
}

/// Unwrap the stored keys: the current field and lookup keys, and every retired one (old field
/// keys open what was sealed under them, audit records included; old lookup keys find what a
/// rotation under way has not re-indexed yet).
fn unwrap_all(master: &Arc<MasterKey>, stored: &[Row], path: &Path) -> Result<Loaded, StorageError> {
    let mut field: Option<DataKey> = None;
    let mut lookup: Option<DataKey> = None;
    let mut retired = Vec::new();
    for r in stored {
        let id = u32::try_from(r.id).map_err(|_| StorageError::Corrupt(format!("数据密钥编号 {} 超出范围", r.id)))?;
        let suite: Suite = r.suite.parse().map_err(|e: ducha_vault::Error| StorageError::Corrupt(e.to_string()))?;
        let purpose = match r.purpose.as_str() {
            "field" => Purpose::Field,
            "lookup" => Purpose::Lookup,
            other => return Err(StorageError::Corrupt(format!("数据密钥 {id} 的用途“{other}”无法识别"))),
        };
        let k = master.unwrap(id, suite, purpose, &r.wrapped).map_err(|_| {
            StorageError::Rejected(format!(
                "主密钥 {} 打不开本数据库的数据密钥：可能放错了文件，或连错了数据库",
                path.display()
            ))
        })?;
        match (purpose, r.retired_at.is_none()) {
            (Purpose::Field, true) if field.is_none() => field = Some(k),
            (Purpose::Lookup, true) if lookup.is_none() => lookup = Some(k),
            _ => retired.push(k),
        }
    }
    let (Some(field), Some(lookup)) = (field, lookup) else {
        return Err(StorageError::Corrupt("数据密钥不全：缺少现行的字段密钥或查询密钥".into()));
    };
    let mut ids = vec![field.id(), lookup.id()];
    let mut keys = Keys::new(field, lookup).map_err(fault)?;
    for k in retired {
        ids.push(k.id());
        keys = keys.with_retired(k).map_err(fault)?;
    }
    let keys = Arc::new(keys);
    crate::personal::register(&ids, &keys);
    Ok(Loaded { keys, master: master.clone(), stamp: stamp(stored) })
}

/// Insert fresh field and lookup keys of `suite`, wrapped under `master`, in `tx`.
async fn add_keys(
    db: &Db,
    tx: &crate::audit::AuditTxn<'_>,
    master: &MasterKey,
    suite: Suite,
) -> Result<(u32, u32), StorageError> {
    let field = DataKey::generate(fresh_id()?, suite, Purpose::Field).map_err(fault)?;
    let lookup = DataKey::generate(fresh_id()?, suite, Purpose::Lookup).map_err(fault)?;
    if field.id() == lookup.id() {
        return Err(StorageError::Rejected("随机密钥编号重复，请重试".into()));
    }
    for k in [&field, &lookup] {
        let wrapped = master.wrap(k).map_err(fault)?;
        sea_orm::ConnectionTrait::execute_raw(
            tx.conn(),
            db.stmt(
                "INSERT INTO data_keys (id, suite, purpose, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)",
                vec![
                    i64::from(k.id()).into(),
                    k.suite().name().into(),
                    k.purpose().name().into(),
                    wrapped.into(),
                    Utc::now().into(),
                ],
            ),
        )
        .await?;
    }
    Ok((field.id(), lookup.id()))
}

/// Open the database's data keys with the master key at `path` (or `DUCHA_MASTER_KEY`). With
/// `write`, a database without data keys gets them, and, when there is no master key either,
/// one is made and written to `path` (readable by its owner only). A database whose values are
/// sealed cannot be opened without its master key.
pub async fn open(db: Db, path: &Path, write: bool) -> Result<(Db, MasterStatus), StorageError> {
    open_with(db, path, write, None).await
}

/// [`open`], with the suite a database without keys gets (else `DUCHA_CRYPTO`, else "intl").
pub async fn open_with(
    db: Db,
    path: &Path,
    write: bool,
    suite_for_new: Option<Suite>,
) -> Result<(Db, MasterStatus), StorageError> {
    let mut stored = rows(&db).await?;
    let key = master(path)?.map(Arc::new);
    let mut created = false;
    if stored.is_empty() {
        if !write {
            return Ok((db, MasterStatus::None));
        }
        let key = match key.clone() {
            Some(k) => k,
            None => {
                let k = MasterKey::generate().map_err(fault)?;
                k.write_new(path).map_err(fault)?;
                created = true;
                Arc::new(k)
            }
        };
        let suite = match suite_for_new {
            Some(s) => s,
            None => suite()?,
        };
        let system = ducha_domain::access::Actor::system();
        let mut tx = crate::audit::AuditTxn::begin(&db, &system).await?;
        let (field, lookup) = add_keys(&db, &tx, &key, suite).await?;
        let after = serde_json::json!({ "suite": suite.name(), "field_key": field, "lookup_key": lookup });
        tx.record::<(), _>("data_keys", field, None, "create", None, Some(&after)).await?;
        crate::scoped::commit(tx).await?;
        stored = rows(&db).await?;
        db.keys.set(unwrap_all(&key, &stored, path)?);
        seal_clear(&db).await?;
        return Ok((db, if created { MasterStatus::Created(path.to_path_buf()) } else { MasterStatus::Loaded }));
    }
    let Some(key) = key else {
        return Err(StorageError::Rejected(format!(
            "数据库中的个人信息已加密，但找不到主密钥文件 {}：请用 --master-key（或 DUCHA_MASTER_KEY_FILE、DUCHA_MASTER_KEY）指定",
            path.display()
        )));
    };
    db.keys.set(unwrap_all(&key, &stored, path)?);
    if write {
        seal_clear(&db).await?;
    }
    Ok((db, MasterStatus::Loaded))
}

/// Read the key table again and load it if it changed (a rotation by this or another process):
/// true when it did. Nothing to do for a database whose keys were never opened here.
pub async fn reload(db: &Db) -> Result<bool, StorageError> {
    let Some(master) = db.keys.master() else { return Ok(false) };
    let stored = rows(db).await?;
    if db.keys.stamp().as_deref() == Some(stamp(&stored).as_str()) {
        return Ok(false);
    }
    db.keys.set(unwrap_all(&master, &stored, Path::new("（已载入的主密钥）"))?);
    Ok(true)
}

/// How often a serving process reads the key table for a rotation made elsewhere.
pub const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// How long a rotation waits between making its keys and sealing the first value with them:
/// long enough for every serving process to have loaded them (twice [`RELOAD_EVERY`]).
const GRACE: Duration = Duration::from_secs(2);

/// Keep `db`'s keys as the table has them, for as long as the future runs (a serving process
/// runs it beside its server): values re-sealed by a rotation in another process open here too,
/// and what is written here after the rotation began is sealed under its new key.
pub async fn watch(db: Db) {
    let mut tick = tokio::time::interval(RELOAD_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match reload(&db).await {
            Ok(true) => {
                tracing::info!(suite = db.keys().map(|k| k.suite().name()).unwrap_or(""), "数据密钥已更新（密钥轮换）")
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "读取数据密钥表失败"),
        }
    }
}

/// The settings key that says every value written before the keys existed has been sealed.
const SEALED_ALL: &str = "personal_sealed";

/// Seal what a database upgraded from before the keys still holds in clear (and give its members
/// their blind lookups), a batch per transaction so that a stop loses nothing and the next start
/// goes on; once done, a setting says so and later starts skip it. Rows written since the keys
/// exist are sealed already.
async fn seal_clear(db: &Db) -> Result<(), StorageError> {
    if crate::settings::get(db, SEALED_ALL).await?.is_some() {
        return Ok(());
    }
    let keys = db.keys()?;
    const BATCH: u64 = 1000;
    let clear = |c: &str| format!("({c} IS NOT NULL AND {c} NOT LIKE 'dv1:%')");
    let mut sealed = 0u64;
    for (table, columns) in sealed_tables() {
        let mut cond = columns.iter().map(|c| clear(c)).collect::<Vec<_>>().join(" OR ");
        if table == "members" {
            cond.push_str(" OR id_lookup IS NULL");
        }
        loop {
            let rows = Stored::find_by_statement(db.stmt(
                &format!("SELECT id, {} FROM {table} WHERE {cond} ORDER BY id LIMIT {BATCH}", Stored::select(&columns)),
                vec![],
            ))
            .all(db.conn())
            .await?;
            if rows.is_empty() {
                break;
            }
            let before = sealed;
            let tx = sea_orm::TransactionTrait::begin(db.conn()).await?;
            for r in rows {
                let id = r.id;
                let mut sets = Vec::new();
                let mut values: Vec<sea_orm::Value> = Vec::new();
                for (column, value) in columns.iter().zip(r.values()) {
                    let Some(v) = value else { continue };
                    let clear = if v.starts_with("dv1:") {
                        // Sealed but without its lookup (cut between the two): give it one.
                        if *column != "id_number" {
                            continue;
                        }
                        keys.open(column, &v).map_err(fault)?.to_string()
                    } else {
                        // The column's name is the kind of value bound into its ciphertext.
                        values.push(keys.seal(column, &v).map_err(fault)?.into());
                        sets.push(format!("{column} = ${}", values.len()));
                        v
                    };
                    if *column == "id_number" {
                        values.push(keys.lookup("id_number", &ducha_domain::id_number::normalise(&clear)).into());
                        sets.push(format!("id_lookup = ${}", values.len()));
                    }
                }
                if sets.is_empty() {
                    continue;
                }
                values.push(id.into());
                let sql = format!("UPDATE {table} SET {} WHERE id = ${}", sets.join(", "), values.len());
                tx.execute_raw(db.stmt(&sql, values)).await?;
                sealed += 1;
            }
            tx.commit().await?;
            if sealed == before {
                break;
            }
        }
    }
    sealed += reseal_files(db, None, &keys, Which::Clear, 20).await?;
    let system = ducha_domain::access::Actor::system();
    let mut tx = crate::audit::AuditTxn::begin(db, &system).await?;
    crate::settings::set(db, tx.conn(), SEALED_ALL, "1").await?;
    if sealed > 0 {
        let after = serde_json::json!({ "rows": sealed });
        tx.record::<(), _>("data_keys", "clear", None, "seal", None, Some(&after)).await?;
        tracing::info!(rows = sealed, "个人信息已全部加密保存");
    }
    crate::scoped::commit(tx).await?;
    Ok(())
}

/// A data key as `ducha keys status` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub id: u32,
    pub suite: String,
    pub purpose: String,
    pub created_at: chrono::DateTime<Utc>,
    pub retired_at: Option<chrono::DateTime<Utc>>,
}

/// How the values of one sealed column stand.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnStatus {
    pub table: &'static str,
    pub column: &'static str,
    /// Values sealed under the current field key.
    pub current: i64,
    /// Values sealed under an older key: a rotation has them still to do.
    pub older: i64,
    /// Values in clear (a database upgraded from before the keys, not yet sealed).
    pub clear: i64,
}

/// What `ducha keys status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct KeysStatus {
    pub suite: String,
    pub keys: Vec<KeyInfo>,
    pub columns: Vec<ColumnStatus>,
    /// Change requests whose payload holds a value sealed under an older key.
    pub requests_older: i64,
    /// Files (uploaded sheets, evidence) sealed under an older key, and still in clear.
    pub files_older: i64,
    pub files_clear: i64,
    /// A rotation began and has not finished (its old lookup key is still kept).
    pub rotating: bool,
}

impl KeysStatus {
    /// Values still sealed under an older key.
    pub fn older(&self) -> i64 {
        self.columns.iter().map(|c| c.older).sum::<i64>() + self.requests_older + self.files_older
    }
}

/// The condition "this column holds a value sealed under a key other than `current`".
fn older_than(column: &str, current: u32) -> String {
    format!("({column} LIKE 'dv1:%' AND {column} NOT LIKE 'dv1:{current}:%')")
}

/// The key table and how every sealed column stands against the current key.
pub async fn status(db: &Db) -> Result<KeysStatus, StorageError> {
    reload(db).await?;
    let keys = db.keys()?;
    let current = keys.current_field_key_id();
    #[derive(FromQueryResult)]
    struct Full {
        id: i64,
        suite: String,
        purpose: String,
        created_at: chrono::DateTime<Utc>,
        retired_at: Option<chrono::DateTime<Utc>>,
    }
    let listed = Full::find_by_statement(db.stmt(
        "SELECT id, suite, purpose, created_at, retired_at FROM data_keys ORDER BY created_at DESC, id DESC",
        vec![],
    ))
    .all(db.conn())
    .await?;
    let rotating = rotation_under_way(db.conn()).await?;
    let keys_info = listed
        .into_iter()
        .map(|k| KeyInfo {
            id: u32::try_from(k.id).unwrap_or_default(),
            suite: k.suite,
            purpose: k.purpose,
            created_at: k.created_at,
            retired_at: k.retired_at,
        })
        .collect();
    #[derive(FromQueryResult)]
    struct Counts {
        current: i64,
        older: i64,
        clear: i64,
    }
    let mut columns = Vec::new();
    for (table, column) in crate::personal::SEALED_COLUMNS {
        let c = Counts::find_by_statement(db.stmt(
            &format!(
                "SELECT CAST(COALESCE(SUM(CASE WHEN {column} LIKE 'dv1:{current}:%' THEN 1 ELSE 0 END), 0) AS BIGINT) AS current, \
                 CAST(COALESCE(SUM(CASE WHEN {older} THEN 1 ELSE 0 END), 0) AS BIGINT) AS older, \
                 CAST(COALESCE(SUM(CASE WHEN {column} NOT LIKE 'dv1:%' THEN 1 ELSE 0 END), 0) AS BIGINT) AS clear FROM {table}",
                older = older_than(column, current)
            ),
            vec![],
        ))
        .one(db.conn())
        .await?
        .ok_or_else(|| StorageError::Corrupt(format!("{table}.{column} 无法统计")))?;
        columns.push(ColumnStatus { table, column, current: c.current, older: c.older, clear: c.clear });
    }
    let requests_older = requests_to_reseal(db, &keys, 0, i64::MAX as u64).await?.len() as i64;
    Ok(KeysStatus {
        suite: keys.suite().name().to_string(),
        keys: keys_info,
        columns,
        requests_older,
        files_older: count_files(db, Which::Older, current).await?,
        files_clear: count_files(db, Which::Clear, current).await?,
        rotating,
    })
}

/// Change requests after `after` (by id) whose payload holds a value sealed under an older key,
/// with the payload sealed again under the current one; at most `limit`.
async fn requests_to_reseal(
    db: &Db,
    keys: &Keys,
    after: i64,
    limit: u64,
) -> Result<Vec<(i64, String, String)>, StorageError> {
    #[derive(FromQueryResult)]
    struct Req {
        id: i64,
        payload: String,
    }
    let mut out = Vec::new();
    let mut last = after;
    loop {
        let rows = Req::find_by_statement(db.stmt(
            "SELECT id, payload FROM change_requests WHERE id > $1 AND payload LIKE '%dv1:%' ORDER BY id LIMIT 500",
            vec![last.into()],
        ))
        .all(db.conn())
        .await?;
        let Some(end) = rows.last().map(|r| r.id) else { break };
        for r in rows {
            if let Some(new) = crate::personal::reseal_diff(keys, &r.payload)? {
                out.push((r.id, r.payload, new));
                if out.len() as u64 >= limit {
                    return Ok(out);
                }
            }
        }
        last = end;
    }
    Ok(out)
}

/// Whether a rotation began and has not finished: its old lookup key is kept until the end.
async fn rotation_under_way(c: &impl ConnectionTrait) -> Result<bool, StorageError> {
    #[derive(FromQueryResult)]
    struct N {
        n: i64,
    }
    let n = N::find_by_statement(sea_orm::Statement::from_string(
        c.get_database_backend(),
        "SELECT COUNT(*) AS n FROM data_keys WHERE purpose = 'lookup' AND retired_at IS NOT NULL",
    ))
    .one(c)
    .await?
    .map_or(0, |r| r.n);
    Ok(n > 0)
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    /// The rotation was one begun earlier and cut short, now taken up again.
    pub resumed: bool,
    pub suite: Suite,
    pub field_key: u32,
    pub lookup_key: u32,
    /// Values sealed again under the new key by this run.
    pub resealed: u64,
    /// Values still under an older key at the end (written by a process that had not yet
    /// loaded the new keys): run the rotation again to finish.
    pub left: i64,
}

/// A row's personal columns as stored (at most three a table: `a`, `b`, `c`).
#[derive(FromQueryResult)]
struct Stored {
    id: i64,
    a: Option<String>,
    b: Option<String>,
    c: Option<String>,
}

impl Stored {
    /// The select list reading `columns` (at most three) into `a`, `b` and `c`.
    fn select(columns: &[&str]) -> String {
        let col = |i: usize| columns.get(i).copied().unwrap_or("NULL");
        format!("{} AS a, {} AS b, {} AS c", col(0), col(1), col(2))
    }

    /// The values in the order of the columns selected.
    fn values(self) -> [Option<String>; 3] {
        [self.a, self.b, self.c]
    }
}

/// The sealed columns by table (the column's name is the kind of value sealed in it), at most
/// three a table as [`Stored`] reads them (checked by a unit test).
fn sealed_tables() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut tables: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for (table, column) in crate::personal::SEALED_COLUMNS {
        match tables.iter_mut().find(|(t, _)| *t == table) {
            Some((_, cols)) => cols.push(column),
            None => tables.push((table, vec![column])),
        }
    }
    tables
}

/// Rotate the data keys (`ducha keys rotate`): make a new field key and a new lookup key (of
/// `suite`, or the current suite), retire the old ones, and seal every stored value again under
/// the new keys, `batch` rows per transaction, each with its audit record, while the database
/// serves. A rotation cut short (a kill, a crash) is taken up again by the next run, which makes
/// no new keys until it has finished. Old field keys are kept, retired: the audit trail's
/// records were sealed under them and cannot be rewritten. The old lookup key is dropped at the
/// end, when no value needs it. `progress` is told the number of values re-sealed so far.
pub async fn rotate(
    db: &Db,
    actor: &ducha_domain::access::Actor,
    suite: Option<Suite>,
    batch: u64,
    progress: impl Fn(u64),
) -> Result<Rotated, StorageError> {
    reload(db).await?;
    let master = db.keys.master().ok_or_else(|| StorageError::Rejected("主密钥未载入：不能轮换密钥".into()))?;
    let before = db.keys()?;
    let mut tx = crate::audit::AuditTxn::begin(db, actor).await?;
    // Decided under the chain head's lock: two rotations started at once make one set of keys.
    let resumed = rotation_under_way(tx.conn()).await?;
    if resumed {
        drop(tx);
        reload(db).await?;
        let current = db.keys()?.suite();
        if let Some(s) = suite
            && s != current
        {
            return Err(StorageError::Rejected(format!(
                "上一次密钥轮换（改用 {}）尚未完成：请先不带 --suite 再运行一次 ducha keys rotate 把它做完",
                current.name()
            )));
        }
    } else {
        let suite = suite.unwrap_or(before.suite());
        tx.conn()
            .execute_raw(
                db.stmt("UPDATE data_keys SET retired_at = $1 WHERE retired_at IS NULL", vec![Utc::now().into()]),
            )
            .await?;
        let (field, lookup) = add_keys(db, &tx, &master, suite).await?;
        let was = serde_json::json!({
            "suite": before.suite().name(),
            "field_key": before.current_field_key_id(),
            "lookup_key": before.current_lookup_key_id(),
        });
        let now = serde_json::json!({ "suite": suite.name(), "field_key": field, "lookup_key": lookup });
        tx.record("data_keys", field, None, "rotate", Some(&was), Some(&now)).await?;
        crate::scoped::commit(tx).await?;
        reload(db).await?;
        tracing::info!(suite = suite.name(), field_key = field, "数据密钥轮换开始");
        // Let every serving process load the new keys before anything is sealed under them.
        tokio::time::sleep(GRACE).await;
    }
    let keys = db.keys()?;
    // A batch is one transaction holding the audit chain's lock: bounded, so that writers wait little.
    let batch = batch.clamp(1, 10_000);
    let mut resealed = 0u64;
    let mut left = 0i64;
    // A pass goes once over every table; values written meanwhile by a process that had not yet
    // loaded the new keys are found by the next pass.
    for pass in 0..3 {
        if pass > 0 {
            tokio::time::sleep(GRACE).await;
        }
        resealed += reseal_pass(db, actor, &keys, batch, resealed, &progress).await?;
        left = status(db).await?.older();
        if left == 0 {
            break;
        }
    }
    if left == 0 {
        let mut tx = crate::audit::AuditTxn::begin(db, actor).await?;
        sea_orm::ConnectionTrait::execute_raw(
            tx.conn(),
            db.stmt("DELETE FROM data_keys WHERE purpose = 'lookup' AND retired_at IS NOT NULL", vec![]),
        )
        .await?;
        let after = serde_json::json!({
            "suite": keys.suite().name(),
            "field_key": keys.current_field_key_id(),
            "lookup_key": keys.current_lookup_key_id(),
            "resealed": resealed,
        });
        tx.record::<(), _>("data_keys", keys.current_field_key_id(), None, "rotated", None, Some(&after)).await?;
        crate::scoped::commit(tx).await?;
        reload(db).await?;
    }
    Ok(Rotated {
        resumed,
        suite: keys.suite(),
        field_key: keys.current_field_key_id(),
        lookup_key: keys.current_lookup_key_id(),
        resealed,
        left,
    })
}

/// One pass of a rotation over every sealed column and the change requests: returns how many
/// values it sealed again. Each batch commits with its audit record. A row is updated only if
/// its value is still the one read, so an edit made meanwhile is never overwritten with the
/// older value (the edit was sealed by its own process; a later pass takes it if it needs it).
async fn reseal_pass(
    db: &Db,
    actor: &ducha_domain::access::Actor,
    keys: &Keys,
    batch: u64,
    done_before: u64,
    progress: &impl Fn(u64),
) -> Result<u64, StorageError> {
    let current = keys.current_field_key_id();
    let mut resealed = 0u64;
    for (table, columns) in sealed_tables() {
        let cond = columns.iter().map(|c| older_than(c, current)).collect::<Vec<_>>().join(" OR ");
        let mut last = 0i64;
        loop {
            let rows = Stored::find_by_statement(db.stmt(
                &format!(
                    "SELECT id, {} FROM {table} WHERE id > $1 AND ({cond}) ORDER BY id LIMIT {batch}",
                    Stored::select(&columns)
                ),
                vec![last.into()],
            ))
            .all(db.conn())
            .await?;
            let Some(end) = rows.last() else { break };
            last = end.id;
            let mut tx = crate::audit::AuditTxn::begin(db, actor).await?;
            let mut n = 0u64;
            for row in rows {
                let id = row.id;
                let mut sets = Vec::new();
                let mut values: Vec<sea_orm::Value> = Vec::new();
                let mut guards = Vec::new();
                for (column, stored) in columns.iter().zip(row.values()) {
                    let Some(stored) = stored else { continue };
                    let Some((sealed, clear)) = crate::personal::reseal(keys, column, &stored)? else { continue };
                    values.push(sealed.into());
                    sets.push(format!("{column} = ${}", values.len()));
                    if *column == "id_number" {
                        values.push(keys.lookup("id_number", &ducha_domain::id_number::normalise(&clear)).into());
                        sets.push(format!("id_lookup = ${}", values.len()));
                    }
                    values.push(stored.into());
                    guards.push(format!("{column} = ${}", values.len()));
                    n += 1;
                }
                if sets.is_empty() {
                    continue;
                }
                values.push(id.into());
                let sql = format!(
                    "UPDATE {table} SET {} WHERE id = ${} AND {}",
                    sets.join(", "),
                    values.len(),
                    guards.join(" AND ")
                );
                tx.conn().execute_raw(db.stmt(&sql, values)).await?;
            }
            let after = serde_json::json!({ "table": table, "values": n, "through_id": last, "field_key": current });
            tx.record::<(), _>("data_keys", current, None, "reseal", None, Some(&after)).await?;
            crate::scoped::commit(tx).await?;
            resealed += n;
            progress(done_before + resealed);
        }
    }
    let mut last = 0i64;
    loop {
        let found = requests_to_reseal(db, keys, last, batch).await?;
        let Some(end) = found.last().map(|r| r.0) else { break };
        last = end;
        let mut tx = crate::audit::AuditTxn::begin(db, actor).await?;
        for (id, old, new) in &found {
            sea_orm::ConnectionTrait::execute_raw(
                tx.conn(),
                db.stmt(
                    "UPDATE change_requests SET payload = $1 WHERE id = $2 AND payload = $3",
                    vec![new.clone().into(), (*id).into(), old.clone().into()],
                ),
            )
            .await?;
        }
        let after = serde_json::json!({ "table": "change_requests", "values": found.len(), "through_id": last, "field_key": current });
        tx.record::<(), _>("data_keys", current, None, "reseal", None, Some(&after)).await?;
        crate::scoped::commit(tx).await?;
        resealed += found.len() as u64;
        progress(done_before + resealed);
    }
    resealed += reseal_files(db, Some(actor), keys, Which::Older, batch).await?;
    progress(done_before + resealed);
    Ok(resealed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_sealed_table_fits_the_row_that_reads_it() {
        for (table, columns) in super::sealed_tables() {
            assert!((1..=3).contains(&columns.len()), "{table}: {columns:?}");
        }
    }
}

/// Blob columns holding files with personal data, as (table, the row's key as text, column): the
/// sheets uploaded for import (ID numbers by the thousand) and evidence files (scans of ID
/// cards, bank books). The table's name is the kind bound into their ciphertext.
const SEALED_FILES: [(&str, &str, &str); 2] =
    [("evidence_blobs", "sha256", "data"), ("import_jobs", "CAST(id AS TEXT)", "file")];

/// Which files [`reseal_files`] takes.
#[derive(Clone, Copy)]
enum Which {
    /// Stored in clear (before files were sealed).
    Clear,
    /// Sealed under a key other than the current one (a rotation).
    Older,
}

/// The condition selecting `which` files of `column` (its placeholders from `$first`), with
/// its values: the first bytes of a sealed file are its format and key id, so no file is read
/// to be selected.
fn file_cond(column: &str, which: Which, current: u32, first: usize) -> (String, Vec<sea_orm::Value>) {
    let magic = b"dvb1".to_vec();
    match which {
        Which::Clear => (format!("(length({column}) > 0 AND substr({column}, 1, 4) <> ${first})"), vec![magic.into()]),
        Which::Older => {
            let mut prefix = magic.clone();
            prefix.extend_from_slice(&current.to_be_bytes());
            (
                format!("(substr({column}, 1, 4) = ${first} AND substr({column}, 1, 8) <> ${})", first + 1),
                vec![magic.into(), prefix.into()],
            )
        }
    }
}

/// How many files are `which`.
async fn count_files(db: &Db, which: Which, current: u32) -> Result<i64, StorageError> {
    #[derive(FromQueryResult)]
    struct N {
        n: i64,
    }
    let mut total = 0;
    for (table, _, column) in SEALED_FILES {
        let (cond, values) = file_cond(column, which, current, 1);
        let n = N::find_by_statement(db.stmt(&format!("SELECT COUNT(*) AS n FROM {table} WHERE {cond}"), values))
            .one(db.conn())
            .await?
            .map_or(0, |r| r.n);
        total += n;
    }
    Ok(total)
}

/// Seal the files that are `which` under the current key, `batch` files a transaction (with
/// `actor`, each batch with its audit record). A file is replaced only if it is still the one
/// read. Returns how many were sealed.
async fn reseal_files(
    db: &Db,
    actor: Option<&ducha_domain::access::Actor>,
    keys: &Keys,
    which: Which,
    batch: u64,
) -> Result<u64, StorageError> {
    #[derive(FromQueryResult)]
    struct File {
        k: String,
        data: Vec<u8>,
    }
    let current = keys.current_field_key_id();
    let system = ducha_domain::access::Actor::system();
    let mut done = 0u64;
    for (table, key, column) in SEALED_FILES {
        let mut last = String::new();
        loop {
            let (cond, mut values) = file_cond(column, which, current, 2);
            values.insert(0, last.clone().into());
            let rows = File::find_by_statement(db.stmt(
                &format!(
                    "SELECT {key} AS k, {column} AS data FROM {table} WHERE {key} > $1 AND {cond} ORDER BY {key} LIMIT {}",
                    batch.clamp(1, 50)
                ),
                values,
            ))
            .all(db.conn())
            .await?;
            let Some(end) = rows.last() else { break };
            last = end.k.clone();
            let mut tx = crate::audit::AuditTxn::begin(db, actor.unwrap_or(&system)).await?;
            let n = rows.len();
            for f in rows {
                let clear = crate::personal::open_file(table, f.data.clone())?;
                let sealed = crate::personal::seal_file(keys, table, &clear)?;
                tx.conn()
                    .execute_raw(db.stmt(
                        &format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2 AND {column} = $3"),
                        vec![sealed.into(), f.k.into(), f.data.into()],
                    ))
                    .await?;
            }
            if actor.is_some() {
                let after = serde_json::json!({ "table": table, "values": n, "through": last, "field_key": current });
                tx.record::<(), _>("data_keys", current, None, "reseal", None, Some(&after)).await?;
            }
            crate::scoped::commit(tx).await?;
            done += n as u64;
        }
    }
    Ok(done)
}
