//! Dynamic management pages and API: a town office asks for a change to a household (or a new
//! identification), a district office approves or rejects it with a comment.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use ducha_domain::labelled::Labelled;
use ducha_domain::registry::{
    ChangeKind, ChangePayload, ChangeStatus, HouseholdForm, HouseholdStatus, MemberChangeReason, MemberForm, parse_date,
};
use ducha_domain::validation::FieldErrors;
use ducha_storage::registry;
use ducha_storage::registry::changes::{self, ChangeRecord};
use serde::{Deserialize, Serialize};

use super::{household_fields, member_fields, parse_id, today, village_options};
use crate::api::ApiJson;
use crate::auth::csrf::{CsrfForm, CsrfMultipart};
use crate::forms::{Field, FormPage, files_field};
use crate::pages::{PageCtx, china_time};
use crate::{AppState, CurrentUser, Routes, WebError};

pub fn routes(r: Routes) -> Routes {
    r.get("/changes", list_page)
        .get("/changes/new", new_identification_page)
        .post("/changes/new", submit_new_identification)
        .get("/changes/{id}", detail_page)
        .post("/changes/{id}/approve", approve)
        .post("/changes/{id}/reject", reject)
        .get("/households/{id}/changes/new", change_form_page)
        .post("/households/{id}/changes/new", submit_change)
        .get("/api/v1/changes", api_list)
        .post("/api/v1/changes", api_new_identification)
        .get("/api/v1/changes/{id}", api_detail)
        .post("/api/v1/changes/{id}/approve", api_approve)
        .post("/api/v1/changes/{id}/reject", api_reject)
        .post("/api/v1/households/{id}/changes", api_submit)
}

/// A change as typed (form or JSON): common fields and those of each kind.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChangeInput {
    pub kind: String,
    pub reason: String,
    pub effective_on: String,
    pub year: String,
    pub member_id: String,
    pub member_reason: String,
    pub member_ids: Vec<String>,
    pub member: Option<MemberForm>,
}

impl ChangeInput {
    /// From form pairs (a form may repeat `member_ids`); member fields are the form's own.
    fn from_pairs(pairs: &[(String, String)]) -> ChangeInput {
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let member = MemberForm {
            name: get("name"),
            id_number: get("id_number"),
            relation: get("relation"),
            sex: get("sex"),
            birth_date: get("birth_date"),
            education: get("education"),
            school_stage: get("school_stage"),
            out_of_school_reason: get("out_of_school_reason"),
            health: get("health"),
            labour_ability: get("labour_ability"),
            medical_insurance: get("medical_insurance"),
            phone: get("phone"),
        };
        ChangeInput {
            kind: get("kind"),
            reason: get("reason"),
            effective_on: get("effective_on"),
            year: get("year"),
            member_id: get("member_id"),
            member_reason: get("member_reason"),
            member_ids: pairs.iter().filter(|(n, _)| n == "member_ids").map(|(_, v)| v.clone()).collect(),
            member: Some(member),
        }
    }

    /// The request it asks for, or every field that is wrong.
    pub(crate) fn payload(
        &self,
        kind: ChangeKind,
        members: &[ducha_storage::registry::member::Model],
    ) -> Result<(ChangePayload, NaiveDate), FieldErrors> {
        let mut e = FieldErrors::default();
        let effective_on = if self.effective_on.trim().is_empty() {
            Some(today())
        } else {
            e.take("effective_on", parse_date(&self.effective_on))
        };
        if effective_on.is_some_and(|d| d > today()) {
            e.add("effective_on", "生效日期不能晚于今天");
        }
        if self.reason.trim().is_empty() {
            e.add("reason", "请写明原因");
        }
        let member_reason = || {
            let mut e2 = FieldErrors::default();
            let r = e2.take("member_reason", MemberChangeReason::parse(&self.member_reason));
            (r, e2)
        };
        let payload = match kind {
            ChangeKind::NewIdentification => None,
            ChangeKind::AddMember => {
                let (reason, e2) = member_reason();
                e.0.extend(e2.0);
                let member = match self.member.as_ref().map(|m| m.validate(today())) {
                    Some(Ok(m)) => Some(m),
                    Some(Err(fe)) => {
                        e.0.extend(fe.0);
                        None
                    }
                    None => {
                        e.add("name", "请填写新成员");
                        None
                    }
                };
                member.zip(reason).map(|(member, reason)| ChangePayload::AddMember { member, reason })
            }
            ChangeKind::RemoveMember => {
                let (reason, e2) = member_reason();
                e.0.extend(e2.0);
                let m = self.member_id.trim().parse::<i64>().ok().and_then(|id| members.iter().find(|m| m.id == id));
                if m.is_none() {
                    e.add("member_id", "请选择要减少的成员");
                }
                m.zip(reason).map(|(m, reason)| ChangePayload::RemoveMember {
                    member_id: m.id,
                    member_name: m.name.clone(),
                    reason,
                })
            }
            ChangeKind::Split => {
                let ids: Vec<i64> = self.member_ids.iter().filter_map(|v| v.trim().parse().ok()).collect();
                if ids.is_empty() {
                    e.add("member_ids", "请选择分出去的成员");
                }
                Some(ChangePayload::Split { member_ids: ids })
            }
            ChangeKind::PreExit | ChangeKind::Exit => {
                let year = e.take("year", self.year.trim().parse::<i32>().map_err(|_| "请填写年度，如 2017"));
                year.map(|year| {
                    if kind == ChangeKind::Exit {
                        ChangePayload::Exit { year }
                    } else {
                        ChangePayload::PreExit { year }
                    }
                })
            }
            ChangeKind::Return => Some(ChangePayload::Return),
            ChangeKind::Removal => Some(ChangePayload::Removal),
        };
        e.into_result(|| payload.zip(effective_on))
    }
}

fn change_fields(
    kind: ChangeKind,
    input: &ChangeInput,
    members: &[ducha_storage::registry::member::Model],
    default_year: i32,
) -> Vec<Field> {
    let mut fields = Vec::new();
    let reasons = |adds: bool| {
        MemberChangeReason::ALL
            .iter()
            .filter(|r| if adds { r.adds() } else { r.removes() })
            .map(|r| (r.code().to_string(), r.label().to_string()))
            .collect::<Vec<_>>()
    };
    let member_options =
        || members.iter().map(|m| (m.id.to_string(), format!("{} {}", m.seq, m.name))).collect::<Vec<_>>();
    match kind {
        ChangeKind::AddMember => {
            fields.push(Field::select("member_reason", "增加原因", &input.member_reason, reasons(true)).required());
            fields.extend(member_fields(&input.member.clone().unwrap_or_default()));
        }
        ChangeKind::RemoveMember => {
            let mut opts = member_options();
            opts.insert(0, (String::new(), "请选择".into()));
            fields.push(Field::select("member_id", "减少的成员", &input.member_id, opts).required());
            fields.push(Field::select("member_reason", "减少原因", &input.member_reason, reasons(false)).required());
        }
        ChangeKind::Split => {
            let mut f = Field::select("member_ids", "分出去的成员", "", member_options()).required();
            f.input = "checkboxes";
            f.value = input.member_ids.join(",");
            f.wide = true;
            fields.push(f);
        }
        ChangeKind::PreExit | ChangeKind::Exit => {
            let year = if input.year.is_empty() { default_year.to_string() } else { input.year.clone() };
            fields.push(Field::text("year", "按哪一年的收入判断", &year).required());
        }
        _ => {}
    }
    let effective = if input.effective_on.is_empty() { today().to_string() } else { input.effective_on.clone() };
    fields.push(Field::date("effective_on", "生效日期", &effective).required());
    let mut reason = Field::text("reason", "原因说明", &input.reason).required();
    reason.input = "textarea";
    reason.wide = true;
    fields.push(reason);
    fields.push(files_field());
    fields
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KindQuery {
    kind: String,
}

pub(crate) fn parse_kind(text: &str) -> Result<ChangeKind, WebError> {
    ChangeKind::parse(text).map_err(|e| WebError::BadRequest(e.to_string()))
}

/// The year whose income an exit is judged on by default: the household's latest.
fn latest_year(rec: &registry::HouseholdRecord) -> i32 {
    rec.finances.iter().map(|f| f.year).max().unwrap_or_else(|| chrono::Datelike::year(&today()))
}

async fn household_for_change(
    st: &AppState,
    me: &CurrentUser,
    id: &str,
) -> Result<(registry::HouseholdRecord, Vec<ducha_storage::registry::member::Model>), WebError> {
    let id = parse_id(id)?;
    let rec = me.scoped(st).registry().household(id).await?.ok_or(WebError::NotFound)?;
    super::require_editor(me)?;
    let members = rec.members.iter().filter(|m| m.left_on.is_none()).cloned().collect();
    Ok((rec, members))
}

fn change_page(rec: &registry::HouseholdRecord, kind: ChangeKind, fields: Vec<Field>) -> FormPage {
    let id = rec.household.id;
    FormPage {
        multipart: false,
        title: format!("申请{}：{}", kind, rec.household.number),
        action: format!("/households/{id}/changes/new"),
        back: format!("/households/{id}"),
        hidden: vec![("kind", kind.code().to_string())],
        fields,
    }
}

async fn change_form_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<KindQuery>,
) -> Result<Response, WebError> {
    let (rec, members) = household_for_change(&st, &me, &id).await?;
    let kind = parse_kind(&q.kind)?;
    let input = ChangeInput {
        member: Some(MemberForm { medical_insurance: "是".into(), ..Default::default() }),
        ..Default::default()
    };
    let fields = change_fields(kind, &input, &members, latest_year(&rec));
    change_page(&rec, kind, fields).render(&st, &me, None).await
}

async fn submit_change(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    form: CsrfMultipart,
) -> Result<Response, WebError> {
    let (rec, members) = household_for_change(&st, &me, &id).await?;
    let input = ChangeInput::from_pairs(&form.fields);
    let kind = parse_kind(&input.kind)?;
    let result = match input.payload(kind, &members) {
        Ok((payload, on)) => me
            .scoped(&st)
            .registry()
            .changes()
            .submit(Some(rec.household.id), &payload, &input.reason, on, &form.files)
            .await
            .map(|id| format!("/changes/{id}?submitted=1"))
            .map_err(WebError::from),
        Err(e) => Err(WebError::Invalid(e)),
    };
    let fields = change_fields(kind, &input, &members, latest_year(&rec));
    change_page(&rec, kind, fields).after_save(&st, &me, result).await
}

fn identification_page(
    st_tree: &ducha_domain::RegionTree,
    me: &CurrentUser,
    h: &HouseholdForm,
    head: &MemberForm,
    reason: &str,
) -> FormPage {
    let mut fields = household_fields(h, village_options(st_tree, &me.actor.scope));
    fields.retain(|f| f.name != "number");
    // The head's phone is the household's.
    fields.extend(member_fields(head).into_iter().filter(|f| f.name != "phone"));
    let mut r = Field::text("reason", "原因说明", reason).required();
    r.input = "textarea";
    r.wide = true;
    fields.push(r);
    fields.push(files_field());
    FormPage {
        multipart: false,
        title: "申请新识别贫困户".into(),
        action: "/changes/new".into(),
        back: "/changes".into(),
        hidden: vec![],
        fields,
    }
}

async fn new_identification_page(State(st): State<AppState>, me: CurrentUser) -> Result<Response, WebError> {
    super::require_editor(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let h = HouseholdForm { identified_on: today().to_string(), food_clothing: "是".into(), ..Default::default() };
    let head = MemberForm { relation: "户主".into(), medical_insurance: "是".into(), ..Default::default() };
    identification_page(&tree, &me, &h, &head, "").render(&st, &me, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IdentificationForm {
    #[serde(flatten)]
    household: HouseholdForm,
    name: String,
    id_number: String,
    relation: String,
    sex: String,
    birth_date: String,
    education: String,
    school_stage: String,
    out_of_school_reason: String,
    health: String,
    labour_ability: String,
    medical_insurance: String,
    reason: String,
}

impl IdentificationForm {
    fn head(&self) -> MemberForm {
        MemberForm {
            name: self.name.clone(),
            id_number: self.id_number.clone(),
            relation: self.relation.clone(),
            sex: self.sex.clone(),
            birth_date: self.birth_date.clone(),
            education: self.education.clone(),
            school_stage: self.school_stage.clone(),
            out_of_school_reason: self.out_of_school_reason.clone(),
            health: self.health.clone(),
            labour_ability: self.labour_ability.clone(),
            medical_insurance: self.medical_insurance.clone(),
            phone: self.household.phone.clone(),
        }
    }
}

/// Check a new identification (household and head together); every wrong field at once.
pub(crate) fn identification_payload(
    tree: &ducha_domain::RegionTree,
    h: &HouseholdForm,
    head: &MemberForm,
    reason: &str,
) -> Result<ChangePayload, FieldErrors> {
    let mut e = FieldErrors::default();
    let household = h.validate(tree, today()).map_err(|fe| e.0.extend(fe.0)).ok();
    let head = head.validate(today()).map_err(|fe| e.0.extend(fe.0)).ok();
    if reason.trim().is_empty() {
        e.add("reason", "请写明原因");
    }
    e.into_result(|| household.zip(head).map(|(household, head)| ChangePayload::NewIdentification { household, head }))
}

async fn submit_new_identification(
    State(st): State<AppState>,
    me: CurrentUser,
    upload: CsrfMultipart,
) -> Result<Response, WebError> {
    let form: IdentificationForm = upload.form()?;
    super::require_editor(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let head = form.head();
    let result = match identification_payload(&tree, &form.household, &head, &form.reason) {
        Ok(payload) => me
            .scoped(&st)
            .registry()
            .changes()
            .submit(None, &payload, &form.reason, today(), &upload.files)
            .await
            .map(|id| format!("/changes/{id}?submitted=1"))
            .map_err(WebError::from),
        Err(e) => Err(WebError::Invalid(e)),
    };
    identification_page(&tree, &me, &form.household, &head, &form.reason).after_save(&st, &me, result).await
}

/// A request as a page or the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangeView {
    pub id: i64,
    pub household_id: Option<i64>,
    pub household_number: String,
    pub kind: String,
    pub kind_label: &'static str,
    pub summary: String,
    pub reason: String,
    pub effective_on: String,
    pub status: String,
    pub status_label: &'static str,
    pub submitted_by: String,
    pub submitted_at: String,
    pub decided_by: String,
    pub decided_at: String,
    pub decision_comment: String,
    pub result_household_id: Option<i64>,
}

fn summary(p: &ChangePayload) -> String {
    match p {
        ChangePayload::NewIdentification { household, head } => {
            format!("户主 {}，{}", head.name, household.household_type)
        }
        ChangePayload::AddMember { member, reason } => format!("{}：{}（{}）", reason, member.name, member.relation),
        ChangePayload::RemoveMember { member_name, reason, .. } => format!("{reason}：{member_name}"),
        ChangePayload::Split { member_ids } => format!("分出 {} 人", member_ids.len()),
        ChangePayload::PreExit { year } | ChangePayload::Exit { year } => format!("按 {year} 年收入"),
        ChangePayload::Return | ChangePayload::Removal => String::new(),
    }
}

impl From<&ChangeRecord> for ChangeView {
    fn from(r: &ChangeRecord) -> Self {
        ChangeView {
            id: r.id,
            household_id: r.household_id,
            household_number: r.household_number.clone().unwrap_or_default(),
            kind: r.kind.code().into(),
            kind_label: r.kind.label(),
            summary: summary(&r.payload),
            reason: r.reason.clone(),
            effective_on: r.effective_on.to_string(),
            status: r.status.code().into(),
            status_label: r.status.label(),
            submitted_by: r.submitted_by.clone(),
            submitted_at: china_time(&r.submitted_at),
            decided_by: r.decided_by.clone().unwrap_or_default(),
            decided_at: r.decided_at.as_ref().map(china_time).unwrap_or_default(),
            decision_comment: r.decision_comment.clone().unwrap_or_default(),
            result_household_id: r.result_household_id,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
}

fn status_filter(text: &str) -> Result<Option<ChangeStatus>, WebError> {
    match text.trim() {
        "" => Ok(None),
        "all" => Ok(None),
        t => ChangeStatus::parse(t).map(Some).map_err(|e| WebError::BadRequest(e.to_string())),
    }
}

#[derive(Template)]
#[template(path = "registry/changes.html")]
struct ListPage {
    ctx: PageCtx,
    status: String,
    rows: Vec<ChangeView>,
    can_submit: bool,
}

async fn list_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    // Pending first: what waits for someone.
    let status = if q.status.is_empty() { "submitted".to_string() } else { q.status.clone() };
    let rows = me.scoped(&st).registry().changes().list(status_filter(&status)?, None, 200).await?;
    let html = ListPage {
        ctx: PageCtx::new(&st, &me).await?,
        status,
        rows: rows.iter().map(ChangeView::from).collect(),
        can_submit: me.user.role.edits_registry(),
    }
    .render()?;
    Ok(Html(html))
}

#[derive(Template)]
#[template(path = "registry/change.html")]
struct DetailPage {
    ctx: PageCtx,
    c: ChangeView,
    files: Vec<crate::help::EvidenceView>,
    notice: Option<String>,
    error: Option<String>,
    can_decide: bool,
    /// The decision's comment as typed, and its error, when a decision was refused.
    comment: String,
    comment_error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DetailQuery {
    submitted: String,
    decided: String,
}

async fn detail(st: &AppState, me: &CurrentUser, id: &str) -> Result<ChangeRecord, WebError> {
    let id = parse_id(id)?;
    me.scoped(st).registry().changes().get(id).await?.ok_or(WebError::NotFound)
}

async fn evidence_of(st: &AppState, me: &CurrentUser, id: i64) -> Result<Vec<crate::help::EvidenceView>, WebError> {
    Ok(me
        .scoped(st)
        .evidence()
        .for_owner("change_request", id)
        .await?
        .iter()
        .map(crate::help::EvidenceView::from)
        .collect())
}

fn can_decide(me: &CurrentUser, r: &ChangeRecord) -> bool {
    changes::decides(me.user.role) && r.status == ChangeStatus::Submitted && r.submitted_by != me.user.username
}

async fn detail_page(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Result<Html<String>, WebError> {
    let r = detail(&st, &me, &id).await?;
    let notice = match (q.submitted.as_str(), q.decided.as_str()) {
        ("", "") => None,
        (_, "") => Some("申请已提交，等待市(区)扶贫办审核".to_string()),
        _ => Some(format!("已{}", r.status)),
    };
    let html = DetailPage {
        ctx: PageCtx::new(&st, &me).await?,
        can_decide: can_decide(&me, &r),
        c: ChangeView::from(&r),
        files: evidence_of(&st, &me, r.id).await?,
        notice,
        error: None,
        comment: String::new(),
        comment_error: None,
    }
    .render()?;
    Ok(Html(html))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Decision {
    comment: String,
}

async fn decide_page(
    st: AppState,
    me: CurrentUser,
    id: String,
    approve: bool,
    comment: String,
) -> Result<Response, WebError> {
    let r = detail(&st, &me, &id).await?;
    match me.scoped(&st).registry().changes().decide(r.id, approve, &comment).await {
        Ok(_) => Ok(Redirect::to(&format!("/changes/{}?decided=1", r.id)).into_response()),
        // A refusal (standard no longer met, comment missing, already decided) shows on the page.
        Err(
            e @ (ducha_storage::StorageError::Invalid(_)
            | ducha_storage::StorageError::Conflict(_)
            | ducha_storage::StorageError::Forbidden(_)),
        ) => {
            // The comment's own error beside it; anything else (the standard no longer met,
            // already decided) at the top, by its message.
            let (error, comment_error) = match e {
                ducha_storage::StorageError::Invalid(f) => {
                    let beside = f.get("comment").map(str::to_string);
                    let rest = ducha_domain::validation::FieldErrors(
                        f.0.into_iter().filter(|x| x.field != "comment").collect(),
                    );
                    (
                        Some(if rest.is_empty() {
                            "本次未保存，请按提示修改".to_string()
                        } else {
                            rest.messages()
                        }),
                        beside,
                    )
                }
                other => (Some(WebError::from(other).to_string()), None),
            };
            let html = DetailPage {
                ctx: PageCtx::new(&st, &me).await?,
                can_decide: can_decide(&me, &r),
                c: ChangeView::from(&r),
                files: evidence_of(&st, &me, r.id).await?,
                notice: None,
                error,
                comment,
                comment_error,
            }
            .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn approve(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(d): CsrfForm<Decision>,
) -> Result<Response, WebError> {
    decide_page(st, me, id, true, d.comment).await
}

async fn reject(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    CsrfForm(d): CsrfForm<Decision>,
) -> Result<Response, WebError> {
    decide_page(st, me, id, false, d.comment).await
}

/// Requests in the caller's scope, newest first (`status`: submitted, approved, rejected or all).
#[utoipa::path(get, path = "/api/v1/changes", tag = "registry", params(("status" = Option<String>, Query)),
    responses((status = 200, body = Vec<ChangeView>)))]
pub(crate) async fn api_list(
    State(st): State<AppState>,
    me: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<ChangeView>>, WebError> {
    let rows = me.scoped(&st).registry().changes().list(status_filter(&q.status)?, None, 500).await?;
    Ok(Json(rows.iter().map(ChangeView::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/changes/{id}", tag = "registry", params(("id" = i64, Path)),
    responses((status = 200, body = ChangeView), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn api_detail(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ChangeView>, WebError> {
    Ok(Json(ChangeView::from(&detail(&st, &me, &id).await?)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Submitted {
    id: i64,
}

/// Ask for a change to a household: `kind` (add_member, remove_member, split, pre_exit, exit,
/// return, removal), `reason`, `effective_on`, and per kind `member` / `member_id` /
/// `member_ids` / `member_reason` / `year`. An exit below the standard is refused (422) with
/// the shortfall.
#[utoipa::path(post, path = "/api/v1/households/{id}/changes", tag = "registry", params(("id" = i64, Path)), request_body = Object,
    responses((status = 201, body = Submitted), (status = 422, description = "字段有误或不符合条件"), (status = 404, description = "不存在或不在辖区内")))]
pub(crate) async fn api_submit(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ChangeInput>,
) -> Result<impl IntoResponse, WebError> {
    let (rec, members) = household_for_change(&st, &me, &id).await?;
    let kind = parse_kind(&input.kind)?;
    let (payload, on) = input.payload(kind, &members).map_err(WebError::Invalid)?;
    let id =
        me.scoped(&st).registry().changes().submit(Some(rec.household.id), &payload, &input.reason, on, &[]).await?;
    Ok((StatusCode::CREATED, Json(Submitted { id })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct IdentificationInput {
    pub(crate) household: HouseholdForm,
    pub(crate) head: MemberForm,
    pub(crate) reason: String,
}

/// Ask for a new identification: `household` and its `head`, with a `reason`.
#[utoipa::path(post, path = "/api/v1/changes", tag = "registry", request_body = Object,
    responses((status = 201, body = Submitted), (status = 422, description = "字段有误")))]
pub(crate) async fn api_new_identification(
    State(st): State<AppState>,
    me: CurrentUser,
    ApiJson(input): ApiJson<IdentificationInput>,
) -> Result<impl IntoResponse, WebError> {
    super::require_editor(&me)?;
    let tree = me.scoped(&st).regions().tree().await?;
    let payload =
        identification_payload(&tree, &input.household, &input.head, &input.reason).map_err(WebError::Invalid)?;
    let id = me.scoped(&st).registry().changes().submit(None, &payload, &input.reason, today(), &[]).await?;
    Ok((StatusCode::CREATED, Json(Submitted { id })))
}

/// Approve: the change is applied at once, with its history.
#[utoipa::path(post, path = "/api/v1/changes/{id}/approve", tag = "registry", params(("id" = i64, Path)), request_body = Object,
    responses((status = 200, body = ChangeView), (status = 403, description = "不能审核"), (status = 409, description = "已审核"), (status = 422, description = "已不符合条件")))]
pub(crate) async fn api_approve(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(d): ApiJson<Decision>,
) -> Result<Json<ChangeView>, WebError> {
    let r = detail(&st, &me, &id).await?;
    Ok(Json(ChangeView::from(&me.scoped(&st).registry().changes().decide(r.id, true, &d.comment).await?)))
}

/// Reject with a `comment` (required).
#[utoipa::path(post, path = "/api/v1/changes/{id}/reject", tag = "registry", params(("id" = i64, Path)), request_body = Object,
    responses((status = 200, body = ChangeView), (status = 422, description = "缺少理由")))]
pub(crate) async fn api_reject(
    State(st): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    ApiJson(d): ApiJson<Decision>,
) -> Result<Json<ChangeView>, WebError> {
    let r = detail(&st, &me, &id).await?;
    Ok(Json(ChangeView::from(&me.scoped(&st).registry().changes().decide(r.id, false, &d.comment).await?)))
}

/// The requests shown on a household's page, and the kinds that can be asked now.
pub fn views(
    me: &CurrentUser,
    rows: &[ChangeRecord],
    status: &str,
) -> (Vec<ChangeView>, Vec<(&'static str, &'static str)>) {
    let kinds = match (me.user.role.edits_registry(), HouseholdStatus::parse(status)) {
        (true, Ok(s)) => ChangeKind::available_for(s).into_iter().map(|k| (k.code(), k.label())).collect(),
        _ => vec![],
    };
    (rows.iter().map(ChangeView::from).collect(), kinds)
}
