//! petgraph's visit traits on a filtered `View`, so petgraph's algorithms
//! (here `tarjan_scc`) walk exactly the edges a query may follow.

use petgraph::visit::{GraphBase, IntoNeighbors, IntoNodeIdentifiers, NodeIndexable};

use super::index::{EdgeRef, NodeId};
use super::query::View;

impl GraphBase for View<'_> {
    type NodeId = NodeId;
    type EdgeId = EdgeRef;
}

impl IntoNeighbors for &View<'_> {
    type Neighbors = std::vec::IntoIter<NodeId>;

    fn neighbors(self, a: NodeId) -> Self::Neighbors {
        let mut out = Vec::new();
        self.for_each_neighbour(a, |v| out.push(v));
        out.into_iter()
    }
}

impl IntoNodeIdentifiers for &View<'_> {
    type NodeIdentifiers = std::ops::Range<NodeId>;

    fn node_identifiers(self) -> Self::NodeIdentifiers {
        0..self.g.node_count() as NodeId
    }
}

impl NodeIndexable for View<'_> {
    fn node_bound(&self) -> usize {
        self.g.node_count()
    }

    fn to_index(&self, a: NodeId) -> usize {
        a as usize
    }

    fn from_index(&self, i: usize) -> NodeId {
        i as NodeId
    }
}
