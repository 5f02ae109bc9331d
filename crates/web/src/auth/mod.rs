//! Signing in and out, and who is asking: a session cookie (pages, and the API from a browser) or
//! a Bearer token (scripts). Every handler that shows or changes data takes a [`CurrentUser`].

pub mod csrf;

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use ducha_domain::access::Actor;
use ducha_storage::accounts::{self, LoginOutcome, User};
use serde::Deserialize;
use tower_sessions::Session;

use crate::pages::PageCtx;
use crate::{AppState, Routes, WebError};
use csrf::CsrfForm;

pub fn routes(r: Routes) -> Routes {
    r.get("/login", login_page).post("/login", login).post("/logout", logout)
}

use ducha_storage::accounts::sessions::USER_KEY;

/// The signed-in user (or the token's owner), as an actor for storage calls.
pub struct CurrentUser {
    pub user: User,
    pub actor: Actor,
    /// The session's CSRF token, for forms on the page (empty for token calls).
    pub csrf: String,
}

impl CurrentUser {
    /// Storage as this user sees it, today: the only way a handler reaches the register.
    pub fn scoped(&self, st: &crate::AppState) -> ducha_storage::Scoped {
        st.db.scoped(&self.actor)
    }
}

/// Not signed in: pages go to the login page, the API answers 401.
pub struct LoginRequired {
    api: bool,
    next: String,
}

impl IntoResponse for LoginRequired {
    fn into_response(self) -> Response {
        if self.api {
            let mut r = WebError::Unauthorized.into_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            r
        } else {
            let next: String = form_urlencode(&self.next);
            Redirect::to(&format!("/login?next={next}")).into_response()
        }
    }
}

fn form_urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).map(|v| v.trim_start_matches("x=").to_string()).unwrap_or_default()
}

/// The address a request is from, for the audit trail and the login throttle: the one the
/// trusted proxies report (see [`crate::proxy`]), else the connection's peer.
pub fn client_address(parts: &Parts) -> String {
    if let Some(c) = parts.extensions.get::<crate::proxy::Client>() {
        return c.ip.to_string();
    }
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".into(), |c| c.0.ip().to_string())
}

/// [`client_address`] as an extractor.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(parts)))
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let api = parts.uri.path().starts_with("/api/");
        let origin = client_address(parts);
        let next = parts.uri.path_and_query().map_or("/".into(), |p| p.as_str().to_string());
        let required = || LoginRequired { api, next: next.clone() }.into_response();
        let internal = |e: ducha_storage::StorageError| WebError::from(e).into_response();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .map(str::to_string);
        if let Some(token) = bearer {
            let user = st.db.login().user_for_token(&token).await.map_err(internal)?.ok_or_else(required)?;
            let actor = user.actor(Some(origin));
            crate::observe::record_actor(parts.extensions.get(), &actor);
            return Ok(CurrentUser { user, actor, csrf: String::new() });
        }
        let session = Session::from_request_parts(parts, st).await.map_err(|_| required())?;
        let user_id: Option<i64> = session.get(USER_KEY).await.ok().flatten();
        let Some(user_id) = user_id else { return Err(required()) };
        let Some(user) = st.db.login().user_by_id(user_id).await.map_err(internal)?.filter(|u| u.active) else {
            // A disabled or removed account's session ends here.
            let _ = session.flush().await;
            return Err(required());
        };
        let csrf: String = session.get(csrf::SESSION_KEY).await.ok().flatten().unwrap_or_default();
        // The API from a browser (session cookie) must carry the token in a header to change anything.
        if api && !csrf::is_safe(&parts.method) {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
            if csrf.is_empty() || !csrf::same_token(sent, &csrf) {
                return Err(WebError::Forbidden("缺少或错误的 X-CSRF-Token".into()).into_response());
            }
        }
        let actor = user.actor(Some(origin));
        crate::observe::record_actor(parts.extensions.get(), &actor);
        Ok(CurrentUser { user, actor, csrf })
    }
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    ctx: PageCtx,
    error: Option<String>,
    username: String,
    next: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// A path on this site to go to, or None. Anything a browser would drop or read differently is
/// refused rather than cleaned: control characters (a browser strips tab and newline, so
/// `/<tab>/evil.example` becomes `//evil.example`), whitespace, backslashes (read as `/`). What is
/// left is resolved as a browser would resolve it here, and must stay on this site without
/// starting with `//` (`/.//evil.example` resolves to `//evil.example`); the resolved form,
/// percent-encoded, is what is returned.
pub fn local_path(next: &str) -> Option<String> {
    let suspicious = |c: char| c.is_control() || c.is_whitespace() || c == '\\';
    if !next.starts_with('/') || next.starts_with("//") || next.chars().any(suspicious) {
        return None;
    }
    let base = url::Url::parse("http://ducha.invalid/").ok()?;
    let u = base.join(next).ok()?;
    if u.origin() != base.origin() || u.username() != "" || u.password().is_some() {
        return None;
    }
    let mut out = u.path().to_string();
    if let Some(q) = u.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = u.fragment() {
        out.push('#');
        out.push_str(f);
    }
    (out.starts_with('/') && !out.starts_with("//") && !out.chars().any(suspicious)).then_some(out)
}

/// Where to go after signing in: a path on this site, else the home page.
fn safe_next(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or_else(|| "/".to_string())
}

/// The login form's token: the one in the browser's cookie while it is good for a while more,
/// else a new one (with the cookie to set). Nothing is stored on the server.
async fn login_form_token(st: &AppState, headers: &header::HeaderMap) -> Result<(String, Option<String>), WebError> {
    let secret = csrf::login_secret(st).await?;
    let now = chrono::Utc::now().timestamp();
    if let Some(t) = csrf::cookie(headers, csrf::LOGIN_COOKIE)
        && csrf::login_token_valid(&secret, t, now, 30 * 60)
    {
        return Ok((t.to_string(), None));
    }
    let t = csrf::new_login_token(&secret, now)?;
    let cookie = csrf::login_cookie(Some(&t), st.config.secure_cookies);
    Ok((t, Some(cookie)))
}

fn with_cookie(mut resp: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie.and_then(|c| header::HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

async fn login_page(
    State(st): State<AppState>,
    headers: header::HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let (token, cookie) = login_form_token(&st, &headers).await?;
    let page = LoginPage {
        ctx: PageCtx::anonymous(&st, token).await?,
        error: None,
        username: String::new(),
        next: safe_next(q.next.as_deref()),
    };
    Ok(with_cookie(Html(page.render()?).into_response(), cookie))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    next: String,
}

async fn login(
    State(st): State<AppState>,
    session: Session,
    ClientAddress(addr): ClientAddress,
    csrf::LoginCsrfForm(form, token): csrf::LoginCsrfForm<LoginForm>,
) -> Result<Response, WebError> {
    let outcome = st.db.login().login(&st.passwords, &form.username, &form.password, &addr).await?;
    let (status, error) = match outcome {
        LoginOutcome::Ok(user) => {
            // A new session id at sign-in, so that a session fixed before it is worth nothing.
            session.cycle_id().await.map_err(|e| WebError::Internal(Box::new(e)))?;
            session.insert(USER_KEY, user.id).await.map_err(|e| WebError::Internal(Box::new(e)))?;
            session
                .insert(csrf::SESSION_KEY, accounts::random_token()?)
                .await
                .map_err(|e| WebError::Internal(Box::new(e)))?;
            let done = Redirect::to(&safe_next(Some(&form.next))).into_response();
            return Ok(with_cookie(done, Some(csrf::login_cookie(None, st.config.secure_cookies))));
        }
        LoginOutcome::Failed => (StatusCode::UNAUTHORIZED, "用户名或密码错误".to_string()),
        LoginOutcome::Wait(secs) => {
            (StatusCode::TOO_MANY_REQUESTS, format!("这个用户名从您的地址登录失败次数过多，请 {secs} 秒后再试"))
        }
        LoginOutcome::Busy => (StatusCode::SERVICE_UNAVAILABLE, "正在登录的人较多，请稍等几秒再试".to_string()),
    };
    let page = LoginPage {
        ctx: PageCtx::anonymous(&st, token).await?,
        error: Some(error),
        username: form.username,
        next: safe_next(Some(&form.next)),
    };
    Ok((status, Html(page.render()?)).into_response())
}

use crate::pages::Empty;

async fn logout(session: Session, CsrfForm(_): CsrfForm<Empty>) -> Result<Redirect, WebError> {
    session.flush().await.map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(Redirect::to("/login"))
}
