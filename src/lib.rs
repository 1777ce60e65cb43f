//! ontograph: a GraphQL server for versioned ontologies.

/// The GraphQL schema: roots, types, inputs, error mapping.
pub mod api;
/// Who may do what: principals, roles, API tokens, JWTs, the audit log.
pub mod auth;
/// The traversal result cache (moka): keys, weights, stats.
pub mod cache;
/// Import, export and other command-line actions.
pub mod cli;
/// The command line and environment configuration (one clap struct).
pub mod config;
/// Write path and read path: branches, commits, published snapshots.
pub mod engine;
/// The one error enum and its contract codes.
pub mod error;
/// Ontology files in and out: OBO and OWL (pure, synchronous).
pub mod formats;
/// petgraph views of ontology states.
pub mod graph;
/// The axum router and server startup.
pub mod http;
/// Prometheus metrics: request, GraphQL, engine and runtime figures.
pub mod metrics;
/// Ontology entities, validation, immutable states (pure).
pub mod model;
/// Durable versioned persistence: SQLite and PostgreSQL.
pub mod store;
/// Logging setup.
pub mod telemetry;
