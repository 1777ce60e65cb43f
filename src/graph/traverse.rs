//! Breadth-first questions: `traverse`, `impact`, `reachable`. petgraph's
//! `Bfs` has no depth bound, no per-level ordering and no budget, so this
//! is a level-synchronous BFS of our own over the CSR index.
//!
//! The inner loop is what the ≥ 50 M edges/s target rests on: visited
//! marks are a bit set, an unfiltered view reads only neighbour ids, and
//! the frontier is prefetched a few nodes ahead so the cache misses of a
//! large graph overlap.

use super::bits::Bits;
use super::index::{EdgeRef, NodeId};
use super::query::{Budget, View};

/// How far ahead in the frontier the edge ranges are prefetched; the
/// neighbour lists are prefetched half as far ahead (they need the range).
const AHEAD: usize = 16;

/// Nodes with their shortest depth, ordered by (depth, apiName), and the
/// followed edges between returned nodes, ordered by (source, target,
/// relation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Traversal {
    pub nodes: Vec<(NodeId, u32)>,
    pub edges: Vec<EdgeRef>,
    pub truncated: bool,
}

/// Expand one BFS level: every not yet seen neighbour of `frontier` is
/// marked and pushed to `next` (unsorted). `false` if the budget ran out.
#[inline]
fn expand(view: &View, frontier: &[NodeId], seen: &mut Bits, next: &mut Vec<NodeId>, budget: &mut Budget) -> bool {
    for (i, &u) in frontier.iter().enumerate() {
        if let Some(&a) = frontier.get(i + AHEAD) {
            view.g.prefetch(a);
        }
        if let Some(&b) = frontier.get(i + AHEAD / 2) {
            view.g.prefetch_adjacent(b, view.dir);
        }
        // A node costs its edges: a hub's walk is a large piece of work.
        if !budget.charge(1 + view.degree(u)) {
            return false;
        }
        view.for_each_neighbour(u, |v| {
            if seen.insert(v) {
                next.push(v);
            }
        });
    }
    true
}

/// BFS from `starts` (depth 0) up to `max_depth`, returning at most
/// `limit` nodes. `truncated` when `limit`, `max_depth` or the budget cut
/// anything off.
pub fn traverse(view: &View, starts: &[NodeId], max_depth: u32, limit: usize, budget: &mut Budget) -> Traversal {
    let mut seen = Bits::new(view.g.node_count());
    let mut frontier: Vec<NodeId> = starts.to_vec();
    frontier.sort_unstable();
    frontier.dedup();
    for &s in &frontier {
        seen.insert(s);
    }
    let mut found: Vec<(NodeId, u32)> = frontier.iter().map(|&s| (s, 0)).collect();
    let mut truncated = false;
    // Levels below `expanded` had all their edges followed.
    let mut expanded = 0;
    let mut next = Vec::new();
    // Expanding one level past `limit` tells whether anything was cut.
    while !frontier.is_empty() && found.len() <= limit {
        if expanded == max_depth {
            truncated |= frontier.iter().any(|&u| {
                // Out of budget: whether more lies beyond is unknown.
                if !budget.charge(1 + view.degree(u)) {
                    return true;
                }
                let mut more = false;
                view.for_each_neighbour(u, |v| more |= !seen.contains(v));
                more
            });
            break;
        }
        if !expand(view, &frontier, &mut seen, &mut next, budget) {
            // The partial level is not returned: unmark it.
            next.drain(..).for_each(|v| seen.remove(v));
            truncated = true;
            break;
        }
        next.sort_unstable();
        found.extend(next.iter().map(|&v| (v, expanded + 1)));
        std::mem::swap(&mut frontier, &mut next);
        next.clear();
        expanded += 1;
    }
    if found.len() > limit {
        found[limit..].iter().for_each(|&(v, _)| seen.remove(v));
        found.truncate(limit);
        truncated = true;
    }
    // `seen` now marks exactly the returned nodes. The edges are collected
    // afterwards from the returned nodes only, so the BFS loop stays tight.
    let mut edges = Vec::new();
    for &(u, _) in found.iter().filter(|&&(_, d)| d < expanded) {
        view.for_each_step(u, |s| {
            if seen.contains(s.node) {
                edges.push(s.edge);
            }
        });
    }
    edges.sort_unstable();
    edges.dedup();
    Traversal { nodes: found, edges, truncated }
}

/// Everything that depends on `of`, with depth: its closure in the view's
/// direction (INCOMING for "what depends on"). `of` itself is not part of
/// its own impact, even when a cycle leads back to it.
pub fn impact(view: &View, of: NodeId, max_depth: u32, limit: usize, budget: &mut Budget) -> Traversal {
    let mut t = traverse(view, &[of], max_depth, limit.saturating_add(1), budget);
    t.nodes.retain(|&(n, _)| n != of);
    if t.nodes.len() > limit {
        t.nodes.truncate(limit);
        t.truncated = true;
        let kept: std::collections::HashSet<NodeId> = t.nodes.iter().map(|&(n, _)| n).chain([of]).collect();
        t.edges.retain(|e| kept.contains(&e.source) && kept.contains(&e.target));
    }
    t
}

/// Whether `to` can be reached from `from` at any depth. `None` when the
/// budget ran out first.
pub fn reachable(view: &View, from: NodeId, to: NodeId, budget: &mut Budget) -> Option<bool> {
    if from == to {
        return Some(true);
    }
    let mut seen = Bits::new(view.g.node_count());
    seen.insert(from);
    let (mut frontier, mut next) = (vec![from], vec![]);
    while !frontier.is_empty() {
        if !expand(view, &frontier, &mut seen, &mut next, budget) {
            return None;
        }
        if (to as usize) < view.g.node_count() && seen.contains(to) {
            return Some(true);
        }
        std::mem::swap(&mut frontier, &mut next);
        next.clear();
    }
    Some(false)
}
