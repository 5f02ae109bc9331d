//! What every bench binary opens a database with: migrated, with its data keys (made beside an
//! SQLite file at the first write, as the `ducha` binary does), since personal data is sealed.

use ducha_storage::Db;
use ducha_storage::audit::anchor::AnchorPaths;

/// The database at `url` with its data keys; a new one gets them in the suite `DUCHA_CRYPTO` names.
pub async fn open(url: &str) -> anyhow::Result<Db> {
    let db = Db::open(url).await?;
    let master = AnchorPaths::default_for(url).master;
    Ok(ducha_storage::datakeys::open(db, &master, true).await?.0)
}
