//! Checkpoints (docs/ARCHITECTURE.md, "Checkpoints"): a root branch's head
//! state as compact bytes (`model::checkpoint`) in the database, so a start
//! decodes one byte string and replays only the commits after it instead of
//! scanning and parsing every entity row. A checkpoint is a cache: missing,
//! cut or damaged, the start loads the rows and says so in the log.
//!
//! Written in the background once `--checkpoint-changes` entity changes
//! have been committed (or replayed at start) on a root branch since its
//! newest checkpoint, and by `ontograph import`. Forks are not
//! checkpointed: loaded as their parent's state plus their own rows, they
//! share the parent's structure, which a state of their own would not.

use std::collections::HashMap;
use std::sync::Mutex as StdMutex;
use std::time::Instant;

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::{history, BranchHandle, Engine};
use crate::error::{Error, Result};
use crate::model::{checkpoint, Ontology};
use crate::store::{BranchRecord, NewCheckpoint, Store};

/// Entity changes on a branch after which a checkpoint is written.
pub const DEFAULT_CHECKPOINT_CHANGES: u64 = 100_000;

/// Threads decoding a checkpoint at start.
const DECODE_THREADS: usize = 2;

/// How a branch's head was loaded at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    /// From its entity rows (and its ancestors').
    Rows,
    /// From the checkpoint at `version`, then `replayed` entity rows of
    /// the commits after it.
    Checkpoint { version: i64, replayed: usize },
}

/// Changes committed since each root branch's newest checkpoint.
pub(super) struct Checkpoints {
    /// 0: never write (reading still works).
    every: u64,
    /// By branch incarnation: changes not in a checkpoint, and whether
    /// one is being written.
    pending: StdMutex<HashMap<u64, (u64, bool)>>,
    /// How each branch loaded at start (for the log and tests).
    loaded: StdMutex<HashMap<String, Loaded>>,
}

impl Checkpoints {
    pub(super) fn new(every: u64) -> Checkpoints {
        Checkpoints { every, pending: Default::default(), loaded: Default::default() }
    }

    /// Count `changes` on `uid`; true when a checkpoint should be written
    /// now (the caller writes it and calls `written`).
    fn count(&self, uid: u64, changes: u64) -> bool {
        if self.every == 0 {
            return false;
        }
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let entry = pending.entry(uid).or_default();
        entry.0 += changes;
        if entry.1 || entry.0 < self.every {
            return false;
        }
        *entry = (0, true);
        true
    }

    fn written(&self, uid: u64) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = pending.get_mut(&uid) {
            entry.1 = false;
        }
    }
}

/// A root branch's head from its newest checkpoint and the commits after
/// it; `None` (the caller loads the rows) when there is no checkpoint or it
/// cannot be used, logged with the reason.
/// Returns the state, the checkpoint's version and the rows replayed.
pub(super) async fn load(store: &dyn Store, rec: &BranchRecord) -> Result<Option<(Ontology, i64, usize)>> {
    let started = Instant::now();
    let Some(cp) = store.checkpoint(&rec.name).await? else { return Ok(None) };
    let (name, version) = (rec.name.clone(), cp.version);
    let refuse = |why: &str| {
        tracing::warn!(branch = %name, checkpoint = version, why, "checkpoint not used; loading the branch from its rows");
    };
    if cp.version > rec.head {
        refuse("it is ahead of the branch");
        return Ok(None);
    }
    let read_ms = started.elapsed().as_millis() as u64;
    let digest = cp.digest;
    let decoded = tokio::task::spawn_blocking(move || {
        if hex(&Sha256::digest(&cp.data)) != digest {
            return Err("its bytes do not match its digest (cut or damaged)".to_owned());
        }
        checkpoint::decode(&cp.data, DECODE_THREADS).map_err(|e| e.to_string())
    })
    .await
    .map_err(Error::internal)?;
    let base = match decoded {
        Ok(o) => o,
        Err(why) => {
            refuse(&why);
            return Ok(None);
        }
    };
    // The commits after the checkpoint: their rows as of the head.
    let keys = store.touched(&rec.name, cp.version, rec.head).await?;
    let rows = store.rows_at(&rec.name, rec.head, &keys).await?;
    let replayed = rows.len();
    let ontology =
        tokio::task::spawn_blocking(move || history::overlay(&base, rows)).await.map_err(Error::internal)??;
    tracing::info!(
        branch = %rec.name,
        version = rec.head,
        checkpoint = cp.version,
        entities = cp.entities,
        replayed,
        read_ms,
        total_ms = started.elapsed().as_millis() as u64,
        "branch loaded from its checkpoint"
    );
    Ok(Some((ontology, cp.version, replayed)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Engine {
    /// How `branch` was loaded when this engine started (`None`: created
    /// since, or loaded from elsewhere).
    pub fn loaded_from(&self, branch: &str) -> Option<Loaded> {
        self.inner.checkpoints.loaded.lock().unwrap_or_else(|p| p.into_inner()).get(branch).copied()
    }

    pub(super) fn record_load(&self, branch: &str, loaded: Loaded, pending: u64) {
        let c = &self.inner.checkpoints;
        c.loaded.lock().unwrap_or_else(|p| p.into_inner()).insert(branch.to_owned(), loaded);
        if let Some(h) = self.inner.branches.load().get(branch).filter(|h| h.meta.parent.is_none()) {
            self.checkpoint_after(h, pending);
        }
    }

    /// Count a local commit's changes; past the threshold, write the
    /// branch's checkpoint in the background.
    pub(super) fn checkpoint_after(&self, handle: &BranchHandle, changes: u64) {
        if handle.meta.parent.is_some() || !self.inner.checkpoints.count(handle.meta.uid, changes) {
            return;
        }
        let (engine, uid, name) = (self.clone(), handle.meta.uid, handle.meta.name.clone());
        tokio::spawn(async move {
            if let Err(e) = engine.checkpoint(&name).await {
                tracing::warn!(branch = %name, error = %e, "writing a checkpoint failed; the next one is tried later");
            }
            engine.inner.checkpoints.written(uid);
        });
    }

    /// Write `branch`'s head as its checkpoint now: the version written,
    /// or `None` when the branch is a fork or a checkpoint at that version
    /// or later exists already. Encoding runs on the heavy lane (seconds
    /// at a million types).
    pub async fn checkpoint(&self, branch: &str) -> Result<Option<i64>> {
        let handle = self.handle(branch)?;
        if handle.meta.parent.is_some() {
            return Ok(None);
        }
        let started = Instant::now();
        let state = handle.state.load_full();
        let ontology = state.ontology.clone();
        let (data, digest, entities) = self
            .heavy(move || {
                let data = checkpoint::encode(&ontology);
                let digest = hex(&Sha256::digest(&data));
                (data, digest, ontology.entity_count() as i64)
            })
            .await?;
        let cp =
            NewCheckpoint { branch, version: state.version, entities, digest, data: &data, created_at: Utc::now() };
        let written = self.inner.store.put_checkpoint(&cp).await?;
        let ms = started.elapsed().as_millis() as u64;
        if written {
            tracing::info!(branch, version = state.version, entities, bytes = data.len(), ms, "checkpoint written");
        } else {
            tracing::debug!(branch, version = state.version, "checkpoint not written: one as new is stored");
        }
        Ok(written.then_some(state.version))
    }
}
