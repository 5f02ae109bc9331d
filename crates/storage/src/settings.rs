//! Small key/value settings kept in the database (the demo's seed and size, …).

use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use crate::{Db, StorageError};

/// A setting as stored.
#[derive(FromQueryResult)]
struct Setting {
    key: String,
    value: String,
}

pub(crate) async fn get(db: &Db, key: &str) -> Result<Option<String>, StorageError> {
    let row = Setting::find_by_statement(db.stmt("SELECT key, value FROM settings WHERE key = $1", vec![key.into()]))
        .one(db.conn())
        .await?;
    Ok(row.map(|r| r.value))
}

pub(crate) async fn set<C: ConnectionTrait>(db: &Db, c: &C, key: &str, value: &str) -> Result<(), StorageError> {
    let values: Vec<Value> = vec![key.into(), value.into()];
    c.execute_raw(db.stmt(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        values,
    ))
    .await?;
    Ok(())
}

/// The check year and the day the checks look at: the settings `check_year` and `check_as_of`,
/// by default `today`'s year and `today` (one query: every save re-checks, and reads these).
pub(crate) async fn check_period<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    today: chrono::NaiveDate,
) -> Result<(i32, chrono::NaiveDate), StorageError> {
    let (mut year, mut as_of) = (chrono::Datelike::year(&today), today);
    let rows = Setting::find_by_statement(
        db.stmt("SELECT key, value FROM settings WHERE key IN ('check_year', 'check_as_of')", vec![]),
    )
    .all(c)
    .await?;
    for r in rows {
        match r.key.as_str() {
            "check_year" => year = r.value.parse().unwrap_or(year),
            _ => as_of = r.value.parse().unwrap_or(as_of),
        }
    }
    Ok((year, as_of))
}

pub struct Settings<'a>(pub(crate) &'a crate::Scoped);

impl crate::Scoped {
    pub fn settings(&self) -> Settings<'_> {
        Settings(self)
    }
}

impl Settings<'_> {
    pub async fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        get(self.0.db(), key).await
    }

    pub async fn set<C: ConnectionTrait>(&self, c: &C, key: &str, value: &str) -> Result<(), StorageError> {
        set(self.0.db(), c, key, value).await
    }
}
