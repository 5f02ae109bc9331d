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
    /// One sentence: where (the password masked) and why, in words an operator acts on.
    #[error("无法连接数据库 {url}：{reason}")]
    Connect { url: String, reason: String },
    #[error("数据库操作失败：{0}")]
    Db(DbErr),
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
    /// What the database holds cannot be what ducha wrote: a stored code no vocabulary knows, a
    /// missing chain head. A fault (500, logged with the request id), never the user's input.
    #[error("数据库中的数据有误：{0}")]
    Corrupt(String),
    /// Work handed to a thread of its own ended without an answer: a fault, never the user's.
    #[error("后台计算意外中止：{0}")]
    Task(String),
}

/// The schema this binary brings a database to: the name of its last migration.
pub fn schema_version() -> String {
    Migrator::migrations().last().map(|m| m.name().to_string()).unwrap_or_default()
}

/// Where a database's schema stands against this binary's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaState {
    pub applied: Vec<String>,
    pub pending: Vec<String>,
    pub unknown: Vec<String>,
}

/// A connection pool to one ducha database.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    backend: Backend,
    /// The audit key and witness file, once loaded: what this process appends is signed with it.
    anchor: Option<std::sync::Arc<crate::audit::anchor::Anchor>>,
    /// The data keys that seal personal data, once opened with the master key (see datakeys.rs).
    pub(crate) keys: crate::datakeys::KeyCell,
    /// The division tree and the version it was read at (see `regions::tree`).
    pub(crate) regions: crate::regions::TreeCache,
    /// Statements run through this pool since it opened (how many queries a page costs).
    statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Hide a password in a URL (user:password@, or password=) before it goes into a message.
pub fn redact(url: &str) -> String {
    let mut out = match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    };
    if let Some(q) = out.find('?') {
        let (base, query) = out.split_at(q + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{base}{}", masked.join("&"));
    }
    out
}

/// Why a connection failed, in one sentence an operator can act on (never the password).
fn why(e: &sea_orm::sqlx::Error, timeout: Duration) -> String {
    use sea_orm::sqlx::Error;
    use std::io::ErrorKind;
    match e {
        // rustls' refusals (a certificate no trusted CA signed, a name that does not match) come
        // as I/O errors of invalid data.
        Error::Io(io) if io.kind() == ErrorKind::InvalidData => {
            format!("加密连接（TLS）没有建立：{io}（检查 sslmode、sslrootcert 和服务器证书）")
        }
        Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => "对方拒绝连接（数据库服务没有运行，或主机、端口不对）".into(),
            ErrorKind::NotFound => "找不到（Unix 套接字或数据库文件所在的目录不存在）".into(),
            ErrorKind::PermissionDenied => "没有权限访问".into(),
            ErrorKind::TimedOut => format!("{} 秒内没有连上（主机不可达，或被防火墙拦截）", timeout.as_secs()),
            _ => format!("网络错误（{io}）"),
        },
        Error::PoolTimedOut => format!("{} 秒内没有连上（主机不可达，或被防火墙拦截）", timeout.as_secs()),
        Error::Tls(t) => format!("加密连接（TLS）没有建立：{t}（检查 sslmode、sslrootcert 和服务器证书）"),
        Error::Database(d) => match d.code().as_deref() {
            Some("28P01") | Some("28000") => {
                "用户名或密码不对，或服务器不允许这个用户从这里登录（见 pg_hba.conf）".into()
            }
            Some("3D000") => "数据库不存在（请先用 createdb 建立）".into(),
            Some("14") => "无法打开数据库文件（目录是否存在、是否有写权限？）".into(),
            _ => format!("数据库拒绝了连接：{}", d.message()),
        },
        Error::Configuration(c) => format!("地址中的参数有误：{c}"),
        other => other.to_string(),
    }
}

/// A new SQLite file is made readable by its owner only before SQLite opens it (SQLite gives its
/// -wal and -shm files the database file's permissions): it holds the whole register.
fn create_private_file(url: &str) -> Result<(), StorageError> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or("");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path.starts_with(':') || query.contains("mode=memory") || query.contains("mode=ro") {
        return Ok(());
    }
    let path = std::path::Path::new(path);
    if path.exists() || path.parent().is_some_and(|p| !p.as_os_str().is_empty() && !p.exists()) {
        // There already, or a directory that is not there (SQLite says so in its own words).
        return Ok(());
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
        .map(drop)
        .map_err(|e| StorageError::Connect {
            url: redact(url), reason: format!("无法建立数据库文件（{e}）")
        })
}

/// How to connect, beyond what the URL says: the pool's size and the timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbOptions {
    /// Connections kept in the pool (16 on PostgreSQL, 8 on SQLite by default).
    pub pool: Option<u32>,
    /// How long to wait for a connection: connecting, or a free one from a busy pool.
    pub connect_timeout: Duration,
    /// PostgreSQL cancels a statement that runs longer (no limit by default).
    pub statement_timeout: Option<Duration>,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions { pool: None, connect_timeout: Duration::from_secs(10), statement_timeout: None }
    }
}

impl Db {
    /// Connect, creating a SQLite file if it does not exist yet. Does not migrate.
    pub async fn connect(url: &str) -> Result<Db, StorageError> {
        Self::connect_with(url, DbOptions::default()).await
    }

    /// [`Db::connect`] with the pool's size and timeouts.
    pub async fn connect_with(url: &str, o: DbOptions) -> Result<Db, StorageError> {
        let connect_err =
            |e: sea_orm::sqlx::Error| StorageError::Connect { url: redact(url), reason: why(&e, o.connect_timeout) };
        if url.starts_with("sqlite:") {
            create_private_file(url)?;
            let opts = Self::sqlite_options(url).map_err(connect_err)?;
            let pool = SqlitePoolOptions::new()
                .max_connections(o.pool.unwrap_or(8).max(1))
                .acquire_timeout(o.connect_timeout)
                .connect_with(opts)
                .await
                .map_err(connect_err)?;
            Ok(Db::counted(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool), Backend::Sqlite))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut opts = PgConnectOptions::from_str(url).map_err(connect_err)?;
            if let Some(t) = o.statement_timeout {
                opts = opts.options([("statement_timeout", format!("{}ms", t.as_millis()))]);
            }
            // One connection first, on its own: the pool retries a refused connection until its
            // timeout and then reports only that it timed out, not why.
            use sea_orm::sqlx::{ConnectOptions, Connection};
            let first = tokio::time::timeout(o.connect_timeout, opts.connect())
                .await
                .map_err(|_| connect_err(sea_orm::sqlx::Error::PoolTimedOut))?
                .map_err(connect_err)?;
            let _ = first.close().await;
            let pool = PgPoolOptions::new()
                .max_connections(o.pool.unwrap_or(16).max(1))
                .acquire_timeout(o.connect_timeout)
                .connect_with(opts)
                .await
                .map_err(connect_err)?;
            Ok(Db::counted(SqlxPostgresConnector::from_sqlx_postgres_pool(pool), Backend::Postgres))
        } else {
            Err(StorageError::BadUrl(url.to_string()))
        }
    }

    fn counted(mut conn: DatabaseConnection, backend: Backend) -> Db {
        let statements = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let count = statements.clone();
        conn.set_metric_callback(move |_| {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        Db { conn, backend, anchor: None, keys: Default::default(), regions: Default::default(), statements }
    }

    /// Statements this pool has run since it opened.
    pub fn statements(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
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
        Self::open_with(url, DbOptions::default()).await
    }

    /// [`Db::open`] with the pool's size and timeouts.
    pub async fn open_with(url: &str, o: DbOptions) -> Result<Db, StorageError> {
        let db = Self::connect_with(url, o).await?;
        db.migrate(url).await?;
        Ok(db)
    }

    /// Apply pending migrations. On SQLite they run over a connection of their own, so that no
    /// pragma a migration touches can leak into the pool.
    pub async fn migrate(&self, url: &str) -> Result<(), StorageError> {
        // A database a newer ducha has migrated is never touched by an older one: its schema
        // may mean what this binary does not know.
        let state = self.schema().await?;
        if !state.unknown.is_empty() {
            return Err(StorageError::Rejected(format!(
                "这个数据库已由更新版本的 ducha 升级（数据库结构 {}，本程序只认识到 {}）：请使用那个版本或更新的版本，不要用旧版本打开它",
                state.unknown.join("、"),
                schema_version()
            )));
        }
        match self.backend {
            Backend::Sqlite => {
                let connect_err = |e: sea_orm::sqlx::Error| StorageError::Connect {
                    url: redact(url),
                    reason: why(&e, DbOptions::default().connect_timeout),
                };
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

    /// The connection, for the tests that tamper with the database as an attacker would (and
    /// the benchmark that times the rules alone). Useless to the web crate, which depends on no
    /// database crate (checked by the `door` tests): everything else goes through [`Db::scoped`].
    #[doc(hidden)]
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// The pool's connections: how many are open, and how many of them are idle.
    pub fn pool_state(&self) -> (u32, usize) {
        match self.backend {
            Backend::Sqlite => {
                let p = self.conn.get_sqlite_connection_pool();
                (p.size(), p.num_idle())
            }
            Backend::Postgres => {
                let p = self.conn.get_postgres_connection_pool();
                (p.size(), p.num_idle())
            }
        }
    }

    /// The schema's migrations: applied, still to run, and applied but unknown to this binary
    /// (the database was migrated by a newer version).
    pub async fn schema(&self) -> Result<SchemaState, StorageError> {
        Self::schema_of(&self.conn).await
    }

    async fn schema_of(conn: &DatabaseConnection) -> Result<SchemaState, StorageError> {
        let known: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_string()).collect();
        let manager = sea_orm_migration::SchemaManager::new(conn);
        let applied: Vec<String> = if manager.has_table("seaql_migrations").await? {
            #[derive(sea_orm::FromQueryResult)]
            struct Applied {
                version: String,
            }
            <Applied as sea_orm::FromQueryResult>::find_by_statement(Statement::from_string(
                conn.get_database_backend(),
                "SELECT version FROM seaql_migrations ORDER BY version",
            ))
            .all(conn)
            .await?
            .into_iter()
            .map(|r| r.version)
            .collect()
        } else {
            Vec::new()
        };
        let pending = known.iter().filter(|k| !applied.contains(k)).cloned().collect();
        let unknown = applied.iter().filter(|a| !known.contains(a)).cloned().collect();
        Ok(SchemaState { applied, pending, unknown })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The audit key and witness file this process signs with, if loaded.
    pub fn anchor(&self) -> Option<&crate::audit::anchor::Anchor> {
        self.anchor.as_deref()
    }

    /// The keys that seal personal data: a write of an ID number, a phone or an account needs them.
    /// Taken once per write, so that one write seals and indexes with one generation of keys.
    pub(crate) fn keys(&self) -> Result<std::sync::Arc<ducha_vault::Keys>, StorageError> {
        self.keys.keys().ok_or_else(|| StorageError::Rejected("主密钥未载入：不能写入个人信息".into()))
    }

    /// Every blind lookup an ID number (as normalised) may be stored under: how members are found
    /// by ID number without decrypting (more than one while a key rotation is under way).
    pub(crate) fn id_lookups(&self, id_number: &str) -> Result<Vec<String>, StorageError> {
        Ok(self.keys()?.lookups("id_number", &ducha_domain::id_number::normalise(id_number)))
    }

    pub(crate) fn set_anchor(&mut self, anchor: crate::audit::anchor::Anchor) {
        self.anchor = Some(std::sync::Arc::new(anchor));
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
        assert_eq!(
            super::redact("postgres://db/ducha?sslmode=require&password=secret&user=u"),
            "postgres://db/ducha?sslmode=require&password=***&user=u"
        );
    }
}
