//! Consistent copies of a live database. SQLite: `VACUUM INTO` a new file (one read
//! transaction: a write under way is in it wholly or not at all). PostgreSQL: a read-only
//! repeatable-read transaction exports its snapshot for `pg_dump --snapshot` (run by the binary)
//! and reads the audit chain's head in that same snapshot, so the head written beside a backup
//! is exactly the backup's.

use std::path::Path;

use sea_orm::{AccessMode, ConnectionTrait, DatabaseTransaction, FromQueryResult, IsolationLevel, TransactionTrait};

use crate::{Backend, Db, StorageError};

/// The audit chain's last record in a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub id: i64,
    pub hash: String,
}

async fn head_of<C: ConnectionTrait>(c: &C, db: &Db) -> Result<Head, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        last_id: i64,
        last_hash: String,
    }
    let row = Row::find_by_statement(db.stmt("SELECT last_id, last_hash FROM audit_head WHERE id = 1", vec![]))
        .one(c)
        .await?
        .ok_or_else(|| StorageError::Rejected("审计链头缺失：数据库未正确初始化".into()))?;
    Ok(Head { id: row.last_id, hash: row.last_hash })
}

/// Create `path` empty and readable by its owner only (it will hold the whole register).
pub fn create_private(path: &Path) -> Result<(), StorageError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map(drop).map_err(|e| StorageError::Rejected(format!("无法建立文件 {}：{e}", path.display())))
}

/// SQLite: copy the database into the new file `out` (0600), consistent as of one moment.
pub(crate) async fn sqlite_into(db: &Db, out: &Path) -> Result<Head, StorageError> {
    if db.backend() != Backend::Sqlite {
        return Err(StorageError::Rejected("只有 SQLite 数据库可以这样备份".into()));
    }
    create_private(out)?;
    let target = out.display().to_string().replace('\'', "''");
    if let Err(e) = db.conn().execute_unprepared(&format!("VACUUM INTO '{target}'")).await {
        let _ = std::fs::remove_file(out);
        return Err(e.into());
    }
    // The copy's own head, read without writing to it (no WAL set up beside a backup).
    use sea_orm::sqlx::{ConnectOptions, Connection, sqlite::SqliteConnectOptions};
    let read = async {
        let mut c = SqliteConnectOptions::new().filename(out).read_only(true).connect().await?;
        let row: (i64, String) =
            sea_orm::sqlx::query_as("SELECT last_id, last_hash FROM audit_head WHERE id = 1").fetch_one(&mut c).await?;
        c.close().await?;
        Ok::<_, sea_orm::sqlx::Error>(row)
    };
    let (id, hash) =
        read.await.map_err(|e| StorageError::Rejected(format!("无法读取备份 {} 中的审计链头：{e}", out.display())))?;
    Ok(Head { id, hash })
}

/// PostgreSQL: a snapshot for `pg_dump --snapshot`, and the chain's head in it. Keep the
/// transaction open until pg_dump has started its own on the snapshot (it ends with it).
pub(crate) async fn pg_snapshot(db: &Db) -> Result<(DatabaseTransaction, String, Head), StorageError> {
    let txn = db.conn().begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?;
    #[derive(FromQueryResult)]
    struct Snapshot {
        s: String,
    }
    let snapshot = Snapshot::find_by_statement(db.stmt("SELECT pg_export_snapshot() AS s", vec![]))
        .one(&txn)
        .await?
        .ok_or_else(|| StorageError::Rejected("无法取得数据库快照".into()))?
        .s;
    let head = head_of(&txn, db).await?;
    Ok((txn, snapshot, head))
}

/// The chain's head of an open database.
pub(crate) async fn head(db: &Db) -> Result<Head, StorageError> {
    head_of(db.conn(), db).await
}

/// Whether the database holds no table at all (a restore goes only into such a one).
pub(crate) async fn is_empty(db: &Db) -> Result<bool, StorageError> {
    let sql = match db.backend() {
        Backend::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'",
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        }
    };
    #[derive(FromQueryResult)]
    struct Count {
        n: i64,
    }
    let row = Count::find_by_statement(db.stmt(sql, vec![])).one(db.conn()).await?;
    Ok(match row {
        Some(r) => r.n == 0,
        None => true,
    })
}

pub struct Backup<'a>(pub(crate) &'a crate::Scoped);

impl crate::Scoped {
    pub fn backup(&self) -> Backup<'_> {
        Backup(self)
    }
}

impl Backup<'_> {
    /// SQLite: copy the database into the new file `out` (0600), consistent as of one moment.
    pub async fn sqlite_into(&self, out: &Path) -> Result<Head, StorageError> {
        sqlite_into(self.0.db(), out).await
    }

    /// PostgreSQL: a snapshot for `pg_dump --snapshot`, and the chain's head in it. Keep the
    /// transaction open until pg_dump has started its own on the snapshot (it ends with it).
    pub async fn pg_snapshot(&self) -> Result<(DatabaseTransaction, String, Head), StorageError> {
        pg_snapshot(self.0.db()).await
    }

    /// The chain's head of an open database.
    pub async fn head(&self) -> Result<Head, StorageError> {
        head(self.0.db()).await
    }

    /// Whether the database holds no table at all (a restore goes only into such a one).
    pub async fn is_empty(&self) -> Result<bool, StorageError> {
        is_empty(self.0.db()).await
    }
}
