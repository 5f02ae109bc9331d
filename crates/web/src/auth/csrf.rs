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

/// The body, refused (413) beyond [`crate::BODY_LIMIT`]; uploads have their own, larger limit.
pub async fn read_limited(body: axum::body::Body) -> Result<Bytes, WebError> {
    let too_large = || WebError::TooLarge(crate::BODY_LIMIT >> 20, "");
    let bytes = axum::body::to_bytes(body, crate::DRAIN_LIMIT).await.map_err(|e| {
        let over = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if over { too_large() } else { WebError::BadRequest("请求内容无法读取".into()) }
    })?;
    if bytes.len() > crate::BODY_LIMIT { Err(too_large()) } else { Ok(bytes) }
}

fn upload_too_large() -> WebError {
    WebError::TooLarge(
        crate::UPLOAD_LIMIT >> 20,
        "；照片请压缩后上传，更大的导入文件请拆分，或由管理员用命令行 ducha import households 导入",
    )
}

/// Parts (files and fields) one multipart form may have: a ledger with as many vouchers as a
/// bundle may hold, and its fields.
pub const MAX_PARTS: usize = ducha_reports::bundle::MAX_FILES + 100;

/// A multipart form (with files) whose `_csrf` field matched the session's token.
pub struct CsrfMultipart {
    pub fields: Vec<(String, String)>,
    pub files: Vec<ducha_storage::evidence::Upload>,
}

impl CsrfMultipart {
    pub fn get(&self, name: &str) -> String {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }

    /// The text fields as a form type, as if they had come urlencoded.
    pub fn form<T: DeserializeOwned>(&self) -> Result<T, WebError> {
        let encoded = serde_urlencoded::to_string(&self.fields)
            .map_err(|e| WebError::BadRequest(format!("表单格式不正确：{e}")))?;
        serde_urlencoded::from_str(&encoded).map_err(|e| WebError::BadRequest(format!("表单格式不正确：{e}")))
    }
}

impl<S: Send + Sync> FromRequest<S> for CsrfMultipart {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state)
            .await
            .map_err(|_| WebError::Forbidden("页面已过期，请刷新后重试".into()))?;
        let expected: Option<String> = session.get(SESSION_KEY).await.ok().flatten();
        let mut mp = axum::extract::Multipart::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| WebError::BadRequest("请通过页面上的表单提交（含附件）".into()))?;
        let mut out = CsrfMultipart { fields: vec![], files: vec![] };
        let mut total = 0usize;
        let mut parts = 0usize;
        loop {
            parts += 1;
            if parts > MAX_PARTS {
                return Err(WebError::BadRequest(format!(
                    "一次提交的文件和字段超过 {MAX_PARTS} 个的上限；凭证较多时请打成压缩包上传，或分几次上传"
                )));
            }
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(upload_too_large()),
                Err(_) => return Err(WebError::BadRequest("附件没有完整上传，请重试".into())),
            };
            let name = field.name().unwrap_or_default().to_string();
            let filename = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    upload_too_large()
                } else {
                    WebError::BadRequest("附件没有完整上传，请重试".into())
                }
            })?;
            total += bytes.len();
            if total > crate::UPLOAD_LIMIT {
                // Read the rest (the client is still sending), keep none of it, refuse at the end.
                continue;
            }
            match filename {
                // An empty file input sends a part with no name and no bytes.
                Some(f) if !f.is_empty() || !bytes.is_empty() => {
                    out.files.push(ducha_storage::evidence::Upload { filename: f, bytes: bytes.to_vec() })
                }
                Some(_) => {}
                None => out.fields.push((name, String::from_utf8_lossy(&bytes).into_owned())),
            }
        }
        if total > crate::UPLOAD_LIMIT {
            return Err(upload_too_large());
        }
        match (expected.as_deref(), out.fields.iter().find(|(k, _)| k == "_csrf")) {
            (Some(e), Some((_, g))) if same_token(e, g) => Ok(out),
            _ => Err(WebError::Forbidden("页面已过期或来源不明，请刷新页面后重试".into())),
        }
    }
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
        let bytes = read_limited(body).await?;
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
