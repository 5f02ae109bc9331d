//! One error type for handlers: each variant has its status and a Chinese message; the cause of
//! a server error is logged, not shown. Pages get the message as an HTML page, the API as JSON,
//! and responses made outside ducha's handlers (an oversized body, a wrong method) are given a
//! Chinese message too.

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use ducha_domain::validation::FieldErrors;
use ducha_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 404 for what does not exist and for what lies outside the user's scope alike.
    #[error("没有找到您要的内容，或您无权查看")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("请先登录")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{}", .0.messages())]
    Invalid(FieldErrors),
    /// The limit in MB, and advice for the user (may be empty).
    #[error("请求内容过大（上限 {0} MB）{1}")]
    TooLarge(usize, &'static str),
    /// 503: the server cannot take this now (it is stopping, say).
    #[error("{0}")]
    Unavailable(&'static str),
    #[error("服务器内部错误，请稍后再试或联系管理员")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StorageError> for WebError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Rejected(msg) => WebError::BadRequest(msg),
            StorageError::NotFound => WebError::NotFound,
            StorageError::Forbidden(msg) => WebError::Forbidden(msg),
            StorageError::Invalid(f) => WebError::Invalid(f),
            StorageError::Conflict(msg) => WebError::Conflict(msg),
            other => WebError::Internal(Box::new(other)),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(Box::new(e))
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooLarge(..) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Marks a response body as already carrying ducha's own message.
#[derive(Clone)]
struct OwnMessage(String);

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed");
        }
        let mut body = serde_json::json!({ "error": self.to_string() });
        if let Self::Invalid(fields) = &self {
            body["fields"] = serde_json::to_value(fields).unwrap_or_default();
        }
        let mut resp = (self.status(), [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response();
        resp.extensions_mut().insert(OwnMessage(self.to_string()));
        resp
    }
}

pub async fn not_found(_uri: Uri) -> WebError {
    WebError::NotFound
}

fn generic_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "请求格式不正确",
        401 => "请先登录",
        403 => "无权进行此操作",
        404 => "没有找到您要的内容，或您无权查看",
        405 => "不支持此操作方式",
        408 => "请求超时，请重试",
        413 => "请求内容过大",
        415 => "请求内容的类型不正确",
        422 => "提交的内容有误",
        429 => "操作过于频繁，请稍后再试",
        _ if status.is_server_error() => "服务器内部错误，请稍后再试或联系管理员",
        _ => "请求未能完成",
    }
}

/// The page a refused request came from (its Referer), if it is one of ducha's own: the error
/// page's way back to the form, instead of only the home page.
fn back_link(req: &Request) -> Option<String> {
    let referer = req.headers().get(header::REFERER)?.to_str().ok()?;
    let host = req.headers().get(header::HOST)?.to_str().ok()?;
    let rest = referer.strip_prefix("http://").or_else(|| referer.strip_prefix("https://"))?;
    let path = rest.strip_prefix(host)?;
    (path.starts_with('/') && !path.starts_with("//") && path.len() < 500).then(|| path.to_string())
}

/// Give every error response a Chinese message: as JSON under `/api/`, as a page elsewhere.
pub async fn chinese_errors(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let id = crate::observe::request_id(&req).to_string();
    let back = back_link(&req);
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let own = resp.extensions().get::<OwnMessage>().cloned();
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        // A page the handler rendered itself (a form with its errors, the login page).
        return resp;
    }
    if api {
        if own.is_some() {
            return resp;
        }
        let body = serde_json::json!({ "error": generic_message(status) });
        return (status, Json(body)).into_response();
    }
    let message = own.map_or_else(|| generic_message(status).to_string(), |m| m.0);
    let mut out = (status, Html(crate::pages::error_page(status, &message, &id, back.as_deref()))).into_response();
    if let Some(loc) = resp.headers().get(header::LOCATION) {
        out.headers_mut().insert(header::LOCATION, loc.clone());
    }
    out
}
