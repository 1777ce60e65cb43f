//! The GraphQL API (async-graphql): query, mutation and subscription
//! roots, output and input types, and the error mapping. Built without
//! HTTP (`build_schema`), so tests execute it in-process.
//! Depends on `engine` (and through it on `model`).

mod apq;
mod branch;
mod cached;
mod commit;
mod entities;
mod enums;
mod error;
mod inputs;
mod limits;
mod merge;
mod mutation;
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
pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use responses::{Executed, ResponseCache, DEFAULT_RESPONSE_CACHE_BYTES};
pub use subscription::SubscriptionRoot;

use crate::engine::Engine;

pub type OntographSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Who is making a request (recorded as the commit author); the HTTP layer
/// fills it from the `X-Ontograph-Author` header.
#[derive(Debug, Clone)]
pub struct Author(pub String);

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(QueryRoot, MutationRoot, SubscriptionRoot).extension(error::ErrorCodes)
}

/// The executable schema over an engine, with the default persisted
/// query capacity.
pub fn build_schema(engine: Engine) -> OntographSchema {
    build_schema_with(engine, DEFAULT_APQ_CAPACITY_BYTES, ResponseCache::new(0))
}

/// The executable schema over an engine, keeping at most
/// `apq_capacity_bytes` of automatic persisted queries; `responses` is
/// the response cache the HTTP layer runs requests through (the schema
/// reports its statistics).
pub fn build_schema_with(engine: Engine, apq_capacity_bytes: u64, responses: ResponseCache) -> OntographSchema {
    let apq = ApolloPersistedQueries::new(PersistedQueries::new(apq_capacity_bytes));
    builder().extension(apq).data(engine).data(responses).finish()
}

/// The SDL of the schema (what `schema/ontograph.graphql` holds), with
/// `@specifiedBy` on scalars as live introspection reports it.
pub fn sdl() -> String {
    builder().finish().sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
