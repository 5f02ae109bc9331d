//! Funds and projects: spending progress by region against the year's target curve (page, xlsx,
//! API), the project library and one project with its documents, notices, payments and households.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use ducha_domain::funds::Stage;
use ducha_domain::region::RegionLevel;
use ducha_storage::Scoped;
use ducha_storage::funds::{AllocationRow, ProjectDetail, ProjectRow, Spending};
use serde::Serialize;

use crate::pages::PageCtx;
use crate::registry::parse_id;
use crate::{AppState, CurrentUser, Routes, WebError};

pub(crate) mod forms;

use forms::*;

pub fn routes(r: Routes) -> Routes {
    r.get("/funds", funds_page)
        .get("/funds/progress.xlsx", export)
        .get("/funds/payments.xlsx", export_ledger)
        .get("/funds/projects/new", new_project_page)
        .post("/funds/projects/new", create_project)
        .get("/funds/projects/{id}", project_page)
        .get("/funds/projects/{id}/documents", document_page)
        .post("/funds/projects/{id}/documents", save_document)
        .get("/funds/projects/{id}/notice", notice_page)
        .post("/funds/projects/{id}/notice", save_notice)
        .post("/funds/projects/{id}/advance", save_advance)
        .get("/funds/projects/{id}/pay", pay_page)
        .post("/funds/projects/{id}/pay", save_pay)
        .get("/funds/allocations/new", allocation_page)
        .post("/funds/allocations/new", save_allocation)
        .get("/funds/allocations/{id}/transfer", transfer_page)
        .post("/funds/allocations/{id}/transfer", save_transfer)
        .get("/api/v1/funds/progress", api_progress)
        .get("/api/v1/projects", api_projects)
        .get("/api/v1/projects/{id}", api_project)
        .post("/api/v1/projects", api_create_project)
        .post("/api/v1/projects/{id}/advance", api_advance)
        .post("/api/v1/projects/{id}/notices", api_notice)
        .post("/api/v1/allocations", api_allocate)
        .post("/api/v1/allocations/{id}/transfers", api_transfer)
}

/// The day progress is read on: `?on=2017-06-30`, or the check date.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct OnQuery {
    on: String,
}

/// Progress on a day: by region and by fund source.
struct Progress {
    year: i32,
    on: chrono::NaiveDate,
    full_by_month: u32,
    regions: Vec<Spending>,
    sources: Vec<Spending>,
}

async fn progress(s: &Scoped, q: &OnQuery) -> Result<Progress, WebError> {
    let (year, as_of) = s.checks().current().await?;
    let on = match q.on.trim() {
        "" => as_of,
        t => ducha_domain::registry::parse_date(t).map_err(|e| WebError::BadRequest(format!("日期“{t}”：{e}")))?,
    };
    let p = s.checks().params(year, as_of).await?;
    let month = u32::try_from(p.spend_full_by_month).unwrap_or(12);
    Ok(Progress {
        year,
        on,
        full_by_month: month,
        regions: s.funds().spending().by_region(on, month).await?,
        sources: s.funds().spending().by_source(on, month).await?,
    })
}

#[derive(Template)]
#[template(path = "funds/funds.html")]
struct FundsPage {
    ctx: PageCtx,
    year: i32,
    on: String,
    full_by_month: u32,
    target: i64,
    region_label: &'static str,
    spending: Vec<Spending>,
    sources: Vec<Spending>,
    projects: Vec<ProjectRow>,
    allocations: Vec<AllocationRow>,
    can_enter: bool,
    can_manage: bool,
}

async fn funds_page(
    State(st): State<AppState>,
    me: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<OnQuery>,
) -> Result<Html<String>, WebError> {
    let s = me.scoped(&st);
    let Progress { year, on, full_by_month, regions: spending, sources } = progress(&s, &q).await?;
    let region_label = match me.actor.scope.level() {
        Some(RegionLevel::Town | RegionLevel::Village) => "镇（街）",
        _ => "市(区)",
    };
    let html = FundsPage {
        ctx: PageCtx::new(&st, &me).await?,
        year,
        on: on.to_string(),
        full_by_month,
        target: ducha_domain::funds::target_percent(year, on, full_by_month),
        region_label,
        spending,
        sources,
        projects: s.funds().projects().list().await?,
        allocations: s.funds().allocations().list().await?,
        can_enter: me.user.role.edits_registry(),
        can_manage: me.user.role.manages_platform(),
    }
    .render()?;
    Ok(Html(html))
}

async fn export(
    State(st): State<AppState>,
    me: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<OnQuery>,
) -> Result<Response, WebError> {
    let s = me.scoped(&st);
    let p = progress(&s, &q).await?;
    let year = p.year;
    let projects = s.funds().projects().list().await?;
    let allocations = s.funds().allocations().list().await?;
    let bytes = st
        .work
        .run(move || {
            ducha_reports::funds::progress_workbook(
                &ducha_reports::funds::ProgressSheets { year, on: p.on, regions: &p.regions, sources: &p.sources },
                &projects,
                &allocations,
            )
        })
        .await?
        .map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(crate::pages::xlsx_download(bytes, &format!("扶贫资金使用进度-{year}.xlsx")))
}

/// The check year's payments in the ledger import's layout.
async fn export_ledger(State(st): State<AppState>, me: CurrentUser) -> Result<Response, WebError> {
    let s = me.scoped(&st);
    let (year, _) = s.checks().current().await?;
    let rows = s.funds().payments().ledger().await?;
    let tree = s.regions().tree().await?;
    let bytes = st
        .work
        .run(move || ducha_reports::help_sheets::ledger_workbook(&rows, &tree))
        .await?
        .map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(crate::pages::xlsx_download(bytes, &format!("资金拨付台账-{year}.xlsx")))
}

#[derive(Template)]
#[template(path = "funds/project.html")]
struct ProjectPage {
    ctx: PageCtx,
    p: ProjectDetail,
    place: String,
    next: Option<Stage>,
    can_enter: bool,
    can_manage: bool,
    notice: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Notice {
    saved: String,
    refused: String,
}

async fn project_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    axum::extract::Query(n): axum::extract::Query<Notice>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let s = me.scoped(&st);
    let p = s.funds().projects().get(id).await?.ok_or(WebError::NotFound)?;
    let tree = s.regions().tree().await?;
    let place = tree.path(&p.row.place_code).unwrap_or_else(|| p.row.place_code.clone());
    let notice = if !n.refused.is_empty() {
        Some(format!("未能进入下一阶段：{}", n.refused))
    } else {
        (!n.saved.is_empty()).then(|| "已保存。".to_string())
    };
    let next = p.row.stage.next();
    let (can_enter, can_manage) = (me.user.role.edits_registry(), me.user.role.manages_platform());
    Ok(Html(
        ProjectPage { ctx: PageCtx::new(&st, &me).await?, p, place, next, can_enter, can_manage, notice }.render()?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProgressOut {
    pub year: i32,
    pub on: String,
    pub full_by_month: u32,
    #[schema(value_type = Vec<Object>)]
    pub regions: Vec<Spending>,
    /// The same by fund source (paid shared out over each project's budget sources).
    #[schema(value_type = Vec<Object>)]
    pub sources: Vec<Spending>,
}

/// Spending progress by district (city users) or town (district and town users), and by fund
/// source, on the check date or `?on=YYYY-MM-DD`.
#[utoipa::path(get, path = "/api/v1/funds/progress", tag = "funds", params(("on" = Option<String>, Query, description = "截至日期，默认为核查日期")),
    responses((status = 200, body = ProgressOut), (status = 400, description = "日期无法识别")))]
pub(crate) async fn api_progress(
    State(st): State<AppState>,
    me: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<OnQuery>,
) -> Result<Json<ProgressOut>, WebError> {
    let p = progress(&me.scoped(&st), &q).await?;
    Ok(Json(ProgressOut {
        year: p.year,
        on: p.on.to_string(),
        full_by_month: p.full_by_month,
        regions: p.regions,
        sources: p.sources,
    }))
}

/// The project library within the user's scope.
#[utoipa::path(get, path = "/api/v1/projects", tag = "funds", responses((status = 200, body = Vec<Object>)))]
pub(crate) async fn api_projects(
    State(st): State<AppState>,
    me: CurrentUser,
) -> Result<Json<Vec<ProjectRow>>, WebError> {
    Ok(Json(me.scoped(&st).funds().projects().list().await?))
}

/// One project with its budget, documents, notices, households and payments.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "funds", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn api_project(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ProjectDetail>, WebError> {
    let id = parse_id(&id)?;
    Ok(Json(me.scoped(&st).funds().projects().get(id).await?.ok_or(WebError::NotFound)?))
}
