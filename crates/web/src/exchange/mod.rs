//! Import and export pages: upload a file, see the checked preview with every error at its sheet,
//! row and column, confirm, and follow the writing; download any household list as xlsx in the
//! template's layout.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use ducha_reports::exchange;
use ducha_reports::households::CellError;
use ducha_storage::registry::import::ImportSummary;
use serde::{Deserialize, Serialize};

use crate::auth::csrf::{CsrfForm, CsrfMultipart};
use crate::pages::{PageCtx, china_time};
use crate::registry::{ListQuery, parse_id};
use crate::{AppState, CurrentUser, Routes, WebError};

pub fn routes(r: Routes) -> Routes {
    r.get("/imports", page)
        .post("/imports", upload)
        .get("/imports/template.xlsx", template)
        .get("/imports/help-template.xlsx", help_template)
        .get("/imports/{kind}/template.xlsx", platform_template)
        .get("/imports/{id}", job_page)
        .post("/imports/{id}/commit", commit)
        .get("/households/export.xlsx", export)
}

/// What a job's page shows, kept with the job.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    /// "households", "plans", "logs" or "attendance".
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub help: Option<ducha_storage::help::store::HelpImportSummary>,
    pub summary: ImportSummary,
    pub errors: Vec<CellError>,
    pub notes: Vec<String>,
    pub rows: usize,
    pub message: Option<String>,
}

impl Report {
    fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

fn kind_code(k: ducha_reports::help_sheets::Kind) -> &'static str {
    match k {
        ducha_reports::help_sheets::Kind::Households => "households",
        ducha_reports::help_sheets::Kind::Plans => "plans",
        ducha_reports::help_sheets::Kind::Logs => "logs",
        ducha_reports::help_sheets::Kind::Attendance => "attendance",
        ducha_reports::help_sheets::Kind::Projects => "projects",
        ducha_reports::help_sheets::Kind::Payments => "payments",
        ducha_reports::help_sheets::Kind::Postings => "postings",
        ducha_reports::help_sheets::Kind::Institutions => "institutions",
        ducha_reports::help_sheets::Kind::Allocations => "allocations",
    }
}

fn status_text(status: &str) -> &'static str {
    match status {
        "queued" => "已收到文件，排队等候检查",
        "checking" => "正在检查文件……",
        "checked" => "检查通过，尚未写入：确认后导入",
        "refused" => "文件有错误，未写入任何数据；请修改后重新上传",
        "running" => "正在导入……",
        "done" => "导入完成",
        "expired" => "检查结果已过期（超过 7 天未确认），文件已删除；请重新上传",
        "interrupted" => "已中断：服务在处理这个文件时停止，未写入任何数据；请重新上传",
        _ => "导入失败，未写入任何数据",
    }
}

#[derive(Template)]
#[template(path = "exchange/import.html")]
struct ImportPage {
    ctx: PageCtx,
    can_import: bool,
    jobs: Vec<(i64, String, String, &'static str)>,
}

async fn page(State(st): State<AppState>, me: CurrentUser) -> Result<Html<String>, WebError> {
    let jobs = me.scoped(&st).import_jobs().recent(20).await?;
    let html = ImportPage {
        ctx: PageCtx::new(&st, &me).await?,
        can_import: me.user.role.edits_registry(),
        jobs: jobs.into_iter().map(|j| (j.id, j.filename, china_time(&j.created_at), status_text(&j.status))).collect(),
    }
    .render()?;
    Ok(Html(html))
}

/// Files of one user that may wait or be checked at once: more are refused until these end.
const MAX_PENDING: i64 = 2;

/// What a stopping server answers to a new upload or import.
const STOPPING: &str = "服务正在停止（例如正在升级），暂不接收新的导入；请稍后再试";

async fn upload(State(st): State<AppState>, me: CurrentUser, form: CsrfMultipart) -> Result<Response, WebError> {
    crate::registry::require_editor(&me)?;
    if st.jobs.stopping() {
        return Err(WebError::Unavailable(STOPPING));
    }
    if me.scoped(&st).import_jobs().pending().await? >= MAX_PENDING {
        return Err(WebError::BadRequest(format!(
            "您已有 {MAX_PENDING} 个文件在排队或检查中，请等它们检查完（见“导入”页的列表）再上传"
        )));
    }
    let CsrfMultipart { files, .. } = form;
    // A ledger chosen with its vouchers is kept as one bundle, checked now and imported later.
    let sheet_name = files.iter().map(|f| f.filename.clone()).find(|n| ducha_reports::bundle::is_sheet(n));
    let count = files.len();
    // Packing copies the files into one stored zip: light work, but off the async workers, and
    // without waiting for a heavy turn (the check that follows waits for one).
    let (packed, files) = crate::work::blocking(move || (ducha_reports::bundle::pack(&files), files)).await?;
    let file = match packed {
        Some(Ok(bytes)) => {
            let name = format!("{}（附 {} 个文件）", sheet_name.unwrap_or_default(), count - 1);
            ducha_storage::evidence::Upload { filename: name, bytes }
        }
        Some(Err(e)) => return Err(WebError::BadRequest(e.to_string())),
        None if count > 1 => {
            return Err(WebError::BadRequest(
                "一次选择多个文件时，应是一份台账（.xlsx、.xls 或 .csv）加它的凭证文件".into(),
            ));
        }
        None => files.into_iter().next().ok_or_else(|| WebError::BadRequest("请选择要导入的文件".into()))?,
    };
    let id = me.scoped(&st).import_jobs().create(&file.filename, &file.bytes, "queued", "{}", 0).await?;
    st.db.system().import_jobs().claim(id, st.jobs.owner()).await?;
    drop(file);
    // The check waits for its turn in the heavy-work pool; the job's page shows its place.
    let waiting = st.work.wait(Some(id));
    st.jobs.spawn(st.db.clone(), id, check_job(st.clone(), me.actor.clone(), id, waiting));
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

/// Check an uploaded file when its turn comes, and keep what was found with the job.
async fn check_job(st: AppState, actor: ducha_domain::access::Actor, id: i64, waiting: crate::work::Waiting) {
    // A check still waiting when the server is asked to stop does not start.
    let Some(_turn) = st.jobs.unless_stopping(waiting.turn()).await else {
        if let Err(e) = st.db.system().import_jobs().interrupt(id).await {
            tracing::error!(error = %e, job = id, "could not mark an interrupted check");
        }
        return;
    };
    let checked = async {
        st.db.system().import_jobs().set_status(id, "checking").await?;
        let (filename, bytes) = st.db.system().import_jobs().file(id).await?;
        Ok::<_, ducha_storage::StorageError>(exchange::check(&st.db.scoped(&actor), &filename, &bytes).await)
    }
    .await;
    let (status, report) = match checked {
        Ok(Ok(o)) => {
            let status = if !o.errors.is_empty() || o.parsed.rows == 0 { "refused" } else { "checked" };
            let message = (o.parsed.rows == 0).then(|| "文件中没有数据行".to_string());
            (
                status,
                Report {
                    kind: kind_code(o.kind).into(),
                    help: o.help,
                    summary: o.summary,
                    errors: o.errors,
                    notes: o.parsed.notes,
                    rows: o.parsed.rows,
                    message,
                },
            )
        }
        // A file that cannot be read at all, or a sheet the role may not import (a ledger by a
        // town office), is a refusal with its reason, not a server error.
        Ok(Err(exchange::ExchangeError::Read(e))) => {
            ("refused", Report { message: Some(e.to_string()), ..Default::default() })
        }
        Ok(Err(exchange::ExchangeError::Storage(ducha_storage::StorageError::Forbidden(m)))) => {
            ("refused", Report { message: Some(m), ..Default::default() })
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, job = id, "an uploaded file could not be checked");
            ("failed", Report { message: Some(format!("检查时出错：{e}")), ..Default::default() })
        }
        Err(e) => {
            tracing::error!(error = %e, job = id, "an uploaded file could not be checked");
            (
                "failed",
                Report {
                    message: Some("检查时数据库出错，请稍后重新上传".into()), ..Default::default()
                },
            )
        }
    };
    if let Err(e) = st.db.system().import_jobs().finish(id, status, &report.json()).await {
        tracing::error!(error = %e, job = id, "could not record the end of a check");
    }
}

#[derive(Template)]
#[template(path = "exchange/job.html")]
struct JobPage {
    ctx: PageCtx,
    id: i64,
    filename: String,
    status: String,
    status_text: &'static str,
    running: bool,
    /// Waiting for its turn: how many tasks are ahead, when this process knows.
    ahead: Option<usize>,
    done: i64,
    total: i64,
    r: Report,
    shown_errors: Vec<CellError>,
}

async fn job_page(State(st): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let job = me.scoped(&st).import_jobs().get(id).await?.ok_or(WebError::NotFound)?;
    let r: Report = serde_json::from_str(&job.report).unwrap_or_default();
    let status = if matches!(job.status.as_str(), "refused" | "failed" | "interrupted") {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let html = JobPage {
        ctx: PageCtx::new(&st, &me).await?,
        id,
        filename: job.filename,
        status_text: status_text(&job.status),
        running: matches!(job.status.as_str(), "running" | "queued" | "checking"),
        ahead: if matches!(job.status.as_str(), "queued" | "running") { st.work.ahead_of(id) } else { None },
        done: job.done,
        total: job.total,
        shown_errors: r.errors.iter().take(500).cloned().collect(),
        status: job.status,
        r,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

use crate::pages::Empty;

async fn commit(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Redirect, WebError> {
    let id = parse_id(&id)?;
    // Only the user's own job (another's answers as if there were none).
    me.scoped(&st).import_jobs().get(id).await?.ok_or(WebError::NotFound)?;
    crate::registry::require_editor(&me)?;
    if st.jobs.stopping() {
        return Err(WebError::Unavailable(STOPPING));
    }
    if !st.db.system().import_jobs().start(id, st.jobs.owner()).await? {
        return Ok(Redirect::to(&format!("/imports/{id}")));
    }
    let (db, actor, jobs) = (st.db.clone(), me.actor.clone(), st.jobs.clone());
    // The writing goes on after this request returns, in its turn; its page follows it. A stop
    // waits for it (within its bound); one asked before its turn came leaves it unstarted.
    let waiting = st.work.wait(Some(id));
    st.jobs.spawn(st.db.clone(), id, async move {
        let Some(_turn) = jobs.unless_stopping(waiting.turn()).await else {
            if let Err(e) = db.system().import_jobs().interrupt(id).await {
                tracing::error!(error = %e, job = id, "could not mark an interrupted import");
            }
            return;
        };
        let (filename, bytes) = match db.system().import_jobs().file(id).await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, job = id, "an import's file could not be read back");
                return;
            }
        };
        let (tx, mut rx) = tokio::sync::watch::channel((0u64, 0u64));
        let progress_db = db.clone();
        let follower = tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let (done, total) = *rx.borrow_and_update();
                let _ = progress_db.system().import_jobs().progress(id, done as i64, total as i64).await;
            }
        });
        let scoped = db.scoped(&actor);
        let work = exchange::import(&scoped, &filename, &bytes, |done, total| {
            let _ = tx.send((done, total));
        });
        let result = ducha_storage::import_jobs::run_as(id, work).await;
        drop(tx);
        let _ = follower.await;
        let (status, report) = match result {
            Ok(o) if o.committed => (
                "done",
                Report {
                    kind: kind_code(o.kind).into(),
                    help: o.help,
                    summary: o.summary,
                    errors: vec![],
                    notes: o.parsed.notes,
                    rows: o.parsed.rows,
                    message: None,
                },
            ),
            Ok(o) => (
                "failed",
                Report {
                    kind: kind_code(o.kind).into(),
                    help: o.help,
                    summary: o.summary,
                    errors: o.errors,
                    notes: o.parsed.notes,
                    rows: o.parsed.rows,
                    message: Some("登记库在检查之后有了变化，请重新上传检查".into()),
                },
            ),
            Err(e) => ("failed", Report { message: Some(e.to_string()), ..Default::default() }),
        };
        if let Err(e) = db.system().import_jobs().finish(id, status, &report.json()).await {
            tracing::error!(error = %e, job = id, "could not record the end of an import");
        }
    });
    Ok(Redirect::to(&format!("/imports/{id}")))
}

async fn template(_me: CurrentUser) -> Result<Response, WebError> {
    let bytes = ducha_reports::households::template().map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(crate::pages::xlsx_download(bytes, "贫困户导入模板.xlsx"))
}

/// The project library, the disbursement ledger and the attendance sheet, each its own template.
async fn platform_template(_me: CurrentUser, Path(kind): Path<String>) -> Result<Response, WebError> {
    use ducha_reports::help_sheets::Kind;
    let (kind, name) = match kind.as_str() {
        "projects" => (Kind::Projects, "扶贫项目库导入模板.xlsx"),
        "payments" => (Kind::Payments, "资金拨付台账模板.xlsx"),
        "attendance" => (Kind::Attendance, "驻点考勤导入模板.xlsx"),
        "postings" => (Kind::Postings, "派驻干部名单模板.xlsx"),
        "institutions" => (Kind::Institutions, "定点医疗机构模板.xlsx"),
        "allocations" => (Kind::Allocations, "资金下达模板.xlsx"),
        _ => return Err(WebError::NotFound),
    };
    let bytes = ducha_reports::help_sheets::platform_template(kind).map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(crate::pages::xlsx_download(bytes, name))
}

async fn help_template(_me: CurrentUser) -> Result<Response, WebError> {
    let bytes = ducha_reports::help_sheets::templates().map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(crate::pages::xlsx_download(bytes, "帮扶计划和日志导入模板.xlsx"))
}

/// The household list, with its filters, as xlsx; masked for roles without the personal-data right.
async fn export(State(st): State<AppState>, me: CurrentUser, Query(q): Query<ListQuery>) -> Result<Response, WebError> {
    let filter = q.filter(&me.actor)?;
    let _turn = st.work.turn(None).await;
    let (bytes, _) =
        exchange::export(&me.scoped(&st), &filter, |_| {}).await.map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(crate::pages::xlsx_download(bytes, "贫困户名单.xlsx"))
}
