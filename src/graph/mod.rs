//! The petgraph view of an ontology state: nodes are object types and
//! interfaces, edges carry a relation label (a link type's apiName or the
//! reserved `extends`, `implements`, `references`). Pure and synchronous.
//! Depends on `model` only.

use std::collections::HashMap;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::model::{DataType, Name, Ontology};

pub const EXTENDS: &str = "extends";
pub const IMPLEMENTS: &str = "implements";
pub const REFERENCES: &str = "references";

/// What an edge means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub label: Name,
    /// The link type's id, for edges that come from a link type.
    pub link_id: Option<Name>,
}

/// An ontology state as a directed graph with an apiName index.
pub struct BranchGraph {
    graph: DiGraph<Name, Relation, u32>,
    index: HashMap<Name, NodeIndex>,
}

impl BranchGraph {
    /// Build the graph of one state: O(nodes + edges).
    pub fn build(o: &Ontology) -> Self {
        let nodes = o.object_type_count() + o.interface_count();
        let mut graph = DiGraph::with_capacity(nodes, nodes * 2 + o.link_type_count());
        let mut index = HashMap::with_capacity(nodes);
        for i in o.interfaces_after(None) {
            let name: Name = i.api_name.as_str().into();
            index.insert(name.clone(), graph.add_node(name));
        }
        for t in o.object_types_after(None) {
            let name: Name = t.api_name.as_str().into();
            index.insert(name.clone(), graph.add_node(name));
        }
        let label = |s: &str| Relation { label: s.into(), link_id: None };
        let (extends, implements, references) = (label(EXTENDS), label(IMPLEMENTS), label(REFERENCES));
        let mut add = |from: &str, to: &str, rel: &Relation| {
            if let (Some(&a), Some(&b)) = (index.get(from), index.get(to)) {
                graph.add_edge(a, b, rel.clone());
            }
        };
        for i in o.interfaces_after(None) {
            i.extends.iter().for_each(|p| add(&i.api_name, p, &extends));
            for p in i.properties.iter().filter(|p| p.data_type == DataType::Reference) {
                add(&i.api_name, p.target.as_deref().unwrap_or_default(), &references);
            }
        }
        for t in o.object_types_after(None) {
            t.extends.iter().for_each(|p| add(&t.api_name, p, &extends));
            t.implements.iter().for_each(|p| add(&t.api_name, p, &implements));
            for p in t.properties.iter().filter(|p| p.data_type == DataType::Reference) {
                add(&t.api_name, p.target.as_deref().unwrap_or_default(), &references);
            }
        }
        for l in o.link_types_after(None) {
            let rel = Relation { label: l.api_name.as_str().into(), link_id: Some(l.id().into()) };
            add(&l.source, &l.target, &rel);
        }
        BranchGraph { graph, index }
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Direct neighbours of a node in one direction, ordered by
    /// (apiName, relation) so answers are deterministic.
    pub fn neighbors(&self, api_name: &str, dir: Direction) -> Vec<(Name, &Relation)> {
        let Some(&n) = self.index.get(api_name) else {
            return vec![];
        };
        let mut out: Vec<(Name, &Relation)> = self
            .graph
            .edges_directed(n, dir)
            .map(|e| {
                let other = if dir == Direction::Outgoing { e.target() } else { e.source() };
                (self.graph[other].clone(), e.weight())
            })
            .collect();
        out.sort_by(|a, b| (&a.0, &a.1.label).cmp(&(&b.0, &b.1.label)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::demo;

    #[test]
    fn demo_graph_has_every_kind_of_edge() {
        let o = Ontology::default().import(demo().into_entities()).unwrap().ontology;
        let g = BranchGraph::build(&o);
        assert_eq!(g.node_count(), 21);
        let out: Vec<(String, String)> = g
            .neighbors("Employee", Direction::Outgoing)
            .into_iter()
            .map(|(n, r)| (n.to_string(), r.label.to_string()))
            .collect();
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
        let into_person: Vec<String> =
            g.neighbors("Person", Direction::Incoming).into_iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(into_person, ["Contractor", "Employee", "Order"]);
    }
}
