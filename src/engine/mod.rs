//! The write path and the read path. Each branch's state is an immutable
//! snapshot published through `ArcSwap`: readers load it without waiting;
//! a writer (one per branch at a time) applies changes to a clone, makes
//! them durable as one commit, and only then publishes the new snapshot.
//! Traversal questions are answered through the result cache (`cached`:
//! `Engine::answer`), computed over a state's graph by `Engine::compute`
//! (`traversal`: inline with a small allowance, else on the bounded pool).
//! Depends on `model`, `graph`, `store` and `cache`.

mod branches;
mod cached;
mod checkpoint;
mod history;
mod lane;
mod lane_pool;
mod merge;
mod replica;
mod traversal;
mod write;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex, OnceLock};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, Mutex};

pub use crate::store::Progress;
pub use cached::Answered;
pub use checkpoint::{Loaded, DEFAULT_CHECKPOINT_CHANGES};
pub use lane::{Admission, LaneStats, DEFAULT_HEAVY_NICE, DEFAULT_HEAVY_QUEUE};
pub use merge::{BranchDiff, IntoProtected, MergeOutcome, MergeRequest};
pub use traversal::{default_workers, ComputeCounts, TraversalLimits};
pub use write::{CommitRequest, Committed, WriteLimits};

use crate::cache::{CacheConfig, ResultCache};
use crate::error::{Error, Result};
use crate::graph::GraphIndex;
use crate::model::{Entity, EntityKey, Ontology};
use crate::store::{load_rows, BranchRecord, CommitRecord, EntityRow, Store};

pub const MAIN: &str = "main";

/// Commits the broadcast to subscribers holds (shared by all of them, each
/// commit once): a subscriber further behind than this is ended.
pub const COMMIT_BUFFER: usize = 1024;

/// How an engine runs: traversal caps and pool size, result cache bounds,
/// the heavy lane's queue.
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    pub traversal: TraversalLimits,
    pub cache: CacheConfig,
    /// Heavy requests admitted beyond `traversal.workers` (`lane`).
    pub heavy_queue: usize,
    /// Niceness of the heavy lane's threads (Linux; 0: as the async workers).
    pub heavy_nice: i32,
    /// Entity changes on a root branch after which its checkpoint is
    /// written in the background (`checkpoint`); 0: never.
    pub checkpoint_changes: u64,
    pub writes: WriteLimits,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            traversal: TraversalLimits::default(),
            cache: CacheConfig::default(),
            heavy_queue: DEFAULT_HEAVY_QUEUE,
            heavy_nice: DEFAULT_HEAVY_NICE,
            checkpoint_changes: DEFAULT_CHECKPOINT_CHANGES,
            writes: WriteLimits::default(),
        }
    }
}

/// One published state of a branch.
pub struct BranchState {
    pub version: i64,
    pub protected: bool,
    pub ontology: Arc<Ontology>,
    /// Built on first use, then shared by every reader of this state.
    graph: OnceLock<Arc<GraphIndex>>,
    /// An earlier state's graph to patch on first use instead of building
    /// from scratch (taken then, so the earlier state can be freed).
    seed: StdMutex<Option<GraphSeed>>,
}

/// The graph of an earlier state and the entities changed since: enough
/// for `GraphIndex::patched`.
#[derive(Clone)]
struct GraphSeed {
    graph: Arc<GraphIndex>,
    ontology: Arc<Ontology>,
    changed: Arc<Vec<EntityKey>>,
}

/// Past this many accumulated changes a seed is dropped: patching would
/// cost about as much as building.
const MAX_SEED_CHANGES: usize = 200_000;

impl BranchState {
    fn new(version: i64, protected: bool, ontology: Arc<Ontology>) -> Self {
        BranchState { version, protected, ontology, graph: OnceLock::new(), seed: StdMutex::new(None) }
    }

    /// A state with the same graph as `from` (a fork of it, a protection
    /// change, a commit that moved no node or edge): its graph, or its
    /// pending seed, is shared.
    fn same_graph(version: i64, protected: bool, ontology: Arc<Ontology>, from: &BranchState) -> Self {
        let state = BranchState::new(version, protected, ontology);
        match from.built_graph() {
            Some(g) => {
                let _ = state.graph.set(g);
            }
            None => *state.seed.lock().unwrap_or_else(|p| p.into_inner()) = from.seed(),
        }
        state
    }

    /// A state whose graph differs from `from`'s by the edges of the
    /// `changed` entities: patched from `from`'s graph when first needed.
    fn changed_graph(
        version: i64,
        protected: bool,
        ontology: Arc<Ontology>,
        from: &BranchState,
        changed: Vec<EntityKey>,
    ) -> Self {
        let state = BranchState::new(version, protected, ontology);
        let seed = match from.built_graph() {
            Some(graph) => Some(GraphSeed { graph, ontology: from.ontology.clone(), changed: Arc::new(changed) }),
            // Nobody read `from`'s graph: patch from its seed, with both
            // states' changes.
            None => from.seed().map(|mut s| {
                Arc::make_mut(&mut s.changed).extend(changed);
                s
            }),
        };
        *state.seed.lock().unwrap_or_else(|p| p.into_inner()) = seed.filter(|s| s.changed.len() <= MAX_SEED_CHANGES);
        state
    }

    fn seed(&self) -> Option<GraphSeed> {
        self.seed.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The petgraph view of this state: patched from an earlier state's
    /// graph when there is one (O(nodes + edges) copying), else built
    /// (O((nodes + edges) log edges)); once, then shared.
    pub fn graph(&self) -> Arc<GraphIndex> {
        self.graph
            .get_or_init(|| {
                let seed = self.seed.lock().unwrap_or_else(|p| p.into_inner()).take();
                let patched = seed.and_then(|s| s.graph.patched(&s.ontology, &self.ontology, &s.changed));
                Arc::new(patched.unwrap_or_else(|| GraphIndex::build(&self.ontology)))
            })
            .clone()
    }

    /// Set the graph from elsewhere (patched from a related state's); a
    /// graph already built wins.
    fn provide_graph(&self, graph: Arc<GraphIndex>) {
        let _ = self.graph.set(graph);
        self.seed.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// The graph if it has been built already (building a large one takes
    /// long enough that it must not happen on an async worker).
    pub fn built_graph(&self) -> Option<Arc<GraphIndex>> {
        self.graph.get().cloned()
    }
}

/// Immutable facts about a branch.
#[derive(Debug, Clone)]
pub struct BranchMeta {
    /// This incarnation of the branch, unique in the process: a branch
    /// deleted and created again under the same name gets a new one.
    pub uid: u64,
    pub name: String,
    pub parent: Option<String>,
    pub forked_at: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// A commit as subscribers receive it: the record, and the incarnation of
/// the branch it was made on (a branch of that name may have been deleted
/// and created again by the time a subscriber reads it).
#[derive(Debug, Clone)]
pub struct PublishedCommit {
    pub meta: BranchMeta,
    pub record: CommitRecord,
}

struct BranchHandle {
    meta: BranchMeta,
    state: ArcSwap<BranchState>,
    /// Serializes writers of this branch; readers never take it.
    write: Mutex<()>,
}

/// A consistent read of a branch: everything one query sees comes from
/// the same state, even if a commit lands meanwhile.
#[derive(Clone)]
pub struct BranchView {
    pub meta: BranchMeta,
    pub state: Arc<BranchState>,
    /// `Some(n)` when read as of an earlier commit (time travel).
    pub at: Option<i64>,
}

/// The engine: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    branches: ArcSwap<BTreeMap<String, Arc<BranchHandle>>>,
    /// Serializes branch creation and deletion (rare).
    admin: Mutex<()>,
    commits: broadcast::Sender<Arc<PublishedCommit>>,
    traversal: traversal::Pool,
    lane: Arc<lane::Lane>,
    writes: WriteLimits,
    /// Set when other processes share the database (`replica`).
    replica: OnceLock<replica::Replica>,
    cache: ResultCache,
    /// Changes since each root branch's checkpoint; how branches loaded.
    checkpoints: checkpoint::Checkpoints,
    history: history::History,
}

impl Engine {
    /// Load every branch from the store (creating `main` in an empty
    /// store). After this, reads never touch the database.
    pub async fn open(store: Arc<dyn Store>, opts: EngineOptions) -> Result<Engine> {
        let EngineOptions { traversal: limits, cache, heavy_queue, heavy_nice, checkpoint_changes, writes } = opts;
        let mut records = store.branches().await?;
        if !records.iter().any(|b| b.name == MAIN) {
            let main =
                crate::store::NewBranch { name: MAIN.into(), parent: None, forked_at: None, created_at: Utc::now() };
            records.push(store.create_branch(&main).await?);
        }
        let (map, loaded) = load_branches(store.as_ref(), &records, &BTreeMap::new()).await?;
        let (commits, _) = broadcast::channel(COMMIT_BUFFER);
        let branches = ArcSwap::from_pointee(map);
        let traversal = traversal::Pool::new(limits);
        let lane = lane::Lane::new(limits.workers, heavy_queue, heavy_nice);
        let cache = ResultCache::new(cache);
        let history = history::History::default();
        let inner = Inner {
            store,
            branches,
            admin: Mutex::new(()),
            commits,
            traversal,
            lane,
            writes,
            replica: OnceLock::new(),
            cache,
            history,
            checkpoints: checkpoint::Checkpoints::new(checkpoint_changes),
        };
        let engine = Engine { inner: Arc::new(inner) };
        for (name, how, pending) in loaded {
            engine.record_load(&name, how, pending);
        }
        Ok(engine)
    }

    pub fn write_limits(&self) -> WriteLimits {
        self.inner.writes
    }

    /// The current state of a branch, or `None`.
    pub fn branch(&self, name: &str) -> Option<BranchView> {
        self.inner.branches.load().get(name).map(|h| h.view())
    }

    /// A branch's incarnation and head version, or `None` when absent:
    /// enough to tell whether anything read from it may have changed.
    pub fn head(&self, name: &str) -> Option<(u64, i64)> {
        self.inner.branches.load().get(name).map(|h| (h.meta.uid, h.state.load().version))
    }

    /// Every branch, in name order.
    pub fn branches(&self) -> Vec<BranchView> {
        self.inner.branches.load().values().map(|h| h.view()).collect()
    }

    /// A branch as it was right after commit `at`; `None` when the branch
    /// does not exist or has no such commit yet.
    pub async fn branch_at(&self, name: &str, at: i64) -> Result<Option<BranchView>> {
        if at < 0 {
            return Err(Error::bad_input("at", "must be ≥ 0"));
        }
        let Some(handle) = self.inner.branches.load().get(name).cloned() else {
            return Ok(None);
        };
        let current = handle.view();
        if at >= current.state.version {
            return Ok((at == current.state.version).then_some(current));
        }
        let state = self.state_at(&handle, at).await?;
        Ok(Some(BranchView { meta: current.meta, state, at: Some(at) }))
    }

    /// Commits of a branch, newest first, older than `before`.
    pub async fn commits(&self, branch: &str, before: Option<i64>, limit: i64) -> Result<Vec<CommitRecord>> {
        self.inner.store.commits(branch, before, limit).await
    }

    /// Every commit after it is durable, in commit order per branch.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<PublishedCommit>> {
        self.inner.commits.subscribe()
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ready(&self) -> Result<()> {
        self.inner.store.ping().await
    }

    fn handle(&self, name: &str) -> Result<Arc<BranchHandle>> {
        self.inner.branches.load().get(name).cloned().ok_or_else(|| Error::NotFound(format!("branch {name}")))
    }

    fn records(&self) -> Vec<BranchRecord> {
        self.inner.branches.load().values().map(|h| h.record()).collect()
    }
}

impl BranchHandle {
    fn new(rec: &BranchRecord, state: BranchState) -> Self {
        static NEXT_UID: AtomicU64 = AtomicU64::new(1);
        let meta = BranchMeta {
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
            name: rec.name.clone(),
            parent: rec.parent.clone(),
            forked_at: rec.forked_at,
            created_at: rec.created_at,
        };
        BranchHandle { meta, state: ArcSwap::from_pointee(state), write: Mutex::new(()) }
    }

    fn view(&self) -> BranchView {
        BranchView { meta: self.meta.clone(), state: self.state.load_full(), at: None }
    }

    fn record(&self) -> BranchRecord {
        let s = self.state.load();
        BranchRecord {
            name: self.meta.name.clone(),
            parent: self.meta.parent.clone(),
            forked_at: self.meta.forked_at,
            head: s.version,
            protected: s.protected,
            created_at: self.meta.created_at,
        }
    }
}

/// Every branch's head, parents before forks: a root branch is decoded
/// from its newest checkpoint plus the commits after it, else built from
/// its rows; a fork is its parent's state at the fork point with the
/// fork's own rows on top, so it shares structure with its parent (cheap
/// in memory, cheap to diff and merge).
/// Branches in `known` are taken as they are (a replica loading only the
/// branches created elsewhere): the result holds them and the loaded ones.
async fn load_branches(
    store: &dyn Store,
    records: &[BranchRecord],
    known: &BTreeMap<String, Arc<BranchHandle>>,
) -> Result<(BTreeMap<String, Arc<BranchHandle>>, Vec<(String, checkpoint::Loaded, u64)>)> {
    let mut map = known.clone();
    let mut loaded = Vec::new();
    let mut pending: Vec<&BranchRecord> = records.iter().filter(|r| !known.contains_key(&r.name)).collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut waiting = Vec::new();
        for rec in pending {
            let ontology = match (&rec.parent, rec.forked_at) {
                (Some(parent), Some(forked_at)) => {
                    let Some(p) = map.get(parent) else {
                        waiting.push(rec);
                        continue;
                    };
                    let p = p.state.load_full();
                    let base = history::ontology_at(store, records, parent, &p.ontology, p.version, forked_at).await?;
                    let own = store.own_rows(&rec.name, rec.head).await?;
                    loaded.push((rec.name.clone(), checkpoint::Loaded::Rows, 0));
                    tokio::task::spawn_blocking(move || history::overlay(&base, own))
                        .await
                        .map_err(Error::internal)??
                }
                _ => match checkpoint::load(store, rec).await? {
                    Some((ontology, version, replayed)) => {
                        let how = checkpoint::Loaded::Checkpoint { version, replayed };
                        loaded.push((rec.name.clone(), how, replayed as u64));
                        ontology
                    }
                    None => {
                        let ontology = load_ontology(store, records, &rec.name, rec.head).await?;
                        let entities = ontology.entity_count();
                        loaded.push((rec.name.clone(), checkpoint::Loaded::Rows, entities as u64));
                        ontology
                    }
                },
            };
            let state = BranchState::new(rec.head, rec.protected, Arc::new(ontology));
            map.insert(rec.name.clone(), Arc::new(BranchHandle::new(rec, state)));
        }
        if waiting.len() == before {
            let names: Vec<&str> = waiting.iter().map(|r| r.name.as_str()).collect();
            return Err(Error::internal(anyhow::anyhow!("branches with missing parents: {names:?}")));
        }
        pending = waiting;
    }
    Ok((map, loaded))
}

/// Resolve a branch's rows and build its ontology off the async workers
/// (a million-entity branch takes seconds of CPU).
async fn load_ontology(store: &dyn Store, records: &[BranchRecord], name: &str, at: i64) -> Result<Ontology> {
    let started = std::time::Instant::now();
    let rows = load_rows(store, records, name, at).await?;
    let read = started.elapsed();
    let count = rows.len();
    let o = tokio::task::spawn_blocking(move || ontology_from_rows(rows)).await.map_err(Error::internal)??;
    let (read_ms, total_ms) = (read.as_millis() as u64, started.elapsed().as_millis() as u64);
    tracing::info!(branch = name, version = at, entities = count, read_ms, total_ms, "branch loaded");
    Ok(o)
}

/// Decode the rows (on two threads: JSON decoding is a good part of a
/// cold start) and build the state in bulk.
fn ontology_from_rows(mut rows: Vec<EntityRow>) -> Result<Ontology> {
    rows.retain(|r| r.body.is_some());
    let decode = |rows: Vec<EntityRow>| -> Result<Vec<Entity>> {
        rows.iter().map(|r| history::decode(r, r.body.as_deref().unwrap_or_default())).collect()
    };
    let second = rows.split_off(rows.len() / 2);
    let (first, second) = std::thread::scope(|scope| {
        let other = scope.spawn(|| decode(second));
        let first = decode(rows);
        (first, other.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    });
    let mut entities = first?;
    entities.extend(second?);
    Ok(Ontology::from_entities(entities))
}
