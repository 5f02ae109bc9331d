//! Anchoring the audit chain outside the database, so that whoever can write the database alone
//! can neither rewrite the chain nor cut its end off unseen.
//!
//! - **The key** (32 random bytes) lives in a file the database never holds: beside the SQLite
//!   file by default, or where `--audit-key` says. Every record appended once the key exists
//!   carries `mac` = HMAC-SHA256(key, its hash); since each hash covers the one before, a record's
//!   MAC vouches for the whole chain up to it. The file also names the first record it signed
//!   (`from`): records before it were written before the key existed and are checked by their
//!   hashes only. The database keeps the key's fingerprint (a MAC, not the key), so that a
//!   process with another key, or with none, refuses to append.
//! - **The witness** is a file the server appends the chain's head to (id, hash, MAC'd) every
//!   few minutes and at shutdown, and `ducha audit-log witness` from cron. `verify` checks that
//!   every head it holds is still in the chain: records removed from the end, with the head row
//!   reset, are found down to the last witnessed record.
//!
//! Several processes on one PostgreSQL share one chain and must share one key file (copied to
//! each host); each may keep its own witness file, every line of which is a head of the shared
//! chain at that moment, so each file bounds what can be removed unseen.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};

use crate::crypto::{self, hex, mac_hex, random_bytes};
use crate::{Db, StorageError};

/// The key that signs the chain, and the first record it signed.
#[derive(Clone)]
pub struct AuditKey {
    bytes: [u8; 32],
    from: i64,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey").field("id", &self.id()).field("from", &self.from).finish()
    }
}

impl AuditKey {
    /// The first record signed with this key.
    pub fn from(&self) -> i64 {
        self.from
    }

    /// The fingerprint kept in the database: a MAC under the key, which tells nothing of it.
    pub fn id(&self) -> String {
        mac_hex(&self.bytes, &[b"ducha audit key id"])
    }

    /// A record's MAC over its hash.
    /// HMAC-SHA-256, or HMAC-SM3 for a record hashed with SM3.
    pub(crate) fn sign(&self, hash: &str) -> String {
        self.mac(hash, &[b"record", hash.as_bytes()])
    }

    fn witness_mac(&self, at: &str, id: i64, hash: &str) -> String {
        self.mac(hash, &[b"witness", at.as_bytes(), id.to_string().as_bytes(), hash.as_bytes()])
    }

    /// The MAC of `parts` in the suite the chain hash `hash` was made with.
    fn mac(&self, hash: &str, parts: &[&[u8]]) -> String {
        match super::chain_suite(hash) {
            ducha_vault::Suite::Intl => mac_hex(&self.bytes, parts),
            ducha_vault::Suite::Sm => crypto::hex(&ducha_vault::Suite::Sm.mac(&self.bytes, parts)),
        }
    }
}

/// The loaded key and where the witness file is.
#[derive(Debug)]
pub struct Anchor {
    pub key: AuditKey,
    pub key_path: PathBuf,
    pub witness_path: PathBuf,
}

impl Anchor {
    /// When the witness file's last line was written (None: no line yet, or unreadable).
    pub fn last_witnessed(&self) -> Option<DateTime<Utc>> {
        let line = last_line(&self.witness_path).ok()??;
        parse_line(&self.key, line.trim()).ok().map(|l| l.at)
    }
}

/// Where the key and the witness are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorPaths {
    pub key: PathBuf,
    pub witness: PathBuf,
    /// The master key that wraps the data keys sealing personal data (see `datakeys`).
    pub master: PathBuf,
}

impl AnchorPaths {
    /// Beside the SQLite file (`ducha.db.audit-key`, `ducha.db.audit-witness`); for PostgreSQL in
    /// the working directory, named after the database (`ducha.audit-key`, …).
    pub fn default_for(url: &str) -> AnchorPaths {
        let without_query = url.split('?').next().unwrap_or(url);
        let base = if let Some(file) =
            without_query.strip_prefix("sqlite://").or_else(|| without_query.strip_prefix("sqlite:"))
        {
            if file.is_empty() || file.starts_with(':') { "ducha".to_string() } else { file.to_string() }
        } else {
            let name = without_query.rsplit_once('/').map_or("", |(_, n)| n);
            let safe = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if safe { name.to_string() } else { "ducha".to_string() }
        };
        AnchorPaths {
            key: PathBuf::from(format!("{base}.audit-key")),
            witness: PathBuf::from(format!("{base}.audit-witness")),
            master: PathBuf::from(format!("{base}.master-key")),
        }
    }
}

/// What [`open`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyStatus {
    /// A new key was made: records from `from` on are signed.
    Created { from: i64 },
    /// The key file was read: records from `from` on are signed.
    Loaded { from: i64 },
    /// No key file. `keyed_from`: where the database says signing began (None: never signed).
    Missing { keyed_from: Option<i64> },
}

#[derive(FromQueryResult)]
pub(crate) struct HeadState {
    pub last_id: i64,
    pub last_hash: String,
    pub key_id: Option<String>,
    pub keyed_from: Option<i64>,
}

pub(crate) async fn head(db: &Db) -> Result<HeadState, StorageError> {
    HeadState::find_by_statement(
        db.stmt("SELECT last_id, last_hash, key_id, keyed_from FROM audit_head WHERE id = 1", vec![]),
    )
    .one(db.conn())
    .await?
    .ok_or_else(|| StorageError::Rejected("审计链头缺失：数据库未正确初始化".into()))
}

/// Load the audit key for `db` from `paths.key`. With `write`, a database that has no key yet
/// gets one (the file is created, readable by its owner only), and a key file the database does
/// not know yet is registered if no record was appended since it was made. Without `write`
/// (verifying, reading) nothing is changed. A key file that does not match the database's
/// fingerprint is refused.
pub async fn open(mut db: Db, paths: &AnchorPaths, write: bool) -> Result<(Db, KeyStatus), StorageError> {
    for _ in 0..3 {
        let state = head(&db).await?;
        match read_key(&paths.key)? {
            Some(key) => {
                let id = key.id();
                match state.key_id.as_deref() {
                    Some(known) if known == id => {}
                    Some(_) => {
                        return Err(StorageError::Rejected(format!(
                            "审计密钥文件 {} 与数据库登记的密钥不符：可能放错了文件，或连错了数据库",
                            paths.key.display()
                        )));
                    }
                    None if write => register(&db, &key, &paths.key).await?,
                    None => {}
                }
                let from = key.from;
                db.set_anchor(Anchor { key, key_path: paths.key.clone(), witness_path: paths.witness.clone() });
                return Ok((db, KeyStatus::Loaded { from }));
            }
            None if state.key_id.is_some() || !write => {
                return Ok((db, KeyStatus::Missing { keyed_from: state.keyed_from }));
            }
            None => {
                if let Some(key) = create(&db, &paths.key).await? {
                    let from = key.from;
                    db.set_anchor(Anchor { key, key_path: paths.key.clone(), witness_path: paths.witness.clone() });
                    return Ok((db, KeyStatus::Created { from }));
                }
                // Another process made the key meanwhile: look again.
            }
        }
    }
    Err(StorageError::Rejected("审计密钥正由另一进程建立，请稍后重试".into()))
}

const KEY_FILE_LIMIT: u64 = 4096;

fn read_key(path: &Path) -> Result<Option<AuditKey>, StorageError> {
    let unreadable =
        |e: std::io::Error| StorageError::Rejected(format!("无法读取审计密钥文件 {}：{e}", path.display()));
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e)),
    };
    #[cfg(unix)]
    if let Ok(meta) = file.metadata() {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "审计密钥文件可被其他用户读取，请改为只有本用户可读（chmod 600）");
        }
    }
    let mut text = String::new();
    file.take(KEY_FILE_LIMIT).read_to_string(&mut text).map_err(unreadable)?;
    let bad = |what: &str| StorageError::Rejected(format!("审计密钥文件 {} 格式不正确：{what}", path.display()));
    let (mut bytes, mut from) = (None, None);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        match line.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            Some(("key", v)) => bytes = crypto::unhex(v).and_then(|b| <[u8; 32]>::try_from(b).ok()),
            Some(("from", v)) => from = v.parse::<i64>().ok().filter(|n| *n >= 1),
            _ => return Err(bad(&format!("无法识别的一行“{line}”"))),
        }
    }
    match (bytes, from) {
        (Some(bytes), Some(from)) => Ok(Some(AuditKey { bytes, from })),
        (None, _) => Err(bad("缺少 64 位十六进制的 key")),
        (_, None) => Err(bad("缺少起始记录号 from")),
    }
}

/// Create a file readable and writable by its owner only; fails if it exists.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

fn write_key(path: &Path, key: &AuditKey) -> std::io::Result<()> {
    let mut f = create_private(path)?;
    let text = format!(
        "# ducha 审计密钥：为审计链签名。切勿放进数据库或泄露；与数据库分开备份；\n\
         # 多个 ducha 进程共用一个 PostgreSQL 时，每台主机都要放同一份。\n\
         key={}\nfrom={}\n",
        hex(&key.bytes),
        key.from
    );
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Make a key, register it in the head row (locked, so no record is appended meanwhile) and
/// write its file before committing. None if another process registered one first.
async fn create(db: &Db, path: &Path) -> Result<Option<AuditKey>, StorageError> {
    let bytes = random_bytes::<32>()?;
    let id = AuditKey { bytes, from: 0 }.id();
    let txn = db.conn().begin().await?;
    #[derive(FromQueryResult)]
    struct Keyed {
        keyed_from: i64,
    }
    let row = Keyed::find_by_statement(db.stmt(
        "UPDATE audit_head SET key_id = $1, keyed_from = last_id + 1 WHERE id = 1 AND key_id IS NULL RETURNING keyed_from",
        vec![id.into()],
    ))
    .one(&txn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let key = AuditKey { bytes, from: row.keyed_from };
    match write_key(path, &key) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => {
            return Err(StorageError::Rejected(format!(
                "无法建立审计密钥文件 {}：{e}（可用 --audit-key 指定别处）",
                path.display()
            )));
        }
    }
    if let Err(e) = txn.commit().await {
        let _ = std::fs::remove_file(path);
        return Err(e.into());
    }
    tracing::info!(path = %path.display(), from = key.from, "审计密钥已建立");
    Ok(Some(key))
}

/// A key file the database does not know: register it if nothing was appended since it was made
/// (a start that stopped between writing the file and committing), otherwise refuse.
async fn register(db: &Db, key: &AuditKey, path: &Path) -> Result<(), StorageError> {
    db.conn()
        .execute_raw(db.stmt(
            "UPDATE audit_head SET key_id = $1, keyed_from = $2 WHERE id = 1 AND key_id IS NULL AND last_id < $2",
            vec![key.id().into(), key.from.into()],
        ))
        .await?;
    if head(db).await?.key_id.as_deref() == Some(key.id().as_str()) {
        return Ok(());
    }
    Err(StorageError::Rejected(format!(
        "审计密钥文件 {} 记载自第 {} 条记录起签名，但数据库没有登记这把密钥，且已有此后的记录：\
         审计链可能被改写，请运行 ducha audit-log verify",
        path.display(),
        key.from
    )))
}

/// One line of the witness file: the chain's head at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessLine {
    pub at: DateTime<Utc>,
    pub id: i64,
    pub hash: String,
}

fn parse_line(key: &AuditKey, line: &str) -> Result<WitnessLine, String> {
    let parts: Vec<&str> = line.split('\t').collect();
    let [at, id, hash, mac] = parts.as_slice() else { return Err("格式不正确".into()) };
    let when = DateTime::parse_from_rfc3339(at).map_err(|_| "时间格式不正确".to_string())?.with_timezone(&Utc);
    let id: i64 = id.parse().map_err(|_| "记录号不正确".to_string())?;
    if !crypto::same(key.witness_mac(at, id, hash).as_bytes(), mac.as_bytes()) {
        return Err("签名不符（被改动，或不是这把密钥写的）".into());
    }
    Ok(WitnessLine { at: when, id, hash: hash.to_string() })
}

/// The last line of a file (its last 1 KB read), if any.
fn last_line(path: &Path) -> Result<Option<String>, std::io::Error> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(1024)))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail)?;
    Ok(String::from_utf8_lossy(&tail).lines().rev().find(|l| !l.trim().is_empty()).map(str::to_string))
}

/// Append the chain's head to the witness file, unless the file's last line already holds it.
/// Returns the line written.
pub async fn witness(db: &Db) -> Result<Option<WitnessLine>, StorageError> {
    let a = db.anchor().ok_or_else(|| StorageError::Rejected("没有载入审计密钥，无法写见证".into()))?;
    let state = head(db).await?;
    let io =
        |e: std::io::Error| StorageError::Rejected(format!("无法写入审计见证文件 {}：{e}", a.witness_path.display()));
    if let Some(last) = last_line(&a.witness_path).map_err(io)?
        && let Ok(l) = parse_line(&a.key, last.trim())
        && l.id == state.last_id
        && l.hash == state.last_hash
    {
        return Ok(None);
    }
    let at = Utc::now().trunc_subsecs(0);
    let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let line = format!(
        "{stamp}\t{}\t{}\t{}\n",
        state.last_id,
        state.last_hash,
        a.key.witness_mac(&stamp, state.last_id, &state.last_hash)
    );
    let mut opts = std::fs::OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&a.witness_path).map_err(io)?;
    // One write of a short line: appends from several processes do not interleave.
    f.write_all(line.as_bytes()).map_err(io)?;
    f.sync_data().map_err(io)?;
    Ok(Some(WitnessLine { at, id: state.last_id, hash: state.last_hash }))
}

/// Every line of the witness file, checked; Err names the first bad line. An absent file is empty.
pub(crate) fn read_witness(a: &Anchor) -> Result<Result<Vec<WitnessLine>, String>, StorageError> {
    let text = match std::fs::read_to_string(&a.witness_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(vec![])),
        Err(e) => {
            return Err(StorageError::Rejected(format!("无法读取审计见证文件 {}：{e}", a.witness_path.display())));
        }
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match parse_line(&a.key, line.trim()) {
            Ok(l) => out.push(l),
            Err(why) => {
                return Ok(Err(format!("审计见证文件 {} 第 {} 行{why}", a.witness_path.display(), n + 1)));
            }
        }
    }
    Ok(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_paths_sit_beside_the_sqlite_file_or_name_the_postgres_database() {
        let p = AnchorPaths::default_for("sqlite:///var/lib/ducha/ducha.db?mode=rwc");
        assert_eq!(p.key, PathBuf::from("/var/lib/ducha/ducha.db.audit-key"));
        assert_eq!(p.witness, PathBuf::from("/var/lib/ducha/ducha.db.audit-witness"));
        assert_eq!(AnchorPaths::default_for("sqlite://ducha.db").key, PathBuf::from("ducha.db.audit-key"));
        let pg = AnchorPaths::default_for("postgres://u:p@db:5432/fupin?host=/run/postgresql");
        assert_eq!(pg.key, PathBuf::from("fupin.audit-key"));
        assert_eq!(AnchorPaths::default_for("postgres://u@db/my%20db").key, PathBuf::from("ducha.audit-key"));
    }

    #[test]
    fn a_witness_line_is_refused_when_any_part_changes() {
        let key = AuditKey { bytes: [3; 32], from: 1 };
        let at = "2024-05-01T08:00:00Z";
        let line = format!("{at}\t12\tabc\t{}", key.witness_mac(at, 12, "abc"));
        assert_eq!(parse_line(&key, &line).unwrap().id, 12);
        assert!(parse_line(&key, &line.replace("\t12\t", "\t11\t")).is_err());
        let other = AuditKey { bytes: [4; 32], from: 1 };
        assert!(parse_line(&other, &line).is_err());
    }
}
