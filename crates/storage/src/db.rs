//! Connecting to SQLite or PostgreSQL from a URL, with the settings each needs to behave the
//! same: SQLite in WAL mode with foreign keys on for every pooled connection and a busy
//! timeout; migrations over a single connection.

use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, SqlxPostgresConnector, SqlxSqliteConnector, Statement};
use sea_orm_migration::MigratorTrait;

use crate::migration::Migrator;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("数据库地址“{0}”无法识别：应以 sqlite:// 或 postgres:// 开头")]
    BadUrl(String),
    #[error("无法连接数据库 {url}：{source}")]
    Connect { url: String, source: sea_orm::sqlx::Error },
    #[error("数据库操作失败：{0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    Rejected(String),
    /// Absent, or outside the actor's scope: the same answer for both.
    #[error("没有找到")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    /// Input that fails at named fields.
    #[error("{0}")]
    Invalid(ducha_domain::validation::FieldErrors),
    /// Someone else changed the record since it was read.
    #[error("{0}")]
    Conflict(String),
    /// Work handed to a thread of its own ended without an answer: a fault, never the user's.
    #[error("后台计算意外中止：{0}")]
    Task(String),
}

/// A connection pool to one ducha database.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    backend: Backend,
}

/// Hide a password in a URL before it goes into a message.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Db {
    /// Connect, creating a SQLite file if it does not exist yet. Does not migrate.
    pub async fn connect(url: &str) -> Result<Db, StorageError> {
        let connect_err = |source| StorageError::Connect { url: redact(url), source };
        if url.starts_with("sqlite:") {
            let opts = Self::sqlite_options(url).map_err(connect_err)?;
            let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await.map_err(connect_err)?;
            Ok(Db { conn: SqlxSqliteConnector::from_sqlx_sqlite_pool(pool), backend: Backend::Sqlite })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url).map_err(connect_err)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .map_err(connect_err)?;
            Ok(Db { conn: SqlxPostgresConnector::from_sqlx_postgres_pool(pool), backend: Backend::Postgres })
        } else {
            Err(StorageError::BadUrl(url.to_string()))
        }
    }

    fn sqlite_options(url: &str) -> Result<SqliteConnectOptions, sea_orm::sqlx::Error> {
        Ok(SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(60)))
    }

    /// Connect and bring the schema up to date.
    pub async fn open(url: &str) -> Result<Db, StorageError> {
        let db = Self::connect(url).await?;
        db.migrate(url).await?;
        Ok(db)
    }

    /// Apply pending migrations. On SQLite they run over a connection of their own, so that no
    /// pragma a migration touches can leak into the pool.
    pub async fn migrate(&self, url: &str) -> Result<(), StorageError> {
        match self.backend {
            Backend::Sqlite => {
                let connect_err = |source| StorageError::Connect { url: redact(url), source };
                let opts = Self::sqlite_options(url).map_err(connect_err)?;
                let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.map_err(connect_err)?;
                let single = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
                Migrator::up(&single, None).await?;
                single.close().await?;
            }
            Backend::Postgres => Migrator::up(&self.conn, None).await?,
        }
        Ok(())
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(self) -> Result<(), StorageError> {
        Ok(self.conn.close().await?)
    }

    pub(crate) fn stmt(&self, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
        Statement::from_sql_and_values(self.conn.get_database_backend(), sql, values)
    }

    /// Bring the planner's statistics up to date after a bulk write (the demo, a large import).
    /// Without them PostgreSQL plans a million-household registry as if it were empty: the
    /// campaign draw took minutes per town before ANALYZE and 88 ms after. SQLite gets
    /// `PRAGMA optimize`, which analyses what needs it.
    pub async fn analyze(&self) -> Result<(), StorageError> {
        let sql = match self.backend {
            Backend::Postgres => "ANALYZE",
            Backend::Sqlite => "PRAGMA optimize",
        };
        self.conn.execute_unprepared(sql).await?;
        Ok(())
    }

    /// After rows were written with explicit ids (the demo), move PostgreSQL's id sequences past
    /// them; SQLite's AUTOINCREMENT follows by itself.
    pub(crate) async fn reset_sequences<C: ConnectionTrait>(&self, c: &C, tables: &[&str]) -> Result<(), StorageError> {
        if self.backend == Backend::Postgres {
            for t in tables {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)"
                );
                c.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_do_not_reach_messages() {
        assert_eq!(super::redact("postgres://ducha:secret@db:5432/ducha"), "postgres://ducha:***@db:5432/ducha");
        assert_eq!(super::redact("sqlite://ducha.db"), "sqlite://ducha.db");
    }
}
