//! Property tests: every algorithm against a deliberately naive reference
//! (exhaustive enumeration, repeated relaxation) on random small graphs,
//! for every direction and relation filter.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::model::{Cardinality, Entity, LinkType, ObjectType, Ontology, Status};

/// An edge by names: (source, target, relation).
type NamedEdge = (String, String, String);
/// One step of a path: (node reached, relation, edge source). The source
/// tells apart the two edges of a pair linked both ways under BOTH.
type Step3 = (String, String, String);

#[derive(Debug, Clone)]
struct Case {
    nodes: Vec<String>,
    edges: Vec<NamedEdge>,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..7).prop_flat_map(|n| {
        let links = prop::collection::vec((0..n, prop::sample::select(vec!["a", "b"]), 0..n), 0..14);
        let parents = prop::collection::vec(prop::collection::btree_set(0..n, 0..3), n);
        (Just(n), links, parents).prop_map(|(n, links, parents)| {
            let nodes: Vec<String> = (0..n).map(|i| format!("N{i}")).collect();
            let mut edges = BTreeSet::new();
            for (s, l, t) in links {
                edges.insert((nodes[s].clone(), nodes[t].clone(), l.to_string()));
            }
            for (child, ps) in parents.iter().enumerate() {
                for &p in ps.iter().filter(|&&p| p != child) {
                    edges.insert((nodes[child].clone(), nodes[p].clone(), EXTENDS.to_string()));
                }
            }
            Case { nodes, edges: edges.into_iter().collect() }
        })
    })
}

fn build(c: &Case) -> GraphIndex {
    let mut entities = vec![];
    for n in &c.nodes {
        let extends = c.edges.iter().filter(|e| &e.0 == n && e.2 == EXTENDS).map(|e| e.1.clone()).collect();
        entities.push(Entity::ObjectType(Arc::new(ObjectType {
            api_name: n.clone(),
            display_name: n.clone(),
            description: None,
            status: Status::Active,
            properties: vec![],
            extends,
            implements: vec![],
            curie: None,
            annotations: Default::default(),
            version: 1,
        })));
    }
    for (s, t, l) in c.edges.iter().filter(|e| e.2 != EXTENDS) {
        entities.push(Entity::LinkType(Arc::new(LinkType {
            api_name: l.clone(),
            source: s.clone(),
            target: t.clone(),
            cardinality: Cardinality::ManyToMany,
            display_name: l.clone(),
            description: None,
            status: Status::Active,
            version: 1,
        })));
    }
    GraphIndex::build(&Ontology::default().import(entities).unwrap().ontology)
}

fn direction() -> impl Strategy<Value = Direction> {
    prop::sample::select(vec![Direction::Outgoing, Direction::Incoming, Direction::Both])
}

fn relations() -> impl Strategy<Value = Option<Vec<String>>> {
    let labels = prop::sample::subsequence(vec!["a", "b", EXTENDS, "nope"], 0..=3);
    prop::option::of(labels.prop_map(|ls| ls.into_iter().map(String::from).collect()))
}

/// Naive neighbours: every allowed edge touching `u` in the direction.
fn steps<'a>(c: &'a Case, u: &str, dir: Direction, rels: &Option<Vec<String>>) -> Vec<(&'a str, &'a NamedEdge)> {
    let ok = |e: &NamedEdge| rels.as_ref().is_none_or(|r| r.contains(&e.2));
    let mut out = vec![];
    for e in c.edges.iter().filter(|e| ok(e)) {
        if dir != Direction::Incoming && e.0 == u {
            out.push((e.1.as_str(), e));
        }
        if dir != Direction::Outgoing && e.1 == u {
            out.push((e.0.as_str(), e));
        }
    }
    out
}

/// Shortest distances by repeated relaxation (Bellman-Ford style).
fn distances(c: &Case, start: &str, dir: Direction, rels: &Option<Vec<String>>) -> Vec<Option<u32>> {
    let idx = |n: &str| c.nodes.iter().position(|x| x == n).unwrap();
    let mut dist = vec![None; c.nodes.len()];
    dist[idx(start)] = Some(0);
    for _ in 0..c.nodes.len() {
        for u in &c.nodes {
            if let Some(du) = dist[idx(u)] {
                for (v, _) in steps(c, u, dir, rels) {
                    if dist[idx(v)].is_none_or(|dv| dv > du + 1) {
                        dist[idx(v)] = Some(du + 1);
                    }
                }
            }
        }
    }
    dist
}

/// Every simple path (or, with `cycle`, elementary cycle through its
/// smallest node) from `from` to `to` of at most `max` edges, as step keys.
fn all_paths(
    c: &Case,
    from: &str,
    to: &str,
    dir: Direction,
    rels: &Option<Vec<String>>,
    max: usize,
    cycle: bool,
) -> Vec<Vec<Step3>> {
    #[allow(clippy::too_many_arguments)]
    fn go<'a>(
        c: &'a Case,
        u: &'a str,
        to: &str,
        dir: Direction,
        rels: &Option<Vec<String>>,
        max: usize,
        cycle: bool,
        start: &str,
        seen: &mut Vec<&'a str>,
        path: &mut Vec<Step3>,
        out: &mut Vec<Vec<Step3>>,
    ) {
        if u == to && (!path.is_empty() || !cycle) {
            out.push(path.clone());
            if !cycle || !path.is_empty() {
                return;
            }
        }
        if path.len() == max {
            return;
        }
        for (v, e) in steps(c, u, dir, rels) {
            let fresh = !seen.contains(&v) && (!cycle || v > start);
            if v == to && cycle || fresh {
                seen.push(v);
                path.push((v.to_string(), e.2.clone(), e.0.clone()));
                go(c, v, to, dir, rels, max, cycle, start, seen, path, out);
                path.pop();
                seen.pop();
            }
        }
    }
    let mut out = vec![];
    let mut seen = if cycle { vec![] } else { vec![from] };
    go(c, from, to, dir, rels, max, cycle, from, &mut seen, &mut vec![], &mut out);
    out.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
    out.dedup();
    out
}

fn key(g: &GraphIndex, p: &Path) -> Vec<Step3> {
    let step = |(&n, e): (&NodeId, &EdgeRef)| {
        (g.name(n).to_string(), g.relation(e.rel).to_string(), g.name(e.source).to_string())
    };
    p.nodes[1..].iter().zip(&p.edges).map(step).collect()
}

fn budget() -> Budget {
    Budget::new(Duration::from_secs(60))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn traverse_matches_relaxation(c in case(), dir in direction(), rels in relations(), start in 0usize..7,
                                   max_depth in 0u32..5, limit in 1usize..8) {
        let g = build(&c);
        let start = &c.nodes[start % c.nodes.len()];
        let v = View::new(&g, dir).relations(rels.as_deref());
        let t = traverse(&v, &[g.id(start).unwrap()], max_depth, limit, &mut budget());
        let dist = distances(&c, start, dir, &rels);
        let mut want: Vec<(String, u32)> = c.nodes.iter().zip(&dist)
            .filter_map(|(n, d)| d.filter(|&d| d <= max_depth).map(|d| (n.clone(), d))).collect();
        want.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        let beyond = dist.iter().any(|d| d.is_some_and(|d| d > max_depth));
        let cut = want.len() > limit;
        want.truncate(limit);
        let got: Vec<(String, u32)> = t.nodes.iter().map(|&(n, d)| (g.name(n).to_string(), d)).collect();
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(t.truncated, beyond || cut);
        // Edges: only between returned nodes, each one the filter allows.
        let returned: BTreeSet<&str> = want.iter().map(|w| w.0.as_str()).collect();
        for e in &t.edges {
            let named = (g.name(e.source).to_string(), g.name(e.target).to_string(), g.relation(e.rel).to_string());
            prop_assert!(c.edges.contains(&named));
            prop_assert!(returned.contains(named.0.as_str()) && returned.contains(named.1.as_str()));
        }
    }

    #[test]
    fn shortest_path_and_paths_match_enumeration(c in case(), dir in direction(), rels in relations(),
                                                 a in 0usize..7, b in 0usize..7, max_depth in 0u32..5, limit in 1usize..6) {
        let g = build(&c);
        let (from, to) = (&c.nodes[a % c.nodes.len()], &c.nodes[b % c.nodes.len()]);
        let v = View::new(&g, dir).relations(rels.as_deref());
        let (fi, ti) = (g.id(from).unwrap(), g.id(to).unwrap());
        let every = all_paths(&c, from, to, dir, &rels, c.nodes.len(), false);
        let sp = shortest_path(&v, fi, ti, &mut budget()).unwrap();
        prop_assert_eq!(sp.map(|p| key(&g, &p)), every.first().cloned());
        prop_assert_eq!(reachable(&v, fi, ti, &mut budget()), Some(!every.is_empty()));

        let (ps, more) = paths(&v, fi, ti, max_depth, limit, &mut budget());
        let within: Vec<_> = every.iter().filter(|p| p.len() <= max_depth as usize).cloned().collect();
        let got: Vec<_> = ps.iter().map(|p| key(&g, p)).collect();
        prop_assert_eq!(&got[..], &within[..within.len().min(limit)]);
        prop_assert_eq!(more, within.len() > limit);
    }

    #[test]
    fn cycles_match_enumeration(c in case(), rels in relations(), limit in 1usize..8) {
        let g = build(&c);
        let v = View::new(&g, Direction::Outgoing).relations(rels.as_deref());
        let (cs, more) = cycles(&v, 64, limit, &mut budget());
        let mut want: Vec<(usize, String, Vec<Step3>)> = c.nodes.iter()
            .flat_map(|s| all_paths(&c, s, s, Direction::Outgoing, &rels, c.nodes.len(), true)
                .into_iter().map(move |p| (p.len(), s.clone(), p)))
            .collect();
        want.sort();
        let got: Vec<(usize, String, Vec<Step3>)> =
            cs.iter().map(|p| (p.edges.len(), g.name(p.nodes[0]).to_string(), key(&g, p))).collect();
        prop_assert_eq!(&got[..], &want[..want.len().min(limit)]);
        prop_assert_eq!(more, want.len() > limit);
    }

    #[test]
    fn impact_is_the_incoming_closure(c in case(), rels in relations(), of in 0usize..7) {
        let g = build(&c);
        let of = &c.nodes[of % c.nodes.len()];
        let v = View::new(&g, Direction::Incoming).relations(rels.as_deref());
        let t = impact(&v, g.id(of).unwrap(), 64, 100, &mut budget());
        let dist = distances(&c, of, Direction::Incoming, &rels);
        let mut want: Vec<(String, u32)> = c.nodes.iter().zip(&dist)
            .filter(|(n, _)| *n != of).filter_map(|(n, d)| d.map(|d| (n.clone(), d))).collect();
        want.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        let got: Vec<(String, u32)> = t.nodes.iter().map(|&(n, d)| (g.name(n).to_string(), d)).collect();
        prop_assert_eq!(got, want);
        prop_assert!(!t.truncated);
    }
}
