//! Cache wiring: traversal questions are answered through the result
//! cache, keyed by the exact state they read; commits and branch deletion
//! drop the entries they make unreachable.

use std::sync::Arc;

use super::{BranchView, Engine};
use crate::cache::{Answer, BranchKey, CacheStats, QueryKey, Question};
use crate::error::{Error, Result};
use crate::graph::{self, Budget, GraphIndex, NodeId, View};

/// An answer and whether it came from the cache.
pub struct Answered {
    pub answer: Answer,
    pub cached: bool,
}

/// Why a computation produced nothing to store.
enum Uncached {
    Failed(Error),
    /// Cut short by the time budget: right for this request, but a quieter
    /// moment could answer more, so it is not remembered.
    OutOfTime(Answer),
}

impl Engine {
    /// Answer `question` on the state of `view`, from the cache when it is
    /// there; otherwise compute it on the traversal pool (identical
    /// concurrent misses compute once) and remember it.
    pub async fn answer(&self, view: &BranchView, question: Question) -> Result<Answered> {
        let key = QueryKey {
            branch: BranchKey { uid: view.meta.uid, version: view.state.version, historical: view.at.is_some() },
            question,
        };
        let state = view.state.clone();
        let q = key.question.clone();
        let compute = async move {
            let (answer, out_of_time) = self
                .compute(&state, move |g, budget| {
                    let answer = run(&q, g, budget);
                    (answer, budget.exhausted())
                })
                .await
                .map_err(Uncached::Failed)?;
            let answer = answer.map_err(Uncached::Failed)?;
            if out_of_time {
                return Err(Uncached::OutOfTime(answer));
            }
            Ok(answer)
        };
        match self.inner.cache.get_or_compute(&key, compute).await {
            Ok((answer, cached)) => {
                if !cached {
                    self.forget_if_superseded(&key, &view.meta.name).await;
                }
                Ok(Answered { answer, cached })
            }
            // Shared by every waiter: an answer is an `Arc` clone.
            Err(shared) => match &*shared {
                Uncached::Failed(e) => Err(e.duplicate()),
                Uncached::OutOfTime(answer) => Ok(Answered { answer: answer.clone(), cached: false }),
            },
        }
    }

    /// Cache counters and size.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// Apply pending cache maintenance (invalidations, evictions) now.
    pub async fn sync_cache(&self) {
        self.inner.cache.sync().await
    }

    /// After a commit made `version` the head of branch `uid`: its older
    /// head entries can never be read again. Historical (`at`) entries stay.
    pub(super) fn cache_committed(&self, uid: u64, version: i64) {
        self.inner.cache.invalidate_branches(move |b| b.uid == uid && !b.historical && b.version < version);
    }

    /// After a branch was deleted: all of its entries.
    pub(super) fn cache_deleted(&self, uid: u64) {
        self.inner.cache.invalidate_branches(move |b| b.uid == uid);
    }

    /// A head entry stored just as a commit landed may have escaped that
    /// commit's invalidation; drop it here (it was right for its version,
    /// but nobody will ask for that version's head again).
    async fn forget_if_superseded(&self, key: &QueryKey, name: &str) {
        if key.branch.historical {
            return;
        }
        if self.head(name) != Some((key.branch.uid, key.branch.version)) {
            self.inner.cache.invalidate(key).await;
        }
    }
}

fn id(g: &GraphIndex, name: &str) -> Result<NodeId> {
    g.id(name).ok_or_else(|| Error::NotFound(format!("node {name}")))
}

fn out_of_budget(_: graph::OutOfBudget) -> Error {
    Error::LimitExceeded("the traversal ran out of its time budget".into())
}

/// Compute a question: a function of the question and the graph only,
/// which is what makes caching it sound.
fn run(q: &Question, g: &GraphIndex, budget: &mut Budget) -> Result<Answer> {
    Ok(match q {
        Question::Traverse { from, dir, relations, kinds, max_depth, limit } => {
            let starts = from.iter().map(|n| id(g, n)).collect::<Result<Vec<_>>>()?;
            let view = View::new(g, *dir).relations(relations.as_deref()).node_kinds(kinds.as_deref());
            Answer::Traversal(Arc::new(graph::traverse(&view, &starts, *max_depth, *limit, budget)))
        }
        Question::ShortestPath { from, to, dir, relations } => {
            let (f, t) = (id(g, from)?, id(g, to)?);
            let view = View::new(g, *dir).relations(relations.as_deref());
            Answer::Path(Arc::new(graph::shortest_path(&view, f, t, budget).map_err(out_of_budget)?))
        }
        Question::Paths { from, to, dir, relations, max_depth, limit } => {
            let (f, t) = (id(g, from)?, id(g, to)?);
            let view = View::new(g, *dir).relations(relations.as_deref());
            Answer::Paths(Arc::new(graph::paths(&view, f, t, *max_depth, *limit, budget).0))
        }
        Question::Reachable { from, to, dir, relations } => {
            let (f, t) = (id(g, from)?, id(g, to)?);
            let view = View::new(g, *dir).relations(relations.as_deref());
            Answer::Reachable(graph::reachable(&view, f, t, budget).ok_or_else(|| out_of_budget(graph::OutOfBudget))?)
        }
        Question::Impact { of, relations, max_depth, limit } => {
            let of = id(g, of)?;
            let view = View::new(g, graph::Direction::Incoming).relations(relations.as_deref());
            Answer::Traversal(Arc::new(graph::impact(&view, of, *max_depth, *limit, budget)))
        }
        Question::Cycles { relations, max_len, limit } => {
            let view = View::new(g, graph::Direction::Outgoing).relations(relations.as_deref());
            Answer::Paths(Arc::new(graph::cycles(&view, *max_len, *limit, budget).0))
        }
    })
}
