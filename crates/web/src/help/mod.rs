//! Help records on the web: a household's cadre, yearly plans, measures delivered, help logs
//! (with photos), record book, evidence downloads, and the cadres of a town; pages and API.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ducha_domain::help::{CadreForm, LogForm, MeasureCategory, MeasureForm, PlanForm, RecordBookForm};
use ducha_domain::labelled::Labelled;
use ducha_storage::evidence::EvidenceMeta;
use ducha_storage::help::store::HelpRecord;
use serde::Serialize;

use crate::api::ApiJson;
use crate::auth::csrf::{CsrfForm, CsrfMultipart};
use crate::forms::{Field, FormPage, files_field};
use crate::pages::{PageCtx, china_time, label, yes_no, yuan};
use crate::registry::{parse_id, today};
use crate::{AppState, CurrentUser, Routes, WebError};

pub fn routes(r: Routes) -> Routes {
    r.post("/households/{id}/cadre", assign_cadre)
        .get("/households/{id}/plans/new", plan_page)
        .post("/households/{id}/plans/new", save_plan)
        .get("/households/{id}/measures/new", measure_page)
        .post("/households/{id}/measures/new", add_measure)
        .get("/households/{id}/logs/new", log_page)
        .post("/households/{id}/logs/new", add_log)
        .post("/households/{id}/record-book", record_book)
        .get("/evidence/{id}", download)
        .get("/cadres", cadres_page)
        .get("/cadres/new", new_cadre_page)
        .post("/cadres/new", create_cadre)
        .get("/cadres/{id}", cadre_page)
        .get("/api/v1/households/{id}/help", api_help)
        .post("/api/v1/households/{id}/plans", api_plan)
        .post("/api/v1/households/{id}/measures", api_measure)
        .post("/api/v1/households/{id}/logs", api_log)
        .get("/api/v1/cadres", api_cadres)
        .post("/api/v1/cadres", api_create_cadre)
        .get("/api/v1/evidence/{id}", api_download)
}

/// The help section of a household's page, as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HelpView {
    pub cadre: String,
    pub cadre_id: Option<i64>,
    /// The cadre's id as the select's value ("" for none).
    #[serde(skip)]
    pub cadre_value: String,
    #[schema(value_type = Vec<Object>)]
    pub cadre_options: Vec<(String, String)>,
    pub plans: Vec<PlanView>,
    pub measures: Vec<MeasureView>,
    pub logs: Vec<LogView>,
    pub record_book: RecordBookView,
    pub evidence: Vec<EvidenceView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub id: i64,
    pub year: i32,
    pub target_income: String,
    pub cadre: String,
    pub categories: String,
    pub made_on: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeasureView {
    pub id: i64,
    pub delivered_on: String,
    pub category: String,
    pub description: String,
    pub amount: String,
    pub income_generating: &'static str,
    pub project_id: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogView {
    pub id: i64,
    pub visited_on: String,
    pub cadre: String,
    pub content: String,
    pub location: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordBookView {
    pub issued: bool,
    pub provincial_format: bool,
    pub last_checked: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub id: i64,
    pub owner_kind: String,
    pub owner_id: i64,
    pub filename: String,
    pub size_kb: i64,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

impl From<&EvidenceMeta> for EvidenceView {
    fn from(e: &EvidenceMeta) -> Self {
        EvidenceView {
            id: e.id,
            owner_kind: e.owner_kind.clone(),
            owner_id: e.owner_id,
            filename: e.filename.clone(),
            size_kb: (e.size + 1023) / 1024,
            uploaded_by: e.uploaded_by.clone(),
            uploaded_at: china_time(&e.uploaded_at),
        }
    }
}

fn cadre_name(rec: &HelpRecord, id: Option<i64>) -> String {
    id.and_then(|id| rec.town_cadres.iter().find(|k| k.id == id))
        .map(|k| format!("{}（{}）", k.name, k.unit))
        .unwrap_or_default()
}

impl HelpView {
    pub fn new(rec: &HelpRecord, h: &ducha_storage::registry::household::Model) -> HelpView {
        HelpView {
            cadre: cadre_name(rec, h.cadre_id),
            cadre_id: h.cadre_id,
            cadre_value: h.cadre_id.map(|c| c.to_string()).unwrap_or_default(),
            cadre_options: cadre_options(rec),
            plans: rec
                .plans
                .iter()
                .map(|(p, cats)| PlanView {
                    id: p.id,
                    year: p.year,
                    target_income: yuan(p.target_income),
                    cadre: cadre_name(rec, p.cadre_id),
                    categories: cats.iter().map(|c| label::<MeasureCategory>(c)).collect::<Vec<_>>().join("、"),
                    made_on: p.made_on.to_string(),
                })
                .collect(),
            measures: rec
                .measures
                .iter()
                .map(|m| MeasureView {
                    id: m.id,
                    delivered_on: m.delivered_on.to_string(),
                    category: label::<MeasureCategory>(&m.category),
                    description: m.description.clone(),
                    amount: yuan(m.amount),
                    income_generating: yes_no(m.income_generating),
                    project_id: m.project_id,
                })
                .collect(),
            logs: rec
                .logs
                .iter()
                .map(|(l, name)| LogView {
                    id: l.id,
                    visited_on: l.visited_on.to_string(),
                    cadre: name.clone().unwrap_or_default(),
                    content: l.content.clone(),
                    location: l.location.clone().unwrap_or_default(),
                })
                .collect(),
            record_book: RecordBookView {
                issued: h.record_book_issued,
                provincial_format: h.record_book_provincial,
                last_checked: h.record_book_checked_on.map(|d| d.to_string()).unwrap_or_default(),
            },
            evidence: rec.evidence.iter().map(EvidenceView::from).collect(),
        }
    }

    /// The files attached to one record.
    pub fn files(&self, owner_kind: &str, owner_id: &i64) -> Vec<&EvidenceView> {
        self.evidence.iter().filter(|e| e.owner_kind == owner_kind && e.owner_id == *owner_id).collect()
    }
}

fn cadre_options(rec: &HelpRecord) -> Vec<(String, String)> {
    std::iter::once((String::new(), "未指定".to_string()))
        .chain(rec.town_cadres.iter().map(|k| (k.id.to_string(), format!("{}（{}）", k.name, k.unit))))
        .collect()
}

async fn household(
    st: &AppState,
    me: &CurrentUser,
    id: &str,
) -> Result<(ducha_storage::registry::household::Model, HelpRecord), WebError> {
    let id = parse_id(id)?;
    let rec = me.scoped(st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    let help = me.scoped(st).help().for_household(id).await?.ok_or(WebError::NotFound)?;
    Ok((rec.household, help))
}

fn require_help_writer(me: &CurrentUser) -> Result<(), WebError> {
    if me.user.role.writes_help() {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!("“{}”角色不能填写帮扶记录", me.user.role)))
    }
}

fn page_for(h: &ducha_storage::registry::household::Model, what: &str, path: &str, fields: Vec<Field>) -> FormPage {
    FormPage {
        multipart: false,
        title: format!("{what}：{}", h.number),
        action: format!("/households/{}/{path}/new", h.id),
        back: format!("/households/{}", h.id),
        hidden: vec![],
        fields,
    }
}

fn plan_fields(f: &PlanForm, help: &HelpRecord) -> Vec<Field> {
    let mut cats = Field::select(
        "categories",
        "计划措施",
        "",
        MeasureCategory::ALL.iter().map(|c| (c.code().to_string(), c.label().to_string())).collect(),
    )
    .required();
    cats.input = "checkboxes";
    cats.wide = true;
    cats.value = f
        .categories
        .iter()
        .filter_map(|c| MeasureCategory::parse(c).ok())
        .map(|c| c.code())
        .collect::<Vec<_>>()
        .join(",");
    vec![
        Field::text("year", "年度", &f.year).required(),
        Field::text("target_income", "目标人均纯收入（元）", &f.target_income).required(),
        Field::select("cadre_id", "帮扶责任人", &f.cadre_id, cadre_options(help)),
        cats,
        files_field(),
    ]
}

async fn plan_page(State(st): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> Result<Response, WebError> {
    let (h, help) = household(&st, &me, &id).await?;
    require_help_writer(&me)?;
    let year = chrono::Datelike::year(&today());
    let f = PlanForm {
        year: year.to_string(),
        cadre_id: h.cadre_id.map(|c| c.to_string()).unwrap_or_default(),
        ..Default::default()
    };
    page_for(&h, "帮扶计划", "plans", plan_fields(&f, &help)).render(&st, &me, None).await
}

async fn save_plan(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    form: CsrfMultipart,
) -> Result<Response, WebError> {
    let (h, help) = household(&st, &me, &id).await?;
    require_help_writer(&me)?;
    let f = PlanForm {
        year: form.get("year"),
        target_income: form.get("target_income"),
        cadre_id: form.get("cadre_id"),
        categories: form.all("categories"),
    };
    let result = match f.validate(chrono::Datelike::year(&today())) {
        Ok(input) => me
            .scoped(&st)
            .help()
            .save_plan(h.id, &input, &form.files)
            .await
            .map(|_| saved(h.id))
            .map_err(WebError::from),
        Err(e) => Err(WebError::Invalid(e)),
    };
    page_for(&h, "帮扶计划", "plans", plan_fields(&f, &help)).after_save(&st, &me, result).await
}

fn saved(id: i64) -> String {
    format!("/households/{id}?saved=1#help")
}

fn measure_fields(f: &MeasureForm) -> Vec<Field> {
    vec![
        Field::date("delivered_on", "落实日期", &f.delivered_on).required(),
        Field::vocab::<MeasureCategory>("category", "措施类别", &f.category, None).required(),
        Field::text("description", "措施内容", &f.description).required(),
        Field::text("amount", "金额（元）", &f.amount),
        Field::text("project_id", "所属项目编号", &f.project_id).hint("扶贫项目库中的编号，可不填"),
        Field::check("income_generating", "造血型（能带来长期收益）", &f.income_generating),
        files_field(),
    ]
}

async fn measure_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (h, _) = household(&st, &me, &id).await?;
    require_help_writer(&me)?;
    let f = MeasureForm { delivered_on: today().to_string(), ..Default::default() };
    page_for(&h, "落实帮扶措施", "measures", measure_fields(&f)).render(&st, &me, None).await
}

async fn add_measure(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    form: CsrfMultipart,
) -> Result<Response, WebError> {
    let (h, _) = household(&st, &me, &id).await?;
    require_help_writer(&me)?;
    let f = MeasureForm {
        delivered_on: form.get("delivered_on"),
        category: form.get("category"),
        description: form.get("description"),
        amount: form.get("amount"),
        income_generating: form.get("income_generating"),
        project_id: form.get("project_id"),
    };
    let result = match f.validate(today()) {
        Ok(input) => me
            .scoped(&st)
            .help()
            .add_measure(h.id, &input, &form.files)
            .await
            .map(|_| saved(h.id))
            .map_err(WebError::from),
        Err(e) => Err(WebError::Invalid(e)),
    };
    page_for(&h, "落实帮扶措施", "measures", measure_fields(&f)).after_save(&st, &me, result).await
}

fn log_fields(f: &LogForm, help: &HelpRecord) -> Vec<Field> {
    let mut content = Field::text("content", "帮扶内容", &f.content).required();
    content.input = "textarea";
    content.wide = true;
    vec![
        Field::date("visited_on", "日期", &f.visited_on).required(),
        Field::select("cadre_id", "帮扶责任人", &f.cadre_id, cadre_options(help)),
        Field::text("location", "地点", &f.location).hint("如：入户，村委会"),
        content,
        files_field(),
    ]
}

async fn log_page(State(st): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> Result<Response, WebError> {
    let (h, help) = household(&st, &me, &id).await?;
    require_help_writer(&me)?;
    let f = LogForm {
        visited_on: today().to_string(),
        cadre_id: h.cadre_id.map(|c| c.to_string()).unwrap_or_default(),
        ..Default::default()
    };
    page_for(&h, "填写帮扶日志", "logs", log_fields(&f, &help)).render(&st, &me, None).await
}

async fn add_log(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    form: CsrfMultipart,
) -> Result<Response, WebError> {
    let (h, help) = household(&st, &me, &id).await?;
    require_help_writer(&me)?;
    let f = LogForm {
        visited_on: form.get("visited_on"),
        cadre_id: form.get("cadre_id"),
        content: form.get("content"),
        location: form.get("location"),
    };
    let result = match f.validate(today()) {
        Ok(input) => {
            me.scoped(&st).help().add_log(h.id, &input, &form.files).await.map(|_| saved(h.id)).map_err(WebError::from)
        }
        Err(e) => Err(WebError::Invalid(e)),
    };
    page_for(&h, "填写帮扶日志", "logs", log_fields(&f, &help)).after_save(&st, &me, result).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct CadreChoice {
    cadre_id: String,
}

async fn assign_cadre(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(c): CsrfForm<CadreChoice>,
) -> Result<Redirect, WebError> {
    let id = parse_id(&id)?;
    let cadre_id = match c.cadre_id.trim() {
        "" => None,
        t => Some(t.parse().map_err(|_| WebError::BadRequest("帮扶责任人选择有误".into()))?),
    };
    me.scoped(&st).help().assign_cadre(id, cadre_id).await?;
    Ok(Redirect::to(&saved(id)))
}

async fn record_book(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<RecordBookForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let result = match f.validate(today()) {
        Ok(book) => {
            me.scoped(&st).help().update_record_book(id, &book).await.map(|_| saved(id)).map_err(WebError::from)
        }
        Err(e) => Err(WebError::Invalid(e)),
    };
    // Refused (a check date in the future, say): the record book's form, as typed.
    FormPage {
        multipart: false,
        title: "帮扶记录本".into(),
        action: format!("/households/{id}/record-book"),
        back: format!("/households/{id}#help"),
        hidden: vec![],
        fields: vec![
            Field::check("issued", "已发放", &f.issued),
            Field::check("provincial_format", "按省格式设置", &f.provincial_format),
            Field::date("last_checked", "最近检查日期", &f.last_checked),
        ],
    }
    .after_save(&st, &me, result)
    .await
}

async fn fetch(st: &AppState, me: &CurrentUser, id: &str) -> Result<Response, WebError> {
    let id = parse_id(id)?;
    let (m, bytes) = me.scoped(st).evidence().fetch(id).await?.ok_or(WebError::NotFound)?;
    // RFC 5987: a Chinese file name survives the download.
    let encoded = crate::pages::percent_encode(&m.filename);
    let disposition = format!("attachment; filename=\"evidence-{}\"; filename*=UTF-8''{encoded}", m.id);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, m.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}

async fn download(State(st): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> Result<Response, WebError> {
    fetch(&st, &me, &id).await
}

#[derive(Template)]
#[template(path = "help/cadres.html")]
struct CadresPage {
    ctx: PageCtx,
    rows: Vec<(i64, String, String, String, String, i64)>,
    can_edit: bool,
}

async fn cadres_page(State(st): State<AppState>, me: CurrentUser) -> Result<Html<String>, WebError> {
    let tree = me.scoped(&st).regions().tree().await?;
    let rows = me.scoped(&st).help().cadres().await?;
    let rows = rows
        .into_iter()
        .map(|r| {
            let town = tree.get(&r.cadre.town_code).map_or_else(|| r.cadre.town_code.clone(), |t| t.name.clone());
            let phone = crate::pages::mask_phone(&r.cadre.phone);
            (r.cadre.id, r.cadre.name, r.cadre.unit, town, phone, r.households)
        })
        .collect();
    let html =
        CadresPage { ctx: PageCtx::new(&st, &me).await?, rows, can_edit: me.user.role.edits_registry() }.render()?;
    Ok(Html(html))
}

fn town_options(tree: &ducha_domain::RegionTree, me: &CurrentUser) -> Vec<(String, String)> {
    std::iter::once((String::new(), "请选择".to_string()))
        .chain(
            tree.at_level(ducha_domain::RegionLevel::Town)
                .filter(|t| me.actor.scope.contains(t.code.as_str()) && t.kind != ducha_domain::RegionKind::SpecialArea)
                .map(|t| (t.code.as_str().to_string(), t.name.clone())),
        )
        .collect()
}

fn cadre_fields(f: &CadreForm, towns: Vec<(String, String)>) -> Vec<Field> {
    vec![
        Field::text("name", "姓名", &f.name).required(),
        Field::text("unit", "所在单位", &f.unit).required(),
        Field::text("phone", "联系电话", &f.phone),
        Field::select("town_code", "帮扶的镇（街）", &f.town_code, towns).required(),
    ]
}

fn cadre_form_page(fields: Vec<Field>) -> FormPage {
    FormPage {
        multipart: false,
        title: "登记帮扶责任人".into(),
        action: "/cadres/new".into(),
        back: "/cadres".into(),
        hidden: vec![],
        fields,
    }
}

async fn new_cadre_page(State(st): State<AppState>, me: CurrentUser) -> Result<Response, WebError> {
    crate::registry::require_editor(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    cadre_form_page(cadre_fields(&CadreForm::default(), town_options(&tree, &me))).render(&st, &me, None).await
}

async fn create_cadre(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(f): CsrfForm<CadreForm>,
) -> Result<Response, WebError> {
    crate::registry::require_editor(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let result = match f.validate(&tree) {
        Ok(k) => me.scoped(&st).help().add_cadre(&k).await.map(|id| format!("/cadres/{id}")).map_err(WebError::from),
        Err(e) => Err(WebError::Invalid(e)),
    };
    cadre_form_page(cadre_fields(&f, town_options(&tree, &me))).after_save(&st, &me, result).await
}

#[derive(Template)]
#[template(path = "help/cadre.html")]
struct CadrePage {
    ctx: PageCtx,
    name: String,
    unit: String,
    town: String,
    households: Vec<(i64, String, String)>,
}

async fn cadre_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let (k, hs) = me.scoped(&st).help().cadre(id).await?.ok_or(WebError::NotFound)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let html = CadrePage {
        ctx: PageCtx::new(&st, &me).await?,
        town: tree.get(&k.town_code).map_or_else(|| k.town_code.clone(), |t| t.name.clone()),
        name: k.name,
        unit: k.unit,
        households: hs
            .into_iter()
            .map(|h| (h.id, h.number, label::<ducha_domain::registry::HouseholdStatus>(&h.status)))
            .collect(),
    }
    .render()?;
    Ok(Html(html))
}

/// A household's help records: cadre, plans, measures, logs, record book and evidence.
#[utoipa::path(get, path = "/api/v1/households/{id}/help", tag = "help", params(("id" = i64, Path)),
    responses((status = 200, body = HelpView), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn api_help(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<HelpView>, WebError> {
    let (h, help) = household(&st, &me, &id).await?;
    Ok(Json(HelpView::new(&help, &h)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    id: i64,
}

/// Make or replace the plan for a year: `year`, `target_income` (元), `cadre_id`, `categories`.
#[utoipa::path(post, path = "/api/v1/households/{id}/plans", tag = "help", params(("id" = i64, Path)), request_body = Object,
    responses((status = 201, body = Created), (status = 422, description = "字段有误")))]
pub(crate) async fn api_plan(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(f): ApiJson<PlanForm>,
) -> Result<impl IntoResponse, WebError> {
    let (h, _) = household(&st, &me, &id).await?;
    let input = f.validate(chrono::Datelike::year(&today())).map_err(WebError::Invalid)?;
    let id = me.scoped(&st).help().save_plan(h.id, &input, &[]).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Record a measure delivered: `delivered_on`, `category`, `description`, `amount`, `income_generating`, `project_id`.
#[utoipa::path(post, path = "/api/v1/households/{id}/measures", tag = "help", params(("id" = i64, Path)), request_body = Object,
    responses((status = 201, body = Created), (status = 422, description = "字段有误")))]
pub(crate) async fn api_measure(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(f): ApiJson<MeasureForm>,
) -> Result<impl IntoResponse, WebError> {
    let (h, _) = household(&st, &me, &id).await?;
    let input = f.validate(today()).map_err(WebError::Invalid)?;
    let id = me.scoped(&st).help().add_measure(h.id, &input, &[]).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Write a help log: `visited_on`, `cadre_id` (default: the household's), `content`, `location`.
#[utoipa::path(post, path = "/api/v1/households/{id}/logs", tag = "help", params(("id" = i64, Path)), request_body = Object,
    responses((status = 201, body = Created), (status = 422, description = "字段有误")))]
pub(crate) async fn api_log(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(f): ApiJson<LogForm>,
) -> Result<impl IntoResponse, WebError> {
    let (h, _) = household(&st, &me, &id).await?;
    let input = f.validate(today()).map_err(WebError::Invalid)?;
    let id = me.scoped(&st).help().add_log(h.id, &input, &[]).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CadreOut {
    id: i64,
    name: String,
    unit: String,
    town_code: String,
    households: i64,
}

/// The cadres of the towns in the caller's scope.
#[utoipa::path(get, path = "/api/v1/cadres", tag = "help", responses((status = 200, body = Vec<CadreOut>)))]
pub(crate) async fn api_cadres(State(st): State<AppState>, me: CurrentUser) -> Result<Json<Vec<CadreOut>>, WebError> {
    let rows = me.scoped(&st).help().cadres().await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| CadreOut {
                id: r.cadre.id,
                name: r.cadre.name,
                unit: r.cadre.unit,
                town_code: r.cadre.town_code,
                households: r.households,
            })
            .collect(),
    ))
}

/// Register a cadre: `name`, `unit`, `phone`, `town_code`.
#[utoipa::path(post, path = "/api/v1/cadres", tag = "help", request_body = Object,
    responses((status = 201, body = Created), (status = 422, description = "字段有误")))]
pub(crate) async fn api_create_cadre(
    State(st): State<AppState>,
    me: CurrentUser,
    ApiJson(f): ApiJson<CadreForm>,
) -> Result<impl IntoResponse, WebError> {
    let tree = me.scoped(&st).regions().tree().await?;
    let k = f.validate(&tree).map_err(WebError::Invalid)?;
    let id = me.scoped(&st).help().add_cadre(&k).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Download an evidence file (within scope).
#[utoipa::path(get, path = "/api/v1/evidence/{id}", tag = "help", params(("id" = i64, Path)),
    responses((status = 200, description = "文件内容"), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn api_download(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    fetch(&st, &me, &id).await
}
