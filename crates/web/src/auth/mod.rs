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

const USER_KEY: &str = "user_id";

/// The signed-in user (or the token's owner), as an actor for storage calls.
pub struct CurrentUser {
    pub user: User,
    pub actor: Actor,
    /// The session's CSRF token, for forms on the page (empty for token calls).
    pub csrf: String,
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

pub fn client_address(parts: &Parts) -> String {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".into(), |c| c.0.ip().to_string())
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
            let user = accounts::user_for_token(&st.db, &token).await.map_err(internal)?.ok_or_else(required)?;
            let actor = user.actor(Some(origin));
            return Ok(CurrentUser { user, actor, csrf: String::new() });
        }
        let session = Session::from_request_parts(parts, st).await.map_err(|_| required())?;
        let user_id: Option<i64> = session.get(USER_KEY).await.ok().flatten();
        let Some(user_id) = user_id else { return Err(required()) };
        let Some(user) = accounts::user_by_id(&st.db, user_id).await.map_err(internal)?.filter(|u| u.active) else {
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
        Ok(CurrentUser { user, actor, csrf })
    }
}

/// The session's CSRF token, made if there is none yet.
pub async fn csrf_token(session: &Session) -> Result<String, WebError> {
    if let Ok(Some(t)) = session.get::<String>(csrf::SESSION_KEY).await {
        return Ok(t);
    }
    let t = accounts::random_token()?;
    session.insert(csrf::SESSION_KEY, &t).await.map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(t)
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

/// Only paths on this site: never an absolute or protocol-relative URL.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

async fn login_page(
    State(st): State<AppState>,
    session: Session,
    Query(q): Query<NextQuery>,
) -> Result<Html<String>, WebError> {
    let csrf = csrf_token(&session).await?;
    let page = LoginPage {
        ctx: PageCtx::anonymous(&st, csrf).await?,
        error: None,
        username: String::new(),
        next: safe_next(q.next.as_deref()),
    };
    Ok(Html(page.render()?))
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
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, WebError> {
    let outcome = accounts::login(&st.db, &form.username, &form.password, &addr.ip().to_string()).await?;
    let error = match outcome {
        LoginOutcome::Ok(user) => {
            // A new session id at sign-in, so that a session fixed before it is worth nothing.
            session.cycle_id().await.map_err(|e| WebError::Internal(Box::new(e)))?;
            session.insert(USER_KEY, user.id).await.map_err(|e| WebError::Internal(Box::new(e)))?;
            session
                .insert(csrf::SESSION_KEY, accounts::random_token()?)
                .await
                .map_err(|e| WebError::Internal(Box::new(e)))?;
            return Ok(Redirect::to(&safe_next(Some(&form.next))).into_response());
        }
        LoginOutcome::Failed => "用户名或密码错误".to_string(),
        LoginOutcome::Wait(secs) => format!("登录失败次数过多，请 {secs} 秒后再试"),
    };
    let csrf = csrf_token(&session).await?;
    let page = LoginPage {
        ctx: PageCtx::anonymous(&st, csrf).await?,
        error: Some(error),
        username: form.username,
        next: safe_next(Some(&form.next)),
    };
    Ok((StatusCode::UNAUTHORIZED, Html(page.render()?)).into_response())
}

use crate::pages::Empty;

async fn logout(session: Session, CsrfForm(_): CsrfForm<Empty>) -> Result<Redirect, WebError> {
    session.flush().await.map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(Redirect::to("/login"))
}
