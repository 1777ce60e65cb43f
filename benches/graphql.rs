//! What GraphQL execution adds to a traversal answer, in-process (no
//! HTTP): the same request pipeline the server runs (`api::Api`), over a generated ontology of
//! `ONTOGRAPH_BENCH_N` object types (default 10000). Run:
//! `cargo bench --bench graphql`.

use async_graphql::Request;
use criterion::{criterion_group, criterion_main, Criterion};
use ontograph::api::{Api, ApiOptions, Outcome, Transport};
use ontograph::cli::generate;
use ontograph::engine::{Engine, EngineOptions};
use ontograph::model::Document;
use ontograph::store;

// The allocator the server binary uses (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("ONTOGRAPH_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let api = rt.block_on(async {
        let engine =
            Engine::open(store::connect("sqlite::memory:").await.unwrap(), EngineOptions::default()).await.unwrap();
        let mut buf = vec![];
        generate(n, 42, &mut buf).unwrap();
        let doc: Document = serde_json::from_slice(&buf).unwrap();
        engine.import("main", doc.into_entities().collect(), "bench".into(), None).await.unwrap();
        Api::new(engine, ApiOptions::default())
    });
    let run = |q: &str| rt.block_on(api.run(Request::new(q), Transport::HttpPost)).body;
    let check = |q: &str| {
        let out = rt.block_on(api.run(Request::new(q), Transport::HttpPost));
        let body: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        assert!(out.outcome == Outcome::Ran && body.get("errors").is_none(), "{body}");
    };
    let cases = [
        ("{ __typename }", "{ __typename }"),
        (
            "3-hop traverse from T0, BOTH, limit 1000: nodes { apiName depth }",
            r#"{ branch { traverse(from: ["T0"], direction: BOTH, maxDepth: 3, limit: 1000) { nodes { apiName depth } truncated } } }"#,
        ),
        (
            "same, with edges { source target relation }",
            r#"{ branch { traverse(from: ["T0"], direction: BOTH, maxDepth: 3, limit: 1000) { nodes { apiName depth } edges { source target relation } truncated } } }"#,
        ),
        (
            "2-hop traverse from T5 (~50 nodes): nodes { apiName depth }",
            r#"{ branch { traverse(from: ["T5"], direction: OUTGOING, maxDepth: 2, limit: 50) { nodes { apiName depth } truncated } } }"#,
        ),
    ];
    let mut g = c.benchmark_group(format!("GraphQL, {n} object types"));
    for (name, q) in cases {
        check(q);
        g.bench_function(name, |b| b.iter(|| run(q)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
