//! What a frontend-sized document costs before any resolver runs: a
//! 1.5 KB query with fragments, as Apollo and Relay send, over the demo
//! ontology. Parse, the pipeline's own checks, a clone of the parsed
//! document, and whole requests through the pipeline the server runs,
//! with and without the document cache. Run: `cargo bench --bench documents`.

use async_graphql::parser::parse_query;
use async_graphql::Request;
use criterion::{criterion_group, criterion_main, Criterion};
use ontograph::api::{Api, ApiOptions, Transport};
use ontograph::engine::{Engine, EngineOptions};
use ontograph::store;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A query shaped like a frontend's: named operation, variables,
/// fragments on ObjectType, Branch and Commit, a connection, a traversal.
pub const FRONTEND_QUERY: &str = r#"
query EmployeeScreen($branch: String!, $apiName: ID!, $first: Int = 20, $after: String) {
  branch(name: $branch) {
    ...BranchHeader
    objectType(apiName: $apiName) { ...ObjectTypeDetails }
    objectTypes(first: $first, after: $after, filter: { status: ACTIVE }) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ...ObjectTypeSummary } }
    }
    commits(first: 5) { edges { cursor node { ...CommitSummary } } pageInfo { hasNextPage endCursor } }
    traverse(from: [$apiName], direction: BOTH, maxDepth: 2) {
      truncated cached
      nodes { apiName kind depth }
      edges { source target relation }
    }
    impact(of: $apiName, maxDepth: 3) { truncated nodes { apiName depth } }
  }
}
fragment BranchHeader on Branch { id name version protected parent forkedAt createdAt historical }
fragment ObjectTypeSummary on ObjectType { id apiName displayName status version }
fragment ObjectTypeDetails on ObjectType {
  ...ObjectTypeSummary
  description extends implements referencedBy
  properties { apiName displayName dataType target required unique array description }
  parents { ...ObjectTypeSummary }
  outgoingLinks { ...LinkSummary }
  incomingLinks { ...LinkSummary }
}
fragment LinkSummary on LinkType {
  id linkId apiName cardinality status version
  sourceType { id apiName } targetType { id apiName }
}
fragment CommitSummary on Commit {
  id version author message timestamp
  changes { id entityKind entityId change fields }
}
"#;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (api, cached) = rt.block_on(async {
        let store = store::connect("sqlite::memory:").await.unwrap();
        let engine = Engine::open(store, EngineOptions::default()).await.unwrap();
        engine.seed_demo_if_empty().await.unwrap();
        let api = Api::new(engine.clone(), ApiOptions { document_cache_bytes: 0, ..ApiOptions::default() });
        let cached = Api::new(engine, ApiOptions::default());
        (api, cached)
    });
    let vars = serde_json::json!({ "branch": "main", "apiName": "Employee" });
    let request = || Request::new(FRONTEND_QUERY).variables(async_graphql::Variables::from_json(vars.clone()));
    // Warm the result cache: traversals are hits from now on.
    for a in [&api, &cached] {
        let out = rt.block_on(a.run(request(), Transport::HttpPost));
        let body: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        assert!(body.get("errors").is_none(), "{body}");
    }
    let doc = parse_query(FRONTEND_QUERY).unwrap();
    let mut g = c.benchmark_group(format!("frontend document ({} bytes)", FRONTEND_QUERY.len()));
    g.bench_function("parse", |b| b.iter(|| parse_query(FRONTEND_QUERY).unwrap()));
    g.bench_function("clone a parsed document", |b| b.iter(|| doc.clone()));
    g.bench_function("pipeline checks (limits, inputs, reads)", |b| {
        b.iter(|| ontograph::api::document_checks(&doc, &async_graphql::Variables::from_json(vars.clone())))
    });
    g.bench_function("whole request, no document cache", |b| {
        b.iter(|| rt.block_on(api.run(request(), Transport::HttpPost)).body)
    });
    g.bench_function("whole request, document cache", |b| {
        b.iter(|| rt.block_on(cached.run(request(), Transport::HttpPost)).body)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
