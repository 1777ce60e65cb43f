//! Scenario tests on the demo ontology, with exact expected answers.

use std::time::Duration;

use super::*;
use crate::model::{demo, Ontology};

fn demo_graph() -> GraphIndex {
    GraphIndex::build(&Ontology::default().import(demo().into_entities()).unwrap().ontology)
}

fn budget() -> Budget {
    Budget::new(Duration::from_secs(10))
}

fn names(g: &GraphIndex, nodes: &[(NodeId, u32)]) -> Vec<(String, u32)> {
    nodes.iter().map(|&(n, d)| (g.name(n).to_string(), d)).collect()
}

fn path_names(g: &GraphIndex, p: &Path) -> Vec<String> {
    p.nodes.iter().map(|&n| g.name(n).to_string()).collect()
}

fn id(g: &GraphIndex, name: &str) -> NodeId {
    g.id(name).unwrap()
}

#[test]
fn index_counts_and_orders() {
    let g = demo_graph();
    assert_eq!((g.node_count(), g.edge_count()), (21, 45));
    let out: Vec<(String, String)> =
        g.out(id(&g, "Employee")).iter().map(|a| (g.name(a.node).to_string(), g.relation(a.rel).to_string())).collect();
    let expect = [
        ("Auditable", "implements"),
        ("Department", "member_of"),
        ("Employee", "manager"),
        ("Employee", "references"),
        ("Office", "works_in"),
        ("Person", "extends"),
        ("Project", "assigned_to"),
        ("Team", "member_of"),
    ];
    assert_eq!(out, expect.map(|(a, b)| (a.to_string(), b.to_string())));
    let into_person: Vec<&str> = g.inc(id(&g, "Person")).iter().map(|a| &**g.name(a.node)).collect();
    assert_eq!(into_person, ["Contractor", "Employee", "Order"]);
}

#[test]
fn inheritance_closure_of_employee() {
    let g = demo_graph();
    let v = View::new(&g, Direction::Outgoing).relations(Some(&[EXTENDS, IMPLEMENTS]));
    let t = traverse(&v, &[id(&g, "Employee")], 10, 100, &mut budget());
    assert_eq!(
        names(&g, &t.nodes),
        [("Employee", 0), ("Auditable", 1), ("Person", 1), ("Party", 2), ("Named", 3)].map(|(n, d)| (n.to_string(), d))
    );
    assert!(!t.truncated);
    assert_eq!(t.edges.len(), 4);
}

#[test]
fn depth_and_limit_truncate() {
    let g = demo_graph();
    let v = View::new(&g, Direction::Outgoing).relations(Some(&[EXTENDS]));
    let t = traverse(&v, &[id(&g, "Employee")], 1, 100, &mut budget());
    assert_eq!(names(&g, &t.nodes), [("Employee".to_string(), 0), ("Person".to_string(), 1)]);
    assert!(t.truncated, "Party lies beyond maxDepth 1");
    let t = traverse(&v, &[id(&g, "Employee")], 2, 2, &mut budget());
    assert_eq!(t.nodes.len(), 2);
    assert!(t.truncated);
}

#[test]
fn impact_of_person() {
    let g = demo_graph();
    let v = View::new(&g, Direction::Incoming);
    let t = impact(&v, id(&g, "Person"), 64, 1000, &mut budget());
    let direct: Vec<String> = t.nodes.iter().filter(|n| n.1 == 1).map(|&(n, _)| g.name(n).to_string()).collect();
    assert_eq!(direct, ["Contractor", "Employee", "Order"]);
    assert!(t.nodes.iter().all(|&(n, _)| n != id(&g, "Person")));
}

#[test]
fn shortest_path_breaks_ties_by_name() {
    let g = demo_graph();
    let v = View::new(&g, Direction::Outgoing);
    let p = shortest_path(&v, id(&g, "Payment"), id(&g, "Customer"), &mut budget()).unwrap().unwrap();
    assert_eq!(path_names(&g, &p), ["Payment", "Invoice", "Customer"]);
    assert_eq!(&**g.relation(p.edges[1].rel), "billed_to");
    let none = shortest_path(&v, id(&g, "Named"), id(&g, "Employee"), &mut budget()).unwrap();
    assert!(none.is_none());
    let b = View::new(&g, Direction::Both);
    assert!(shortest_path(&b, id(&g, "Named"), id(&g, "Employee"), &mut budget()).unwrap().is_some());
}

#[test]
fn paths_shortest_first() {
    let g = demo_graph();
    let v = View::new(&g, Direction::Outgoing);
    let (ps, more) = paths(&v, id(&g, "Payment"), id(&g, "Customer"), 5, 10, &mut budget());
    let got: Vec<Vec<String>> = ps.iter().map(|p| path_names(&g, p)).collect();
    assert_eq!(got[0], ["Payment", "Invoice", "Customer"]);
    // Customer → Order (places), so the next way round goes through the seller.
    assert_eq!(got[1], ["Payment", "Invoice", "Order", "Employee", "Project", "Customer"]);
    assert!(ps.windows(2).all(|w| w[0].edges.len() <= w[1].edges.len()));
    assert!(!more);
}

#[test]
fn cycles_in_demo() {
    let g = demo_graph();
    let v = View::new(&g, Direction::Outgoing);
    let (cs, _) = cycles(&v, 64, 5, &mut budget());
    // Employee→Employee twice (manager, and the mentor REFERENCE) first.
    assert_eq!(path_names(&g, &cs[0]), ["Employee", "Employee"]);
    assert_eq!(path_names(&g, &cs[1]), ["Employee", "Employee"]);
    assert!(cs.windows(2).all(|w| w[0].edges.len() <= w[1].edges.len()));
    let inheritance = View::new(&g, Direction::Outgoing).relations(Some(&[EXTENDS]));
    assert!(cycles(&inheritance, 64, 5, &mut budget()).0.is_empty(), "no inheritance cycle in the demo");
}

#[test]
fn reachable_follows_direction() {
    let g = demo_graph();
    let out = View::new(&g, Direction::Outgoing);
    assert_eq!(reachable(&out, id(&g, "Payment"), id(&g, "Product"), &mut budget()), Some(true));
    assert_eq!(reachable(&out, id(&g, "Product"), id(&g, "Payment"), &mut budget()), Some(false));
    let inc = View::new(&g, Direction::Incoming);
    assert_eq!(reachable(&inc, id(&g, "Product"), id(&g, "Payment"), &mut budget()), Some(true));
}

/// A ring of 5,000 types is one strongly connected component whose DFS
/// is 5,000 deep: the cycle search must not recurse per node (petgraph's
/// `tarjan_scc` does, and overflowed the stack at 1M types). Run on a
/// thread with a small stack so a recursive search fails here.
#[test]
fn cycle_search_does_not_recurse_per_node() {
    use crate::model::{Cardinality, Entity, LinkType, ObjectType, Status};
    use std::sync::Arc;
    const N: usize = 5_000;
    let name = |i: usize| format!("N{:05}", i % N);
    let mut entities = vec![];
    for i in 0..N {
        entities.push(Entity::ObjectType(Arc::new(ObjectType {
            api_name: name(i),
            display_name: name(i),
            description: None,
            status: Status::Active,
            properties: vec![],
            extends: vec![],
            implements: vec![],
            curie: None,
            annotations: Default::default(),
            version: 1,
        })));
        entities.push(Entity::LinkType(Arc::new(LinkType {
            api_name: "next".into(),
            source: name(i),
            target: name(i + 1),
            cardinality: Cardinality::OneToOne,
            display_name: "next".into(),
            description: None,
            status: Status::Active,
            version: 1,
        })));
    }
    let g = GraphIndex::build(&Ontology::default().import(entities).unwrap().ontology);
    let found = std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(move || {
            let v = View::new(&g, Direction::Outgoing);
            let short = cycles(&v, 64, 10, &mut budget());
            let sccs = petgraph::algo::kosaraju_scc(&v).len();
            (short, sccs)
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(found.0, (vec![], false), "no cycle of at most 64 edges");
    assert_eq!(found.1, 1, "the ring is one component");
}
