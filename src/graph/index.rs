//! `GraphIndex`: the compact, immutable graph of one ontology state.
//! Node ids are positions in apiName order, relation ids positions in
//! label order, so comparing ids compares names: sorting and tie-breaking
//! never touch strings. Adjacency is CSR (offsets + one edge array per
//! direction), sorted by (node, relation): a BFS reads contiguous memory.
//! petgraph's `Csr` cannot hold parallel edges (one pair linked by two
//! relations), which ontologies have everywhere, hence this type; it
//! implements petgraph's visit traits (see `visit.rs`) so petgraph's
//! algorithms run on it.

use std::collections::{HashMap, HashSet};

use crate::model::{DataType, Interface, LinkType, Name, ObjectType, Ontology, Property};

pub type NodeId = u32;
pub type RelId = u32;

pub const EXTENDS: &str = "extends";
pub const IMPLEMENTS: &str = "implements";
pub const REFERENCES: &str = "references";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    ObjectType,
    Interface,
}

/// One adjacency entry: the node at the other end and the relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Adj {
    pub node: NodeId,
    pub rel: RelId,
}

/// The edges of one node in one direction: neighbours and relations as
/// parallel slices, so a walk that ignores relations reads only the
/// neighbour ids (half the memory traffic).
#[derive(Debug, Clone, Copy)]
pub struct Adjacent<'g> {
    pub nodes: &'g [NodeId],
    pub rels: &'g [RelId],
}

impl<'g> Adjacent<'g> {
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Adj> + 'g {
        self.nodes.iter().zip(self.rels).map(|(&node, &rel)| Adj { node, rel })
    }
}

/// An edge as the ontology defines it (source → target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeRef {
    pub source: NodeId,
    pub target: NodeId,
    pub rel: RelId,
}

#[derive(Debug, PartialEq)]
pub struct GraphIndex {
    pub(super) names: Vec<Name>,
    pub(super) kinds: Vec<NodeKind>,
    pub(super) relations: Vec<Name>,
    /// Which relations come from link types (the others are reserved).
    pub(super) link_relation: Vec<bool>,
    /// Per node `[first outgoing, first incoming]` edge position, plus one
    /// sentinel row: both ranges of a node come from one cache line.
    pub(super) start: Vec<[u32; 2]>,
    pub(super) out: Rows,
    pub(super) inc: Rows,
}

/// One direction's CSR payload (struct of arrays).
#[derive(Debug, PartialEq)]
pub(super) struct Rows {
    pub(super) nodes: Vec<NodeId>,
    pub(super) rels: Vec<RelId>,
}

impl GraphIndex {
    /// Build the index of one state: O((nodes + edges) log edges).
    pub fn build(o: &Ontology) -> Self {
        let mut nodes: Vec<(Name, NodeKind)> = Vec::with_capacity(o.object_type_count() + o.interface_count());
        nodes.extend(o.object_types_after(None).map(|t| (Name::from(t.api_name.as_str()), NodeKind::ObjectType)));
        nodes.extend(o.interfaces_after(None).map(|i| (Name::from(i.api_name.as_str()), NodeKind::Interface)));
        nodes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let (names, kinds): (Vec<Name>, Vec<NodeKind>) = nodes.into_iter().unzip();
        let id: HashMap<&str, NodeId> = names.iter().enumerate().map(|(i, n)| (&**n, i as NodeId)).collect();

        let link_labels: HashSet<&str> = o.link_types_after(None).map(|l| l.api_name.as_str()).collect();
        let mut labels: Vec<&str> = link_labels.iter().copied().chain([EXTENDS, IMPLEMENTS, REFERENCES]).collect();
        labels.sort_unstable();
        labels.dedup();
        let rel: HashMap<&str, RelId> = labels.iter().enumerate().map(|(i, l)| (*l, i as RelId)).collect();
        let link_relation = labels.iter().map(|l| link_labels.contains(l)).collect();

        let mut edges: Vec<EdgeRef> = Vec::with_capacity(o.link_type_count() + names.len() * 2);
        let mut add = |from: &str, to: &str, label: &str| {
            if let (Some(&s), Some(&t), Some(&r)) = (id.get(from), id.get(to), rel.get(label)) {
                edges.push(EdgeRef { source: s, target: t, rel: r });
            }
        };
        o.object_types_after(None).flat_map(|t| object_type_edges(t)).for_each(|(s, t, l)| add(s, t, l));
        o.interfaces_after(None).flat_map(|i| interface_edges(i)).for_each(|(s, t, l)| add(s, t, l));
        o.link_types_after(None).map(|l| link_type_edge(l)).for_each(|(s, t, l)| add(s, t, l));
        // Two REFERENCE properties to the same target are one `references` edge.
        edges.sort_unstable();
        edges.dedup();
        let n = names.len();
        let (out_start, out) = csr(n, edges.iter().map(|e| (e.source, Adj { node: e.target, rel: e.rel })));
        let (in_start, inc) = csr(n, edges.iter().map(|e| (e.target, Adj { node: e.source, rel: e.rel })));
        let start = out_start.into_iter().zip(in_start).map(|(o, i)| [o, i]).collect();
        let relations = labels.into_iter().map(Name::from).collect();
        GraphIndex { names, kinds, relations, link_relation, start, out, inc }
    }

    pub fn node_count(&self) -> usize {
        self.names.len()
    }

    pub fn edge_count(&self) -> usize {
        self.out.nodes.len()
    }

    pub fn id(&self, api_name: &str) -> Option<NodeId> {
        self.names.binary_search_by(|n| (**n).cmp(api_name)).ok().map(|i| i as NodeId)
    }

    pub fn name(&self, n: NodeId) -> &Name {
        &self.names[n as usize]
    }

    pub fn kind(&self, n: NodeId) -> NodeKind {
        self.kinds[n as usize]
    }

    pub fn relation_id(&self, label: &str) -> Option<RelId> {
        self.relations.binary_search_by(|r| (**r).cmp(label)).ok().map(|i| i as RelId)
    }

    pub fn relation(&self, r: RelId) -> &Name {
        &self.relations[r as usize]
    }

    pub fn relation_count(&self) -> usize {
        self.relations.len()
    }

    /// Whether relation `r` is a link type's apiName (its edges have a
    /// link type id `"{source}.{relation}.{target}"`).
    pub fn is_link_relation(&self, r: RelId) -> bool {
        self.link_relation[r as usize]
    }

    /// Outgoing edges of `n`, ordered by (target, relation).
    #[inline]
    pub fn out(&self, n: NodeId) -> Adjacent<'_> {
        let (a, b) = (self.start[n as usize][0] as usize, self.start[n as usize + 1][0] as usize);
        Adjacent { nodes: &self.out.nodes[a..b], rels: &self.out.rels[a..b] }
    }

    /// Incoming edges of `n`, ordered by (source, relation).
    #[inline]
    pub fn inc(&self, n: NodeId) -> Adjacent<'_> {
        let (a, b) = (self.start[n as usize][1] as usize, self.start[n as usize + 1][1] as usize);
        Adjacent { nodes: &self.inc.nodes[a..b], rels: &self.inc.rels[a..b] }
    }

    /// Hint the CPU to fetch `n`'s edge ranges: BFS calls it a few
    /// frontier entries ahead, so the random reads of a large graph
    /// overlap instead of stalling one by one.
    #[inline]
    pub fn prefetch(&self, n: NodeId) {
        prefetch(self.start.as_ptr().wrapping_add(n as usize));
    }

    /// Hint the CPU to fetch `n`'s neighbour ids (after `prefetch(n)`).
    #[inline]
    pub fn prefetch_adjacent(&self, n: NodeId, dir: super::Direction) {
        let row = self.start[n as usize];
        if dir != super::Direction::Incoming {
            prefetch(self.out.nodes.as_ptr().wrapping_add(row[0] as usize));
        }
        if dir != super::Direction::Outgoing {
            prefetch(self.inc.nodes.as_ptr().wrapping_add(row[1] as usize));
        }
    }
}

/// The edges an object type contributes: (source, target, relation).
pub(super) fn object_type_edges(t: &ObjectType) -> impl Iterator<Item = (&str, &str, &str)> {
    let s = t.api_name.as_str();
    let extends = t.extends.iter().map(move |p| (s, p.as_str(), EXTENDS));
    let implements = t.implements.iter().map(move |p| (s, p.as_str(), IMPLEMENTS));
    extends.chain(implements).chain(reference_targets(&t.properties).map(move |p| (s, p, REFERENCES)))
}

/// The edges an interface contributes.
pub(super) fn interface_edges(i: &Interface) -> impl Iterator<Item = (&str, &str, &str)> {
    let s = i.api_name.as_str();
    let extends = i.extends.iter().map(move |p| (s, p.as_str(), EXTENDS));
    extends.chain(reference_targets(&i.properties).map(move |p| (s, p, REFERENCES)))
}

/// The edge a link type is.
pub(super) fn link_type_edge(l: &LinkType) -> (&str, &str, &str) {
    (&l.source, &l.target, &l.api_name)
}

/// Targets of an entity's REFERENCE properties.
pub(super) fn reference_targets(props: &[Property]) -> impl Iterator<Item = &str> {
    props.iter().filter(|p| p.data_type == DataType::Reference).filter_map(|p| p.target.as_deref())
}

#[inline]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Compressed sparse rows from (row, entry) pairs.
fn csr(n: usize, entries: impl Iterator<Item = (NodeId, Adj)>) -> (Vec<u32>, Rows) {
    let mut rows: Vec<(NodeId, Adj)> = entries.collect();
    rows.sort_unstable();
    let mut start = vec![0u32; n + 1];
    for (r, _) in &rows {
        start[*r as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let (nodes, rels) = rows.into_iter().map(|(_, a)| (a.node, a.rel)).unzip();
    (start, Rows { nodes, rels })
}
