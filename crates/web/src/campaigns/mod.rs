//! Inspection campaigns (督查): the list, a campaign's page with the figures its circular states,
//! opening a campaign and its teams, the sample (drawn with a plan, and the page that explains
//! the draw), a sampled town (document review, households, problems, revisit), the problems, and
//! the household visit a phone fills in (see `visit.rs`); the same figures under /api/v1.

mod circular;
mod templates;
pub(crate) mod visit;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ducha_domain::campaigns::scoring::Weights;
use ducha_domain::campaigns::{
    CampaignKind, Purpose, Quota, Rating, ReviewResult, RevisitResult, SamplePlan, Verdict, Wanted,
    november_2017_quotas,
};
use ducha_domain::checks::Category;
use ducha_domain::labelled::Labelled;
use ducha_domain::validation::FieldErrors;
use ducha_storage::campaigns::assessment::Summary;
use ducha_storage::campaigns::fieldwork::{ChecklistItem, ReviewInput};
use ducha_storage::campaigns::problems::{EarlierProblem, Problem, ProblemInput};
use ducha_storage::campaigns::sample::SampleTown;
use ducha_storage::campaigns::{self, CampaignInput, CampaignRow, TeamInput};
use serde::Deserialize;

use crate::auth::csrf::{CsrfForm, CsrfMultipart};
use crate::forms::{Field, FormPage, files_field};
use crate::pages::PageCtx;
use crate::registry::parse_id;
use crate::{AppState, CurrentUser, Routes, WebError};

pub fn routes(r: Routes) -> Routes {
    r.get("/campaigns", list_page)
        .get("/campaigns/new", new_page)
        .get("/campaigns/templates", templates::page)
        .post("/campaigns/templates/items", templates::add_item)
        .post("/campaigns/templates/questions", templates::add_question)
        .post("/campaigns/new", create)
        .get("/campaigns/{id}", show_page)
        .post("/campaigns/{id}/teams", add_team)
        .post("/campaigns/{id}/weights", save_weights)
        .get("/campaigns/{id}/sample", sample_page)
        .post("/campaigns/{id}/sample", draw)
        .get("/campaigns/{id}/problems", problems_page)
        .get("/campaigns/{id}/problems.xlsx", circular::problems_xlsx)
        .get("/campaigns/{id}/circular", circular::page)
        .post("/campaigns/{id}/circular", circular::save)
        .get("/campaigns/{id}/circular.docx", circular::docx)
        .get("/campaigns/{id}/circular.pdf", circular::pdf)
        .post("/campaigns/{id}/problems/propose", propose)
        .post("/campaigns/{id}/problems/{problem}/decide", decide)
        .get("/campaigns/{id}/towns/{town}", town_page)
        .post("/campaigns/{id}/towns/{town}/review", review)
        .post("/campaigns/{id}/towns/{town}/problems", add_problem)
        .post("/campaigns/{id}/revisit/{problem}", verify)
        .get("/campaigns/{id}/households/{household}", visit::visit_page)
        .get("/assets/visit-offline.js", visit::offline_script)
        .post("/campaigns/{id}/households/{household}/visit", visit::submit_form)
        .get("/api/v1/campaigns", api_list)
        .get("/api/v1/campaigns/{id}", api_show)
        .post("/api/v1/campaigns/{id}/visits", visit::api_submit)
}

#[derive(Template)]
#[template(path = "campaigns/list.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<CampaignRow>,
    any_sealed: bool,
    can_plan: bool,
}

async fn list_page(State(st): State<AppState>, me: CurrentUser) -> Result<Html<String>, WebError> {
    let rows = me.scoped(&st).campaigns().list().await?;
    let html = ListPage {
        ctx: PageCtx::new(&st, &me).await?,
        any_sealed: rows.iter().any(|r| r.sealed),
        rows,
        can_plan: me.user.role == ducha_domain::access::Role::CityOffice,
    }
    .render()?;
    Ok(Html(html))
}

async fn new_page(State(st): State<AppState>, me: CurrentUser) -> Result<Response, WebError> {
    // Refused before it is filled in, not after (a leader reads campaigns, the city office opens them).
    if me.user.role != ducha_domain::access::Role::CityOffice {
        return Err(WebError::Forbidden("督查由市扶贫办组织".into()));
    }
    let fresh = NewForm {
        starts_on: me.scoped(&st).today().to_string(),
        ends_on: me.scoped(&st).today().to_string(),
        focus: "扶贫责任落实\n贫困户帮扶措施落实\n“三保障”政策落实\n资金使用安全与进度".into(),
        lead_units: "市扶贫办、市民政局".into(),
        guided_by: "市政府督查室".into(),
        member_units: "市纪委驻农业局纪检组、市人力资源和社会保障局、市财政局、市审计局".into(),
        ..Default::default()
    };
    campaign_form(&fresh).render(&st, &me, None).await
}

/// The new campaign's form, filled with `f` (what was typed, when it comes back refused).
fn campaign_form(f: &NewForm) -> FormPage {
    FormPage {
        multipart: false,
        title: "组织新的督查".into(),
        action: "/campaigns/new".into(),
        back: "/campaigns".into(),
        hidden: vec![],
        fields: vec![
            Field::text("name", "名称", &f.name).required().hint("如：2017年脱贫攻坚专项督查").wide(),
            Field::vocab::<CampaignKind>("kind", "类型", &f.kind, None).required(),
            Field::date("starts_on", "开始日期", &f.starts_on).required(),
            Field::date("ends_on", "结束日期", &f.ends_on).required(),
            Field::textarea("focus", "督查重点（每行一项）", &f.focus),
            Field::text("lead_units", "牵头单位", &f.lead_units),
            Field::text("guided_by", "指导单位", &f.guided_by),
            Field::text("member_units", "参加单位", &f.member_units).wide(),
        ],
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewForm {
    name: String,
    kind: String,
    starts_on: String,
    ends_on: String,
    focus: String,
    lead_units: String,
    guided_by: String,
    member_units: String,
}

fn date_at(e: &mut FieldErrors, field: &str, text: &str) -> Option<chrono::NaiveDate> {
    e.take(field, ducha_domain::registry::parse_date(text))
}

async fn create(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(f): CsrfForm<NewForm>,
) -> Result<Response, WebError> {
    if me.user.role != ducha_domain::access::Role::CityOffice {
        return Err(WebError::Forbidden("督查由市扶贫办组织".into()));
    }
    let saved = create_campaign(&st, &me, &f).await;
    campaign_form(&f).after_save(&st, &me, saved).await
}

/// Check and save a new campaign: where it is to be found, or why not (each error at its field).
async fn create_campaign(st: &AppState, me: &CurrentUser, f: &NewForm) -> Result<String, WebError> {
    let mut e = FieldErrors::default();
    let kind = e.take("kind", CampaignKind::parse(&f.kind));
    let starts_on = date_at(&mut e, "starts_on", &f.starts_on);
    let ends_on = date_at(&mut e, "ends_on", &f.ends_on);
    let (Some(kind), Some(starts_on), Some(ends_on)) = (kind, starts_on, ends_on) else {
        return Err(WebError::Invalid(e));
    };
    let input = CampaignInput {
        name: f.name.clone(),
        kind,
        starts_on,
        ends_on,
        focus: f.focus.split(['\n', '、', '；']).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        lead_units: f.lead_units.clone(),
        guided_by: f.guided_by.clone(),
        member_units: f.member_units.clone(),
        weights: Weights::default(),
    };
    let id = me.scoped(st).campaigns().create(&input).await?;
    Ok(format!("/campaigns/{id}"))
}

#[derive(Template)]
#[template(path = "campaigns/show.html")]
struct ShowPage {
    ctx: PageCtx,
    s: Summary,
    outstanding: String,
    average: String,
    poor: String,
    rectified: String,
    partly: String,
    not_rectified: String,
    pending: String,
    district_names: Vec<(String, String)>,
    /// (field, label, value) of the scoring model.
    weights: Vec<(&'static str, &'static str, f64)>,
}

impl ShowPage {
    fn town_satisfaction(&self, town: &str) -> Option<f64> {
        self.s.town_satisfaction.get(town).and_then(|t| t.percent())
    }
}

/// Names of the districts, for team forms and labels.
async fn districts(s: &ducha_storage::Scoped) -> Result<Vec<(String, String)>, WebError> {
    Ok(s.regions()
        .list(Some(ducha_domain::RegionLevel::District), None)
        .await?
        .into_iter()
        .map(|r| (r.code.as_str().to_string(), r.name))
        .collect())
}

async fn show_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let scoped = me.scoped(&st);
    let s = scoped.campaigns().summary(parse_id(&id)?).await?;
    let join = |v: Vec<&str>| if v.is_empty() { "—".to_string() } else { v.join("、") };
    let html = ShowPage {
        ctx: PageCtx::new(&st, &me).await?,
        outstanding: join(s.rated(Rating::Outstanding)),
        average: join(s.rated(Rating::Average)),
        poor: join(s.rated(Rating::Poor)),
        rectified: join(s.verdict_towns(Verdict::Rectified)),
        partly: join(s.verdict_towns(Verdict::Partly)),
        not_rectified: join(s.verdict_towns(Verdict::NotRectified)),
        pending: join(s.verdict_towns(Verdict::Pending)),
        district_names: districts(&scoped).await?,
        weights: WEIGHT_FIELDS.iter().zip(weight_values(&s.campaign.weights)).map(|((f, l), v)| (*f, *l, v)).collect(),
        s,
    }
    .render()?;
    Ok(Html(html))
}

/// The scoring model's fields, as the campaign page's form names them, with their labels.
const WEIGHT_FIELDS: [(&str, &str); 8] = [
    ("per_error", "每个“错误”问题扣分"),
    ("per_warning", "每个“警告”问题扣分"),
    ("per_notice", "每个“提示”问题扣分"),
    ("checklist", "查阅资料全部不符合时扣分"),
    ("satisfaction", "满意度每高（低）1 个百分点加（扣）分"),
    ("satisfaction_par", "满意度基准（%）"),
    ("outstanding_min", "“表现突出”分数线"),
    ("average_min", "“一般”分数线"),
];

fn weight_values(w: &Weights) -> [f64; 8] {
    [
        w.per_error,
        w.per_warning,
        w.per_notice,
        w.checklist,
        w.satisfaction,
        w.satisfaction_par,
        w.outstanding_min,
        w.average_min,
    ]
}

/// Change the campaign's scoring weights (city office): every field a number, checked together.
async fn save_weights(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let s = me.scoped(&st);
    if !s.campaigns().open(id).await?.access().plans {
        return Err(WebError::Forbidden("评分权重由市扶贫办设定".into()));
    }
    let saved = save_weights_of(&s, id, &f).await;
    // Refused (a weight that is no number): the weights as typed, each error beside its field.
    let fields = WEIGHT_FIELDS
        .iter()
        .map(|(field, label)| Field::text(field, label, f.get(*field).map_or("", String::as_str)).required())
        .collect();
    FormPage {
        title: "评分权重".into(),
        action: format!("/campaigns/{id}/weights"),
        back: format!("/campaigns/{id}#scores"),
        hidden: vec![],
        fields,
        multipart: false,
    }
    .after_save(&st, &me, saved)
    .await
}

/// Check and save a campaign's weights: where to go next, or why not (each error at its field).
async fn save_weights_of(
    s: &ducha_storage::Scoped,
    id: i64,
    f: &std::collections::HashMap<String, String>,
) -> Result<String, WebError> {
    let mut e = FieldErrors::default();
    let mut v = [0.0; 8];
    for (i, (field, label)) in WEIGHT_FIELDS.iter().enumerate() {
        let text = f.get(*field).map(|s| s.trim()).unwrap_or("");
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => v[i] = x,
            _ => e.add(*field, format!("{label}应为数字，而不是“{text}”")),
        }
    }
    if !e.is_empty() {
        return Err(WebError::Invalid(e));
    }
    let w = Weights {
        per_error: v[0],
        per_warning: v[1],
        per_notice: v[2],
        checklist: v[3],
        satisfaction: v[4],
        satisfaction_par: v[5],
        outstanding_min: v[6],
        average_min: v[7],
    };
    s.campaigns().set_weights(id, &w).await?;
    Ok(format!("/campaigns/{id}#scores"))
}

async fn add_team(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    form: Result<CsrfMultipart, WebError>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    // The campaign first: one out of reach is not found, whatever the body.
    let s = me.scoped(&st);
    if !s.campaigns().open(id).await?.access().plans {
        return Err(WebError::Forbidden("督查组由市扶贫办安排".into()));
    }
    let form = form?;
    let t = TeamInput {
        name: form.get("name"),
        leader: form.get("leader"),
        units: form.get("units"),
        members: form
            .get("members")
            .split([',', '，', '、', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        districts: form.all("districts"),
    };
    let saved = s.campaigns().add_team(id, &t).await.map(|_| format!("/campaigns/{id}")).map_err(WebError::from);
    // Refused (a member account that is not an inspector's, say): the team's form as typed.
    let mut districts_field = Field::select("districts", "负责市（区）", "", districts(&s).await?);
    districts_field.input = "checkboxes";
    districts_field.value = t.districts.join(",");
    FormPage {
        title: "增加督查组".into(),
        action: format!("/campaigns/{id}/teams"),
        back: format!("/campaigns/{id}"),
        hidden: vec![],
        fields: vec![
            Field::text("name", "组名", &t.name).required(),
            Field::text("leader", "组长单位", &t.leader),
            Field::text("units", "成员单位", &t.units).wide(),
            Field::text("members", "成员账号（督查组成员角色，用逗号分隔）", &form.get("members")).wide(),
            districts_field.wide(),
        ],
        multipart: true,
    }
    .after_save(&st, &me, saved)
    .await
}

#[derive(Template)]
#[template(path = "campaigns/sample.html")]
struct SamplePage {
    ctx: PageCtx,
    c: campaigns::Campaign,
    steps: Vec<ducha_domain::campaigns::sampling::Step>,
    plan: SamplePlan,
    others: Vec<CampaignRow>,
    can_plan: bool,
    quota_of: Vec<(String, String, u32, &'static str)>,
    chosen: String,
    algorithm: &'static str,
}

impl SamplePage {
    fn revisits(&self, id: &i64) -> bool {
        self.plan.revisit_from == Some(*id)
    }
}

async fn sample_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let s = me.scoped(&st);
    let opened = s.campaigns().open(id).await?;
    let steps = opened.sample().steps().await?;
    let (c, access) = opened.into_parts();
    let others: Vec<CampaignRow> = s.campaigns().list().await?.into_iter().filter(|r| r.id != id).collect();
    // Without a stored plan, the seed's own November plan is offered.
    let plan = c.sample_plan.clone().unwrap_or_else(|| SamplePlan {
        seed: u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(1) % 100_000_000,
        quotas: november_2017_quotas(),
        revisit_from: others.first().map(|o| o.id),
        revisit_per_district: 1,
        exclude_months: 6,
        households_per_town: 4,
        weight_findings: false,
        chosen_towns: vec![],
        chosen_households: vec![],
    });
    let names = districts(&s).await?;
    let quota_of = names
        .iter()
        .map(|(code, name)| {
            let q = plan.quotas.iter().find(|q| &q.district == code);
            (code.clone(), name.clone(), q.map_or(0, |q| q.count), q.map_or(Wanted::Any, |q| q.wanted).code())
        })
        .collect();
    let chosen = plan
        .chosen_towns
        .iter()
        .map(|(c, p)| if *p == Purpose::Revisit { format!("{c}:回头看") } else { c.clone() })
        .collect::<Vec<_>>()
        .join(" ");
    let html = SamplePage {
        ctx: PageCtx::new(&st, &me).await?,
        steps,
        can_plan: access.plans,
        quota_of,
        chosen,
        plan,
        others,
        c,
        algorithm: ducha_domain::campaigns::sampling::ALGORITHM,
    }
    .render()?;
    Ok(Html(html))
}

/// The sample form: a quota and a kind per district, the revisit, exclusions, households per
/// town, and towns chosen by hand ("440781111" or "440781111:回头看").
async fn draw(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    form: Result<CsrfMultipart, WebError>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let s = me.scoped(&st);
    if !s.campaigns().open(id).await?.access().plans {
        return Err(WebError::Forbidden("抽样由市扶贫办进行".into()));
    }
    let form = form?;
    let get = |k: &str| form.get(k).trim().to_string();
    let mut e = FieldErrors::default();
    let number = |e: &mut FieldErrors, k: &str, label: &str| -> u64 {
        match get(k).parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                e.add(k, format!("{label}应为非负整数，而不是“{}”", get(k)));
                0
            }
        }
    };
    let seed = number(&mut e, "seed", "随机种子");
    // Counts, each within what a campaign can mean (and never cut down to fit a u32).
    let count = |e: &mut FieldErrors, k: &str, label: &str, max: u32| -> u32 {
        match get(k).parse::<u32>() {
            Ok(n) if n <= max => n,
            _ => {
                e.add(k, format!("{label}应为 0 至 {max} 之间的整数，填的是“{}”", get(k)));
                0
            }
        }
    };
    let mut quotas = Vec::new();
    for (code, _) in districts(&s).await? {
        let n = get(&format!("quota_{code}"));
        if n.is_empty() {
            continue;
        }
        let count = count(&mut e, &format!("quota_{code}"), "抽查数量", 100);
        let wanted =
            e.take(&format!("kind_{code}"), Wanted::parse(&get(&format!("kind_{code}")))).unwrap_or(Wanted::Any);
        if count > 0 {
            quotas.push(Quota { district: code, wanted, count });
        }
    }
    let revisit_from = match get("revisit_from").as_str() {
        "" => None,
        t => Some(parse_id(t).map_err(|_| {
            let mut e = FieldErrors::default();
            e.add("revisit_from", "请选择被回头看的督查");
            WebError::Invalid(e)
        })?),
    };
    let mut chosen_towns = Vec::new();
    for t in get("chosen_towns").split([' ', ',', '，', '、', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
        let (code, purpose) = match t.split_once([':', '：']) {
            Some((c, "回头看")) => (c, Purpose::Revisit),
            Some((c, _)) => (c, Purpose::Fresh),
            None => (t, Purpose::Fresh),
        };
        if code.len() != 9 || !code.bytes().all(|b| b.is_ascii_digit()) {
            e.add("chosen_towns", format!("“{t}”不是 9 位镇(街)代码"));
        }
        chosen_towns.push((code.to_string(), purpose));
    }
    let plan = SamplePlan {
        seed,
        quotas,
        revisit_from,
        revisit_per_district: count(&mut e, "revisit_per_district", "每个市(区)回头看数量", 100),
        exclude_months: count(&mut e, "exclude_months", "排除月数", 120),
        households_per_town: count(&mut e, "households_per_town", "每镇(街)抽查户数", 200),
        weight_findings: get("weight_findings") == "是",
        chosen_towns,
        chosen_households: vec![],
    };
    if !e.is_empty() {
        return Err(WebError::Invalid(e));
    }
    s.campaigns().draw_sample(id, &plan).await?;
    Ok(Redirect::to(&format!("/campaigns/{id}/sample")).into_response())
}

#[derive(Template)]
#[template(path = "campaigns/town.html")]
struct TownPage {
    ctx: PageCtx,
    c: campaigns::Campaign,
    town: SampleTown,
    items: Vec<ChecklistItem>,
    reviews: std::collections::BTreeMap<i64, (ReviewResult, String)>,
    problems: Vec<Problem>,
    /// Evidence entered with a problem: problem → (file id, name).
    files: std::collections::BTreeMap<i64, Vec<(i64, String)>>,
    earlier: Vec<EarlierProblem>,
    fieldwork: bool,
    categories: Vec<&'static str>,
    results: Vec<&'static str>,
    revisit_results: Vec<&'static str>,
}

impl TownPage {
    fn result_of(&self, item: &i64) -> &'static str {
        self.reviews.get(item).map_or("", |r| r.0.label())
    }

    fn selected(&self, item: &i64, label: &str) -> bool {
        self.result_of(item) == label
    }

    fn files_of(&self, problem: &i64) -> &[(i64, String)] {
        self.files.get(problem).map_or(&[], Vec::as_slice)
    }

    fn note_of(&self, item: &i64) -> &str {
        self.reviews.get(item).map_or("", |r| r.1.as_str())
    }
}

async fn town_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path((id, town)): Path<(String, String)>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let opened = me.scoped(&st).campaigns().open(id).await?;
    let town = opened.sample().stored().await?.into_iter().find(|t| t.code == town).ok_or(WebError::NotFound)?;
    let town_problems = opened.problems().list(None, Some(&town.code)).await?;
    let files = opened
        .problems()
        .files(&town.code)
        .await?
        .into_iter()
        .map(|(p, f)| (p, f.into_iter().map(|m| (m.id, m.filename)).collect()))
        .collect();
    let html = TownPage {
        ctx: PageCtx::new(&st, &me).await?,
        items: opened.fieldwork().checklist().await?,
        reviews: opened.fieldwork().reviews(&town.code).await?,
        problems: town_problems,
        files,
        earlier: if town.purpose == Purpose::Revisit { opened.problems().revisit(&town.code).await? } else { vec![] },
        fieldwork: opened.access().fieldwork,
        categories: Category::ALL.iter().map(|c| c.label()).collect(),
        results: ReviewResult::ALL.iter().map(|c| c.label()).collect(),
        revisit_results: RevisitResult::ALL.iter().map(|c| c.label()).collect(),
        town,
        c: opened.campaign().clone(),
    }
    .render()?;
    Ok(Html(html))
}

async fn review(
    State(st): State<AppState>,
    me: CurrentUser,
    Path((id, town)): Path<(String, String)>,
    form: Result<CsrfMultipart, WebError>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let s = me.scoped(&st);
    if !s.campaigns().open(id).await?.access().fieldwork {
        return Err(WebError::Forbidden("查阅资料由督查组记录".into()));
    }
    let form = form?;
    let mut e = FieldErrors::default();
    let mut results = Vec::new();
    for (k, v) in form.fields.iter().filter(|(k, _)| k.starts_with("result_")) {
        let Ok(item) = k["result_".len()..].parse::<i64>() else { continue };
        let result = match v.trim() {
            "" => None,
            t => e.take(k, ReviewResult::parse(t)),
        };
        results.push((item, result, form.get(&format!("note_{item}"))));
    }
    if !e.is_empty() {
        return Err(WebError::Invalid(e));
    }
    let input = ReviewInput { town: town.clone(), results, photos: form.files };
    s.campaigns().review(id, &input).await?;
    Ok(Redirect::to(&format!("/campaigns/{id}/towns/{town}")).into_response())
}

async fn add_problem(
    State(st): State<AppState>,
    me: CurrentUser,
    Path((id, town)): Path<(String, String)>,
    form: Result<CsrfMultipart, WebError>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let s = me.scoped(&st);
    let opened = s.campaigns().open(id).await?;
    if !opened.access().fieldwork {
        return Err(WebError::Forbidden("问题由督查组或市扶贫办录入".into()));
    }
    if !opened.access().sees(&town) {
        return Err(WebError::NotFound);
    }
    let f = form?;
    let p = ProblemInput {
        town: town.clone(),
        household_id: None,
        category: f.get("category"),
        severity: f.get("severity"),
        text: f.get("text"),
        responsible_unit: f.get("responsible_unit"),
    };
    let page = format!("/campaigns/{id}/towns/{town}");
    let saved = match f.get("household_number").trim() {
        "" => Ok(None),
        n => {
            ducha_domain::RegionCode::parse(&town).map_err(|_| WebError::NotFound)?;
            match opened.problems().household_in_town(&town, n).await? {
                Some(h) => Ok(Some(h)),
                None => {
                    let mut e = FieldErrors::default();
                    e.add("household_number", format!("本镇(街)没有户编号“{n}”"));
                    Err(WebError::Invalid(e))
                }
            }
        }
    };
    let saved = match saved {
        Ok(household_id) => s
            .campaigns()
            .add_problem(id, &ProblemInput { household_id, ..p.clone() }, &f.files)
            .await
            .map(|_| page.clone())
            .map_err(WebError::from),
        Err(e) => Err(e),
    };
    // Refused (no text, a household not in the town): the problem's form as typed.
    let labels = |all: &[&str]| all.iter().map(|l| (l.to_string(), l.to_string())).collect::<Vec<_>>();
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.label()).collect();
    FormPage {
        title: "录入问题".into(),
        action: format!("/campaigns/{id}/towns/{town}/problems"),
        back: page,
        hidden: vec![],
        fields: vec![
            Field::select("category", "类别", &p.category, labels(&categories)).required(),
            Field::select("severity", "严重程度", &p.severity, labels(&["错误", "警告", "提示"])).required(),
            Field::text("household_number", "户编号（可不填）", &f.get("household_number")),
            Field::text("responsible_unit", "责任单位", &p.responsible_unit),
            Field::textarea("text", "问题", &p.text).required(),
            files_field(),
        ],
        multipart: true,
    }
    .after_save(&st, &me, saved)
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VerifyForm {
    result: String,
    note: String,
    town: String,
}

async fn verify(
    State(st): State<AppState>,
    me: CurrentUser,
    Path((id, problem)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<VerifyForm>,
) -> Result<Response, WebError> {
    let (id, problem) = (parse_id(&id)?, parse_id(&problem)?);
    let s = me.scoped(&st);
    if !s.campaigns().open(id).await?.access().fieldwork {
        return Err(WebError::Forbidden("回头看由督查组核实".into()));
    }
    let mut e = FieldErrors::default();
    let town: String = f.town.chars().filter(char::is_ascii_digit).collect();
    let saved = match e.take("result", RevisitResult::parse(&f.result)) {
        Some(result) => s
            .campaigns()
            .verify(id, problem, result, &f.note)
            .await
            .map(|_| format!("/campaigns/{id}/towns/{town}"))
            .map_err(WebError::from),
        None => Err(WebError::Invalid(e)),
    };
    // Refused (no result chosen, say): the revisit's form as chosen and typed.
    FormPage {
        title: "回头看核实".into(),
        action: format!("/campaigns/{id}/revisit/{problem}"),
        back: format!("/campaigns/{id}/towns/{town}"),
        hidden: vec![("town", town.clone())],
        fields: vec![
            Field::vocab::<RevisitResult>("result", "核实结果", &f.result, Some("请选择")).required(),
            Field::textarea("note", "说明", &f.note),
        ],
        multipart: false,
    }
    .after_save(&st, &me, saved)
    .await
}

#[derive(Template)]
#[template(path = "campaigns/problems.html")]
struct ProblemsPage {
    ctx: PageCtx,
    c: campaigns::Campaign,
    problems: Vec<Problem>,
    status: String,
    status_label: &'static str,
    fieldwork: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProblemsQuery {
    status: String,
}

async fn problems_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<ProblemsQuery>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let opened = me.scoped(&st).campaigns().open(id).await?;
    let status = ducha_domain::campaigns::ProblemStatus::parse(&q.status).ok();
    let html = ProblemsPage {
        ctx: PageCtx::new(&st, &me).await?,
        problems: opened.problems().list(status, None).await?,
        status: status.map(|s| s.code().to_string()).unwrap_or_default(),
        status_label: status.map_or("", |s| s.label()),
        fieldwork: opened.access().fieldwork,
        c: opened.campaign().clone(),
    }
    .render()?;
    Ok(Html(html))
}

async fn propose(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<crate::pages::Empty>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    me.scoped(&st).campaigns().propose_audit_findings(id).await?;
    Ok(Redirect::to(&format!("/campaigns/{id}/problems?status=proposed")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecideForm {
    decision: String,
    reason: String,
}

async fn decide(
    State(st): State<AppState>,
    me: CurrentUser,
    Path((id, problem)): Path<(String, String)>,
    CsrfForm(f): CsrfForm<DecideForm>,
) -> Result<Response, WebError> {
    let (id, problem) = (parse_id(&id)?, parse_id(&problem)?);
    let confirm = f.decision == "confirm";
    let list = format!("/campaigns/{id}/problems?status=proposed");
    let saved = me.scoped(&st).campaigns().decide(id, problem, confirm, &f.reason).await.map(|_| list.clone());
    // Refused (a dismissal without its reason, say): this problem's decision again, with what
    // was typed and the reason asked for beside its field.
    FormPage {
        multipart: false,
        title: if confirm { "确认问题".into() } else { "不予确认问题".into() },
        action: format!("/campaigns/{id}/problems/{problem}/decide"),
        back: list,
        hidden: vec![("decision", f.decision.clone())],
        fields: vec![Field::textarea("reason", if confirm { "说明" } else { "不予确认的理由" }, &f.reason).required()],
    }
    .after_save(&st, &me, saved.map_err(WebError::from))
    .await
}

#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", responses((status = 200, description = "用户可以查看的督查：编号、名称、类型、日期、抽查镇(街)与户数、问题数")))]
pub(crate) async fn api_list(State(st): State<AppState>, me: CurrentUser) -> Result<Json<Vec<CampaignRow>>, WebError> {
    Ok(Json(me.scoped(&st).campaigns().list().await?))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path, description = "督查编号")),
    responses((status = 200, description = "一次督查的数字：督查组、抽样、走访、问题分类、满意度、回头看结论、各市(区)得分与评定"), (status = 403, description = "督查组成员的督查期已过"), (status = 404, description = "没有这次督查或无权查看")))]
pub(crate) async fn api_show(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Summary>, WebError> {
    Ok(Json(me.scoped(&st).campaigns().summary(parse_id(&id)?).await?))
}
