//! Accounts: users with a role and a region scope, passwords hashed with Argon2id, login with
//! throttling of repeated failures, API tokens for scripts, and the database session store.

pub mod sessions;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use ducha_domain::access::{Actor, Role, Scope};
use ducha_domain::labelled::Labelled;
use ducha_domain::region::RegionCode;
use sea_orm::{ConnectionTrait, Value};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::AuditTxn;
use crate::{Db, StorageError};

/// A user as the rest of the system sees it (never with the hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub region_code: Option<String>,
    pub active: bool,
}

impl User {
    pub fn scope(&self) -> Scope {
        // An inspector reaches households only through a campaign's sample, on its days.
        if self.role == Role::Inspector {
            return Scope::nothing();
        }
        match self.region_code.as_deref().map(RegionCode::parse) {
            Some(Ok(code)) => Scope::Region(code),
            // An administrator, a city office or a leader without a region sees everything.
            _ => Scope::All,
        }
    }

    pub fn actor(&self, origin: Option<String>) -> Actor {
        Actor {
            user_id: Some(self.id),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            scope: self.scope(),
            origin,
        }
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], StorageError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| StorageError::Rejected(format!("无法取得随机数：{e}")))?;
    Ok(buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A password a person can type: 12 characters from a set without look-alikes.
pub fn generate_password() -> Result<String, StorageError> {
    const SET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    Ok(random_bytes::<12>()?.iter().map(|b| SET[*b as usize % SET.len()] as char).collect())
}

/// Argon2id with the crate's default parameters, off the async threads.
pub async fn hash_password(password: &str) -> Result<String, StorageError> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(pw.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(|e| StorageError::Rejected(e.to_string()))?
        .map_err(|e| StorageError::Rejected(format!("密码无法加密：{e}")))
}

async fn verify_password(password: &str, hash: &str) -> bool {
    let (pw, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| Argon2::default().verify_password(pw.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that a wrong user name takes as
/// long as a wrong password.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn dummy_hash() -> Result<&'static str, StorageError> {
    DUMMY_HASH.get_or_try_init(|| hash_password("not a password of anyone")).await.map(String::as_str)
}

fn row_to_user(r: &sea_orm::QueryResult) -> Result<User, StorageError> {
    let role: String = r.try_get("", "role")?;
    Ok(User {
        id: r.try_get("", "id")?,
        username: r.try_get("", "username")?,
        display_name: r.try_get("", "display_name")?,
        role: Role::parse(&role).map_err(|e| StorageError::Rejected(e.to_string()))?,
        region_code: r.try_get("", "region_code")?,
        active: r.try_get("", "active")?,
    })
}

const USER_COLUMNS: &str = "id, username, display_name, role, region_code, active";

pub async fn find_user(db: &Db, username: &str) -> Result<Option<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
    db.conn().query_one_raw(db.stmt(&sql, vec![username.into()])).await?.as_ref().map(row_to_user).transpose()
}

pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    db.conn().query_one_raw(db.stmt(&sql, vec![id.into()])).await?.as_ref().map(row_to_user).transpose()
}

pub async fn list_users(db: &Db) -> Result<Vec<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
    db.conn().query_all_raw(db.stmt(&sql, vec![])).await?.iter().map(row_to_user).collect()
}

/// A new account's details.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub region_code: Option<String>,
    pub password: String,
}

/// Check a new account against the rules and the region list; all problems at once.
async fn check_new_user(db: &Db, u: &NewUser) -> Result<(), StorageError> {
    let mut problems = Vec::new();
    let name_ok = (3..=64).contains(&u.username.len())
        && u.username.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if !name_ok {
        problems.push("用户名应为 3 至 64 位字母、数字或 _ - .".to_string());
    }
    if u.password.chars().count() < 8 {
        problems.push("密码至少 8 位".to_string());
    }
    if let Some(level) = u.role.scope_level() {
        match u.region_code.as_deref() {
            None => problems.push(format!("角色“{}”必须指定{}", u.role, level.label())),
            Some(code) => match crate::regions::get(db, code).await? {
                Some(r) if r.level == level => {}
                Some(r) => problems.push(format!(
                    "角色“{}”的区域应为{}，而“{}”是{}",
                    u.role,
                    level.label(),
                    r.name,
                    r.level.label()
                )),
                None => problems.push(format!("区划代码“{code}”不存在")),
            },
        }
    } else if let Some(code) = u.region_code.as_deref()
        && crate::regions::get(db, code).await?.is_none()
    {
        problems.push(format!("区划代码“{code}”不存在"));
    }
    if find_user(db, &u.username).await?.is_some() {
        problems.push(format!("用户名“{}”已存在", u.username));
    }
    if problems.is_empty() { Ok(()) } else { Err(StorageError::Rejected(problems.join("；"))) }
}

pub async fn add_user(db: &Db, actor: &Actor, u: &NewUser) -> Result<User, StorageError> {
    check_new_user(db, u).await?;
    let hash = hash_password(&u.password).await?;
    let now = Utc::now();
    let mut tx = AuditTxn::begin(db, actor).await?;
    let row = tx
        .conn()
        .query_one_raw(db.stmt(
            "INSERT INTO users (username, display_name, role, region_code, password_hash, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            vec![
                u.username.clone().into(),
                u.display_name.clone().into(),
                u.role.code().into(),
                u.region_code.clone().into(),
                hash.into(),
                true.into(),
                now.into(),
                now.into(),
            ],
        ))
        .await?
        .ok_or_else(|| StorageError::Rejected("新用户未能写入".into()))?;
    let id: i64 = row.try_get("", "id")?;
    let user = User {
        id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role,
        region_code: u.region_code.clone(),
        active: true,
    };
    tx.record::<(), _>("user", id, u.region_code.as_deref(), "create", None, Some(&user)).await?;
    tx.commit().await?;
    Ok(user)
}

async fn change_user(
    db: &Db,
    actor: &Actor,
    username: &str,
    action: &str,
    sql: &str,
    extra: Option<Value>,
) -> Result<User, StorageError> {
    let before =
        find_user(db, username).await?.ok_or_else(|| StorageError::Rejected(format!("没有用户“{username}”")))?;
    let mut tx = AuditTxn::begin(db, actor).await?;
    let mut values = vec![before.id.into(), Utc::now().into()];
    values.extend(extra);
    tx.conn().execute_raw(db.stmt(sql, values)).await?;
    let after = User { active: action != "disable" && before.active, ..before.clone() };
    tx.record("user", before.id, before.region_code.as_deref(), action, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn disable_user(db: &Db, actor: &Actor, username: &str) -> Result<User, StorageError> {
    change_user(db, actor, username, "disable", "UPDATE users SET active = false, updated_at = $2 WHERE id = $1", None)
        .await
}

/// Set a new password; returns it.
pub async fn reset_password(
    db: &Db,
    actor: &Actor,
    username: &str,
    password: Option<String>,
) -> Result<String, StorageError> {
    let password = match password {
        Some(p) if p.chars().count() >= 8 => p,
        Some(_) => return Err(StorageError::Rejected("密码至少 8 位".into())),
        None => generate_password()?,
    };
    let hash = hash_password(&password).await?;
    change_user(
        db,
        actor,
        username,
        "reset_password",
        "UPDATE users SET password_hash = $3, updated_at = $2 WHERE id = $1",
        Some(hash.into()),
    )
    .await?;
    Ok(password)
}

/// How many failures in a row, for a user name or an address, before each further attempt waits.
const FREE_FAILURES: i32 = 3;

/// The wait after `failures` failures in a row: 0 for the first few, then doubling to 5 minutes.
pub fn throttle_delay(failures: i32) -> Duration {
    if failures < FREE_FAILURES {
        Duration::zero()
    } else {
        Duration::seconds((1i64 << (failures - FREE_FAILURES).min(9)).min(300))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Ok(User),
    /// Wrong user name or password: one outcome for both.
    Failed,
    /// Too many recent failures; try again after this many seconds.
    Wait(i64),
}

async fn attempts(db: &Db, key: &str) -> Result<Option<(i32, DateTime<Utc>)>, StorageError> {
    let row = db
        .conn()
        .query_one_raw(db.stmt("SELECT failures, last_failure_at FROM login_attempts WHERE key = $1", vec![key.into()]))
        .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("", "failures")?, r.try_get("", "last_failure_at")?)),
        None => None,
    })
}

/// Check a user name and password. Failures are counted per user name and per address, whether
/// the user exists or not; after a few, each further attempt must wait longer.
pub async fn login(db: &Db, username: &str, password: &str, origin: &str) -> Result<LoginOutcome, StorageError> {
    let now = Utc::now();
    let keys = [format!("user:{}", username.trim().to_lowercase()), format!("ip:{origin}")];
    for key in &keys {
        if let Some((failures, last)) = attempts(db, key).await? {
            let until = last + throttle_delay(failures);
            if until > now {
                return Ok(LoginOutcome::Wait((until - now).num_seconds().max(1)));
            }
        }
    }
    let user = find_user(db, username.trim()).await?;
    let ok = match &user {
        Some(u) => {
            let hash: String = db
                .conn()
                .query_one_raw(db.stmt("SELECT password_hash FROM users WHERE id = $1", vec![u.id.into()]))
                .await?
                .map(|r| r.try_get("", "password_hash"))
                .transpose()?
                .unwrap_or_default();
            verify_password(password, &hash).await && u.active
        }
        None => {
            verify_password(password, dummy_hash().await?).await;
            false
        }
    };
    if ok {
        for key in &keys {
            db.conn()
                .execute_raw(db.stmt("DELETE FROM login_attempts WHERE key = $1", vec![key.clone().into()]))
                .await?;
        }
        return Ok(user.map_or(LoginOutcome::Failed, LoginOutcome::Ok));
    }
    for key in &keys {
        db.conn()
            .execute_raw(db.stmt(
                "INSERT INTO login_attempts (key, failures, last_failure_at) VALUES ($1, 1, $2) \
                 ON CONFLICT (key) DO UPDATE SET failures = login_attempts.failures + 1, last_failure_at = excluded.last_failure_at",
                vec![key.clone().into(), now.into()],
            ))
            .await?;
    }
    Ok(LoginOutcome::Failed)
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Issue an API token for a user; the token itself is shown once and only its hash is kept.
pub async fn issue_token(db: &Db, actor: &Actor, username: &str, name: &str) -> Result<String, StorageError> {
    let user = find_user(db, username).await?.ok_or_else(|| StorageError::Rejected(format!("没有用户“{username}”")))?;
    let token = format!("ducha_{}", hex(&random_bytes::<32>()?));
    let mut tx = AuditTxn::begin(db, actor).await?;
    tx.conn()
        .execute_raw(db.stmt(
            "INSERT INTO api_tokens (user_id, name, token_hash, revoked, created_at) VALUES ($1, $2, $3, $4, $5)",
            vec![user.id.into(), name.into(), token_hash(&token).into(), false.into(), Utc::now().into()],
        ))
        .await?;
    tx.record::<(), _>(
        "api_token",
        user.id,
        user.region_code.as_deref(),
        "issue",
        None,
        Some(&serde_json::json!({ "user": username, "name": name })),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The active user a Bearer token belongs to.
pub async fn user_for_token(db: &Db, token: &str) -> Result<Option<User>, StorageError> {
    let row = db
        .conn()
        .query_one_raw(db.stmt(
            "SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked = false",
            vec![token_hash(token).into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let user = user_by_id(db, row.try_get("", "user_id")?).await?;
    Ok(user.filter(|u| u.active))
}

/// A random hex token (CSRF tokens, session secrets).
pub fn random_token() -> Result<String, StorageError> {
    Ok(hex(&random_bytes::<32>()?))
}
