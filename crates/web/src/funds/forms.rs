//! The forms of projects and funds: entering a project, its documents and public notices, moving
//! it on, paying out, allocating. Each refusal comes back at its field with nothing saved.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use ducha_domain::access::Scope;
use ducha_domain::funds::{Allocation, DocumentKind, FundSource, ProjectForm, ProjectType, Stage};
use ducha_domain::labelled::Labelled;
use ducha_domain::money::{Limit, Money, parse_amount};
use ducha_domain::region::{RegionKind, RegionLevel, RegionTree};
use ducha_domain::validation::FieldErrors;
use ducha_storage::Scoped;
use ducha_storage::funds::AllocationRow;

use crate::auth::csrf::{CsrfForm, CsrfMultipart};
use crate::forms::{Field, FormPage, files_field};
use crate::registry::{parse_id, today};
use crate::{AppState, CurrentUser, WebError};

fn require_enterer(me: &CurrentUser) -> Result<(), WebError> {
    if me.user.role.edits_registry() {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!("“{}”角色不能登记项目", me.user.role)))
    }
}

fn require_manager(me: &CurrentUser) -> Result<(), WebError> {
    if me.user.role.manages_platform() {
        Ok(())
    } else {
        Err(WebError::Forbidden("项目审核、资金拨付和下达由市(区)扶贫办或市扶贫办办理".into()))
    }
}

fn labels<T: Labelled>(all: &[T]) -> Vec<(String, String)> {
    all.iter().map(|v| (v.label().to_string(), v.label().to_string())).collect()
}

/// Districts and towns (or only towns) within the scope, by their path.
fn region_options(tree: &RegionTree, scope: &Scope, levels: &[RegionLevel]) -> Vec<(String, String)> {
    std::iter::once((String::new(), "请选择".to_string()))
        .chain(
            tree.all()
                .iter()
                .filter(|r| {
                    levels.contains(&r.level) && r.kind != RegionKind::SpecialArea && scope.contains(r.code.as_str())
                })
                .map(|r| (r.code.as_str().to_string(), tree.path(r.code.as_str()).unwrap_or_else(|| r.name.clone()))),
        )
        .collect()
}

/// The id of a project within the user's scope (else not found, before any other answer).
async fn in_scope(st: &AppState, me: &CurrentUser, id: &str) -> Result<i64, WebError> {
    let id = parse_id(id)?;
    me.scoped(st).funds().projects().in_scope(id).await?;
    Ok(id)
}

fn saved(id: i64) -> String {
    format!("/funds/projects/{id}?saved=1")
}

fn one_error(field: &str, message: impl Into<String>) -> WebError {
    let mut e = FieldErrors::default();
    e.add(field, message);
    WebError::Invalid(e)
}

/// The new project form, with the households it serves typed one per line: "户编号 预期年增收".
fn project_form(f: &ProjectForm, households: &str, towns: Vec<(String, String)>) -> FormPage {
    let mut target = Field::text("performance_target", "绩效目标", &f.performance_target).required();
    target.input = "textarea";
    target.wide = true;
    let mut served = Field::text("households", "受益贫困户", households)
        .hint("每行一户：户编号 预期年增收（元），如 440781111200001 3000");
    served.input = "textarea";
    served.wide = true;
    let mut kinds = vec![(String::new(), "请选择".to_string())];
    kinds.extend(labels(ProjectType::ALL));
    let generating = vec![(String::new(), "按项目类型".into()), ("是".into(), "是".into()), ("否".into(), "否".into())];
    FormPage {
        multipart: false,
        title: "项目入库".into(),
        action: "/funds/projects/new".into(),
        back: "/funds".into(),
        hidden: vec![],
        fields: vec![
            Field::text("name", "项目名称", &f.name).required(),
            Field::select("kind", "项目类型", &f.kind, kinds).required(),
            Field::select("income_generating", "造血型", &f.income_generating, generating),
            Field::select("place_code", "所在镇（街）", &f.place_code, towns).required(),
            Field::text("unit", "责任单位", &f.unit).required(),
            target,
            Field::text("budget_central", "中央资金（元）", &f.budget_central),
            Field::text("budget_provincial", "省级资金（元）", &f.budget_provincial),
            Field::text("budget_city", "市级资金（元）", &f.budget_city),
            Field::text("budget_district", "市(区)级资金（元）", &f.budget_district),
            Field::text("budget_town", "镇(街)级资金（元）", &f.budget_town),
            Field::text("budget_social", "社会帮扶资金（元）", &f.budget_social),
            served,
            Field::text("public_benefit", "公共受益说明", &f.public_benefit)
                .hint("不针对具体农户的项目（如道路、饮水）请说明"),
        ],
    }
}

/// "户编号 金额" lines, each household found within the scope; problems by line. At most
/// [`ducha_domain::funds::MAX_SERVED`] households, each looked up only when the list is within it.
async fn served(s: &Scoped, text: &str, errors: &mut FieldErrors) -> Vec<(i64, Money)> {
    let mut out = Vec::new();
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    if lines > ducha_domain::funds::MAX_SERVED {
        errors.add(
            "households",
            format!("受益贫困户最多 {} 户，填了 {lines} 户：请分成几个项目", ducha_domain::funds::MAX_SERVED),
        );
        return out;
    }
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        let number = parts.next().unwrap_or_default();
        let benefit = match parts.next().map(|t| parse_amount("预期年增收", t, Limit::Household)) {
            None => Money::ZERO,
            Some(Ok(m)) => m,
            Some(Err(why)) => {
                errors.add("households", format!("第 {} 行：{why}", i + 1));
                continue;
            }
        };
        match s.registry().household_by_number(number).await {
            Ok(Some(h)) => out.push((h.household.id, benefit)),
            Ok(None) => errors.add("households", format!("第 {} 行：户编号 {number} 不存在或不在您的辖区内", i + 1)),
            Err(e) => errors.add("households", e.to_string()),
        }
    }
    out
}

pub(super) async fn new_project_page(State(st): State<AppState>, me: CurrentUser) -> Result<Response, WebError> {
    require_enterer(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let towns = region_options(&tree, &me.actor.scope, &[RegionLevel::Town]);
    project_form(&ProjectForm::default(), "", towns).render(&st, &me, None).await
}

pub(super) async fn create_project(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require_enterer(&me)?;
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let f = ProjectForm {
        name: get("name"),
        kind: get("kind"),
        income_generating: get("income_generating"),
        place_code: get("place_code"),
        unit: get("unit"),
        performance_target: get("performance_target"),
        budget_central: get("budget_central"),
        budget_provincial: get("budget_provincial"),
        budget_city: get("budget_city"),
        budget_district: get("budget_district"),
        budget_town: get("budget_town"),
        budget_social: get("budget_social"),
        public_benefit: get("public_benefit"),
    };
    let households_text = get("households");
    let mut errors = FieldErrors::default();
    let households = served(&me.scoped(&st), &households_text, &mut errors).await;
    let (year, _) = me.scoped(&st).checks().current().await?;
    let result = match f.validate() {
        Ok(p) if errors.is_empty() => me
            .scoped(&st)
            .funds()
            .projects()
            .add(year, &p, &households, today())
            .await
            .map(saved)
            .map_err(WebError::from),
        Ok(_) => Err(WebError::Invalid(errors)),
        Err(mut e) => {
            e.0.extend(errors.0);
            Err(WebError::Invalid(e))
        }
    };
    let tree = me.scoped(&st).regions().tree().await?;
    let towns = region_options(&tree, &me.actor.scope, &[RegionLevel::Town]);
    project_form(&f, &households_text, towns).after_save(&st, &me, result).await
}

fn document_form(id: i64, kind: &str) -> FormPage {
    FormPage {
        multipart: false,
        title: "上传项目材料".into(),
        action: format!("/funds/projects/{id}/documents"),
        back: format!("/funds/projects/{id}"),
        hidden: vec![],
        fields: vec![Field::select("kind", "材料", kind, labels(DocumentKind::ALL)).required(), files_field()],
    }
}

pub(super) async fn document_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = in_scope(&st, &me, &id).await?;
    require_enterer(&me)?;
    document_form(id, "").render(&st, &me, None).await
}

pub(super) async fn save_document(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    form: CsrfMultipart,
) -> Result<Response, WebError> {
    let id = in_scope(&st, &me, &id).await?;
    let kind = form.get("kind");
    let result = match (DocumentKind::parse(&kind), form.files.first()) {
        (Ok(k), Some(file)) => {
            me.scoped(&st).funds().projects().add_document(id, k, file).await.map(|_| saved(id)).map_err(WebError::from)
        }
        (Err(e), _) => Err(one_error("kind", e.to_string())),
        (_, None) => Err(one_error("files", "请选择要上传的文件")),
    };
    document_form(id, &kind).after_save(&st, &me, result).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct NoticeForm {
    stage: String,
    noticed_on: String,
}

impl NoticeForm {
    pub(crate) fn parse(&self) -> Result<(Stage, chrono::NaiveDate), WebError> {
        let mut errors = FieldErrors::default();
        let stage = errors.take("stage", Stage::parse(&self.stage));
        let on = errors.take("noticed_on", ducha_domain::registry::parse_date(&self.noticed_on));
        match (stage, on) {
            (Some(s), Some(d)) => Ok((s, d)),
            _ => Err(WebError::Invalid(errors)),
        }
    }
}

fn notice_form(id: i64, f: &NoticeForm) -> FormPage {
    let stages =
        [Stage::Approval, Stage::Acceptance].iter().map(|s| (s.label().to_string(), format!("{s}阶段公示"))).collect();
    FormPage {
        multipart: false,
        title: "登记公示".into(),
        action: format!("/funds/projects/{id}/notice"),
        back: format!("/funds/projects/{id}"),
        hidden: vec![],
        fields: vec![
            Field::select("stage", "公示", &f.stage, stages).required(),
            Field::date("noticed_on", "公示日期", &f.noticed_on).required(),
        ],
    }
}

pub(super) async fn notice_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = in_scope(&st, &me, &id).await?;
    require_enterer(&me)?;
    notice_form(id, &NoticeForm { noticed_on: today().to_string(), ..Default::default() }).render(&st, &me, None).await
}

pub(super) async fn save_notice(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<NoticeForm>,
) -> Result<Response, WebError> {
    let id = in_scope(&st, &me, &id).await?;
    let result = match f.parse() {
        Ok((s, d)) => {
            me.scoped(&st).funds().projects().record_notice(id, s, d).await.map(|_| saved(id)).map_err(WebError::from)
        }
        Err(e) => Err(e),
    };
    notice_form(id, &f).after_save(&st, &me, result).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct AdvanceForm {
    pub(crate) to: String,
}

/// Move to the next stage; a refusal comes back to the project page naming what is missing.
pub(super) async fn save_advance(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<AdvanceForm>,
) -> Result<Response, WebError> {
    let id = in_scope(&st, &me, &id).await?;
    require_manager(&me)?;
    let to = Stage::parse(&f.to).map_err(|e| WebError::BadRequest(e.to_string()))?;
    let back = match me.scoped(&st).funds().projects().advance(id, to, today()).await {
        Ok(()) => saved(id),
        Err(ducha_storage::StorageError::Invalid(e)) => {
            let why = e.get("stage").unwrap_or_default().to_string();
            format!("/funds/projects/{id}?{}", serde_urlencoded::to_string([("refused", why)]).unwrap_or_default())
        }
        Err(e) => return Err(e.into()),
    };
    Ok(axum::response::Redirect::to(&back).into_response())
}

#[derive(Default)]
struct PayForm {
    paid_on: String,
    amount: String,
    payee: String,
}

fn pay_form(id: i64, f: &PayForm) -> FormPage {
    let mut voucher = files_field();
    voucher.label = "拨付凭证";
    voucher.required = true;
    FormPage {
        multipart: false,
        title: "资金拨付".into(),
        action: format!("/funds/projects/{id}/pay"),
        back: format!("/funds/projects/{id}"),
        hidden: vec![],
        fields: vec![
            Field::date("paid_on", "拨付日期", &f.paid_on).required(),
            Field::text("amount", "金额（元）", &f.amount).required(),
            Field::text("payee", "收款单位或个人", &f.payee).required(),
            voucher,
        ],
    }
}

pub(super) async fn pay_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = in_scope(&st, &me, &id).await?;
    require_manager(&me)?;
    pay_form(id, &PayForm { paid_on: today().to_string(), ..Default::default() }).render(&st, &me, None).await
}

pub(super) async fn save_pay(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    form: CsrfMultipart,
) -> Result<Response, WebError> {
    let id = in_scope(&st, &me, &id).await?;
    let f = PayForm { paid_on: form.get("paid_on"), amount: form.get("amount"), payee: form.get("payee") };
    let mut errors = FieldErrors::default();
    let on = errors.take("paid_on", ducha_domain::registry::parse_date(&f.paid_on));
    let amount = errors.take("amount", parse_amount("拨付金额", &f.amount, Limit::Project));
    let result = match (on, amount) {
        (Some(on), Some(amount)) => me
            .scoped(&st)
            .funds()
            .payments()
            .pay(id, amount, on, &f.payee, &form.files)
            .await
            .map(|_| saved(id))
            .map_err(WebError::from),
        _ => Err(WebError::Invalid(errors)),
    };
    pay_form(id, &f).after_save(&st, &me, result).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct AllocationForm {
    source: String,
    region_code: String,
    amount: String,
    allocated_on: String,
    arrived_on: String,
}

impl AllocationForm {
    /// Every field's problem at once (the page and the API).
    pub(crate) fn allocation(&self, year: i32) -> Result<Allocation, WebError> {
        let mut errors = FieldErrors::default();
        let source = errors.take("source", FundSource::parse(&self.source));
        let amount = errors.take("amount", parse_amount("下达金额", &self.amount, Limit::Allocation));
        let allocated_on = errors.take("allocated_on", ducha_domain::registry::parse_date(&self.allocated_on));
        let arrived_on = match self.arrived_on.trim() {
            "" => Some(None),
            t => errors.take("arrived_on", ducha_domain::registry::parse_date(t)).map(Some),
        };
        match (source, amount, allocated_on, arrived_on) {
            (Some(source), Some(amount), Some(allocated_on), Some(arrived_on)) => Ok(Allocation {
                year,
                source,
                region_code: self.region_code.trim().to_string(),
                amount,
                allocated_on,
                arrived_on,
            }),
            _ => Err(WebError::Invalid(errors)),
        }
    }
}

fn allocation_form(f: &AllocationForm, regions: Vec<(String, String)>) -> FormPage {
    FormPage {
        multipart: false,
        title: "下达扶贫资金".into(),
        action: "/funds/allocations/new".into(),
        back: "/funds".into(),
        hidden: vec![],
        fields: vec![
            Field::select("source", "资金来源", &f.source, labels(FundSource::ALL)).required(),
            Field::select("region_code", "下达到", &f.region_code, regions).required(),
            Field::text("amount", "金额（元）", &f.amount).required(),
            Field::date("allocated_on", "下达日期", &f.allocated_on).required(),
            Field::date("arrived_on", "到位日期", &f.arrived_on).hint("尚未到位的不填"),
        ],
    }
}

pub(super) async fn allocation_page(State(st): State<AppState>, me: CurrentUser) -> Result<Response, WebError> {
    require_manager(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let f = AllocationForm { allocated_on: today().to_string(), ..Default::default() };
    let options = region_options(&tree, &me.actor.scope, &[RegionLevel::District, RegionLevel::Town]);
    allocation_form(&f, options).render(&st, &me, None).await
}

pub(super) async fn save_allocation(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(f): CsrfForm<AllocationForm>,
) -> Result<Response, WebError> {
    require_manager(&me)?;
    let (year, _) = me.scoped(&st).checks().current().await?;
    let result = match f.allocation(year) {
        Ok(a) => me
            .scoped(&st)
            .funds()
            .allocations()
            .allocate(&a)
            .await
            .map(|_| "/funds".to_string())
            .map_err(WebError::from),
        Err(e) => Err(e),
    };
    let tree = me.scoped(&st).regions().tree().await?;
    let options = region_options(&tree, &me.actor.scope, &[RegionLevel::District, RegionLevel::Town]);
    allocation_form(&f, options).after_save(&st, &me, result).await
}

// —— API writes (payments and documents carry files: the pages take them) ——

/// One household a project serves, and what it should gain a year (yuan).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ServedIn {
    pub number: String,
    pub expected_benefit: String,
}

/// A project to enter: the form's fields, and the households it serves.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct ProjectIn {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub project: ProjectForm,
    /// `[{"number": "户编号", "expected_benefit": "3000"}]`
    #[schema(value_type = Vec<Object>)]
    #[serde(default)]
    pub households: Vec<ServedIn>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CreatedOut {
    pub id: i64,
}

/// Enter a project in the library (offices within scope); every field's problem at once.
#[utoipa::path(post, path = "/api/v1/projects", tag = "funds", request_body = ProjectIn,
    responses((status = 200, body = CreatedOut), (status = 422, description = "字段有误，如没有绩效目标、受益户不在辖区内")))]
pub(crate) async fn api_create_project(
    State(st): State<AppState>,
    me: CurrentUser,
    crate::api::ApiJson(f): crate::api::ApiJson<ProjectIn>,
) -> Result<axum::Json<CreatedOut>, WebError> {
    require_enterer(&me)?;
    let lines: String = f.households.iter().map(|h| format!("{} {}\n", h.number, h.expected_benefit)).collect();
    let mut errors = FieldErrors::default();
    let households = served(&me.scoped(&st), &lines, &mut errors).await;
    let p = match f.project.validate() {
        Ok(p) if errors.is_empty() => p,
        Ok(_) => return Err(WebError::Invalid(errors)),
        Err(mut e) => {
            e.0.extend(errors.0);
            return Err(WebError::Invalid(e));
        }
    };
    let (year, _) = me.scoped(&st).checks().current().await?;
    let id = me.scoped(&st).funds().projects().add(year, &p, &households, today()).await?;
    Ok(axum::Json(CreatedOut { id }))
}

/// Move a project to its next stage (district or city office); 422 names what is missing.
#[utoipa::path(post, path = "/api/v1/projects/{id}/advance", tag = "funds", params(("id" = i64, Path)), request_body = Object,
    responses((status = 204), (status = 404, description = "不存在或不在辖区内"), (status = 422, description = "缺少材料或公示")))]
pub(crate) async fn api_advance(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    crate::api::ApiJson(f): crate::api::ApiJson<AdvanceForm>,
) -> Result<axum::http::StatusCode, WebError> {
    let id = in_scope(&st, &me, &id).await?;
    let to = Stage::parse(&f.to).map_err(|e| one_error("to", e.to_string()))?;
    me.scoped(&st).funds().projects().advance(id, to, today()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Record a stage's public notice (offices within scope).
#[utoipa::path(post, path = "/api/v1/projects/{id}/notices", tag = "funds", params(("id" = i64, Path)), request_body = Object,
    responses((status = 204), (status = 404, description = "不存在或不在辖区内"), (status = 422, description = "字段有误")))]
pub(crate) async fn api_notice(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    crate::api::ApiJson(f): crate::api::ApiJson<NoticeForm>,
) -> Result<axum::http::StatusCode, WebError> {
    let id = in_scope(&st, &me, &id).await?;
    let (stage, on) = f.parse()?;
    me.scoped(&st).funds().projects().record_notice(id, stage, on).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Allocate funds to a district or town (city or district office, within scope).
#[utoipa::path(post, path = "/api/v1/allocations", tag = "funds", request_body = Object,
    responses((status = 200, body = CreatedOut), (status = 403, description = "无权下达"), (status = 422, description = "字段有误或不在辖区内")))]
pub(crate) async fn api_allocate(
    State(st): State<AppState>,
    me: CurrentUser,
    crate::api::ApiJson(f): crate::api::ApiJson<AllocationForm>,
) -> Result<axum::Json<CreatedOut>, WebError> {
    require_manager(&me)?;
    let (year, _) = me.scoped(&st).checks().current().await?;
    let a = f.allocation(year)?;
    Ok(axum::Json(CreatedOut { id: me.scoped(&st).funds().allocations().allocate(&a).await? }))
}

// —— Passing a district's funds down to its towns (下拨) ——

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(crate) struct TransferForm {
    town_code: String,
    amount: String,
    on: String,
}

impl TransferForm {
    /// The town, amount and day, every field's problem at once (the page and the API).
    pub(crate) fn parse(&self) -> Result<(String, Money, chrono::NaiveDate), WebError> {
        let mut errors = FieldErrors::default();
        let amount = errors.take("amount", parse_amount("下拨金额", &self.amount, Limit::Project));
        let on = errors.take("on", ducha_domain::registry::parse_date(&self.on));
        let town = self.town_code.trim().to_string();
        if town.is_empty() {
            errors.add("town_code", "请选择下拨到的镇（街）");
        }
        match (amount, on) {
            (Some(amount), Some(on)) if errors.0.is_empty() => Ok((town, amount, on)),
            _ => Err(WebError::Invalid(errors)),
        }
    }
}

fn transfer_form(a: &AllocationRow, f: &TransferForm, towns: Vec<(String, String)>) -> FormPage {
    let about = format!(
        "{} {} 资金 {} 元（{} 下达），已下拨 {} 元，尚余 {} 元",
        a.region_name,
        a.allocation.source,
        a.allocation.amount,
        a.allocation.allocated_on,
        a.passed_down,
        a.left()
    );
    FormPage {
        multipart: false,
        title: "资金下拨到镇（街）".into(),
        action: format!("/funds/allocations/{}/transfer", a.id),
        back: "/funds".into(),
        hidden: vec![],
        fields: vec![
            Field::select("town_code", "下拨到", &f.town_code, towns).required().hint(about),
            Field::text("amount", "金额（元）", &f.amount).required(),
            Field::date("on", "下拨日期", &f.on).required().hint("不早于这笔资金的到位日期"),
        ],
    }
}

/// The allocation (a district's, in scope) and the towns it may go down to.
async fn transfer_parts(
    st: &AppState,
    me: &CurrentUser,
    id: &str,
) -> Result<(AllocationRow, Vec<(String, String)>), WebError> {
    // Out of scope is not found, before the role is asked (as for every record).
    let s = me.scoped(st);
    let a = s.funds().allocations().get(parse_id(id)?).await?.ok_or(WebError::NotFound)?;
    require_manager(me)?;
    let tree = s.regions().tree().await?;
    let within = Scope::Region(
        ducha_domain::RegionCode::parse(&a.allocation.region_code).map_err(|e| WebError::BadRequest(e.to_string()))?,
    );
    Ok((a, region_options(&tree, &within, &[RegionLevel::Town])))
}

pub(super) async fn transfer_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (a, towns) = transfer_parts(&st, &me, &id).await?;
    let f = TransferForm { on: today().to_string(), ..Default::default() };
    transfer_form(&a, &f, towns).render(&st, &me, None).await
}

pub(super) async fn save_transfer(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<TransferForm>,
) -> Result<Response, WebError> {
    let (a, towns) = transfer_parts(&st, &me, &id).await?;
    let result = match f.parse() {
        Ok((town, amount, on)) => me
            .scoped(&st)
            .funds()
            .allocations()
            .transfer(a.id, &town, amount, on)
            .await
            .map(|_| "/funds?transferred=1#allocations".to_string())
            .map_err(WebError::from),
        Err(e) => Err(e),
    };
    transfer_form(&a, &f, towns).after_save(&st, &me, result).await
}

/// Pass part of a district's allocation down to one of its towns (district or city office).
#[utoipa::path(post, path = "/api/v1/allocations/{id}/transfers", tag = "funds", params(("id" = i64, Path)),
    request_body = Object,
    responses((status = 200, body = CreatedOut), (status = 404, description = "不存在或不在辖区内"),
        (status = 422, description = "字段有误，如超出可下拨金额、资金尚未到位、不是该市(区)的镇(街)")))]
pub(crate) async fn api_transfer(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    crate::api::ApiJson(f): crate::api::ApiJson<TransferForm>,
) -> Result<axum::Json<CreatedOut>, WebError> {
    let id = parse_id(&id)?;
    me.scoped(&st).funds().allocations().in_scope(id).await?;
    require_manager(&me)?;
    let (town, amount, on) = f.parse()?;
    Ok(axum::Json(CreatedOut { id: me.scoped(&st).funds().allocations().transfer(id, &town, amount, on).await? }))
}
