//! The registry's JSON API under `/api/v1`: the same reads and writes as the pages, in the same
//! scope, with personal data masked except in the one call that shows one person in full.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use ducha_domain::registry::{HouseholdForm, HouseholdStatus, HouseholdType, MemberForm};
use serde::{Deserialize, Serialize};

use super::view::{AuditView, FinanceView, MemberView, RowView};
use super::{ListQuery, parse_id, today};
use crate::api::ApiJson;
use crate::pages::{label, mask_account, mask_phone};
use crate::{AppState, CurrentUser, Routes, WebError};

pub fn routes(r: Routes) -> Routes {
    r.get("/api/v1/households", list)
        .post("/api/v1/households", create)
        .get("/api/v1/households/{id}", detail)
        .put("/api/v1/households/{id}", update)
        .get("/api/v1/households/{id}/audit", audit_trail)
        .post("/api/v1/households/{id}/members", add_member)
        .put("/api/v1/members/{id}", update_member)
        .post("/api/v1/members/{id}/personal", personal)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HouseholdList {
    total: i64,
    /// Pass as `after` for the next page.
    next_after: Option<i64>,
    /// Pass as `before` for the previous page.
    prev_before: Option<i64>,
    #[schema(value_type = Vec<Object>)]
    items: Vec<RowView>,
}

/// Households in the caller's scope, filtered, 50 a page; ID numbers masked.
#[utoipa::path(get, path = "/api/v1/households", tag = "registry",
    params(
        ("region" = Option<String>, Query, description = "区划代码"),
        ("status" = Option<String>, Query, description = "状态（代码或中文）"),
        ("household_type" = Option<String>, Query, description = "属性"),
        ("cause" = Option<String>, Query, description = "致贫原因"),
        ("q" = Option<String>, Query, description = "姓名、身份证号或户编号"),
        ("after" = Option<i64>, Query, description = "下一页：上一页最后一户的 id"),
        ("before" = Option<i64>, Query, description = "上一页：本页第一户的 id"),
    ),
    responses((status = 200, body = HouseholdList), (status = 400, description = "参数有误"), (status = 401, description = "未登录")))]
pub(crate) async fn list(
    State(st): State<AppState>,
    me: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<HouseholdList>, WebError> {
    let filter = q.filter(&me.actor)?;
    let (after, before) = q.keyset()?;
    let page = me.scoped(&st).registry().list(&filter, after, before, 50).await?;
    let tree = me.scoped(&st).regions().tree().await?;
    Ok(Json(HouseholdList {
        total: page.total,
        next_after: page.next_after,
        prev_before: page.prev_before,
        items: page.rows.iter().map(|r| RowView::new(r, &tree)).collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    id: i64,
}

/// Register a household (status 识别). Fields as on the form; codes or Chinese labels.
#[utoipa::path(post, path = "/api/v1/households", tag = "registry", request_body = Object,
    responses((status = 201, body = Created), (status = 422, description = "字段有误：fields 列出每个字段的错误"), (status = 403, description = "角色不能修改登记信息")))]
pub(crate) async fn create(
    State(st): State<AppState>,
    me: CurrentUser,
    ApiJson(form): ApiJson<HouseholdForm>,
) -> Result<impl IntoResponse, WebError> {
    let tree = me.scoped(&st).regions().tree().await?;
    let h = form.validate(&tree, today()).map_err(WebError::Invalid)?;
    let id = me.scoped(&st).registry().create_household(&h).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HouseholdOut {
    id: i64,
    number: String,
    version: i32,
    village_code: String,
    path: String,
    household_type: String,
    household_type_label: String,
    main_cause: String,
    causes_label: String,
    status: String,
    status_label: String,
    identified_on: String,
    address: String,
    phone: String,
    bank_account: String,
    food_clothing: bool,
    compulsory_education: bool,
    basic_medical: bool,
    safe_housing: bool,
    safe_water: bool,
    /// Current members.
    #[schema(value_type = Vec<Object>)]
    members: Vec<MemberView>,
    /// Members who left (death, marriage, moving out), with when and why.
    #[schema(value_type = Vec<Object>)]
    former_members: Vec<MemberView>,
    #[schema(value_type = Vec<Object>)]
    finances: Vec<FinanceView>,
    status_history: Vec<StatusOut>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusOut {
    status: String,
    status_label: String,
    effective_on: String,
}

/// One household in the caller's scope (404 outside it); personal data masked.
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200, body = HouseholdOut), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn detail(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<HouseholdOut>, WebError> {
    let id = parse_id(&id)?;
    let rec = me.scoped(&st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let h = &rec.household;
    let causes = super::view::causes_label(h);
    Ok(Json(HouseholdOut {
        id: h.id,
        number: h.number.clone(),
        version: h.version,
        village_code: h.village_code.clone(),
        path: tree.path(&h.village_code).unwrap_or_default(),
        household_type: h.household_type.clone(),
        household_type_label: label::<HouseholdType>(&h.household_type),
        main_cause: h.main_cause.clone(),
        causes_label: causes,
        status: h.status.clone(),
        status_label: label::<HouseholdStatus>(&h.status),
        identified_on: h.identified_on.to_string(),
        address: h.address.clone(),
        phone: mask_phone(&h.phone),
        bank_account: mask_account(&h.bank_account),
        food_clothing: h.food_clothing,
        compulsory_education: h.compulsory_education,
        basic_medical: h.basic_medical,
        safe_housing: h.safe_housing,
        safe_water: h.safe_water,
        members: rec.members.iter().filter(|m| m.left_on.is_none()).map(MemberView::masked).collect(),
        former_members: rec.members.iter().filter(|m| m.left_on.is_some()).map(MemberView::masked).collect(),
        finances: rec.finances.iter().map(FinanceView::new).collect(),
        status_history: rec
            .history
            .iter()
            .map(|s| StatusOut {
                status: s.status.clone(),
                status_label: label::<HouseholdStatus>(&s.status),
                effective_on: s.effective_on.to_string(),
            })
            .collect(),
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct HouseholdUpdate {
    #[serde(flatten)]
    pub(crate) form: HouseholdForm,
    pub(crate) version: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Saved {
    id: i64,
}

/// Change a household's facts; `version` must be the one read (else 409).
#[utoipa::path(put, path = "/api/v1/households/{id}", tag = "registry", params(("id" = i64, Path)), request_body = Object,
    responses((status = 200, body = Saved), (status = 409, description = "已被他人修改"), (status = 422, description = "字段有误"), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn update(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(u): ApiJson<HouseholdUpdate>,
) -> Result<Json<Saved>, WebError> {
    let id = parse_id(&id)?;
    let rec = me.scoped(&st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let version: i32 =
        u.version.trim().parse().map_err(|_| WebError::BadRequest("缺少 version（读取时的版本号）".into()))?;
    // What a read gave masked, sent back unchanged, keeps what is stored.
    let h = super::view::household_form_sent(&u.form, &rec.household)
        .validate(&tree, today())
        .map_err(WebError::Invalid)?;
    me.scoped(&st).registry().update_household(id, version, &h).await?;
    Ok(Json(Saved { id }))
}

/// The household's audit trail (its own and its members'), newest first; personal data masked.
#[utoipa::path(get, path = "/api/v1/households/{id}/audit", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn audit_trail(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Vec<AuditView>>, WebError> {
    let id = parse_id(&id)?;
    me.scoped(&st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    Ok(Json(
        me.scoped(&st).audit().for_household(id, 500).await?.unwrap_or_default().iter().map(AuditView::new).collect(),
    ))
}

/// Add a member; sex and birth date may be left empty (read from the ID number).
#[utoipa::path(post, path = "/api/v1/households/{id}/members", tag = "registry", params(("id" = i64, Path)), request_body = Object,
    responses((status = 201, body = Created), (status = 422, description = "字段有误"), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn add_member(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(form): ApiJson<MemberForm>,
) -> Result<impl IntoResponse, WebError> {
    let id = parse_id(&id)?;
    me.scoped(&st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    let m = form.validate(today()).map_err(WebError::Invalid)?;
    let member_id = me.scoped(&st).registry().add_member(id, &m).await?;
    Ok((StatusCode::CREATED, Json(Created { id: member_id })))
}

#[utoipa::path(put, path = "/api/v1/members/{id}", tag = "registry", params(("id" = i64, Path)), request_body = Object,
    responses((status = 200, body = Saved), (status = 422, description = "字段有误"), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn update_member(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(form): ApiJson<MemberForm>,
) -> Result<Json<Saved>, WebError> {
    let id = parse_id(&id)?;
    let (current, _) = me.scoped(&st).registry().member(id).await?.ok_or(WebError::NotFound)?;
    let m = super::view::member_form_sent(&form, &current).validate(today()).map_err(WebError::Invalid)?;
    me.scoped(&st).registry().update_member(id, &m).await?;
    Ok(Json(Saved { id }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Personal {
    name: String,
    id_number: String,
    phone: Option<String>,
    household_id: i64,
}

/// One person's full ID number and phone, for roles with the personal-data right; recorded in
/// the audit trail.
#[utoipa::path(post, path = "/api/v1/members/{id}/personal", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200, body = Personal), (status = 403, description = "角色无个人信息权限"), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn personal(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Personal>, WebError> {
    let id = parse_id(&id)?;
    let (m, h) = me.scoped(&st).registry().reveal_member(id).await?;
    Ok(Json(Personal { name: m.name, id_number: m.id_number, phone: m.phone, household_id: h.id }))
}
