//! The result cache: a 3-hop OUTGOING `traverse` returning ~50 nodes, cached and
//! uncached, next to `{ __typename }` on the same schema, in-process (no
//! HTTP), plus the engine call alone (no GraphQL) to separate lookup cost
//! from rendering cost. Run: `cargo bench --bench cache`.

use std::time::Duration;

use async_graphql::Request;
use criterion::{criterion_group, criterion_main, Criterion};
use ontograph::api::{build_schema, OntographSchema};
use ontograph::cache::{CacheConfig, Question};
use ontograph::engine::{Engine, TraversalLimits};
use ontograph::graph::{self, Budget, Direction, View};
use tokio::runtime::Runtime;

const TYPES: usize = 10_000;

async fn engine(dir: &tempfile::TempDir, cache: CacheConfig) -> Engine {
    let url = format!("sqlite://{}", dir.path().join(format!("{}.db", cache.capacity_bytes)).display());
    let store = ontograph::store::connect(&url).await.unwrap();
    let engine = Engine::open_configured(store, TraversalLimits::default(), cache).await.unwrap();
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

async fn run(schema: &OntographSchema, q: &str) {
    let resp = schema.execute(Request::new(q)).await;
    assert!(resp.errors.is_empty(), "{:?}", resp.errors);
    std::hint::black_box(serde_json::to_vec(&resp).unwrap());
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cached = rt.block_on(engine(&dir, CacheConfig::default()));
    let uncached = rt.block_on(engine(&dir, CacheConfig { capacity_bytes: 0, ..CacheConfig::default() }));
    let (start, reached) = start_with_about_50(&cached);
    let q = query(&start);
    let (cached_schema, uncached_schema) = (build_schema(cached.clone()), build_schema(uncached.clone()));
    rt.block_on(run(&cached_schema, &q));
    rt.block_on(run(&uncached_schema, &q));

    let mut group = c
        .benchmark_group(format!("3-hop traverse from {start} ({reached} nodes of {TYPES} types), GraphQL in-process"));
    group.bench_function("{ __typename }", |b| b.to_async(&rt).iter(|| run(&cached_schema, "{ __typename }")));
    group.bench_function("traverse cached", |b| b.to_async(&rt).iter(|| run(&cached_schema, &q)));
    group.bench_function("traverse uncached", |b| b.to_async(&rt).iter(|| run(&uncached_schema, &q)));
    let bare = async_graphql::Schema::build(
        ontograph::api::QueryRoot,
        ontograph::api::MutationRoot,
        ontograph::api::SubscriptionRoot,
    )
    .data(cached.clone())
    .finish();
    group.bench_function("traverse cached, no extensions", |b| b.to_async(&rt).iter(|| run(&bare, &q)));
    let qn = q.replace("edges { source target relation }", "");
    group.bench_function("traverse cached, nodes only", |b| b.to_async(&rt).iter(|| run(&cached_schema, &qn)));
    let q0 = q.replace("edges { source target relation }", "").replace("nodes { apiName depth }", "");
    group.bench_function("traverse cached, truncated cached only", |b| {
        b.to_async(&rt).iter(|| run(&cached_schema, &q0))
    });
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
