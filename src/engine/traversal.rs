//! Running graph questions without blocking the runtime: a question is
//! first tried inline on the async worker with a small work allowance
//! (cheaper than a thread hop, and most interactive questions fit); one
//! that needs more reruns on the blocking pool behind a semaphore, so a
//! burst of deep traversals cannot starve light queries or pile up
//! threads. Every question carries a time budget that starts when the
//! engine takes it up (waiting for a pool permit counts against it).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{BranchState, Engine};
use crate::error::Result;
use crate::graph::{Budget, GraphIndex};

/// Graphs up to this many nodes are indexed on the async worker.
const INLINE_NODES: usize = 2_000;

/// Units of work (node expansions, search steps; 0.1–0.2 ms) a question may
/// do on the async worker. Most interactive questions finish within it
/// and skip the thread hop, which costs more than they do; the others
/// give up after it and rerun on the blocking pool.
const INLINE_TICKS: u32 = 1_024;

/// Server-side caps on traversal requests (docs/ARCHITECTURE.md,
/// "Traversal semantics"). `Default` holds the defaults the command line
/// shows too (`config::ServeArgs` reads them from here).
#[derive(Debug, Clone, Copy)]
pub struct TraversalLimits {
    pub max_depth: u32,
    pub max_limit: usize,
    pub max_paths: usize,
    pub budget: Duration,
    /// Traversals that may run at once on the blocking pool.
    pub workers: usize,
    /// Most names in one `from:` or `relations:` list.
    pub max_from: usize,
}

impl Default for TraversalLimits {
    fn default() -> Self {
        TraversalLimits {
            max_depth: 64,
            max_limit: 100_000,
            max_paths: 1_000,
            budget: Duration::from_secs(2),
            workers: default_workers(),
            max_from: 1_000,
        }
    }
}

/// One core fewer than the machine has (at least one): heavy traversals
/// never take every core from the async workers that answer light queries.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// Traversal caps and how questions were answered; the heavy work itself
/// runs on the engine's lane (`lane`), `workers` at a time.
pub(super) struct Pool {
    limits: TraversalLimits,
    inline: AtomicU64,
    pooled: AtomicU64,
}

impl Pool {
    pub(super) fn new(limits: TraversalLimits) -> Self {
        Pool { limits, inline: AtomicU64::new(0), pooled: AtomicU64::new(0) }
    }
}

/// How many questions were answered on the async worker and how many on
/// the blocking pool, since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeCounts {
    pub inline: u64,
    pub pooled: u64,
}

impl BranchState {
    /// Whether this state's graph is too large to build or search on an
    /// async worker: its heavy questions go to the lane.
    pub fn is_large(&self) -> bool {
        self.ontology.object_type_count() + self.ontology.interface_count() > INLINE_NODES
    }
}

impl Engine {
    pub fn traversal_limits(&self) -> TraversalLimits {
        self.inner.traversal.limits
    }

    pub fn compute_counts(&self) -> ComputeCounts {
        let pool = &self.inner.traversal;
        ComputeCounts { inline: pool.inline.load(Ordering::Relaxed), pooled: pool.pooled.load(Ordering::Relaxed) }
    }

    /// The graph of `state`, built (or patched) on the pool when it is not
    /// built yet and is large: never seconds of CPU on an async worker.
    pub async fn graph_of(&self, state: &Arc<BranchState>) -> Result<Arc<GraphIndex>> {
        if let Some(g) = state.built_graph() {
            return Ok(g);
        }
        if !state.is_large() {
            return Ok(state.graph());
        }
        let state = state.clone();
        self.inner.lane.run(move || state.graph()).await
    }

    /// Run `question` over the graph of `state` with the request's time
    /// budget (counted from now, so queueing counts against it): first
    /// inline with a small allowance, then, if that ran out, on the pool.
    pub async fn compute<T, F>(&self, state: &Arc<BranchState>, question: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&GraphIndex, &mut Budget) -> T + Send + 'static,
    {
        let pool = &self.inner.traversal;
        let deadline = Instant::now() + pool.limits.budget;
        let graph = if state.is_large() { state.built_graph() } else { Some(state.graph()) };
        if let Some(graph) = graph {
            let mut budget = Budget::until(deadline).inline(INLINE_TICKS);
            let answer = question(&graph, &mut budget);
            if !budget.moved() {
                pool.inline.fetch_add(1, Ordering::Relaxed);
                return Ok(answer);
            }
        }
        pool.pooled.fetch_add(1, Ordering::Relaxed);
        let state = state.clone();
        self.inner.lane.run(move || question(&state.graph(), &mut Budget::until(deadline))).await
    }
}
