//! The heavy lane: CPU work whose cost scales with the ontology
//! (traversals past the inline allowance, graph builds, past states,
//! diffs, merges, long answers being written) runs on the blocking pool
//! with at most `workers` at a time, so the async workers — which answer
//! `__typename`, entity lookups, cached answers and health checks — keep
//! their cores.
//!
//! Requests the API can tell are heavy before running them are also
//! *admitted*: at most `workers + queue` at once. Past that the API
//! answers `OVERLOADED` (HTTP 503, `Retry-After`) at once instead of
//! queueing without bound, where every waiter's latency would grow with
//! the queue (docs/ARCHITECTURE.md, "Two lanes").

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::lane_pool::Pool;
use crate::error::{Error, Result};

/// Heavy requests that may wait for the lane beyond those running.
pub const DEFAULT_HEAVY_QUEUE: usize = 64;

/// The lane threads' niceness: at 10 the kernel gives a contended core to
/// an async worker about nine times as often as to a lane thread.
pub const DEFAULT_HEAVY_NICE: i32 = 10;

pub(super) struct Lane {
    permits: Arc<Semaphore>,
    /// Exactly `workers` threads: a permit is taken before a job is sent,
    /// so a job never waits for a thread.
    pool: Pool,
    workers: usize,
    capacity: usize,
    admitted: AtomicUsize,
    waiting: AtomicUsize,
    rejected: AtomicU64,
}

/// The lane's figures now (for `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneStats {
    /// Pieces of heavy work that may run at once.
    pub workers: usize,
    /// Heavy requests admitted beyond `workers` before refusals start.
    pub queue: usize,
    /// Heavy requests admitted and not yet answered.
    pub admitted: usize,
    /// Pieces of heavy work running now.
    pub running: usize,
    /// Pieces of heavy work waiting for a worker.
    pub waiting: usize,
    /// Heavy requests refused with `OVERLOADED` since start.
    pub rejected: u64,
}

/// A heavy request's place in the lane, given back when dropped.
pub struct Admission(Arc<Lane>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Lane {
    pub(super) fn new(workers: usize, queue: usize, nice: i32) -> Arc<Lane> {
        let workers = workers.max(1);
        Arc::new(Lane {
            permits: Arc::new(Semaphore::new(workers)),
            pool: Pool::new(workers, nice),
            workers,
            capacity: workers.saturating_add(queue),
            admitted: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            rejected: AtomicU64::new(0),
        })
    }

    pub(super) fn admit(self: &Arc<Self>) -> Result<Admission> {
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        if before >= self.capacity {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            self.rejected.fetch_add(1, Ordering::Relaxed);
            return Err(Error::Overloaded(format!(
                "{} heavy requests (traversals of large graphs, past states, diffs, merges, searches) are running \
                 or queued, the most this server takes; try again in a moment",
                self.capacity
            )));
        }
        Ok(Admission(self.clone()))
    }

    pub(super) async fn permit(&self) -> Result<OwnedSemaphorePermit> {
        if let Ok(p) = self.permits.clone().try_acquire_owned() {
            return Ok(p);
        }
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        permit.map_err(Error::internal)
    }

    /// Run `work` on a lane thread once a worker is free. The permit
    /// goes with the work, so a caller that stops waiting (a query cut by
    /// its timeout) frees nothing until the work is done.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self.permit().await?;
        self.pool
            .run(move || {
                let _permit = permit;
                work()
            })
            .await
            .map_err(|panic| {
                let what = panic.downcast_ref::<&str>().copied().or(panic.downcast_ref::<String>().map(|s| s.as_str()));
                Error::internal(anyhow::anyhow!("heavy work panicked: {}", what.unwrap_or("(no message)")))
            })
    }

    pub(super) fn stats(&self) -> LaneStats {
        LaneStats {
            workers: self.workers,
            queue: self.capacity - self.workers,
            admitted: self.admitted.load(Ordering::Acquire),
            running: self.workers - self.permits.available_permits().min(self.workers),
            waiting: self.waiting.load(Ordering::Acquire),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }
}

impl super::Engine {
    /// A place in the heavy lane for a request the API can tell is heavy,
    /// or `OVERLOADED` when `workers + queue` such requests are in already.
    pub fn admit_heavy(&self) -> Result<Admission> {
        self.inner.lane.admit()
    }

    /// Run `work` — CPU work that grows with the ontology or the answer —
    /// on the blocking pool, at most `workers` such pieces at once.
    pub async fn heavy<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.inner.lane.run(work).await
    }

    pub fn lane_stats(&self) -> LaneStats {
        self.inner.lane.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_workers_plus_queue_then_refuses_until_one_leaves() {
        let lane = Lane::new(2, 1, 0);
        let held: Vec<_> = (0..3).map(|_| lane.admit().expect("room")).collect();
        let refused = lane.admit().err().expect("full");
        assert_eq!(refused.code(), Error::OVERLOADED);
        assert_eq!(lane.stats().rejected, 1);
        assert_eq!(lane.stats().admitted, 3);
        drop(held);
        assert_eq!(lane.stats().admitted, 0);
        assert!(lane.admit().is_ok());
    }

    #[tokio::test]
    async fn runs_at_most_workers_at_once() {
        let lane = Lane::new(1, 0, 0);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let l = lane.clone();
        let first = tokio::spawn(async move { l.run(move || rx.recv().is_ok()).await });
        while lane.stats().running == 0 {
            tokio::task::yield_now().await;
        }
        let l = lane.clone();
        let second = tokio::spawn(async move { l.run(|| 7).await });
        while lane.stats().waiting == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(lane.stats().running, 1);
        tx.send(()).expect("first is waiting");
        assert!(first.await.expect("joined").expect("ran"));
        assert_eq!(second.await.expect("joined").expect("ran"), 7);
        assert_eq!(lane.stats().waiting, 0);
    }
}
