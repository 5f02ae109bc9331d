//! Fieldwork: document review of a sampled town against the campaign's checklist, and household
//! visits (registry facts beside what the inspector saw, questionnaire answers, photos). A visit
//! carries the key the phone gave it when it was filled in, so that a visit sent twice (offline,
//! then again when the connection returned) is recorded once.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Utc};
use ducha_domain::campaigns::questionnaire::{Question, QuestionKind, parse_answer};
use ducha_domain::campaigns::{ReviewResult, Source};
use ducha_domain::checks::{Category, Severity};
use ducha_domain::labelled::Labelled;
use ducha_domain::registry::{HouseholdStatus, HouseholdType, PovertyCause};
use ducha_domain::validation::FieldErrors;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;

use super::Opened;
use super::problems::{NewProblem, insert_problem};
use crate::audit::AuditTxn;
use crate::evidence::Upload;
use crate::stored::Code;
use crate::{Db, Scoped, StorageError};

/// One item of a checklist.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct ChecklistItem {
    pub id: i64,
    pub section: String,
    pub text: String,
}

pub(crate) async fn checklist<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    template: i64,
) -> Result<Vec<ChecklistItem>, StorageError> {
    Ok(ChecklistItem::find_by_statement(db.stmt(
        "SELECT id, section, text FROM checklist_items WHERE template_id = $1 ORDER BY position",
        vec![template.into()],
    ))
    .all(c)
    .await?)
}

/// The problem category a checklist section's failures belong to (the seed files medical
/// one-stop settlement under 帮扶措施).
pub fn section_category(section: &str) -> Category {
    match section {
        "平台建设" => Category::Platform,
        "责任落实" => Category::Responsibility,
        "档案资料" => Category::DataAccuracy,
        "资金项目" => Category::Funds,
        _ => Category::Measures,
    }
}

async fn reviews_in<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    campaign: i64,
    town: &str,
) -> Result<BTreeMap<i64, (ReviewResult, String)>, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        item_id: i64,
        result: Code<ReviewResult>,
        note: String,
    }
    let rows = Row::find_by_statement(db.stmt(
        "SELECT item_id, result, note FROM campaign_reviews WHERE campaign_id = $1 AND town_code = $2",
        vec![campaign.into(), town.into()],
    ))
    .all(c)
    .await?;
    Ok(rows.into_iter().map(|r| (r.item_id, (r.result.0, r.note))).collect())
}

/// Where a sampled town lies, if it is in the campaign's sample and the actor may work there.
async fn sampled_town<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    campaign: i64,
    town: &str,
) -> Result<Option<String>, StorageError> {
    Ok(super::DistrictCode::find_by_statement(db.stmt(
        "SELECT district_code FROM campaign_towns WHERE campaign_id = $1 AND town_code = $2",
        vec![campaign.into(), town.into()],
    ))
    .one(c)
    .await?
    .map(|r| r.district_code))
}

/// A town's document review as submitted: every item's result and note, and photos.
#[derive(Debug, Clone, Default)]
pub struct ReviewInput {
    pub town: String,
    pub results: Vec<(i64, Option<ReviewResult>, String)>,
    pub photos: Vec<Upload>,
}

/// Record a town's document review. A failed item needs a note and becomes a problem of the
/// town; judged again as passed, its problem is dismissed. Returns the problems made or kept.
pub(crate) async fn review(s: &Scoped, campaign: i64, r: &ReviewInput) -> Result<Vec<i64>, StorageError> {
    let (db, actor) = (s.db(), s.actor());
    let mut tx = s.write().await?;
    let (c, access) = super::open_in(s, tx.conn(), campaign).await?.into_parts();
    if !access.fieldwork {
        return Err(StorageError::Forbidden("查阅资料由督查组记录".into()));
    }
    let district = sampled_town(db, tx.conn(), campaign, &r.town).await?;
    let Some(district) = district.filter(|_| access.sees(&r.town)) else { return Err(StorageError::NotFound) };
    let items = checklist(db, tx.conn(), c.checklist_id.unwrap_or(1)).await?;
    let mut e = FieldErrors::default();
    for (item, result, note) in &r.results {
        let Some(it) = items.iter().find(|i| i.id == *item) else {
            e.add(format!("result_{item}"), "清单中没有这一项");
            continue;
        };
        if *result == Some(ReviewResult::Fail) && note.trim().is_empty() {
            e.add(format!("note_{item}"), format!("“{}”不符合，请写明发现的问题", it.text));
        }
        if note.trim().chars().count() > 400 {
            e.add(format!("note_{item}"), "说明请在 400 字以内");
        }
    }
    for p in &r.photos {
        if let Err(m) = ducha_domain::evidence::accept(&p.filename, &p.bytes) {
            e.add("photos", m);
        }
    }
    if !e.is_empty() {
        return Err(StorageError::Invalid(e));
    }
    let town_name =
        crate::regions::tree_in(tx.conn()).await?.get(&r.town).map_or_else(|| r.town.clone(), |t| t.name.clone());
    let before = reviews_in(db, tx.conn(), campaign, &r.town).await?;
    let mut problems = Vec::new();
    let now = Utc::now();
    for (item, result, note) in &r.results {
        let Some(result) = result else { continue };
        let Some(it) = items.iter().find(|i| i.id == *item) else { continue };
        tx.conn()
            .execute_raw(db.stmt(
                "INSERT INTO campaign_reviews (campaign_id, town_code, item_id, result, note, reviewed_by, reviewed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (campaign_id, town_code, item_id) DO UPDATE SET \
                 result = excluded.result, note = excluded.note, reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at",
                vec![
                    campaign.into(),
                    r.town.clone().into(),
                    (*item).into(),
                    result.code().into(),
                    note.trim().into(),
                    actor.username.clone().into(),
                    now.into(),
                ],
            ))
            .await?;
        let key = format!("review:{}:{item}", r.town);
        if *result == ReviewResult::Fail {
            let p = NewProblem {
                source: Source::Review,
                category: section_category(&it.section),
                severity: Severity::Warning,
                town: r.town.clone(),
                district: district.clone(),
                household_id: None,
                text: format!("{}（查阅资料“{}”不符合）", note.trim().trim_end_matches('。'), it.text),
                responsible_unit: format!("{town_name}扶贫办"),
                key: Some(key),
                proposed: false,
            };
            problems.push(insert_problem(&mut tx, campaign, &p).await?);
        } else {
            tx.conn()
                .execute_raw(db.stmt(
                    "UPDATE campaign_problems SET status = 'dismissed' WHERE campaign_id = $1 AND finding_key = $2",
                    vec![campaign.into(), key.into()],
                ))
                .await?;
        }
    }
    for p in &r.photos {
        crate::evidence::attach_to(&mut tx, "campaign_review", campaign, None, &r.town, p).await?;
    }
    let after: Vec<_> = r.results.iter().map(|(i, res, n)| (i, res.map(|x| x.code()), n)).collect();
    let before: Vec<_> = before.iter().map(|(i, (res, n))| (i, res.code(), n)).collect();
    tx.record(
        "campaign_review",
        format!("{campaign}:{}", r.town),
        Some(&r.town),
        "review",
        Some(&before),
        Some(&after),
    )
    .await?;
    crate::scoped::commit(tx).await?;
    Ok(problems)
}

/// One registry fact shown beside what the inspector observes.
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
}

pub(crate) async fn facts_of<C: ConnectionTrait>(db: &Db, c: &C, household: i64) -> Result<Vec<Fact>, StorageError> {
    #[derive(FromQueryResult)]
    struct HouseholdRow {
        household_type: Code<HouseholdType>,
        status: Code<HouseholdStatus>,
        main_cause: Code<PovertyCause>,
        safe_housing: bool,
        compulsory_education: bool,
        basic_medical: bool,
        record_book_issued: bool,
        record_book_provincial: bool,
        address: String,
        head_name: Option<String>,
        size: i64,
        cadre: Option<String>,
        measures: i64,
    }
    #[derive(FromQueryResult)]
    struct FinanceRow {
        year: i32,
        household_size: i32,
        net: i64,
    }
    let h = HouseholdRow::find_by_statement(db.stmt(
        "SELECT h.household_type, h.status, h.main_cause, h.safe_housing, h.compulsory_education, h.basic_medical, \
             h.record_book_issued, h.record_book_provincial, h.address, \
             (SELECT m.name FROM members m WHERE m.household_id = h.id AND m.left_on IS NULL \
              ORDER BY CASE WHEN m.relation = 'head' THEN 0 ELSE 1 END, m.seq LIMIT 1) AS head_name, \
             (SELECT COUNT(*) FROM members m WHERE m.household_id = h.id AND m.left_on IS NULL) AS size, \
             (SELECT c.name FROM cadres c WHERE c.id = h.cadre_id) AS cadre, \
             (SELECT COUNT(*) FROM help_measures x WHERE x.household_id = h.id) AS measures \
             FROM households h WHERE h.id = $1",
        vec![household.into()],
    ))
    .one(c)
    .await?
    .ok_or(StorageError::NotFound)?;
    let fin = FinanceRow::find_by_statement(db.stmt(
            "SELECT year, household_size, wage_income + business_income + property_income + transfer_income - production_costs AS net \
             FROM household_finances WHERE household_id = $1 ORDER BY year DESC LIMIT 1",
            vec![household.into()],
        ))
        .one(c)
        .await?;
    let yes = |b: bool, y: &str, n: &str| if b { y } else { n }.to_string();
    let income = match fin {
        Some(FinanceRow { year, household_size: size, net }) => {
            match ducha_domain::Money::from_fen(net).per(i64::from(size)) {
                Some(m) => format!("{year} 年 {m} 元"),
                None => format!("{year} 年未登记人口"),
            }
        }
        None => "未登记".into(),
    };
    let book = if !h.record_book_issued {
        "未发放"
    } else if h.record_book_provincial {
        "已发放，按省格式设置"
    } else {
        "已发放，未按省格式设置"
    };
    let (size, measures) = (h.size, h.measures);
    Ok(vec![
        Fact { key: "head", label: "户主", value: h.head_name.unwrap_or_default() },
        Fact { key: "address", label: "住址", value: h.address },
        Fact { key: "size", label: "家庭人口", value: format!("{size} 人") },
        Fact { key: "type", label: "贫困户属性", value: h.household_type.0.label().into() },
        Fact { key: "status", label: "贫困户状态", value: h.status.0.label().into() },
        Fact { key: "cause", label: "主要致贫原因", value: h.main_cause.0.label().into() },
        Fact { key: "cadre", label: "帮扶责任人", value: h.cadre.unwrap_or("未落实".into()) },
        Fact { key: "income", label: "人均纯收入", value: income },
        Fact { key: "measures", label: "帮扶措施", value: format!("{measures} 项") },
        Fact { key: "housing", label: "住房安全", value: yes(h.safe_housing, "有保障", "无保障") },
        Fact { key: "education", label: "义务教育", value: yes(h.compulsory_education, "有保障", "无保障") },
        Fact { key: "medical", label: "基本医疗", value: yes(h.basic_medical, "有保障", "无保障") },
        Fact { key: "record_book", label: "帮扶记录本", value: book.into() },
    ])
}

pub(crate) async fn questions<C: ConnectionTrait>(
    db: &Db,
    c: &C,
    questionnaire: i64,
) -> Result<Vec<Question>, StorageError> {
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        kind: Code<QuestionKind>,
        text: String,
        options: String,
        scale_min: i32,
        scale_max: i32,
        topic: Option<String>,
        satisfied: String,
    }
    let rows = Row::find_by_statement(db.stmt(
        "SELECT id, kind, text, options, scale_min, scale_max, topic, satisfied FROM questions WHERE questionnaire_id = $1 ORDER BY position",
        vec![questionnaire.into()],
    ))
    .all(c)
    .await?;
    let list = |s: &str| super::from_json::<Vec<String>>("问卷题目的选项", s);
    rows.into_iter()
        .map(|r| {
            Ok(Question {
                id: r.id,
                kind: r.kind.0,
                text: r.text,
                options: list(&r.options)?,
                scale_min: r.scale_min,
                scale_max: r.scale_max,
                topic: r.topic,
                satisfied: list(&r.satisfied)?,
            })
        })
        .collect()
}

/// What the inspector saw of one fact: the same as the registry, or not (with what instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Observation {
    pub key: String,
    pub matches: bool,
    #[serde(default)]
    pub observed: String,
}

/// A visit as the form (or the phone's queue) sends it.
#[derive(Debug, Clone, Default)]
pub struct VisitInput {
    pub household_id: i64,
    /// Made by the phone when the form was filled in; the same key sent again is the same visit.
    pub client_key: String,
    pub visited_on: Option<NaiveDate>,
    pub observations: Vec<Observation>,
    pub note: String,
    /// Question id → the values given.
    pub answers: Vec<(i64, Vec<String>)>,
    pub photos: Vec<Upload>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum VisitOutcome {
    /// Recorded now, with the problems its differences made.
    Recorded { visit_id: i64, problems: Vec<i64> },
    /// This very visit was recorded before (sent again from the phone's queue): nothing changed.
    AlreadyReceived { visit_id: i64 },
}

/// A sampled household that the actor may visit: made only by
/// [`Campaigns::visitable`](super::Campaigns::visitable). Its facts and its visit are read
/// through it.
#[derive(Debug, Clone)]
pub struct Visitable {
    opened: Opened,
    household: i64,
    district: String,
    town: String,
    village: String,
}

impl Visitable {
    pub fn opened(&self) -> &Opened {
        &self.opened
    }

    pub fn household(&self) -> i64 {
        self.household
    }

    pub fn town(&self) -> &str {
        &self.town
    }

    /// The registry's facts about the household that a visit checks on the spot.
    pub async fn facts(&self) -> Result<Vec<Fact>, StorageError> {
        let db = self.opened.scoped().db();
        facts_of(db, db.conn(), self.household).await
    }

    /// The visit recorded at the household in this campaign, if any.
    pub async fn visit(&self) -> Result<Option<Visit>, StorageError> {
        let db = self.opened.scoped().db();
        visit_of(db, db.conn(), self).await
    }
}

/// A sampled household that the actor may visit, with its district, town and village. A household
/// outside the part of the campaign the actor reaches is not found, sampled or not (so that the
/// answer tells nothing of another town's sample); within it, one not sampled is refused as such.
pub(crate) async fn visitable_in<C: ConnectionTrait>(
    s: &Scoped,
    c: &C,
    campaign: i64,
    household: i64,
) -> Result<Visitable, StorageError> {
    let db = s.db();
    let opened = super::open_in(s, c, campaign).await?;
    #[derive(FromQueryResult)]
    struct Place {
        district_code: String,
        town_code: String,
        village_code: String,
    }
    let place = Place::find_by_statement(
        db.stmt("SELECT district_code, town_code, village_code FROM households WHERE id = $1", vec![household.into()]),
    )
    .one(c)
    .await?;
    let Some(Place { district_code: district, town_code: town, village_code: village }) = place else {
        return Err(StorageError::NotFound);
    };
    if !opened.access().sees(&town) {
        return Err(StorageError::NotFound);
    }
    let sampled = c
        .query_one_raw(db.stmt(
            "SELECT 1 AS x FROM campaign_households WHERE campaign_id = $1 AND household_id = $2",
            vec![campaign.into(), household.into()],
        ))
        .await?;
    if sampled.is_none() {
        return Err(StorageError::Rejected("该户不在本次督查的抽查名单中，不能登记走访".into()));
    }
    Ok(Visitable { opened, household, district, town, village })
}

/// Record a household visit: facts that differ from the registry become problems (data
/// accuracy), answers are checked against the questionnaire, photos kept as evidence.
pub(crate) async fn submit_visit(s: &Scoped, campaign: i64, v: &VisitInput) -> Result<VisitOutcome, StorageError> {
    let (db, actor) = (s.db(), s.actor());
    let mut tx = s.write().await?;
    let key = v.client_key.trim();
    if !(8..=64).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(StorageError::Rejected("走访记录缺少有效的编号，请刷新页面后重新填写".into()));
    }
    // A resubmission is recognised before anything else: the campaign may have ended since the
    // phone first sent it, and the answer must still be "received". Only to the one who sent it:
    // to anyone else a visit's key says nothing.
    #[derive(FromQueryResult)]
    struct Sent {
        id: i64,
        campaign_id: i64,
        household_id: i64,
    }
    let sent = Sent::find_by_statement(db.stmt(
        "SELECT id, campaign_id, household_id FROM campaign_visits WHERE client_key = $1 AND visited_by = $2",
        vec![key.into(), actor.username.clone().into()],
    ))
    .one(tx.conn())
    .await?;
    if let Some(Sent { id, campaign_id: c, household_id: h }) = sent
        && c == campaign
        && h == v.household_id
    {
        return Ok(VisitOutcome::AlreadyReceived { visit_id: id });
    }
    let visitable = visitable_in(s, tx.conn(), campaign, v.household_id).await?;
    if !visitable.opened.access().fieldwork {
        return Err(StorageError::Forbidden("走访由督查组记录".into()));
    }
    let taken = tx
        .conn()
        .query_one_raw(db.stmt("SELECT 1 AS x FROM campaign_visits WHERE client_key = $1", vec![key.into()]))
        .await?;
    if taken.is_some() {
        return Err(StorageError::Rejected("走访记录编号重复，请刷新页面后重新填写".into()));
    }
    let Visitable { opened, district, town, village, .. } = visitable;
    let camp = opened.campaign();
    #[derive(FromQueryResult)]
    struct Earlier {
        visited_on: NaiveDate,
        visited_by: String,
    }
    if let Some(Earlier { visited_on: on, visited_by: by }) = Earlier::find_by_statement(db.stmt(
        "SELECT visited_on, visited_by FROM campaign_visits WHERE campaign_id = $1 AND household_id = $2",
        vec![campaign.into(), v.household_id.into()],
    ))
    .one(tx.conn())
    .await?
    {
        return Err(StorageError::Rejected(format!("该户已于 {on} 由 {by} 登记走访，不能重复登记")));
    }
    let mut e = FieldErrors::default();
    let visited_on = match v.visited_on {
        Some(d) if d < camp.starts_on || d > camp.ends_on => {
            e.add("visited_on", format!("走访日期应在督查期间 {} 至 {}", camp.starts_on, camp.ends_on));
            d
        }
        Some(d) if d > s.today() => {
            e.add("visited_on", format!("走访日期 {d} 还没有到"));
            d
        }
        Some(d) => d,
        None => {
            e.add("visited_on", "请填写走访日期");
            camp.starts_on
        }
    };
    let facts = facts_of(db, tx.conn(), v.household_id).await?;
    let mut differences = Vec::new();
    for o in &v.observations {
        let Some(f) = facts.iter().find(|f| f.key == o.key) else {
            e.add(format!("obs_{}", o.key), "没有这一项登记信息");
            continue;
        };
        if !o.matches {
            let seen = o.observed.trim();
            if seen.is_empty() {
                e.add(format!("obs_{}", o.key), format!("“{}”与登记不符，请填写实际情况", f.label));
            } else if seen.chars().count() > 200 {
                e.add(format!("obs_{}", o.key), "实际情况请在 200 字以内");
            } else {
                differences.push((f, seen.to_string()));
            }
        }
    }
    if v.note.trim().chars().count() > 2000 {
        e.add("note", "走访情况请在 2000 字以内");
    }
    let questions = questions(db, tx.conn(), camp.questionnaire_id.unwrap_or(1)).await?;
    let mut answers = Vec::new();
    for (qid, values) in &v.answers {
        let Some(q) = questions.iter().find(|q| q.id == *qid) else {
            e.add(format!("q{qid}"), "问卷中没有这道题");
            continue;
        };
        match parse_answer(q, values) {
            Ok(Some(a)) => answers.push((q.id, a)),
            Ok(None) => {}
            Err(m) => e.add(format!("q{qid}"), m),
        }
    }
    for p in &v.photos {
        if let Err(m) = ducha_domain::evidence::accept(&p.filename, &p.bytes) {
            e.add("photos", m);
        }
    }
    if !e.is_empty() {
        return Err(StorageError::Invalid(e));
    }
    let observations = super::to_json(&v.observations)?;
    let visit_id = super::IdRow::find_by_statement(db.stmt(
            "INSERT INTO campaign_visits (campaign_id, household_id, client_key, visited_on, observations, note, visited_by, submitted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            vec![
                campaign.into(),
                v.household_id.into(),
                key.into(),
                visited_on.into(),
                observations.into(),
                v.note.trim().into(),
                actor.username.clone().into(),
                Utc::now().into(),
            ],
        ))
.one(tx.conn())
.await?
.ok_or_else(|| StorageError::Corrupt("走访记录未能写入".into()))?
.id;
    for (qid, a) in &answers {
        tx.conn()
            .execute_raw(db.stmt(
                "INSERT INTO campaign_answers (campaign_id, household_id, question_id, answer, answered_by) VALUES ($1, $2, $3, $4, $5)",
                vec![
                    campaign.into(),
                    v.household_id.into(),
                    (*qid).into(),
                    super::to_json(a)?.into(),
                    actor.username.clone().into(),
                ],
            ))
            .await?;
    }
    let town_name =
        crate::regions::tree_in(tx.conn()).await?.get(&town).map_or_else(|| town.clone(), |t| t.name.clone());
    #[derive(FromQueryResult)]
    struct Number {
        number: String,
    }
    let number =
        Number::find_by_statement(db.stmt("SELECT number FROM households WHERE id = $1", vec![v.household_id.into()]))
            .one(tx.conn())
            .await?
            .map(|r| r.number)
            .unwrap_or_default();
    let mut problems = Vec::new();
    for (f, seen) in &differences {
        let p = NewProblem {
            source: Source::Visit,
            category: Category::DataAccuracy,
            severity: Severity::Warning,
            town: town.clone(),
            district: district.clone(),
            household_id: Some(v.household_id),
            text: format!("入户核实（户编号 {number}）：{}，系统登记为“{}”，实际为“{seen}”", f.label, f.value),
            responsible_unit: format!("{town_name}扶贫办"),
            key: Some(format!("visit:{visit_id}:{}", f.key)),
            proposed: false,
        };
        problems.push(insert_problem(&mut tx, campaign, &p).await?);
    }
    for p in &v.photos {
        crate::evidence::attach_to(&mut tx, "campaign_visit", visit_id, Some(v.household_id), &village, p).await?;
    }
    let after = serde_json::json!({
        "campaign": campaign, "household": v.household_id, "client_key": key, "visited_on": visited_on,
        "observations": v.observations, "note": v.note.trim(), "answers": answers.len(), "photos": v.photos.len(),
        "problems": problems,
    });
    tx.record::<(), _>("campaign_visit", visit_id, Some(&village), "create", None, Some(&after)).await?;
    crate::scoped::commit(tx).await?;
    Ok(VisitOutcome::Recorded { visit_id, problems })
}

/// A recorded visit, for its page.
#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    pub id: i64,
    pub visited_on: NaiveDate,
    pub visited_by: String,
    pub observations: Vec<Observation>,
    pub note: String,
    /// Question text → answer as text.
    pub answers: Vec<(String, String)>,
}

/// The visit recorded at a household the actor may visit, if any.
async fn visit_of<C: ConnectionTrait>(db: &Db, c: &C, v: &Visitable) -> Result<Option<Visit>, StorageError> {
    let (campaign, household) = (v.opened.id(), v.household);
    #[derive(FromQueryResult)]
    struct VisitRow {
        id: i64,
        visited_on: NaiveDate,
        visited_by: String,
        observations: String,
        note: String,
    }
    #[derive(FromQueryResult)]
    struct AnswerRow {
        text: String,
        answer: String,
    }
    let Some(r) = VisitRow::find_by_statement(db.stmt(
        "SELECT id, visited_on, visited_by, observations, note FROM campaign_visits WHERE campaign_id = $1 AND household_id = $2",
        vec![campaign.into(), household.into()],
    ))
    .one(c)
    .await?
    else {
        return Ok(None);
    };
    let answers = AnswerRow::find_by_statement(db.stmt(
        "SELECT q.text, a.answer FROM campaign_answers a JOIN questions q ON q.id = a.question_id \
         WHERE a.campaign_id = $1 AND a.household_id = $2 ORDER BY q.position",
        vec![campaign.into(), household.into()],
    ))
    .all(c)
    .await?
    .into_iter()
    .map(|a| {
        let text = match super::from_json("问卷回答", &a.answer)? {
            ducha_domain::campaigns::questionnaire::Answer::Scale(n) => n.to_string(),
            ducha_domain::campaigns::questionnaire::Answer::Choices(c) => c.join("、"),
            ducha_domain::campaigns::questionnaire::Answer::Text(t) => t,
        };
        Ok((a.text, text))
    })
    .collect::<Result<Vec<_>, StorageError>>()?;
    Ok(Some(Visit {
        id: r.id,
        visited_on: r.visited_on,
        visited_by: r.visited_by,
        observations: super::from_json("走访核对记录", &r.observations)?,
        note: r.note,
        answers,
    }))
}

/// Add an item to a document-review checklist (city office). Items are never removed: past
/// reviews keep pointing at them.
pub(crate) async fn add_checklist_item(
    s: &Scoped,
    template: i64,
    section: &str,
    text: &str,
) -> Result<i64, StorageError> {
    let (db, actor) = (s.db(), s.actor());
    if actor.role != ducha_domain::access::Role::CityOffice {
        return Err(StorageError::Forbidden("查阅资料清单由市扶贫办维护".into()));
    }
    let mut e = FieldErrors::default();
    if section.trim().is_empty() || section.trim().chars().count() > 20 {
        e.add("section", "请填写方面（20 字以内）");
    }
    if text.trim().is_empty() || text.trim().chars().count() > 200 {
        e.add("text", "请填写检查内容（200 字以内）");
    }
    if !e.is_empty() {
        return Err(StorageError::Invalid(e));
    }
    let mut tx = s.write().await?;
    let next = next_position(&tx, "checklist_items", "template_id", template).await?;
    let id = super::IdRow::find_by_statement(db.stmt(
        "INSERT INTO checklist_items (template_id, position, section, text) VALUES ($1, $2, $3, $4) RETURNING id",
        vec![template.into(), next.into(), section.trim().into(), text.trim().into()],
    ))
    .one(tx.conn())
    .await?
    .ok_or_else(|| StorageError::Corrupt("检查项未能写入".into()))?
    .id;
    let after = serde_json::json!({ "template": template, "section": section.trim(), "text": text.trim() });
    tx.record::<(), _>("checklist_item", id, None, "create", None, Some(&after)).await?;
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// Add a question to a questionnaire (city office), checked for what its kind needs.
pub(crate) async fn add_question(s: &Scoped, questionnaire: i64, q: &Question) -> Result<i64, StorageError> {
    let (db, actor) = (s.db(), s.actor());
    if actor.role != ducha_domain::access::Role::CityOffice {
        return Err(StorageError::Forbidden("问卷由市扶贫办维护".into()));
    }
    let mut e = FieldErrors::default();
    if q.text.trim().is_empty() || q.text.trim().chars().count() > 200 {
        e.add("text", "请填写题目（200 字以内）");
    }
    match q.kind {
        QuestionKind::Single | QuestionKind::Multi => {
            if q.options.len() < 2 {
                e.add("options", "选择题至少要有两个选项（用顿号分隔）");
            }
            if let Some(s) = q.satisfied.iter().find(|s| !q.options.contains(s)) {
                e.add("satisfied", format!("“{s}”不是这道题的选项"));
            }
        }
        QuestionKind::Scale => {
            // The visit form shows one choice per point of the scale.
            if !(0..=100).contains(&q.scale_min) {
                e.add("scale_min", "量表最低分应在 0 至 100 之间");
            }
            if !(0..=100).contains(&q.scale_max) {
                e.add("scale_max", "量表最高分应在 0 至 100 之间");
            } else if q.scale_min >= q.scale_max {
                e.add("scale_max", "量表的最高分应大于最低分");
            } else if q.scale_max - q.scale_min > 10 {
                e.add("scale_max", "量表最多 11 档（最高分与最低分相差不超过 10）");
            }
            if let Some(s) = q.satisfied.first()
                && !s.parse::<i32>().is_ok_and(|n| (q.scale_min..=q.scale_max).contains(&n))
            {
                e.add("satisfied", format!("满意的最低分“{s}”应在 {} 至 {} 之间", q.scale_min, q.scale_max));
            }
        }
        QuestionKind::Text => {}
    }
    if q.topic.as_ref().is_some_and(|t| t.chars().count() > 20) {
        e.add("topic", "满意度方面请在 20 字以内");
    }
    if q.topic.is_some() && q.satisfied.is_empty() && q.kind != QuestionKind::Text {
        e.add("satisfied", "计入满意度的题目请写明哪些回答算满意");
    }
    if !e.is_empty() {
        return Err(StorageError::Invalid(e));
    }
    let mut tx = s.write().await?;
    let next = next_position(&tx, "questions", "questionnaire_id", questionnaire).await?;
    let id = super::IdRow::find_by_statement(db.stmt(
            "INSERT INTO questions (questionnaire_id, position, kind, text, options, scale_min, scale_max, topic, satisfied) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            vec![
                questionnaire.into(),
                next.into(),
                q.kind.code().into(),
                q.text.trim().into(),
                super::to_json(&q.options)?.into(),
                q.scale_min.into(),
                q.scale_max.into(),
                q.topic.clone().into(),
                super::to_json(&q.satisfied)?.into(),
            ],
        ))
.one(tx.conn())
.await?
.ok_or_else(|| StorageError::Corrupt("题目未能写入".into()))?
.id;
    tx.record::<(), _>("question", id, None, "create", None, Some(q)).await?;
    crate::scoped::commit(tx).await?;
    Ok(id)
}

/// The position after the last of a template's entries (items of a checklist, questions of a
/// questionnaire), read inside the transaction that adds one.
async fn next_position(tx: &AuditTxn<'_>, table: &str, owner: &str, id: i64) -> Result<i32, StorageError> {
    let sql = format!("SELECT COALESCE(MAX(position), 0) + 1 AS n FROM {table} WHERE {owner} = $1");
    #[derive(FromQueryResult)]
    struct Next {
        n: i32,
    }
    Ok(Next::find_by_statement(tx.db().stmt(&sql, vec![id.into()])).one(tx.conn()).await?.map(|r| r.n).unwrap_or(1))
}

/// The fieldwork of an opened campaign: its checklist and questionnaire, and the towns' reviews.
pub struct Fieldwork<'a>(&'a Opened);

impl Opened {
    pub fn fieldwork(&self) -> Fieldwork<'_> {
        Fieldwork(self)
    }
}

impl Fieldwork<'_> {
    /// The campaign's document-review checklist.
    pub async fn checklist(&self) -> Result<Vec<ChecklistItem>, StorageError> {
        let db = self.0.scoped().db();
        checklist(db, db.conn(), self.0.campaign().checklist_id.unwrap_or(1)).await
    }

    /// The campaign's questionnaire.
    pub async fn questions(&self) -> Result<Vec<Question>, StorageError> {
        let db = self.0.scoped().db();
        questions(db, db.conn(), self.0.campaign().questionnaire_id.unwrap_or(1)).await
    }

    /// A town's review so far (empty for a town the access does not reach): item → (result, note).
    pub async fn reviews(&self, town: &str) -> Result<BTreeMap<i64, (ReviewResult, String)>, StorageError> {
        if !self.0.access().sees(town) {
            return Ok(BTreeMap::new());
        }
        let db = self.0.scoped().db();
        reviews_in(db, db.conn(), self.0.id(), town).await
    }
}
