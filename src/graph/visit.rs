//! petgraph's visit traits on a filtered `View`, so petgraph's algorithms
//! (here `kosaraju_scc`) walk exactly the edges a query may follow.

use fixedbitset::FixedBitSet;
use petgraph::visit::{GraphBase, IntoNeighbors, IntoNeighborsDirected, IntoNodeIdentifiers, NodeIndexable, Visitable};

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

impl IntoNeighborsDirected for &View<'_> {
    type NeighborsDirected = std::vec::IntoIter<NodeId>;

    /// `Outgoing` follows the view's direction, `Incoming` goes against it.
    fn neighbors_directed(self, a: NodeId, d: petgraph::Direction) -> Self::NeighborsDirected {
        let mut out = Vec::new();
        match d {
            petgraph::Direction::Outgoing => self.for_each_neighbour(a, |v| out.push(v)),
            petgraph::Direction::Incoming => self.for_each_predecessor(a, |v| out.push(v)),
        }
        out.into_iter()
    }
}

impl Visitable for View<'_> {
    type Map = FixedBitSet;

    fn visit_map(&self) -> FixedBitSet {
        FixedBitSet::with_capacity(self.g.node_count())
    }

    fn reset_map(&self, map: &mut FixedBitSet) {
        map.clear();
        map.grow(self.g.node_count());
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
