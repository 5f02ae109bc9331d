//! tower-sessions' store over ducha's own database, so that several ducha processes behind one
//! load balancer share sessions. Each row names its signed-in user (`user_id`), so that a
//! password reset or a disable can end that user's sessions.

use async_trait::async_trait;
use sea_orm::ConnectionTrait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, Error, SessionStore};

use crate::Db;

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Remove expired sessions (called now and then by the server).
    pub async fn delete_expired(&self) -> Result<u64, crate::StorageError> {
        let now = chrono::Utc::now();
        let r = self
            .db
            .conn()
            .execute_raw(self.db.stmt("DELETE FROM sessions WHERE expiry_date < $1", vec![now.into()]))
            .await?;
        Ok(r.rows_affected())
    }
}

fn backend(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

/// The key under which the web layer keeps the signed-in user's id.
pub const USER_KEY: &str = "user_id";

fn user_of(r: &Record) -> Option<i64> {
    r.data.get(USER_KEY).and_then(serde_json::Value::as_i64)
}

fn expiry(r: &Record) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    chrono::DateTime::from_timestamp(r.expiry_date.unix_timestamp(), r.expiry_date.nanosecond())
        .ok_or_else(|| backend("bad expiry"))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A new random id until it does not collide (practically never more than once).
        loop {
            let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
            let r = self
                .db
                .conn()
                .execute_raw(self.db.stmt(
                    "INSERT INTO sessions (id, data, expiry_date, user_id) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                    vec![record.id.to_string().into(), data.into(), expiry(record)?.into(), user_of(record).into()],
                ))
                .await
                .map_err(backend)?;
            if r.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Only an existing session is saved (new ones go through `create`): a session ended meanwhile
    /// (a password reset, a disable) is not brought back by a request that was in flight.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        self.db
            .conn()
            .execute_raw(self.db.stmt(
                "UPDATE sessions SET data = $2, expiry_date = $3, user_id = $4 WHERE id = $1",
                vec![record.id.to_string().into(), data.into(), expiry(record)?.into(), user_of(record).into()],
            ))
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        #[derive(sea_orm::FromQueryResult)]
        struct Stored {
            data: String,
            expiry_date: chrono::DateTime<chrono::Utc>,
        }
        let row = <Stored as sea_orm::FromQueryResult>::find_by_statement(self.db.stmt(
            "SELECT data, expiry_date FROM sessions WHERE id = $1 AND expiry_date > $2",
            vec![id.to_string().into(), chrono::Utc::now().into()],
        ))
        .one(self.db.conn())
        .await
        .map_err(backend)?;
        let Some(Stored { data, expiry_date: exp }) = row else { return Ok(None) };
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(exp.timestamp()).map_err(backend)?;
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.db
            .conn()
            .execute_raw(self.db.stmt("DELETE FROM sessions WHERE id = $1", vec![id.to_string().into()]))
            .await
            .map_err(backend)?;
        Ok(())
    }
}
