//! The GraphQL API (async-graphql): query, mutation and subscription
//! roots, output and input types, and the error mapping. Built without
//! HTTP (`build_schema`), so tests execute it in-process.
//! Depends on `engine` (and through it on `model`).

mod branch;
mod commit;
mod entities;
mod enums;
mod error;
mod inputs;
mod limits;
mod mutation;
mod query;
mod subscription;
mod traversal;

use async_graphql::{Schema, SchemaBuilder};

pub use error::GqlResult;
pub use mutation::MutationRoot;
pub use query::QueryRoot;
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

/// The executable schema over an engine.
pub fn build_schema(engine: Engine) -> OntographSchema {
    builder().data(engine).finish()
}

/// The SDL of the schema (what `schema/ontograph.graphql` holds), with
/// `@specifiedBy` on scalars as live introspection reports it.
pub fn sdl() -> String {
    builder().finish().sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
