//! Inspection campaigns (督查) in the database: the campaign with its teams, who may reach it
//! (see [`ducha_domain::campaigns::access`]), its sample, the fieldwork (document review, visits,
//! questionnaires), the problems found, revisit verifications and the district assessment.
//!
//! The way in is [`Campaigns`] (`scoped.campaigns()`). Every read of what a campaign holds goes
//! through [`Campaigns::open`], the one access check: it gives an [`Opened`], whose parts
//! (`sample()`, `fieldwork()`, `problems()`, `circular()`, `summary()`) are the only reads of the
//! sample, the fieldwork, the problems and the figures, so that no page or API route can read
//! them without the check. Until a campaign ends, `open` answers as for a campaign that does not
//! exist to everyone but the city office and the campaign's own teams. The day that decides is
//! the [`Scoped`]'s, never the clock's.

pub mod assessment;
pub mod circular;
pub mod demo;
pub mod fieldwork;
pub mod problems;
pub mod sample;

use chrono::{DateTime, NaiveDate, Utc};
use ducha_domain::access::{Actor, Role};
use ducha_domain::campaigns::questionnaire::Question;
use ducha_domain::campaigns::scoring::Weights;
use ducha_domain::campaigns::{CampaignAccess, CampaignKind, Refusal, RevisitResult, SamplePlan};
use ducha_domain::labelled::Labelled;
use ducha_domain::validation::FieldErrors;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;

use crate::evidence::Upload;
use crate::stored::Code;
use crate::{Db, Scoped, StorageError};

/// A campaign as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub kind: CampaignKind,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub focus: Vec<String>,
    pub lead_units: String,
    pub guided_by: String,
    pub member_units: String,
    pub checklist_id: Option<i64>,
    pub questionnaire_id: Option<i64>,
    pub weights: Weights,
    pub sample_plan: Option<SamplePlan>,
    pub sample_algorithm: Option<String>,
    pub sampled_at: Option<DateTime<Utc>>,
    pub sampled_by: Option<String>,
}

impl Campaign {
    /// "11月6日-8日" or "2017年6月5日-6月7日": the dates as the seed writes them.
    pub fn dates_label(&self) -> String {
        use chrono::Datelike;
        let (s, e) = (self.starts_on, self.ends_on);
        if s == e {
            format!("{}月{}日", s.month(), s.day())
        } else if s.month() == e.month() {
            format!("{}月{}日-{}日", s.month(), s.day(), e.day())
        } else {
            format!("{}月{}日-{}月{}日", s.month(), s.day(), e.month(), e.day())
        }
    }
}

const COLUMNS: &str = "id, name, kind, starts_on, ends_on, focus, lead_units, guided_by, member_units, checklist_id, \
    questionnaire_id, weights, sample_plan, sample_algorithm, sampled_at, sampled_by";

/// A `campaigns` row as stored ([`COLUMNS`]): the JSON and line-list columns still as text.
#[derive(FromQueryResult)]
struct CampaignRecord {
    id: i64,
    name: String,
    kind: Code<CampaignKind>,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    focus: String,
    lead_units: String,
    guided_by: String,
    member_units: String,
    checklist_id: Option<i64>,
    questionnaire_id: Option<i64>,
    weights: String,
    sample_plan: Option<String>,
    sample_algorithm: Option<String>,
    sampled_at: Option<DateTime<Utc>>,
    sampled_by: Option<String>,
}

fn row_to_campaign(r: CampaignRecord) -> Result<Campaign, StorageError> {
    let bad = |what: &str, e: String| StorageError::Corrupt(format!("督查记录的{what}无法读取：{e}"));
    Ok(Campaign {
        id: r.id,
        name: r.name,
        kind: r.kind.0,
        starts_on: r.starts_on,
        ends_on: r.ends_on,
        focus: r.focus.lines().map(str::to_string).filter(|l| !l.is_empty()).collect(),
        lead_units: r.lead_units,
        guided_by: r.guided_by,
        member_units: r.member_units,
        checklist_id: r.checklist_id,
        questionnaire_id: r.questionnaire_id,
        weights: serde_json::from_str(&r.weights).map_err(|e| bad("评分权重", e.to_string()))?,
        sample_plan: r
            .sample_plan
            .map(|p| serde_json::from_str(&p))
            .transpose()
            .map_err(|e| bad("抽样方案", e.to_string()))?,
        sample_algorithm: r.sample_algorithm,
        sampled_at: r.sampled_at,
        sampled_by: r.sampled_by,
    })
}

/// A row of one `id` column: what an `INSERT … RETURNING id` gives back, or a look-up by key.
#[derive(FromQueryResult)]
pub(crate) struct IdRow {
    pub id: i64,
}

/// A row of one `district_code` column.
#[derive(FromQueryResult)]
pub(crate) struct DistrictCode {
    pub district_code: String,
}

/// A campaign by id, whoever asks: within storage only (everyone else goes through
/// [`Campaigns::open`]).
pub(crate) async fn get<C: ConnectionTrait>(db: &Db, c: &C, id: i64) -> Result<Campaign, StorageError> {
    let sql = format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1");
    CampaignRecord::find_by_statement(db.stmt(&sql, vec![id.into()]))
        .one(c)
        .await?
        .map(row_to_campaign)
        .transpose()?
        .ok_or(StorageError::NotFound)
}

/// The districts of the teams `user_id` is a member of in a campaign.
async fn team_districts<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    campaign: i64,
    user_id: Option<i64>,
) -> Result<Vec<String>, StorageError> {
    let Some(user_id) = user_id else { return Ok(Vec::new()) };
    let rows = DistrictCode::find_by_statement(db.stmt(
        "SELECT d.district_code FROM campaign_team_districts d JOIN campaign_team_members m ON m.team_id = d.team_id \
         WHERE d.campaign_id = $1 AND m.user_id = $2 ORDER BY d.district_code",
        vec![campaign.into(), user_id.into()],
    ))
    .all(c)
    .await?;
    Ok(rows.into_iter().map(|r| r.district_code).collect())
}

/// A value as JSON text for a column.
pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<String, StorageError> {
    serde_json::to_string(v).map_err(|e| StorageError::Corrupt(format!("无法编码：{e}")))
}

/// A JSON column as its value: one that does not decode is a fault of the database.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt(format!("{what}无法读取：{e}")))
}

/// A campaign as one user sees it on one day, and what they may do in it: made only by
/// [`Campaigns::open`]. Its parts are read through it (see the module's documentation).
#[derive(Debug, Clone)]
pub struct Opened {
    s: Scoped,
    campaign: Campaign,
    access: CampaignAccess,
}

impl Opened {
    pub fn id(&self) -> i64 {
        self.campaign.id
    }

    pub fn campaign(&self) -> &Campaign {
        &self.campaign
    }

    pub fn access(&self) -> &CampaignAccess {
        &self.access
    }

    pub fn into_parts(self) -> (Campaign, CampaignAccess) {
        (self.campaign, self.access)
    }

    /// The campaign's teams.
    pub async fn teams(&self) -> Result<Vec<Team>, StorageError> {
        teams(self.s.db(), self.s.db().conn(), self).await
    }

    /// The campaign's figures, within what the actor may see of it.
    pub async fn summary(&self) -> Result<assessment::Summary, StorageError> {
        assessment::summary_of(self.s.db(), self.s.db().conn(), self.clone()).await
    }

    pub(crate) fn scoped(&self) -> &Scoped {
        &self.s
    }
}

/// A campaign and what the actor may do in it, read on `c` (a transaction's connection for a
/// write); refused as not found when it is not there for the actor (sealed until it ends, or
/// never theirs), or with the reason for a member of its teams outside its days.
pub(crate) async fn open_in<C: ConnectionTrait>(s: &Scoped, c: &C, id: i64) -> Result<Opened, StorageError> {
    let db = s.db();
    let actor = s.actor();
    let campaign = get(db, c, id).await?;
    let teams = team_districts(db, c, id, actor.user_id).await?;
    match ducha_domain::campaigns::access(actor, &teams, campaign.starts_on, campaign.ends_on, s.today()) {
        Ok(access) => Ok(Opened { s: s.clone(), campaign, access }),
        Err(Refusal::Hidden) => Err(StorageError::NotFound),
        Err(Refusal::Closed(why)) => Err(StorageError::Forbidden(why)),
    }
}

/// Whether a campaign is still sealed from the actor on `today` (see
/// [`ducha_domain::campaigns::sealed`]): for what lies outside the campaign's pages but comes from
/// it (rectification, evidence).
pub(crate) async fn sealed_from<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    actor: &Actor,
    campaign: &Campaign,
    today: NaiveDate,
) -> Result<bool, StorageError> {
    let member = !team_districts(db, c, campaign.id, actor.user_id).await?.is_empty();
    Ok(ducha_domain::campaigns::sealed(actor.role, member, campaign.ends_on, today))
}

/// One line of the campaign list. A campaign under way that the user may know of but not open
/// (an announced one, before it ends) has its name, kind and dates only.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub kind: CampaignKind,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Not to be opened before it ends: the figures below are left out.
    pub sealed: bool,
    pub towns: Option<i64>,
    pub households: Option<i64>,
    pub problems: Option<i64>,
}

/// The campaigns the actor may know of, newest first: the city office all; an inspector those of
/// their teams; the others those that have ended, and announced ones under way (name and dates
/// only: a covert one, 暗访, is not listed until it ends).
async fn list(s: &Scoped) -> Result<Vec<CampaignRow>, StorageError> {
    let (db, actor, today) = (s.db(), s.actor(), s.today());
    let (filter, values) = match (actor.role, actor.user_id) {
        (Role::HelpCadre, _) => return Ok(Vec::new()),
        (Role::Inspector, Some(uid)) => (
            "WHERE c.id IN (SELECT t.campaign_id FROM campaign_teams t JOIN campaign_team_members m ON m.team_id = t.id WHERE m.user_id = $1)",
            vec![uid.into()],
        ),
        (Role::Inspector, None) => return Ok(Vec::new()),
        (Role::CityOffice, _) => ("", vec![]),
        _ => ("WHERE c.ends_on < $1 OR c.kind <> $2", vec![today.into(), CampaignKind::Unannounced.code().into()]),
    };
    let sql = format!(
        "SELECT c.id, c.name, c.kind, c.starts_on, c.ends_on, \
         (SELECT COUNT(*) FROM campaign_towns t WHERE t.campaign_id = c.id) AS towns, \
         (SELECT COUNT(*) FROM campaign_households h WHERE h.campaign_id = c.id) AS households, \
         (SELECT COUNT(*) FROM campaign_problems p WHERE p.campaign_id = c.id AND p.status = 'confirmed') AS problems \
         FROM campaigns c {filter} ORDER BY c.starts_on DESC, c.id DESC"
    );
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        name: String,
        kind: Code<CampaignKind>,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        towns: i64,
        households: i64,
        problems: i64,
    }
    let rows = Row::find_by_statement(db.stmt(&sql, values)).all(db.conn()).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            // Inspectors are listed their teams' campaigns; those they cannot open say why there.
            let sealed =
                actor.role != Role::Inspector && ducha_domain::campaigns::sealed(actor.role, false, r.ends_on, today);
            let figure = |n: i64| if sealed { None } else { Some(n) };
            CampaignRow {
                id: r.id,
                name: r.name,
                kind: r.kind.0,
                starts_on: r.starts_on,
                ends_on: r.ends_on,
                sealed,
                towns: figure(r.towns),
                households: figure(r.households),
                problems: figure(r.problems),
            }
        })
        .collect())
}

/// What the city office types to open a campaign.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignInput {
    pub name: String,
    pub kind: CampaignKind,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub focus: Vec<String>,
    pub lead_units: String,
    pub guided_by: String,
    pub member_units: String,
    pub weights: Weights,
}

fn check_input(i: &CampaignInput) -> Result<(), StorageError> {
    let mut e = FieldErrors::default();
    let len = |s: &str| s.trim().chars().count();
    if len(&i.name) == 0 || len(&i.name) > 100 {
        e.add("name", "请填写督查名称（100 字以内）");
    }
    if i.ends_on < i.starts_on {
        e.add("ends_on", format!("结束日期 {} 早于开始日期 {}", i.ends_on, i.starts_on));
    }
    if (i.ends_on - i.starts_on).num_days() > 92 {
        e.add("ends_on", "一次督查不超过 3 个月");
    }
    if i.focus.iter().any(|f| len(f) > 100) {
        e.add("focus", "每个重点请在 100 字以内");
    }
    for (field, v, max) in
        [("lead_units", &i.lead_units, 200), ("guided_by", &i.guided_by, 100), ("member_units", &i.member_units, 400)]
    {
        if len(v) > max {
            e.add(field, format!("请在 {max} 字以内"));
        }
    }
    if let Err((field, m)) = i.weights.check() {
        e.add(field, m);
    }
    if e.is_empty() { Ok(()) } else { Err(StorageError::Invalid(e)) }
}

/// Open a campaign (city office), with the shipped checklist and questionnaire.
async fn create(s: &Scoped, i: &CampaignInput) -> Result<i64, StorageError> {
    let (db, actor) = (s.db(), s.actor());
    if actor.role != Role::CityOffice {
        return Err(StorageError::Forbidden("督查由市扶贫办组织".into()));
    }
    check_input(i)?;
    let weights = to_json(&i.weights)?;
    let mut tx = s.write().await?;
    let id = IdRow::find_by_statement(db.stmt(
            "INSERT INTO campaigns (name, kind, starts_on, ends_on, focus, lead_units, guided_by, member_units, checklist_id, \
             questionnaire_id, weights, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, 1, $9, $10, $11) RETURNING id",
            vec![
                i.name.trim().into(),
                i.kind.code().into(),
                i.starts_on.into(),
                i.ends_on.into(),
                i.focus.iter().map(|f| f.trim()).filter(|f| !f.is_empty()).collect::<Vec<_>>().join("\n").into(),
                i.lead_units.trim().into(),
                i.guided_by.trim().into(),
                i.member_units.trim().into(),
                weights.into(),
                actor.username.clone().into(),
                Utc::now().into(),
            ],
        ))
.one(tx.conn())
.await?
.ok_or_else(|| StorageError::Corrupt("督查未能写入".into()))?
.id;
    tx.record::<(), _>("campaign", id, None, "create", None, Some(i)).await?;
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// A team (督查组) with its members and districts.
#[derive(Debug, Clone, Serialize)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub leader: String,
    pub units: String,
    /// (username, display name)
    pub members: Vec<(String, String)>,
    pub districts: Vec<String>,
}

/// The campaign's teams.
pub(crate) async fn teams<C: ConnectionTrait>(db: &Db, c: &C, opened: &Opened) -> Result<Vec<Team>, StorageError> {
    let campaign = opened.id();
    #[derive(FromQueryResult)]
    struct TeamRow {
        id: i64,
        name: String,
        leader: String,
        units: String,
    }
    #[derive(FromQueryResult)]
    struct MemberRow {
        username: String,
        display_name: String,
    }
    let rows = TeamRow::find_by_statement(db.stmt(
        "SELECT id, name, leader, units FROM campaign_teams WHERE campaign_id = $1 ORDER BY id",
        vec![campaign.into()],
    ))
    .all(c)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let id = r.id;
        let members = MemberRow::find_by_statement(db.stmt(
            "SELECT u.username, u.display_name FROM campaign_team_members m JOIN users u ON u.id = m.user_id \
             WHERE m.team_id = $1 ORDER BY u.username",
            vec![id.into()],
        ))
        .all(c)
        .await?
        .into_iter()
        .map(|m| (m.username, m.display_name))
        .collect();
        let districts = DistrictCode::find_by_statement(db.stmt(
            "SELECT district_code FROM campaign_team_districts WHERE team_id = $1 ORDER BY district_code",
            vec![id.into()],
        ))
        .all(c)
        .await?
        .into_iter()
        .map(|m| m.district_code)
        .collect();
        out.push(Team { id, name: r.name, leader: r.leader, units: r.units, members, districts });
    }
    Ok(out)
}

/// A team to add: members by user name (inspector accounts), districts by code.
#[derive(Debug, Clone, Serialize)]
pub struct TeamInput {
    pub name: String,
    pub leader: String,
    pub units: String,
    pub members: Vec<String>,
    pub districts: Vec<String>,
}

/// Add a team to a campaign (city office). Each district has one team; members must be
/// inspector accounts.
async fn add_team(s: &Scoped, campaign: i64, t: &TeamInput) -> Result<i64, StorageError> {
    let db = s.db();
    let mut tx = s.write().await?;
    if !open_in(s, tx.conn(), campaign).await?.access.plans {
        return Err(StorageError::Forbidden("督查组由市扶贫办安排".into()));
    }
    let mut e = FieldErrors::default();
    if t.name.trim().is_empty() || t.name.trim().chars().count() > 40 {
        e.add("name", "请填写组名（40 字以内）");
    }
    if t.leader.trim().chars().count() > 40 {
        e.add("leader", "组长姓名请在 40 字以内");
    }
    if t.units.trim().chars().count() > 200 {
        e.add("units", "成员单位请在 200 字以内");
    }
    let mut user_ids = Vec::new();
    for name in t.members.iter().map(|m| m.trim()).filter(|m| !m.is_empty()) {
        match crate::accounts::find_user(db, name).await? {
            Some(u) if u.role == Role::Inspector && u.active => user_ids.push(u.id),
            Some(u) => e.add("members", format!("“{name}”是{}，不是督查组成员账号", u.role)),
            None => e.add("members", format!("没有用户“{name}”")),
        }
    }
    let tree = crate::regions::tree_in(tx.conn()).await?;
    for d in &t.districts {
        match tree.get(d) {
            Some(r) if r.level == ducha_domain::region::RegionLevel::District => {}
            _ => e.add("districts", format!("“{d}”不是市(区)代码")),
        }
        #[derive(FromQueryResult)]
        struct Taken {
            name: String,
        }
        let taken = Taken::find_by_statement(db.stmt(
            "SELECT t.name FROM campaign_team_districts d JOIN campaign_teams t ON t.id = d.team_id \
             WHERE d.campaign_id = $1 AND d.district_code = $2",
            vec![campaign.into(), d.clone().into()],
        ))
        .one(tx.conn())
        .await?;
        if let Some(Taken { name }) = taken {
            e.add("districts", format!("{}已由{name}负责", tree.get(d).map_or(d.as_str(), |r| r.name.as_str())));
        }
    }
    if !e.is_empty() {
        return Err(StorageError::Invalid(e));
    }
    let id = IdRow::find_by_statement(db.stmt(
        "INSERT INTO campaign_teams (campaign_id, name, leader, units) VALUES ($1, $2, $3, $4) RETURNING id",
        vec![campaign.into(), t.name.trim().into(), t.leader.trim().into(), t.units.trim().into()],
    ))
    .one(tx.conn())
    .await?
    .ok_or_else(|| StorageError::Corrupt("督查组未能写入".into()))?
    .id;
    for uid in user_ids {
        tx.conn()
            .execute_raw(db.stmt(
                "INSERT INTO campaign_team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                vec![id.into(), uid.into()],
            ))
            .await?;
    }
    for d in &t.districts {
        tx.conn()
            .execute_raw(db.stmt(
                "INSERT INTO campaign_team_districts (campaign_id, district_code, team_id) VALUES ($1, $2, $3)",
                vec![campaign.into(), d.clone().into(), id.into()],
            ))
            .await?;
    }
    tx.record::<(), _>("campaign_team", id, None, "create", None, Some(&(campaign, t))).await?;
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// Change a campaign's scoring weights (city office); refused at the field that makes no sense.
async fn set_weights(s: &Scoped, campaign: i64, w: &Weights) -> Result<(), StorageError> {
    let db = s.db();
    let mut tx = s.write().await?;
    let (c, access) = open_in(s, tx.conn(), campaign).await?.into_parts();
    if !access.plans {
        return Err(StorageError::Forbidden("评分权重由市扶贫办设定".into()));
    }
    if let Err((field, m)) = w.check() {
        return Err(crate::registry::write::field_error(field, m));
    }
    tx.conn()
        .execute_raw(
            db.stmt("UPDATE campaigns SET weights = $1 WHERE id = $2", vec![to_json(w)?.into(), campaign.into()]),
        )
        .await?;
    tx.record("campaign", campaign, None, "weights", Some(&c.weights), Some(w)).await?;
    crate::scoped::commit(tx).await?;
    Ok(())
}

/// Campaigns as one actor sees them on one day: the list, opening one (the access check every
/// read of a campaign's parts goes through), and the writes, each of which opens the campaign
/// again inside its own transaction.
pub struct Campaigns<'a>(&'a Scoped);

impl Scoped {
    pub fn campaigns(&self) -> Campaigns<'_> {
        Campaigns(self)
    }
}

impl Campaigns<'_> {
    /// The campaigns the actor may know of, newest first (see [`CampaignRow`]).
    pub async fn list(&self) -> Result<Vec<CampaignRow>, StorageError> {
        list(self.0).await
    }

    /// A campaign and what the actor may do in it, today; not found when it is not there for the
    /// actor, forbidden (with the reason) for a member of its teams outside its days.
    pub async fn open(&self, id: i64) -> Result<Opened, StorageError> {
        open_in(self.0, self.0.db().conn(), id).await
    }

    /// A campaign's figures, within what the actor may see of it.
    pub async fn summary(&self, id: i64) -> Result<assessment::Summary, StorageError> {
        self.open(id).await?.summary().await
    }

    /// Open a campaign (city office), with the shipped checklist and questionnaire.
    pub async fn create(&self, i: &CampaignInput) -> Result<i64, StorageError> {
        create(self.0, i).await
    }

    /// Add a team to a campaign (city office).
    pub async fn add_team(&self, campaign: i64, t: &TeamInput) -> Result<i64, StorageError> {
        add_team(self.0, campaign, t).await
    }

    /// Change a campaign's scoring weights (city office).
    pub async fn set_weights(&self, campaign: i64, w: &Weights) -> Result<(), StorageError> {
        set_weights(self.0, campaign, w).await
    }

    /// Draw and store a campaign's sample (city office).
    pub async fn draw_sample(&self, campaign: i64, plan: &SamplePlan) -> Result<sample::Draw, StorageError> {
        sample::draw(self.0, campaign, plan).await
    }

    /// Record a sampled town's document review (the team or the city office).
    pub async fn review(&self, campaign: i64, r: &fieldwork::ReviewInput) -> Result<Vec<i64>, StorageError> {
        fieldwork::review(self.0, campaign, r).await
    }

    /// A sampled household the actor may visit (see [`fieldwork::Visitable`]).
    pub async fn visitable(&self, campaign: i64, household: i64) -> Result<fieldwork::Visitable, StorageError> {
        fieldwork::visitable_in(self.0, self.0.db().conn(), campaign, household).await
    }

    /// Record a household visit (the team); the same visit sent again is recorded once.
    pub async fn submit_visit(
        &self,
        campaign: i64,
        v: &fieldwork::VisitInput,
    ) -> Result<fieldwork::VisitOutcome, StorageError> {
        fieldwork::submit_visit(self.0, campaign, v).await
    }

    /// Enter a problem found in a sampled town, with its evidence.
    pub async fn add_problem(
        &self,
        campaign: i64,
        p: &problems::ProblemInput,
        files: &[Upload],
    ) -> Result<i64, StorageError> {
        problems::add(self.0, campaign, p, files).await
    }

    /// Propose the audit engine's open findings in the sampled towns; how many were proposed.
    pub async fn propose_audit_findings(&self, campaign: i64) -> Result<usize, StorageError> {
        problems::propose_audit_findings(self.0, campaign).await
    }

    /// Confirm or dismiss a proposed problem of the campaign.
    pub async fn decide(&self, campaign: i64, problem: i64, confirm: bool, reason: &str) -> Result<(), StorageError> {
        problems::decide(self.0, campaign, problem, confirm, reason).await
    }

    /// Verify an earlier problem in a revisited town.
    pub async fn verify(
        &self,
        campaign: i64,
        problem: i64,
        result: RevisitResult,
        note: &str,
    ) -> Result<(), StorageError> {
        problems::verify(self.0, campaign, problem, result, note).await
    }

    /// Write a campaign's circular settings (city office).
    pub async fn save_circular(&self, campaign: i64, s: &circular::CircularSettings) -> Result<(), StorageError> {
        circular::save_settings(self.0, campaign, s).await
    }

    /// The document-review checklists and questionnaires campaigns use.
    pub fn templates(&self) -> Templates<'_> {
        Templates(self.0)
    }

    /// Load the demo campaigns into a demo city (its accounts already made): June and November
    /// of `year`, and one under way from today.
    pub async fn load_demo(&self, year: i32) -> Result<demo::DemoCampaigns, StorageError> {
        demo::load(self.0, year).await
    }
}

/// The checklists and questionnaires: read by everyone, extended by the city office.
pub struct Templates<'a>(&'a Scoped);

impl Templates<'_> {
    /// A checklist's items, in order.
    pub async fn checklist(&self, template: i64) -> Result<Vec<fieldwork::ChecklistItem>, StorageError> {
        fieldwork::checklist(self.0.db(), self.0.db().conn(), template).await
    }

    /// A questionnaire's questions, in order.
    pub async fn questions(&self, questionnaire: i64) -> Result<Vec<Question>, StorageError> {
        fieldwork::questions(self.0.db(), self.0.db().conn(), questionnaire).await
    }

    /// Add an item to a checklist (city office).
    pub async fn add_checklist_item(&self, template: i64, section: &str, text: &str) -> Result<i64, StorageError> {
        fieldwork::add_checklist_item(self.0, template, section, text).await
    }

    /// Add a question to a questionnaire (city office).
    pub async fn add_question(&self, questionnaire: i64, q: &Question) -> Result<i64, StorageError> {
        fieldwork::add_question(self.0, questionnaire, q).await
    }
}
