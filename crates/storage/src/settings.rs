//! Small key/value settings kept in the database (the demo's seed and size, …).

use sea_orm::{ConnectionTrait, Value};

use crate::{Db, StorageError};

pub(crate) async fn get(db: &Db, key: &str) -> Result<Option<String>, StorageError> {
    let row = db.conn().query_one_raw(db.stmt("SELECT value FROM settings WHERE key = $1", vec![key.into()])).await?;
    Ok(match row {
        Some(r) => Some(r.try_get::<String>("", "value")?),
        None => None,
    })
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
