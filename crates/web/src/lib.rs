//! ducha's web layer: server-rendered pages in Simplified Chinese and the JSON API under
//! `/api/v1`, one folder per capability with templates beside their handlers.
#![forbid(unsafe_code)]

mod error;
mod home;
mod regions;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use ducha_storage::Db;
use tokio::net::TcpListener;

pub use error::WebError;

/// What every handler can reach. Stateless apart from the database, so that several processes
/// can serve one PostgreSQL behind a load balancer.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home::page))
        .route("/healthz", get(|| async { "ok" }))
        .merge(regions::routes())
        .fallback(error::not_found)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(2 * 1024 * 1024))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serve until `shutdown` completes, then finish the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
