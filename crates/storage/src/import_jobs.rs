//! Import jobs started from the web: stored with their file and report, visible only to the user
//! who started them, and updated as the writing goes on.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::{Db, StorageError};

#[derive(Debug, Clone)]
pub struct ImportJob {
    pub id: i64,
    pub user_id: i64,
    pub filename: String,
    /// checked (previewed, can be confirmed), refused (errors), running, done, failed
    pub status: String,
    /// JSON written by the importer: summary, errors, notes, message.
    pub report: String,
    pub done: i64,
    pub total: i64,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

fn from_row(r: &sea_orm::QueryResult) -> Result<ImportJob, StorageError> {
    Ok(ImportJob {
        id: r.try_get("", "id")?,
        user_id: r.try_get("", "user_id")?,
        filename: r.try_get("", "filename")?,
        status: r.try_get("", "status")?,
        report: r.try_get("", "report")?,
        done: r.try_get("", "done")?,
        total: r.try_get("", "total")?,
        created_at: r.try_get("", "created_at")?,
        finished_at: r.try_get("", "finished_at")?,
    })
}

const COLUMNS: &str = "id, user_id, filename, status, report, done, total, created_at, finished_at";

pub async fn create(
    db: &Db,
    user_id: i64,
    filename: &str,
    file: &[u8],
    status: &str,
    report: &str,
    total: i64,
) -> Result<i64, StorageError> {
    let row = db
        .conn()
        .query_one_raw(db.stmt(
            "INSERT INTO import_jobs (user_id, filename, file, status, report, done, total, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $7) RETURNING id",
            vec![user_id.into(), filename.into(), file.to_vec().into(), status.into(), report.into(), total.into(), Utc::now().into()],
        ))
        .await?
        .ok_or_else(|| StorageError::Rejected("导入任务未能保存".into()))?;
    Ok(row.try_get("", "id")?)
}

/// A job of this user (None for anyone else's: no hint that it exists).
pub async fn get(db: &Db, user_id: i64, id: i64) -> Result<Option<ImportJob>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM import_jobs WHERE id = $1 AND user_id = $2");
    db.conn().query_one_raw(db.stmt(&sql, vec![id.into(), user_id.into()])).await?.as_ref().map(from_row).transpose()
}

pub async fn file(db: &Db, id: i64) -> Result<Vec<u8>, StorageError> {
    let row = db.conn().query_one_raw(db.stmt("SELECT file FROM import_jobs WHERE id = $1", vec![id.into()])).await?;
    Ok(row.map(|r| r.try_get("", "file")).transpose()?.unwrap_or_default())
}

pub async fn recent(db: &Db, user_id: i64, limit: u64) -> Result<Vec<ImportJob>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM import_jobs WHERE user_id = $1 ORDER BY id DESC LIMIT {limit}");
    db.conn().query_all_raw(db.stmt(&sql, vec![user_id.into()])).await?.iter().map(from_row).collect()
}

/// Move a checked job to running; false if it was not waiting (confirmed twice, or refused).
pub async fn start(db: &Db, id: i64) -> Result<bool, StorageError> {
    let r = db
        .conn()
        .execute_raw(db.stmt(
            "UPDATE import_jobs SET status = 'running', done = 0 WHERE id = $1 AND status = 'checked'",
            vec![id.into()],
        ))
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn progress(db: &Db, id: i64, done: i64, total: i64) -> Result<(), StorageError> {
    db.conn()
        .execute_raw(db.stmt(
            "UPDATE import_jobs SET done = $1, total = $2 WHERE id = $3",
            vec![done.into(), total.into(), id.into()],
        ))
        .await?;
    Ok(())
}

pub async fn finish(db: &Db, id: i64, status: &str, report: &str) -> Result<(), StorageError> {
    db.conn()
        .execute_raw(db.stmt(
            "UPDATE import_jobs SET status = $1, report = $2, finished_at = $3 WHERE id = $4",
            vec![status.into(), report.into(), Utc::now().into(), id.into()],
        ))
        .await?;
    Ok(())
}
