//! The heavy lane's own threads. Heavy work ran on tokio's blocking pool,
//! whose threads the kernel schedules exactly like the async workers: with
//! two cores, one busy lane thread and the clients' own work, a light
//! request waited its turn behind a 28k-node answer being written (the
//! p99 of `{ __typename }` grew ×4–7 under eight heavy clients). These
//! threads run at a higher niceness (`--heavy-lane-nice`, Linux), so when
//! the cores are contended the kernel gives the async workers the CPU
//! first, and the lane takes what is left — all of it when they are idle.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// `workers` named threads taking jobs from one queue; they end when the
/// pool is dropped.
pub(super) struct Pool {
    jobs: mpsc::Sender<Job>,
    /// Threads that started; with none (the system refused them all) work
    /// goes to tokio's blocking pool instead of waiting forever.
    threads: usize,
}

impl Pool {
    pub(super) fn new(workers: usize, nice: i32) -> Pool {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let mut threads = 0;
        for n in 0..workers {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("ontograph-heavy-{n}")).spawn(move || {
                lower_priority(nice);
                loop {
                    // The lock is held only while taking a job, never while running one.
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the pool was dropped
                    }
                }
            });
            match spawned {
                Ok(_) => threads += 1,
                Err(e) => tracing::error!(error = %e, "could not start a heavy-lane thread"),
            }
        }
        Pool { jobs, threads }
    }

    /// Run `work` on a lane thread; its result, or the panic's payload
    /// when it panicked (a bug: the caller reports it as internal).
    pub(super) async fn run<T, F>(&self, work: F) -> std::thread::Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        if self.threads == 0 {
            return tokio::task::spawn_blocking(work).await.map_err(|e| Box::new(e.to_string()) as _);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(work)));
        });
        if self.jobs.send(job).is_err() {
            return Err(Box::new("the heavy lane has no threads"));
        }
        rx.await.unwrap_or_else(|_| Err(Box::new("a heavy-lane thread ended before answering")))
    }
}

/// Make the calling thread nicer (Linux schedules threads, not processes,
/// by niceness). Raising it needs no privilege; failing leaves it as it was.
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    if nice != 0 {
        // SAFETY: plain system calls on the calling thread's own id.
        let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, nice) };
        if rc != 0 {
            tracing::warn!(nice, error = %std::io::Error::last_os_error(), "could not lower the heavy lane's priority");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}
