//! Several processes on one PostgreSQL database (docs/production.md,
//! "Replicas"). Every process keeps the whole state in memory; the
//! database is the source of truth. A process announces what it changed
//! (`store::notices`), and every process catches up from the tables: on
//! each announcement, every `poll` besides (so a lost announcement only
//! delays), and before each write (so a write on a replica that is behind
//! is checked against the database's head, never against a stale one, and
//! no client sees a `VERSION_CONFLICT` that only the lag caused).
//!
//! An announcement of a commit names the branch and version: a replica
//! behind that version catches up that branch alone (one row of the
//! branch table, then the commits' rows); any other announcement, and
//! every poll, catches up every branch.
//!
//! Catching up a branch applies the rows of the commits it missed to its
//! state, as a local commit would (graph patched from the old state,
//! cached answers of the old head dropped, commits broadcast to
//! subscribers in version order); branches created, deleted or
//! (un)protected elsewhere are loaded, dropped or updated.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::{history, load_branches, BranchHandle, BranchState, Engine, PublishedCommit};
use crate::error::{Error, Result};

/// How long `branch(minVersion:)` waits for a replica to catch up.
pub const MIN_VERSION_WAIT: Duration = Duration::from_secs(5);
use crate::store::notices::{Notice, Notices};
use crate::store::BranchRecord;

/// How this process follows the others.
pub(super) struct Replica {
    notices: Arc<dyn Notices>,
    poll: Duration,
    /// When the last catch-up over every branch succeeded.
    caught_up: Mutex<Instant>,
    /// The newest head of each branch this process has heard of (from an
    /// announcement or the branch table): how far behind it is.
    heard: Mutex<HashMap<String, i64>>,
}

impl Replica {
    fn hear(&self, branch: &str, head: i64) {
        let mut heard = self.heard.lock().unwrap_or_else(|p| p.into_inner());
        let at = heard.entry(branch.to_owned()).or_insert(head);
        *at = (*at).max(head);
    }
}

impl Engine {
    /// Announce local changes through `notices` and catch up with the
    /// other processes': on every announcement and every `poll`, until
    /// `stop`.
    pub fn replicate(&self, notices: Arc<dyn Notices>, poll: Duration, stop: CancellationToken) {
        let replica = Replica {
            notices: notices.clone(),
            poll,
            caught_up: Mutex::new(Instant::now()),
            heard: Default::default(),
        };
        let _ = self.inner.replica.set(replica);
        let engine = self.clone();
        tokio::spawn(async move {
            loop {
                // Whatever was announced while this process was not
                // listening (at start, after a lost connection) is caught
                // up right after listening, not at the next poll.
                let listening = notices.listen().await;
                engine.catch_up_all().await;
                let mut wakeups = match listening {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for other replicas' commits failed; polling until it works");
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = tokio::time::sleep(poll) => continue,
                        }
                    }
                };
                let mut last_full = tokio::time::Instant::now();
                loop {
                    let notice = tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep_until(last_full + poll) => None,
                        w = wakeups.next() => match w {
                            Some(n) => Some(n),
                            None => break, // the connection was lost: listen again
                        },
                    };
                    if let Some(n) = notice {
                        match engine.follow(&n).await {
                            Ok(true) => continue,
                            Ok(false) => {}
                            Err(e) => tracing::warn!(error = %e, branch = %n.branch, "catching up a branch failed"),
                        }
                    }
                    last_full = tokio::time::Instant::now();
                    engine.catch_up_all().await;
                }
            }
        });
    }

    /// Catch up every branch; on success note when (`replication_lag`).
    async fn catch_up_all(&self) {
        match self.catch_up().await {
            Ok(()) => {
                if let Some(r) = self.inner.replica.get() {
                    *r.caught_up.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
                }
            }
            Err(e) => tracing::warn!(error = %e, "catching up with the database failed; retrying"),
        }
    }

    /// Whether other processes may write to the same database.
    pub(super) fn replicated(&self) -> bool {
        self.inner.replica.get().is_some()
    }

    /// How long ago this replica last caught up with every branch, and how
    /// long is too long (five polls, at least 10 s): `/readyz` reports a
    /// replica behind that bound as not ready. `None` when no other
    /// process can write to the database.
    pub fn replication_lag(&self) -> Option<(Duration, Duration)> {
        let r = self.inner.replica.get()?;
        let since = r.caught_up.lock().unwrap_or_else(|p| p.into_inner()).elapsed();
        Some((since, (r.poll * 5).max(Duration::from_secs(10))))
    }

    /// Wait until `name`'s head is at `min` or later (read your writes made
    /// through another replica), catching up with the database first; at
    /// most `MIN_VERSION_WAIT`, else `LIMIT_EXCEEDED`. Immediate when the
    /// head is there already or the branch does not exist.
    pub async fn wait_for_version(&self, name: &str, min: i64) -> Result<()> {
        let at = |e: &Engine| e.branch(name).map(|b| b.state.version);
        // Subscribed before looking: no commit lands unseen in between.
        let mut commits = self.subscribe();
        if at(self).is_none_or(|v| v >= min) {
            return Ok(());
        }
        if self.replicated() {
            self.catch_up().await?;
        }
        let deadline = tokio::time::Instant::now() + MIN_VERSION_WAIT;
        loop {
            match at(self) {
                Some(v) if v < min => {}
                _ => return Ok(()),
            }
            if tokio::time::timeout_at(deadline, commits.recv()).await.is_err() {
                let v = at(self).unwrap_or_default();
                return Err(Error::LimitExceeded(format!(
                    "branch {name} is at version {v}; minVersion {min} was not reached within {MIN_VERSION_WAIT:?}"
                )));
            }
        }
    }

    /// Per branch, how many commits the database has that this replica
    /// has heard of and not applied yet. Empty without replicas.
    pub fn replication_lag_versions(&self) -> Vec<(String, i64)> {
        let Some(r) = self.inner.replica.get() else { return Vec::new() };
        let heard = r.heard.lock().unwrap_or_else(|p| p.into_inner());
        self.branches()
            .into_iter()
            .map(|b| {
                let behind = heard.get(&b.meta.name).map_or(0, |h| (h - b.state.version).max(0));
                (b.meta.name.clone(), behind)
            })
            .collect()
    }

    /// Tell the other processes that `branch` changed: `version` is the
    /// head a commit made, `None` for a change of the branch itself.
    pub(super) async fn announce(&self, branch: &str, version: Option<i64>) {
        if let Some(r) = self.inner.replica.get() {
            r.notices.announce(branch, version).await;
        }
    }

    /// Act on another process's announcement: a commit on a branch known
    /// here catches that branch up alone (true). Anything else (a branch
    /// created, deleted or (un)protected, a branch unknown here) needs
    /// every branch caught up (false).
    async fn follow(&self, n: &Notice) -> Result<bool> {
        let Some(version) = n.version else { return Ok(false) };
        if let Some(r) = self.inner.replica.get() {
            r.hear(&n.branch, version);
        }
        let Ok(handle) = self.handle(&n.branch) else { return Ok(false) };
        if handle.state.load().version >= version {
            return Ok(true); // applied already (a write here caught up)
        }
        let _writer = handle.write.lock().await;
        self.catch_up_locked(&handle).await?;
        Ok(true)
    }

    /// Bring every branch to the database's state.
    pub async fn catch_up(&self) -> Result<()> {
        let records = {
            // Read under the admin lock: a branch created or deleted here
            // meanwhile is in the records exactly when it is in the map.
            let _admin = self.inner.admin.lock().await;
            let records = self.inner.store.branches().await?;
            let local = self.inner.branches.load_full();
            // Deleted elsewhere (or deleted and created again).
            let gone: Vec<Arc<BranchHandle>> = local
                .values()
                .filter(|h| !records.iter().any(|r| r.name == h.meta.name && r.created_at == h.meta.created_at))
                .cloned()
                .collect();
            for h in &gone {
                self.cache_deleted(h.meta.uid);
                self.inner.history.forget(h.meta.uid);
            }
            let new: Vec<BranchRecord> = records
                .iter()
                .filter(|r| local.get(&r.name).is_none_or(|h| h.meta.created_at != r.created_at))
                .cloned()
                .collect();
            if !gone.is_empty() || !new.is_empty() {
                // Only the new branches are loaded; a fork against its
                // parent as known here (brought to the fork point from the
                // rows), or as loaded just before it.
                let known = local
                    .iter()
                    .filter(|(name, h)| {
                        !gone.iter().any(|g| Arc::ptr_eq(g, h)) && !new.iter().any(|r| &r.name == *name)
                    })
                    .map(|(name, h)| (name.clone(), h.clone()))
                    .collect();
                let (loaded, _) = load_branches(self.inner.store.as_ref(), &records, &known).await?;
                self.publish_branches(|m| {
                    for h in &gone {
                        m.remove(&h.meta.name);
                    }
                    for r in &new {
                        if let Some(h) = loaded.get(&r.name) {
                            m.insert(r.name.clone(), h.clone());
                        }
                    }
                });
            }
            records
        };
        if let Some(replica) = self.inner.replica.get() {
            // The branch table is the truth: deleted branches are forgotten,
            // one created again starts from its own head.
            let heads = records.iter().map(|r| (r.name.clone(), r.head)).collect();
            *replica.heard.lock().unwrap_or_else(|p| p.into_inner()) = heads;
        }
        for r in &records {
            let Ok(handle) = self.handle(&r.name) else { continue };
            let cur = handle.state.load();
            if handle.meta.created_at != r.created_at || (r.head <= cur.version && r.protected == cur.protected) {
                continue; // another incarnation, or nothing to do
            }
            let _writer = handle.write.lock().await;
            if r.protected != handle.state.load().protected {
                // Protection may have changed here since `records` was
                // read: decide on a fresh read, under the writer lock.
                self.catch_up_locked(&handle).await?;
            } else {
                self.catch_up_branch(&handle, r).await?;
            }
        }
        Ok(())
    }

    /// Before a write on a replica: bring `handle` to the database's head.
    /// The caller holds the branch's writer lock.
    pub(super) async fn catch_up_before_write(&self, handle: &BranchHandle) -> Result<()> {
        if !self.replicated() {
            return Ok(());
        }
        self.catch_up_locked(handle).await
    }

    /// `handle`'s branch as the database has it now; the caller holds its
    /// writer lock.
    async fn catch_up_locked(&self, handle: &BranchHandle) -> Result<()> {
        match self.inner.store.branch(&handle.meta.name).await? {
            Some(r) if r.created_at == handle.meta.created_at => {
                if let Some(replica) = self.inner.replica.get() {
                    replica.hear(&r.name, r.head);
                }
                self.catch_up_branch(handle, &r).await
            }
            // Deleted elsewhere (and maybe created again): the write fails
            // in the store; the next full catch-up swaps the branch.
            _ => Ok(()),
        }
    }

    /// Apply the commits of `handle`'s branch after its local head up to
    /// `rec.head`, and its protection. The caller holds the writer lock.
    async fn catch_up_branch(&self, handle: &BranchHandle, rec: &BranchRecord) -> Result<()> {
        let cur = handle.state.load_full();
        if rec.head > cur.version {
            let store = self.inner.store.as_ref();
            let keys = store.touched(&rec.name, cur.version, rec.head).await?;
            let rows = store.rows_at(&rec.name, rec.head, &keys).await?;
            let base = cur.ontology.clone();
            let ontology = self.heavy(move || history::overlay(&base, rows)).await??;
            let next = BranchState::changed_graph(rec.head, rec.protected, Arc::new(ontology), &cur, keys);
            // The commits, oldest first, for subscribers.
            let missed = (rec.head - cur.version).min(super::COMMIT_BUFFER as i64);
            let mut commits = store.commits(&rec.name, Some(rec.head + 1), missed).await?;
            commits.reverse();
            handle.state.store(Arc::new(next));
            self.cache_committed(handle.meta.uid, rec.head);
            for record in commits {
                let published = PublishedCommit { meta: handle.meta.clone(), record };
                let _ = self.inner.commits.send(Arc::new(published));
            }
            tracing::debug!(branch = %rec.name, from = cur.version, to = rec.head, "caught up with the database");
        } else if rec.protected != cur.protected && rec.head == cur.version {
            let next = BranchState::same_graph(cur.version, rec.protected, cur.ontology.clone(), &cur);
            handle.state.store(Arc::new(next));
        }
        Ok(())
    }
}
