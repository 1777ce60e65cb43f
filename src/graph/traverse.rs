//! Breadth-first questions: `traverse`, `impact`, `reachable`. petgraph's
//! `Bfs` has no depth bound, no per-level ordering and no budget, so this
//! is a level-synchronous BFS of our own over the CSR index.

use super::index::{EdgeRef, NodeId};
use super::query::{Budget, View};

const UNSEEN: u32 = u32::MAX;

/// Nodes with their shortest depth, ordered by (depth, apiName), and the
/// followed edges between returned nodes, ordered by (source, target,
/// relation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Traversal {
    pub nodes: Vec<(NodeId, u32)>,
    pub edges: Vec<EdgeRef>,
    pub truncated: bool,
}

/// BFS from `starts` (depth 0) up to `max_depth`, returning at most
/// `limit` nodes. `truncated` when `limit`, `max_depth` or the budget cut
/// anything off.
pub fn traverse(view: &View, starts: &[NodeId], max_depth: u32, limit: usize, budget: &mut Budget) -> Traversal {
    let mut depth = vec![UNSEEN; view.g.node_count()];
    let mut frontier: Vec<NodeId> = starts.to_vec();
    frontier.sort_unstable();
    frontier.dedup();
    for &s in &frontier {
        depth[s as usize] = 0;
    }
    let mut found: Vec<(NodeId, u32)> = frontier.iter().map(|&s| (s, 0)).collect();
    let mut truncated = false;
    // Levels below `expanded` had all their edges followed.
    let mut expanded = 0;
    // Expanding one level past `limit` tells whether anything was cut.
    'levels: while !frontier.is_empty() && found.len() <= limit {
        if expanded == max_depth {
            truncated |= frontier.iter().any(|&u| {
                let mut more = false;
                view.for_each_step(u, |s| more |= depth[s.node as usize] == UNSEEN);
                more
            });
            break;
        }
        let mut next = Vec::new();
        for &u in &frontier {
            if !budget.tick() {
                truncated = true;
                break 'levels;
            }
            view.for_each_step(u, |s| {
                let seen = &mut depth[s.node as usize];
                if *seen == UNSEEN {
                    *seen = expanded + 1;
                    next.push(s.node);
                }
            });
        }
        next.sort_unstable();
        found.extend(next.iter().map(|&v| (v, expanded + 1)));
        frontier = next;
        expanded += 1;
    }
    if found.len() > limit {
        found.truncate(limit);
        truncated = true;
    }
    // Returned nodes are exactly those ≤ the last kept (depth, id). The
    // edges are collected afterwards from the returned nodes only, so the
    // BFS loop itself stays tight.
    let cut = found.last().map(|&(n, d)| (d, n));
    let returned = |n: NodeId| {
        let d = depth[n as usize];
        d != UNSEEN && cut.is_some_and(|c| (d, n) <= c)
    };
    let mut edges = Vec::new();
    for &(u, _) in found.iter().filter(|&&(_, d)| d < expanded) {
        view.for_each_step(u, |s| {
            if returned(s.node) {
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
    let mut seen = vec![false; view.g.node_count()];
    seen[from as usize] = true;
    let mut stack = vec![from];
    while let Some(u) = stack.pop() {
        if !budget.tick() {
            return None;
        }
        let mut hit = false;
        view.for_each_step(u, |s| {
            hit |= s.node == to;
            if !seen[s.node as usize] {
                seen[s.node as usize] = true;
                stack.push(s.node);
            }
        });
        if hit {
            return Some(true);
        }
    }
    Some(false)
}
