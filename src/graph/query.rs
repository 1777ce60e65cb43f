//! What a traversal may follow (direction, relations, node kinds) and how
//! long it may run (a cooperative time budget).

use std::time::{Duration, Instant};

use super::index::{Adj, Adjacent, EdgeRef, GraphIndex, NodeId, NodeKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Source → target (for `extends`: child → parent).
    Outgoing,
    /// Target → source.
    Incoming,
    /// Either way.
    Both,
}

impl Direction {
    pub fn reverse(self) -> Self {
        match self {
            Direction::Outgoing => Direction::Incoming,
            Direction::Incoming => Direction::Outgoing,
            Direction::Both => Direction::Both,
        }
    }
}

/// A step from one node to a neighbour: the neighbour, and the edge as the
/// ontology defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub node: NodeId,
    pub edge: EdgeRef,
}

/// The part of a graph a query may walk.
pub struct View<'g> {
    pub g: &'g GraphIndex,
    pub dir: Direction,
    /// Allowed relation ids (`None`: all).
    rels: Option<Vec<bool>>,
    /// Allowed node kinds (`None`: both). Start nodes are always allowed.
    kinds: Option<[bool; 2]>,
}

impl<'g> View<'g> {
    pub fn new(g: &'g GraphIndex, dir: Direction) -> Self {
        View { g, dir, rels: None, kinds: None }
    }

    /// Restrict to these relation labels; unknown labels match no edge.
    pub fn relations<S: AsRef<str>>(mut self, labels: Option<&[S]>) -> Self {
        self.rels = labels.map(|ls| {
            let mut allowed = vec![false; self.g.relation_count()];
            for r in ls.iter().filter_map(|l| self.g.relation_id(l.as_ref())) {
                allowed[r as usize] = true;
            }
            allowed
        });
        self
    }

    pub fn node_kinds(mut self, kinds: Option<&[NodeKind]>) -> Self {
        self.kinds = kinds.map(|ks| [ks.contains(&NodeKind::ObjectType), ks.contains(&NodeKind::Interface)]);
        self
    }

    fn allowed(&self, a: Adj) -> bool {
        self.rels.as_ref().is_none_or(|r| r[a.rel as usize])
            && self.kinds.is_none_or(|k| k[self.g.kind(a.node) as usize])
    }

    /// Edges at `n` in the view's direction, before filters: the work a
    /// walk from `n` does, for the budget.
    #[inline]
    pub fn degree(&self, n: NodeId) -> usize {
        let out = if self.dir != Direction::Incoming { self.g.out(n).len() } else { 0 };
        let inc = if self.dir != Direction::Outgoing { self.g.inc(n).len() } else { 0 };
        out + inc
    }

    /// Calls `f` for every allowed step from `n`, in (node, relation)
    /// order per direction (outgoing first for BOTH).
    #[inline]
    pub fn for_each_step(&self, n: NodeId, mut f: impl FnMut(Step)) {
        if self.dir != Direction::Incoming {
            for a in self.g.out(n).iter().filter(|&a| self.allowed(a)) {
                f(Step { node: a.node, edge: EdgeRef { source: n, target: a.node, rel: a.rel } });
            }
        }
        if self.dir != Direction::Outgoing {
            for a in self.g.inc(n).iter().filter(|&a| self.allowed(a)) {
                f(Step { node: a.node, edge: EdgeRef { source: a.node, target: n, rel: a.rel } });
            }
        }
    }

    /// Calls `f` for the node at the end of every allowed step from `n`
    /// (twice if two edges lead there): the inner loop of BFS. Without
    /// filters it reads nothing but the neighbour ids.
    #[inline]
    pub fn for_each_neighbour(&self, n: NodeId, f: impl FnMut(NodeId)) {
        self.for_each_neighbour_in(self.dir, n, f)
    }

    /// `for_each_neighbour` against the view's direction: the nodes with
    /// an allowed step to `n`.
    pub fn for_each_predecessor(&self, n: NodeId, f: impl FnMut(NodeId)) {
        self.for_each_neighbour_in(self.dir.reverse(), n, f)
    }

    #[inline]
    fn for_each_neighbour_in(&self, dir: Direction, n: NodeId, mut f: impl FnMut(NodeId)) {
        let plain = self.rels.is_none() && self.kinds.is_none();
        let mut walk = |adj: Adjacent| {
            if plain {
                adj.nodes.iter().for_each(|&v| f(v));
            } else {
                adj.iter().filter(|&a| self.allowed(a)).for_each(|a| f(a.node));
            }
        };
        if dir != Direction::Incoming {
            walk(self.g.out(n));
        }
        if dir != Direction::Outgoing {
            walk(self.g.inc(n));
        }
    }

    /// Allowed steps from `n` in (node, relation) order across both
    /// directions: what deterministic path searches iterate.
    pub fn sorted_steps(&self, n: NodeId) -> Vec<Step> {
        let mut steps = Vec::new();
        self.for_each_step(n, |s| steps.push(s));
        if self.dir == Direction::Both {
            steps.sort_by_key(|s| (s.node, s.edge.rel, s.edge.source));
        }
        steps
    }

    /// The same filters, walking the other way.
    pub fn reversed(&self) -> View<'g> {
        View { g: self.g, dir: self.dir.reverse(), rels: self.rels.clone(), kinds: self.kinds }
    }
}

/// A cooperative time budget: algorithms call `tick` in their inner loops;
/// the clock is read every 1024 ticks, so the check costs almost nothing.
pub struct Budget {
    deadline: Instant,
    /// Units of work so far (u64: never saturates in practice, so the
    /// clock keeps being read).
    ticks: u64,
    exhausted: bool,
    /// Ticks allowed before the question must move off the caller's
    /// thread (see `inline`).
    inline_cap: Option<u64>,
    moved: bool,
}

impl Budget {
    pub fn new(limit: Duration) -> Self {
        Budget::until(Instant::now() + limit)
    }

    pub fn until(deadline: Instant) -> Self {
        Budget { deadline, ticks: 0, exhausted: Instant::now() >= deadline, inline_cap: None, moved: false }
    }

    /// Also end after `ticks` units of work, marking the answer as one to
    /// recompute elsewhere (`moved`): a question is first tried on the
    /// async worker, where a small one is answered without a thread hop,
    /// and a large one gives up quickly and goes to the blocking pool.
    pub fn inline(mut self, ticks: u32) -> Self {
        self.inline_cap = Some(u64::from(ticks));
        self
    }

    /// One unit of work; `false` once the budget is spent.
    #[inline]
    pub fn tick(&mut self) -> bool {
        self.charge(1)
    }

    /// Account for `units` of work before doing it (a node's edges, a
    /// whole-graph pass, an O(nodes) allocation): on the inline allowance
    /// a large one moves the question to the pool first, instead of
    /// running on the async worker. The clock is read about once per
    /// 1,024 units. `false` once the budget is spent.
    #[inline]
    pub fn charge(&mut self, units: usize) -> bool {
        let before = self.ticks;
        self.ticks = self.ticks.saturating_add(units as u64);
        if before >> 10 != self.ticks >> 10 && !self.exhausted && Instant::now() >= self.deadline {
            self.exhausted = true;
        }
        if self.inline_cap.is_some_and(|cap| self.ticks >= cap) {
            self.exhausted = true;
            self.moved = true;
        }
        !self.exhausted
    }

    /// Whether the inline allowance ran out: the answer is incomplete and
    /// must be recomputed with the full budget.
    pub fn moved(&self) -> bool {
        self.moved
    }

    pub fn exhausted(&self) -> bool {
        self.exhausted
    }
}

/// The time budget ran out before a question without a partial answer
/// (shortest path, reachability) was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBudget;
