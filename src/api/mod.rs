//! The GraphQL API (async-graphql): query, mutation and subscription
//! roots, output and input types, the error mapping, request limits
//! (`prescan` on the text, `guard` on the document) and per-operation
//! metrics (`observe`). Built without HTTP (`build_schema`), so tests
//! execute it in-process.
//! Depends on `engine` (and through it on `model`).

mod apq;
mod branch;
mod cached;
mod commit;
mod entities;
mod enums;
mod error;
pub mod guard;
mod inputs;
mod limits;
mod merge;
mod mutation;
mod observe;
mod prescan;
mod query;
mod render;
mod responses;
mod subscription;
mod traversal;
pub mod warm;

use async_graphql::extensions::apollo_persisted_queries::ApolloPersistedQueries;
use async_graphql::{Schema, SchemaBuilder};

pub use apq::{PersistedQueries, DEFAULT_APQ_CAPACITY_BYTES};
pub use error::GqlResult;
pub use guard::{QueryLimits, DEFAULT_LIMITS};
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use responses::{Executed, ResponseCache, DEFAULT_RESPONSE_CACHE_BYTES};
pub use subscription::SubscriptionRoot;

use crate::engine::Engine;
use crate::metrics::Metrics;

pub type OntographSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Who is making a request (recorded as the commit author); the HTTP layer
/// fills it from the `X-Ontograph-Author` header.
#[derive(Debug, Clone)]
pub struct Author(pub String);

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(QueryRoot, MutationRoot, SubscriptionRoot).extension(error::ErrorCodes)
}

/// How a schema is built for a server; `Default` is what tests use.
#[derive(Clone)]
pub struct SchemaOptions {
    /// Capacity of the automatic persisted query store in bytes.
    pub apq_capacity_bytes: u64,
    /// The whole-response cache the HTTP layer runs requests through
    /// (the schema reports its statistics); off by default.
    pub responses: ResponseCache,
    pub limits: QueryLimits,
    /// Where operation counts, latencies and error codes go.
    pub metrics: Option<Metrics>,
    /// Cancelled when the server shuts down: subscriptions end.
    pub shutdown: Option<tokio_util::sync::CancellationToken>,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        SchemaOptions {
            apq_capacity_bytes: DEFAULT_APQ_CAPACITY_BYTES,
            responses: ResponseCache::new(0),
            limits: QueryLimits::default(),
            metrics: None,
            shutdown: None,
        }
    }
}

/// Marks a request that came over plain HTTP (request data): a
/// subscription there is refused before execution.
#[derive(Clone, Copy)]
pub struct OverHttp;

/// Cancelled when the server shuts down (schema data for subscriptions).
#[derive(Clone)]
pub struct Shutdown(pub tokio_util::sync::CancellationToken);

/// The executable schema over an engine, with the default persisted
/// query capacity and request limits.
pub fn build_schema(engine: Engine) -> OntographSchema {
    build_schema_configured(engine, SchemaOptions::default())
}

/// The executable schema over an engine, keeping at most
/// `apq_capacity_bytes` of automatic persisted queries; `responses` is
/// the response cache the HTTP layer runs requests through (the schema
/// reports its statistics).
pub fn build_schema_with(engine: Engine, apq_capacity_bytes: u64, responses: ResponseCache) -> OntographSchema {
    build_schema_configured(engine, SchemaOptions { apq_capacity_bytes, responses, ..SchemaOptions::default() })
}

/// The executable schema as a server runs it. Extension order matters:
/// the first registered is outermost, so `Observe` sees the codes
/// `ErrorCodes` fills in, and `Guard` checks the text before the persisted
/// query extension parses it.
pub fn build_schema_configured(engine: Engine, opts: SchemaOptions) -> OntographSchema {
    let apq = ApolloPersistedQueries::new(PersistedQueries::new(opts.apq_capacity_bytes));
    let limits = opts.limits;
    let mut b = Schema::build(QueryRoot, MutationRoot, SubscriptionRoot);
    if let Some(m) = opts.metrics.clone() {
        b = b.extension(observe::Observe(m));
    }
    b = b
        .extension(error::ErrorCodes)
        .extension(guard::Guard(limits))
        .extension(apq)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(limits.max_nesting())
        .limit_directives(limits.max_directives)
        .data(engine)
        .data(opts.responses)
        .data(limits);
    if !limits.introspection {
        b = b.disable_introspection();
    }
    if let Some(m) = opts.metrics {
        b = b.data(m);
    }
    if let Some(s) = opts.shutdown {
        b = b.data(Shutdown(s));
    }
    b.finish()
}

/// The SDL of the schema (what `schema/ontograph.graphql` holds), with
/// `@specifiedBy` on scalars as live introspection reports it.
pub fn sdl() -> String {
    builder().finish().sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
