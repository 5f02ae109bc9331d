//! ducha's web layer: server-rendered pages in Simplified Chinese and the JSON API under
//! `/api/v1`, one folder per capability with templates beside their handlers.
//!
//! Every route is declared once, in [`routes`], through a small builder that also keeps the
//! list of (method, path): the test that walks every route as an out-of-scope user takes its
//! list from there, so a route cannot be added without being walked.
#![forbid(unsafe_code)]

mod api;
mod auth;
mod campaigns;
mod checks;
mod error;
mod exchange;
mod forms;
mod funds;
#[doc(hidden)]
pub mod fuzzing;
mod help;
mod home;
pub mod lifecycle;
pub mod observe;
mod pages;
mod platform;
pub mod proxy;
mod rectification;
mod regions;
mod registry;
pub mod work;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, on};
use ducha_storage::Db;
use ducha_storage::accounts::sessions::DbSessionStore;
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use auth::CurrentUser;
pub use error::WebError;

/// What every handler can reach. Stateless apart from the database, so that several processes
/// can serve one PostgreSQL behind a load balancer.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: WebConfig,
    /// Dashboard figures per scope, recomputed at most once a minute (a million households take
    /// seconds to count; a dashboard a minute old is fine).
    pub counts: home::CountsCache,
    /// CPU-heavy work (reading uploads, writing workbooks, typesetting) waits its turn here.
    pub work: work::Pool,
    /// Password checks: a few at once, a short queue, "busy" beyond it.
    pub passwords: std::sync::Arc<ducha_storage::accounts::PasswordPool>,
    /// The secret that signs the login form's token (loaded from the database on first use).
    pub login_secret: std::sync::Arc<tokio::sync::OnceCell<[u8; 32]>>,
    /// Imports and checks running after their request returned, which a stop waits for.
    pub jobs: lifecycle::Jobs,
    /// Request counts and latencies for `/metrics`.
    pub metrics: observe::Shared,
}

#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark the session cookie Secure (behind HTTPS).
    pub secure_cookies: bool,
    /// A session ends after this long without a request.
    pub idle_minutes: i64,
    /// Heavy tasks (checking uploads, writing workbooks, typesetting) run at once; by default
    /// one fewer than the machine has cores.
    pub heavy_tasks: usize,
    /// Asked to stop, the server lets requests and imports finish for at most this long.
    pub stop_grace: std::time::Duration,
    /// Addresses that may read `/metrics` (this host only by default).
    pub metrics_from: Vec<ipnet::IpNet>,
    /// Reverse proxies whose X-Forwarded-For / Forwarded are believed (none by default).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where the nightly backups go (their age is in `/metrics`).
    pub backup_dir: Option<std::path::PathBuf>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            idle_minutes: 30,
            heavy_tasks: work::Pool::default_size(),
            stop_grace: std::time::Duration::from_secs(25),
            metrics_from: observe::local_only(),
            trusted_proxies: Vec::new(),
            backup_dir: None,
        }
    }
}

impl AppState {
    pub fn new(db: Db) -> Self {
        Self::with_config(db, WebConfig::default())
    }

    pub fn with_config(db: Db, config: WebConfig) -> Self {
        let work = work::Pool::new(config.heavy_tasks);
        Self {
            db,
            config,
            counts: Default::default(),
            work,
            passwords: Default::default(),
            login_secret: Default::default(),
            jobs: Default::default(),
            metrics: Default::default(),
        }
    }
}

/// Forms and JSON larger than this are refused with 413 and a Chinese message.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Uploads (evidence files, spreadsheets to import) may be this large in all.
pub const UPLOAD_LIMIT: usize = 32 * 1024 * 1024;

/// Bodies up to this size are read to the end even when refused, so that the client, still
/// sending, receives the Chinese 413 instead of a reset connection; beyond it the connection is cut.
pub const DRAIN_LIMIT: usize = 128 * 1024 * 1024;

/// The router and the list of its routes.
pub struct Routes {
    router: Router<AppState>,
    list: Vec<(Method, &'static str)>,
}

impl Routes {
    fn new() -> Self {
        Self { router: Router::new(), list: Vec::new() }
    }

    fn add<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = axum::routing::MethodFilter::try_from(method.clone()).unwrap_or(axum::routing::MethodFilter::GET);
        let mr: MethodRouter<AppState> = on(filter, handler);
        self.router = self.router.route(path, mr);
        self.list.push((method, path));
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::GET, path, h)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::POST, path, h)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add(Method::PUT, path, h)
    }
}

fn all_routes() -> Routes {
    let r = Routes::new().get("/healthz", || async { "ok" });
    let r = observe::routes(r);
    let r = auth::routes(r);
    let r = home::routes(r);
    let r = registry::routes(r);
    let r = help::routes(r);
    let r = checks::routes(r);
    let r = platform::routes(r);
    let r = funds::routes(r);
    let r = campaigns::routes(r);
    let r = rectification::routes(r);
    let r = exchange::routes(r);
    let r = regions::routes(r);
    api::routes(r)
}

/// Every (method, path) the application answers.
pub fn route_list() -> Vec<(Method, &'static str)> {
    all_routes().list
}

pub fn router(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("ducha_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(state.config.idle_minutes)));
    let app = all_routes()
        .router
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(auth::csrf::check_origin))
        .layer(sessions)
        .layer(axum::middleware::from_fn_with_state(state.clone(), proxy::resolve_client))
        .layer(axum::middleware::from_fn(error::chinese_errors))
        .layer(DefaultBodyLimit::max(DRAIN_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.config.secure_cookies, security_headers));
    // Request id, its log span and the request metrics, outermost.
    observe::layers(app, &state).with_state(state)
}

/// Scripts only from ducha's own files (the offline visit script is one); styles may be inline
/// (the layout's, the circular's, `style` attributes), which a page can only carry as askama
/// escaped them. No framing, no plugins, forms only back to ducha.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// The security headers of every answer (pages, the API, files, errors). Referrer-Policy is
/// same-origin rather than no-referrer: with no-referrer a browser sends `Origin: null` on forms,
/// which the CSRF check refuses. HSTS only behind HTTPS (`--secure-cookies`).
async fn security_headers(
    axum::extract::State(https): axum::extract::State<bool>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if https {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    }
    resp
}

/// How often a server with an audit key appends the chain's head to the witness file.
pub const WITNESS_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// Append the audit chain's head to the witness file; a failure is logged (the next try may work).
async fn witness(db: &Db) {
    if db.anchor().is_some()
        && let Err(e) = ducha_storage::audit::anchor::witness(db).await
    {
        tracing::warn!(error = %e, "could not write the audit witness");
    }
}

/// Serve until `shutdown` completes, then finish the requests in flight and the running imports
/// within `config.stop_grace` (see [`lifecycle`]). With an audit key, the chain's head is
/// witnessed every [`WITNESS_EVERY`] and once more at the end.
pub async fn serve(
    listener: TcpListener,
    mut state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slot = lifecycle::slot(Some(listener.local_addr()?));
    state.jobs = lifecycle::Jobs::new(&slot);
    let jobs = state.jobs.clone();
    let heartbeat = lifecycle::keep_jobs(state.db.clone(), jobs.clone(), slot).await;
    let store = DbSessionStore::new(state.db.clone());
    let db = state.db.clone();
    // Hourly: expired sessions, old login counts, and uploaded files kept longer than they are
    // needed. A failure here only leaves rows that no longer count, until the next hour.
    let hourly = tokio::spawn(async move {
        loop {
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "could not remove expired sessions");
            }
            if let Err(e) = db.login().forget_old_attempts().await {
                tracing::warn!(error = %e, "could not remove old login counts");
            }
            let keep = ducha_storage::import_jobs::Retention::default();
            match db.system().import_jobs().clean(keep, chrono::Utc::now()).await {
                Ok(c) => tracing::info!(?c, "old uploads cleaned"),
                Err(e) => tracing::warn!(error = %e, "could not clean old uploads"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
    let db = state.db.clone();
    let witnessing = db.anchor().is_some().then(|| {
        let db = db.clone();
        tokio::spawn(async move {
            loop {
                witness(&db).await;
                tokio::time::sleep(WITNESS_EVERY).await;
            }
        })
    });
    // A key rotation run by `ducha keys rotate` (another process) is loaded within a second.
    let keys = tokio::spawn(ducha_storage::datakeys::watch(state.db.clone()));
    let grace = state.config.stop_grace;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = lifecycle::serve_until(listener, app, &jobs, shutdown, grace).await;
    hourly.abort();
    heartbeat.abort();
    keys.abort();
    if let Some(task) = witnessing {
        task.abort();
        witness(&db).await;
    }
    served
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn templates(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                templates(&p, out);
            } else if p.extension().is_some_and(|e| e == "html") {
                out.push(p);
            }
        }
    }

    /// The Content-Security-Policy runs no inline script: no template may carry one, nor an
    /// event-handler attribute (onclick=…) or a javascript: link, which the browser would refuse.
    #[test]
    fn no_template_carries_inline_script() {
        let mut files = Vec::new();
        templates(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        assert!(files.len() > 20, "found {} templates", files.len());
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap().to_ascii_lowercase();
            for (i, _) in text.match_indices("<script") {
                let tag = &text[i..text[i..].find('>').map_or(text.len(), |e| i + e)];
                assert!(tag.contains(" src="), "{}: an inline script: {tag}", f.display());
            }
            assert!(!text.contains("javascript:"), "{}: a javascript: link", f.display());
            let b = text.as_bytes();
            for (i, _) in text.match_indices("on") {
                let after: Vec<u8> = b[i + 2..].iter().copied().take_while(u8::is_ascii_alphabetic).collect();
                let handler = i > 0
                    && b[i - 1].is_ascii_whitespace()
                    && after.len() >= 3
                    && b.get(i + 2 + after.len()) == Some(&b'=');
                assert!(!handler, "{}: an event handler at byte {i}", f.display());
            }
        }
    }
}
