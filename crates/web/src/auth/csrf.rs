//! Protection against cross-site requests: a token bound to the session, carried by every form
//! (`_csrf`) and by API calls made with the session cookie (`X-CSRF-Token`), and a check of the
//! browser's Origin / Sec-Fetch-Site headers on every request that changes something.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use crate::WebError;

pub const SESSION_KEY: &str = "csrf";

pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn host_of_origin(origin: &str) -> Option<&str> {
    origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/'))
}

/// Refuse state-changing requests that a browser says come from another site.
pub async fn check_origin(req: Request, next: Next) -> Response {
    if !is_safe(req.method()) && cross_site(req.headers()) {
        return WebError::Forbidden("来源不明的请求已被拒绝，请从本系统的页面提交".into()).into_response();
    }
    next.run(req).await
}

fn cross_site(h: &HeaderMap) -> bool {
    if h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return true;
    }
    match (h.get(header::ORIGIN).and_then(|v| v.to_str().ok()), h.get(header::HOST).and_then(|v| v.to_str().ok())) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => host_of_origin(origin) != Some(host),
        _ => false,
    }
}

/// Equal in constant time for equal lengths (a token comparison must not leak by timing).
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A form body whose `_csrf` field matched the session's token, deserialised into `T`.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for CsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let form_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form_type {
            return Err(WebError::BadRequest("请通过页面上的表单提交".into()));
        }
        let session = Session::from_request_parts(&mut parts, state)
            .await
            .map_err(|_| WebError::Forbidden("页面已过期，请刷新后重试".into()))?;
        let expected: Option<String> = session.get(SESSION_KEY).await.ok().flatten();
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                WebError::TooLarge
            } else {
                WebError::BadRequest("请求内容无法读取".into())
            }
        })?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| WebError::BadRequest("表单格式不正确".into()))?;
        let got = pairs.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str());
        match (expected.as_deref(), got) {
            (Some(e), Some(g)) if same_token(e, g) => {}
            _ => return Err(WebError::Forbidden("页面已过期或来源不明，请刷新页面后重试".into())),
        }
        let value =
            serde_urlencoded::from_bytes(&bytes).map_err(|e| WebError::BadRequest(format!("表单格式不正确：{e}")))?;
        Ok(CsrfForm(value))
    }
}
