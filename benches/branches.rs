//! Branch operations on a large generated ontology, through the engine and
//! a SQLite file store: fork time and memory, the first write on a fork,
//! traversal on a fork vs. its parent, diff and merge of 10,000 changes.
//! Size from `ONTOGRAPH_BENCH_N` (default 100000; docs/measurements.md's figures use
//! 1000000, which takes a few minutes to import).
//! Run: `ONTOGRAPH_BENCH_N=1000000 cargo bench --bench branches`.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Bencher, Criterion};
use ontograph::cli::{generate, type_name};
use ontograph::engine::{CommitRequest, Engine, EngineOptions, IntoProtected, MergeRequest};
use ontograph::graph::{self, Budget, Direction, GraphIndex, View};
use ontograph::model::{Change, Document, ObjectTypePatch};
use tokio::runtime::Runtime;

/// mimalloc (as the server uses), counting live bytes: fork memory is
/// what stays allocated after a fork, measured exactly.
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

static FORKS: AtomicUsize = AtomicUsize::new(0);

fn fork_name() -> String {
    format!("f{}", FORKS.fetch_add(1, Ordering::Relaxed))
}

/// `count` description edits (every tenth also re-parents the type, which
/// changes the graph), as one commit on `branch`.
async fn edit(engine: &Engine, branch: &str, from: usize, count: usize, text: &str) {
    let view = engine.branch(branch).unwrap();
    let changes = (from..from + count)
        .map(|i| {
            let name = type_name(i);
            let cur = view.state.ontology.object_type(&name).unwrap();
            let extends = (i % 10 == 0).then(|| if i > 0 { vec![type_name(i / 2)] } else { vec![] });
            Change::UpdateObjectType {
                api_name: name,
                expected_version: cur.version,
                patch: ObjectTypePatch {
                    description: Some(Some(format!("{text} {i}"))),
                    extends,
                    ..Default::default()
                },
            }
        })
        .collect();
    engine.commit(branch, CommitRequest { changes, ..Default::default() }).await.unwrap();
}

fn merge_request(source: &str, dry_run: bool) -> MergeRequest {
    MergeRequest {
        source: source.into(),
        target: "main".into(),
        expected_target_version: None,
        dry_run,
        resolutions: vec![],
        author: None,
        message: None,
        into_protected: IntoProtected::Allow(None),
    }
}

/// Criterion's `iter_custom` over `step`, which does its own setup and
/// teardown and returns the time of the part being measured.
fn timed<F, Fut>(b: &mut Bencher<'_>, rt: &Runtime, engine: &Engine, step: F)
where
    F: Fn(Engine, u64) -> Fut + Copy,
    Fut: std::future::Future<Output = Duration>,
{
    b.to_async(rt).iter_custom(|iters| {
        let engine = engine.clone();
        async move {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                total += step(engine.clone(), i).await;
            }
            total
        }
    })
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("ONTOGRAPH_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let engine = rt.block_on(async {
        let engine =
            Engine::open(ontograph::store::connect(&url).await.unwrap(), EngineOptions::default()).await.unwrap();
        let mut buf = vec![];
        generate(n, 42, &mut buf).unwrap();
        let doc: Document = serde_json::from_slice(&buf).unwrap();
        let t = Instant::now();
        engine.import("main", doc.into_entities().collect(), "import".into(), None).await.unwrap();
        println!("setup: imported {n} object types in {:.1?}", t.elapsed());
        engine
    });
    // The graph readers use: built once, as a traversal would.
    let main_graph = engine.branch("main").unwrap().state.graph();
    let t = Instant::now();
    let rebuilt = GraphIndex::build(&engine.branch("main").unwrap().state.ontology);
    println!("graph build after a graph-changing commit: {:.1?} ({} edges)", t.elapsed(), rebuilt.edge_count());
    drop(rebuilt);

    // Fork memory: live bytes a fork keeps (store row, branch handle, map).
    let before = LIVE.load(Ordering::SeqCst);
    rt.block_on(engine.create_branch("memory_probe", "main", None)).unwrap();
    let kept = LIVE.load(Ordering::SeqCst) - before;
    println!("fork of {n} object types keeps {kept} bytes (live heap after minus before)");

    let mut g = c.benchmark_group(format!("{n} object types"));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.bench_function("fork (createBranch at the head, durable)", |b| {
        timed(b, &rt, &engine, |engine, _| async move {
            let name = fork_name();
            let t = Instant::now();
            engine.create_branch(&name, "main", None).await.unwrap();
            let took = t.elapsed();
            // Keep the branch map small, as it is in real use.
            engine.delete_branch(&name, 0, None).await.unwrap();
            took
        })
    });
    g.bench_function("first write on a fresh fork (one update, durable)", |b| {
        timed(b, &rt, &engine, |engine, _| async move {
            let name = fork_name();
            engine.create_branch(&name, "main", None).await.unwrap();
            let t = Instant::now();
            edit(&engine, &name, 7, 1, "first").await;
            let took = t.elapsed();
            engine.delete_branch(&name, 1, None).await.unwrap();
            took
        })
    });

    // A fork with 5,000 changes (500 of them re-parent types): traversal
    // on it against the same traversal on main.
    rt.block_on(async {
        engine.create_branch("changed", "main", None).await.unwrap();
        edit(&engine, "changed", 0, 5_000, "changed").await;
    });
    let fork_graph = engine.branch("changed").unwrap().state.graph();
    let hub = (0..main_graph.node_count() as u32).max_by_key(|&i| main_graph.inc(i).len()).unwrap();
    let hub_name = main_graph.name(hub).clone();
    for (label, gi) in [("main", &main_graph), ("fork with 5,000 changes", &fork_graph)] {
        let start = gi.id(&hub_name).unwrap();
        let view = View::new(gi, Direction::Both);
        g.bench_function(format!("traverse 3 hops from the hub, BOTH, limit 1000: {label}"), |b| {
            b.iter(|| graph::traverse(&view, &[start], 3, 1000, &mut Budget::new(Duration::from_secs(60))))
        });
    }

    g.bench_function("graph of the state after a commit that re-parents one type (patched)", |b| {
        timed(b, &rt, &engine, |engine, _| async move {
            // A type not re-parented yet (beyond the first 5,000).
            let k = FORKS.fetch_add(1, Ordering::Relaxed);
            let i = 5_000 + (k * 10) % (n - 5_000);
            edit(&engine, "changed", i, 1, &format!("p{k}")).await;
            let state = engine.branch("changed").unwrap().state;
            let t = Instant::now();
            std::hint::black_box(state.graph());
            t.elapsed()
        })
    });

    // Diff and merge of 10,000 changes (1,000 of them re-parent types).
    rt.block_on(async {
        engine.create_branch("ten_k", "main", None).await.unwrap();
        edit(&engine, "ten_k", 10_000, 10_000, "ten thousand").await;
    });
    g.bench_function("diff of a fork with 10,000 changes", |b| {
        let view = engine.branch("ten_k").unwrap();
        b.to_async(&rt).iter(|| async {
            assert_eq!(engine.diff("ten_k", &view.state, "main").await.unwrap().changes.len(), 10_000)
        })
    });
    g.bench_function("merge of 10,000 changes, dry run", |b| {
        b.to_async(&rt).iter(|| async {
            let out = engine.merge(merge_request("ten_k", true)).await.unwrap();
            assert_eq!(out.changes.len(), 10_000);
        })
    });
    g.bench_function("merge of 10,000 changes, committed", |b| {
        timed(b, &rt, &engine, |engine, i| async move {
            let name = fork_name();
            engine.create_branch(&name, "main", None).await.unwrap();
            edit(&engine, &name, 20_000 + (i as usize % 5) * 10_000, 10_000, &name).await;
            let t = Instant::now();
            let out = engine.merge(merge_request(&name, false)).await.unwrap();
            let took = t.elapsed();
            assert_eq!(out.changes.len(), 10_000);
            engine.delete_branch(&name, 1, None).await.unwrap();
            took
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
