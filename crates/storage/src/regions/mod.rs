//! Regions in the database: importing a division list (all or nothing), reading it back as a
//! tree, and listing by level and parent.

pub mod entity;

use std::sync::{Arc, RwLock};

use ducha_domain::access::Actor;
use ducha_domain::region::{JIANGMEN_CSV, Region, RegionCode, RegionKind, RegionLevel, RegionTree, parse_region_file};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::audit::AuditTxn;

use crate::{Db, StorageError};
use entity::{ActiveModel, Column, Entity};

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub inserted: usize,
    pub updated: usize,
}

fn to_region(m: entity::Model) -> Result<Region, StorageError> {
    let code = RegionCode::parse(&m.code).map_err(|e| StorageError::Rejected(e.to_string()))?;
    let mut r = Region::new(code, &m.name, &m.parent_code);
    if let Some(kind) = RegionKind::parse(&m.kind) {
        r.kind = kind;
    }
    Ok(r)
}

/// Insert or update every region of a checked list in one transaction, with its audit record.
pub(crate) async fn import(db: &Db, actor: &Actor, regions: &[Region]) -> Result<ImportSummary, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let txn = tx.conn();
    let existing: std::collections::HashSet<String> =
        Entity::find().all(txn).await?.into_iter().map(|m| m.code).collect();
    let updated = regions.iter().filter(|r| existing.contains(r.code.as_str())).count();
    // Parents before children, so that nothing refers to a row not yet written.
    let mut sorted: Vec<&Region> = regions.iter().collect();
    sorted.sort_by_key(|r| (r.level, r.code.clone()));
    for chunk in sorted.chunks(500) {
        let models = chunk.iter().map(|r| ActiveModel {
            code: Set(r.code.as_str().to_string()),
            name: Set(r.name.clone()),
            level: Set(r.level.as_str().to_string()),
            kind: Set(r.kind.as_str().to_string()),
            parent_code: Set(r.parent_code.clone()),
        });
        Entity::insert_many(models)
            .on_conflict(
                OnConflict::column(Column::Code)
                    .update_columns([Column::Name, Column::Level, Column::Kind, Column::ParentCode])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    let summary = ImportSummary { inserted: regions.len() - updated, updated };
    let after = serde_json::json!({ "rows": regions.len(), "inserted": summary.inserted, "updated": summary.updated });
    tx.record::<(), _>("regions", "import", None, "import", None, Some(&after)).await?;
    crate::settings::set(db, tx.conn(), VERSION_KEY, &crate::accounts::random_token()?).await?;
    crate::scoped::commit(tx).await?;
    forget_tree(db);
    Ok(summary)
}

/// Load the shipped Jiangmen list if the database has no regions yet (the embedded default).
pub(crate) async fn ensure_default(db: &Db) -> Result<Option<ImportSummary>, StorageError> {
    if Entity::find().count(db.conn()).await? > 0 {
        return Ok(None);
    }
    let regions = parse_region_file(JIANGMEN_CSV.as_bytes())
        .map_err(|errs| StorageError::Rejected(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("；")))?;
    import(db, &Actor::system(), &regions).await.map(Some)
}

/// The settings key of the divisions' version: a new value at every import.
const VERSION_KEY: &str = "regions_version";

/// The division tree, the version it was read at and when that version was last checked, shared
/// by the clones of one `Db`.
pub(crate) type TreeCache = Arc<RwLock<Option<CachedTree>>>;

#[derive(Debug)]
pub(crate) struct CachedTree {
    version: String,
    tree: Arc<RegionTree>,
    checked: std::time::Instant,
}

/// How long a checked version is trusted before it is read again. An import in this process
/// empties the cache at once; one made by another process over the same database shows here
/// within this time. Without it every page paid a query (two, with the page's heading) only to
/// learn that nothing had changed.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// The division tree. Divisions change only by an import, which writes a new version into the
/// settings in its own transaction: the tree is rebuilt only when that version moved. Every page
/// needs the tree; reading 1,400 rows for each request was most of a household page's time.
pub(crate) async fn tree(db: &Db) -> Result<Arc<RegionTree>, StorageError> {
    if let Ok(cached) = db.regions.read()
        && let Some(c) = cached.as_ref()
        && c.checked.elapsed() < RECHECK
    {
        return Ok(c.tree.clone());
    }
    let version = crate::settings::get(db, VERSION_KEY).await?.unwrap_or_default();
    if let Ok(mut cached) = db.regions.write()
        && let Some(c) = cached.as_mut()
        && c.version == version
    {
        c.checked = std::time::Instant::now();
        return Ok(c.tree.clone());
    }
    // Read after the version: the tree is at least that new (at worst it is read again).
    let tree = Arc::new(tree_in(db.conn()).await?);
    if let Ok(mut cached) = db.regions.write() {
        *cached = Some(CachedTree { version, tree: tree.clone(), checked: std::time::Instant::now() });
    }
    Ok(tree)
}

/// Forget the cached tree (after an import here: the next read rebuilds it).
fn forget_tree(db: &Db) {
    if let Ok(mut cached) = db.regions.write() {
        *cached = None;
    }
}

/// [`tree`] on a given connection (inside a write transaction, its own).
pub async fn tree_in<C: sea_orm::ConnectionTrait>(c: &C) -> Result<RegionTree, StorageError> {
    let rows = Entity::find().order_by_asc(Column::Code).all(c).await?;
    Ok(RegionTree::new(rows.into_iter().map(to_region).collect::<Result<_, _>>()?))
}

/// Regions at a level and/or under a parent, in code order.
pub(crate) async fn list(
    db: &Db,
    level: Option<RegionLevel>,
    parent: Option<&str>,
) -> Result<Vec<Region>, StorageError> {
    let mut q = Entity::find();
    if let Some(l) = level {
        q = q.filter(Column::Level.eq(l.as_str()));
    }
    if let Some(p) = parent {
        q = q.filter(Column::ParentCode.eq(p));
    }
    q.order_by_asc(Column::Code).all(db.conn()).await?.into_iter().map(to_region).collect()
}

pub(crate) async fn get(db: &Db, code: &str) -> Result<Option<Region>, StorageError> {
    Entity::find_by_id(code.to_string()).one(db.conn()).await?.map(to_region).transpose()
}

pub struct Regions<'a>(pub(crate) &'a crate::Scoped);

impl crate::Scoped {
    pub fn regions(&self) -> Regions<'_> {
        Regions(self)
    }
}

impl Regions<'_> {
    /// Insert or update every region of a checked list in one transaction, with its audit record.
    pub async fn import(&self, regions: &[Region]) -> Result<ImportSummary, StorageError> {
        import(self.0.db(), self.0.actor(), regions).await
    }

    /// Load the shipped Jiangmen list if the database has no regions yet (the embedded default).
    pub async fn ensure_default(&self) -> Result<Option<ImportSummary>, StorageError> {
        ensure_default(self.0.db()).await
    }

    /// The division tree. Divisions change only by an import, which writes a new version into the
    /// settings in its own transaction: each call reads that one row and rebuilds the tree only when
    /// the version moved (an import here or by another process over the same database). Every page
    /// needs the tree; reading 1,400 rows for each request was most of a household page's time.
    pub async fn tree(&self) -> Result<Arc<RegionTree>, StorageError> {
        tree(self.0.db()).await
    }

    /// Regions at a level and/or under a parent, in code order.
    pub async fn list(&self, level: Option<RegionLevel>, parent: Option<&str>) -> Result<Vec<Region>, StorageError> {
        list(self.0.db(), level, parent).await
    }

    pub async fn get(&self, code: &str) -> Result<Option<Region>, StorageError> {
        get(self.0.db(), code).await
    }
}
