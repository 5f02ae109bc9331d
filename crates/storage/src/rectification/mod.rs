//! Rectification (整改) of the problems campaigns confirm: the list an office, a district or the
//! city reads (with what is overdue), and the steps — start, submit with evidence, close (销号) or
//! send back — each checked by [`ducha_domain::rectification::step`] and audited.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use ducha_domain::access::{Actor, Role};
use ducha_domain::labelled::Labelled;
use ducha_domain::rectification::{RectAction, RectStatus, overdue, step};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;

use crate::campaigns::DistrictCode;
use crate::campaigns::problems::Problem;
use crate::evidence::{EvidenceMeta, Upload};
use crate::stored::Code;
use crate::{Db, Scoped, StorageError};

/// A problem with where its rectification stands.
#[derive(Debug, Clone, Serialize)]
pub struct Rect {
    pub problem: Problem,
    pub campaign_name: String,
    pub deadline: NaiveDate,
    pub status: RectStatus,
    pub overdue: bool,
    pub description: String,
    pub return_reason: String,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub verified_by: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
}

/// The districts an inspector verifies in on `today`: those of their teams in campaigns under way.
pub(crate) async fn inspector_districts<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    actor: &Actor,
    today: NaiveDate,
) -> Result<Vec<String>, StorageError> {
    let Some(uid) = actor.user_id else { return Ok(Vec::new()) };
    let rows = DistrictCode::find_by_statement(db.stmt(
        "SELECT d.district_code FROM campaign_team_districts d JOIN campaign_team_members m ON m.team_id = d.team_id \
         JOIN campaigns c ON c.id = d.campaign_id WHERE m.user_id = $1 AND c.starts_on <= $2 AND c.ends_on >= $2",
        vec![uid.into(), today.into()],
    ))
    .all(c)
    .await?;
    Ok(rows.into_iter().map(|r| r.district_code).collect())
}

/// Whether the actor reaches a problem in `town`.
fn reaches(actor: &Actor, inspector: &[String], town: &str) -> bool {
    match actor.role {
        Role::Inspector => inspector.iter().any(|d| town.starts_with(d.as_str())),
        Role::HelpCadre => false,
        _ => actor.scope.contains(town),
    }
}

/// Filters of the list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<RectStatus>,
    pub overdue_only: bool,
    pub unit: Option<String>,
    pub campaign: Option<i64>,
}

/// The confirmed problems the actor reaches, with their rectification, by district and town.
async fn list<C: ConnectionTrait>(s: &Scoped, c: &C, f: &Filter) -> Result<Vec<Rect>, StorageError> {
    let (db, actor, today) = (s.db(), s.actor(), s.today());
    let inspector =
        if actor.role == Role::Inspector { inspector_districts(db, c, actor, today).await? } else { vec![] };
    #[derive(FromQueryResult)]
    struct CampaignName {
        id: i64,
        name: String,
    }
    #[derive(FromQueryResult)]
    struct Stored {
        problem_id: i64,
        deadline: NaiveDate,
        status: Code<RectStatus>,
        description: String,
        return_reason: String,
        submitted_by: Option<String>,
        submitted_at: Option<DateTime<Utc>>,
        verified_by: Option<String>,
        verified_at: Option<DateTime<Utc>>,
    }
    let campaigns: Vec<(i64, String)> =
        CampaignName::find_by_statement(db.stmt("SELECT id, name FROM campaigns ORDER BY id", vec![]))
            .all(c)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
    let rows = Stored::find_by_statement(db.stmt(
        "SELECT problem_id, deadline, status, description, return_reason, submitted_by, submitted_at, verified_by, verified_at \
         FROM rectifications",
        vec![],
    ))
    .all(c)
    .await?;
    let stored: BTreeMap<i64, &Stored> = rows.iter().map(|r| (r.problem_id, r)).collect();
    let mut out = Vec::new();
    for (id, name) in campaigns.iter().filter(|(id, _)| f.campaign.is_none_or(|c| c == *id)) {
        let campaign = crate::campaigns::get(db, c, *id).await?;
        // A campaign's problems go to the towns when it ends: before, they would tell a town it
        // was sampled.
        if crate::campaigns::sealed_from(db, c, actor, &campaign, today).await? {
            continue;
        }
        let default_deadline = crate::campaigns::circular::settings_of(db, c, &campaign).await?.deadline();
        let problems = crate::campaigns::problems::list_unchecked(
            db,
            c,
            *id,
            Some(ducha_domain::campaigns::ProblemStatus::Confirmed),
            None,
        )
        .await?;
        for p in problems.into_iter().filter(|p| reaches(actor, &inspector, &p.town_code)) {
            if f.unit.as_ref().is_some_and(|u| &p.responsible_unit != u) {
                continue;
            }
            let r = stored.get(&p.id);
            let status = r.map_or(RectStatus::Assigned, |r| r.status.0);
            let deadline = r.map_or(default_deadline, |r| r.deadline);
            let late = overdue(status, deadline, today);
            if f.status.is_some_and(|s| s != status) || (f.overdue_only && !late) {
                continue;
            }
            out.push(Rect {
                campaign_name: name.clone(),
                deadline,
                status,
                overdue: late,
                description: r.map(|r| r.description.clone()).unwrap_or_default(),
                return_reason: r.map(|r| r.return_reason.clone()).unwrap_or_default(),
                submitted_by: r.and_then(|r| r.submitted_by.clone()),
                submitted_at: r.and_then(|r| r.submitted_at),
                verified_by: r.and_then(|r| r.verified_by.clone()),
                verified_at: r.and_then(|r| r.verified_at),
                problem: p,
            });
        }
    }
    Ok(out)
}

/// One problem's rectification, if the actor reaches it.
async fn one<C: ConnectionTrait>(s: &Scoped, c: &C, problem: i64) -> Result<Rect, StorageError> {
    let db = s.db();
    #[derive(FromQueryResult)]
    struct Of {
        campaign_id: i64,
    }
    let campaign = Of::find_by_statement(db.stmt(
        "SELECT campaign_id FROM campaign_problems WHERE id = $1 AND status = 'confirmed'",
        vec![problem.into()],
    ))
    .one(c)
    .await?
    .ok_or(StorageError::NotFound)?
    .campaign_id;
    let f = Filter { campaign: Some(campaign), ..Default::default() };
    list(s, c, &f).await?.into_iter().find(|r| r.problem.id == problem).ok_or(StorageError::NotFound)
}

/// Counts for a region or a unit: problems, closed, overdue.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub name: String,
    pub problems: usize,
    pub closed: usize,
    pub submitted: usize,
    pub overdue: usize,
}

impl Tally {
    /// 整改率: closed of all, in whole percent.
    pub fn rate(&self) -> Option<usize> {
        (self.problems > 0).then(|| (100 * self.closed + self.problems / 2) / self.problems)
    }
}

/// Tallies by a key (district, town, responsible unit), in the order of the key.
pub fn tally(rects: &[Rect], key: impl Fn(&Rect) -> (String, String)) -> Vec<Tally> {
    let mut by: BTreeMap<String, Tally> = BTreeMap::new();
    for r in rects {
        let (k, name) = key(r);
        let t = by.entry(k).or_insert_with(|| Tally { name, ..Default::default() });
        t.problems += 1;
        t.closed += usize::from(r.status == RectStatus::Closed);
        t.submitted += usize::from(r.status == RectStatus::Submitted);
        t.overdue += usize::from(r.overdue);
    }
    by.into_values().collect()
}

/// Take one step of a problem's rectification: start, submit (with what was done and evidence),
/// close, or send back with a reason.
async fn act(
    s: &Scoped,
    problem: i64,
    action: RectAction,
    text: &str,
    files: &[Upload],
) -> Result<RectStatus, StorageError> {
    let (db, actor) = (s.db(), s.actor());
    let mut tx = s.write().await?;
    let r = one(s, tx.conn(), problem).await?;
    for f in files {
        ducha_domain::evidence::accept(&f.filename, &f.bytes)
            .map_err(|m| crate::registry::write::field_error("files", m))?;
    }
    #[derive(FromQueryResult)]
    struct Kept {
        n: i64,
    }
    let kept = Kept::find_by_statement(db.stmt(
        "SELECT COUNT(*) AS n FROM evidence WHERE owner_kind = 'rectification' AND owner_id = $1",
        vec![problem.into()],
    ))
    .one(tx.conn())
    .await?
    .map_or(0, |r| r.n);
    let to = step(r.status, action, actor.role, text, files.len() + kept.max(0) as usize)
        .map_err(|(field, m)| crate::registry::write::field_error(field, m))?;
    if text.trim().chars().count() > 2000 {
        return Err(crate::registry::write::field_error("description", "请在 2000 字以内".into()));
    }
    let now = Utc::now();
    let (description, reason) = match action {
        RectAction::Submit => (text.trim().to_string(), r.return_reason.clone()),
        RectAction::Return => (r.description.clone(), text.trim().to_string()),
        _ => (r.description.clone(), r.return_reason.clone()),
    };
    let submitted = if action == RectAction::Submit {
        (Some(actor.username.clone()), Some(now))
    } else {
        (r.submitted_by.clone(), r.submitted_at)
    };
    let verified = if matches!(action, RectAction::Close | RectAction::Return) {
        (Some(actor.username.clone()), Some(now))
    } else {
        (r.verified_by.clone(), r.verified_at)
    };
    tx.conn()
        .execute_raw(db.stmt(
            "INSERT INTO rectifications (problem_id, deadline, status, description, return_reason, submitted_by, submitted_at, \
             verified_by, verified_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (problem_id) DO UPDATE SET \
             status = excluded.status, description = excluded.description, return_reason = excluded.return_reason, \
             submitted_by = excluded.submitted_by, submitted_at = excluded.submitted_at, verified_by = excluded.verified_by, \
             verified_at = excluded.verified_at, updated_at = excluded.updated_at",
            vec![
                problem.into(),
                r.deadline.into(),
                to.code().into(),
                description.clone().into(),
                reason.clone().into(),
                submitted.0.into(),
                submitted.1.into(),
                verified.0.into(),
                verified.1.into(),
                now.into(),
            ],
        ))
        .await?;
    for f in files {
        crate::evidence::attach_to(&mut tx, "rectification", problem, r.problem.household_id, &r.problem.town_code, f)
            .await?;
    }
    let before = serde_json::json!({ "status": r.status.code(), "description": r.description, "return_reason": r.return_reason });
    let after = serde_json::json!({ "status": to.code(), "action": action.code(), "description": description, "return_reason": reason, "files": files.len() });
    tx.record("rectification", problem, Some(&r.problem.town_code), action.code(), Some(&before), Some(&after)).await?;
    crate::scoped::commit(tx).await?;
    Ok(to)
}

/// The rectification rate and the overdue share (both in percent) at each of `points` dates
/// spread evenly from a month before the earliest deadline to `today`: how the work went over time.
pub fn over_time(rects: &[Rect], today: NaiveDate, points: usize) -> Vec<(NaiveDate, f64, f64)> {
    let Some(first) = rects.iter().map(|r| r.deadline).min() else { return Vec::new() };
    let start = first.checked_sub_days(chrono::Days::new(30)).unwrap_or(first).min(today);
    let span = (today - start).num_days().max(1);
    let n = points.max(2);
    let total = rects.len() as f64;
    (0..n)
        .map(|i| {
            let day = start + chrono::Duration::days(span * i as i64 / (n - 1) as i64);
            let closed_by =
                |r: &Rect| r.status == RectStatus::Closed && r.verified_at.is_some_and(|t| t.date_naive() <= day);
            let closed = rects.iter().filter(|r| closed_by(r)).count() as f64;
            let late = rects.iter().filter(|r| r.deadline < day && !closed_by(r)).count() as f64;
            (day, (1000.0 * closed / total).round() / 10.0, (1000.0 * late / total).round() / 10.0)
        })
        .collect()
}

/// Rectification as one actor sees it on one day: the problems they reach, and the steps they
/// may take.
pub struct Rectification<'a>(&'a Scoped);

impl Scoped {
    pub fn rectification(&self) -> Rectification<'_> {
        Rectification(self)
    }
}

/// One problem's rectification with the evidence submitted for it.
#[derive(Debug, Clone, Serialize)]
pub struct RectDetail {
    pub rect: Rect,
    pub files: Vec<EvidenceMeta>,
}

impl Rectification<'_> {
    /// The confirmed problems the actor reaches, with their rectification, by district and town.
    pub async fn list(&self, f: &Filter) -> Result<Vec<Rect>, StorageError> {
        list(self.0, self.0.db().conn(), f).await
    }

    /// One problem's rectification, if the actor reaches it.
    pub async fn one(&self, problem: i64) -> Result<Rect, StorageError> {
        one(self.0, self.0.db().conn(), problem).await
    }

    /// One problem's rectification and its evidence, if the actor reaches it.
    pub async fn detail(&self, problem: i64) -> Result<RectDetail, StorageError> {
        let rect = self.one(problem).await?;
        let files = crate::evidence::for_owner(self.0.db(), "rectification", problem).await?;
        Ok(RectDetail { rect, files })
    }

    /// Take one step of a problem's rectification (see [`ducha_domain::rectification::step`]).
    pub async fn act(
        &self,
        problem: i64,
        action: RectAction,
        text: &str,
        files: &[Upload],
    ) -> Result<RectStatus, StorageError> {
        act(self.0, problem, action, text, files).await
    }
}
