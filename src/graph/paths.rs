//! Path questions: `shortestPath`, `paths`, `cycles`. Written here because
//! petgraph's `all_simple_paths` neither orders shortest-first nor stops
//! on a budget, and petgraph has no elementary-cycle enumeration; SCCs
//! come from petgraph (`kosaraju_scc` over our visit-trait view).
//!
//! Order: shorter first; among equal lengths, by the sequence of steps
//! (node apiName, then relation label), i.e. lexicographic over ids.

use petgraph::algo::kosaraju_scc;

use super::index::{EdgeRef, NodeId};
use super::query::{Budget, OutOfBudget, Step, View};

const FAR: u32 = u32::MAX;

/// A walk through the graph: `nodes.len() == edges.len() + 1`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Path {
    pub nodes: Vec<NodeId>,
    pub edges: Vec<EdgeRef>,
}

impl Path {
    fn start(n: NodeId) -> Self {
        Path { nodes: vec![n], edges: vec![] }
    }

    fn push(&mut self, s: Step) {
        self.nodes.push(s.node);
        self.edges.push(s.edge);
    }

    fn pop(&mut self) {
        self.nodes.pop();
        self.edges.pop();
    }
}

/// Distances to one target (BFS on the reversed view). Reusable: a new
/// search resets only the entries the previous one touched, so searching
/// from every node of a large graph does not cost a full array each time.
struct Distances {
    dist: Vec<u32>,
    touched: Vec<NodeId>,
}

impl Distances {
    fn new(n: usize) -> Self {
        Distances { dist: vec![FAR; n], touched: vec![] }
    }

    /// Distances to `target` up to `max_depth` through nodes that `keep`
    /// accepts; stops early (leaving the rest FAR) when the budget ends.
    fn compute(
        &mut self,
        view: &View,
        target: NodeId,
        max_depth: u32,
        keep: impl Fn(NodeId) -> bool,
        budget: &mut Budget,
    ) -> &[u32] {
        for &v in &self.touched {
            self.dist[v as usize] = FAR;
        }
        self.touched.clear();
        let back = view.reversed();
        let dist = &mut self.dist;
        dist[target as usize] = 0;
        self.touched.push(target);
        let mut level = 0;
        let mut d = 0;
        'levels: while d < max_depth && level < self.touched.len() {
            let end = self.touched.len();
            for i in level..end {
                if !budget.charge(1 + back.degree(self.touched[i])) {
                    break 'levels;
                }
                let touched = &mut self.touched;
                back.for_each_neighbour(touched[i], |v| {
                    if dist[v as usize] == FAR && keep(v) {
                        dist[v as usize] = d + 1;
                        touched.push(v);
                    }
                });
            }
            level = end;
            d += 1;
        }
        &self.dist
    }
}

/// The shortest path from `from` to `to` (fewest edges), ties broken by
/// step order. Bidirectional: BFS grows from both ends, always the smaller
/// frontier, until they meet, so it explores two balls of about half the
/// distance instead of everything within the whole distance.
pub fn shortest_path(view: &View, from: NodeId, to: NodeId, budget: &mut Budget) -> Result<Option<Path>, OutOfBudget> {
    let n = view.g.node_count();
    if !budget.charge(n / 64) {
        return Err(OutOfBudget);
    }
    let back = view.reversed();
    // Distances from `from` (forward) and to `to` (backward), by layers.
    let (mut df, mut db) = (vec![FAR; n], vec![FAR; n]);
    df[from as usize] = 0;
    db[to as usize] = 0;
    let (mut fwd, mut bwd): (Vec<Vec<NodeId>>, Vec<Vec<NodeId>>) = (vec![vec![from]], vec![vec![to]]);
    let mut d = if from == to { Some(0) } else { None };
    while d.is_none() {
        let forward = fwd.last().unwrap().len() <= bwd.last().unwrap().len();
        let (walk, dist, other, layers) =
            if forward { (view, &mut df, &db, &mut fwd) } else { (&back, &mut db, &df, &mut bwd) };
        let level = layers.len() as u32;
        let mut next = vec![];
        for &u in layers.last().unwrap() {
            if !budget.charge(1 + walk.degree(u)) {
                return Err(OutOfBudget);
            }
            walk.for_each_neighbour(u, |v| {
                if dist[v as usize] == FAR {
                    dist[v as usize] = level;
                    next.push(v);
                }
            });
        }
        // The first level that touches the other ball fixes the distance.
        d = next.iter().filter(|&&v| other[v as usize] != FAR).map(|&v| level + other[v as usize]).min();
        if next.is_empty() {
            return Ok(None);
        }
        layers.push(next);
    }
    let d = d.unwrap_or(0);
    // From position `m` on, every node of a shortest path is inside the
    // backward ball (db exact); before it, mark the forward-ball nodes
    // that lead on to it in the right number of steps.
    let m = d.saturating_sub(bwd.len() as u32 - 1);
    let mut good = vec![false; n];
    if let Some(layer) = fwd.get(m as usize) {
        for &v in layer.iter().filter(|&&v| db[v as usize] == d - m) {
            good[v as usize] = true;
        }
    }
    for j in (0..m).rev() {
        for &v in &fwd[j as usize] {
            let mut leads = false;
            view.for_each_neighbour(v, |w| leads |= df[w as usize] == j + 1 && good[w as usize]);
            good[v as usize] = leads;
        }
    }
    // Greedy from the start: the smallest step that stays on a shortest path.
    let mut path = Path::start(from);
    let mut u = from;
    for i in 0..d {
        let on_path = |v: NodeId| {
            if i + 1 < m {
                df[v as usize] == i + 1 && good[v as usize]
            } else {
                db[v as usize] == d - i - 1
            }
        };
        // Always found: u lies on a shortest path.
        let Some(step) = view.sorted_steps(u).into_iter().find(|s| on_path(s.node)) else { return Ok(None) };
        path.push(step);
        u = step.node;
    }
    Ok(Some(path))
}

/// Simple paths from `from` to `to` of at most `max_depth` edges, shortest
/// first, at most `limit`; the flag says whether more existed or the
/// budget cut the search.
pub fn paths(
    view: &View,
    from: NodeId,
    to: NodeId,
    max_depth: u32,
    limit: usize,
    budget: &mut Budget,
) -> (Vec<Path>, bool) {
    if !budget.charge(view.g.node_count() / 64) {
        return (vec![], true);
    }
    let mut distances = Distances::new(view.g.node_count());
    let dist = distances.compute(view, to, max_depth, |_| true, budget);
    let mut out = vec![];
    if dist[from as usize] == FAR || limit == 0 {
        return (out, dist[from as usize] != FAR);
    }
    let mut on_path = vec![false; view.g.node_count()];
    on_path[from as usize] = true;
    let mut path = Path::start(from);
    for len in dist[from as usize]..=max_depth {
        let mut search =
            Search { view, dist, on_path: &mut on_path, budget, out: &mut out, want: limit + 1, cycle_at: None };
        if !search.exact(&mut path, from, to, len) {
            break;
        }
    }
    let more = out.len() > limit || budget.exhausted();
    out.truncate(limit);
    (out, more)
}

/// Elementary cycles (following the view's direction) of at most
/// `max_len` edges, shortest first, each starting at its smallest node,
/// at most `limit`; the flag says whether more existed or the budget cut.
pub fn cycles(view: &View, max_len: u32, limit: usize, budget: &mut Budget) -> (Vec<Path>, bool) {
    let n = view.g.node_count();
    // The SCC pass walks the whole graph without ticking.
    if !budget.charge(n + view.g.edge_count()) {
        return (vec![], true);
    }
    // Only nodes of a strongly connected component with two or more nodes,
    // or with a self-loop, lie on a cycle.
    let mut component = vec![usize::MAX; n];
    let mut starts = vec![];
    // Kosaraju, not `tarjan_scc`: petgraph's Tarjan recurses once per node
    // on a path and overflows the stack on large graphs; Kosaraju's DFS is
    // iterative.
    for (i, scc) in kosaraju_scc(view).into_iter().enumerate() {
        for &v in &scc {
            component[v as usize] = i;
        }
        match scc[..] {
            [v] => {
                let mut self_loop = false;
                view.for_each_neighbour(v, |w| self_loop |= w == v);
                if self_loop {
                    starts.push(v);
                }
            }
            _ => starts.extend(scc),
        }
    }
    starts.sort_unstable();
    // The best `want` cycles so far, by (length, start, step order); once
    // there are that many, only strictly shorter cycles can still enter,
    // so `bound` shrinks and later starts search shallower.
    let want = limit + 1;
    let mut best: Vec<(u32, usize, Path)> = vec![];
    let mut bound = max_len;
    let mut order = 0;
    let mut on_path = vec![false; n];
    let mut distances = Distances::new(n);
    'starts: for &s in &starts {
        // A cycle starting at its smallest node s stays in s's SCC, above s.
        let keep = |v: NodeId| v >= s && component[v as usize] == component[s as usize];
        let dist = distances.compute(view, s, bound.saturating_sub(1), keep, budget);
        let mut len = 1;
        while len <= bound {
            let mut out = vec![];
            let mut search =
                Search { view, dist, on_path: &mut on_path, budget, out: &mut out, want, cycle_at: Some(s) };
            search.exact(&mut Path::start(s), s, s, len);
            for p in out {
                best.push((len, order, p));
                order += 1;
            }
            if best.len() >= want {
                best.sort_by_key(|&(l, o, _)| (l, o));
                best.truncate(want);
                bound = best[want - 1].0 - 1;
            }
            if budget.exhausted() {
                break 'starts;
            }
            len += 1;
        }
    }
    let more = best.len() > limit || budget.exhausted();
    best.sort_by_key(|&(l, o, _)| (l, o));
    best.truncate(limit);
    (best.into_iter().map(|(_, _, p)| p).collect(), more)
}

/// Depth-first enumeration of paths of exactly a given length, in step
/// order, pruned by the distance to the target.
struct Search<'a, 'g> {
    view: &'a View<'g>,
    dist: &'a [u32],
    on_path: &'a mut Vec<bool>,
    budget: &'a mut Budget,
    out: &'a mut Vec<Path>,
    want: usize,
    /// For cycles: the start node, which closes the cycle and bounds the
    /// other nodes from below.
    cycle_at: Option<NodeId>,
}

impl Search<'_, '_> {
    /// Extend `path` (ending at `u`) by exactly `left` edges to `to`.
    /// `false` when the search should stop (enough found, or no budget).
    fn exact(&mut self, path: &mut Path, u: NodeId, to: NodeId, left: u32) -> bool {
        if left == 0 {
            if u == to && (!path.edges.is_empty() || self.cycle_at.is_none()) {
                self.out.push(path.clone());
            }
            return self.out.len() < self.want;
        }
        for s in self.view.sorted_steps(u) {
            if !self.budget.tick() {
                return false;
            }
            let v = s.node;
            let closes = v == to && left == 1;
            let usable = match self.cycle_at {
                Some(start) => closes || (v > start && !self.on_path[v as usize]),
                None => !self.on_path[v as usize] && (v != to || left == 1),
            };
            if !usable || self.dist[v as usize] > left - 1 {
                continue;
            }
            self.on_path[v as usize] = true;
            path.push(s);
            let go_on = self.exact(path, v, to, left - 1);
            path.pop();
            self.on_path[v as usize] = false;
            if !go_on {
                return false;
            }
        }
        true
    }
}
