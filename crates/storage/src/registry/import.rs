//! Importing checked households into the registry: first a plan (what is new, changed, unchanged,
//! and what the registry itself refuses), then a commit that writes all of it or nothing.
//! Households are matched by number, members by ID number within their household, so that
//! importing the same file twice changes nothing. Members the file does not list are left alone
//! (leaving a household is a change request).

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use ducha_domain::access::Actor;
use ducha_domain::labelled::Labelled;
use ducha_domain::registry::{HouseholdStatus, IncomingHousehold, Member};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use super::write::{household_model, member_model, parents, require_editor, set_facts};
use super::{household, member, to_household, to_member};
use crate::audit::{AuditEntry, AuditTxn};
use crate::{Db, StorageError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ImportSummary {
    pub households_new: u64,
    pub households_changed: u64,
    pub households_unchanged: u64,
    pub members_new: u64,
    pub members_changed: u64,
    pub members_unchanged: u64,
    /// Members registered in the file's households whom the file does not list (left alone).
    pub members_not_in_file: u64,
}

/// Something the registry refuses: at a row of the file and a field of the template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    pub row: usize,
    pub field: &'static str,
    pub message: String,
}

/// What to do with one household of the file.
enum Action {
    New,
    Changed(household::Model),
    Unchanged(household::Model),
}

struct Planned {
    summary: ImportSummary,
    /// Rows of members the registry already holds exactly as the file gives them.
    unchanged_rows: HashSet<usize>,
    problems: Vec<ImportProblem>,
    actions: Vec<Action>,
    /// Existing members of the file's existing households, by household id.
    members: HashMap<i64, Vec<member::Model>>,
}

const CHUNK: usize = 500;

async fn plan_in<C: ConnectionTrait>(
    c: &C,
    keys: &ducha_vault::Keys,
    actor: &Actor,
    incoming: &[IncomingHousehold],
) -> Result<Planned, StorageError> {
    require_editor(actor)?;
    let mut problems = Vec::new();
    let mut summary = ImportSummary::default();
    // The registry's households with the file's numbers.
    let numbers: Vec<String> = incoming.iter().map(|h| h.household.number.clone()).collect();
    let mut existing: HashMap<String, household::Model> = HashMap::new();
    for chunk in numbers.chunks(CHUNK) {
        for h in household::Entity::find().filter(household::Column::Number.is_in(chunk.to_vec())).all(c).await? {
            existing.insert(h.number.clone(), h);
        }
    }
    let ids: Vec<i64> = existing.values().map(|h| h.id).collect();
    let mut members: HashMap<i64, Vec<member::Model>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows = member::Entity::find()
            .filter(member::Column::HouseholdId.is_in(chunk.to_vec()))
            .filter(member::Column::LeftOn.is_null())
            .all(c)
            .await?;
        for m in rows {
            members.entry(m.household_id).or_default().push(m);
        }
    }
    // Where each of the file's ID numbers is registered now (any current member anywhere).
    // Found by their blind lookups: the stored numbers are sealed.
    let all_ids: Vec<String> = incoming
        .iter()
        .flat_map(|h| {
            h.members.iter().map(|m| keys.lookup("id_number", &ducha_domain::id_number::normalise(&m.member.id_number)))
        })
        .collect();
    let mut registered: HashMap<String, (i64, String, String)> = HashMap::new();
    for chunk in all_ids.chunks(CHUNK) {
        let rows = member::Entity::find()
            .filter(member::Column::IdLookup.is_in(chunk.to_vec()))
            .filter(member::Column::LeftOn.is_null())
            .all(c)
            .await?;
        let hids: Vec<i64> = rows.iter().map(|m| m.household_id).collect::<HashSet<_>>().into_iter().collect();
        let hs: HashMap<i64, household::Model> = household::Entity::find()
            .filter(household::Column::Id.is_in(hids))
            .all(c)
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        for m in rows {
            if let Some(h) = hs.get(&m.household_id) {
                registered.insert(m.id_number.to_string(), (h.id, h.number.clone(), h.village_code.clone()));
            }
        }
    }
    let mut actions = Vec::with_capacity(incoming.len());
    let mut unchanged_rows = HashSet::new();
    for inc in incoming {
        let h = &inc.household;
        let action = match existing.get(&h.number) {
            None => {
                if !actor.scope.contains(&h.village_code) {
                    problems.push(ImportProblem {
                        row: inc.row,
                        field: "village_code",
                        message: "只能导入本辖区内的贫困户".into(),
                    });
                }
                summary.households_new += 1;
                Action::New
            }
            Some(cur) if !actor.scope.contains(&cur.village_code) => {
                problems.push(ImportProblem {
                    row: inc.row,
                    field: "number",
                    // Not repeating the number: a refusal must not point at records outside scope.
                    message: "该户编号不能在本辖区使用，请核对".into(),
                });
                Action::Unchanged(cur.clone())
            }
            Some(cur) => {
                let before = to_household(cur)?;
                if !actor.scope.contains(&h.village_code) {
                    problems.push(ImportProblem {
                        row: inc.row,
                        field: "village_code",
                        message: "只能迁入本辖区内的村（居）".into(),
                    });
                }
                if let Some(st) = inc.status.filter(|s| *s != before.status) {
                    problems.push(ImportProblem {
                        row: inc.row,
                        field: "status",
                        message: format!("状态“{st}”与登记库的“{}”不同；状态变化请通过动态管理申请", before.status),
                    });
                }
                let same = ducha_domain::registry::Household { status: before.status, ..h.clone() } == before;
                if same {
                    summary.households_unchanged += 1;
                    Action::Unchanged(cur.clone())
                } else {
                    summary.households_changed += 1;
                    Action::Changed(cur.clone())
                }
            }
        };
        let own_id = match &action {
            Action::New => None,
            Action::Changed(m) | Action::Unchanged(m) => Some(m.id),
        };
        let current = own_id.and_then(|id| members.get(&id)).cloned().unwrap_or_default();
        let mut listed = 0;
        for im in &inc.members {
            let found = current.iter().find(|m| m.id_number == im.member.id_number);
            match found {
                Some(m) => {
                    listed += 1;
                    if to_member(m)? == im.member {
                        summary.members_unchanged += 1;
                        unchanged_rows.insert(im.row);
                    } else {
                        summary.members_changed += 1;
                    }
                }
                None => {
                    if let Some((hid, number, village)) = registered.get(&im.member.id_number)
                        && Some(*hid) != own_id
                    {
                        let message = if actor.scope.contains(village) {
                            format!("身份证号已登记在户 {number}")
                        } else {
                            "身份证号已在其他地区登记，请联系上级扶贫办核实".to_string()
                        };
                        problems.push(ImportProblem { row: im.row, field: "id_number", message });
                    }
                    summary.members_new += 1;
                }
            }
        }
        summary.members_not_in_file += current.len().saturating_sub(listed) as u64;
        actions.push(action);
    }
    problems.sort_by_key(|p| p.row);
    Ok(Planned { summary, unchanged_rows, problems, actions, members })
}

/// What importing would do, without writing anything.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    pub summary: ImportSummary,
    pub problems: Vec<ImportProblem>,
    /// Rows of members the registry already holds exactly as given (their own problems are old).
    pub unchanged_rows: HashSet<usize>,
}

pub(crate) async fn plan(db: &Db, actor: &Actor, incoming: &[IncomingHousehold]) -> Result<ImportPlan, StorageError> {
    let p = plan_in(db.conn(), &*db.keys()?, actor, incoming).await?;
    Ok(ImportPlan { summary: p.summary, problems: p.problems, unchanged_rows: p.unchanged_rows })
}

#[derive(Serialize)]
struct ImportedHousehold<'a> {
    household: &'a ducha_domain::registry::Household,
    members: Vec<&'a Member>,
}

/// Write the whole file, or nothing: the plan is made again inside the transaction, and any
/// problem refuses all of it. `progress` hears households written so far.
pub(crate) async fn commit(
    db: &Db,
    actor: &Actor,
    incoming: &[IncomingHousehold],
    progress: impl Fn(u64, u64),
) -> Result<ImportSummary, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let keys = db.keys()?;
    let keys = &*keys;
    let planned = plan_in(tx.conn(), keys, actor, incoming).await?;
    let fresh_problem = incoming
        .iter()
        .flat_map(|h| h.members.iter())
        .find(|m| !m.problems.is_empty() && !planned.unchanged_rows.contains(&m.row));
    if let Some(m) = fresh_problem {
        return Err(StorageError::Rejected(format!("第 {} 行：{}（未导入任何数据）", m.row, m.problems[0].1)));
    }
    if let Some(p) = planned.problems.first() {
        return Err(StorageError::Rejected(format!(
            "第 {} 行：{}（共 {} 处问题，未导入任何数据）",
            p.row,
            p.message,
            planned.problems.len()
        )));
    }
    let now = Utc::now();
    let total = incoming.len() as u64;
    let mut done = 0u64;
    let pairs: Vec<(&IncomingHousehold, &Action)> = incoming.iter().zip(planned.actions.iter()).collect();
    for chunk in pairs.chunks(CHUNK) {
        // New households first, in one statement per chunk; then their ids by number.
        let mut new_rows = Vec::new();
        for (inc, action) in chunk {
            if matches!(action, Action::New) {
                let (town, district) = parents(&inc.household.village_code)?;
                let status = inc.status.unwrap_or(HouseholdStatus::Identified);
                let h = ducha_domain::registry::Household { status, ..inc.household.clone() };
                new_rows.push(household_model(keys, &h, district, town, now)?);
            }
        }
        let new_numbers: Vec<String> =
            chunk.iter().filter(|(_, a)| matches!(a, Action::New)).map(|(i, _)| i.household.number.clone()).collect();
        if !new_rows.is_empty() {
            household::Entity::insert_many(new_rows).exec_without_returning(tx.conn()).await?;
        }
        let new_ids: HashMap<String, i64> = if new_numbers.is_empty() {
            HashMap::new()
        } else {
            household::Entity::find()
                .filter(household::Column::Number.is_in(new_numbers))
                .all(tx.conn())
                .await?
                .into_iter()
                .map(|h| (h.number, h.id))
                .collect()
        };
        let mut member_rows = Vec::new();
        let mut history_rows = Vec::new();
        let mut entries = Vec::new();
        for (inc, action) in chunk {
            let h = &inc.household;
            let (hid, before, current) = match action {
                Action::New => {
                    let id = *new_ids.get(&h.number).ok_or(StorageError::NotFound)?;
                    let status = inc.status.unwrap_or(HouseholdStatus::Identified);
                    history_rows.push(super::status_history::ActiveModel {
                        id: sea_orm::ActiveValue::NotSet,
                        household_id: Set(id),
                        status: Set(status.code().into()),
                        effective_on: Set(h.identified_on),
                        note: Set(Some("导入".into())),
                        recorded_by: Set(Some(actor.username.clone())),
                        recorded_at: Set(now),
                    });
                    (id, None, Vec::new())
                }
                Action::Changed(cur) => {
                    let before = to_household(cur)?;
                    let (town, district) = parents(&h.village_code)?;
                    let mut am: household::ActiveModel = cur.clone().into();
                    set_facts(keys, &mut am, h, district, town)?;
                    am.version = Set(cur.version + 1);
                    am.updated_at = Set(now);
                    am.update(tx.conn()).await?;
                    (cur.id, Some(before), planned.members.get(&cur.id).cloned().unwrap_or_default())
                }
                Action::Unchanged(cur) => (cur.id, None, planned.members.get(&cur.id).cloned().unwrap_or_default()),
            };
            let mut next_seq = current.iter().map(|m| m.seq).max().unwrap_or(0);
            let mut member_changed = false;
            for im in &inc.members {
                match current.iter().find(|m| m.id_number == im.member.id_number) {
                    Some(m) if to_member(m)? == im.member => {}
                    Some(m) => {
                        let mut am = member_model(keys, hid, m.seq, &im.member, m.created_at)?;
                        am.id = Set(m.id);
                        am.updated_at = Set(now);
                        am.update(tx.conn()).await?;
                        member_changed = true;
                    }
                    None => {
                        next_seq = im.seq.filter(|s| *s > next_seq).unwrap_or(next_seq + 1);
                        member_rows.push(member_model(keys, hid, next_seq, &im.member, now)?);
                        member_changed = true;
                    }
                }
            }
            let is_new = matches!(action, Action::New);
            if is_new || before.is_some() || member_changed {
                tx.household_changed(hid);
                let after =
                    ImportedHousehold { household: h, members: inc.members.iter().map(|m| &m.member).collect() };
                entries.push(AuditEntry::new(
                    "household",
                    hid,
                    Some(&h.village_code),
                    if is_new { "import_create" } else { "import_update" },
                    before.as_ref(),
                    Some(&after),
                )?);
            }
        }
        if !history_rows.is_empty() {
            super::status_history::Entity::insert_many(history_rows).exec_without_returning(tx.conn()).await?;
        }
        for rows in member_rows.chunks(1_000) {
            member::Entity::insert_many(rows.to_vec()).exec_without_returning(tx.conn()).await?;
        }
        tx.record_many(entries).await?;
        done += chunk.len() as u64;
        progress(done, total);
    }
    crate::scoped::commit(tx).await?;
    // A large import changes what the planner should expect of the tables.
    if planned.summary.households_new >= ANALYZE_AFTER {
        db.analyze().await?;
    }
    Ok(planned.summary)
}

/// New households in one import from which the statistics are brought up to date.
const ANALYZE_AFTER: u64 = 10_000;
