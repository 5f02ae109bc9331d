//! The registry in the database: households, members, finances, status history; reads are
//! always scoped by region.

pub mod changes;
pub mod finance;
pub mod household;
pub mod import;
mod list;
pub mod member;
mod page;
pub mod status_history;
pub(crate) mod write;
pub(crate) use write::{household_model, member_model};

pub use list::{HouseholdFilter, HouseholdRow, ListPage, SearchKind};
pub use write::PersonalAccess;

use ducha_domain::labelled::Labelled;
use ducha_domain::registry::{Guarantees, Household, Member};

use ducha_domain::access::Scope;
use ducha_domain::region::RegionLevel;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, Value};
use serde::Serialize;

use crate::{Db, Scoped, StorageError};

/// The registry as one actor sees it: households, members, their finances and status history,
/// change requests and imports. Every read is kept to the actor's scope; every write checks
/// the actor's role and is audited.
pub struct Registry<'a>(&'a Scoped);

impl Scoped {
    pub fn registry(&self) -> Registry<'_> {
        Registry(self)
    }
}

impl Registry<'_> {
    /// A household by id, if it lies in the scope (else None: no hint that it exists).
    pub async fn household(&self, id: i64) -> Result<Option<HouseholdRecord>, StorageError> {
        household_by_id(self.0.db(), self.0.scope(), id).await
    }

    /// Everything a household's page shows, if the household lies in the scope: its record, its
    /// help, its audit trail, its change requests and its open findings. The household is read
    /// once and every part is kept to it: a fixed number of queries, however many plans it has.
    pub async fn page(&self, id: i64) -> Result<Option<HouseholdPage>, StorageError> {
        let db = self.0.db();
        let Some(page::Whole { record, help }) = page::whole(db, self.0.scope(), id).await? else { return Ok(None) };
        let hid = record.household.id;
        let audit = crate::audit::for_household(db, hid, 100).await?;
        let changes = changes::list(db, self.0.scope(), None, Some(hid), 50).await?;
        let filter =
            crate::checks::FindingFilter { household_id: Some(hid), status: Some("open".into()), ..Default::default() };
        let findings = crate::checks::findings(db, self.0.scope(), &filter, 200, 0).await?;
        Ok(Some(HouseholdPage { record, help, audit, changes, findings }))
    }

    /// A household by its number, if it lies in the scope.
    pub async fn household_by_number(&self, number: &str) -> Result<Option<HouseholdRecord>, StorageError> {
        household_by_number(self.0.db(), self.0.scope(), number).await
    }

    /// A member by id, with its household, if the household lies in the scope.
    pub async fn member(&self, id: i64) -> Result<Option<(member::Model, household::Model)>, StorageError> {
        member_by_id(self.0.db(), self.0.scope(), id).await
    }

    /// One page of households matching a filter, in keyset order.
    pub async fn list(
        &self,
        filter: &HouseholdFilter,
        after: Option<i64>,
        before: Option<i64>,
        size: u64,
    ) -> Result<ListPage, StorageError> {
        list::list_households(self.0.db(), self.0.scope(), filter, after, before, size).await
    }

    /// The next batch of households (with members) for an export, after id `after`.
    pub async fn export_batch(
        &self,
        filter: &HouseholdFilter,
        after: i64,
        limit: u64,
    ) -> Result<Vec<(household::Model, Vec<member::Model>)>, StorageError> {
        list::export_batch(self.0.db(), self.0.scope(), filter, after, limit).await
    }

    pub async fn counts_by_district(&self) -> Result<Vec<DistrictCount>, StorageError> {
        counts_by_district(self.0.db(), self.0.scope()).await
    }

    /// (region code, households, members) per division of `level` within the scope.
    pub async fn counts_by_region(&self, level: RegionLevel) -> Result<Vec<(String, i64, i64)>, StorageError> {
        counts_by_region(self.0.db(), self.0.scope(), level).await
    }

    pub async fn counts_by_status(&self) -> Result<Vec<(String, i64)>, StorageError> {
        counts_by_status(self.0.db(), self.0.scope()).await
    }

    /// Total households and members in the scope.
    pub async fn totals(&self) -> Result<(i64, i64), StorageError> {
        totals(self.0.db(), self.0.scope()).await
    }

    /// The first household numbers in the scope, in number order.
    pub async fn household_numbers(&self, limit: u64) -> Result<Vec<String>, StorageError> {
        household_numbers(self.0.db(), self.0.scope(), limit).await
    }

    /// Whether the scope holds no household.
    pub async fn is_empty(&self) -> Result<bool, StorageError> {
        Ok(self.household_numbers(1).await?.is_empty())
    }

    pub async fn create_household(&self, h: &Household) -> Result<i64, StorageError> {
        write::create_household(self.0.db(), self.0.actor(), h).await
    }

    /// Save a household's facts; `version` is the one the form was read at.
    pub async fn update_household(&self, id: i64, version: i32, h: &Household) -> Result<(), StorageError> {
        write::update_household(self.0.db(), self.0.actor(), id, version, h).await
    }

    pub async fn add_member(&self, household_id: i64, m: &Member) -> Result<i64, StorageError> {
        write::add_member(self.0.db(), self.0.actor(), household_id, m).await
    }

    pub async fn update_member(&self, member_id: i64, m: &Member) -> Result<(), StorageError> {
        write::update_member(self.0.db(), self.0.actor(), member_id, m).await
    }

    /// A member's full personal data, for a role that may see it; the look is audited.
    pub async fn reveal_member(&self, member_id: i64) -> Result<(Member, household::Model), StorageError> {
        write::reveal_member(self.0.db(), self.0.actor(), member_id).await
    }

    /// Record that full personal data left ducha (an unmasked export, a full view).
    pub async fn record_personal_access(
        &self,
        access: &PersonalAccess,
        household_id: Option<i64>,
    ) -> Result<(), StorageError> {
        write::record_personal_access(self.0.db(), self.0.actor(), access, household_id).await
    }

    pub async fn save_finance(
        &self,
        household_id: i64,
        f: &ducha_domain::registry::YearFinance,
        household_size: i32,
    ) -> Result<(), StorageError> {
        write::save_finance(self.0.db(), self.0.actor(), household_id, f, household_size).await
    }

    /// Change requests (新识别, 脱贫, 返贫, 自然变更) and their decisions.
    pub fn changes(&self) -> changes::Changes<'_> {
        changes::Changes(self.0)
    }

    /// What an import of these households would do, checked against the registry.
    pub async fn import_plan(
        &self,
        incoming: &[ducha_domain::registry::IncomingHousehold],
    ) -> Result<import::ImportPlan, StorageError> {
        import::plan(self.0.db(), self.0.actor(), incoming).await
    }

    /// Import households, all or nothing, audited.
    pub async fn import(
        &self,
        incoming: &[ducha_domain::registry::IncomingHousehold],
        progress: impl Fn(u64, u64),
    ) -> Result<import::ImportSummary, StorageError> {
        import::commit(self.0.db(), self.0.actor(), incoming, progress).await
    }
}

/// The household column that holds codes of a level.
fn scope_column(level: RegionLevel) -> household::Column {
    match level {
        RegionLevel::City | RegionLevel::District => household::Column::DistrictCode,
        RegionLevel::Town => household::Column::TownCode,
        RegionLevel::Village => household::Column::VillageCode,
    }
}

/// The condition that keeps a households query inside a scope.
pub(crate) fn scope_condition(scope: &Scope) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        // A city holds the districts whose codes begin with its own: a range, so that the
        // district index serves it on both databases.
        Scope::Region(code) if code.level() == RegionLevel::City => Condition::all()
            .add(household::Column::DistrictCode.gte(code.as_str()))
            .add(household::Column::DistrictCode.lt(crate::scope::next_prefix(code.as_str()))),
        Scope::Region(code) => Condition::all().add(scope_column(code.level()).eq(code.as_str())),
    }
}

/// The same condition as SQL over `households AS h`, with its parameter from `$n`.
pub(crate) fn scope_sql(scope: &Scope, n: usize) -> (String, Vec<Value>) {
    crate::scope::filter(scope, crate::scope::Columns::HOUSEHOLDS, n)
}

fn vocab<T: Labelled>(code: &str) -> Result<T, StorageError> {
    crate::stored::code(code)
}

/// The stored row as a domain household.
pub fn to_household(m: &household::Model) -> Result<Household, StorageError> {
    let mut other_causes = Vec::new();
    for c in [&m.other_cause_1, &m.other_cause_2].into_iter().flatten() {
        other_causes.push(vocab(c)?);
    }
    Ok(Household {
        number: m.number.clone(),
        village_code: m.village_code.clone(),
        household_type: vocab(&m.household_type)?,
        main_cause: vocab(&m.main_cause)?,
        other_causes,
        guarantees: Guarantees {
            food_clothing: m.food_clothing,
            compulsory_education: m.compulsory_education,
            basic_medical: m.basic_medical,
            safe_housing: m.safe_housing,
            safe_water: m.safe_water,
        },
        status: vocab(&m.status)?,
        identified_on: m.identified_on,
        address: m.address.clone(),
        phone: m.phone.as_ref().map(|p| p.to_string()),
        bank_account: m.bank_account.as_ref().map(|p| p.to_string()),
    })
}

/// The stored row as a domain member.
pub fn to_member(m: &member::Model) -> Result<Member, StorageError> {
    Ok(Member {
        name: m.name.clone(),
        id_number: m.id_number.to_string(),
        relation: vocab(&m.relation)?,
        sex: vocab(&m.sex)?,
        birth_date: m.birth_date,
        education: vocab(&m.education)?,
        school_stage: vocab(&m.school_stage)?,
        out_of_school_reason: m.out_of_school_reason.clone(),
        health: vocab(&m.health)?,
        labour_ability: vocab(&m.labour_ability)?,
        medical_insurance: m.medical_insurance,
        phone: m.phone.as_ref().map(|p| p.to_string()),
    })
}

/// Households and members per district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DistrictCount {
    pub district_code: String,
    pub households: i64,
    pub members: i64,
}

pub(crate) async fn counts_by_district(db: &Db, scope: &Scope) -> Result<Vec<DistrictCount>, StorageError> {
    Ok(counts_by_region(db, scope, RegionLevel::District)
        .await?
        .into_iter()
        .map(|(code, households, members)| DistrictCount { district_code: code, households, members })
        .collect())
}

/// (region code, households, members) per division of `level` within a scope.
pub(crate) async fn counts_by_region(
    db: &Db,
    scope: &Scope,
    level: RegionLevel,
) -> Result<Vec<(String, i64, i64)>, StorageError> {
    let (cond, values) = scope_sql(scope, 1);
    let col = match level {
        RegionLevel::City | RegionLevel::District => "h.district_code",
        RegionLevel::Town => "h.town_code",
        RegionLevel::Village => "h.village_code",
    };
    // Two grouped counts rather than one over a join with COUNT(DISTINCT): at a million
    // households the join with DISTINCT costs twice as long. COUNT decodes into i64 on both.
    let households = format!("SELECT {col} AS code, COUNT(*) AS n FROM households h WHERE {cond} GROUP BY {col}");
    let members = format!(
        "SELECT {col} AS code, COUNT(*) AS n FROM members m JOIN households h ON h.id = m.household_id \
         WHERE m.left_on IS NULL AND {cond} GROUP BY {col}"
    );
    #[derive(FromQueryResult)]
    struct Row {
        code: String,
        n: i64,
    }
    let mut out: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for r in Row::find_by_statement(db.stmt(&households, values.clone())).all(db.conn()).await? {
        out.entry(r.code).or_default().0 = r.n;
    }
    for r in Row::find_by_statement(db.stmt(&members, values)).all(db.conn()).await? {
        out.entry(r.code).or_default().1 = r.n;
    }
    Ok(out.into_iter().map(|(code, (h, m))| (code, h, m)).collect())
}

/// Households per status (code) within a scope.
pub(crate) async fn counts_by_status(db: &Db, scope: &Scope) -> Result<Vec<(String, i64)>, StorageError> {
    let (cond, values) = scope_sql(scope, 1);
    let sql = format!(
        "SELECT h.status AS status, COUNT(*) AS n FROM households h WHERE {cond} GROUP BY h.status ORDER BY h.status"
    );
    #[derive(FromQueryResult)]
    struct Row {
        status: String,
        n: i64,
    }
    let rows = Row::find_by_statement(db.stmt(&sql, values)).all(db.conn()).await?;
    Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
}

/// What a household's page shows (see [`Registry::page`]).
#[derive(Debug, Clone)]
pub struct HouseholdPage {
    pub record: HouseholdRecord,
    pub help: crate::help::store::HelpRecord,
    pub audit: Vec<crate::audit::AuditRecord>,
    pub changes: Vec<changes::ChangeRecord>,
    pub findings: Vec<crate::checks::StoredFinding>,
}

/// One household with everything recorded about it.
#[derive(Debug, Clone)]
pub struct HouseholdRecord {
    pub household: household::Model,
    pub members: Vec<member::Model>,
    pub finances: Vec<finance::Model>,
    pub history: Vec<status_history::Model>,
}

/// A household by its number, if it lies in the scope (else None: no hint that it exists).
pub(crate) async fn household_by_number(
    db: &Db,
    scope: &Scope,
    number: &str,
) -> Result<Option<HouseholdRecord>, StorageError> {
    let h = household::Entity::find()
        .filter(household::Column::Number.eq(number.trim()))
        .filter(scope_condition(scope))
        .one(db.conn())
        .await?;
    match h {
        Some(h) => Ok(Some(record_of(db, h).await?)),
        None => Ok(None),
    }
}

/// A household by id, if it lies in the scope.
pub(crate) async fn household_by_id(db: &Db, scope: &Scope, id: i64) -> Result<Option<HouseholdRecord>, StorageError> {
    let h = household::Entity::find_by_id(id).filter(scope_condition(scope)).one(db.conn()).await?;
    match h {
        Some(h) => Ok(Some(record_of(db, h).await?)),
        None => Ok(None),
    }
}

/// Which of these households lie in the scope, in one query (nothing else about them is read).
pub(crate) async fn in_scope(db: &Db, scope: &Scope, ids: &[i64]) -> Result<Vec<i64>, StorageError> {
    use sea_orm::QuerySelect;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(household::Entity::find()
        .select_only()
        .column(household::Column::Id)
        .filter(household::Column::Id.is_in(ids.iter().copied()))
        .filter(scope_condition(scope))
        .into_tuple::<i64>()
        .all(db.conn())
        .await?)
}

/// A member by id, with its household, if the household lies in the scope.
pub(crate) async fn member_by_id(
    db: &Db,
    scope: &Scope,
    id: i64,
) -> Result<Option<(member::Model, household::Model)>, StorageError> {
    let Some(m) = member::Entity::find_by_id(id).one(db.conn()).await? else { return Ok(None) };
    let h = household::Entity::find_by_id(m.household_id).filter(scope_condition(scope)).one(db.conn()).await?;
    Ok(h.map(|h| (m, h)))
}

async fn record_of(db: &Db, h: household::Model) -> Result<HouseholdRecord, StorageError> {
    let c = db.conn();
    let members = member::Entity::find()
        .filter(member::Column::HouseholdId.eq(h.id))
        .order_by_asc(member::Column::Seq)
        .all(c)
        .await?;
    let finances = finance::Entity::find()
        .filter(finance::Column::HouseholdId.eq(h.id))
        .order_by_asc(finance::Column::Year)
        .all(c)
        .await?;
    let history = status_history::Entity::find()
        .filter(status_history::Column::HouseholdId.eq(h.id))
        .order_by_asc(status_history::Column::EffectiveOn)
        .order_by_asc(status_history::Column::Id)
        .all(c)
        .await?;
    Ok(HouseholdRecord { household: h, members, finances, history })
}

/// The first household numbers in a scope, in number order.
pub(crate) async fn household_numbers(db: &Db, scope: &Scope, limit: u64) -> Result<Vec<String>, StorageError> {
    use sea_orm::QuerySelect;
    Ok(household::Entity::find()
        .filter(scope_condition(scope))
        .order_by_asc(household::Column::Number)
        .limit(limit)
        .all(db.conn())
        .await?
        .into_iter()
        .map(|h| h.number)
        .collect())
}

/// Total households and members in a scope.
pub(crate) async fn totals(db: &Db, scope: &Scope) -> Result<(i64, i64), StorageError> {
    let rows = counts_by_district(db, scope).await?;
    Ok(rows.iter().fold((0, 0), |(h, m), r| (h + r.households, m + r.members)))
}

/// Whether the registry has any household at all.
pub(crate) async fn is_empty<C: ConnectionTrait>(c: &C) -> Result<bool, StorageError> {
    use sea_orm::PaginatorTrait;
    Ok(household::Entity::find().count(c).await? == 0)
}
