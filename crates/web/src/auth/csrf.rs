//! Protection against cross-site requests: a token bound to the session, carried by every form
//! (`_csrf`) and by API calls made with the session cookie (`X-CSRF-Token`), and a check of the
//! browser's Origin / Sec-Fetch-Site headers on every request that changes something.
//!
//! The login form has no session to bind to (an anonymous visit stores nothing): its token is a
//! signed double-submit one, a nonce and a time MAC'd with a secret of the server, sent both as
//! a cookie (`Path=/login`, HttpOnly, SameSite=Strict) and in the form, which must match.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use crate::{AppState, WebError};

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

/// A urlencoded form, as a page's form sends it (anything else is not from a page).
fn require_form(headers: &HeaderMap) -> Result<(), WebError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form_type { Ok(()) } else { Err(WebError::BadRequest("请通过页面上的表单提交".into())) }
}

/// A form body whose `_csrf` field matched the session's token, deserialised into `T`.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for CsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        require_form(&parts.headers)?;
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

/// The cookie that carries the login form's token.
pub const LOGIN_COOKIE: &str = "ducha_login_csrf";
/// How long a login form's token is good for.
const LOGIN_TOKEN_SECS: i64 = 2 * 3600;

/// The secret that signs login tokens (shared by every process on the database).
pub async fn login_secret(st: &AppState) -> Result<[u8; 32], WebError> {
    st.login_secret
        .get_or_try_init(|| async { st.db.login().login_form_secret().await })
        .await
        .map_err(Into::into)
        .copied()
}

fn login_mac(secret: &[u8; 32], nonce: &str, issued: i64) -> String {
    ducha_storage::crypto::mac_hex(secret, &[b"login-form", nonce.as_bytes(), issued.to_string().as_bytes()])
}

/// A new login token: `nonce.issued.mac`.
pub fn new_login_token(secret: &[u8; 32], now: i64) -> Result<String, WebError> {
    let nonce = ducha_storage::crypto::hex(&ducha_storage::crypto::random_bytes::<16>()?);
    Ok(format!("{nonce}.{now}.{}", login_mac(secret, &nonce, now)))
}

/// Whether a login token was signed by this server and is not older than its lifetime; with
/// `fresh_for`, also still good for that many seconds (a page shown now must outlive its filling in).
pub fn login_token_valid(secret: &[u8; 32], token: &str, now: i64, fresh_for: i64) -> bool {
    let mut parts = token.split('.');
    let (Some(nonce), Some(issued), Some(mac), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(issued) = issued.parse::<i64>() else { return false };
    same_token(&login_mac(secret, nonce, issued), mac)
        && issued <= now + 60
        && now + fresh_for < issued + LOGIN_TOKEN_SECS
}

/// The value of a cookie the request sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for the login token (or, with None, to remove it).
pub fn login_cookie(token: Option<&str>, secure: bool) -> String {
    use tower_sessions::cookie::{Cookie, SameSite};
    let age = if token.is_some() { LOGIN_TOKEN_SECS } else { 0 };
    Cookie::build((LOGIN_COOKIE, token.unwrap_or("").to_string()))
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(time::Duration::seconds(age))
        .build()
        .to_string()
}

/// The login form's body, accepted only with a signed token that matches its cookie. Holds the
/// token, for the form shown again after a failure.
pub struct LoginCsrfForm<T>(pub T, pub String);

impl<T: DeserializeOwned> FromRequest<AppState> for LoginCsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        require_form(&parts.headers)?;
        let bytes = read_limited(body).await?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| WebError::BadRequest("表单格式不正确".into()))?;
        let sent = pairs.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
        let secret = login_secret(st).await?;
        let now = chrono::Utc::now().timestamp();
        let matches = cookie(&parts.headers, LOGIN_COOKIE).is_some_and(|c| same_token(c, sent));
        if !matches || !login_token_valid(&secret, sent, now, 0) {
            return Err(WebError::Forbidden("页面已过期或来源不明，请刷新登录页面后重试".into()));
        }
        let value =
            serde_urlencoded::from_bytes(&bytes).map_err(|e| WebError::BadRequest(format!("表单格式不正确：{e}")))?;
        Ok(LoginCsrfForm(value, sent.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_token_holds_only_as_signed_and_for_its_time() {
        let secret = [9u8; 32];
        let t = new_login_token(&secret, 1_000_000).unwrap();
        assert!(login_token_valid(&secret, &t, 1_000_000, 0));
        assert!(login_token_valid(&secret, &t, 1_000_000 + LOGIN_TOKEN_SECS - 1, 0));
        assert!(!login_token_valid(&secret, &t, 1_000_000 + LOGIN_TOKEN_SECS, 0), "expired");
        assert!(!login_token_valid(&secret, &t, 1_000_000 + LOGIN_TOKEN_SECS - 100, 600), "not fresh enough to show");
        assert!(!login_token_valid(&[8u8; 32], &t, 1_000_000, 0), "another server's secret");
        let (nonce, rest) = t.split_once('.').unwrap();
        let (_, mac) = rest.split_once('.').unwrap();
        assert!(
            !login_token_valid(&secret, &format!("{nonce}.{}.{mac}", 1_000_000 + 3600), 1_003_600, 0),
            "time moved"
        );
        assert!(!login_token_valid(&secret, "x.y.z", 1_000_000, 0));
        assert!(!login_token_valid(&secret, "", 1_000_000, 0));
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; ducha_login_csrf_x=2; ducha_login_csrf=3".parse().unwrap());
        assert_eq!(cookie(&h, LOGIN_COOKIE), Some("3"));
        assert_eq!(cookie(&h, "b"), None);
    }
}
