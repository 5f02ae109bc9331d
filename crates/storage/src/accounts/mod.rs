//! Accounts: users with a role and a region scope, passwords hashed with Argon2id, login with
//! throttling of repeated failures (login.rs), API tokens for scripts (with an expiry), and the
//! database session store. A password reset or a disable ends the user's sessions and revokes
//! their tokens, in the same audited transaction.

mod login;
pub mod sessions;

pub use login::{
    FREE_FAILURES, Login, LoginOutcome, MAX_SOFT_DELAY, PasswordPool, SOFT_FREE_FAILURES, hash_password, soft_delay,
    throttle_delay,
};

use chrono::{DateTime, Duration, Utc};
use ducha_domain::access::{Actor, Role, Scope};
use ducha_domain::labelled::Labelled;
use ducha_domain::region::RegionCode;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
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

use crate::crypto::{hex, random_bytes};

/// A password a person can type: 12 characters from a set without look-alikes.
pub fn generate_password() -> Result<String, StorageError> {
    const SET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    Ok(random_bytes::<12>()?.iter().map(|b| SET[*b as usize % SET.len()] as char).collect())
}

/// A user's row as read with [`USER_COLUMNS`]; the role is parsed by [`UserRow::user`].
#[derive(FromQueryResult)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    region_code: Option<String>,
    active: bool,
}

impl UserRow {
    fn user(self) -> Result<User, StorageError> {
        Ok(User {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            role: crate::stored::code(&self.role)?,
            region_code: self.region_code,
            active: self.active,
        })
    }
}

const USER_COLUMNS: &str = "id, username, display_name, role, region_code, active";

pub(crate) async fn find_user(db: &Db, username: &str) -> Result<Option<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
    UserRow::find_by_statement(db.stmt(&sql, vec![username.into()]))
        .one(db.conn())
        .await?
        .map(UserRow::user)
        .transpose()
}

pub(crate) async fn user_by_id(db: &Db, id: i64) -> Result<Option<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    UserRow::find_by_statement(db.stmt(&sql, vec![id.into()])).one(db.conn()).await?.map(UserRow::user).transpose()
}

pub(crate) async fn list_users(db: &Db) -> Result<Vec<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
    UserRow::find_by_statement(db.stmt(&sql, vec![])).all(db.conn()).await?.into_iter().map(UserRow::user).collect()
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

pub(crate) async fn add_user(db: &Db, actor: &Actor, u: &NewUser) -> Result<User, StorageError> {
    check_new_user(db, u).await?;
    let hash = hash_password(&u.password).await?;
    let now = Utc::now();
    let mut tx = AuditTxn::begin(db, actor).await?;
    #[derive(FromQueryResult)]
    struct Inserted {
        id: i64,
    }
    let id = Inserted::find_by_statement(db.stmt(
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
    .one(tx.conn())
    .await?
    .ok_or_else(|| StorageError::Corrupt("新用户未能写入".into()))?
    .id;
    let user = User {
        id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role,
        region_code: u.region_code.clone(),
        active: true,
    };
    tx.record::<(), _>("user", id, u.region_code.as_deref(), "create", None, Some(&user)).await?;
    crate::scoped::commit(tx).await?;
    Ok(user)
}

/// Change an account and end what signs in as it: its sessions are deleted and its API tokens
/// revoked, in the same transaction, and recorded.
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
    let sessions = tx
        .conn()
        .execute_raw(db.stmt("DELETE FROM sessions WHERE user_id = $1", vec![before.id.into()]))
        .await?
        .rows_affected();
    let tokens = revoke_where(tx.conn(), db, before.id, None).await?;
    if sessions > 0 || !tokens.is_empty() {
        let names: Vec<&str> = tokens.iter().map(|t| t.name.as_str()).collect();
        tx.record(
            "user",
            before.id,
            before.region_code.as_deref(),
            "end_access",
            Some(&serde_json::json!({ "sessions": sessions, "tokens": names })),
            Some(&serde_json::json!({ "sessions": 0, "tokens": [] })),
        )
        .await?;
    }
    crate::scoped::commit(tx).await?;
    Ok(after)
}

pub(crate) async fn disable_user(db: &Db, actor: &Actor, username: &str) -> Result<User, StorageError> {
    change_user(db, actor, username, "disable", "UPDATE users SET active = false, updated_at = $2 WHERE id = $1", None)
        .await
}

/// Set a new password; returns it.
pub(crate) async fn reset_password(
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

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// How many days a token is valid unless its issuer says otherwise.
pub const TOKEN_DAYS: i64 = 90;
/// The most days a token may be valid.
pub const MAX_TOKEN_DAYS: i64 = 3650;

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
pub struct TokenInfo {
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

impl TokenInfo {
    pub fn state(&self, now: DateTime<Utc>) -> &'static str {
        match self.expires_at {
            _ if self.revoked => "已撤销",
            Some(t) if t <= now => "已过期",
            _ => "有效",
        }
    }
}

/// Issue an API token for a user, valid for [`TOKEN_DAYS`]; the token itself is shown once and
/// only its hash is kept.
pub(crate) async fn issue_token(db: &Db, actor: &Actor, username: &str, name: &str) -> Result<String, StorageError> {
    issue_token_for(db, actor, username, name, TOKEN_DAYS).await
}

/// Issue an API token valid for `days` (1 to [`MAX_TOKEN_DAYS`]).
pub(crate) async fn issue_token_for(
    db: &Db,
    actor: &Actor,
    username: &str,
    name: &str,
    days: i64,
) -> Result<String, StorageError> {
    let user = find_user(db, username).await?.ok_or_else(|| StorageError::Rejected(format!("没有用户“{username}”")))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StorageError::Rejected("令牌的用途说明应为 1 至 100 个字".into()));
    }
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(StorageError::Rejected(format!("令牌有效天数应为 1 至 {MAX_TOKEN_DAYS} 天")));
    }
    if !user.active {
        return Err(StorageError::Rejected(format!("用户“{username}”已停用，不能生成令牌")));
    }
    let token = format!("ducha_{}", hex(&random_bytes::<32>()?));
    let now = Utc::now();
    let expires = now + Duration::days(days);
    let mut tx = AuditTxn::begin(db, actor).await?;
    tx.conn()
        .execute_raw(db.stmt(
            "INSERT INTO api_tokens (user_id, name, token_hash, revoked, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![user.id.into(), name.into(), token_hash(&token).into(), false.into(), now.into(), expires.into()],
        ))
        .await?;
    tx.record::<(), _>(
        "api_token",
        user.id,
        user.region_code.as_deref(),
        "issue",
        None,
        Some(&serde_json::json!({ "user": username, "name": name, "expires_at": expires })),
    )
    .await?;
    crate::scoped::commit(tx).await?;
    Ok(token)
}

/// Revoke the user's tokens that are not revoked yet (only those named `name`, if given);
/// returns them as they were.
async fn revoke_where<C: ConnectionTrait>(
    c: &C,
    db: &Db,
    user_id: i64,
    name: Option<&str>,
) -> Result<Vec<TokenInfo>, StorageError> {
    let mut values: Vec<Value> = vec![user_id.into()];
    let named = match name {
        Some(n) => {
            values.push(n.into());
            " AND name = $2"
        }
        None => "",
    };
    let sql = format!(
        "UPDATE api_tokens SET revoked = true WHERE user_id = $1 AND revoked = false{named}          RETURNING name, created_at, expires_at, revoked"
    );
    let mut out = TokenInfo::find_by_statement(db.stmt(&sql, values)).all(c).await?;
    for t in &mut out {
        t.revoked = false;
    }
    out.sort_by(|a, b| (a.created_at, &a.name).cmp(&(b.created_at, &b.name)));
    Ok(out)
}

/// `ducha user token NAME --revoke [--name 用途]`: revoke the user's tokens of that name, or all
/// of them; audited. Refused when there is nothing to revoke.
pub(crate) async fn revoke_tokens(
    db: &Db,
    actor: &Actor,
    username: &str,
    name: Option<&str>,
) -> Result<Vec<TokenInfo>, StorageError> {
    let user = find_user(db, username).await?.ok_or_else(|| StorageError::Rejected(format!("没有用户“{username}”")))?;
    let mut tx = AuditTxn::begin(db, actor).await?;
    let revoked = revoke_where(tx.conn(), db, user.id, name.map(str::trim)).await?;
    if revoked.is_empty() {
        return Err(StorageError::Rejected(match name {
            Some(n) => format!("用户“{username}”没有用途为“{}”的未撤销令牌", n.trim()),
            None => format!("用户“{username}”没有未撤销的令牌"),
        }));
    }
    let names: Vec<&str> = revoked.iter().map(|t| t.name.as_str()).collect();
    tx.record(
        "api_token",
        user.id,
        user.region_code.as_deref(),
        "revoke",
        Some(&serde_json::json!({ "user": username, "tokens": revoked })),
        Some(&serde_json::json!({ "user": username, "revoked": names })),
    )
    .await?;
    crate::scoped::commit(tx).await?;
    Ok(revoked)
}

/// A user's tokens, newest first.
pub(crate) async fn list_tokens(db: &Db, username: &str) -> Result<Vec<TokenInfo>, StorageError> {
    let user = find_user(db, username).await?.ok_or_else(|| StorageError::Rejected(format!("没有用户“{username}”")))?;
    Ok(TokenInfo::find_by_statement(db.stmt(
        "SELECT name, created_at, expires_at, revoked FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
        vec![user.id.into()],
    ))
    .all(db.conn())
    .await?)
}

/// The active user a Bearer token belongs to, if the token is neither revoked nor expired.
pub(crate) async fn user_for_token(db: &Db, token: &str) -> Result<Option<User>, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        user_id: i64,
    }
    let row = Row::find_by_statement(db.stmt(
        "SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked = false AND expires_at > $2",
        vec![token_hash(token).into(), Utc::now().into()],
    ))
    .one(db.conn())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let user = user_by_id(db, row.user_id).await?;
    Ok(user.filter(|u| u.active))
}

/// The secret that signs the login form's token, kept in the settings table so that every process
/// on one database signs alike; made on first use.
pub(crate) async fn login_form_secret(db: &Db) -> Result<[u8; 32], StorageError> {
    const KEY: &str = "login_form_secret";
    let fresh = hex(&random_bytes::<32>()?);
    db.conn()
        .execute_raw(db.stmt(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            vec![KEY.into(), fresh.into()],
        ))
        .await?;
    crate::settings::get(db, KEY)
        .await?
        .and_then(|v| crate::crypto::unhex(&v))
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| StorageError::Rejected("登录表单的签名密钥损坏：请删除设置项 login_form_secret 后重试".into()))
}

/// A random hex token (CSRF tokens, session secrets).
pub fn random_token() -> Result<String, StorageError> {
    Ok(hex(&random_bytes::<32>()?))
}

/// Users and their API tokens, kept by administrators and the command line.
pub struct Accounts<'a>(pub(crate) &'a crate::Scoped);

impl crate::Scoped {
    pub fn accounts(&self) -> Accounts<'_> {
        Accounts(self)
    }
}

impl Accounts<'_> {
    pub async fn list_users(&self) -> Result<Vec<User>, StorageError> {
        self.administer()?;
        list_users(self.0.db()).await
    }

    /// A user by name, for an administrator.
    pub async fn find_user(&self, username: &str) -> Result<Option<User>, StorageError> {
        self.administer()?;
        find_user(self.0.db(), username).await
    }

    /// Accounts are kept by administrators and by the command line (the server's operator).
    fn administer(&self) -> Result<(), StorageError> {
        let a = self.0.actor();
        if a.role.administers() || a.scope == Scope::All {
            Ok(())
        } else {
            Err(StorageError::Forbidden(format!("“{}”角色不能管理用户", a.role)))
        }
    }

    pub async fn add_user(&self, u: &NewUser) -> Result<User, StorageError> {
        add_user(self.0.db(), self.0.actor(), u).await
    }

    pub async fn disable_user(&self, username: &str) -> Result<User, StorageError> {
        disable_user(self.0.db(), self.0.actor(), username).await
    }

    /// Set a new password; returns it.
    pub async fn reset_password(&self, username: &str, password: Option<String>) -> Result<String, StorageError> {
        reset_password(self.0.db(), self.0.actor(), username, password).await
    }

    /// Issue an API token for a user, valid for [`TOKEN_DAYS`]; the token itself is shown once and
    /// only its hash is kept.
    pub async fn issue_token(&self, username: &str, name: &str) -> Result<String, StorageError> {
        issue_token(self.0.db(), self.0.actor(), username, name).await
    }

    /// Issue an API token valid for `days` (1 to [`MAX_TOKEN_DAYS`]).
    pub async fn issue_token_for(&self, username: &str, name: &str, days: i64) -> Result<String, StorageError> {
        issue_token_for(self.0.db(), self.0.actor(), username, name, days).await
    }

    /// `ducha user token NAME --revoke [--name 用途]`: revoke the user's tokens of that name, or all
    /// of them; audited. Refused when there is nothing to revoke.
    pub async fn revoke_tokens(&self, username: &str, name: Option<&str>) -> Result<Vec<TokenInfo>, StorageError> {
        revoke_tokens(self.0.db(), self.0.actor(), username, name).await
    }

    /// A user's tokens, newest first.
    pub async fn list_tokens(&self, username: &str) -> Result<Vec<TokenInfo>, StorageError> {
        self.administer()?;
        list_tokens(self.0.db(), username).await
    }
}
