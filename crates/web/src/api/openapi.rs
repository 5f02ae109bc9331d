//! The OpenAPI document of `/api/v1`, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ducha 督查 API",
        version = "1",
        description = "精准扶贫建档立卡与督查平台的接口。认证：浏览器会话（写操作需带 X-CSRF-Token 头）或 Bearer 令牌（ducha user token 生成）。\
                       所有数据按用户的辖区过滤：辖区外的记录一律 404。列表中的身份证号、电话、银行账号均已遮盖。"
    ),
    paths(
        crate::api::me,
        document,
        crate::regions::list,
        crate::regions::one,
        crate::regions::resolve,
        crate::registry::api::list,
        crate::registry::api::create,
        crate::registry::api::detail,
        crate::registry::api::update,
        crate::registry::api::audit_trail,
        crate::registry::api::add_member,
        crate::registry::api::update_member,
        crate::registry::api::personal,
        crate::registry::changes::api_list,
        crate::registry::changes::api_detail,
        crate::registry::changes::api_submit,
        crate::registry::changes::api_new_identification,
        crate::registry::changes::api_approve,
        crate::registry::changes::api_reject,
        crate::help::api_help,
        crate::help::api_plan,
        crate::help::api_measure,
        crate::help::api_log,
        crate::help::api_cadres,
        crate::help::api_create_cadre,
        crate::help::api_download,
        crate::checks::api_rules,
        crate::checks::api_params,
        crate::checks::api_set_param,
        crate::checks::api_summary,
        crate::checks::api_findings,
        crate::checks::api_run,
        crate::checks::api_exempt,
        crate::platform::api_postings,
        crate::platform::api_create_posting,
        crate::platform::api_posting,
        crate::platform::api_check_in,
        crate::platform::api_attendance,
        crate::platform::api_institutions,
        crate::platform::api_create_institution,
        crate::platform::api_update_institution,
        crate::funds::api_progress,
        crate::funds::api_projects,
        crate::funds::api_project,
        crate::funds::forms::api_create_project,
        crate::funds::forms::api_advance,
        crate::funds::forms::api_notice,
        crate::funds::forms::api_allocate,
        crate::funds::forms::api_transfer,
        crate::registry::finance::api_save_finance,
        crate::campaigns::api_list,
        crate::campaigns::api_show,
        crate::campaigns::visit::api_submit,
    ),
    modifiers(&Security, &Bodies),
    tags((name = "accounts", description = "账号"), (name = "regions", description = "行政区划"), (name = "registry", description = "建档立卡"), (name = "help", description = "帮扶记录"), (name = "checks", description = "数据质量核查"), (name = "platform", description = "镇(街)扶贫工作平台：派驻干部、驻点考勤、定点医疗机构"), (name = "funds", description = "扶贫资金与项目"), (name = "campaigns", description = "督查"))
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}

/// The document itself.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "accounts", responses((status = 200, description = "OpenAPI 3 文档")))]
pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The fields of a JSON body type, as serde reads them: a deserializer that records the field
/// list `#[derive(Deserialize)]` hands over, and stops there.
fn fields_of<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Capture<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for Capture<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields taken"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Capture(&mut fields));
    fields
}

/// A body's schema: an object of its fields. Form fields hold text, and numbers and booleans are
/// taken too (ApiJson turns them into text); the few lists and nested objects are named.
fn body_schema(fields: &[&str]) -> serde_json::Value {
    use serde_json::json;
    let scalar = json!({"type": ["string", "number", "boolean", "null"]});
    let properties: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|f| {
            let schema = match *f {
                "categories" => json!({"type": "array", "items": {"type": "string"}}),
                "member_ids" => json!({"type": "array", "items": {"type": ["string", "integer"]}}),
                "member" | "head" => body_schema(fields_of::<ducha_domain::registry::MemberForm>()),
                "household" => body_schema(fields_of::<ducha_domain::registry::HouseholdForm>()),
                "households" => {
                    json!({"type": "array", "items": body_schema(fields_of::<crate::funds::forms::ServedIn>())})
                }
                "observations" => json!({"type": "array", "items": {"type": "object", "properties": {
                    "key": {"type": "string"}, "matches": {"type": "boolean"}, "observed": {"type": "string"}}}}),
                "answers" => json!({"type": "array", "items": {"type": "object", "properties": {
                    "question_id": {"type": "integer"}, "values": {"type": "array", "items": {"type": "string"}}}}}),
                "household_id" => json!({"type": "integer"}),
                _ => scalar.clone(),
            };
            (f.to_string(), schema)
        })
        .collect();
    json!({"type": "object", "properties": properties})
}

/// The JSON body of every API write, by route: its fields, so that the document says what to send
/// (and an OpenAPI-driven client or fuzzer sends those fields).
fn json_bodies() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    use crate::{checks, funds::forms, platform, registry};
    use ducha_domain::{help, platform as p, registry as r};
    let with = |base: &[&'static str], more: &[&'static str]| [base, more].concat();
    vec![
        ("post", "/api/v1/households", fields_of::<r::HouseholdForm>().to_vec()),
        ("put", "/api/v1/households/{id}", with(fields_of::<r::HouseholdForm>(), &["version"])),
        ("post", "/api/v1/households/{id}/members", fields_of::<r::MemberForm>().to_vec()),
        ("put", "/api/v1/members/{id}", fields_of::<r::MemberForm>().to_vec()),
        ("post", "/api/v1/households/{id}/finances", fields_of::<r::FinanceForm>().to_vec()),
        ("post", "/api/v1/households/{id}/changes", fields_of::<registry::changes::ChangeInput>().to_vec()),
        ("post", "/api/v1/changes", fields_of::<registry::changes::IdentificationInput>().to_vec()),
        ("post", "/api/v1/changes/{id}/approve", fields_of::<registry::changes::Decision>().to_vec()),
        ("post", "/api/v1/changes/{id}/reject", fields_of::<registry::changes::Decision>().to_vec()),
        ("post", "/api/v1/households/{id}/plans", fields_of::<help::PlanForm>().to_vec()),
        ("post", "/api/v1/households/{id}/measures", fields_of::<help::MeasureForm>().to_vec()),
        ("post", "/api/v1/households/{id}/logs", fields_of::<help::LogForm>().to_vec()),
        ("post", "/api/v1/cadres", fields_of::<help::CadreForm>().to_vec()),
        ("put", "/api/v1/checks/params/{key}", fields_of::<checks::ParamValue>().to_vec()),
        ("post", "/api/v1/checks/run", fields_of::<checks::RunForm>().to_vec()),
        ("post", "/api/v1/checks/findings/{id}/exempt", vec!["reason"]),
        ("post", "/api/v1/postings", fields_of::<p::PostingForm>().to_vec()),
        ("post", "/api/v1/postings/{id}/check-ins", fields_of::<platform::CheckInForm>().to_vec()),
        ("post", "/api/v1/institutions", fields_of::<p::InstitutionForm>().to_vec()),
        ("put", "/api/v1/institutions/{id}", fields_of::<p::InstitutionForm>().to_vec()),
        ("post", "/api/v1/projects", with(fields_of::<ducha_domain::funds::ProjectForm>(), &["households"])),
        ("post", "/api/v1/projects/{id}/advance", fields_of::<forms::AdvanceForm>().to_vec()),
        ("post", "/api/v1/projects/{id}/notices", fields_of::<forms::NoticeForm>().to_vec()),
        ("post", "/api/v1/allocations", fields_of::<forms::AllocationForm>().to_vec()),
        ("post", "/api/v1/allocations/{id}/transfers", fields_of::<forms::TransferForm>().to_vec()),
        ("post", "/api/v1/campaigns/{id}/visits", fields_of::<crate::campaigns::visit::VisitJson>().to_vec()),
    ]
}

struct Bodies;

impl Modify for Bodies {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, RefOr, Schema};
        for (method, path, fields) in json_bodies() {
            let Some(item) = doc.paths.paths.get_mut(path) else { continue };
            let op = match method {
                "post" => item.post.as_mut(),
                "put" => item.put.as_mut(),
                _ => None,
            };
            let (Some(op), Ok(schema)) = (op, serde_json::from_value::<RefOr<Schema>>(body_schema(&fields))) else {
                continue;
            };
            let body = op.request_body.get_or_insert_with(|| RefOr::T(Default::default()));
            if let RefOr::T(body) = body {
                body.content.insert("application/json".into(), RefOr::T(Content::new(Some(schema))));
            }
        }
    }
}
