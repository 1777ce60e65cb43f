//! The audit log: every admin action (written in the same transaction as
//! the action itself, by the store) and every denied request, each also
//! one JSON log line (target `audit`). Denials are queued and written in
//! batches by one task, so a flood of refused requests costs one insert
//! per batch, not one transaction per request; past the queue's bound
//! they are counted and logged, not queued (an unauthenticated flood must
//! not be able to fill memory).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::{mpsc, oneshot};

use super::Principal;
use crate::store::{AuditEntry, Store};

/// Denials waiting to be written.
const QUEUE: usize = 10_000;
/// Most denials written in one transaction.
const BATCH: usize = 500;

enum Message {
    Entry(AuditEntry),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// Cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    queue: mpsc::Sender<Message>,
    dropped: Arc<AtomicU64>,
}

impl AuditLog {
    pub(super) fn start(store: Arc<dyn Store>) -> AuditLog {
        let (queue, mut rx) = mpsc::channel::<Message>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut flushes = vec![];
            while let Some(first) = rx.recv().await {
                let mut next = Some(first);
                while let Some(m) = next.take() {
                    match m {
                        Message::Entry(e) => batch.push(e),
                        Message::Flush(done) => flushes.push(done),
                    }
                    if batch.len() < BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                if !batch.is_empty() {
                    if let Err(e) = store.append_audit(&batch).await {
                        tracing::error!(error = %e, events = batch.len(), "writing audit events failed");
                    }
                    batch.clear();
                }
                for done in flushes.drain(..) {
                    let _ = done.send(());
                }
            }
        });
        AuditLog { queue, dropped: Arc::default() }
    }

    /// An event by `principal`, now.
    pub fn entry(
        &self,
        principal: &Principal,
        action: &str,
        target: Option<&str>,
        outcome: &str,
        request_id: Option<String>,
    ) -> AuditEntry {
        AuditEntry {
            at: Utc::now(),
            principal: principal.name.clone(),
            action: action.to_owned(),
            target: target.map(str::to_owned),
            outcome: outcome.to_owned(),
            request_id,
            detail: None,
        }
    }

    /// The JSON log line of an event.
    pub fn log_line(&self, e: &AuditEntry) {
        tracing::info!(
            target: "audit",
            principal = %e.principal,
            action = %e.action,
            target_name = e.target.as_deref().unwrap_or(""),
            outcome = %e.outcome,
            request_id = e.request_id.as_deref().unwrap_or(""),
            "audit"
        );
    }

    /// Record a denied request (queued; written within moments).
    pub fn denied(&self, e: AuditEntry) {
        self.log_line(&e);
        if self.queue.try_send(Message::Entry(e)).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "audit queue full: denied requests not recorded in the audit table");
            }
        }
    }

    /// Denials not recorded because the queue was full, since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Wait until every denial queued so far is written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}
