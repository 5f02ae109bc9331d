//! Import jobs started from the web: stored with their file and report, visible only to the user
//! who started them, and updated as the writing goes on.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::{Db, StorageError};

#[derive(Debug, Clone, FromQueryResult)]
pub struct ImportJob {
    pub id: i64,
    pub user_id: i64,
    pub filename: String,
    /// queued (waiting for its turn to be checked), checking, checked (previewed, can be
    /// confirmed), refused (errors), running, done, failed, expired (checked, never confirmed),
    /// interrupted (its server stopped first; nothing written)
    pub status: String,
    /// JSON written by the importer: summary, errors, notes, message.
    pub report: String,
    pub done: i64,
    pub total: i64,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A new job's id.
#[derive(FromQueryResult)]
struct Id {
    id: i64,
}

/// A count of jobs.
#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

const COLUMNS: &str = "id, user_id, filename, status, report, done, total, created_at, finished_at";

pub(crate) async fn create(
    db: &Db,
    user_id: i64,
    filename: &str,
    file: &[u8],
    status: &str,
    report: &str,
    total: i64,
) -> Result<i64, StorageError> {
    let row = Id::find_by_statement(db.stmt(
        "INSERT INTO import_jobs (user_id, filename, file, status, report, done, total, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $7) RETURNING id",
        vec![user_id.into(), filename.into(), crate::personal::seal_file_apart(db.keys()?, "import_jobs", file.to_vec()).await?.into(), status.into(), report.into(), total.into(), Utc::now().into()],
    ))
    .one(db.conn())
    .await?
    .ok_or_else(|| StorageError::Rejected("导入任务未能保存".into()))?;
    Ok(row.id)
}

/// A job of this user (None for anyone else's: no hint that it exists).
pub(crate) async fn get(db: &Db, user_id: i64, id: i64) -> Result<Option<ImportJob>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM import_jobs WHERE id = $1 AND user_id = $2");
    Ok(ImportJob::find_by_statement(db.stmt(&sql, vec![id.into(), user_id.into()])).one(db.conn()).await?)
}

/// A job's file: its name and bytes (empty once cleaned away).
pub(crate) async fn file(db: &Db, id: i64) -> Result<(String, Vec<u8>), StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        filename: String,
        file: Vec<u8>,
    }
    let row = Row::find_by_statement(db.stmt("SELECT filename, file FROM import_jobs WHERE id = $1", vec![id.into()]))
        .one(db.conn())
        .await?;
    Ok(match row {
        Some(r) => (r.filename, crate::personal::open_file_apart("import_jobs", r.file).await?),
        None => (String::new(), Vec::new()),
    })
}

/// How many of a user's files are waiting for their check or being checked.
pub(crate) async fn pending(db: &Db, user_id: i64) -> Result<i64, StorageError> {
    let row = Count::find_by_statement(db.stmt(
        "SELECT COUNT(*) AS n FROM import_jobs WHERE user_id = $1 AND status IN ('queued', 'checking') AND created_at > $2",
        vec![user_id.into(), (Utc::now() - STALE_CHECK).into()],
    ))
    .one(db.conn())
    .await?;
    Ok(match row {
        Some(r) => r.n,
        None => 0,
    })
}

/// How many jobs are kept in each status (for monitoring).
pub(crate) async fn by_status(db: &Db) -> Result<Vec<(String, i64)>, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        status: String,
        n: i64,
    }
    let rows = Row::find_by_statement(
        db.stmt("SELECT status, COUNT(*) AS n FROM import_jobs GROUP BY status ORDER BY status", vec![]),
    )
    .all(db.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
}

pub(crate) async fn set_status(db: &Db, id: i64, status: &str) -> Result<(), StorageError> {
    db.conn()
        .execute_raw(db.stmt("UPDATE import_jobs SET status = $1 WHERE id = $2", vec![status.into(), id.into()]))
        .await?;
    Ok(())
}

/// How long uploaded files are kept: they hold personal data, and once checked or imported only
/// the report is needed.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// A finished job's file (refused, failed, done) is removed this long after it finished.
    pub file: chrono::Duration,
    /// A checked file nobody confirmed expires (file removed) this long after its upload.
    pub unconfirmed: chrono::Duration,
    /// The whole job (its report too) is removed this long after its upload.
    pub job: chrono::Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            file: chrono::Duration::days(1),
            unconfirmed: chrono::Duration::days(7),
            job: chrono::Duration::days(30),
        }
    }
}

/// What a clean-up removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleaned {
    /// Jobs left unfinished by a server that stopped.
    pub interrupted: u64,
    pub files: u64,
    pub expired: u64,
    pub jobs: u64,
}

/// Remove what is kept longer than `keep` allows, as of `now`. Run on a schedule by the server.
pub(crate) async fn clean(db: &Db, keep: Retention, now: DateTime<Utc>) -> Result<Cleaned, StorageError> {
    let empty: Vec<u8> = Vec::new();
    let interrupted = end_abandoned(db, None, now).await?;
    let jobs = db
        .conn()
        .execute_raw(db.stmt("DELETE FROM import_jobs WHERE created_at < $1", vec![(now - keep.job).into()]))
        .await?
        .rows_affected();
    let expired = db
        .conn()
        .execute_raw(db.stmt(
            "UPDATE import_jobs SET status = 'expired', file = $1, finished_at = $2 WHERE status = 'checked' AND created_at < $3",
            vec![empty.clone().into(), now.into(), (now - keep.unconfirmed).into()],
        ))
        .await?
        .rows_affected();
    let files = db
        .conn()
        .execute_raw(db.stmt(
            "UPDATE import_jobs SET file = $1 WHERE status IN ('refused', 'failed', 'interrupted', 'done') AND finished_at < $2 AND LENGTH(file) > 0",
            vec![empty.into(), (now - keep.file).into()],
        ))
        .await?
        .rows_affected();
    Ok(Cleaned { interrupted, files, expired, jobs })
}

/// What an interrupted job's page says.
const INTERRUPTED: &str = r#"{"message":"这个文件的处理被中断（服务曾停止），未写入任何数据；请重新上传"}"#;

/// Statuses of a job that some server process is still to move on.
const UNFINISHED: &str = "'queued', 'checking', 'running'";

/// How often a server says its jobs are alive, and how long a silence means its process is gone.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(15);
pub const SILENCE: chrono::Duration = chrono::Duration::seconds(90);

/// Jobs left waiting, being checked or being written by a server that stopped: none of them
/// wrote anything (the writing is one transaction), so they end as interrupted, to be sent again.
/// A job names the process that runs it and when that process last said it was alive; one
/// silent for [`SILENCE`] is gone, whichever host of several it was on. With `slot` (this
/// process's host and listening address), also the jobs of an earlier process of that slot,
/// which can only have stopped, since this one now holds the address. Jobs from before jobs had
/// owners go by age: a check takes minutes and a write of a whole city well under an hour.
pub(crate) async fn end_abandoned(db: &Db, slot: Option<&str>, now: DateTime<Utc>) -> Result<u64, StorageError> {
    let mut n = 0;
    for (statuses, age) in [("'queued', 'checking'", STALE_CHECK), ("'running'", chrono::Duration::hours(6))] {
        n += db
            .conn()
            .execute_raw(db.stmt(
                &format!(
                    "UPDATE import_jobs SET status = 'interrupted', report = $1, finished_at = $2 \
                     WHERE status IN ({statuses}) AND owner IS NULL AND created_at < $3"
                ),
                vec![INTERRUPTED.into(), now.into(), (now - age).into()],
            ))
            .await?
            .rows_affected();
    }
    // A slot's earlier process: its owner is "slot run"; the space keeps "…:80" from "…:8080".
    let slot_like = slot.map(|s| format!("{} %", s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    n += db
        .conn()
        .execute_raw(db.stmt(
            &format!(
                "UPDATE import_jobs SET status = 'interrupted', report = $1, finished_at = $2 \
                 WHERE status IN ({UNFINISHED}) AND owner IS NOT NULL \
                 AND (alive_at < $3 OR (owner LIKE $4 ESCAPE '\\' AND owner <> $5))"
            ),
            vec![
                INTERRUPTED.into(),
                now.into(),
                (now - SILENCE).into(),
                slot_like.unwrap_or_default().into(),
                slot.map(owner_name).unwrap_or_default().into(),
            ],
        ))
        .await?
        .rows_affected();
    Ok(n)
}

/// The name a job's owner goes by: the slot (host and address) and this run of the process (its
/// id and a random tag: a process in a container is pid 1 at every start).
pub fn owner_name(slot: &str) -> String {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| {
        let tag = crate::crypto::random_bytes::<4>().map(|b| crate::crypto::hex(&b)).unwrap_or_default();
        format!("{}-{tag}", std::process::id())
    });
    format!("{slot} {run}")
}

/// The process `owner` runs job `id` from now on.
pub(crate) async fn claim(db: &Db, id: i64, owner: &str) -> Result<(), StorageError> {
    db.conn()
        .execute_raw(db.stmt(
            "UPDATE import_jobs SET owner = $1, alive_at = $2 WHERE id = $3",
            vec![owner.into(), Utc::now().into(), id.into()],
        ))
        .await?;
    Ok(())
}

/// The process `owner` is alive: its unfinished jobs are still followed.
pub(crate) async fn heartbeat(db: &Db, owner: &str, now: DateTime<Utc>) -> Result<(), StorageError> {
    db.conn()
        .execute_raw(db.stmt(
            &format!("UPDATE import_jobs SET alive_at = $1 WHERE owner = $2 AND status IN ({UNFINISHED})"),
            vec![now.into(), owner.into()],
        ))
        .await?;
    Ok(())
}

/// A job this process stopped before it ended (a stop that could not wait for it): nothing of it
/// was written.
pub(crate) async fn interrupt(db: &Db, id: i64) -> Result<(), StorageError> {
    db.conn()
        .execute_raw(db.stmt(
            &format!(
                "UPDATE import_jobs SET status = 'interrupted', report = $1, finished_at = $2 WHERE id = $3 AND status IN ({UNFINISHED})"
            ),
            vec![INTERRUPTED.into(), Utc::now().into(), id.into()],
        ))
        .await?;
    Ok(())
}

/// A file waiting or being checked for longer than this was left by a server that stopped.
const STALE_CHECK: chrono::Duration = chrono::Duration::hours(1);

pub(crate) async fn recent(db: &Db, user_id: i64, limit: u64) -> Result<Vec<ImportJob>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM import_jobs WHERE user_id = $1 ORDER BY id DESC LIMIT {limit}");
    Ok(ImportJob::find_by_statement(db.stmt(&sql, vec![user_id.into()])).all(db.conn()).await?)
}

/// Move a checked job to running, written by `owner`; false if it was not waiting (confirmed
/// twice, or refused).
pub(crate) async fn start(db: &Db, id: i64, owner: &str) -> Result<bool, StorageError> {
    let r = db
        .conn()
        .execute_raw(db.stmt(
            "UPDATE import_jobs SET status = 'running', done = 0, owner = $2, alive_at = $3 WHERE id = $1 AND status = 'checked'",
            vec![id.into(), owner.into(), Utc::now().into()],
        ))
        .await?;
    Ok(r.rows_affected() == 1)
}

pub(crate) async fn progress(db: &Db, id: i64, done: i64, total: i64) -> Result<(), StorageError> {
    db.conn()
        .execute_raw(db.stmt(
            "UPDATE import_jobs SET done = $1, total = $2 WHERE id = $3",
            vec![done.into(), total.into(), id.into()],
        ))
        .await?;
    Ok(())
}

tokio::task_local! {
    /// The import job the current task writes for (see [`run_as`]).
    static RUNNING_JOB: i64;
}

/// Run `work` as import job `id`: the write transaction that commits the import's data also marks
/// the job done, so a process that dies between the commit and [`finish`] (a kill, a stop's bound)
/// never leaves data written under a job that says nothing was written. `finish` adds the report.
pub async fn run_as<F: std::future::Future>(id: i64, work: F) -> F::Output {
    RUNNING_JOB.scope(id, work).await
}

/// The import job this task writes for, if any.
pub(crate) fn running_job() -> Option<i64> {
    RUNNING_JOB.try_with(|id| *id).ok()
}

pub(crate) async fn finish(db: &Db, id: i64, status: &str, report: &str) -> Result<(), StorageError> {
    db.conn()
        .execute_raw(db.stmt(
            "UPDATE import_jobs SET status = $1, report = $2, finished_at = $3 WHERE id = $4",
            vec![status.into(), report.into(), Utc::now().into(), id.into()],
        ))
        .await?;
    Ok(())
}

pub struct ImportJobs<'a>(pub(crate) &'a crate::Scoped);

impl crate::Scoped {
    pub fn import_jobs(&self) -> ImportJobs<'_> {
        ImportJobs(self)
    }
}

impl ImportJobs<'_> {
    pub async fn create(
        &self,
        filename: &str,
        file: &[u8],
        status: &str,
        report: &str,
        total: i64,
    ) -> Result<i64, StorageError> {
        create(self.0.db(), self.user()?, filename, file, status, report, total).await
    }

    /// A job of this user (None for anyone else's: no hint that it exists).
    pub async fn get(&self, id: i64) -> Result<Option<ImportJob>, StorageError> {
        get(self.0.db(), self.user()?, id).await
    }

    /// A job's file: its name and bytes (empty once cleaned away).
    pub async fn file(&self, id: i64) -> Result<(String, Vec<u8>), StorageError> {
        self.mine(id).await?;
        file(self.0.db(), id).await
    }

    /// How many of a user's files are waiting for their check or being checked.
    pub async fn pending(&self) -> Result<i64, StorageError> {
        pending(self.0.db(), self.user()?).await
    }

    /// How many jobs are kept in each status (for monitoring).
    pub async fn by_status(&self) -> Result<Vec<(String, i64)>, StorageError> {
        self.itself()?;
        by_status(self.0.db()).await
    }

    pub async fn set_status(&self, id: i64, status: &str) -> Result<(), StorageError> {
        self.mine(id).await?;
        set_status(self.0.db(), id, status).await
    }

    /// Remove what is kept longer than `keep` allows, as of `now`. Run on a schedule by the server.
    pub async fn clean(&self, keep: Retention, now: DateTime<Utc>) -> Result<Cleaned, StorageError> {
        self.itself()?;
        clean(self.0.db(), keep, now).await
    }

    /// Jobs left waiting, being checked or being written by a server that stopped: none of them
    /// wrote anything (the writing is one transaction), so they end as interrupted, to be sent again.
    /// A job names the process that runs it and when that process last said it was alive; one
    /// silent for [`SILENCE`] is gone, whichever host of several it was on. With `slot` (this
    /// process's host and listening address), also the jobs of an earlier process of that slot,
    /// which can only have stopped, since this one now holds the address. Jobs from before jobs had
    /// owners go by age: a check takes minutes and a write of a whole city well under an hour.
    pub async fn end_abandoned(&self, slot: Option<&str>, now: DateTime<Utc>) -> Result<u64, StorageError> {
        self.itself()?;
        end_abandoned(self.0.db(), slot, now).await
    }

    /// The process `owner` runs job `id` from now on.
    pub async fn claim(&self, id: i64, owner: &str) -> Result<(), StorageError> {
        self.mine(id).await?;
        claim(self.0.db(), id, owner).await
    }

    /// The process `owner` is alive: its unfinished jobs are still followed.
    pub async fn heartbeat(&self, owner: &str, now: DateTime<Utc>) -> Result<(), StorageError> {
        self.itself()?;
        heartbeat(self.0.db(), owner, now).await
    }

    /// A job this process stopped before it ended (a stop that could not wait for it): nothing of it
    /// was written.
    pub async fn interrupt(&self, id: i64) -> Result<(), StorageError> {
        self.mine(id).await?;
        interrupt(self.0.db(), id).await
    }

    pub async fn recent(&self, limit: u64) -> Result<Vec<ImportJob>, StorageError> {
        recent(self.0.db(), self.user()?, limit).await
    }

    /// Move a checked job to running, written by `owner`; false if it was not waiting (confirmed
    /// twice, or refused).
    pub async fn start(&self, id: i64, owner: &str) -> Result<bool, StorageError> {
        self.mine(id).await?;
        start(self.0.db(), id, owner).await
    }

    pub async fn progress(&self, id: i64, done: i64, total: i64) -> Result<(), StorageError> {
        self.mine(id).await?;
        progress(self.0.db(), id, done, total).await
    }

    pub async fn finish(&self, id: i64, status: &str, report: &str) -> Result<(), StorageError> {
        self.mine(id).await?;
        finish(self.0.db(), id, status, report).await
    }
}

impl ImportJobs<'_> {
    /// The signed-in user whose jobs these are.
    fn user(&self) -> Result<i64, StorageError> {
        self.0.actor().user_id.ok_or_else(|| StorageError::Forbidden("只有登录的用户才有导入任务".into()))
    }

    /// What runs on the server's schedule is ducha's own business (and the command line's).
    fn itself(&self) -> Result<(), StorageError> {
        let a = self.0.actor();
        if a.user_id.is_none() && a.scope == ducha_domain::access::Scope::All {
            Ok(())
        } else {
            Err(StorageError::Forbidden("这是系统自己的工作".into()))
        }
    }

    /// A job by id is the business of its user, or of ducha itself (the background worker and
    /// the schedule that cleans up): anyone else is told it is not there.
    async fn mine(&self, id: i64) -> Result<(), StorageError> {
        let a = self.0.actor();
        if a.user_id.is_none() && a.scope == ducha_domain::access::Scope::All {
            return Ok(());
        }
        match get(self.0.db(), self.user()?, id).await? {
            Some(_) => Ok(()),
            None => Err(StorageError::NotFound),
        }
    }
}
