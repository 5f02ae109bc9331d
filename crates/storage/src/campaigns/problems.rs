//! The problems (问题) a campaign finds: from document review, visits, questionnaires, entered by
//! the team, or proposed from the audit engine's open findings in the sampled towns (an inspector
//! confirms or dismisses each). And the revisit (回头看): an earlier campaign's problems in a
//! revisited town, each verified as rectified, partly rectified or not.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ducha_domain::campaigns::{ProblemStatus, RevisitResult, Source, Verdict, verdict};
use ducha_domain::checks::{Category, Severity};
use ducha_domain::labelled::Labelled;
use ducha_domain::validation::FieldErrors;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;

use super::Opened;
use super::{DistrictCode, IdRow};
use crate::audit::AuditTxn;
use crate::evidence::EvidenceMeta;
use crate::stored::Code;
use crate::{Db, Scoped, StorageError};

/// A problem to record.
#[derive(Debug, Clone, Serialize)]
pub struct NewProblem {
    pub source: Source,
    pub category: Category,
    pub severity: Severity,
    pub town: String,
    pub district: String,
    pub household_id: Option<i64>,
    pub text: String,
    pub responsible_unit: String,
    /// What the problem stands for (a review item, a visit's fact, an audit finding), so that it
    /// is recorded once.
    pub key: Option<String>,
    /// Proposed (an audit finding awaiting an inspector) rather than confirmed.
    pub proposed: bool,
}

/// Record a problem inside a transaction; one with the key of an existing problem updates it
/// (and confirms it again) instead.
pub(crate) async fn insert_problem(tx: &mut AuditTxn<'_>, campaign: i64, p: &NewProblem) -> Result<i64, StorageError> {
    let db = tx.db();
    let status = if p.proposed { ProblemStatus::Proposed } else { ProblemStatus::Confirmed };
    if let Some(key) = &p.key
        && let Some(IdRow { id }) = IdRow::find_by_statement(db.stmt(
            "SELECT id FROM campaign_problems WHERE campaign_id = $1 AND finding_key = $2",
            vec![campaign.into(), key.clone().into()],
        ))
        .one(tx.conn())
        .await?
    {
        tx.conn()
            .execute_raw(db.stmt(
                "UPDATE campaign_problems SET text = $1, status = $2 WHERE id = $3",
                vec![p.text.clone().into(), status.code().into(), id.into()],
            ))
            .await?;
        return Ok(id);
    }
    let id = IdRow::find_by_statement(db.stmt(
            "INSERT INTO campaign_problems (campaign_id, source, category, severity, district_code, town_code, household_id, text, \
             responsible_unit, status, finding_key, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
            vec![
                campaign.into(),
                p.source.code().into(),
                p.category.code().into(),
                p.severity.code().into(),
                p.district.clone().into(),
                p.town.clone().into(),
                p.household_id.into(),
                p.text.clone().into(),
                p.responsible_unit.chars().take(100).collect::<String>().into(),
                status.code().into(),
                p.key.clone().into(),
                tx.actor().username.clone().into(),
                Utc::now().into(),
            ],
        ))
.one(tx.conn())
.await?
.ok_or_else(|| StorageError::Corrupt("问题未能写入".into()))?
.id;
    tx.record::<(), _>("campaign_problem", id, Some(&p.town), "create", None, Some(p)).await?;
    Ok(id)
}

/// A problem as listed.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub id: i64,
    pub campaign_id: i64,
    pub source: Source,
    pub category: Category,
    pub severity: Severity,
    pub district_code: String,
    pub district_name: String,
    pub town_code: String,
    pub town_name: String,
    pub household_id: Option<i64>,
    pub text: String,
    pub responsible_unit: String,
    pub status: ProblemStatus,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, campaign_id, source, category, severity, district_code, town_code, household_id, text, \
    responsible_unit, status, created_by, created_at";

/// A `campaign_problems` row as stored ([`COLUMNS`]).
#[derive(FromQueryResult)]
struct ProblemRecord {
    id: i64,
    campaign_id: i64,
    source: Code<Source>,
    category: Code<Category>,
    severity: Code<Severity>,
    district_code: String,
    town_code: String,
    household_id: Option<i64>,
    text: String,
    responsible_unit: String,
    status: Code<ProblemStatus>,
    created_by: String,
    created_at: DateTime<Utc>,
}

fn row_to_problem(r: ProblemRecord, tree: &ducha_domain::RegionTree) -> Problem {
    let name = |c: &str| tree.get(c).map_or_else(|| c.to_string(), |r| r.name.clone());
    Problem {
        id: r.id,
        campaign_id: r.campaign_id,
        source: r.source.0,
        category: r.category.0,
        severity: r.severity.0,
        district_name: name(&r.district_code),
        town_name: name(&r.town_code),
        district_code: r.district_code,
        town_code: r.town_code,
        household_id: r.household_id,
        text: r.text,
        responsible_unit: r.responsible_unit,
        status: r.status.0,
        created_by: r.created_by,
        created_at: r.created_at,
    }
}

/// A campaign's problems that the access reaches, optionally of one status and one town.
pub(crate) async fn list<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    opened: &Opened,
    status: Option<ProblemStatus>,
    town: Option<&str>,
) -> Result<Vec<Problem>, StorageError> {
    let all = list_unchecked(db, c, opened.id(), status, town).await?;
    Ok(all.into_iter().filter(|p| opened.access().sees(&p.town_code)).collect())
}

/// A campaign's problems, whoever asks: for storage's own use (rectification decides for itself
/// whom a problem is shown to).
pub(crate) async fn list_unchecked<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    campaign: i64,
    status: Option<ProblemStatus>,
    town: Option<&str>,
) -> Result<Vec<Problem>, StorageError> {
    let tree = crate::regions::tree_in(c).await?;
    let mut sql = format!("SELECT {COLUMNS} FROM campaign_problems WHERE campaign_id = $1");
    let mut values: Vec<sea_orm::Value> = vec![campaign.into()];
    if let Some(s) = status {
        values.push(s.code().into());
        sql.push_str(&format!(" AND status = ${}", values.len()));
    }
    if let Some(t) = town {
        values.push(t.into());
        sql.push_str(&format!(" AND town_code = ${}", values.len()));
    }
    sql.push_str(" ORDER BY district_code, town_code, category, id");
    let rows = ProblemRecord::find_by_statement(db.stmt(&sql, values)).all(c).await?;
    Ok(rows.into_iter().map(|r| row_to_problem(r, &tree)).collect())
}

/// A problem the team enters by hand.
#[derive(Debug, Clone, Default)]
pub struct ProblemInput {
    pub town: String,
    pub household_id: Option<i64>,
    pub category: String,
    pub severity: String,
    pub text: String,
    pub responsible_unit: String,
}

/// Enter a problem found in a sampled town (the team, or the city office), with its evidence.
pub(crate) async fn add(
    s: &Scoped,
    campaign: i64,
    p: &ProblemInput,
    files: &[crate::evidence::Upload],
) -> Result<i64, StorageError> {
    let db = s.db();
    let mut tx = s.write().await?;
    let access = super::open_in(s, tx.conn(), campaign).await?.into_parts().1;
    if !access.fieldwork {
        return Err(StorageError::Forbidden("问题由督查组或市扶贫办录入".into()));
    }
    let district = DistrictCode::find_by_statement(db.stmt(
        "SELECT district_code FROM campaign_towns WHERE campaign_id = $1 AND town_code = $2",
        vec![campaign.into(), p.town.clone().into()],
    ))
    .one(tx.conn())
    .await?
    .map(|r| r.district_code);
    let mut e = FieldErrors::default();
    let district = match district {
        Some(d) if access.sees(&p.town) => d,
        _ => {
            e.add("town", "请选择本次督查抽查的镇(街)");
            String::new()
        }
    };
    let category = e.take("category", Category::parse(&p.category));
    let severity = e.take("severity", Severity::parse(&p.severity));
    let text = p.text.trim();
    if text.is_empty() {
        e.add("text", "请写明发现的问题");
    } else if text.chars().count() > 2000 {
        e.add("text", "问题描述请在 2000 字以内");
    }
    if p.responsible_unit.trim().is_empty() || p.responsible_unit.trim().chars().count() > 100 {
        e.add("responsible_unit", "请填写责任单位（100 字以内）");
    }
    if let Some(h) = p.household_id {
        let in_town = tx
            .conn()
            .query_one_raw(db.stmt(
                "SELECT 1 AS x FROM households WHERE id = $1 AND town_code = $2",
                vec![h.into(), p.town.clone().into()],
            ))
            .await?;
        if in_town.is_none() {
            e.add("household_id", "该户不在所选镇(街)");
        }
    }
    let (Some(category), Some(severity)) = (category, severity) else { return Err(StorageError::Invalid(e)) };
    if !e.is_empty() {
        return Err(StorageError::Invalid(e));
    }
    let np = NewProblem {
        source: Source::Manual,
        category,
        severity,
        town: p.town.clone(),
        district,
        household_id: p.household_id,
        text: text.to_string(),
        responsible_unit: p.responsible_unit.trim().to_string(),
        key: None,
        proposed: false,
    };
    let id = insert_problem(&mut tx, campaign, &np).await?;
    for f in files {
        crate::evidence::attach_to(&mut tx, "campaign_problem", id, p.household_id, &p.town, f).await?;
    }
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// Propose the audit engine's open findings in the sampled towns the actor reaches, each once,
/// for an inspector to confirm or dismiss. Returns how many were proposed now.
pub(crate) async fn propose_audit_findings(s: &Scoped, campaign: i64) -> Result<usize, StorageError> {
    let db = s.db();
    let mut tx = s.write().await?;
    let access = super::open_in(s, tx.conn(), campaign).await?.into_parts().1;
    if !access.fieldwork {
        return Err(StorageError::Forbidden("由督查组或市扶贫办导入核查发现".into()));
    }
    let tree = crate::regions::tree_in(tx.conn()).await?;
    #[derive(FromQueryResult)]
    struct FindingRow {
        key: String,
        rule: String,
        household_id: i64,
        town_code: String,
        district_code: String,
        message: String,
    }
    let rows = FindingRow::find_by_statement(db.stmt(
            "SELECT f.key, f.rule, f.household_id, f.town_code, f.district_code, f.message FROM check_findings f \
             JOIN campaign_towns t ON t.town_code = f.town_code AND t.campaign_id = $1 \
             WHERE f.status = 'open' AND NOT EXISTS (SELECT 1 FROM campaign_problems p WHERE p.campaign_id = $1 AND p.finding_key = f.key) \
             ORDER BY f.town_code, f.key",
            vec![campaign.into()],
        ))
        .all(tx.conn())
        .await?;
    let mut n = 0;
    for r in rows {
        let town = r.town_code;
        if !access.sees(&town) {
            continue;
        }
        let Some(rule) = ducha_domain::checks::rule(&r.rule) else { continue };
        let (household, message) = (r.household_id, r.message);
        let town_name = tree.get(&town).map_or_else(|| town.clone(), |t| t.name.clone());
        let p = NewProblem {
            source: Source::Audit,
            category: rule.category,
            severity: rule.severity,
            district: r.district_code,
            household_id: (household > 0).then_some(household),
            text: format!("{}（{}）：{message}", rule.title, rule.code),
            responsible_unit: format!("{town_name}扶贫办"),
            town,
            key: Some(r.key),
            proposed: true,
        };
        insert_problem(&mut tx, campaign, &p).await?;
        n += 1;
    }
    crate::scoped::commit(tx).await?;
    Ok(n)
}

/// Confirm or dismiss a proposed problem (the team or the city office); a dismissal needs a reason.
pub(crate) async fn decide(
    s: &Scoped,
    campaign: i64,
    problem: i64,
    confirm: bool,
    reason: &str,
) -> Result<(), StorageError> {
    let db = s.db();
    let mut tx = s.write().await?;
    let access = super::open_in(s, tx.conn(), campaign).await?.into_parts().1;
    if !access.fieldwork {
        return Err(StorageError::Forbidden("由督查组或市扶贫办确认".into()));
    }
    let tree = crate::regions::tree_in(tx.conn()).await?;
    let sql = format!("SELECT {COLUMNS} FROM campaign_problems WHERE id = $1 AND campaign_id = $2");
    let row =
        ProblemRecord::find_by_statement(db.stmt(&sql, vec![problem.into(), campaign.into()])).one(tx.conn()).await?;
    let p = row.map(|r| row_to_problem(r, &tree)).ok_or(StorageError::NotFound)?;
    if !access.sees(&p.town_code) {
        return Err(StorageError::NotFound);
    }
    if !confirm && reason.trim().is_empty() {
        return Err(crate::registry::write::field_error("reason", "排除一个问题请写明理由".into()));
    }
    let status = if confirm { ProblemStatus::Confirmed } else { ProblemStatus::Dismissed };
    tx.conn()
        .execute_raw(
            db.stmt(
                "UPDATE campaign_problems SET status = $1 WHERE id = $2",
                vec![status.code().into(), problem.into()],
            ),
        )
        .await?;
    let after = serde_json::json!({ "status": status.code(), "reason": reason.trim() });
    let before = serde_json::json!({ "status": p.status.code() });
    tx.record("campaign_problem", problem, Some(&p.town_code), "decide", Some(&before), Some(&after)).await?;
    crate::scoped::commit(tx).await?;
    Ok(())
}

/// An earlier campaign's problem in a revisited town, with its verification so far.
#[derive(Debug, Clone, Serialize)]
pub struct EarlierProblem {
    pub problem: Problem,
    pub result: Option<RevisitResult>,
    pub note: String,
}

/// The problems a revisit verifies in one town (one the access reaches): the confirmed problems
/// of the campaign revisited.
pub(crate) async fn revisit_list<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    opened: &Opened,
    town: &str,
) -> Result<Vec<EarlierProblem>, StorageError> {
    let campaign = opened.campaign();
    let Some(from) = campaign.sample_plan.as_ref().and_then(|p| p.revisit_from) else { return Ok(Vec::new()) };
    if !opened.access().sees(town) {
        return Ok(Vec::new());
    }
    let earlier = list_unchecked(db, c, from, Some(ProblemStatus::Confirmed), Some(town)).await?;
    #[derive(FromQueryResult)]
    struct CheckRow {
        problem_id: i64,
        result: Code<RevisitResult>,
        note: String,
    }
    let checks = CheckRow::find_by_statement(
        db.stmt("SELECT problem_id, result, note FROM revisit_checks WHERE campaign_id = $1", vec![campaign.id.into()]),
    )
    .all(c)
    .await?;
    let mut out = Vec::new();
    for p in earlier {
        let (result, note) = match checks.iter().find(|r| r.problem_id == p.id) {
            Some(r) => (Some(r.result.0), r.note.clone()),
            None => (None, String::new()),
        };
        out.push(EarlierProblem { problem: p, result, note });
    }
    Ok(out)
}

/// Verify one earlier problem in a revisited town (the team or the city office); anything short
/// of rectified needs a note saying what remains.
pub(crate) async fn verify(
    s: &Scoped,
    campaign: i64,
    problem: i64,
    result: RevisitResult,
    note: &str,
) -> Result<(), StorageError> {
    let (db, actor) = (s.db(), s.actor());
    let mut tx = s.write().await?;
    let (c, access) = super::open_in(s, tx.conn(), campaign).await?.into_parts();
    if !access.fieldwork {
        return Err(StorageError::Forbidden("回头看由督查组核实".into()));
    }
    #[derive(FromQueryResult)]
    struct Town {
        town_code: String,
    }
    let row = Town::find_by_statement(db.stmt(
        "SELECT p.town_code FROM campaign_problems p JOIN campaign_towns t ON t.town_code = p.town_code \
             AND t.campaign_id = $2 AND t.purpose = 'revisit' WHERE p.id = $1 AND p.campaign_id = $3",
        vec![problem.into(), campaign.into(), c.sample_plan.as_ref().and_then(|p| p.revisit_from).unwrap_or(0).into()],
    ))
    .one(tx.conn())
    .await?;
    let Some(Town { town_code: town }) = row else { return Err(StorageError::NotFound) };
    if !access.sees(&town) {
        return Err(StorageError::NotFound);
    }
    if result != RevisitResult::Rectified && note.trim().is_empty() {
        return Err(crate::registry::write::field_error("note", "未整改到位的，请写明差距".into()));
    }
    if note.trim().chars().count() > 400 {
        return Err(crate::registry::write::field_error("note", "说明请在 400 字以内".into()));
    }
    #[derive(FromQueryResult)]
    struct Before {
        result: String,
        note: String,
    }
    let before = Before::find_by_statement(db.stmt(
        "SELECT result, note FROM revisit_checks WHERE campaign_id = $1 AND problem_id = $2",
        vec![campaign.into(), problem.into()],
    ))
    .one(tx.conn())
    .await?
    .map(|r| serde_json::json!({ "result": r.result, "note": r.note }));
    tx.conn()
        .execute_raw(db.stmt(
            "INSERT INTO revisit_checks (campaign_id, problem_id, result, note, checked_by, checked_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (campaign_id, problem_id) DO UPDATE SET result = excluded.result, note = excluded.note, \
             checked_by = excluded.checked_by, checked_at = excluded.checked_at",
            vec![
                campaign.into(),
                problem.into(),
                result.code().into(),
                note.trim().into(),
                actor.username.clone().into(),
                Utc::now().into(),
            ],
        ))
        .await?;
    let after = serde_json::json!({ "result": result.code(), "note": note.trim() });
    tx.record("revisit_check", format!("{campaign}:{problem}"), Some(&town), "verify", before.as_ref(), Some(&after))
        .await?;
    crate::scoped::commit(tx).await?;
    Ok(())
}

/// A revisited town's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct TownVerdict {
    pub town: String,
    pub town_name: String,
    pub district: String,
    pub district_name: String,
    pub problems: usize,
    pub rectified: usize,
    pub verdict: Verdict,
}

/// The verdict of every revisited town the access reaches.
pub(crate) async fn verdicts<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    opened: &Opened,
) -> Result<Vec<TownVerdict>, StorageError> {
    let (campaign, access) = (opened.campaign(), opened.access());
    let tree = crate::regions::tree_in(c).await?;
    #[derive(FromQueryResult)]
    struct TownRow {
        town_code: String,
        district_code: String,
    }
    let rows = TownRow::find_by_statement(db.stmt(
        "SELECT town_code, district_code FROM campaign_towns WHERE campaign_id = $1 AND purpose = 'revisit' ORDER BY district_code, position",
        vec![campaign.id.into()],
    ))
    .all(c)
    .await?;
    let name = |c: &str| tree.get(c).map_or_else(|| c.to_string(), |r| r.name.clone());
    let mut out = Vec::new();
    for TownRow { town_code: town, district_code: district } in rows {
        if !access.sees(&town) {
            continue;
        }
        let list = revisit_list(db, c, opened, &town).await?;
        let results: Vec<Option<RevisitResult>> = list.iter().map(|p| p.result).collect();
        out.push(TownVerdict {
            town_name: name(&town),
            district_name: name(&district),
            problems: list.len(),
            rectified: results.iter().filter(|r| **r == Some(RevisitResult::Rectified)).count(),
            verdict: verdict(&results),
            town,
            district,
        });
    }
    Ok(out)
}

/// The problems of an opened campaign: those the access reaches.
pub struct Problems<'a>(&'a Opened);

impl Opened {
    pub fn problems(&self) -> Problems<'_> {
        Problems(self)
    }
}

impl Problems<'_> {
    /// The campaign's problems the access reaches, optionally of one status and one town.
    pub async fn list(&self, status: Option<ProblemStatus>, town: Option<&str>) -> Result<Vec<Problem>, StorageError> {
        let db = self.0.scoped().db();
        list(db, db.conn(), self.0, status, town).await
    }

    /// The evidence entered with each problem of a town (one the access reaches): problem →
    /// files, for the problems that have any.
    pub async fn files(&self, town: &str) -> Result<BTreeMap<i64, Vec<EvidenceMeta>>, StorageError> {
        let db = self.0.scoped().db();
        let mut out = BTreeMap::new();
        for p in list(db, db.conn(), self.0, None, Some(town)).await? {
            let files = crate::evidence::for_owner(db, "campaign_problem", p.id).await?;
            if !files.is_empty() {
                out.insert(p.id, files);
            }
        }
        Ok(out)
    }

    /// The household with this number in a town the access reaches (for a problem entered by
    /// hand at a household), or None.
    pub async fn household_in_town(&self, town: &str, number: &str) -> Result<Option<i64>, StorageError> {
        if !self.0.access().sees(town) {
            return Ok(None);
        }
        let db = self.0.scoped().db();
        let row = IdRow::find_by_statement(db.stmt(
            "SELECT id FROM households WHERE number = $1 AND town_code = $2",
            vec![number.trim().into(), town.into()],
        ))
        .one(db.conn())
        .await?;
        Ok(row.map(|r| r.id))
    }

    /// The earlier campaign's confirmed problems that a revisit verifies in one town (one the
    /// access reaches), with their verification so far.
    pub async fn revisit(&self, town: &str) -> Result<Vec<EarlierProblem>, StorageError> {
        let db = self.0.scoped().db();
        revisit_list(db, db.conn(), self.0, town).await
    }

    /// The verdict of every revisited town the access reaches.
    pub async fn verdicts(&self) -> Result<Vec<TownVerdict>, StorageError> {
        let db = self.0.scoped().db();
        verdicts(db, db.conn(), self.0).await
    }
}
