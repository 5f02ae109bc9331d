//! The JSON API's shared parts: the request body extractor (Chinese messages for every way a body
//! can be wrong), `/api/v1/me`, and the OpenAPI document at `/api/v1/openapi.json`.

mod openapi;

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{CurrentUser, Routes, WebError};

pub fn routes(r: Routes) -> Routes {
    r.get("/api/v1/me", me).get("/api/v1/openapi.json", openapi::document)
}

/// A JSON object body deserialised into `T`. Form types hold text, so booleans and numbers are
/// accepted and turned into their text ("是"/"否" for booleans).
pub struct ApiJson<T>(pub T);

fn as_text(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Bool(b) => Value::String(if b { "是" } else { "否" }.into()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::Null => Value::String(String::new()),
        Value::Array(items) => Value::Array(items.into_iter().map(as_text).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, as_text(v))).collect()),
        other => other,
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json {
            return Err(WebError::BadRequest("请求内容应为 JSON（Content-Type: application/json）".into()));
        }
        let _ = state;
        let bytes = crate::auth::csrf::read_limited(req.into_body()).await?;
        decode(&bytes).map(ApiJson)
    }
}

/// A request body (already read within its limit) as `T`, the way [`ApiJson`] takes it; apart
/// so that the fuzz harness runs the very same code over every body type.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WebError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| WebError::BadRequest(format!("JSON 格式不正确（第 {} 行第 {} 列）", e.line(), e.column())))?;
    let serde_json::Value::Object(map) = value else {
        return Err(WebError::BadRequest("请求内容应为 JSON 对象".into()));
    };
    let map = map.into_iter().map(|(k, v)| (k, as_text(v))).collect();
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| WebError::BadRequest(format!("请求内容的字段不正确：{e}")))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    username: String,
    display_name: String,
    role: &'static str,
    role_label: &'static str,
    region_code: Option<String>,
    sees_personal_data: bool,
    edits_registry: bool,
}

/// Who the caller is.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Me), (status = 401, description = "未登录")))]
pub(crate) async fn me(me: CurrentUser) -> Json<Me> {
    use ducha_domain::labelled::Labelled;
    Json(Me {
        username: me.user.username,
        display_name: me.user.display_name,
        role: me.user.role.code(),
        role_label: me.user.role.label(),
        region_code: me.user.region_code,
        sees_personal_data: me.user.role.sees_personal_data(),
        edits_registry: me.user.role.edits_registry(),
    })
}
