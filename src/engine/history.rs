//! Past states of a branch (time travel, fork points, merge bases). A past
//! state is the head with the entities changed since undone: O(changes
//! since then), not O(size), and it shares structure with the head, which
//! keeps diffs between the two cheap. Past states never change, so the
//! most recently used are kept.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::{BranchHandle, BranchState, Engine};
use crate::error::{Error, Result};
use crate::model::{Entity, EntityKey, Ontology};
use crate::store::{lineage, BranchRecord, EntityRow, Store};

/// Past states kept in memory. Their entities share structure with the
/// head, but a past state that was traversed holds a graph of its own
/// (~70 MB at a million types), hence few.
const KEPT: usize = 8;

/// Recently used past states, by (branch uid, version).
#[derive(Default)]
pub(super) struct History {
    states: Mutex<VecDeque<(u64, i64, Arc<BranchState>)>>,
}

impl History {
    fn get(&self, uid: u64, version: i64) -> Option<Arc<BranchState>> {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let i = states.iter().position(|(u, v, _)| (*u, *v) == (uid, version))?;
        let hit = states.remove(i)?;
        let state = hit.2.clone();
        states.push_front(hit);
        Some(state)
    }

    fn put(&self, uid: u64, version: i64, state: Arc<BranchState>) {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        states.push_front((uid, version, state));
        states.truncate(KEPT);
    }

    pub(super) fn forget(&self, uid: u64) {
        self.states.lock().unwrap_or_else(|p| p.into_inner()).retain(|(u, _, _)| *u != uid);
    }
}

impl Engine {
    /// The state of a branch right after its commit `at` (0 ≤ at ≤ head).
    pub(super) async fn state_at(&self, handle: &BranchHandle, at: i64) -> Result<Arc<BranchState>> {
        let head = handle.state.load_full();
        if at == head.version {
            return Ok(head);
        }
        if !(0..head.version).contains(&at) {
            let msg = format!("branch {} has versions 0..={}", handle.meta.name, head.version);
            return Err(Error::bad_input("at", msg));
        }
        if let Some(state) = self.inner.history.get(handle.meta.uid, at) {
            return Ok(state);
        }
        let records = self.records();
        let store = self.inner.store.as_ref();
        let name = &handle.meta.name;
        let keys = store.touched(name, at, head.version).await?;
        let rows = rows_at(store, &records, name, at, keys.clone()).await?;
        let base = head.ontology.clone();
        // A past state of a large ontology is heavy work: on the lane.
        let ontology = self.inner.lane.run(move || overlay(&base, rows)).await??;
        // Its graph is the head's with the touched entities' edges undone.
        let state = BranchState::changed_graph(at, head.protected, Arc::new(ontology), &head, keys);
        let state = Arc::new(state);
        self.inner.history.put(handle.meta.uid, at, state.clone());
        Ok(state)
    }
}

/// `name` as of commit `at`, from its state `head` at version `head_version`.
pub(super) async fn ontology_at(
    store: &dyn Store,
    records: &[BranchRecord],
    name: &str,
    head: &Arc<Ontology>,
    head_version: i64,
    at: i64,
) -> Result<Ontology> {
    // Either way: the keys changed between the two versions, as of `at`
    // (a replica's parent may be behind a fork point it has not heard of).
    let keys = store.touched(name, at.min(head_version), at.max(head_version)).await?;
    undo(store, records, name, head, at, keys).await
}

/// `head` with the entities `keys` put back as they were after commit `at`.
async fn undo(
    store: &dyn Store,
    records: &[BranchRecord],
    name: &str,
    head: &Arc<Ontology>,
    at: i64,
    keys: Vec<EntityKey>,
) -> Result<Ontology> {
    let rows = rows_at(store, records, name, at, keys).await?;
    let head = head.clone();
    tokio::task::spawn_blocking(move || overlay(&head, rows)).await.map_err(Error::internal)?
}

/// The rows of `keys` on `name` as of `at`, through its ancestors: a key
/// the branch never wrote falls through to its parent at the fork point.
/// Keys no ancestor has come back as deletions.
pub(super) async fn rows_at(
    store: &dyn Store,
    records: &[BranchRecord],
    name: &str,
    at: i64,
    mut keys: Vec<EntityKey>,
) -> Result<Vec<EntityRow>> {
    let mut out = Vec::with_capacity(keys.len());
    for (name, upto) in lineage(records, name, at)? {
        if keys.is_empty() {
            break;
        }
        let found = store.rows_at(name, upto, &keys).await?;
        let got: std::collections::HashSet<(_, &str)> = found.iter().map(|r| (r.kind, r.id.as_str())).collect();
        keys.retain(|(k, id)| !got.contains(&(*k, id.as_str())));
        out.extend(found);
    }
    out.extend(keys.into_iter().map(|(kind, id)| EntityRow { kind, id, version: 0, body: None }));
    Ok(out)
}

/// `base` with each row applied: a body puts the entity, none removes it.
pub(super) fn overlay(base: &Ontology, rows: Vec<EntityRow>) -> Result<Ontology> {
    let mut o = base.clone();
    for r in rows {
        match &r.body {
            Some(body) => o.put(decode(&r, body)?),
            None => {
                o.remove(r.kind, &r.id);
            }
        }
    }
    Ok(o)
}

/// The entity a stored row holds (`body` is the row's body).
pub(super) fn decode(row: &EntityRow, body: &str) -> Result<Entity> {
    Entity::from_json(row.kind, body, row.version)
        .map_err(|e| Error::internal(anyhow::Error::new(e).context(format!("stored body of {}", row.id))))
}

impl Engine {
    /// Build every branch head's graph in the background after start, so
    /// the first traversal after a restart does not wait for it (seconds
    /// at a million types). Parents first; a fork's graph is then patched
    /// from its parent's with the entities that differ between the two
    /// (the parent's changes since the fork point and the fork's own),
    /// which is milliseconds instead of another full build. Heads that
    /// moved on meanwhile are skipped (their graph comes from their own
    /// predecessor).
    pub async fn prepare_graphs(&self) -> Result<()> {
        // Parents before forks: by depth in the branch tree.
        let records = self.records();
        let mut order = Vec::with_capacity(records.len());
        for r in &records {
            order.push((lineage(&records, &r.name, r.head)?.len(), r.name.clone()));
        }
        order.sort();
        for (_, name) in order {
            let Ok(handle) = self.handle(&name) else { continue };
            let state = handle.state.load_full();
            if state.built_graph().is_some() {
                continue;
            }
            let parent = handle.meta.parent.as_deref().zip(handle.meta.forked_at);
            let parent_state = parent.and_then(|(p, f)| Some((p, f, self.handle(p).ok()?.state.load_full())));
            let seed = match parent_state {
                Some((p, forked_at, ps)) if ps.built_graph().is_some() => {
                    let mut keys = self.inner.store.touched(p, forked_at, ps.version).await?;
                    keys.extend(self.inner.store.touched(&name, 0, state.version).await?);
                    Some((ps, keys))
                }
                _ => None,
            };
            let target = state.clone();
            tokio::task::spawn_blocking(move || {
                let patched = seed.and_then(|(ps, keys)| {
                    ps.built_graph()?.patched(&ps.ontology, &target.ontology, &keys).map(Arc::new)
                });
                match patched {
                    Some(g) => target.provide_graph(g),
                    None => {
                        target.graph();
                    }
                }
            })
            .await
            .map_err(Error::internal)?;
        }
        Ok(())
    }
}
