//! Evidence (佐证材料) in the database: each file's bytes once, by SHA-256, and a row per
//! attachment naming the record it proves. Reads are scoped by the household's village.

use chrono::{DateTime, Utc};
use ducha_domain::access::Scope;
use sea_orm::{ConnectionTrait, FromQueryResult, Value};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::AuditTxn;
use crate::campaigns::IdRow;
use crate::registry::household;
use crate::registry::write::field_error;
use crate::{Db, StorageError};

/// A file as uploaded.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, FromQueryResult)]
pub struct EvidenceMeta {
    pub id: i64,
    pub owner_kind: String,
    pub owner_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

/// Attach a file to a record, inside the record's transaction; refused by type or size at the
/// `files` field.
pub async fn attach(
    tx: &mut AuditTxn<'_>,
    owner_kind: &str,
    owner_id: i64,
    h: &household::Model,
    file: &Upload,
) -> Result<i64, StorageError> {
    attach_to(tx, owner_kind, owner_id, Some(h.id), &h.village_code, file).await
}

/// The same, for a record that may have no household yet (a new identification): the village
/// decides who may read the file.
pub async fn attach_to(
    tx: &mut AuditTxn<'_>,
    owner_kind: &str,
    owner_id: i64,
    household_id: Option<i64>,
    village_code: &str,
    file: &Upload,
) -> Result<i64, StorageError> {
    let content_type =
        ducha_domain::evidence::accept(&file.filename, &file.bytes).map_err(|m| field_error("files", m))?;
    let sha: String = Sha256::digest(&file.bytes).iter().map(|b| format!("{b:02x}")).collect();
    let db = tx.db();
    let size = file.bytes.len() as i64;
    // The same bytes are kept once, whoever attaches them to what.
    tx.conn()
        .execute_raw(db.stmt(
            "INSERT INTO evidence_blobs (sha256, size, data) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
            vec![
                sha.clone().into(),
                size.into(),
                crate::personal::seal_file_apart(db.keys()?, "evidence_blobs", file.bytes.clone()).await?.into(),
            ],
        ))
        .await?;
    let name: String = file.filename.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(200).collect();
    let id = IdRow::find_by_statement(db.stmt(
            "INSERT INTO evidence (owner_kind, owner_id, household_id, village_code, filename, content_type, size, sha256, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            vec![
                owner_kind.into(),
                owner_id.into(),
                household_id.into(),
                village_code.into(),
                name.clone().into(),
                content_type.into(),
                size.into(),
                sha.clone().into(),
                tx.actor().username.clone().into(),
                Utc::now().into(),
            ],
        ))
        .one(tx.conn())
        .await?
        .ok_or_else(|| StorageError::Corrupt("佐证材料未能写入".into()))?
        .id;
    let after =
        serde_json::json!({ "owner": owner_kind, "owner_id": owner_id, "filename": name, "size": size, "sha256": sha });
    tx.record::<(), _>("evidence", id, Some(village_code), "attach", None, Some(&after)).await?;
    Ok(id)
}

const COLUMNS: &str = "id, owner_kind, owner_id, filename, content_type, size, sha256, uploaded_by, uploaded_at";

/// Every file attached to one record (unchecked: for the storage code that has read the record
/// within the actor's scope already).
pub(crate) async fn for_owner(db: &Db, owner_kind: &str, owner_id: i64) -> Result<Vec<EvidenceMeta>, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM evidence WHERE owner_kind = $1 AND owner_id = $2 ORDER BY id");
    Ok(EvidenceMeta::find_by_statement(db.stmt(&sql, vec![owner_kind.into(), owner_id.into()])).all(db.conn()).await?)
}

/// Every file attached to a household's own records. Files of campaign visits and problems are
/// not among them: they belong to the campaign and are read through it (a photo here would tell
/// the town that the household was sampled).
pub(crate) async fn for_household(db: &Db, household_id: i64) -> Result<Vec<EvidenceMeta>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM evidence WHERE household_id = $1 AND owner_kind NOT LIKE 'campaign%' ORDER BY id"
    );
    Ok(EvidenceMeta::find_by_statement(db.stmt(&sql, vec![household_id.into()])).all(db.conn()).await?)
}

/// Whether the actor may read a file attached to `kind`/`owner` in `village`: within their
/// scope, or, for an inspector, a campaign's or a rectification's file in a district their team
/// works in today. A campaign's file (its visits', reviews' and problems' evidence) is, moreover,
/// not there for anyone the campaign is still sealed from.
async fn visible(
    db: &Db,
    actor: &ducha_domain::access::Actor,
    today: chrono::NaiveDate,
    kind: &str,
    owner: i64,
    village: &str,
) -> Result<bool, StorageError> {
    if let Some(campaign) = campaign_of_file(db, kind, owner).await? {
        let c = crate::campaigns::get(db, db.conn(), campaign).await?;
        if crate::campaigns::sealed_from(db, db.conn(), actor, &c, today).await? {
            return Ok(false);
        }
    }
    if actor.role != ducha_domain::access::Role::Inspector {
        return Ok(actor.scope.contains(village));
    }
    let districts = crate::rectification::inspector_districts(db, db.conn(), actor, today).await?;
    let campaign_file = kind.starts_with("campaign_") || kind == "rectification";
    Ok(campaign_file && districts.iter().any(|d| village.starts_with(d.as_str())))
}

/// One file and its bytes, if the actor may read it (see [`visible`]).
pub(crate) async fn fetch_for(
    db: &Db,
    actor: &ducha_domain::access::Actor,
    today: chrono::NaiveDate,
    id: i64,
) -> Result<Option<(EvidenceMeta, Vec<u8>)>, StorageError> {
    #[derive(FromQueryResult)]
    struct Owner {
        owner_kind: String,
        owner_id: i64,
        village_code: String,
    }
    let row = Owner::find_by_statement(
        db.stmt("SELECT owner_kind, owner_id, village_code FROM evidence WHERE id = $1", vec![id.into()]),
    )
    .one(db.conn())
    .await?;
    let Some(Owner { owner_kind: kind, owner_id: owner, village_code: village }) = row else { return Ok(None) };
    if visible(db, actor, today, &kind, owner, &village).await? { fetch(db, &Scope::All, id).await } else { Ok(None) }
}

/// The campaign a file belongs to, if it is a campaign's.
async fn campaign_of_file(db: &Db, kind: &str, owner: i64) -> Result<Option<i64>, StorageError> {
    let sql = match kind {
        "campaign_review" => return Ok(Some(owner)),
        "campaign_visit" => "SELECT campaign_id FROM campaign_visits WHERE id = $1",
        "campaign_problem" | "rectification" => "SELECT campaign_id FROM campaign_problems WHERE id = $1",
        _ => return Ok(None),
    };
    #[derive(FromQueryResult)]
    struct Of {
        campaign_id: i64,
    }
    Ok(Of::find_by_statement(db.stmt(sql, vec![owner.into()])).one(db.conn()).await?.map(|r| r.campaign_id))
}

/// One file and its bytes, if its household lies in the scope.
pub(crate) async fn fetch(db: &Db, scope: &Scope, id: i64) -> Result<Option<(EvidenceMeta, Vec<u8>)>, StorageError> {
    let sql = format!("SELECT {COLUMNS}, village_code FROM evidence WHERE id = $1");
    #[derive(FromQueryResult)]
    struct Located {
        #[sea_orm(nested)]
        meta: EvidenceMeta,
        village_code: String,
    }
    #[derive(FromQueryResult)]
    struct Blob {
        data: Vec<u8>,
    }
    let Some(Located { meta: m, village_code: village }) =
        Located::find_by_statement(db.stmt(&sql, vec![id.into()])).one(db.conn()).await?
    else {
        return Ok(None);
    };
    if !scope.contains(&village) {
        return Ok(None);
    }
    let values: Vec<Value> = vec![m.sha256.clone().into()];
    let blob = Blob::find_by_statement(db.stmt("SELECT data FROM evidence_blobs WHERE sha256 = $1", values))
        .one(db.conn())
        .await?;
    let bytes = match blob {
        Some(b) => crate::personal::open_file_apart("evidence_blobs", b.data).await?,
        None => return Ok(None),
    };
    Ok(Some((m, bytes)))
}

/// Evidence as one actor sees it: a file, or the files of a record, only where the actor may
/// read them (their scope; an inspector's campaign districts; never a sealed campaign's).
pub struct Evidence<'a>(&'a crate::Scoped);

impl crate::Scoped {
    pub fn evidence(&self) -> Evidence<'_> {
        Evidence(self)
    }
}

impl Evidence<'_> {
    /// One file and its bytes, if the actor may read it.
    pub async fn fetch(&self, id: i64) -> Result<Option<(EvidenceMeta, Vec<u8>)>, StorageError> {
        fetch_for(self.0.db(), self.0.actor(), self.0.today(), id).await
    }

    /// The files attached to one record that the actor may read.
    pub async fn for_owner(&self, owner_kind: &str, owner_id: i64) -> Result<Vec<EvidenceMeta>, StorageError> {
        let db = self.0.db();
        let sql = "SELECT village_code FROM evidence WHERE owner_kind = $1 AND owner_id = $2 LIMIT 1";
        #[derive(FromQueryResult)]
        struct Village {
            village_code: String,
        }
        let row =
            Village::find_by_statement(db.stmt(sql, vec![owner_kind.into(), owner_id.into()])).one(db.conn()).await?;
        let Some(Village { village_code: village }) = row else { return Ok(Vec::new()) };
        if !visible(db, self.0.actor(), self.0.today(), owner_kind, owner_id, &village).await? {
            return Ok(Vec::new());
        }
        for_owner(db, owner_kind, owner_id).await
    }
}
