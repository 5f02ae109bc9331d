//! Creating and editing households and members: each write checks the actor's role and scope,
//! runs in one transaction with its audit record, and refuses at the field that is wrong.

use chrono::Utc;
use ducha_domain::access::Actor;
use ducha_domain::labelled::Labelled;
use ducha_domain::region::{RegionCode, RegionLevel};
use ducha_domain::registry::{Household, HouseholdStatus, Member};
use ducha_domain::validation::FieldErrors;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
};
use serde::Serialize;

use super::{household, member, status_history, to_household, to_member};
use crate::audit::AuditTxn;
use crate::personal::{Personal, seal_opt};
use crate::{Db, StorageError};

pub(crate) fn require_editor(actor: &Actor) -> Result<(), StorageError> {
    if actor.role.edits_registry() {
        Ok(())
    } else {
        Err(StorageError::Forbidden(format!("“{}”角色不能修改登记信息", actor.role)))
    }
}

pub(crate) fn field_error(field: &str, message: String) -> StorageError {
    let mut e = FieldErrors::default();
    e.add(field, message);
    StorageError::Invalid(e)
}

/// A village's town and district codes.
pub(crate) fn parents(village_code: &str) -> Result<(String, String), StorageError> {
    let code = RegionCode::parse(village_code).map_err(|e| field_error("village_code", e.to_string()))?;
    let town = code.truncate(RegionLevel::Town).ok_or_else(|| field_error("village_code", "请选择村（居）".into()))?;
    let district =
        code.truncate(RegionLevel::District).ok_or_else(|| field_error("village_code", "请选择村（居）".into()))?;
    Ok((town.to_string(), district.to_string()))
}

async fn next_number<C: ConnectionTrait>(db: &Db, c: &C, village_code: &str) -> Result<String, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        n: Option<String>,
    }
    let row = Row::find_by_statement(db.stmt(
        "SELECT MAX(number) AS n FROM households WHERE village_code = $1 AND number LIKE $2",
        vec![village_code.into(), format!("{village_code}%").into()],
    ))
    .one(c)
    .await?;
    let max: Option<String> = row.and_then(|r| r.n);
    let seq = max.and_then(|n| n.get(village_code.len()..).and_then(|s| s.parse::<u64>().ok())).unwrap_or(0) + 1;
    Ok(format!("{village_code}{seq:05}"))
}

/// Register a new household (status 识别). Returns its id.
pub(crate) async fn create_household(db: &Db, actor: &Actor, h: &Household) -> Result<i64, StorageError> {
    require_editor(actor)?;
    if !actor.scope.contains(&h.village_code) {
        return Err(field_error("village_code", "只能在本辖区内登记贫困户".into()));
    }
    let mut tx = AuditTxn::begin(db, actor).await?;
    let id = insert_household(&mut tx, h, "新识别").await?;
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// Insert a household (as 识别, numbered if it has no number) with its first status and audit
/// record, inside the caller's transaction.
pub(crate) async fn insert_household(tx: &mut AuditTxn<'_>, h: &Household, note: &str) -> Result<i64, StorageError> {
    let (town, district) = parents(&h.village_code)?;
    let db = tx.db();
    let number =
        if h.number.is_empty() { next_number(db, tx.conn(), &h.village_code).await? } else { h.number.clone() };
    if household::Entity::find().filter(household::Column::Number.eq(&number)).one(tx.conn()).await?.is_some() {
        return Err(field_error("number", format!("户编号“{number}”已被使用")));
    }
    let now = Utc::now();
    let new = Household { number, status: HouseholdStatus::Identified, ..h.clone() };
    let saved = household_model(&*db.keys()?, &new, district, town, now)?.insert(tx.conn()).await?;
    let by = tx.actor().username.clone();
    add_status(tx.conn(), saved.id, HouseholdStatus::Identified, h.identified_on, note, &by).await?;
    tx.record::<(), _>("household", saved.id, Some(&h.village_code), "create", None, Some(&new)).await?;
    tx.household_changed(saved.id);
    Ok(saved.id)
}

/// One entry of a household's status history.
pub(crate) async fn add_status<C: ConnectionTrait>(
    c: &C,
    household_id: i64,
    status: HouseholdStatus,
    on: chrono::NaiveDate,
    note: &str,
    by: &str,
) -> Result<(), StorageError> {
    status_history::ActiveModel {
        id: NotSet,
        household_id: Set(household_id),
        status: Set(status.code().into()),
        effective_on: Set(on),
        note: Set(Some(note.to_string()).filter(|n| !n.is_empty())),
        recorded_by: Set(Some(by.to_string())),
        recorded_at: Set(Utc::now()),
    }
    .insert(c)
    .await?;
    Ok(())
}

/// A new row for a household (no id, no cadre, record book not yet issued): one construction
/// for every path that adds households.
pub(crate) fn household_model(
    keys: &ducha_vault::Keys,
    h: &Household,
    district: String,
    town: String,
    now: chrono::DateTime<Utc>,
) -> Result<household::ActiveModel, StorageError> {
    Ok(household::ActiveModel {
        id: NotSet,
        number: Set(h.number.clone()),
        district_code: Set(district),
        town_code: Set(town),
        village_code: Set(h.village_code.clone()),
        household_type: Set(h.household_type.code().into()),
        main_cause: Set(h.main_cause.code().into()),
        other_cause_1: Set(h.other_causes.first().map(|c| c.code().into())),
        other_cause_2: Set(h.other_causes.get(1).map(|c| c.code().into())),
        food_clothing: Set(h.guarantees.food_clothing),
        compulsory_education: Set(h.guarantees.compulsory_education),
        basic_medical: Set(h.guarantees.basic_medical),
        safe_housing: Set(h.guarantees.safe_housing),
        safe_water: Set(h.guarantees.safe_water),
        status: Set(h.status.code().into()),
        identified_on: Set(h.identified_on),
        address: Set(h.address.clone()),
        phone: Set(seal_opt(keys, h.phone.as_deref())?),
        bank_account: Set(seal_opt(keys, h.bank_account.as_deref())?),
        cadre_id: Set(None),
        record_book_issued: Set(false),
        record_book_provincial: Set(false),
        record_book_checked_on: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    })
}

/// A household's registered facts onto a row being updated (not its number, status or version).
pub(crate) fn set_facts(
    keys: &ducha_vault::Keys,
    m: &mut household::ActiveModel,
    h: &Household,
    district: String,
    town: String,
) -> Result<(), StorageError> {
    m.district_code = Set(district);
    m.town_code = Set(town);
    m.village_code = Set(h.village_code.clone());
    m.household_type = Set(h.household_type.code().into());
    m.main_cause = Set(h.main_cause.code().into());
    m.other_cause_1 = Set(h.other_causes.first().map(|c| c.code().into()));
    m.other_cause_2 = Set(h.other_causes.get(1).map(|c| c.code().into()));
    m.food_clothing = Set(h.guarantees.food_clothing);
    m.compulsory_education = Set(h.guarantees.compulsory_education);
    m.basic_medical = Set(h.guarantees.basic_medical);
    m.safe_housing = Set(h.guarantees.safe_housing);
    m.safe_water = Set(h.guarantees.safe_water);
    m.identified_on = Set(h.identified_on);
    m.address = Set(h.address.clone());
    m.phone = Set(seal_opt(keys, h.phone.as_deref())?);
    m.bank_account = Set(seal_opt(keys, h.bank_account.as_deref())?);
    Ok(())
}

/// Load a household for writing: absent and out of scope are the same NotFound.
pub(crate) async fn household_in_scope<C: ConnectionTrait>(
    c: &C,
    actor: &Actor,
    id: i64,
) -> Result<household::Model, StorageError> {
    household::Entity::find_by_id(id)
        .filter(super::scope_condition(&actor.scope))
        .one(c)
        .await?
        .ok_or(StorageError::NotFound)
}

/// Change a household's registered facts (not its status). `version` is the one the user read.
pub(crate) async fn update_household(
    db: &Db,
    actor: &Actor,
    id: i64,
    version: i32,
    h: &Household,
) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let current = household_in_scope(tx.conn(), actor, id).await?;
    require_editor(actor)?;
    if current.version != version {
        return Err(StorageError::Conflict("该户在您打开后已被他人修改，请刷新页面后重新编辑".into()));
    }
    if !actor.scope.contains(&h.village_code) {
        return Err(field_error("village_code", "只能迁入本辖区内的村（居）".into()));
    }
    let before = to_household(&current)?;
    let number = if h.number.is_empty() { current.number.clone() } else { h.number.clone() };
    if number != current.number
        && household::Entity::find().filter(household::Column::Number.eq(&number)).one(tx.conn()).await?.is_some()
    {
        return Err(field_error("number", format!("户编号“{number}”已被使用")));
    }
    let (town, district) = parents(&h.village_code)?;
    let mut m: household::ActiveModel = current.clone().into();
    set_facts(&*db.keys()?, &mut m, h, district, town)?;
    m.number = Set(number.clone());
    m.version = Set(current.version + 1);
    m.updated_at = Set(Utc::now());
    m.update(tx.conn()).await?;
    let after = Household { number, status: before.status, ..h.clone() };
    tx.record("household", id, Some(&h.village_code), "update", Some(&before), Some(&after)).await?;
    tx.household_changed(id);
    crate::scoped::commit(tx).await?;
    Ok(())
}

/// Refuse an ID number already registered to another person, saying where only when the
/// actor may see that household.
async fn check_unique_id<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    actor: &Actor,
    id_number: &str,
    except: Option<i64>,
) -> Result<(), StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        number: String,
        village: String,
    }
    // Every lookup the number may be stored under (two while a key rotation is under way).
    let lookups = db.id_lookups(id_number)?;
    let list = (1..=lookups.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    let rows = Row::find_by_statement(db.stmt(
        &format!(
            "SELECT m.id AS id, h.number AS number, h.village_code AS village FROM members m JOIN households h ON h.id = m.household_id \
             WHERE m.id_lookup IN ({list}) AND m.left_on IS NULL"
        ),
        lookups.into_iter().map(sea_orm::Value::from).collect(),
    ))
    .all(c)
    .await?;
    for Row { id, number, village } in rows {
        if Some(id) == except {
            continue;
        }
        let msg = if actor.scope.contains(&village) {
            format!("身份证号已登记在户 {number}")
        } else {
            "身份证号已在其他地区登记，请联系上级扶贫办核实".to_string()
        };
        return Err(field_error("id_number", msg));
    }
    Ok(())
}

pub(crate) fn member_model(
    keys: &ducha_vault::Keys,
    household_id: i64,
    seq: i32,
    m: &Member,
    now: chrono::DateTime<Utc>,
) -> Result<member::ActiveModel, StorageError> {
    Ok(member::ActiveModel {
        id: NotSet,
        household_id: Set(household_id),
        seq: Set(seq),
        name: Set(m.name.clone()),
        id_number: Set(Personal::seal(keys, &m.id_number)?),
        id_lookup: Set(Some(keys.lookup("id_number", &ducha_domain::id_number::normalise(&m.id_number)))),
        relation: Set(m.relation.code().into()),
        sex: Set(m.sex.code().into()),
        birth_date: Set(m.birth_date),
        education: Set(m.education.code().into()),
        school_stage: Set(m.school_stage.code().into()),
        out_of_school_reason: Set(m.out_of_school_reason.clone()),
        health: Set(Personal::seal(keys, m.health.code())?),
        labour_ability: Set(m.labour_ability.code().into()),
        medical_insurance: Set(m.medical_insurance),
        phone: Set(seal_opt(keys, m.phone.as_deref())?),
        left_on: NotSet,
        left_reason: NotSet,
        created_at: Set(now),
        updated_at: Set(now),
    })
}

/// Add a member to a household. Returns the member's id.
pub(crate) async fn add_member(db: &Db, actor: &Actor, household_id: i64, m: &Member) -> Result<i64, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let h = household_in_scope(tx.conn(), actor, household_id).await?;
    require_editor(actor)?;
    let id = insert_member(&mut tx, &h, m).await?;
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// Insert a member after the household's last, with its audit record, inside the caller's
/// transaction; refuses an ID number another current member holds.
pub(crate) async fn insert_member(
    tx: &mut AuditTxn<'_>,
    h: &household::Model,
    m: &Member,
) -> Result<i64, StorageError> {
    let db = tx.db();
    check_unique_id(db, tx.conn(), tx.actor(), &m.id_number, None).await?;
    #[derive(FromQueryResult)]
    struct Row {
        s: i32,
    }
    let row = Row::find_by_statement(
        db.stmt("SELECT COALESCE(MAX(seq), 0) AS s FROM members WHERE household_id = $1", vec![h.id.into()]),
    )
    .one(tx.conn())
    .await?;
    let seq: i32 = row.map(|r| r.s).unwrap_or(0);
    let saved = member_model(&*db.keys()?, h.id, seq + 1, m, Utc::now())?.insert(tx.conn()).await?;
    tx.record::<(), _>("member", saved.id, Some(&h.village_code), "create", None, Some(m)).await?;
    touch(tx, h).await?;
    Ok(saved.id)
}

/// A household's version moves with any change to its members, so that an edit form opened
/// before the change is refused rather than silently overwriting.
pub(crate) async fn touch(tx: &mut AuditTxn<'_>, h: &household::Model) -> Result<(), StorageError> {
    tx.household_changed(h.id);
    let c = tx.conn();
    let mut m: household::ActiveModel = h.clone().into();
    m.version = Set(h.version + 1);
    m.updated_at = Set(Utc::now());
    m.update(c).await?;
    Ok(())
}

/// Load a member whose household is in scope.
pub(super) async fn member_in_scope<C: ConnectionTrait>(
    c: &C,
    actor: &Actor,
    member_id: i64,
) -> Result<(member::Model, household::Model), StorageError> {
    let m = member::Entity::find_by_id(member_id).one(c).await?.ok_or(StorageError::NotFound)?;
    let h = household_in_scope(c, actor, m.household_id).await?;
    Ok((m, h))
}

pub(crate) async fn update_member(db: &Db, actor: &Actor, member_id: i64, m: &Member) -> Result<(), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let (current, h) = member_in_scope(tx.conn(), actor, member_id).await?;
    require_editor(actor)?;
    check_unique_id(db, tx.conn(), actor, &m.id_number, Some(member_id)).await?;
    let before = to_member(&current)?;
    let mut model = member_model(&*db.keys()?, current.household_id, current.seq, m, current.created_at)?;
    model.id = Set(member_id);
    model.updated_at = Set(Utc::now());
    model.update(tx.conn()).await?;
    tx.record("member", member_id, Some(&h.village_code), "update", Some(&before), Some(m)).await?;
    touch(&mut tx, &h).await?;
    crate::scoped::commit(tx).await?;
    Ok(())
}

/// One member's full personal data, for a role with that right; the view itself is recorded.
pub(crate) async fn reveal_member(
    db: &Db,
    actor: &Actor,
    member_id: i64,
) -> Result<(Member, household::Model), StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let (current, h) = member_in_scope(tx.conn(), actor, member_id).await?;
    if !actor.role.sees_personal_data() {
        return Err(StorageError::Forbidden(format!("“{}”角色不能查看完整的个人信息", actor.role)));
    }
    let m = to_member(&current)?;
    tx.record::<(), _>(
        "member",
        member_id,
        Some(&h.village_code),
        "view_personal",
        None,
        Some(&serde_json::json!({ "fields": ["id_number", "phone"] })),
    )
    .await?;
    crate::scoped::commit(tx).await?;
    Ok((m, h))
}

/// Full personal data taken out in bulk: an unmasked export, or the command line's full view of
/// a household. Recorded before the data is handed over; what cannot be recorded is not given.
#[derive(Debug, Clone, Serialize)]
pub struct PersonalAccess {
    /// "export" (a household list) or "view" (one household in full).
    pub kind: &'static str,
    /// The scope it was taken from ("全部" for the whole database) and the filter, as said to the user.
    pub scope: String,
    pub filter: String,
    pub households: u64,
    pub persons: u64,
}

/// Record a bulk access to full personal data (who, from where and when are the record's own).
pub(crate) async fn record_personal_access(
    db: &Db,
    actor: &Actor,
    access: &PersonalAccess,
    household_id: Option<i64>,
) -> Result<(), StorageError> {
    let region = match &actor.scope {
        ducha_domain::access::Scope::All => None,
        ducha_domain::access::Scope::Region(r) => Some(r.as_str().to_string()),
    };
    let mut tx = AuditTxn::begin(db, actor).await?;
    let (entity, id) = match household_id {
        Some(h) => ("household", h.to_string()),
        None => ("registry", access.kind.to_string()),
    };
    let action = if access.kind == "export" { "export_personal" } else { "view_personal" };
    tx.record::<(), _>(entity, id, region.as_deref(), action, None, Some(access)).await?;
    crate::scoped::commit(tx).await
}

/// Record (or correct) a household's income and expenditure for a year, with its size that year
/// (for the check year, its members now):
/// one row per household and year, the one replaced kept in the audit trail; the household's
/// data checks run again in the same transaction (an income fixed shows as fixed at once).
pub(crate) async fn save_finance(
    db: &Db,
    actor: &Actor,
    household_id: i64,
    f: &ducha_domain::registry::YearFinance,
    household_size: i32,
) -> Result<(), StorageError> {
    use super::finance;
    let mut tx = AuditTxn::begin(db, actor).await?;
    let h = household_in_scope(tx.conn(), actor, household_id).await?;
    require_editor(actor)?;
    // The checks and the exit test divide the check year's income by the members registered
    // now: that year's size is theirs, so that the page and the checks judge the same figure.
    let (check_year, _) = crate::checks::current_in(db, tx.conn()).await?;
    let household_size = if f.year == check_year {
        i32::try_from(
            member::Entity::find()
                .filter(member::Column::HouseholdId.eq(household_id))
                .filter(member::Column::LeftOn.is_null())
                .count(tx.conn())
                .await?,
        )
        .unwrap_or(household_size)
        .max(1)
    } else {
        household_size
    };
    let existing = finance::Entity::find()
        .filter(finance::Column::HouseholdId.eq(household_id))
        .filter(finance::Column::Year.eq(f.year))
        .one(tx.conn())
        .await?;
    let fen = |m: ducha_domain::Money| m.fen();
    let mut row = finance::ActiveModel {
        id: NotSet,
        household_id: Set(household_id),
        year: Set(f.year),
        household_size: Set(household_size),
        wage_income: Set(fen(f.wage_income)),
        business_income: Set(fen(f.business_income)),
        property_income: Set(fen(f.property_income)),
        transfer_income: Set(fen(f.transfer_income)),
        production_costs: Set(fen(f.production_costs)),
        declared_total_income: Set(f.declared_total_income.map(fen)),
        living_expenditure: Set(f.living_expenditure.map(fen)),
    };
    // The same figures saved again change nothing and leave no record.
    if let Some(old) = &existing
        && super::changes::year_finance(old) == *f
        && old.household_size == household_size
    {
        return Ok(());
    }
    let after = serde_json::json!({ "finance": f, "household_size": household_size });
    let id = match &existing {
        Some(old) => {
            row.id = Set(old.id);
            row.update(tx.conn()).await?;
            old.id
        }
        None => {
            use sea_orm::ActiveModelTrait;
            row.insert(tx.conn()).await?.id
        }
    };
    let before = existing
        .map(|old| serde_json::json!({ "finance": super::changes::year_finance(&old), "household_size": old.household_size }));
    let action = if before.is_some() { "update" } else { "create" };
    tx.record("household_finance", id, Some(&h.village_code), action, before.as_ref(), Some(&after)).await?;
    tx.household_changed(household_id);
    crate::scoped::commit(tx).await?;
    Ok(())
}
