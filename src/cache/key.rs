//! Cache keys (a branch state and a canonical question) and values (the
//! answers), with their approximate weights in bytes.

use std::mem::{size_of, size_of_val};
use std::sync::Arc;

use crate::graph::{self, Direction, NodeKind};

/// Identifies one immutable state of a branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BranchKey {
    /// The branch's incarnation: unique per process, so a branch deleted
    /// and created again under the same name never shares entries.
    pub uid: u64,
    /// The branch version the answer was computed on.
    pub version: i64,
    /// Read with `at` (time travel): immutable, never invalidated by commits.
    pub historical: bool,
}

/// A traversal question with canonical arguments: defaults filled in,
/// caps applied, set-valued arguments sorted and deduplicated. Two
/// requests that must get the same answer get equal questions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Question {
    Traverse {
        from: Vec<String>,
        dir: Direction,
        relations: Option<Vec<String>>,
        kinds: Option<Vec<NodeKind>>,
        max_depth: u32,
        limit: usize,
    },
    ShortestPath {
        from: String,
        to: String,
        dir: Direction,
        relations: Option<Vec<String>>,
    },
    Paths {
        from: String,
        to: String,
        dir: Direction,
        relations: Option<Vec<String>>,
        max_depth: u32,
        limit: usize,
    },
    Reachable {
        from: String,
        to: String,
        dir: Direction,
        relations: Option<Vec<String>>,
    },
    Impact {
        of: String,
        relations: Option<Vec<String>>,
        max_depth: u32,
        limit: usize,
    },
    Cycles {
        relations: Option<Vec<String>>,
        max_len: u32,
        limit: usize,
    },
}

/// Sorted and deduplicated: set semantics.
pub fn set<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort_unstable();
    v.dedup();
    v
}

impl Question {
    pub fn traverse(
        from: Vec<String>,
        dir: Direction,
        relations: Option<Vec<String>>,
        kinds: Option<Vec<NodeKind>>,
        max_depth: u32,
        limit: usize,
    ) -> Self {
        let kinds = kinds.map(set).filter(|k| k.len() < 2); // both kinds = no filter
        Question::Traverse { from: set(from), dir, relations: relations.map(set), kinds, max_depth, limit }
    }

    pub fn shortest_path(from: String, to: String, dir: Direction, relations: Option<Vec<String>>) -> Self {
        Question::ShortestPath { from, to, dir, relations: relations.map(set) }
    }

    pub fn paths(
        from: String,
        to: String,
        dir: Direction,
        relations: Option<Vec<String>>,
        max_depth: u32,
        limit: usize,
    ) -> Self {
        Question::Paths { from, to, dir, relations: relations.map(set), max_depth, limit }
    }

    pub fn reachable(from: String, to: String, dir: Direction, relations: Option<Vec<String>>) -> Self {
        Question::Reachable { from, to, dir, relations: relations.map(set) }
    }

    pub fn impact(of: String, relations: Option<Vec<String>>, max_depth: u32, limit: usize) -> Self {
        Question::Impact { of, relations: relations.map(set), max_depth, limit }
    }

    pub fn cycles(relations: Option<Vec<String>>, max_len: u32, limit: usize) -> Self {
        Question::Cycles { relations: relations.map(set), max_len, limit }
    }

    fn weight(&self) -> usize {
        let strings = |v: &[String]| v.iter().map(|s| s.len() + size_of::<String>()).sum::<usize>();
        let rels = |r: &Option<Vec<String>>| r.as_deref().map_or(0, strings);
        size_of::<Question>()
            + match self {
                Question::Traverse { from, relations, kinds, .. } => {
                    strings(from) + rels(relations) + kinds.as_ref().map_or(0, |k| k.len())
                }
                Question::ShortestPath { from, to, relations, .. }
                | Question::Paths { from, to, relations, .. }
                | Question::Reachable { from, to, relations, .. } => from.len() + to.len() + rels(relations),
                Question::Impact { of, relations, .. } => of.len() + rels(relations),
                Question::Cycles { relations, .. } => rels(relations),
            }
    }
}

/// A cache key: the state and the question.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueryKey {
    pub branch: BranchKey,
    pub question: Question,
}

/// Per-entry bookkeeping of moka and the hash table, roughly.
const ENTRY_OVERHEAD: usize = 128;

impl QueryKey {
    pub fn weight(&self) -> usize {
        size_of::<BranchKey>() + self.question.weight()
    }
}

/// A computed answer, shared by every reader (`Arc`s: cloning is cheap).
#[derive(Debug, Clone)]
pub enum Answer {
    /// `traverse` and `impact`.
    Traversal(Arc<graph::Traversal>),
    /// `shortestPath` (none when unreachable).
    Path(Arc<Option<graph::Path>>),
    /// `paths` and `cycles`.
    Paths(Arc<Vec<graph::Path>>),
    /// `reachable`.
    Reachable(bool),
}

fn path_weight(p: &graph::Path) -> usize {
    size_of::<graph::Path>() + size_of_val(p.nodes.as_slice()) + size_of_val(p.edges.as_slice())
}

impl Answer {
    /// Approximate heap and inline bytes, with the entry overhead.
    pub fn weight(&self) -> usize {
        ENTRY_OVERHEAD
            + match self {
                Answer::Traversal(t) => {
                    size_of::<graph::Traversal>() + size_of_val(t.nodes.as_slice()) + size_of_val(t.edges.as_slice())
                }
                Answer::Path(p) => size_of::<Option<graph::Path>>() + p.as_ref().as_ref().map_or(0, path_weight),
                Answer::Paths(ps) => size_of::<Vec<graph::Path>>() + ps.iter().map(path_weight).sum::<usize>(),
                Answer::Reachable(_) => 0,
            }
    }
}
