//! Signing in: Argon2id on a bounded pool, and throttling of repeated failures.
//!
//! - **Per user name and address** (`pair:`): each attempt is reserved in one statement before
//!   the password is checked, so parallel attempts cannot all pass a check of the count made
//!   before any of them failed. After [`FREE_FAILURES`] the next attempt must wait 1 s, doubling
//!   to 5 minutes. This is the only throttle that refuses, and it holds only the address the
//!   failures came from: the account's owner elsewhere is not refused.
//! - **Per user name** (`user:`) and **per address** (`ip:`): failures from anywhere for the name,
//!   or for any name from the address, *delay* each further check (up to [`MAX_SOFT_DELAY`]);
//!   they never refuse it, so the owner, or a colleague behind the same address, still signs in.
//! - **The pool** ([`PasswordPool`]): at most a few Argon2 hashes at once (each takes 19 MiB),
//!   a short queue, and "busy" beyond it rather than memory piling up.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{Duration, Utc};
use sea_orm::ConnectionTrait;
use tokio::sync::Semaphore;

use super::{User, find_user};
use crate::{Db, StorageError};

/// Argon2 hashing with a bound on how many run at once and how many may wait.
#[derive(Debug)]
pub struct PasswordPool {
    permits: Arc<Semaphore>,
    queue: usize,
    waiting: AtomicUsize,
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    checks: AtomicU64,
}

/// The pool is full: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl Default for PasswordPool {
    /// As many hashes at once as there are cores (at most 4: 76 MiB), 16 waiting.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        PasswordPool::new(cores.clamp(1, 4), 16)
    }
}

/// Counts a waiting request for as long as it waits, even if it is dropped (a closed connection).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PasswordPool {
    pub fn new(concurrent: usize, queue: usize) -> PasswordPool {
        PasswordPool {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
            queue,
            waiting: AtomicUsize::new(0),
            running: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
            checks: AtomicU64::new(0),
        }
    }

    /// The pool for hashing outside the web server (new accounts, resets from the command line).
    pub fn global() -> &'static PasswordPool {
        static GLOBAL: std::sync::OnceLock<PasswordPool> = std::sync::OnceLock::new();
        GLOBAL.get_or_init(PasswordPool::default)
    }

    /// Passwords checked so far (Argon2 verifications actually run).
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::SeqCst)
    }

    /// The most hashes that ran at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Run `f` on the blocking threads once a permit is free; Busy if the queue is full.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue + self.available() {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let waiting = Waiting(&self.waiting);
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| Busy)?;
        drop(waiting);
        let (running, peak) = (self.running.clone(), self.peak.clone());
        // The permit goes with the work: a request dropped meanwhile still holds it until the
        // hash is done, so the bound on memory holds.
        tokio::task::spawn_blocking(move || {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let out = f();
            running.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            out
        })
        .await
        .map_err(|_| Busy)
    }

    fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// Whether `password` matches the PHC `hash`; counted in [`Self::checks`].
    async fn verify(&self, password: &str, hash: &str) -> Result<bool, Busy> {
        let (pw, hash) = (password.to_string(), hash.to_string());
        let ok = self
            .run(move || {
                PasswordHash::new(&hash)
                    .is_ok_and(|parsed| Argon2::default().verify_password(pw.as_bytes(), &parsed).is_ok())
            })
            .await?;
        self.checks.fetch_add(1, Ordering::SeqCst);
        Ok(ok)
    }
}

/// Argon2id with the crate's default parameters, on the global pool (it waits for a permit rather
/// than answer busy: only administrators set passwords).
pub async fn hash_password(password: &str) -> Result<String, StorageError> {
    let pw = password.to_string();
    let pool = PasswordPool::global();
    let permit = pool.permits.clone().acquire_owned().await.map_err(|e| StorageError::Rejected(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let out = Argon2::default().hash_password(pw.as_bytes()).map(|h| h.to_string());
        drop(permit);
        out
    })
    .await
    .map_err(|e| StorageError::Rejected(e.to_string()))?
    .map_err(|e| StorageError::Rejected(format!("密码无法加密：{e}")))
}

/// A hash to verify against when the user does not exist, so that a wrong user name takes as
/// long as a wrong password.
static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn dummy_hash() -> Result<&'static str, StorageError> {
    DUMMY_HASH.get_or_try_init(|| hash_password("not a password of anyone")).await.map(String::as_str)
}

/// Failures of one user name from one address before each further attempt waits.
pub const FREE_FAILURES: i32 = 3;
/// The longest wait between attempts of one user name from one address.
const MAX_WAIT_SECS: i64 = 300;
/// Failures for a user name (from anywhere), or from an address (for any name), before each
/// further check is delayed.
pub const SOFT_FREE_FAILURES: i32 = 10;
/// The longest such delay.
pub const MAX_SOFT_DELAY: std::time::Duration = std::time::Duration::from_secs(5);
/// Counts older than this start again.
const WINDOW_MS: i64 = 3_600_000;

/// The wait after `failures` attempts in a row of one user name from one address: none for the
/// first few, then 1 s doubling to 5 minutes.
pub fn throttle_delay(failures: i32) -> Duration {
    if failures < FREE_FAILURES {
        Duration::zero()
    } else {
        Duration::seconds((1i64 << (failures - FREE_FAILURES).min(20)).min(MAX_WAIT_SECS))
    }
}

/// [`throttle_delay`] in SQL (milliseconds) over the integer expression `f`, for both databases.
fn throttle_delay_sql(f: &str) -> String {
    // 2^k s reaches the cap at the first k with 2^k > MAX_WAIT_SECS.
    let capped_from = FREE_FAILURES + (64 - (MAX_WAIT_SECS as u64).leading_zeros()) as i32;
    format!(
        "CASE WHEN {f} < {FREE_FAILURES} THEN 0 WHEN {f} >= {capped_from} THEN {} ELSE 1000 * (1 << ({f} - {FREE_FAILURES})) END",
        MAX_WAIT_SECS * 1000
    )
}

/// The delay before checking, after `failures` recent failures for a name or from an address.
pub fn soft_delay(failures: i32) -> std::time::Duration {
    if failures < SOFT_FREE_FAILURES {
        std::time::Duration::ZERO
    } else {
        std::time::Duration::from_secs((failures - SOFT_FREE_FAILURES + 1) as u64).min(MAX_SOFT_DELAY)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    Ok(User),
    /// Wrong user name or password: one outcome for both.
    Failed,
    /// Too many recent failures of this name from this address; try again after this many seconds.
    Wait(i64),
    /// Too many sign-ins being checked at once; try again shortly.
    Busy,
}

/// Reserve an attempt of `key` at `now` (ms): one statement that counts it only if the wait
/// after the attempts before it has passed. None if reserved, else the seconds left to wait.
async fn reserve(db: &Db, key: &str, now: i64) -> Result<Option<i64>, StorageError> {
    let fresh = "login_attempts.last_ms < $3";
    let sql = format!(
        "INSERT INTO login_attempts (key, failures, last_ms, next_ms) VALUES ($1, 1, $2, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN {fresh} THEN 1 ELSE login_attempts.failures + 1 END, \
           last_ms = excluded.last_ms, \
           next_ms = excluded.last_ms + CASE WHEN {fresh} THEN 0 ELSE {} END \
         WHERE login_attempts.next_ms <= excluded.last_ms \
         RETURNING failures",
        throttle_delay_sql("login_attempts.failures + 1")
    );
    let reserved =
        db.conn().query_one_raw(db.stmt(&sql, vec![key.into(), now.into(), (now - WINDOW_MS).into()])).await?;
    if reserved.is_some() {
        return Ok(None);
    }
    #[derive(sea_orm::FromQueryResult)]
    struct Next {
        next_ms: i64,
    }
    let row = <Next as sea_orm::FromQueryResult>::find_by_statement(
        db.stmt("SELECT next_ms FROM login_attempts WHERE key = $1", vec![key.into()]),
    )
    .one(db.conn())
    .await?;
    let next = row.map_or(now, |r| r.next_ms);
    Ok(Some(((next - now + 999) / 1000).max(1)))
}

/// Give back a reserved attempt that was never checked (the pool was busy).
async fn release(db: &Db, key: &str, now: i64) -> Result<(), StorageError> {
    db.conn()
        .execute_raw(db.stmt(
            "UPDATE login_attempts SET failures = failures - 1, next_ms = $2 WHERE key = $1 AND failures > 0",
            vec![key.into(), now.into()],
        ))
        .await?;
    Ok(())
}

/// Count a failure for a name or an address.
async fn count_failure(db: &Db, key: &str, now: i64) -> Result<(), StorageError> {
    db.conn()
        .execute_raw(db.stmt(
            "INSERT INTO login_attempts (key, failures, last_ms, next_ms) VALUES ($1, 1, $2, 0) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN login_attempts.last_ms < $3 THEN 1 ELSE login_attempts.failures + 1 END, \
               last_ms = excluded.last_ms",
            vec![key.into(), now.into(), (now - WINDOW_MS).into()],
        ))
        .await?;
    Ok(())
}

/// Recent failures of these keys, the most of them.
async fn recent_failures(db: &Db, keys: [&str; 2], now: i64) -> Result<i32, StorageError> {
    #[derive(sea_orm::FromQueryResult)]
    struct Most {
        f: Option<i32>,
    }
    let row = <Most as sea_orm::FromQueryResult>::find_by_statement(db.stmt(
        "SELECT MAX(failures) AS f FROM login_attempts WHERE key IN ($1, $2) AND last_ms >= $3",
        vec![keys[0].into(), keys[1].into(), (now - WINDOW_MS).into()],
    ))
    .one(db.conn())
    .await?;
    Ok(row.and_then(|r| r.f).unwrap_or(0))
}

/// Remove counts older than the window (called now and then by the server).
pub(crate) async fn forget_old_attempts(db: &Db) -> Result<u64, StorageError> {
    let before = Utc::now().timestamp_millis() - WINDOW_MS;
    let r = db
        .conn()
        .execute_raw(db.stmt("DELETE FROM login_attempts WHERE last_ms < $1 AND next_ms < $1", vec![before.into()]))
        .await?;
    Ok(r.rows_affected())
}

/// A user name as the throttle counts it: trimmed, lower case, at most 64 characters (no account
/// has a longer one).
fn throttle_name(username: &str) -> String {
    username.trim().to_lowercase().chars().take(64).collect()
}

/// Check a user name and password from an address (see the module's comment for the throttles).
pub(crate) async fn login(
    db: &Db,
    pool: &PasswordPool,
    username: &str,
    password: &str,
    origin: &str,
) -> Result<LoginOutcome, StorageError> {
    let name = throttle_name(username);
    let origin: String = origin.chars().take(64).collect();
    let pair = format!("pair:{name}\u{1f}{origin}");
    let (user_key, addr_key) = (format!("user:{name}"), format!("ip:{origin}"));
    let now = Utc::now().timestamp_millis();
    if let Some(wait) = reserve(db, &pair, now).await? {
        return Ok(LoginOutcome::Wait(wait));
    }
    let delay = soft_delay(recent_failures(db, [&user_key, &addr_key], now).await?);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let user = find_user(db, username.trim()).await?;
    let hash = match &user {
        Some(u) => {
            #[derive(sea_orm::FromQueryResult)]
            struct Hash {
                password_hash: String,
            }
            <Hash as sea_orm::FromQueryResult>::find_by_statement(
                db.stmt("SELECT password_hash FROM users WHERE id = $1", vec![u.id.into()]),
            )
            .one(db.conn())
            .await?
            .map(|r| r.password_hash)
            .unwrap_or_default()
        }
        None => dummy_hash().await?.to_string(),
    };
    let matched = match pool.verify(password, &hash).await {
        Ok(m) => m,
        Err(Busy) => {
            release(db, &pair, now).await?;
            return Ok(LoginOutcome::Busy);
        }
    };
    match user {
        Some(u) if matched && u.active => {
            db.conn().execute_raw(db.stmt("DELETE FROM login_attempts WHERE key = $1", vec![pair.into()])).await?;
            Ok(LoginOutcome::Ok(u))
        }
        _ => {
            let now = Utc::now().timestamp_millis();
            count_failure(db, &user_key, now).await?;
            count_failure(db, &addr_key, now).await?;
            Ok(LoginOutcome::Failed)
        }
    }
}

/// Signing in: the one way into storage without an actor, since it is how one is made.
/// Signing in, and the signed-in user behind a session or a token: the one way into storage
/// without an actor, since it is how one is made.
pub struct Login<'a>(&'a Db);

impl Db {
    pub fn login(&self) -> Login<'_> {
        Login(self)
    }
}

impl Login<'_> {
    /// A user by name (the login form).
    pub async fn find_user(&self, username: &str) -> Result<Option<User>, StorageError> {
        super::find_user(self.0, username).await
    }

    /// The user a session names.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StorageError> {
        super::user_by_id(self.0, id).await
    }

    /// The active user a Bearer token belongs to, if the token is neither revoked nor expired.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>, StorageError> {
        super::user_for_token(self.0, token).await
    }

    /// The secret that signs the login form's token, kept in the settings table so that every process
    /// on one database signs alike; made on first use.
    pub async fn login_form_secret(&self) -> Result<[u8; 32], StorageError> {
        super::login_form_secret(self.0).await
    }

    /// Remove counts older than the window (called now and then by the server).
    pub async fn forget_old_attempts(&self) -> Result<u64, StorageError> {
        forget_old_attempts(self.0).await
    }

    /// Check a user name and password from an address (see the module's comment for the throttles).
    pub async fn login(
        &self,
        pool: &PasswordPool,
        username: &str,
        password: &str,
        origin: &str,
    ) -> Result<LoginOutcome, StorageError> {
        login(self.0, pool, username, password, origin).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_wait_is_the_rust_wait() {
        // Evaluate the CASE by hand for each count: the same thresholds and cap as throttle_delay.
        let sql = throttle_delay_sql("f");
        assert!(sql.starts_with("CASE WHEN f < 3 THEN 0 WHEN f >= 12 THEN 300000"), "{sql}");
        for f in 3..12 {
            assert_eq!(throttle_delay(f).num_milliseconds(), 1000 * (1 << (f - 3)), "f = {f}");
        }
        assert_eq!(throttle_delay(12).num_seconds(), 300);
        assert_eq!(throttle_delay(2).num_seconds(), 0);
    }

    #[test]
    fn others_failures_delay_and_never_exceed_the_cap() {
        assert!(soft_delay(SOFT_FREE_FAILURES - 1).is_zero());
        assert_eq!(soft_delay(SOFT_FREE_FAILURES), std::time::Duration::from_secs(1));
        assert_eq!(soft_delay(10_000), MAX_SOFT_DELAY);
    }

    #[tokio::test]
    async fn the_pool_answers_busy_beyond_its_queue_and_never_runs_more_than_its_permits() {
        let pool = Arc::new(PasswordPool::new(1, 1));
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                pool.run(|| std::thread::sleep(std::time::Duration::from_millis(200))).await
            }));
        }
        let mut busy = 0;
        for t in tasks {
            if t.await.unwrap().is_err() {
                busy += 1;
            }
        }
        assert_eq!(pool.peak(), 1);
        assert!(busy >= 4, "one running, one waiting, the rest busy: {busy}");
    }
}
