//! Integration tests: one binary, one module per area. Most run the schema
//! in-process through `TestApp`; `http`, `crash` run the real server.

mod branches;
mod cache;
mod cli;
mod concurrency;
mod crash;
mod entities;
mod helpers;
mod http;
mod real_ontology;
mod responses;
mod schema;
mod store;
mod traversal;
