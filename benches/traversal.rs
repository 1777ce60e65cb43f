//! Traversal algorithms on generated ontologies (`ontograph generate`).
//! Sizes come from `ONTOGRAPH_BENCH_SIZES` (default `10000,100000`; add
//! `1000000` for the 1M-type model, which takes minutes and ~6 GB to set
//! up). Run: `cargo bench --bench traversal`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ontograph::cli::generate;
use ontograph::graph::{self, Budget, Direction, GraphIndex, NodeId, View};
use ontograph::model::{Document, Ontology};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn index(n: usize) -> GraphIndex {
    let mut buf = vec![];
    generate(n, 42, &mut buf).unwrap();
    let doc: Document = serde_json::from_slice(&buf).unwrap();
    drop(buf);
    GraphIndex::build(&Ontology::default().import(doc.into_entities()).unwrap().ontology)
}

/// The node with the most incoming edges: the hub of a power-law graph.
fn hub(g: &GraphIndex) -> NodeId {
    (0..g.node_count() as NodeId).max_by_key(|&n| g.inc(n).len()).unwrap()
}

fn budget() -> Budget {
    Budget::new(Duration::from_secs(3600))
}

fn bench(c: &mut Criterion) {
    let sizes = std::env::var("ONTOGRAPH_BENCH_SIZES").unwrap_or_else(|_| "10000,100000".into());
    for n in sizes.split(',').filter_map(|s| s.trim().parse::<usize>().ok()) {
        let g = index(n);
        let h = hub(&g);
        let both = View::new(&g, Direction::Both);
        let out = View::new(&g, Direction::Outgoing);
        let inc = View::new(&g, Direction::Incoming);
        let mut group = c.benchmark_group(format!("{n} object types"));
        group.sample_size(10);

        // Every edge is examined from both ends: 2 × edges visits.
        group.throughput(Throughput::Elements(2 * g.edge_count() as u64));
        // Asking for a node that does not exist sweeps everything reachable.
        group.bench_function("reachability sweep, BOTH (edge visits)", |b| {
            b.iter(|| graph::reachable(&both, h, NodeId::MAX, &mut budget()))
        });
        group.bench_function("traverse everything, BOTH, with edges (edge visits)", |b| {
            b.iter(|| graph::traverse(&both, &[h], 64, usize::MAX, &mut budget()))
        });

        group.throughput(Throughput::Elements(1));
        group.bench_function("traverse 3 hops from the hub, BOTH, limit 1000", |b| {
            b.iter(|| graph::traverse(&both, &[h], 3, 1000, &mut budget()))
        });
        group.bench_function("impact of the hub (maxDepth 64, limit 10000)", |b| {
            b.iter(|| graph::impact(&inc, h, 64, 10_000, &mut budget()))
        });
        let mut rng = SmallRng::seed_from_u64(7);
        let pairs: Vec<(NodeId, NodeId)> = (0..64)
            .map(|_| (rng.random_range(0..g.node_count()) as NodeId, rng.random_range(0..g.node_count()) as NodeId))
            .collect();
        let mut i = 0;
        group.bench_with_input(BenchmarkId::new("shortestPath, random pairs, BOTH", n), &pairs, |b, pairs| {
            b.iter(|| {
                i = (i + 1) % pairs.len();
                graph::shortest_path(&both, pairs[i].0, pairs[i].1, &mut budget())
            })
        });
        group.bench_function("cycles, limit 100", |b| b.iter(|| graph::cycles(&out, 64, 100, &mut budget())));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
