//! The accept loop: HTTP/1.1 connections (keep-alive, WebSocket upgrades)
//! served by hyper under a connection cap and a header-read timeout, with
//! graceful shutdown. Our own loop instead of `axum::serve`, which sets
//! neither: one client could hold a connection open forever by sending a
//! request head a byte at a time (slowloris), and any number of them could
//! take every file descriptor.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// File descriptors kept out of the connection cap for everything else the
/// process opens: database files or sockets (a pool), the listener, logs,
/// the runtime's own.
const RESERVED_FDS: usize = 256;

/// How the accept loop treats connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Connections held at once (HTTP and upgraded WebSockets alike).
    pub max_connections: usize,
    /// Time a client has to send a whole request head, from the moment the
    /// server starts waiting for one (so also the idle keep-alive time).
    pub header_read_timeout: Duration,
}

/// One connection's place under the cap, shared by its requests (in their
/// extensions): a WebSocket handler keeps it for as long as the upgraded
/// socket lives, so WebSockets count against the cap too.
#[derive(Clone)]
pub struct ConnSlot(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

/// The cap in force: `--max-connections`, lowered when the open-file
/// limit would be reached first (accept would then fail with EMFILE, and
/// so would opening database files).
pub fn effective_cap(max_connections: usize) -> usize {
    match open_file_limit() {
        Some(limit) if limit.saturating_sub(RESERVED_FDS) < max_connections => {
            let cap = limit.saturating_sub(RESERVED_FDS).max(1);
            tracing::warn!(
                max_connections,
                open_file_limit = limit,
                cap,
                "--max-connections exceeds the open-file limit (ulimit -n) less {RESERVED_FDS} reserved; \
                 capping connections at {cap} (raise the limit to allow more)"
            );
            cap
        }
        _ => max_connections,
    }
}

/// The soft open-file limit (Linux: `/proc/self/limits`; elsewhere unknown).
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

/// Serve `app` on `listener` until `stop`, then stop accepting, let each
/// connection finish the request it is in (idle ones close at once) and
/// return once they all have. Upgraded WebSockets are not waited for here
/// (the WebSocket loop has its own shutdown).
///
/// Past the cap, new connections wait in the kernel's accept queue (up to
/// its backlog) rather than being accepted and closed: a burst of clients
/// is served as places free up, which the header-read and WebSocket
/// timeouts guarantee happens, and a refused client would only retry.
pub async fn serve(listener: TcpListener, app: Router, limits: ConnLimits, stop: CancellationToken) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let connections = TaskTracker::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stop.cancelled() => break,
        };
        let io = tokio::select! {
            r = listener.accept() => match r {
                Ok((io, _)) => io,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        let slot = ConnSlot(Arc::new(permit));
        let service = app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(slot.clone());
            req
        });
        let conn = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(service)).with_upgrades();
        let stop = stop.clone();
        connections.spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            // A client gone or too slow (header-read timeout) is routine.
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    // No new connections from here on (the shutdown test connects to check).
    drop(listener);
    connections.close();
    connections.wait().await;
    Ok(())
}

/// Like hyper 0.14's server: a connection that failed before it was
/// accepted is skipped; anything else (EMFILE, ENOMEM) is logged and
/// accepting pauses for a second rather than spinning.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
