//! Change requests (动态管理) in the database: a town office submits, a district (or the city)
//! office approves or rejects with a comment. Each request is checked when submitted and again
//! when approved; an approved request is applied in the same transaction as its decision, with
//! the status history and the audit trail.

use chrono::{DateTime, NaiveDate, Utc};
use ducha_domain::Money;
use ducha_domain::access::{Actor, Role, Scope};
use ducha_domain::labelled::Labelled;
use ducha_domain::registry::{
    ChangeKind, ChangePayload, ChangeStatus, Household, HouseholdStatus, YearFinance, YearStandard, check_exit,
};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, Value,
};
use serde::Serialize;

use super::write::{
    add_status, field_error, household_in_scope, insert_household, insert_member, require_editor, touch,
};
use super::{finance, household, member};
use crate::audit::AuditTxn;
use crate::{Db, Scoped, StorageError};

/// A request as stored, with its decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeRecord {
    pub id: i64,
    pub household_id: Option<i64>,
    pub household_number: Option<String>,
    pub village_code: String,
    pub kind: ChangeKind,
    pub payload: ChangePayload,
    pub reason: String,
    pub effective_on: NaiveDate,
    pub status: ChangeStatus,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_comment: Option<String>,
    /// The household a new identification or a split created.
    pub result_household_id: Option<i64>,
}

/// The finance row of a year as the domain type.
pub(crate) fn year_finance(f: &finance::Model) -> YearFinance {
    YearFinance {
        year: f.year,
        wage_income: Money::from_fen(f.wage_income),
        business_income: Money::from_fen(f.business_income),
        property_income: Money::from_fen(f.property_income),
        transfer_income: Money::from_fen(f.transfer_income),
        production_costs: Money::from_fen(f.production_costs),
        declared_total_income: f.declared_total_income.map(Money::from_fen),
        living_expenditure: f.living_expenditure.map(Money::from_fen),
    }
}

async fn current_members<C: ConnectionTrait>(c: &C, household_id: i64) -> Result<Vec<member::Model>, StorageError> {
    Ok(member::Entity::find()
        .filter(member::Column::HouseholdId.eq(household_id))
        .filter(member::Column::LeftOn.is_null())
        .order_by_asc(member::Column::Seq)
        .all(c)
        .await?)
}

/// Check a request against the household as it is now: the status move it asks for, the members
/// it names, the exit standard. The error is at the field a form shows.
async fn check<C: ConnectionTrait>(
    c: &C,
    h: Option<&household::Model>,
    payload: &ChangePayload,
) -> Result<(), StorageError> {
    let Some(h) = h else {
        return match payload {
            ChangePayload::NewIdentification { .. } => Ok(()),
            _ => Err(StorageError::NotFound),
        };
    };
    let status = HouseholdStatus::parse(&h.status).map_err(|e| StorageError::Rejected(e.to_string()))?;
    if let Some(target) = payload.kind().target_status() {
        status.change_to(target).map_err(|e| field_error("kind", e.to_string()))?;
    } else if status == HouseholdStatus::Removed {
        return Err(field_error("kind", "已清退的户不能再调整".into()));
    }
    let members = current_members(c, h.id).await?;
    match payload {
        ChangePayload::NewIdentification { .. } => Err(field_error("kind", "新识别不针对已登记的户".into())),
        ChangePayload::AddMember { reason, .. } if !reason.adds() => {
            Err(field_error("member_reason", format!("“{reason}”不是增加成员的原因")))
        }
        ChangePayload::RemoveMember { member_id, reason, .. } => {
            if !reason.removes() {
                return Err(field_error("member_reason", format!("“{reason}”不是减少成员的原因")));
            }
            if !members.iter().any(|m| m.id == *member_id) {
                return Err(field_error("member_id", "该成员不在本户".into()));
            }
            if members.len() == 1 {
                return Err(field_error("member_id", "这是本户唯一的成员；整户注销请用“清退”".into()));
            }
            Ok(())
        }
        ChangePayload::Split { member_ids } => {
            if member_ids.is_empty() {
                return Err(field_error("member_ids", "请选择分出去的成员".into()));
            }
            if let Some(bad) = member_ids.iter().find(|id| !members.iter().any(|m| m.id == **id)) {
                return Err(field_error("member_ids", format!("成员 {bad} 不在本户")));
            }
            if member_ids.len() >= members.len() {
                return Err(field_error("member_ids", "分户后原户至少要留一人".into()));
            }
            Ok(())
        }
        ChangePayload::PreExit { year } | ChangePayload::Exit { year } => {
            let f = finance::Entity::find()
                .filter(finance::Column::HouseholdId.eq(h.id))
                .filter(finance::Column::Year.eq(*year))
                .one(c)
                .await?;
            let std = YearStandard::default_for(*year);
            check_exit(f.as_ref().map(year_finance).as_ref(), members.len() as i64, &std)
                .map(|_| ())
                .map_err(|e| field_error("year", e.to_string()))
        }
        _ => Ok(()),
    }
}

/// Submit a request for a household (`household_id`) or, for a new identification, for a village.
pub(crate) async fn submit(
    db: &Db,
    actor: &Actor,
    household_id: Option<i64>,
    payload: &ChangePayload,
    reason: &str,
    effective_on: NaiveDate,
    files: &[crate::evidence::Upload],
) -> Result<i64, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let h = match household_id {
        Some(id) => Some(household_in_scope(tx.conn(), actor, id).await?),
        None => None,
    };
    require_editor(actor)?;
    if reason.trim().is_empty() {
        return Err(field_error("reason", "请写明原因".into()));
    }
    let village = match (&h, payload) {
        (Some(h), _) => h.village_code.clone(),
        (None, ChangePayload::NewIdentification { household, .. }) => {
            if !actor.scope.contains(&household.village_code) {
                return Err(field_error("village_code", "只能在本辖区内申请新识别".into()));
            }
            household.village_code.clone()
        }
        (None, _) => return Err(StorageError::NotFound),
    };
    check(tx.conn(), h.as_ref(), payload).await?;
    let payload_json = serde_json::to_string(payload).map_err(|e| StorageError::Rejected(e.to_string()))?;
    // A new member's ID number and phone are sealed in the request as in the registry.
    let payload_json = crate::personal::seal_diff(Some(&*db.keys()?), Some(payload_json))?.unwrap_or_default();
    #[derive(FromQueryResult)]
    struct Inserted {
        id: i64,
    }
    let id = Inserted::find_by_statement(db.stmt(
        "INSERT INTO change_requests (household_id, village_code, kind, payload, reason, effective_on, status, submitted_by, submitted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        vec![
            household_id.into(),
            village.clone().into(),
            payload.kind().code().into(),
            payload_json.into(),
            reason.trim().into(),
            effective_on.into(),
            ChangeStatus::Submitted.code().into(),
            actor.username.clone().into(),
            Utc::now().into(),
        ],
    ))
    .one(tx.conn())
    .await?
    .ok_or_else(|| StorageError::Rejected("申请未能写入".into()))?
    .id;
    let after = serde_json::json!({ "kind": payload.kind().code(), "household_id": household_id, "reason": reason.trim(), "effective_on": effective_on, "payload": payload });
    tx.record::<(), _>("change_request", id, Some(&village), "submit", None, Some(&after)).await?;
    for f in files {
        crate::evidence::attach_to(&mut tx, "change_request", id, household_id, &village, f).await?;
    }
    crate::scoped::commit(tx).await?;
    Ok(id)
}

const COLUMNS: &str = "c.id AS id, c.household_id AS household_id, h.number AS household_number, c.village_code AS village_code, \
    c.kind AS kind, c.payload AS payload, c.reason AS reason, c.effective_on AS effective_on, c.status AS status, \
    c.submitted_by AS submitted_by, c.submitted_at AS submitted_at, c.decided_by AS decided_by, c.decided_at AS decided_at, \
    c.decision_comment AS decision_comment, c.result_household_id AS result_household_id";

/// A request's row as read with [`COLUMNS`]. Its kind, status and payload are read as text and
/// parsed by [`ChangeRow::record`]: a bad one is reported as a bad request in the database.
#[derive(FromQueryResult)]
struct ChangeRow {
    id: i64,
    household_id: Option<i64>,
    household_number: Option<String>,
    village_code: String,
    kind: String,
    payload: String,
    reason: String,
    effective_on: NaiveDate,
    status: String,
    submitted_by: String,
    submitted_at: DateTime<Utc>,
    decided_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    decision_comment: Option<String>,
    result_household_id: Option<i64>,
}

impl ChangeRow {
    fn record(self) -> Result<ChangeRecord, StorageError> {
        let bad = |e: String| StorageError::Corrupt(format!("申请：{e}"));
        Ok(ChangeRecord {
            id: self.id,
            household_id: self.household_id,
            household_number: self.household_number,
            village_code: self.village_code,
            kind: ChangeKind::parse(&self.kind).map_err(|e| bad(e.to_string()))?,
            payload: serde_json::from_str(&crate::personal::open_diff(Some(self.payload))?.unwrap_or_default())
                .map_err(|e| bad(e.to_string()))?,
            reason: self.reason,
            effective_on: self.effective_on,
            status: ChangeStatus::parse(&self.status).map_err(|e| bad(e.to_string()))?,
            submitted_by: self.submitted_by,
            submitted_at: self.submitted_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            decision_comment: self.decision_comment,
            result_household_id: self.result_household_id,
        })
    }
}

/// The scope condition over a request's village (new identifications have no household yet).
fn scope_on_village(scope: &Scope, n: usize) -> (String, Vec<Value>) {
    // A request carries its village code, whose prefixes are its town and district codes.
    let cols = crate::scope::Columns {
        district: "substr(c.village_code, 1, 6)",
        town: Some("substr(c.village_code, 1, 9)"),
        village: Some("c.village_code"),
    };
    crate::scope::filter(scope, cols, n)
}

/// Requests in a scope, newest first; optionally only one status or one household.
pub(crate) async fn list(
    db: &Db,
    scope: &Scope,
    status: Option<ChangeStatus>,
    household_id: Option<i64>,
    limit: u64,
) -> Result<Vec<ChangeRecord>, StorageError> {
    let (cond, mut values) = scope_on_village(scope, 1);
    let mut sql =
        format!("SELECT {COLUMNS} FROM change_requests c LEFT JOIN households h ON h.id = c.household_id WHERE {cond}");
    if let Some(s) = status {
        values.push(s.code().into());
        sql.push_str(&format!(" AND c.status = ${}", values.len()));
    }
    if let Some(hid) = household_id {
        values.push(hid.into());
        sql.push_str(&format!(" AND c.household_id = ${}", values.len()));
    }
    sql.push_str(&format!(" ORDER BY c.id DESC LIMIT {limit}"));
    ChangeRow::find_by_statement(db.stmt(&sql, values))
        .all(db.conn())
        .await?
        .into_iter()
        .map(ChangeRow::record)
        .collect()
}

/// One request, if it lies in the scope.
pub(crate) async fn get(db: &Db, scope: &Scope, id: i64) -> Result<Option<ChangeRecord>, StorageError> {
    get_in(db, db.conn(), scope, id).await
}

async fn get_in<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    scope: &Scope,
    id: i64,
) -> Result<Option<ChangeRecord>, StorageError> {
    let (cond, mut values) = scope_on_village(scope, 1);
    values.push(id.into());
    let sql = format!(
        "SELECT {COLUMNS} FROM change_requests c LEFT JOIN households h ON h.id = c.household_id WHERE {cond} AND c.id = ${}",
        values.len()
    );
    ChangeRow::find_by_statement(db.stmt(&sql, values)).one(c).await?.map(ChangeRow::record).transpose()
}

/// Whether the actor decides requests (district and city offices).
pub fn decides(role: Role) -> bool {
    matches!(role, Role::DistrictOffice | Role::CityOffice)
}

/// Approve (apply) or reject a request. Rejection needs a comment; nobody decides their own.
pub(crate) async fn decide(
    db: &Db,
    actor: &Actor,
    id: i64,
    approve: bool,
    comment: &str,
) -> Result<ChangeRecord, StorageError> {
    let mut tx = AuditTxn::begin(db, actor).await?;
    let req = get_in(db, tx.conn(), &actor.scope, id).await?.ok_or(StorageError::NotFound)?;
    if !decides(actor.role) {
        return Err(StorageError::Forbidden("只有市(区)扶贫办或市扶贫办可以审核".into()));
    }
    if req.status != ChangeStatus::Submitted {
        return Err(StorageError::Conflict(format!("该申请已{}，不能再次审核", req.status)));
    }
    if req.submitted_by == actor.username {
        return Err(StorageError::Forbidden("不能审核自己提交的申请".into()));
    }
    let comment = comment.trim();
    if !approve && comment.is_empty() {
        return Err(field_error("comment", "退回时请写明理由".into()));
    }
    let mut result_household = None;
    if approve {
        let h = match req.household_id {
            Some(hid) => Some(household::Entity::find_by_id(hid).one(tx.conn()).await?.ok_or(StorageError::NotFound)?),
            None => None,
        };
        // The household may have changed since the request was made: check again.
        check(tx.conn(), h.as_ref(), &req.payload).await?;
        result_household = apply(&mut tx, h.as_ref(), &req).await?;
    }
    let status = if approve { ChangeStatus::Approved } else { ChangeStatus::Rejected };
    let now = Utc::now();
    tx.conn()
        .execute_raw(db.stmt(
            "UPDATE change_requests SET status = $1, decided_by = $2, decided_at = $3, decision_comment = $4, result_household_id = $5 WHERE id = $6",
            vec![
                status.code().into(),
                actor.username.clone().into(),
                now.into(),
                Some(comment.to_string()).filter(|c| !c.is_empty()).into(),
                result_household.into(),
                id.into(),
            ],
        ))
        .await?;
    let action = if approve { "approve" } else { "reject" };
    let after =
        serde_json::json!({ "status": status.code(), "comment": comment, "result_household_id": result_household });
    let before = serde_json::json!({ "status": req.status.code() });
    tx.record("change_request", id, Some(&req.village_code), action, Some(&before), Some(&after)).await?;
    let decided = ChangeRecord {
        status,
        decided_by: Some(actor.username.clone()),
        decided_at: Some(now),
        decision_comment: Some(comment.to_string()).filter(|c| !c.is_empty()),
        result_household_id: result_household,
        ..req
    };
    crate::scoped::commit(tx).await?;
    Ok(decided)
}

/// Apply an approved request. Returns the household it created, if any.
async fn apply(
    tx: &mut AuditTxn<'_>,
    h: Option<&household::Model>,
    req: &ChangeRecord,
) -> Result<Option<i64>, StorageError> {
    let note = format!("{}：{}（申请 {}）", req.kind, req.reason, req.id);
    let by = tx.actor().username.clone();
    match (&req.payload, h) {
        (ChangePayload::NewIdentification { household: new, head }, _) => {
            let hid = insert_household(tx, new, &note).await?;
            let created = household::Entity::find_by_id(hid).one(tx.conn()).await?.ok_or(StorageError::NotFound)?;
            insert_member(tx, &created, head).await?;
            Ok(Some(hid))
        }
        (ChangePayload::AddMember { member: m, .. }, Some(h)) => {
            insert_member(tx, h, m).await?;
            Ok(None)
        }
        (ChangePayload::RemoveMember { member_id, reason, .. }, Some(h)) => {
            let m = member::Entity::find_by_id(*member_id).one(tx.conn()).await?.ok_or(StorageError::NotFound)?;
            let before = super::to_member(&m)?;
            let mut am: member::ActiveModel = m.into();
            am.left_on = Set(Some(req.effective_on));
            am.left_reason = Set(Some(reason.code().into()));
            am.updated_at = Set(Utc::now());
            am.update(tx.conn()).await?;
            let after = serde_json::json!({ "left_on": req.effective_on, "left_reason": reason.label() });
            tx.record("member", member_id, Some(&h.village_code), "leave", Some(&before), Some(&after)).await?;
            touch(tx, h).await?;
            Ok(None)
        }
        (ChangePayload::Split { member_ids }, Some(h)) => {
            let mut facts: Household = super::to_household(h)?;
            facts.number = String::new();
            facts.identified_on = req.effective_on;
            let new_id = insert_household(tx, &facts, &note).await?;
            // The new household keeps the original's status from the split on.
            let status = HouseholdStatus::parse(&h.status).map_err(|e| StorageError::Rejected(e.to_string()))?;
            if status != HouseholdStatus::Identified {
                let created =
                    household::Entity::find_by_id(new_id).one(tx.conn()).await?.ok_or(StorageError::NotFound)?;
                let mut am: household::ActiveModel = created.into();
                am.status = Set(status.code().into());
                am.update(tx.conn()).await?;
                add_status(tx.conn(), new_id, status, req.effective_on, &note, &by).await?;
            }
            for (k, mid) in member_ids.iter().enumerate() {
                let m = member::Entity::find_by_id(*mid).one(tx.conn()).await?.ok_or(StorageError::NotFound)?;
                let mut am: member::ActiveModel = m.into();
                am.household_id = Set(new_id);
                am.seq = Set(k as i32 + 1);
                am.updated_at = Set(Utc::now());
                am.update(tx.conn()).await?;
                let after = serde_json::json!({ "from_household": h.number, "to_household_id": new_id });
                tx.record::<(), _>("member", mid, Some(&h.village_code), "move", None, Some(&after)).await?;
            }
            touch(tx, h).await?;
            Ok(Some(new_id))
        }
        (payload, Some(h)) => {
            let target = payload.kind().target_status().ok_or(StorageError::NotFound)?;
            let before = super::to_household(h)?;
            let mut am: household::ActiveModel = h.clone().into();
            am.status = Set(target.code().into());
            am.version = Set(h.version + 1);
            am.updated_at = Set(Utc::now());
            am.update(tx.conn()).await?;
            add_status(tx.conn(), h.id, target, req.effective_on, &note, &by).await?;
            let after = Household { status: target, ..before.clone() };
            tx.record("household", h.id, Some(&h.village_code), "status", Some(&before), Some(&after)).await?;
            tx.household_changed(h.id);
            Ok(None)
        }
        (_, None) => Err(StorageError::NotFound),
    }
}

/// Change requests as one actor sees them: those in their scope; submitting and deciding check
/// their role.
pub struct Changes<'a>(pub(super) &'a Scoped);

impl Changes<'_> {
    /// Submit a request (a household's exit or return, a new identification when `household_id`
    /// is None, a natural change), with its evidence.
    pub async fn submit(
        &self,
        household_id: Option<i64>,
        payload: &ChangePayload,
        reason: &str,
        effective_on: NaiveDate,
        files: &[crate::evidence::Upload],
    ) -> Result<i64, StorageError> {
        submit(self.0.db(), self.0.actor(), household_id, payload, reason, effective_on, files).await
    }

    /// Requests in the scope, newest first; optionally only one status or one household.
    pub async fn list(
        &self,
        status: Option<ChangeStatus>,
        household_id: Option<i64>,
        limit: u64,
    ) -> Result<Vec<ChangeRecord>, StorageError> {
        list(self.0.db(), self.0.scope(), status, household_id, limit).await
    }

    pub async fn get(&self, id: i64) -> Result<Option<ChangeRecord>, StorageError> {
        get(self.0.db(), self.0.scope(), id).await
    }

    /// Approve or reject a request; an approved one is applied in the same write.
    pub async fn decide(&self, id: i64, approve: bool, comment: &str) -> Result<ChangeRecord, StorageError> {
        decide(self.0.db(), self.0.actor(), id, approve, comment).await
    }
}
