//! Request limits for every GraphQL operation, over HTTP and WebSocket:
//! document size, tokens and nesting (checked on the text, before any
//! parse: `prescan`), aliases, root fields and expanded size
//! (checked on the parsed document), field depth, complexity and
//! directives (async-graphql's own checks, whose errors get our code), and
//! a timeout for queries. Every violation is a `LIMIT_EXCEEDED` error.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet};
use async_graphql::Positioned;
use async_graphql::{Name, Request, Response, ServerError, ServerResult, ValidationResult, Variables};

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
}

pub const DEFAULT_LIMITS: QueryLimits = QueryLimits {
    max_depth: 32,
    max_complexity: 10_000,
    max_aliases: 100,
    max_root_fields: 64,
    max_tokens: 50_000,
    max_document_bytes: 512 * 1024,
    max_directives: 10,
    timeout: Some(Duration::from_secs(30)),
    introspection: true,
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

/// A GraphQL error with `extensions.code = LIMIT_EXCEEDED`.
pub fn limit_error(message: impl Into<String>) -> ServerError {
    let mut err = ServerError::new(message, None);
    set_limit_code(&mut err);
    err
}

fn set_limit_code(err: &mut ServerError) {
    err.extensions.get_or_insert_with(Default::default).set("code", "LIMIT_EXCEEDED");
}

/// async-graphql's own limit errors, recognised by their fixed messages
/// (pinned by tests in `tests/api/limits.rs`).
fn is_builtin_limit_error(err: &ServerError) -> bool {
    const PREFIXES: [&str; 4] = [
        "Query is too complex",
        "Query is nested too deep",
        "The recursion depth of the query cannot be greater than",
        "The number of directives on the field",
    ];
    PREFIXES.iter().any(|p| err.message.starts_with(p))
}

/// Checks on the parsed document: aliases, root fields per operation, and
/// the size once fragments are expanded (bounding every later walk over
/// the document, some of which expand fragments without memoization).
pub fn check_document(doc: &ExecutableDocument, limits: &QueryLimits) -> Result<(), ServerError> {
    let mut aliases = 0;
    let sets = doc.operations.iter().map(|(_, op)| &op.node.selection_set.node);
    for set in sets.chain(doc.fragments.values().map(|f| &f.node.selection_set.node)) {
        aliases += count_aliases(set);
    }
    if aliases > limits.max_aliases {
        return Err(limit_error(format!("the query has {aliases} aliases; the limit is {}", limits.max_aliases)));
    }
    let mut sizes = Expansion { doc, memo: HashMap::new() };
    for (name, op) in doc.operations.iter() {
        let set = &op.node.selection_set.node;
        let roots = sizes.fields(set, false);
        if roots > limits.max_root_fields as u64 {
            return Err(limit_error(format!(
                "operation {} selects {roots} root fields; the limit is {}",
                name.map_or("(anonymous)", |n| n.as_str()),
                limits.max_root_fields
            )));
        }
        let total = sizes.fields(set, true);
        if total > limits.max_complexity as u64 {
            return Err(limit_error(format!(
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
fn selects_introspection(doc: &ExecutableDocument) -> bool {
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

/// The type of the operation a request selects, when it can be told.
pub fn operation_type(doc: &ExecutableDocument, operation_name: Option<&str>) -> Option<OperationType> {
    selected_operation(doc, operation_name).map(|op| op.node.ty)
}

/// Response header (never sent to clients) marking a response whose
/// operation was executed, as opposed to rejected before execution; the
/// HTTP layer reads it to pick the status code and drops it.
pub const EXECUTED_MARKER: &str = "x-ontograph-executed";

/// Whether the operation ran; removes the marker.
pub fn take_executed(resp: &mut Response) -> bool {
    resp.http_headers.remove(EXECUTED_MARKER).is_some()
}

/// The extension enforcing [`QueryLimits`].
pub struct Guard(pub QueryLimits);

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardExtension { limits: self.0, operation: Mutex::new(None) })
    }
}

/// One per request.
struct GuardExtension {
    limits: QueryLimits,
    operation: Mutex<Option<OperationType>>,
}

#[async_trait::async_trait]
impl Extension for GuardExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // Before the persisted-query extension, which parses the text.
        prescan(&request.query, &self.limits)?;
        let mut request = next.run(ctx, request).await?;
        let op_name = request.operation_name.clone();
        let over_http = request.data.contains_key(&std::any::TypeId::of::<super::OverHttp>());
        let doc = request.parsed_query()?;
        check_document(doc, &self.limits)?;
        let op = operation_type(doc, op_name.as_deref());
        if over_http && op == Some(OperationType::Subscription) {
            let msg = "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql/ws";
            let mut err = ServerError::new(msg, None);
            err.extensions.get_or_insert_with(Default::default).set("code", "BAD_USER_INPUT");
            return Err(err);
        }
        if !self.limits.introspection && selects_introspection(doc) {
            let mut err = ServerError::new("introspection is disabled on this server", None);
            err.extensions.get_or_insert_with(Default::default).set("code", "FORBIDDEN");
            return Err(err);
        }
        *self.operation.lock().unwrap_or_else(|e| e.into_inner()) = op;
        Ok(request)
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|mut e| {
            if is_builtin_limit_error(&e) {
                set_limit_code(&mut e);
            }
            e
        })
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            for e in errors.iter_mut().filter(|e| is_builtin_limit_error(e)) {
                set_limit_code(e);
            }
            errors
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let is_query = *self.operation.lock().unwrap_or_else(|e| e.into_inner()) == Some(OperationType::Query);
        let mut resp = match self.limits.timeout.filter(|_| is_query) {
            Some(t) => match tokio::time::timeout(t, next.run(ctx, operation_name)).await {
                Ok(resp) => resp,
                Err(_) => Response::from_errors(vec![limit_error(format!(
                    "the query did not finish within the request timeout of {} ms",
                    t.as_millis()
                ))]),
            },
            None => next.run(ctx, operation_name).await,
        };
        resp.http_headers.insert(EXECUTED_MARKER, http::HeaderValue::from_static("1"));
        resp
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptySubscription, Object, Schema};

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        async fn never(&self) -> bool {
            futures::future::pending().await
        }
        async fn quick(&self) -> bool {
            true
        }
    }

    struct Mutation;

    #[Object]
    impl Mutation {
        /// Outlives the timeout; mutations are never cut.
        async fn slow(&self) -> bool {
            tokio::time::sleep(Duration::from_millis(50)).await;
            true
        }
    }

    fn schema() -> Schema<Query, Mutation, EmptySubscription> {
        let l = QueryLimits { timeout: Some(Duration::from_millis(10)), ..DEFAULT_LIMITS };
        Schema::build(Query, Mutation, EmptySubscription).extension(Guard(l)).finish()
    }

    #[tokio::test]
    async fn a_query_past_the_timeout_is_limit_exceeded_and_a_mutation_completes() {
        let mut resp = schema().execute("{ never }").await;
        assert!(take_executed(&mut resp));
        let err = &resp.errors[0];
        assert_eq!(err.message, "the query did not finish within the request timeout of 10 ms");
        let code = err.extensions.as_ref().and_then(|e| e.get("code")).cloned();
        assert_eq!(code, Some(async_graphql::Value::from("LIMIT_EXCEEDED")));
        let resp = schema().execute("mutation { slow }").await;
        assert!(resp.errors.is_empty(), "{:?}", resp.errors);
        assert_eq!(resp.data.to_string(), "{slow: true}");
        let mut resp = schema().execute("{ quick }").await;
        assert!(take_executed(&mut resp) && resp.errors.is_empty());
        let mut resp = schema().execute("{ nope }").await;
        assert!(!take_executed(&mut resp), "a validation error is not executed");
    }
}
