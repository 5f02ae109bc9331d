//! What operators watch: a request id on every request (tower-http's request-id layers), in the
//! span of every log line the request makes and on its error page; one log line per request;
//! `/readyz` (the database answers and its schema is this binary's); `/metrics` in Prometheus'
//! text format (prometheus-client), answered only to the addresses configured for it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::{AppState, Routes, WebError};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn routes(r: Routes) -> Routes {
    r.get("/readyz", readyz).get("/metrics", metrics)
}

/// The id of a request: the one a proxy in front gave it (`X-Request-Id`, so that its log and
/// ours name the same id) when it is a plain token, else a new UUID.
pub fn request_id(req: &Request) -> &str {
    req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The request's own span, kept in the request: by the time a handler runs, the current span may
/// be a layer's (tower-sessions enters one of its own), which has no room for the actor.
#[derive(Clone)]
pub struct RequestSpan(pub tracing::Span);

/// Name who acts, with which role and over which region, in the request's span, so that every
/// log line of the request (a storage fault's too) says it. Called once the user is known.
pub fn record_actor(span: Option<&RequestSpan>, actor: &ducha_domain::access::Actor) {
    use ducha_domain::labelled::Labelled;
    let Some(RequestSpan(span)) = span else { return };
    span.record("user", actor.username.as_str());
    span.record("role", actor.role.code());
    match &actor.scope {
        ducha_domain::access::Scope::All => span.record("scope", "all"),
        ducha_domain::access::Scope::Region(code) => span.record("scope", code.as_str()),
    };
}

/// A request id from outside is kept only if it is a short plain token: anything else (long,
/// odd characters) could not be told apart in a log, and is replaced.
async fn plain_request_id(mut req: Request, next: Next) -> Response {
    let plain = |v: &HeaderValue| {
        let b = v.as_bytes();
        (8..=64).contains(&b.len()) && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
    };
    if req.headers().get(REQUEST_ID).is_some_and(|v| !plain(v)) {
        req.headers_mut().remove(REQUEST_ID);
    }
    next.run(req).await
}

/// The request id, the log span that carries it, the per-request log line and the request
/// metrics, around every route.
pub fn layers(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            tracing::info_span!(
                "request",
                id = %request_id(req),
                method = %req.method(),
                path = %req.uri().path(),
                user = tracing::field::Empty,
                role = tracing::field::Empty,
                scope = tracing::field::Empty,
            )
        })
        .on_response(
            DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(tower_http::LatencyUnit::Millis),
        );
    router
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn(plain_request_id))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// The figures `/metrics` shows. Request figures are counted as requests end; the rest is read
/// when the page is asked for.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pool: Family<StateLabels, Gauge>,
    import_jobs: Family<StateLabels, Gauge>,
    audit_records: Gauge,
    witness_age: Gauge,
    check_runs: Gauge,
    backup_age: Gauge,
}

fn latency_histogram() -> Histogram {
    // 5 ms to about 40 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("ducha");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by method, route and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("http_request_duration_seconds", "Time to answer, by route", latency.clone());
        let pool = Family::<StateLabels, Gauge>::default();
        registry.register("db_pool_connections", "Database connections in the pool, in use or idle", pool.clone());
        let import_jobs = Family::<StateLabels, Gauge>::default();
        registry.register("import_jobs", "Import jobs kept, by status", import_jobs.clone());
        let audit_records = Gauge::default();
        registry.register("audit_records", "Records in the audit chain", audit_records.clone());
        let witness_age = Gauge::default();
        registry.register(
            "audit_witness_age_seconds",
            "Seconds since this server last wrote the audit witness (-1: never)",
            witness_age.clone(),
        );
        let check_runs = Gauge::default();
        registry.register("check_runs", "Data-quality check runs stored", check_runs.clone());
        let backup_age = Gauge::default();
        registry.register(
            "backup_age_seconds",
            "Seconds since the newest backup in the nightly backup directory was written (-1: none)",
            backup_age.clone(),
        );
        Metrics { registry, requests, latency, pool, import_jobs, audit_records, witness_age, check_runs, backup_age }
    }
}

/// Count a request by route (the route's pattern, never the path: ids would make a series each).
async fn track(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    // Inside the trace layer, the current span is the request's.
    req.extensions_mut().insert(RequestSpan(tracing::Span::current()));
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS") => m.to_string(),
        _ => "other".to_string(),
    };
    let started = Instant::now();
    let resp = next.run(req).await;
    let m = &st.metrics;
    m.requests.get_or_create(&RequestLabels { method, route: route.clone(), status: resp.status().as_u16() }).inc();
    m.latency.get_or_create(&RouteLabels { route }).observe(started.elapsed().as_secs_f64());
    resp
}

/// Whether `ip` may read `/metrics`.
fn allowed(st: &AppState, ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    st.config.metrics_from.iter().any(|net| net.contains(&ip))
}

/// `/metrics`: to the configured addresses only; anyone else gets the 404 of a page that is not
/// there. A request that came through a proxy (it says whom for) is never the monitor's own.
async fn metrics(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let forwarded = headers.contains_key("x-forwarded-for") || headers.contains_key(header::FORWARDED);
    if forwarded || !allowed(&st, peer.ip()) {
        return Err(WebError::NotFound);
    }
    let m = &st.metrics;
    let (size, idle) = st.db.pool_state();
    m.pool.get_or_create(&StateLabels { state: "in_use".into() }).set(i64::from(size) - idle as i64);
    m.pool.get_or_create(&StateLabels { state: "idle".into() }).set(idle as i64);
    let figures = st.db.system().import_jobs().by_status().await?;
    m.import_jobs.clear();
    // Every status is shown, at 0 too, so that an alert on "running" has a series to watch.
    for status in ["queued", "checking", "checked", "refused", "running", "done", "failed", "expired", "interrupted"] {
        m.import_jobs.get_or_create(&StateLabels { state: status.into() }).set(0);
    }
    for (status, n) in figures {
        m.import_jobs.get_or_create(&StateLabels { state: status }).set(n);
    }
    let (records, runs) = st.db.system().audit().figures().await?;
    m.audit_records.set(records);
    m.check_runs.set(runs);
    let witnessed = st.db.anchor().and_then(|a| a.last_witnessed());
    m.witness_age.set(witnessed.map_or(-1, |at| (chrono::Utc::now() - at).num_seconds()));
    m.backup_age.set(
        st.config
            .backup_dir
            .as_deref()
            .and_then(newest_backup)
            .map_or(-1, |t| std::time::SystemTime::now().duration_since(t).map_or(0, |d| d.as_secs() as i64)),
    );
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &m.registry).map_err(|e| WebError::Internal(Box::new(e)))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}

/// When the newest backup file (`ducha-….db` or `.pgdump`) in `dir` was written.
fn newest_backup(dir: &std::path::Path) -> Option<std::time::SystemTime> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("ducha-") && (n.ends_with(".db") || n.ends_with(".pgdump"))
        })
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max()
}

/// `/readyz`: 200 when the database answers within two seconds and its schema is exactly this
/// binary's; otherwise 503 with the reason (a load balancer sends no one here meanwhile).
async fn readyz(State(st): State<AppState>) -> Response {
    let checked = tokio::time::timeout(Duration::from_secs(2), st.db.schema()).await;
    let (status, text) = match checked {
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "数据库 2 秒内没有应答".to_string()),
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("数据库不可用：{e}")),
        Ok(Ok(s)) if !s.pending.is_empty() => {
            (StatusCode::SERVICE_UNAVAILABLE, format!("数据库结构不是最新：还有 {} 项迁移未执行", s.pending.len()))
        }
        Ok(Ok(s)) if !s.unknown.is_empty() => {
            (StatusCode::SERVICE_UNAVAILABLE, format!("数据库结构比本程序新（{}）：请换用新版本", s.unknown.join("、")))
        }
        Ok(Ok(_)) => (StatusCode::OK, "ready".to_string()),
    };
    // As a page of its own (the error pages' middleware leaves those alone), so that the reason
    // is what a person opening /readyz reads.
    (status, [(header::CACHE_CONTROL, "no-store")], axum::response::Html(text)).into_response()
}

/// The metrics kept by this process.
pub type Shared = Arc<Metrics>;

/// This host's own addresses: the default of who may read `/metrics`.
pub fn local_only() -> Vec<ipnet::IpNet> {
    ["127.0.0.1/32", "::1/128"].iter().filter_map(|n| n.parse().ok()).collect()
}
