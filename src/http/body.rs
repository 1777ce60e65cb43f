//! Reading a request body within the size limit and the request timeout.
//! A body over the limit is still read, and discarded, up to
//! [`DRAIN_BYTES`] past the limit: a client that is still sending then
//! finishes and reads the 413, instead of failing with a broken pipe
//! when the server closes a connection it has not read to the end.

use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;

/// How far past the limit a body is read and discarded (64 MiB); beyond
/// that the 413 is sent and the connection closed.
pub const DRAIN_BYTES: usize = 64 * 1024 * 1024;

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Timeout,
    Unreadable,
}

/// The whole body, at most `limit` bytes, within `timeout`.
pub async fn read(body: Body, limit: usize, timeout: Option<Duration>) -> Result<Bytes, BodyError> {
    let read = collect(body, limit);
    match timeout {
        Some(t) => tokio::time::timeout(t, read).await.map_err(|_| BodyError::Timeout)?,
        None => read.await,
    }
}

async fn collect(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| BodyError::Unreadable)?.into_data() else { continue };
        seen = seen.saturating_add(data.len());
        if seen <= limit {
            buf.extend_from_slice(&data);
        } else if seen > limit.saturating_add(DRAIN_BYTES) {
            return Err(BodyError::TooLarge);
        } else if !buf.is_empty() {
            buf = Vec::new();
        }
    }
    if seen > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(Bytes::from(buf))
}
