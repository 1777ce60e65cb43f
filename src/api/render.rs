//! Rendering large traversal answers. async-graphql resolves every field
//! of every list item as its own future and, with any extension installed
//! (we have two: error codes and persisted queries), through the
//! extension chain, formatting type names per item: for a thousand nodes
//! that is most of a traversal's cost. When a list's items select only
//! plain fields — no arguments, directives, fragments or sub-selections —
//! these lists build the response directly; anything else falls back to
//! the ordinary resolvers, so the answer is the same either way.

use std::borrow::Cow;

use async_graphql::parser::types::{Field, Selection};
use async_graphql::{registry, ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};

use super::traversal::{Edge, TraversalNode};

/// The response keys and field names of a plain selection, or `None`.
fn plain_selection<'a>(ctx: &'a ContextSelectionSet<'_>, allowed: &[&str]) -> Option<Vec<(&'a Name, &'a str)>> {
    ctx.item
        .node
        .items
        .iter()
        .map(|sel| match &sel.node {
            Selection::Field(f) => {
                let f = &f.node;
                let name = f.name.node.as_str();
                let plain = f.arguments.is_empty()
                    && f.directives.is_empty()
                    && f.selection_set.node.items.is_empty()
                    && (name == "__typename" || allowed.contains(&name));
                plain.then(|| (&f.response_key().node, name))
            }
            _ => None,
        })
        .collect()
}

/// Render `items`, `field` giving each selected field's value, when the
/// selection is plain.
fn render<T>(
    ctx: &ContextSelectionSet<'_>,
    items: &[T],
    allowed: &[&str],
    field: impl Fn(&T, &str) -> Value,
) -> Option<Value> {
    let keys = plain_selection(ctx, allowed)?;
    let list = items
        .iter()
        .map(|item| Value::Object(keys.iter().map(|&(key, name)| (key.clone(), field(item, name))).collect()))
        .collect();
    Some(Value::List(list))
}

/// `[TraversalNode!]!`, rendered directly when only apiName, kind, depth
/// and __typename are selected.
pub struct NodeList(pub Vec<TraversalNode>);

/// `[Edge!]!`, rendered directly when only source, target, relation and
/// __typename are selected.
pub struct EdgeList(pub Vec<Edge>);

/// `OutputType` for a list wrapper: the schema sees exactly `[$item!]!`;
/// resolution tries `render` with the plain fields and their values,
/// else the ordinary list resolver.
macro_rules! direct_list {
    ($list:ty, $item:ty, $typename:literal, [$($field:literal),+], |$it:ident, $name:ident| $value:expr) => {
        impl OutputType for $list {
            fn type_name() -> Cow<'static, str> {
                <Vec<$item> as OutputType>::type_name()
            }

            fn qualified_type_name() -> String {
                <Vec<$item> as OutputType>::qualified_type_name()
            }

            fn create_type_info(registry: &mut registry::Registry) -> String {
                <Vec<$item> as OutputType>::create_type_info(registry)
            }

            async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
                let value = |$it: &$item, $name: &str| match $name {
                    "__typename" => Value::String($typename.into()),
                    _ => $value,
                };
                match render(ctx, &self.0, &[$($field),+], value) {
                    Some(v) => Ok(v),
                    None => self.0.resolve(ctx, field).await,
                }
            }
        }
    };
}

direct_list!(NodeList, TraversalNode, "TraversalNode", ["apiName", "kind", "depth"], |n, name| match name {
    "apiName" => Value::String(n.name().to_owned()),
    "kind" => n.kind_value(),
    _ => Value::from(n.level()),
});

direct_list!(EdgeList, Edge, "Edge", ["source", "target", "relation"], |e, name| match name {
    "source" => Value::String(e.source_name().to_owned()),
    "target" => Value::String(e.target_name().to_owned()),
    _ => Value::String(e.relation_name().to_owned()),
});
