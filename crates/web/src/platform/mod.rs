//! Town platforms: posted cadres and their check-ins, attendance by region (page and xlsx), the
//! designated medical institutions' one-stop settlement; the same under /api/v1.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use ducha_domain::access::{Role, Scope};
use ducha_domain::labelled::Labelled;
use ducha_domain::platform::{InstitutionForm, InstitutionLevel, PostingForm};
use ducha_domain::region::{RegionKind, RegionLevel, RegionTree};
use ducha_storage::platform::{AttendanceSummary, CheckIn, InstitutionRow, OnlineSummary, Place, PostingRow};
use serde::{Deserialize, Serialize};

use crate::api::ApiJson;
use crate::auth::csrf::CsrfForm;
use crate::forms::{Field, FormPage};
use crate::pages::PageCtx;
use crate::registry::{parse_id, today};
use crate::{AppState, CurrentUser, Routes, WebError};

mod offices;

pub fn routes(r: Routes) -> Routes {
    r.get("/platform/offices", offices::offices_page)
        .post("/platform/offices/items", offices::save_item)
        .get("/platform/offices/{id}", offices::office_page)
        .post("/platform/offices/{id}/judge", offices::save_judgement)
        .post("/platform/offices/{id}/staff", offices::save_staff)
        .post("/platform/offices/{id}/staff/{staff}/left", offices::save_left)
        .get("/platform/postings", postings_page)
        .get("/platform/postings/new", new_posting_page)
        .post("/platform/postings/new", create_posting)
        .get("/platform/postings/{id}", posting_page)
        .get("/platform/postings/{id}/check-in", check_in_page)
        .post("/platform/postings/{id}/check-in", save_check_in)
        .get("/platform/postings/{id}/end", end_page)
        .post("/platform/postings/{id}/end", save_end)
        .get("/platform/attendance.xlsx", export)
        .get("/platform/institutions", institutions_page)
        .get("/platform/institutions/new", new_institution_page)
        .post("/platform/institutions/new", create_institution)
        .get("/platform/institutions/{id}/edit", edit_institution_page)
        .post("/platform/institutions/{id}/edit", save_institution)
        .get("/api/v1/postings", api_postings)
        .post("/api/v1/postings", api_create_posting)
        .get("/api/v1/postings/{id}", api_posting)
        .post("/api/v1/postings/{id}/check-ins", api_check_in)
        .get("/api/v1/attendance", api_attendance)
        .get("/api/v1/institutions", api_institutions)
        .post("/api/v1/institutions", api_create_institution)
        .put("/api/v1/institutions/{id}", api_update_institution)
}

fn manages(role: Role) -> bool {
    role.manages_platform()
}

fn require_manager(me: &CurrentUser) -> Result<(), WebError> {
    if manages(me.user.role) {
        Ok(())
    } else {
        Err(WebError::Forbidden("派驻干部和定点医疗机构由市(区)扶贫办或市扶贫办登记".into()))
    }
}

/// By district for the city, by town for a district or town.
fn summary_level(scope: &Scope) -> (RegionLevel, &'static str) {
    match ducha_storage::platform::summary_level(scope) {
        RegionLevel::District => (RegionLevel::District, "市(区)"),
        level => (level, "镇（街）"),
    }
}

#[derive(Template)]
#[template(path = "platform/postings.html")]
struct PostingsPage {
    ctx: PageCtx,
    year: i32,
    as_of: String,
    summary: Vec<AttendanceSummary>,
    rows: Vec<PostingRow>,
    region_label: &'static str,
    can_manage: bool,
}

async fn postings_page(State(st): State<AppState>, me: CurrentUser) -> Result<Html<String>, WebError> {
    let (year, as_of) = me.scoped(&st).checks().current().await?;
    let (level, region_label) = summary_level(&me.actor.scope);
    let summary = me.scoped(&st).platform().attendance().by_region(level).await?;
    let rows = me.scoped(&st).platform().postings().list().await?;
    let html = PostingsPage {
        ctx: PageCtx::new(&st, &me).await?,
        year,
        as_of: as_of.to_string(),
        summary,
        rows,
        region_label,
        can_manage: manages(me.user.role),
    }
    .render()?;
    Ok(Html(html))
}

fn town_options(tree: &RegionTree, scope: &Scope) -> Vec<(String, String)> {
    std::iter::once((String::new(), "请选择".to_string()))
        .chain(
            tree.at_level(RegionLevel::Town)
                .filter(|t| scope.contains(t.code.as_str()) && t.kind != RegionKind::SpecialArea)
                .map(|t| (t.code.as_str().to_string(), tree.path(t.code.as_str()).unwrap_or_else(|| t.name.clone()))),
        )
        .collect()
}

fn yes_no_options() -> Vec<(String, String)> {
    vec![("是".into(), "是".into()), ("否".into(), "否".into())]
}

fn posting_form(f: &PostingForm, towns: Vec<(String, String)>) -> FormPage {
    FormPage {
        multipart: false,
        title: "登记派驻镇（街）扶贫干部".into(),
        action: "/platform/postings/new".into(),
        back: "/platform/postings".into(),
        hidden: vec![],
        fields: vec![
            Field::text("name", "姓名", &f.name).required(),
            Field::text("unit", "派出单位", &f.unit).required(),
            Field::select("town_code", "派驻的镇（街）", &f.town_code, towns).required(),
            Field::select(
                "full_time",
                "是否全职驻点",
                if f.full_time.is_empty() { "是" } else { &f.full_time },
                yes_no_options(),
            )
            .required(),
            Field::date("started_on", "派驻开始日期", &f.started_on).required(),
            Field::date("ended_on", "派驻结束日期", &f.ended_on).hint("仍在派驻的不填"),
        ],
    }
}

async fn new_posting_page(State(st): State<AppState>, me: CurrentUser) -> Result<Response, WebError> {
    require_manager(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    posting_form(&PostingForm::default(), town_options(&tree, &me.actor.scope)).render(&st, &me, None).await
}

async fn create_posting(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(f): CsrfForm<PostingForm>,
) -> Result<Response, WebError> {
    require_manager(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let result = match f.validate() {
        Ok(p) => me
            .scoped(&st)
            .platform()
            .postings()
            .add(&p)
            .await
            .map(|id| format!("/platform/postings/{id}?saved=1"))
            .map_err(WebError::from),
        Err(e) => Err(WebError::Invalid(e)),
    };
    posting_form(&f, town_options(&tree, &me.actor.scope)).after_save(&st, &me, result).await
}

#[derive(Template)]
#[template(path = "platform/posting.html")]
struct PostingPage {
    ctx: PageCtx,
    year: i32,
    r: PostingRow,
    check_ins: Vec<CheckIn>,
    can_check_in: bool,
    can_manage: bool,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Saved {
    saved: String,
}

async fn posting_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Query(s): Query<Saved>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let (r, check_ins) = me.scoped(&st).platform().postings().get(id).await?.ok_or(WebError::NotFound)?;
    let (year, _) = me.scoped(&st).checks().current().await?;
    let html = PostingPage {
        ctx: PageCtx::new(&st, &me).await?,
        year,
        r,
        check_ins,
        can_check_in: me.user.role.edits_registry(),
        can_manage: manages(me.user.role),
        notice: (!s.saved.is_empty()).then(|| "已保存。".to_string()),
    }
    .render()?;
    Ok(Html(html))
}

/// A check-in as typed (a phone may fill in its position).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CheckInForm {
    /// YYYY-MM-DD; today if empty.
    pub on_date: String,
    pub place: String,
    pub latitude: String,
    pub longitude: String,
}

impl CheckInForm {
    pub(crate) fn parse(&self) -> Result<(chrono::NaiveDate, Place), WebError> {
        let mut errors = ducha_domain::validation::FieldErrors::default();
        let on = match self.on_date.trim() {
            "" => Some(today()),
            t => errors.take(
                "on_date",
                chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .map_err(|_| format!("签到日期应为日期（如 2017-11-06），填的是“{t}”")),
            ),
        };
        let number =
            |errors: &mut ducha_domain::validation::FieldErrors, field: &str, label: &str, t: &str| -> Option<f64> {
                match t.trim() {
                    "" => None,
                    v => errors.take(field, v.parse::<f64>().map_err(|_| format!("{label}应为数字，填的是“{v}”"))),
                }
            };
        let latitude = number(&mut errors, "latitude", "纬度", &self.latitude);
        let longitude = number(&mut errors, "longitude", "经度", &self.longitude);
        if latitude.is_some() != longitude.is_some() {
            errors.add("longitude", "经度和纬度要一起填");
        }
        match on {
            Some(on) if errors.is_empty() => Ok((
                on,
                Place { text: Some(self.place.trim().to_string()).filter(|s| !s.is_empty()), latitude, longitude },
            )),
            _ => Err(WebError::Invalid(errors)),
        }
    }
}

fn check_in_form(id: i64, name: &str, f: &CheckInForm) -> FormPage {
    FormPage {
        multipart: false,
        title: format!("驻点签到：{name}"),
        action: format!("/platform/postings/{id}/check-in"),
        back: format!("/platform/postings/{id}"),
        hidden: vec![],
        fields: vec![
            Field::date("on_date", "签到日期", if f.on_date.is_empty() { "" } else { &f.on_date }).hint("不填为今天"),
            Field::text("place", "地点", &f.place).hint("如 镇扶贫办、某村委会"),
            Field::text("latitude", "纬度", &f.latitude).hint("手机定位，可不填"),
            Field::text("longitude", "经度", &f.longitude),
        ],
    }
}

async fn check_in_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (r, _) = me.scoped(&st).platform().postings().get(id).await?.ok_or(WebError::NotFound)?;
    crate::registry::require_editor(&me)?;
    let f = CheckInForm { on_date: today().to_string(), ..Default::default() };
    check_in_form(id, &r.posting.name, &f).render(&st, &me, None).await
}

async fn save_check_in(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CheckInForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (r, _) = me.scoped(&st).platform().postings().get(id).await?.ok_or(WebError::NotFound)?;
    let result = match f.parse() {
        Ok((on, place)) => me
            .scoped(&st)
            .platform()
            .attendance()
            .check_in(id, on, &place)
            .await
            .map(|_| format!("/platform/postings/{id}?saved=1"))
            .map_err(WebError::from),
        Err(e) => Err(e),
    };
    check_in_form(id, &r.posting.name, &f).after_save(&st, &me, result).await
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct EndForm {
    ended_on: String,
}

fn end_form(id: i64, name: &str, f: &EndForm) -> FormPage {
    FormPage {
        multipart: false,
        title: format!("结束派驻：{name}"),
        action: format!("/platform/postings/{id}/end"),
        back: format!("/platform/postings/{id}"),
        hidden: vec![],
        fields: vec![Field::date("ended_on", "派驻结束日期", &f.ended_on).required()],
    }
}

async fn end_page(State(st): State<AppState>, me: CurrentUser, Path(id): Path<String>) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (r, _) = me.scoped(&st).platform().postings().get(id).await?.ok_or(WebError::NotFound)?;
    require_manager(&me)?;
    end_form(id, &r.posting.name, &EndForm { ended_on: today().to_string() }).render(&st, &me, None).await
}

async fn save_end(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<EndForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (r, _) = me.scoped(&st).platform().postings().get(id).await?.ok_or(WebError::NotFound)?;
    let result = match ducha_domain::registry::parse_date(&f.ended_on) {
        Ok(d) => me
            .scoped(&st)
            .platform()
            .postings()
            .end(id, d)
            .await
            .map(|_| format!("/platform/postings/{id}?saved=1"))
            .map_err(WebError::from),
        Err(why) => {
            let mut e = ducha_domain::validation::FieldErrors::default();
            e.add("ended_on", why);
            Err(WebError::Invalid(e))
        }
    };
    end_form(id, &r.posting.name, &f).after_save(&st, &me, result).await
}

/// The attendance workbook of the user's scope (summary, postings, institutions).
async fn export(State(st): State<AppState>, me: CurrentUser) -> Result<Response, WebError> {
    let _turn = st.work.turn(None).await;
    let (year, bytes) = ducha_reports::platform::attendance_report(&me.scoped(&st)).await.map_err(|e| match e {
        ducha_reports::exchange::ExchangeError::Storage(s) => WebError::from(s),
        other => WebError::Internal(Box::new(other)),
    })?;
    Ok(crate::pages::xlsx_download(bytes, &format!("驻点考勤与一站式结算-{year}.xlsx")))
}

#[derive(Template)]
#[template(path = "platform/institutions.html")]
struct InstitutionsPage {
    ctx: PageCtx,
    as_of: String,
    online: Vec<OnlineSummary>,
    rows: Vec<InstitutionRow>,
    can_manage: bool,
}

async fn institutions_page(State(st): State<AppState>, me: CurrentUser) -> Result<Html<String>, WebError> {
    let (_, as_of) = me.scoped(&st).checks().current().await?;
    let html = InstitutionsPage {
        ctx: PageCtx::new(&st, &me).await?,
        as_of: as_of.to_string(),
        online: me.scoped(&st).platform().institutions().online_by_district().await?,
        rows: me.scoped(&st).platform().institutions().list().await?,
        can_manage: manages(me.user.role),
    }
    .render()?;
    Ok(Html(html))
}

fn district_options(tree: &RegionTree, scope: &Scope) -> Vec<(String, String)> {
    std::iter::once((String::new(), "请选择".to_string()))
        .chain(
            tree.at_level(RegionLevel::District)
                .filter(|d| scope.contains(d.code.as_str()))
                .map(|d| (d.code.as_str().to_string(), d.name.clone())),
        )
        .collect()
}

fn institution_form(action: String, f: &InstitutionForm, districts: Vec<(String, String)>) -> FormPage {
    let levels = InstitutionLevel::ALL.iter().map(|l| (l.label().to_string(), l.label().to_string())).collect();
    FormPage {
        multipart: false,
        title: "定点医疗机构".into(),
        action,
        back: "/platform/institutions".into(),
        hidden: vec![],
        fields: vec![
            Field::text("name", "医疗机构名称", &f.name).required(),
            Field::select("district_code", "所在市（区）", &f.district_code, districts).required(),
            Field::select("level", "等级", if f.level.is_empty() { "二级" } else { &f.level }, levels).required(),
            Field::select(
                "one_stop_online",
                "已上线一站式结算",
                if f.one_stop_online.is_empty() { "否" } else { &f.one_stop_online },
                yes_no_options(),
            )
            .required(),
            Field::date("online_since", "上线日期", &f.online_since).hint("未上线的不填"),
        ],
    }
}

async fn new_institution_page(State(st): State<AppState>, me: CurrentUser) -> Result<Response, WebError> {
    require_manager(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    institution_form(
        "/platform/institutions/new".into(),
        &InstitutionForm::default(),
        district_options(&tree, &me.actor.scope),
    )
    .render(&st, &me, None)
    .await
}

async fn create_institution(
    State(st): State<AppState>,
    me: CurrentUser,
    CsrfForm(f): CsrfForm<InstitutionForm>,
) -> Result<Response, WebError> {
    require_manager(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let result = match f.validate() {
        Ok(i) => me
            .scoped(&st)
            .platform()
            .institutions()
            .add(&i)
            .await
            .map(|_| "/platform/institutions".to_string())
            .map_err(WebError::from),
        Err(e) => Err(WebError::Invalid(e)),
    };
    institution_form("/platform/institutions/new".into(), &f, district_options(&tree, &me.actor.scope))
        .after_save(&st, &me, result)
        .await
}

async fn institution_in_scope(st: &AppState, me: &CurrentUser, id: i64) -> Result<InstitutionRow, WebError> {
    me.scoped(st).platform().institutions().get(id).await?.ok_or(WebError::NotFound)
}

async fn edit_institution_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let row = institution_in_scope(&st, &me, id).await?;
    require_manager(&me)?;
    let i = &row.institution;
    let f = InstitutionForm {
        name: i.name.clone(),
        district_code: i.district_code.clone(),
        level: i.level.label().to_string(),
        one_stop_online: if i.one_stop_online { "是" } else { "否" }.into(),
        online_since: i.online_since.map(|d| d.to_string()).unwrap_or_default(),
    };
    let tree = me.scoped(&st).regions().tree().await?;
    institution_form(format!("/platform/institutions/{id}/edit"), &f, district_options(&tree, &me.actor.scope))
        .render(&st, &me, None)
        .await
}

async fn save_institution(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<InstitutionForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    institution_in_scope(&st, &me, id).await?;
    let tree = me.scoped(&st).regions().tree().await?;
    let result = match f.validate() {
        Ok(i) => me
            .scoped(&st)
            .platform()
            .institutions()
            .update(id, &i)
            .await
            .map(|_| "/platform/institutions".to_string())
            .map_err(WebError::from),
        Err(e) => Err(WebError::Invalid(e)),
    };
    institution_form(format!("/platform/institutions/{id}/edit"), &f, district_options(&tree, &me.actor.scope))
        .after_save(&st, &me, result)
        .await
}

// —— API ——

#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Postings within the user's scope, with this year's attendance.
#[utoipa::path(get, path = "/api/v1/postings", tag = "platform", responses((status = 200, body = Vec<Object>)))]
pub(crate) async fn api_postings(
    State(st): State<AppState>,
    me: CurrentUser,
) -> Result<Json<Vec<PostingRow>>, WebError> {
    Ok(Json(me.scoped(&st).platform().postings().list().await?))
}

/// Post a cadre to a town (district or city office).
#[utoipa::path(post, path = "/api/v1/postings", tag = "platform", request_body = Object,
    responses((status = 200, body = Created), (status = 403, description = "无权登记"), (status = 422, description = "字段有误")))]
pub(crate) async fn api_create_posting(
    State(st): State<AppState>,
    me: CurrentUser,
    ApiJson(f): ApiJson<PostingForm>,
) -> Result<Json<Created>, WebError> {
    require_manager(&me)?;
    let p = f.validate().map_err(WebError::Invalid)?;
    Ok(Json(Created { id: me.scoped(&st).platform().postings().add(&p).await? }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PostingOut {
    #[schema(value_type = Object)]
    pub posting: PostingRow,
    #[schema(value_type = Vec<Object>)]
    pub check_ins: Vec<CheckIn>,
}

/// One posting with its check-ins.
#[utoipa::path(get, path = "/api/v1/postings/{id}", tag = "platform", params(("id" = i64, Path)),
    responses((status = 200, body = PostingOut), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn api_posting(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<PostingOut>, WebError> {
    let id = parse_id(&id)?;
    let (posting, check_ins) = me.scoped(&st).platform().postings().get(id).await?.ok_or(WebError::NotFound)?;
    Ok(Json(PostingOut { posting, check_ins }))
}

/// Record a check-in (offices within scope); refused outside the posting's dates, in the future,
/// or twice on one day.
#[utoipa::path(post, path = "/api/v1/postings/{id}/check-ins", tag = "platform", params(("id" = i64, Path)), request_body = CheckInForm,
    responses((status = 200, body = Created), (status = 404, description = "不存在或不在辖区内"), (status = 422, description = "日期不在派驻期间、重复签到等")))]
pub(crate) async fn api_check_in(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(f): ApiJson<CheckInForm>,
) -> Result<Json<Created>, WebError> {
    let id = parse_id(&id)?;
    let (on, place) = f.parse()?;
    Ok(Json(Created { id: me.scoped(&st).platform().attendance().check_in(id, on, &place).await? }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttendanceOut {
    pub year: i32,
    pub as_of: String,
    #[schema(value_type = Vec<Object>)]
    pub by_region: Vec<AttendanceSummary>,
}

/// Attendance by district (city users) or by town (district and town users).
#[utoipa::path(get, path = "/api/v1/attendance", tag = "platform", responses((status = 200, body = AttendanceOut)))]
pub(crate) async fn api_attendance(
    State(st): State<AppState>,
    me: CurrentUser,
) -> Result<Json<AttendanceOut>, WebError> {
    let (year, as_of) = me.scoped(&st).checks().current().await?;
    let (level, _) = summary_level(&me.actor.scope);
    let by_region = me.scoped(&st).platform().attendance().by_region(level).await?;
    Ok(Json(AttendanceOut { year, as_of: as_of.to_string(), by_region }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InstitutionsOut {
    #[schema(value_type = Vec<Object>)]
    pub online: Vec<OnlineSummary>,
    #[schema(value_type = Vec<Object>)]
    pub institutions: Vec<InstitutionRow>,
}

/// Designated institutions and the one-stop online rate by district.
#[utoipa::path(get, path = "/api/v1/institutions", tag = "platform", responses((status = 200, body = InstitutionsOut)))]
pub(crate) async fn api_institutions(
    State(st): State<AppState>,
    me: CurrentUser,
) -> Result<Json<InstitutionsOut>, WebError> {
    Ok(Json(InstitutionsOut {
        online: me.scoped(&st).platform().institutions().online_by_district().await?,
        institutions: me.scoped(&st).platform().institutions().list().await?,
    }))
}

/// Record a designated institution (district or city office).
#[utoipa::path(post, path = "/api/v1/institutions", tag = "platform", request_body = Object,
    responses((status = 200, body = Created), (status = 422, description = "字段有误")))]
pub(crate) async fn api_create_institution(
    State(st): State<AppState>,
    me: CurrentUser,
    ApiJson(f): ApiJson<InstitutionForm>,
) -> Result<Json<Created>, WebError> {
    require_manager(&me)?;
    let i = f.validate().map_err(WebError::Invalid)?;
    Ok(Json(Created { id: me.scoped(&st).platform().institutions().add(&i).await? }))
}

/// Change a designated institution (e.g. it went online).
#[utoipa::path(put, path = "/api/v1/institutions/{id}", tag = "platform", params(("id" = i64, Path)), request_body = Object,
    responses((status = 204), (status = 404, description = "不存在或不在辖区内"), (status = 422, description = "字段有误")))]
pub(crate) async fn api_update_institution(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(f): ApiJson<InstitutionForm>,
) -> Result<axum::http::StatusCode, WebError> {
    let id = parse_id(&id)?;
    institution_in_scope(&st, &me, id).await?;
    require_manager(&me)?;
    let i = f.validate().map_err(WebError::Invalid)?;
    me.scoped(&st).platform().institutions().update(id, &i).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
