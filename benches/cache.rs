//! The result cache: a 3-hop OUTGOING `traverse` returning ~50 nodes, cached and
//! uncached, next to `{ __typename }`, through the request pipeline the
//! server runs (`api::Api`, whole-response cache off), in-process (no
//! HTTP); the bare schema without the pipeline's checks; and the engine
//! call alone (no GraphQL) to separate lookup cost from rendering cost.
//! Run: `cargo bench --bench cache`.

use std::time::Duration;

use async_graphql::Request;
use criterion::{criterion_group, criterion_main, Criterion};
use ontograph::api::{Api, ApiOptions, Outcome, Transport};
use ontograph::cache::{CacheConfig, Question};
use ontograph::engine::{Engine, EngineOptions};
use ontograph::graph::{self, Budget, Direction, View};
use tokio::runtime::Runtime;

const TYPES: usize = 10_000;

async fn engine(dir: &tempfile::TempDir, cache: CacheConfig) -> Engine {
    let url = format!("sqlite://{}", dir.path().join(format!("{}.db", cache.capacity_bytes)).display());
    let store = ontograph::store::connect(&url).await.unwrap();
    let engine = Engine::open(store, EngineOptions { cache, ..Default::default() }).await.unwrap();
    let mut buf = vec![];
    ontograph::cli::generate(TYPES, 42, &mut buf).unwrap();
    let doc: ontograph::model::Document = serde_json::from_slice(&buf).unwrap();
    engine.import("main", doc.into_entities().collect(), "bench".into(), None).await.unwrap();
    engine
}

/// The start node whose 3-hop OUTGOING traversal reaches closest to 50
/// nodes (BOTH reaches a hub, and with it most of the graph, in 3 hops).
fn start_with_about_50(engine: &Engine) -> (String, usize) {
    let g = engine.branch("main").unwrap().state.graph();
    let view = View::new(&g, Direction::Outgoing);
    let size = |n| graph::traverse(&view, &[n], 3, 1000, &mut Budget::new(Duration::from_secs(60))).nodes.len();
    let best = (0..g.node_count() as graph::NodeId).min_by_key(|&n| size(n).abs_diff(50)).unwrap();
    (g.name(best).to_string(), size(best))
}

fn query(start: &str) -> String {
    format!(
        r#"{{ branch {{ traverse(from: ["{start}"], direction: OUTGOING, maxDepth: 3, limit: 1000) {{
            nodes {{ apiName depth }} edges {{ source target relation }} truncated cached }} }} }}"#
    )
}

async fn run(api: &Api, q: &str) {
    std::hint::black_box(api.run(Request::new(q), Transport::HttpPost).await.body);
}

/// Runs `q` once and checks it answers without errors.
async fn check(api: &Api, q: &str) {
    let out = api.run(Request::new(q), Transport::HttpPost).await;
    let body: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    assert!(out.outcome == Outcome::Ran && body.get("errors").is_none(), "{body}");
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cached = rt.block_on(engine(&dir, CacheConfig::default()));
    let uncached = rt.block_on(engine(&dir, CacheConfig { capacity_bytes: 0, ..CacheConfig::default() }));
    let (start, reached) = start_with_about_50(&cached);
    let q = query(&start);
    let (cached_api, uncached_api) =
        (Api::new(cached.clone(), ApiOptions::default()), Api::new(uncached.clone(), ApiOptions::default()));
    rt.block_on(check(&cached_api, &q));
    rt.block_on(check(&uncached_api, &q));

    let mut group = c
        .benchmark_group(format!("3-hop traverse from {start} ({reached} nodes of {TYPES} types), GraphQL in-process"));
    group.bench_function("{ __typename }", |b| b.to_async(&rt).iter(|| run(&cached_api, "{ __typename }")));
    group.bench_function("traverse cached", |b| b.to_async(&rt).iter(|| run(&cached_api, &q)));
    group.bench_function("traverse uncached", |b| b.to_async(&rt).iter(|| run(&uncached_api, &q)));
    let bare = cached_api.schema().clone();
    group.bench_function("traverse cached, schema alone (no pipeline checks)", |b| {
        b.to_async(&rt).iter(|| async { std::hint::black_box(serde_json::to_vec(&bare.execute(q.as_str()).await)) })
    });
    let qn = q.replace("edges { source target relation }", "");
    group.bench_function("traverse cached, nodes only", |b| b.to_async(&rt).iter(|| run(&cached_api, &qn)));
    let q0 = q.replace("edges { source target relation }", "").replace("nodes { apiName depth }", "");
    group.bench_function("traverse cached, truncated cached only", |b| b.to_async(&rt).iter(|| run(&cached_api, &q0)));
    group.finish();

    let question = || Question::traverse(vec![start.clone()], Direction::Outgoing, None, None, 3, 1000);
    let (vc, vu) = (cached.branch("main").unwrap(), uncached.branch("main").unwrap());
    let mut group = c.benchmark_group(format!("3-hop traverse from {start}, engine only (no GraphQL)"));
    group
        .bench_function("cached", |b| b.to_async(&rt).iter(|| async { cached.answer(&vc, question()).await.unwrap() }));
    group.bench_function("uncached", |b| {
        b.to_async(&rt).iter(|| async { uncached.answer(&vu, question()).await.unwrap() })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
