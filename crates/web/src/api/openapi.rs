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
    modifiers(&Security),
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
