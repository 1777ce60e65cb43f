//! What GraphQL execution adds to a traversal answer, in-process (no
//! HTTP): the same schema the server mounts, over a generated ontology of
//! `ONTOGRAPH_BENCH_N` object types (default 10000). Run:
//! `cargo bench --bench graphql`.

use criterion::{criterion_group, criterion_main, Criterion};
use ontograph::api::build_schema;
use ontograph::cli::generate;
use ontograph::engine::Engine;
use ontograph::model::Document;
use ontograph::store;

// The allocator the server binary uses (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("ONTOGRAPH_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let schema = rt.block_on(async {
        let engine = Engine::open(store::connect("sqlite::memory:").await.unwrap()).await.unwrap();
        let mut buf = vec![];
        generate(n, 42, &mut buf).unwrap();
        let doc: Document = serde_json::from_slice(&buf).unwrap();
        engine.import("main", doc.into_entities().collect(), "bench".into(), None).await.unwrap();
        build_schema(engine)
    });
    let run = |q: &str| {
        let resp = rt.block_on(schema.execute(q));
        assert!(resp.errors.is_empty(), "{:?}", resp.errors);
        serde_json::to_vec(&resp).unwrap()
    };
    let mut g = c.benchmark_group(format!("GraphQL, {n} object types"));
    g.bench_function("{ __typename }", |b| b.iter(|| run("{ __typename }")));
    g.bench_function("3-hop traverse from T0, BOTH, limit 1000: nodes { apiName depth }", |b| {
        b.iter(|| run(r#"{ branch { traverse(from: ["T0"], direction: BOTH, maxDepth: 3, limit: 1000) { nodes { apiName depth } truncated } } }"#))
    });
    g.bench_function("same, with edges { source target relation }", |b| {
        b.iter(|| run(r#"{ branch { traverse(from: ["T0"], direction: BOTH, maxDepth: 3, limit: 1000) { nodes { apiName depth } edges { source target relation } truncated } } }"#))
    });
    g.bench_function("2-hop traverse from T5 (~50 nodes): nodes { apiName depth }", |b| {
        b.iter(|| run(r#"{ branch { traverse(from: ["T5"], direction: OUTGOING, maxDepth: 2, limit: 50) { nodes { apiName depth } truncated } } }"#))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
