//! The heavy-work pool. Reading an uploaded workbook, writing a large one and typesetting a
//! circular take whole seconds of CPU: they run on blocking threads, a few at a time and in the
//! order asked, so that the async workers that answer pages and `/healthz` never wait behind
//! them, and two large uploads cannot take every core. Imports wait in a queue whose place their
//! page shows.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::WebError;

#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    turns: Arc<Semaphore>,
    size: usize,
    /// Import jobs waiting for a turn, first first.
    queue: Mutex<VecDeque<i64>>,
}

/// A turn: heavy work may go on while it is held.
pub struct Turn {
    _permit: Option<OwnedSemaphorePermit>,
}

/// A place in the queue, taken at once (so that the job's page, rendered next, shows it);
/// given up when the turn comes or the wait is abandoned.
pub struct Waiting {
    pool: Pool,
    job: Option<i64>,
}

impl Waiting {
    /// Wait for the turn.
    pub async fn turn(self) -> Turn {
        // The semaphore is never closed; were it, the work would go on without a turn.
        Turn { _permit: self.pool.inner.turns.clone().acquire_owned().await.ok() }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(job) = self.job
            && let Ok(mut q) = self.pool.inner.queue.lock()
        {
            q.retain(|j| *j != job);
        }
    }
}

impl Pool {
    /// At most `size` heavy tasks at once (at least one).
    pub fn new(size: usize) -> Pool {
        let size = size.max(1);
        Pool { inner: Arc::new(Inner { turns: Arc::new(Semaphore::new(size)), size, queue: Default::default() }) }
    }

    /// One core is left to the pages: on two cores, one heavy task at a time.
    pub fn default_size() -> usize {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        cores.saturating_sub(1).max(1)
    }

    /// Take a place in the queue now; an import job's place is shown on its page.
    pub fn wait(&self, job: Option<i64>) -> Waiting {
        if let (Some(j), Ok(mut q)) = (job, self.inner.queue.lock()) {
            q.push_back(j);
        }
        Waiting { pool: self.clone(), job }
    }

    /// Wait for a turn, in the order asked.
    pub async fn turn(&self, job: Option<i64>) -> Turn {
        self.wait(job).turn().await
    }

    /// Run CPU-heavy `f` on a blocking thread, once it has a turn.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, WebError> {
        let _turn = self.turn(None).await;
        blocking(f).await
    }

    /// How many tasks are ahead of a waiting import job (the ones running included), or None if
    /// it is not waiting here.
    pub fn ahead_of(&self, job: i64) -> Option<usize> {
        let q = self.inner.queue.lock().ok()?;
        let place = q.iter().position(|j| *j == job)?;
        let running = self.inner.size - self.inner.turns.available_permits();
        Some(place + running)
    }
}

/// Run `f` on a blocking thread (the caller already holds a turn).
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, WebError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| WebError::Internal(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_at_a_time_in_order_with_places() {
        let pool = Pool::new(1);
        let first = pool.turn(Some(1)).await;
        assert_eq!(pool.ahead_of(1), None, "a job with its turn is no longer waiting");
        let p = pool.clone();
        let second = tokio::spawn(async move { p.turn(Some(2)).await });
        let p = pool.clone();
        tokio::task::yield_now().await;
        let third = tokio::spawn(async move { p.turn(Some(3)).await });
        for _ in 0..100 {
            if pool.ahead_of(3).is_some() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!((pool.ahead_of(2), pool.ahead_of(3)), (Some(1), Some(2)));
        drop(first);
        let second = second.await.expect("second gets its turn");
        assert_eq!(pool.ahead_of(3), Some(1));
        drop(second);
        drop(third.await.expect("third gets its turn"));
        assert_eq!(pool.ahead_of(3), None);
        assert_eq!(pool.run(|| 6 * 7).await.expect("runs"), 42);
    }
}
