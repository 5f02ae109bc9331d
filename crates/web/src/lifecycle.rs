//! A clean stop. Asked to stop (SIGTERM or Ctrl+C), the server stops accepting connections, lets
//! the requests in flight finish and the imports running in the background finish, all within
//! one bound; what is still running then is dropped: a request is cut, and an import's
//! transaction rolls back and its job reads as interrupted. Jobs name the process that runs them
//! and say every [`HEARTBEAT`] that it is alive, so that a job of a process that crashed, on this
//! host or another sharing the database, reads as interrupted too, never "正在导入" forever.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ducha_storage::Db;
use ducha_storage::import_jobs::{self, HEARTBEAT};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Work that goes on after the request that started it returned (checking an upload, writing an
/// import), tracked so that a stop waits for it.
#[derive(Clone)]
pub struct Jobs {
    tracker: TaskTracker,
    /// Cancelled when the server is asked to stop: no job starts any more.
    stopping: CancellationToken,
    /// Cancelled when the stop's bound has passed: running jobs are dropped.
    abort: CancellationToken,
    /// This process, as job rows name their owner.
    owner: Arc<str>,
}

impl Jobs {
    /// The jobs of this process, which listens at `slot` (host and address).
    pub fn new(slot: &str) -> Jobs {
        Jobs {
            tracker: TaskTracker::new(),
            stopping: CancellationToken::new(),
            abort: CancellationToken::new(),
            owner: import_jobs::owner_name(slot).into(),
        }
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Whether the server is stopping (a new job would be interrupted at once: refuse it).
    pub fn stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// `f`'s output, or None if the server is asked to stop first (a job still waiting for its
    /// turn does not start then).
    pub async fn unless_stopping<T>(&self, f: impl Future<Output = T>) -> Option<T> {
        tokio::select! {
            biased;
            () = self.stopping.cancelled() => None,
            v = f => Some(v),
        }
    }

    /// Run import job `id`'s work in the background. If the stop's bound passes first the work
    /// is dropped (a transaction under way rolls back) and the job is marked interrupted.
    pub fn spawn(&self, db: Db, id: i64, work: impl Future<Output = ()> + Send + 'static) {
        let abort = self.abort.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                biased;
                () = abort.cancelled() => {
                    tracing::warn!(job = id, "an import job was still running when the stop's bound passed: rolled back");
                    if let Err(e) = db.system().import_jobs().interrupt(id).await {
                        tracing::error!(error = %e, job = id, "could not mark an interrupted job");
                    }
                }
                () = work => {}
            }
        });
    }
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs::new(&slot(None))
    }
}

/// This process's slot: the host's name and the address it listens at. Two processes cannot
/// hold one slot at once, so a job owned by an earlier process of the slot is abandoned.
pub fn slot(addr: Option<SocketAddr>) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    match addr {
        Some(a) => format!("{host}/{a}"),
        None => host,
    }
}

/// At start: end the jobs no process can be running any more, then keep this process's jobs
/// alive and end other processes' abandoned ones, every [`HEARTBEAT`].
pub async fn keep_jobs(db: Db, jobs: Jobs, slot: String) -> tokio::task::JoinHandle<()> {
    match db.system().import_jobs().end_abandoned(Some(&slot), chrono::Utc::now()).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(jobs = n, "import jobs left by a server that stopped are marked interrupted"),
        Err(e) => tracing::warn!(error = %e, "could not end import jobs left by a server that stopped"),
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(HEARTBEAT).await;
            let now = chrono::Utc::now();
            if let Err(e) = db.system().import_jobs().heartbeat(jobs.owner(), now).await {
                tracing::warn!(error = %e, "could not mark this server's import jobs alive");
            }
            if let Err(e) = db.system().import_jobs().end_abandoned(None, now).await {
                tracing::warn!(error = %e, "could not end abandoned import jobs");
            }
        }
    })
}

/// Serve until `shutdown` completes; then stop accepting, and give the requests in flight and
/// the running jobs until `grace` has passed since the signal.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    app: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, SocketAddr>,
    jobs: &Jobs,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (deadline_tx, deadline_rx) = tokio::sync::watch::channel(None::<Instant>);
    let stopping = jobs.stopping.clone();
    let signal = async move {
        shutdown.await;
        stopping.cancel();
        tracing::info!(grace_seconds = grace.as_secs(), "stopping: no new connections; finishing what is in flight");
        let _ = deadline_tx.send(Some(Instant::now() + grace));
    };
    let mut rx = deadline_rx.clone();
    let bound = async move {
        let at = rx.wait_for(Option::is_some).await.ok().and_then(|v| *v);
        match at {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);
    let served = tokio::select! {
        r = server => r,
        () = bound => {
            tracing::warn!("requests were still running when the stop's bound passed: they are cut");
            Ok(())
        }
    };
    // Whatever ended the serving, no job starts now; the running ones have until the bound.
    jobs.stopping.cancel();
    jobs.tracker.close();
    let at = (*deadline_rx.borrow()).unwrap_or_else(|| Instant::now() + grace);
    if tokio::time::timeout_at(at, jobs.tracker.wait()).await.is_err() {
        jobs.abort.cancel();
        // Dropping a job's work is immediate; marking it takes one statement.
        let _ = tokio::time::timeout(Duration::from_secs(10), jobs.tracker.wait()).await;
    }
    served
}
