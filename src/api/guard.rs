//! Request limits for every GraphQL operation, over HTTP and WebSocket:
//! document size, tokens and nesting (checked on the text, before any
//! parse: `prescan`), aliases, root fields and expanded size (checked on
//! the parsed document, here), field depth, complexity and directives
//! (async-graphql's own checks at validation, whose errors get our code in
//! `error::fill_codes`), and a timeout for queries (`pipeline`). Every
//! violation is a `LIMIT_EXCEEDED` error.

use std::collections::HashMap;
use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned};

use crate::error::Error;

/// Bounds on one GraphQL request. The defaults are safe for a public
/// endpoint and far above what GraphiQL or a normal client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Deepest field nesting (async-graphql's `limit_depth`).
    pub max_depth: usize,
    /// Most fields after expanding fragments (async-graphql's complexity,
    /// one per field).
    pub max_complexity: usize,
    /// Most aliased fields in the document.
    pub max_aliases: usize,
    /// Most fields in an operation's root selection set.
    pub max_root_fields: usize,
    /// Most lexical tokens in the document.
    pub max_tokens: usize,
    /// Largest document text in bytes.
    pub max_document_bytes: usize,
    /// Most directives on one field.
    pub max_directives: usize,
    /// Queries running longer are answered with `LIMIT_EXCEEDED`
    /// (mutations are not cut: a write that started completes).
    pub timeout: Option<Duration>,
    /// Whether `__schema` and `__type` are answered.
    pub introspection: bool,
    /// Largest response in bytes (checked while rendering).
    pub max_response_bytes: usize,
    /// Largest input: every argument with its variables substituted.
    pub max_input_bytes: usize,
    /// Largest variables, in bytes of JSON.
    pub max_variables_bytes: usize,
    /// Deepest nesting of a variable's JSON value.
    pub max_variables_depth: usize,
}

pub const DEFAULT_LIMITS: QueryLimits = QueryLimits {
    max_depth: 32,
    max_complexity: 10_000,
    max_aliases: 100,
    max_root_fields: 64,
    max_tokens: 10_000,
    max_document_bytes: 512 * 1024,
    max_directives: 10,
    timeout: Some(Duration::from_secs(30)),
    introspection: true,
    max_response_bytes: 32 * 1024 * 1024,
    max_input_bytes: 8 * 1024 * 1024,
    max_variables_bytes: 4 * 1024 * 1024,
    max_variables_depth: 32,
};

impl Default for QueryLimits {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

impl QueryLimits {
    /// Bracket nesting allowed in the text: a selection set per field
    /// level, plus room for nested argument values.
    pub(super) fn max_nesting(&self) -> usize {
        self.max_depth * 2 + 8
    }
}

pub use super::prescan::prescan;

/// Checks on the parsed document: aliases, root fields per operation, and
/// the size once fragments are expanded (bounding every later walk over
/// the document, some of which expand fragments without memoization).
pub fn check_document(doc: &ExecutableDocument, limits: &QueryLimits) -> Result<(), Error> {
    let mut aliases = 0;
    let sets = doc.operations.iter().map(|(_, op)| &op.node.selection_set.node);
    for set in sets.chain(doc.fragments.values().map(|f| &f.node.selection_set.node)) {
        aliases += count_aliases(set);
    }
    if aliases > limits.max_aliases {
        return Err(Error::LimitExceeded(format!(
            "the query has {aliases} aliases; the limit is {}",
            limits.max_aliases
        )));
    }
    let mut sizes = Expansion { doc, memo: HashMap::new() };
    for (name, op) in doc.operations.iter() {
        let set = &op.node.selection_set.node;
        let roots = sizes.fields(set, false);
        if roots > limits.max_root_fields as u64 {
            return Err(Error::LimitExceeded(format!(
                "operation {} selects {roots} root fields; the limit is {}",
                name.map_or("(anonymous)", |n| n.as_str()),
                limits.max_root_fields
            )));
        }
        let total = sizes.fields(set, true);
        if total > limits.max_complexity as u64 {
            return Err(Error::LimitExceeded(format!(
                "the query selects {} fields once fragments are expanded; the limit is {}",
                if total == u64::MAX { "too many".to_owned() } else { total.to_string() },
                limits.max_complexity
            )));
        }
    }
    Ok(())
}

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(f) => usize::from(f.node.alias.is_some()) + count_aliases(&f.node.selection_set.node),
            Selection::InlineFragment(f) => count_aliases(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Field counts of selection sets with fragments expanded, memoized per
/// fragment (saturating; a fragment cycle counts as empty and is reported
/// by validation).
struct Expansion<'a> {
    doc: &'a ExecutableDocument,
    /// (fragment, deep) → count; `None` while being computed.
    memo: HashMap<(&'a Name, bool), Option<u64>>,
}

impl<'a> Expansion<'a> {
    fn fields(&mut self, set: &'a SelectionSet, deep: bool) -> u64 {
        let mut n = 0u64;
        for s in &set.items {
            let more = match &s.node {
                Selection::Field(f) => {
                    1u64.saturating_add(if deep { self.fields(&f.node.selection_set.node, true) } else { 0 })
                }
                Selection::InlineFragment(f) => self.fields(&f.node.selection_set.node, deep),
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node, deep),
            };
            n = n.saturating_add(more);
        }
        n
    }

    fn fragment(&mut self, name: &'a Name, deep: bool) -> u64 {
        match self.memo.get(&(name, deep)) {
            Some(Some(n)) => return *n,
            Some(None) => return 0,
            None => {}
        }
        let Some(def) = self.doc.fragments.get(name) else { return 0 };
        self.memo.insert((name, deep), None);
        let n = self.fields(&def.node.selection_set.node, deep);
        self.memo.insert((name, deep), Some(n));
        n
    }
}

/// Whether any operation selects `__schema` or `__type` at its root.
pub fn selects_introspection(doc: &ExecutableDocument) -> bool {
    fn root(doc: &ExecutableDocument, set: &SelectionSet, hops: usize) -> bool {
        // `hops` bounds the walk through (possibly cyclic) fragments.
        hops < 64
            && set.items.iter().any(|s| match &s.node {
                Selection::Field(f) => matches!(f.node.name.node.as_str(), "__schema" | "__type"),
                Selection::InlineFragment(f) => root(doc, &f.node.selection_set.node, hops + 1),
                Selection::FragmentSpread(spread) => doc
                    .fragments
                    .get(&spread.node.fragment_name.node)
                    .is_some_and(|f| root(doc, &f.node.selection_set.node, hops + 1)),
            })
    }
    doc.operations.iter().any(|(_, op)| root(doc, &op.node.selection_set.node, 0))
}

/// The operation a request selects: the one named, or the only one.
pub fn selected_operation<'d>(
    doc: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'d Positioned<OperationDefinition>> {
    let mut ops = doc.operations.iter();
    let op = match operation_name {
        Some(name) => ops.find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
        None => match (ops.next(), ops.next()) {
            (Some(op), None) => Some(op),
            _ => None,
        },
    };
    op.map(|(_, op)| op)
}
