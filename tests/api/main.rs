//! Integration tests: one binary, one module per area. Most run the schema
//! in-process through `TestApp`; `http`, `crash`, `hostile` run the real server.

#[macro_use]
mod helpers;

mod auth;
mod branches;
mod browser;
mod cache;
mod checkpoints;
mod cli;
mod cluster;
mod concurrency;
mod crash;
mod entities;
mod formats;
mod fuzz;
mod hostile;
mod http;
mod ids;
mod jwt;
mod lanes;
mod limits;
mod live;
mod observability;
mod over_http;
mod proc;
mod real_ontology;
mod replicas;
mod responses;
mod schema;
mod shutdown;
mod store;
mod subscriptions;
mod traversal;
mod write_limits;
