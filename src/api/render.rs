//! Rendering large answers: a traversal's node and edge lists and a
//! diff's changes can hold a hundred thousand items; async-graphql would resolve every
//! field of every item as a future of its own and build a `Value` tree of
//! them on the async worker. When a list's items select only plain fields
//! (no arguments, directives, fragments or sub-selections), these lists are
//! written here instead, straight from the answer's node ids: as JSON bytes
//! when the response is serialized by the pipeline (`json::Splice`; on the
//! blocking pool when the list is long, so the async workers only move the
//! bytes), else as a `Value` (WebSocket, in-process). Any other selection
//! takes the ordinary resolvers, so the answer is the same either way; every
//! route charges the request's response budget (`--max-response-bytes`)
//! before building anything.

use std::borrow::Cow;
use std::io::Write as _;
use std::sync::Arc;

use async_graphql::parser::types::{Field, Selection};
use async_graphql::{registry, ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value, ID};

use super::commit::EntityChange;
use super::ids::{BranchRef, GlobalId};
use super::json::{ResponseBudget, Splice};
use super::traversal::{Edge, GraphState, TraversalNode};
use crate::error::Error;
use crate::graph::{self, EdgeRef, NodeKind};
use crate::model;

/// Lists longer than this are written on the blocking pool.
const INLINE_ROWS: usize = 4096;

/// What one item of a list costs in the response, roughly: its braces,
/// each selected key and a typical value.
fn row_estimate(keys: &[(Name, &str)]) -> usize {
    2 + keys.iter().map(|(k, _)| k.len() + 24).sum::<usize>()
}

/// The response keys and field names of a plain selection, or `None`.
fn plain_selection(ctx: &ContextSelectionSet<'_>, allowed: &[&'static str]) -> Option<Vec<(Name, &'static str)>> {
    ctx.item
        .node
        .items
        .iter()
        .map(|sel| match &sel.node {
            Selection::Field(f) => {
                let f = &f.node;
                let name = f.name.node.as_str();
                let known = std::iter::once(&"__typename").chain(allowed).find(|a| **a == name)?;
                let plain = f.arguments.is_empty() && f.directives.is_empty() && f.selection_set.node.items.is_empty();
                plain.then(|| (f.response_key().node.clone(), *known))
            }
            _ => None,
        })
        .collect()
}

/// A list the renderer can write: its items, field by field.
trait Rows: Send + Sync + 'static {
    const TYPENAME: &'static str;
    const FIELDS: &'static [&'static str];
    type Item: OutputType;
    fn len(&self) -> usize;
    /// Field `name` of item `i` as a JSON value.
    fn write(&self, i: usize, name: &str, out: &mut Vec<u8>);
    /// Field `name` of item `i` as a `Value`.
    fn value(&self, i: usize, name: &str) -> Value;
    /// The items as GraphQL objects, for the ordinary resolvers.
    fn items(&self) -> Vec<Self::Item>;
}

fn write_rows<R: Rows>(rows: &R, keys: &[(Name, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * row_estimate(keys) + 2);
    out.push(b'[');
    for i in 0..rows.len() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        for (j, (key, name)) in keys.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            // Response keys are GraphQL names: nothing to escape.
            out.push(b'"');
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":");
            match *name {
                "__typename" => write_str(&mut out, R::TYPENAME),
                _ => rows.write(i, name, &mut out),
            }
        }
        out.push(b'}');
    }
    out.push(b']');
    out
}

fn value_rows<R: Rows>(rows: &R, keys: &[(Name, &str)]) -> Value {
    let row = |i| {
        let fields = keys.iter().map(|(key, name)| {
            let v = match *name {
                "__typename" => Value::String(R::TYPENAME.into()),
                _ => rows.value(i, name),
            };
            (key.clone(), v)
        });
        Value::Object(fields.collect())
    };
    Value::List((0..rows.len()).map(row).collect())
}

/// A JSON string. Names (apiNames, relations) need no escaping; anything
/// else goes through serde_json.
pub(super) fn write_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

async fn resolve_rows<R: Rows>(
    rows: &Arc<R>,
    ctx: &ContextSelectionSet<'_>,
    field: &Positioned<Field>,
) -> ServerResult<Value> {
    let budget = ctx.data_opt::<Arc<ResponseBudget>>();
    let over = |e: Error| {
        let mut err = super::error::request_error(&e);
        err.locations = vec![field.pos];
        ctx.set_error_path(err)
    };
    let Some(keys) = plain_selection(ctx, R::FIELDS) else {
        // The ordinary resolvers: charged as if each item selected the
        // plain fields (nested selections are charged where they resolve).
        if let Some(b) = budget {
            b.charge(rows.len() * row_estimate(&[(Name::new("x"), "x")])).map_err(over)?;
        }
        return rows.items().resolve(ctx, field).await;
    };
    if let Some(b) = budget {
        b.charge(rows.len() * row_estimate(&keys)).map_err(over)?;
    }
    if ctx.data_opt::<Splice>().is_none() {
        return Ok(value_rows(&**rows, &keys));
    }
    let bytes = match rows.len() > INLINE_ROWS {
        false => write_rows(&**rows, &keys),
        true => {
            // Long lists are heavy work: on the engine's lane.
            let rows = rows.clone();
            let write = move || write_rows(&*rows, &keys);
            let written = match ctx.data_opt::<crate::engine::Engine>() {
                Some(engine) => engine.heavy(write).await,
                None => tokio::task::spawn_blocking(write).await.map_err(Error::internal),
            };
            written.map_err(over)?
        }
    };
    Ok(Splice::value(bytes))
}

/// `OutputType` for a list: the schema sees exactly `[$item!]!`.
macro_rules! direct_list {
    ($list:ty, $rows:ty) => {
        impl OutputType for $list {
            fn type_name() -> Cow<'static, str> {
                <Vec<<$rows as Rows>::Item> as OutputType>::type_name()
            }

            fn qualified_type_name() -> String {
                <Vec<<$rows as Rows>::Item> as OutputType>::qualified_type_name()
            }

            fn create_type_info(registry: &mut registry::Registry) -> String {
                <Vec<<$rows as Rows>::Item> as OutputType>::create_type_info(registry)
            }

            async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
                resolve_rows(&self.0, ctx, field).await
            }
        }
    };
}

fn kind_name(k: NodeKind) -> &'static str {
    match k {
        NodeKind::ObjectType => "OBJECT_TYPE",
        NodeKind::Interface => "INTERFACE",
    }
}

/// The nodes of a traversal answer.
pub struct Nodes {
    pub at: Arc<GraphState>,
    pub answer: Arc<graph::Traversal>,
}

impl Rows for Nodes {
    const TYPENAME: &'static str = "TraversalNode";
    const FIELDS: &'static [&'static str] = &["apiName", "kind", "depth"];
    type Item = TraversalNode;

    fn len(&self) -> usize {
        self.answer.nodes.len()
    }

    fn write(&self, i: usize, name: &str, out: &mut Vec<u8>) {
        let (n, depth) = self.answer.nodes[i];
        match name {
            "apiName" => write_str(out, self.at.graph.name(n)),
            "kind" => write_str(out, kind_name(self.at.graph.kind(n))),
            _ => {
                let _ = write!(out, "{depth}");
            }
        }
    }

    fn value(&self, i: usize, name: &str) -> Value {
        let (n, depth) = self.answer.nodes[i];
        match name {
            "apiName" => Value::String(self.at.graph.name(n).to_string()),
            "kind" => Value::Enum(Name::new(kind_name(self.at.graph.kind(n)))),
            _ => Value::from(depth),
        }
    }

    fn items(&self) -> Vec<TraversalNode> {
        let g = &self.at.graph;
        let node = |&(n, depth): &(graph::NodeId, u32)| {
            TraversalNode::new(ID(g.name(n).to_string()), g.kind(n).into(), depth, self.at.clone())
        };
        self.answer.nodes.iter().map(node).collect()
    }
}

/// Edges of a traversal answer or of a path.
pub struct Edges {
    pub at: Arc<GraphState>,
    pub edges: EdgeSource,
}

/// Where a list of edges is kept.
pub enum EdgeSource {
    Traversal(Arc<graph::Traversal>),
    Path(Arc<[EdgeRef]>),
}

impl Edges {
    fn get(&self, i: usize) -> EdgeRef {
        match &self.edges {
            EdgeSource::Traversal(t) => t.edges[i],
            EdgeSource::Path(p) => p[i],
        }
    }
}

impl Rows for Edges {
    const TYPENAME: &'static str = "Edge";
    const FIELDS: &'static [&'static str] = &["source", "target", "relation"];
    type Item = Edge;

    fn len(&self) -> usize {
        match &self.edges {
            EdgeSource::Traversal(t) => t.edges.len(),
            EdgeSource::Path(p) => p.len(),
        }
    }

    fn write(&self, i: usize, name: &str, out: &mut Vec<u8>) {
        let e = self.get(i);
        let g = &self.at.graph;
        match name {
            "source" => write_str(out, g.name(e.source)),
            "target" => write_str(out, g.name(e.target)),
            _ => write_str(out, g.relation(e.rel)),
        }
    }

    fn value(&self, i: usize, name: &str) -> Value {
        let e = self.get(i);
        let g = &self.at.graph;
        Value::String(
            match name {
                "source" => g.name(e.source),
                "target" => g.name(e.target),
                _ => g.relation(e.rel),
            }
            .to_string(),
        )
    }

    fn items(&self) -> Vec<Edge> {
        (0..self.len()).map(|i| Edge::new(self.at.clone(), self.get(i))).collect()
    }
}

/// `[TraversalNode!]!`, written directly when only apiName, kind, depth
/// and __typename are selected.
pub struct NodeList(pub Arc<Nodes>);

/// `[Edge!]!`, written directly when only source, target, relation and
/// __typename are selected.
pub struct EdgeList(pub Arc<Edges>);

direct_list!(NodeList, Nodes);
direct_list!(EdgeList, Edges);

/// The changes of a commit, a diff or a merge: as many as the entities
/// changed (an import's commit: every entity), so written like the
/// traversal lists.
pub struct Changes {
    pub changes: Arc<Vec<model::EntityChange>>,
    /// The commit they belong to (branch, version); `None` for a diff or
    /// a dry-run merge.
    pub commit: Option<(BranchRef, i64)>,
}

impl Changes {
    fn id(&self, c: &model::EntityChange) -> String {
        match &self.commit {
            Some((b, v)) => GlobalId::CommitChange(b.clone(), *v, c.entity_kind, c.id.clone()).encode().0,
            None => GlobalId::Change(c.clone()).encode().0,
        }
    }
}

impl Rows for Changes {
    const TYPENAME: &'static str = "EntityChange";
    const FIELDS: &'static [&'static str] = &["id", "entityKind", "entityId", "change", "fields"];
    type Item = EntityChange;

    fn len(&self) -> usize {
        self.changes.len()
    }

    fn write(&self, i: usize, name: &str, out: &mut Vec<u8>) {
        let c = &self.changes[i];
        match name {
            "id" => write_str(out, &self.id(c)),
            "entityKind" => write_str(out, c.entity_kind.as_str()),
            "entityId" => write_str(out, &c.id),
            "change" => write_str(out, c.change.as_str()),
            _ => {
                out.push(b'[');
                for (j, f) in c.fields.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    write_str(out, f);
                }
                out.push(b']');
            }
        }
    }

    fn value(&self, i: usize, name: &str) -> Value {
        let c = &self.changes[i];
        match name {
            "id" => Value::String(self.id(c)),
            "entityKind" => Value::Enum(Name::new(c.entity_kind.as_str())),
            "entityId" => Value::String(c.id.clone()),
            "change" => Value::Enum(Name::new(c.change.as_str())),
            _ => Value::List(c.fields.iter().map(|f| Value::String(f.clone())).collect()),
        }
    }

    fn items(&self) -> Vec<EntityChange> {
        let item = |c: &model::EntityChange| match &self.commit {
            Some((b, v)) => EntityChange::in_commit(c.clone(), b, *v),
            None => EntityChange::value(c.clone()),
        };
        self.changes.iter().map(item).collect()
    }
}

/// `[EntityChange!]!` of a commit, a diff or a merge, written directly
/// when only its scalar fields and __typename are selected.
pub struct ChangeList(pub Arc<Changes>);

impl ChangeList {
    pub fn new(changes: Arc<Vec<model::EntityChange>>, commit: Option<(BranchRef, i64)>) -> Self {
        ChangeList(Arc::new(Changes { changes, commit }))
    }
}

direct_list!(ChangeList, Changes);
