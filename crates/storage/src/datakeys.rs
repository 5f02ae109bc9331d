//! The data keys of a database (issue 22): made at the first write, stored wrapped under the
//! master key (a file beside the database, owner-only, or `DUCHA_MASTER_KEY`), never in clear.
//! The database alone opens nothing; the master key alone opens nothing either (the wrapped keys
//! and the ciphertext are in the database).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use ducha_vault::{DataKey, Keys, MasterKey, Purpose, Suite};
use sea_orm::FromQueryResult;

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

/// Open the database's data keys with the master key at `path` (or `DUCHA_MASTER_KEY`). With
/// `write`, a database without data keys gets them, and, when there is no master key either,
/// one is made and written to `path` (readable by its owner only). A database whose values are
/// sealed cannot be opened without its master key.
pub async fn open(mut db: Db, path: &Path, write: bool) -> Result<(Db, MasterStatus), StorageError> {
    let stored = rows(&db).await?;
    let key = master(path)?;
    if stored.is_empty() {
        if !write {
            return Ok((db, MasterStatus::None));
        }
        let (key, created) = match key {
            Some(k) => (k, false),
            None => {
                let k = MasterKey::generate().map_err(fault)?;
                k.write_new(path).map_err(fault)?;
                (k, true)
            }
        };
        let suite = suite()?;
        let field = DataKey::generate(fresh_id()?, suite, Purpose::Field).map_err(fault)?;
        let lookup = DataKey::generate(fresh_id()?, suite, Purpose::Lookup).map_err(fault)?;
        let system = ducha_domain::access::Actor::system();
        let mut tx = crate::audit::AuditTxn::begin(&db, &system).await?;
        for k in [&field, &lookup] {
            let wrapped = key.wrap(k).map_err(fault)?;
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
        let after = serde_json::json!({ "suite": suite.name(), "field_key": field.id(), "lookup_key": lookup.id() });
        tx.record::<(), _>("data_keys", field.id(), None, "create", None, Some(&after)).await?;
        crate::scoped::commit(tx).await?;
        let ids = [field.id(), lookup.id()];
        let keys = Arc::new(Keys::new(field, lookup).map_err(fault)?);
        crate::personal::register(&ids, &keys);
        db.set_keys(keys);
        seal_clear(&db).await?;
        return Ok((db, if created { MasterStatus::Created(path.to_path_buf()) } else { MasterStatus::Loaded }));
    }
    let Some(key) = key else {
        return Err(StorageError::Rejected(format!(
            "数据库中的个人信息已加密，但找不到主密钥文件 {}：请用 --master-key（或 DUCHA_MASTER_KEY_FILE、DUCHA_MASTER_KEY）指定",
            path.display()
        )));
    };
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
        let k = key.unwrap(id, suite, purpose, &r.wrapped).map_err(|_| {
            StorageError::Rejected(format!(
                "主密钥 {} 打不开本数据库的数据密钥：可能放错了文件，或连错了数据库",
                path.display()
            ))
        })?;
        match (purpose, r.retired_at.is_none()) {
            (Purpose::Field, true) if field.is_none() => field = Some(k),
            (Purpose::Lookup, true) if lookup.is_none() => lookup = Some(k),
            (Purpose::Field, _) => retired.push(k),
            (Purpose::Lookup, _) => {}
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
    db.set_keys(keys);
    if write {
        seal_clear(&db).await?;
    }
    Ok((db, MasterStatus::Loaded))
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
    /// A row's personal columns (the second is absent for cadres), as stored.
    #[derive(FromQueryResult)]
    struct Clear {
        id: i64,
        a: Option<String>,
        b: Option<String>,
    }
    let clear = |c: &str| format!("({c} IS NOT NULL AND {c} NOT LIKE 'dv1:%')");
    let mut sealed = 0u64;
    for (table, first, second) in [
        ("members", "id_number", Some("phone")),
        ("households", "phone", Some("bank_account")),
        ("cadres", "phone", None),
    ] {
        let cond = match (table, second) {
            ("members", _) => "id_lookup IS NULL".to_string(),
            (_, Some(b)) => format!("{} OR {}", clear(first), clear(b)),
            (_, None) => clear(first),
        };
        let select_b = second.unwrap_or("NULL");
        loop {
            let rows = Clear::find_by_statement(db.stmt(
                &format!(
                    "SELECT id, {first} AS a, {select_b} AS b FROM {table} WHERE {cond} ORDER BY id LIMIT {BATCH}"
                ),
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
                let mut sets = Vec::new();
                let mut values: Vec<sea_orm::Value> = Vec::new();
                for (column, value) in [(Some(first), r.a), (second, r.b)] {
                    let (Some(column), Some(v)) = (column, value) else { continue };
                    if v.starts_with("dv1:") {
                        // Sealed but without its lookup (cut between the two): give it one.
                        if column == "id_number" {
                            let opened = keys.open("id_number", &v).map_err(fault)?;
                            values.push(db.id_lookup(&opened)?.into());
                            sets.push(format!("id_lookup = ${}", values.len()));
                        }
                        continue;
                    }
                    // The column's name is the kind of value bound into its ciphertext.
                    values.push(keys.seal(column, &v).map_err(fault)?.into());
                    sets.push(format!("{column} = ${}", values.len()));
                    if column == "id_number" {
                        values.push(db.id_lookup(&v)?.into());
                        sets.push(format!("id_lookup = ${}", values.len()));
                    }
                }
                if sets.is_empty() {
                    continue;
                }
                values.push(r.id.into());
                let sql = format!("UPDATE {table} SET {} WHERE id = ${}", sets.join(", "), values.len());
                sea_orm::ConnectionTrait::execute_raw(&tx, db.stmt(&sql, values)).await?;
                sealed += 1;
            }
            tx.commit().await?;
            if sealed == before {
                break;
            }
        }
    }
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
