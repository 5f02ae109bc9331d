//! Data-quality checks on the web: the overview (latest run, open problems by region and rule),
//! the findings list with drill-down to the household and exemption, the rule catalogue, the
//! year's parameters, the per-town problem list as xlsx; and the same under `/api/v1/checks`.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use ducha_domain::access::{Role, Scope};
use ducha_domain::checks::{CATALOGUE, Category};
use ducha_domain::labelled::Labelled;
use ducha_domain::region::{RegionCode, RegionLevel, RegionTree};
use ducha_storage::checks::{FindingFilter, RunSummary, StoredFinding};
use serde::{Deserialize, Serialize};

use crate::api::ApiJson;
use crate::auth::csrf::CsrfForm;
use crate::pages::{PageCtx, china_time};
use crate::{AppState, CurrentUser, Routes, WebError};

pub fn routes(r: Routes) -> Routes {
    r.get("/checks", overview)
        .post("/checks/run", run_page)
        .get("/checks/findings", findings_page)
        .get("/checks/export.xlsx", export)
        .post("/checks/findings/{id}/exempt", exempt_page)
        .get("/checks/rules", rules_page)
        .get("/checks/params", params_page)
        .post("/checks/params", save_params)
        .get("/api/v1/checks/rules", api_rules)
        .get("/api/v1/checks/params", api_params)
        .put("/api/v1/checks/params/{key}", api_set_param)
        .get("/api/v1/checks/summary", api_summary)
        .get("/api/v1/checks/findings", api_findings)
        .post("/api/v1/checks/run", api_run)
        .post("/api/v1/checks/findings/{id}/exempt", api_exempt)
}

/// Running the checks changes only derived data, but is still an act on the record: offices and
/// inspectors may, leaders and cadres read.
fn may_run(role: Role) -> bool {
    !matches!(role, Role::Leader | Role::HelpCadre)
}

fn may_exempt(role: Role) -> bool {
    matches!(role, Role::DistrictOffice | Role::CityOffice)
}

fn may_set_params(role: Role) -> bool {
    matches!(role, Role::CityOffice | Role::Admin)
}

/// A region asked for in a form or query, which must lie in the user's scope.
fn region_in_scope(me: &CurrentUser, text: &str) -> Result<Option<RegionCode>, WebError> {
    match text.trim() {
        "" => Ok(None),
        t => {
            let code = RegionCode::parse(t).map_err(|e| WebError::BadRequest(e.to_string()))?;
            if !me.actor.scope.contains(code.as_str()) {
                return Err(WebError::BadRequest(format!("区划 {code} 不在您的辖区内")));
            }
            Ok(Some(code))
        }
    }
}

/// The level just below a scope, for counts by region.
fn child_level(scope: &Scope) -> RegionLevel {
    match scope.level() {
        None | Some(RegionLevel::City) => RegionLevel::District,
        Some(RegionLevel::District) => RegionLevel::Town,
        _ => RegionLevel::Village,
    }
}

fn region_name(tree: &RegionTree, code: &str) -> String {
    if code.is_empty() {
        // A district's own findings (its designated institutions) have no town.
        return "市(区)本级".to_string();
    }
    tree.get(code).map_or_else(|| code.to_string(), |r| r.name.clone())
}

/// Open problems per region (one level below the scope) and category.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegionCount {
    pub code: String,
    pub name: String,
    /// Per category, in the order of `categories` in the summary.
    pub by_category: Vec<i64>,
    pub total: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleCount {
    pub code: &'static str,
    pub title: &'static str,
    pub severity: &'static str,
    pub category: &'static str,
    pub open: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub year: i32,
    pub as_of: String,
    /// When the latest run began, and what changed in the user's area since then (a run may
    /// have covered more than the user's area, so its own totals are not shown).
    pub last_run_at: Option<String>,
    pub new_since_run: i64,
    pub fixed_since_run: i64,
    pub open: i64,
    pub categories: Vec<&'static str>,
    pub regions: Vec<RegionCount>,
    pub rules: Vec<RuleCount>,
}

async fn summary(st: &AppState, me: &CurrentUser) -> Result<Summary, WebError> {
    let (year, as_of) = me.scoped(st).checks().current().await?;
    let tree = me.scoped(st).regions().tree().await?;
    let level = child_level(&me.actor.scope);
    let counts = me.scoped(st).checks().counts(level).await?;
    let cats = <Category as Labelled>::ALL;
    let mut regions: Vec<RegionCount> = Vec::new();
    for (rule, region, n) in &counts {
        let k = ducha_domain::checks::rule(rule).and_then(|r| cats.iter().position(|c| *c == r.category)).unwrap_or(0);
        let row = match regions.iter_mut().position(|r| r.code == *region) {
            Some(i) => &mut regions[i],
            None => {
                regions.push(RegionCount {
                    code: region.clone(),
                    name: region_name(&tree, region),
                    by_category: vec![0; cats.len()],
                    total: 0,
                });
                let last = regions.len() - 1;
                &mut regions[last]
            }
        };
        row.by_category[k] += n;
        row.total += n;
    }
    regions.sort_by(|a, b| a.code.cmp(&b.code));
    let rules = CATALOGUE
        .iter()
        .map(|r| RuleCount {
            code: r.code,
            title: r.title,
            severity: r.severity.label(),
            category: r.category.label(),
            open: counts.iter().filter(|c| c.0 == r.code).map(|c| c.2).sum(),
        })
        .collect();
    let latest = me.scoped(st).checks().latest_run().await?;
    let (new_since_run, fixed_since_run) = match &latest {
        Some((_, at, _)) => me.scoped(st).checks().changed_since(*at).await?,
        None => (0, 0),
    };
    Ok(Summary {
        year,
        as_of: as_of.to_string(),
        last_run_at: latest.as_ref().map(|(_, at, _)| china_time(at)),
        new_since_run,
        fixed_since_run,
        open: counts.iter().map(|c| c.2).sum(),
        categories: cats.iter().map(|c| c.label()).collect(),
        regions,
        rules,
    })
}

#[derive(Template)]
#[template(path = "checks/overview.html")]
struct OverviewPage {
    ctx: PageCtx,
    s: Summary,
    notice: Option<String>,
    can_run: bool,
    region_label: &'static str,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Notice {
    ran: String,
}

async fn overview(
    State(st): State<AppState>,
    me: CurrentUser,
    Query(n): Query<Notice>,
) -> Result<Html<String>, WebError> {
    let s = summary(&st, &me).await?;
    let notice = (!n.ran.is_empty()).then(|| format!("核查已完成：{}", n.ran));
    let region_label = match child_level(&me.actor.scope) {
        RegionLevel::District => "市(区)",
        RegionLevel::Town => "镇（街）",
        _ => "村（居）",
    };
    let html =
        OverviewPage { ctx: PageCtx::new(&st, &me).await?, s, notice, can_run: may_run(me.user.role), region_label }
            .render()?;
    Ok(Html(html))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(default)]
pub struct RunForm {
    /// Region code to check (empty: the whole scope).
    pub region: String,
}

async fn run_in(st: &AppState, me: &CurrentUser, region: &str) -> Result<RunSummary, WebError> {
    if !may_run(me.user.role) {
        return Err(WebError::Forbidden(format!("“{}”角色不能发起核查", me.user.role)));
    }
    let scope = match region_in_scope(me, region)? {
        Some(code) => Scope::Region(code),
        None => me.actor.scope.clone(),
    };
    // A run over a district or the city is heavy work: it waits its turn.
    let turn = st.work.turn(None).await;
    let (s, _) = me.scoped(st).checks().run(&scope, |_| {}).await?;
    drop(turn);
    Ok(s)
}

fn ran_text(s: &RunSummary) -> String {
    format!("核查 {} 户，问题 {} 条，新发现 {} 条，已整改 {} 条", s.households, s.open, s.new, s.fixed)
}

async fn run_page(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(f): CsrfForm<RunForm>,
) -> Result<Response, WebError> {
    let s = run_in(&st, &me, &f.region).await?;
    let q = serde_urlencoded::to_string([("ran", ran_text(&s))]).unwrap_or_default();
    Ok(Redirect::to(&format!("/checks?{q}")).into_response())
}

/// Filters of the findings list (page and API).
#[derive(Deserialize, Default, Clone, utoipa::IntoParams)]
#[serde(default)]
pub struct FindingsQuery {
    /// Rule code, e.g. H-PLN-01.
    pub rule: String,
    /// open（默认）, fixed, exempted, or all.
    pub status: String,
    /// Region code within the user's scope.
    pub region: String,
    /// Household id.
    pub household: String,
    /// Page (from 1) for pages; for the API, `offset` and `limit`.
    pub page: String,
    pub offset: String,
    pub limit: String,
}

impl FindingsQuery {
    fn filter(&self, me: &CurrentUser) -> Result<FindingFilter, WebError> {
        let rule = match self.rule.trim() {
            "" => None,
            t if ducha_domain::checks::rule(t).is_some() => Some(t.to_string()),
            t => return Err(WebError::BadRequest(format!("没有规则“{t}”"))),
        };
        let status = match self.status.trim() {
            "" | "open" => Some("open".to_string()),
            "all" => None,
            t @ ("fixed" | "exempted") => Some(t.to_string()),
            t => return Err(WebError::BadRequest(format!("状态“{t}”应为 open、fixed、exempted 或 all"))),
        };
        let household_id = match self.household.trim() {
            "" => None,
            t => Some(t.parse().map_err(|_| WebError::BadRequest(format!("参数 household“{t}”应为数字")))?),
        };
        Ok(FindingFilter { rule, status, region: region_in_scope(me, &self.region)?, household_id })
    }

    fn qs(&self) -> String {
        serde_urlencoded::to_string([
            ("rule", self.rule.as_str()),
            ("status", self.status.as_str()),
            ("region", self.region.as_str()),
            ("household", self.household.as_str()),
        ])
        .unwrap_or_default()
    }
}

const PAGE_SIZE: u64 = 50;

/// A finding as the list shows it.
pub struct FindingRow {
    pub f: StoredFinding,
    pub place: String,
    pub status_label: &'static str,
}

fn status_label(s: &str) -> &'static str {
    match s {
        "open" => "未整改",
        "fixed" => "已整改",
        "exempted" => "已豁免",
        _ => "",
    }
}

#[derive(Template)]
#[template(path = "checks/findings.html")]
struct FindingsPage {
    ctx: PageCtx,
    q: FindingsQuery,
    qs: String,
    rows: Vec<FindingRow>,
    total: i64,
    page: u64,
    pages: u64,
    rule_options: Vec<(String, String)>,
    region_options: Vec<(String, String)>,
    can_exempt: bool,
}

async fn findings_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Query(q): Query<FindingsQuery>,
) -> Result<Html<String>, WebError> {
    let filter = q.filter(&me)?;
    let page: u64 = q.page.trim().parse().unwrap_or(1).clamp(1, 1_000_000);
    let total = me.scoped(&st).checks().count_findings(&filter).await?;
    let found = me.scoped(&st).checks().findings(&filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let tree = me.scoped(&st).regions().tree().await?;
    let rows = found
        .into_iter()
        .map(|f| FindingRow {
            place: tree.path(&f.village_code).unwrap_or_else(|| f.village_code.clone()),
            status_label: status_label(&f.status),
            f,
        })
        .collect();
    let rule_options = std::iter::once((String::new(), "全部规则".to_string()))
        .chain(CATALOGUE.iter().map(|r| (r.code.to_string(), format!("{} {}", r.code, r.title))))
        .collect();
    let html = FindingsPage {
        ctx: PageCtx::new(&st, &me).await?,
        qs: q.qs(),
        rows,
        total,
        page,
        pages: (total as u64).div_ceil(PAGE_SIZE).max(1),
        rule_options,
        region_options: crate::registry::region_options(&tree, &me.actor.scope),
        can_exempt: may_exempt(me.user.role),
        q,
    }
    .render()?;
    Ok(Html(html))
}

/// The per-town problem list of what the filters select (open problems by default).
async fn export(
    State(st): State<AppState>,
    me: CurrentUser,
    Query(q): Query<FindingsQuery>,
) -> Result<Response, WebError> {
    let filter = q.filter(&me)?;
    let (year, _) = me.scoped(&st).checks().current().await?;
    let found = me.scoped(&st).checks().findings(&filter, i64::MAX as u64, 0).await?;
    let tree = me.scoped(&st).regions().tree().await?;
    let bytes = st
        .work
        .run(move || ducha_reports::checks::problem_list(&found, &tree, year))
        .await?
        .map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(crate::pages::xlsx_download(bytes, &format!("数据质量问题清单-{year}.xlsx")))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(default)]
pub struct ExemptForm {
    /// Why the finding is a false alarm (required).
    pub reason: String,
    /// Where to go back to (pages only).
    #[serde(skip_serializing)]
    pub back: String,
}

async fn exempt_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ExemptForm>,
) -> Result<Response, WebError> {
    let id = crate::registry::parse_id(&id)?;
    let back = crate::auth::local_path(&f.back)
        .filter(|b| b.starts_with("/checks/findings") || b.starts_with("/households/"))
        .unwrap_or_else(|| "/checks/findings".into());
    let saved = me.scoped(&st).checks().exempt(id, &f.reason).await.map(|_| back.clone());
    // Refused (no reason): the exemption again, its reason asked for beside the field.
    crate::forms::FormPage {
        multipart: false,
        title: "豁免数据质量问题".into(),
        action: format!("/checks/findings/{id}/exempt"),
        hidden: vec![("back", back.clone())],
        back,
        fields: vec![crate::forms::Field::textarea("reason", "豁免理由", &f.reason).required()],
    }
    .after_save(&st, &me, saved.map_err(WebError::from))
    .await
}

#[derive(Template)]
#[template(path = "checks/rules.html")]
struct RulesPage {
    ctx: PageCtx,
    rules: Vec<RuleView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleView {
    pub code: &'static str,
    pub title: &'static str,
    pub object: &'static str,
    pub severity: &'static str,
    pub category: &'static str,
    /// Labels of the parameters the rule reads.
    pub params: Vec<&'static str>,
}

fn rule_views() -> Vec<RuleView> {
    let labels = ducha_domain::checks::AuditParams::defaults(2017, chrono::NaiveDate::default()).described();
    CATALOGUE
        .iter()
        .map(|r| RuleView {
            code: r.code,
            title: r.title,
            object: r.object.label(),
            severity: r.severity.label(),
            category: r.category.label(),
            params: r.params.iter().filter_map(|p| labels.iter().find(|d| d.0 == *p).map(|d| d.1)).collect(),
        })
        .collect()
}

async fn rules_page(State(st): State<AppState>, me: CurrentUser) -> Result<Html<String>, WebError> {
    Ok(Html(RulesPage { ctx: PageCtx::new(&st, &me).await?, rules: rule_views() }.render()?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ParamView {
    pub key: &'static str,
    pub label: &'static str,
    pub value: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ParamsOut {
    pub year: i32,
    pub as_of: String,
    pub params: Vec<ParamView>,
}

async fn params_of(st: &AppState) -> Result<ParamsOut, WebError> {
    let checks = st.db.system();
    let (year, as_of) = checks.checks().current().await?;
    let p = checks.checks().params(year, as_of).await?;
    Ok(ParamsOut {
        year,
        as_of: as_of.to_string(),
        params: p.described().into_iter().map(|(key, label, value)| ParamView { key, label, value }).collect(),
    })
}

#[derive(Template)]
#[template(path = "checks/params.html")]
struct ParamsPage {
    ctx: PageCtx,
    p: ParamsOut,
    can_edit: bool,
    /// What was typed and what is wrong with it, when a save was refused.
    typed: Vec<(String, String)>,
    errors: ducha_domain::validation::FieldErrors,
    notice: Option<String>,
}

impl ParamsPage {
    fn entered(&self, x: &ParamView) -> String {
        self.typed.iter().find(|(k, _)| k == x.key).map(|(_, v)| v.clone()).unwrap_or_else(|| x.value.to_string())
    }

    fn error_of(&self, key: &str) -> Option<String> {
        self.errors.get(key).map(str::to_string)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ParamsNotice {
    saved: String,
}

async fn params_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Query(n): Query<ParamsNotice>,
) -> Result<Html<String>, WebError> {
    let p = params_of(&st).await?;
    let notice = (!n.saved.is_empty()).then(|| format!("参数已保存，并已重新核查：{}", n.saved));
    let html = ParamsPage {
        ctx: PageCtx::new(&st, &me).await?,
        p,
        can_edit: may_set_params(me.user.role),
        typed: Vec::new(),
        errors: Default::default(),
        notice,
    }
    .render()?;
    Ok(Html(html))
}

/// Save the changed parameters, then re-run the checks over everything the user sees (the city
/// office's scope is the whole city): a parameter changes what every rule that reads it finds.
async fn set_params(st: &AppState, me: &CurrentUser, changes: &[(String, i64)]) -> Result<RunSummary, WebError> {
    if !may_set_params(me.user.role) {
        return Err(WebError::Forbidden("只有市扶贫办或系统管理员可以修改核查参数".into()));
    }
    let (year, _) = me.scoped(st).checks().current().await?;
    me.scoped(st).checks().set_params(year, changes).await?;
    let turn = st.work.turn(None).await;
    let (s, _) = me.scoped(st).checks().run(&me.actor.scope, |_| {}).await?;
    drop(turn);
    Ok(s)
}

async fn save_params(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    if !may_set_params(me.user.role) {
        return Err(WebError::Forbidden("只有市扶贫办或系统管理员可以修改核查参数".into()));
    }
    let current = params_of(&st).await?;
    let mut changes = Vec::new();
    let mut errors = ducha_domain::validation::FieldErrors::default();
    for p in &current.params {
        let Some((_, text)) = form.iter().find(|(k, _)| k == p.key) else { continue };
        match text.trim().parse::<i64>() {
            Ok(v) if v != p.value => changes.push((p.key.to_string(), v)),
            Ok(_) => {}
            Err(_) => errors.add(p.key, format!("{}应为整数，填的是“{}”", p.label, text.trim())),
        }
    }
    let saved = if errors.is_empty() { set_params(&st, &me, &changes).await } else { Err(WebError::Invalid(errors)) };
    let s = match saved {
        Ok(s) => s,
        // Refused (not a number, or out of range): the form again with what was typed, each
        // error at its field, nothing saved.
        Err(WebError::Invalid(errors)) => {
            let page = ParamsPage {
                ctx: PageCtx::new(&st, &me).await?,
                p: current,
                can_edit: true,
                typed: form,
                errors,
                notice: None,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
        }
        Err(e) => return Err(e),
    };
    let q = serde_urlencoded::to_string([("saved", ran_text(&s))]).unwrap_or_default();
    Ok(Redirect::to(&format!("/checks/params?{q}")).into_response())
}

// —— API ——

/// The rule catalogue.
#[utoipa::path(get, path = "/api/v1/checks/rules", tag = "checks", responses((status = 200, body = Vec<RuleView>)))]
pub(crate) async fn api_rules(_me: CurrentUser) -> Json<Vec<RuleView>> {
    Json(rule_views())
}

/// The parameters of the current year.
#[utoipa::path(get, path = "/api/v1/checks/params", tag = "checks", responses((status = 200, body = ParamsOut)))]
pub(crate) async fn api_params(State(st): State<AppState>, _me: CurrentUser) -> Result<Json<ParamsOut>, WebError> {
    Ok(Json(params_of(&st).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ParamValue {
    /// A whole number (JSON number or text).
    #[schema(value_type = i64)]
    pub value: String,
}

/// Set one parameter of the current year (city office, administrator); the checks re-run.
#[utoipa::path(put, path = "/api/v1/checks/params/{key}", tag = "checks", params(("key" = String, Path)), request_body = ParamValue,
    responses((status = 200, body = Object, description = "重新核查的结果"), (status = 403, description = "无权修改"), (status = 422, description = "取值有误")))]
pub(crate) async fn api_set_param(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(key): Path<String>,
    ApiJson(v): ApiJson<ParamValue>,
) -> Result<Json<RunSummary>, WebError> {
    if !may_set_params(me.user.role) {
        return Err(WebError::Forbidden("只有市扶贫办或系统管理员可以修改核查参数".into()));
    }
    let Ok(value) = v.value.trim().parse::<i64>() else {
        let mut errors = ducha_domain::validation::FieldErrors::default();
        errors.add("value", format!("取值应为整数，填的是“{}”", v.value.trim()));
        return Err(WebError::Invalid(errors));
    };
    Ok(Json(set_params(&st, &me, &[(key, value)]).await?))
}

/// The latest run and the open problems by region and rule, within the user's scope.
#[utoipa::path(get, path = "/api/v1/checks/summary", tag = "checks", responses((status = 200, body = Summary)))]
pub(crate) async fn api_summary(State(st): State<AppState>, me: CurrentUser) -> Result<Json<Summary>, WebError> {
    Ok(Json(summary(&st, &me).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FindingsOut {
    pub total: i64,
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<StoredFinding>,
}

/// Findings within the user's scope (open ones unless `status` says otherwise).
#[utoipa::path(get, path = "/api/v1/checks/findings", tag = "checks", params(FindingsQuery), responses((status = 200, body = FindingsOut)))]
pub(crate) async fn api_findings(
    State(st): State<AppState>,
    me: CurrentUser,
    Query(q): Query<FindingsQuery>,
) -> Result<Json<FindingsOut>, WebError> {
    let filter = q.filter(&me)?;
    let limit: u64 = q.limit.trim().parse().unwrap_or(100).clamp(1, 10_000);
    let offset: u64 = q.offset.trim().parse::<u64>().unwrap_or(0).min(i64::MAX as u64);
    let total = me.scoped(&st).checks().count_findings(&filter).await?;
    let findings = me.scoped(&st).checks().findings(&filter, limit, offset).await?;
    Ok(Json(FindingsOut { total, findings }))
}

/// Run the catalogue over the user's scope, or a region in it.
#[utoipa::path(post, path = "/api/v1/checks/run", tag = "checks", request_body = RunForm,
    responses((status = 200, body = Object, description = "核查结果：户数、问题、新发现、已整改"), (status = 400, description = "区划不在辖区内")))]
pub(crate) async fn api_run(
    State(st): State<AppState>,
    me: CurrentUser,
    ApiJson(f): ApiJson<RunForm>,
) -> Result<Json<RunSummary>, WebError> {
    Ok(Json(run_in(&st, &me, &f.region).await?))
}

/// Exempt a finding judged a false alarm, with a reason (district or city office).
#[utoipa::path(post, path = "/api/v1/checks/findings/{id}/exempt", tag = "checks", params(("id" = i64, Path)), request_body = ExemptForm,
    responses((status = 204), (status = 403, description = "无权豁免"), (status = 404, description = "不存在或不在辖区内"), (status = 422, description = "未写理由")))]
pub(crate) async fn api_exempt(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(f): ApiJson<ExemptForm>,
) -> Result<axum::http::StatusCode, WebError> {
    let id = crate::registry::parse_id(&id)?;
    me.scoped(&st).checks().exempt(id, &f.reason).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
