//! The in-memory side of a commit on a large ontology: applying one change
//! to a persistent state (what every mutation pays before the database
//! write), a fork (sharing the state), and building the petgraph view.
//! Run: `cargo bench --bench write_path`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use ontograph::cli::generate;
use ontograph::graph::GraphIndex;
use ontograph::model::{Change, Document, ObjectTypePatch, Ontology};

fn ontology(n: usize) -> Ontology {
    let mut buf = vec![];
    generate(n, 42, &mut buf).unwrap();
    let doc: Document = serde_json::from_slice(&buf).unwrap();
    Ontology::default().import(doc.into_entities()).unwrap().ontology
}

fn bench(c: &mut Criterion) {
    let o = ontology(100_000);
    let mut g = c.benchmark_group("100k object types");
    g.bench_function("apply one update", |b| {
        let change = [Change::UpdateObjectType {
            api_name: "T500".into(),
            expected_version: 1,
            patch: ObjectTypePatch { description: Some(Some("x".into())), ..Default::default() },
        }];
        b.iter(|| o.apply(&change).unwrap())
    });
    g.bench_function("fork (clone the state)", |b| b.iter(|| o.clone()));
    g.sample_size(10);
    g.bench_function("build graph index", |b| b.iter_batched(|| (), |_| GraphIndex::build(&o), BatchSize::SmallInput));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
