//! The GraphQL API (async-graphql): query, mutation and subscription
//! roots, output and input types, the error mapping, and the request
//! pipeline every request goes through (`pipeline::Api`: persisted
//! queries, request limits — `prescan` on the text, `guard` on the
//! document — the whole-response cache, per-operation metrics in
//! `observe`). Built without HTTP, so tests run it in-process.
//! Depends on `engine` and `auth` (principals, roles, tokens); on `model`,
//! `graph` and `cache` for the types the engine's answers are made of; on
//! `metrics` and `error`; on `store` only for the plain records of tokens
//! and audit events. Never on `http` (docs/ARCHITECTURE.md, "Module map").

mod access;
mod admin;
mod annotations;
mod answer;
mod branch;
mod commit;
mod documents;
mod entities;
mod enums;
mod error;
pub mod guard;
mod ids;
mod input_bounds;
mod inputs;
mod json;
mod limits;
mod merge;
mod mutation;
mod node;
mod observe;
pub mod parsing;
mod persisted;
mod pipeline;
mod prescan;
mod query;
mod reads;
mod render;
mod responses;
mod subscription;
mod traversal;
mod versions;
pub mod warm;
mod weight;

use async_graphql::{Schema, SchemaBuilder};

pub use access::RequestId;
pub use documents::DEFAULT_DOCUMENT_CACHE_BYTES;
pub use error::{error_body, request_error, GqlResult};
pub use guard::{QueryLimits, DEFAULT_LIMITS};
pub use mutation::MutationRoot;
pub use persisted::DEFAULT_APQ_CAPACITY_BYTES;
pub use pipeline::{Api, Executed, Outcome, Transport};
pub use query::QueryRoot;
pub use reads::Reads;
pub use responses::{ResponseCache, DEFAULT_RESPONSE_CACHE_BYTES};
pub use subscription::SubscriptionRoot;

use crate::engine::Engine;
use crate::metrics::Metrics;

pub type OntographSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(QueryRoot, MutationRoot, SubscriptionRoot)
}

/// How the API is built for a server; `Default` is what tests use.
#[derive(Clone)]
pub struct ApiOptions {
    /// Capacity of the automatic persisted query store in bytes.
    pub apq_capacity_bytes: u64,
    /// The whole-response cache of repeated branch-only queries (HTTP);
    /// off by default.
    pub responses: ResponseCache,
    pub limits: QueryLimits,
    /// Where operation counts, latencies and error codes go.
    pub metrics: Option<Metrics>,
    /// Cancelled when the server shuts down: subscriptions end.
    pub shutdown: Option<tokio_util::sync::CancellationToken>,
    /// The authenticator (token administration, the audit log); without
    /// one, in-process callers act as open-mode admins.
    pub auth: Option<crate::auth::Auth>,
    /// Threads that parse large requests (`parsing`).
    pub parse_threads: usize,
    /// Parsed documents kept by text (`documents`), in approximate bytes; 0: off.
    pub document_cache_bytes: u64,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            apq_capacity_bytes: DEFAULT_APQ_CAPACITY_BYTES,
            responses: ResponseCache::new(0),
            limits: QueryLimits::default(),
            metrics: None,
            shutdown: None,
            auth: None,
            parse_threads: 1,
            document_cache_bytes: DEFAULT_DOCUMENT_CACHE_BYTES,
        }
    }
}

/// Cancelled when the server shuts down (schema data for subscriptions).
#[derive(Clone)]
pub struct Shutdown(pub tokio_util::sync::CancellationToken);

/// The executable schema over an engine, with no HTTP and no extension:
/// the request pipeline (`Api`) runs every check around it. async-graphql's
/// own depth, complexity, recursion and directive limits stay on as a
/// second line behind the pipeline's checks.
pub fn build_schema(engine: Engine, opts: &ApiOptions) -> OntographSchema {
    let limits = opts.limits;
    let mut b = builder()
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(limits.max_nesting())
        .limit_directives(limits.max_directives)
        .data(engine)
        .data(opts.responses.clone())
        .data(limits);
    if !limits.introspection {
        b = b.disable_introspection();
    }
    if let Some(m) = &opts.metrics {
        b = b.data(m.clone());
    }
    if let Some(s) = &opts.shutdown {
        b = b.data(Shutdown(s.clone()));
    }
    if let Some(a) = &opts.auth {
        b = b.data(a.clone());
    }
    b.finish()
}

/// The checks the pipeline runs on a parsed document before execution
/// (document limits, input bounds, branch reads), with the default limits:
/// for benchmarks.
pub fn document_checks(
    doc: &async_graphql::parser::types::ExecutableDocument,
    variables: &async_graphql::Variables,
) -> crate::error::Result<Reads> {
    let limits = QueryLimits::default();
    guard::check_document(doc, &limits)?;
    let op = guard::selected_operation(doc, None).ok_or_else(|| crate::error::Error::bad_request("no operation"))?;
    input_bounds::check_inputs(doc, &op.node, variables, &limits)?;
    Ok(reads::reads(doc, &op.node, variables))
}

/// The SDL of the schema (what `schema/ontograph.graphql` holds), with
/// `@specifiedBy` on scalars as live introspection reports it.
pub fn sdl() -> String {
    builder().finish().sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
