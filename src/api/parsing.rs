//! Parsing large requests on a few dedicated threads. Parsing costs far
//! more memory than the text it reads (async-graphql's parser about 1 KB
//! per token; a JSON body of small numbers 40-60 times its size), and the
//! allocator keeps what a thread used for the next request on that thread.
//! So large texts (GraphQL documents over 16 KiB, request bodies over 64
//! KiB) are parsed here, on `--max-concurrent-parses` threads, never on the
//! async workers: how many are parsed at once is bounded, the memory they
//! leave behind is that of these threads only, and a parse never holds up
//! a light request. Past a short queue, a request is `OVERLOADED`.

use std::sync::mpsc;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::error::Error;

/// Documents at least this long are parsed here.
pub const LARGE_DOCUMENT: usize = 16 * 1024;
/// Request bodies at least this long are parsed here.
pub const LARGE_BODY: usize = 64 * 1024;
/// Parses waiting for a thread before requests are refused.
const QUEUE: usize = 64;

type Job = Box<dyn FnOnce() + Send>;

/// The parser threads (cheap to clone).
#[derive(Clone)]
pub struct Parsers(Arc<mpsc::SyncSender<Job>>);

impl Parsers {
    /// `threads` parser threads (at least one).
    pub fn new(threads: usize) -> Parsers {
        let (tx, rx) = mpsc::sync_channel::<Job>(QUEUE);
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("ontograph-parse-{i}")).spawn(move || loop {
                // Held only to take the next job, never while running it.
                let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                    Ok(job) => job,
                    Err(_) => return,
                };
                job();
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "starting a parser thread");
            }
        }
        Parsers(Arc::new(tx))
    }

    /// Run `parse` on a parser thread; `OVERLOADED` when too many wait.
    pub async fn run<T: Send + 'static>(&self, parse: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(parse());
        });
        self.0
            .try_send(job)
            .map_err(|_| Error::Overloaded("too many large requests are being parsed; try again in a moment".into()))?;
        result.await.map_err(|_| Error::internal(anyhow::anyhow!("a parser thread dropped its job")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_off_the_runtime_and_a_full_queue_is_overloaded() {
        let parsers = Parsers::new(1);
        let thread = parsers.run(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
        assert_eq!(thread.as_deref(), Some("ontograph-parse-0"));
        // Block the one thread, fill the queue: the next is refused.
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = oneshot::channel::<()>();
        let blocked = tokio::spawn(parsers.clone().run_owned(move || {
            let _ = started.send(());
            wait.recv().ok()
        }));
        running.await.unwrap();
        let queued: Vec<bool> = (0..QUEUE).map(|_| parsers.0.try_send(Box::new(|| ())).is_ok()).collect();
        assert!(queued.iter().all(|q| *q), "the queue holds {QUEUE}");
        let refused = parsers.run(|| ()).await.unwrap_err();
        assert_eq!(refused.code(), Error::OVERLOADED);
        release.send(()).unwrap();
        assert!(blocked.await.unwrap().is_ok());
        // The queued jobs run one by one; once they have, there is room again.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let drained = loop {
            match parsers.run(|| 7).await {
                Ok(v) => break v,
                Err(_) if std::time::Instant::now() < deadline => tokio::task::yield_now().await,
                Err(e) => panic!("the queue never drained: {e}"),
            }
        };
        assert_eq!(drained, 7, "the queue drains");
    }

    impl Parsers {
        async fn run_owned<T: Send + 'static>(self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
            self.run(f).await
        }
    }
}
