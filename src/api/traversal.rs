//! Traversal results as GraphQL sees them, and the argument handling of
//! the traversal fields of `Branch` (caps, defaults, lookups).

use std::sync::Arc;

use async_graphql::{ComplexObject, Enum, Object, SimpleObject, ID};

use super::entities::{LinkType, OntologyNode, Read};
use super::enums::NodeKind;
use super::render::{EdgeList, EdgeSource, Edges, NodeList, Nodes};
use crate::engine::TraversalLimits;
use crate::error::{Error, Result};
use crate::graph::{self, EdgeRef, GraphIndex};
use crate::model::link_id;

/// Which way edges are followed.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "graph::Direction")]
pub enum Direction {
    /// From source to target (for `extends`: from child to parent).
    Outgoing,
    /// From target to source (for `extends`: from parent to children).
    Incoming,
    /// Either way.
    Both,
}

impl Direction {
    /// The `direction` argument's default.
    pub const DEFAULT: Direction = Direction::Outgoing;
}

impl From<NodeKind> for graph::NodeKind {
    fn from(k: NodeKind) -> Self {
        match k {
            NodeKind::ObjectType => graph::NodeKind::ObjectType,
            NodeKind::Interface => graph::NodeKind::Interface,
        }
    }
}

impl From<graph::NodeKind> for NodeKind {
    fn from(k: graph::NodeKind) -> Self {
        match k {
            graph::NodeKind::ObjectType => NodeKind::ObjectType,
            graph::NodeKind::Interface => NodeKind::Interface,
        }
    }
}

/// The state an answer was computed on: its graph (names, kinds,
/// relations of node ids) and where its entities are read from. Shared
/// (`Arc`) by every node and edge of an answer: one count each.
pub struct GraphState {
    pub graph: Arc<GraphIndex>,
    pub at: Read,
}

/// A requested bound, clamped to the server cap. Returns the value and
/// whether it was clamped. Negative values are BAD_USER_INPUT.
pub fn clamp(field: &str, requested: i32, cap: usize) -> Result<(usize, bool)> {
    let n = usize::try_from(requested).map_err(|_| Error::bad_input(field, "must be ≥ 0"))?;
    Ok((n.min(cap), n > cap))
}

/// A `from:` or `relations:` list within `--max-from` (a list past it
/// would be sorted and searched for nothing a client needs).
pub fn names<T>(field: &str, list: Option<&[T]>, limits: &TraversalLimits) -> Result<()> {
    match list {
        Some(l) if l.len() > limits.max_from => Err(Error::LimitExceeded(format!(
            "{field} names {} entries; the limit is {} (--max-from)",
            l.len(),
            limits.max_from
        ))),
        _ => Ok(()),
    }
}

pub fn depth(requested: i32, limits: &TraversalLimits) -> Result<(u32, bool)> {
    let (d, clamped) = clamp("maxDepth", requested, limits.max_depth as usize)?;
    Ok((d as u32, clamped))
}

/// The answer of `traverse` or `impact`.
pub struct Traversal {
    pub at: Arc<GraphState>,
    pub result: Arc<graph::Traversal>,
    pub clamped: bool,
    pub cached: bool,
}

/// Nodes reached by a traversal, with their depth, and the edges followed
/// between them.
#[Object]
impl Traversal {
    /// Reached nodes, each once at its shortest depth, ordered by (depth,
    /// apiName); start nodes have depth 0.
    async fn nodes(&self) -> NodeList {
        NodeList(Arc::new(Nodes { at: self.at.clone(), answer: self.result.clone() }))
    }
    /// Every edge the traversal followed between returned nodes, ordered
    /// by (source, target, relation).
    async fn edges(&self) -> EdgeList {
        EdgeList(Arc::new(Edges { at: self.at.clone(), edges: EdgeSource::Traversal(self.result.clone()) }))
    }
    /// True when `limit`, `maxDepth`, a server cap or the time budget cut
    /// the answer short.
    async fn truncated(&self) -> bool {
        self.result.truncated || self.clamped
    }
    /// Whether the answer came from the result cache (false when it was
    /// computed for this request).
    async fn cached(&self) -> bool {
        self.cached
    }
}

// Plain fields, not per-field resolvers: an answer can hold thousands.
/// A node reached by a traversal, with its depth.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct TraversalNode {
    /// The node's apiName.
    api_name: ID,
    /// OBJECT_TYPE or INTERFACE.
    kind: NodeKind,
    /// Number of edges from the nearest start node.
    depth: u32,
    #[graphql(skip)]
    at: Arc<GraphState>,
}

impl TraversalNode {
    pub(super) fn new(api_name: ID, kind: NodeKind, depth: u32, at: Arc<GraphState>) -> Self {
        TraversalNode { api_name, kind, depth, at }
    }
}

#[ComplexObject]
impl TraversalNode {
    /// The object type or interface itself.
    async fn node(&self) -> async_graphql::Result<OntologyNode> {
        OntologyNode::find(&self.at.at, &self.api_name).ok_or_else(|| "node vanished from its own state".into())
    }
}

/// An edge of the graph, in the ontology's direction (source → target).
pub struct Edge {
    at: Arc<GraphState>,
    edge: EdgeRef,
}

impl Edge {
    pub(super) fn new(at: Arc<GraphState>, edge: EdgeRef) -> Self {
        Edge { at, edge }
    }
}

/// An edge of the graph, in the ontology's direction (source → target).
#[Object]
impl Edge {
    /// apiName of the source node.
    async fn source(&self) -> ID {
        ID(self.at.graph.name(self.edge.source).to_string())
    }
    /// apiName of the target node.
    async fn target(&self) -> ID {
        ID(self.at.graph.name(self.edge.target).to_string())
    }
    /// A link type's apiName, or `extends`, `implements`, `references`.
    async fn relation(&self) -> &str {
        self.at.graph.relation(self.edge.rel)
    }
    /// The link type behind this edge; null for extends/implements/references.
    async fn link_type(&self) -> Option<LinkType> {
        let g = &self.at.graph;
        if !g.is_link_relation(self.edge.rel) {
            return None;
        }
        let id = link_id(g.name(self.edge.source), g.relation(self.edge.rel), g.name(self.edge.target));
        let o = &self.at.at.ontology;
        o.link_type(&id).map(|l| LinkType::new(l.clone(), self.at.at.clone()))
    }
}

/// A path through the graph: `nodes` has one more entry than `edges`.
pub struct Path {
    pub at: Arc<GraphState>,
    pub path: graph::Path,
}

/// A path through the graph: `nodes` has one more entry than `edges`.
#[Object]
impl Path {
    /// apiNames along the path, first to last (for a cycle, the first
    /// node again at the end).
    async fn nodes(&self) -> Vec<ID> {
        self.path.nodes.iter().map(|&n| ID(self.at.graph.name(n).to_string())).collect()
    }
    /// The edges taken, in order, each in the ontology's direction.
    async fn edges(&self) -> EdgeList {
        EdgeList(Arc::new(Edges { at: self.at.clone(), edges: EdgeSource::Path(self.path.edges.as_slice().into()) }))
    }
    /// Number of edges.
    async fn length(&self) -> usize {
        self.path.edges.len()
    }
}

/// Found paths, ready to render.
pub fn paths(found: Vec<graph::Path>, at: &Arc<GraphState>) -> Vec<Path> {
    found.into_iter().map(|path| Path { at: at.clone(), path }).collect()
}
