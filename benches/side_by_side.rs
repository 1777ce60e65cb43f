//! The Gene Ontology (tests/data/go-basic-2021-12-15.obo.gz) answered side
//! by side: the real server over HTTP (one kept-alive connection, cache
//! misses through distinct `limit`s) against PostgreSQL `WITH RECURSIVE`
//! over the same edges (one open connection), and the bare in-process
//! closure (`graph::impact`, what the server computes before rendering).
//! Then the fairness figure: p99 of `{ __typename }` alone, and while 8
//! clients ask for distinct 28k-node impacts (the load generator once at
//! the server's priority, once niced as if it ran on other machines).
//!
//! Run: `ONTOGRAPH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test
//! cargo bench --bench side_by_side` (without the URL the PostgreSQL column
//! is skipped; `ONTOGRAPH_BENCH_LANE_NICE=0` runs the heavy lane at the
//! async workers' priority, for comparison). Figures: docs/measurements.md,
//! "Side by side".

use std::io::Read;
use std::time::{Duration, Instant};

use ontograph::config::{DbArgs, ImportArgs, ServeArgs};
use ontograph::graph::{self, Budget, Direction, GraphIndex, View};
use ontograph::http::Server;
use serde_json::{json, Value};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 7;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn quantile(xs: &mut [Duration], q: f64) -> Duration {
    xs.sort();
    xs[((xs.len() as f64 * q) as usize).min(xs.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// The descendants of `of` (everything with a path to it), bare.
fn closure(g: &GraphIndex, of: &str) -> usize {
    let view = View::new(g, Direction::Incoming);
    let t = graph::impact(&view, g.id(of).unwrap(), 64, 1_000_000, &mut Budget::new(Duration::from_secs(60)));
    t.nodes.len()
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench` asks harness-less benches for their list
    }
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let gz =
        std::fs::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/go-basic-2021-12-15.obo.gz")).unwrap();
    flate2::read::GzDecoder::new(gz).read_to_string(&mut text).unwrap();
    let file = dir.path().join("go-basic.obo");
    std::fs::write(&file, &text).unwrap();
    let url = format!("sqlite://{}", dir.path().join("go.db").display());
    let import = ImportArgs {
        file,
        db: DbArgs { database_url: url.clone() },
        branch: "main".into(),
        quiet: true,
        format: None,
        absent: None,
    };
    ontograph::cli::import(import).await.unwrap();
    let mut args = ServeArgs::for_tests(&url);
    // Both caches off: every request computes.
    args.response_cache_bytes = 0;
    args.cache_capacity_bytes = 0;
    // For comparison runs: the heavy lane at another niceness.
    if let Some(nice) = std::env::var("ONTOGRAPH_BENCH_LANE_NICE").ok().and_then(|n| n.parse().ok()) {
        args.heavy_lane_nice = nice;
    }
    // The server on a runtime of its own (as many workers as cores), as
    // in its own process; the clients below run on this one.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let server = Server::start(args).await.unwrap();
            server.engine.prepare_graphs().await.unwrap();
            let _ = tx.send((server.addr, server.engine.clone()));
            let _ = stop_rx.await;
            server.stop().await.unwrap();
        })
    });
    let (addr, engine) = rx.await.unwrap();
    let g = engine.branch("main").unwrap().state.graph();

    // Terms whose closures are large, medium and small (as in the issue).
    let bp = "GO_0008150";
    let mut sizes: Vec<(usize, String)> =
        (0..g.node_count() as u32).step_by(11).map(|n| (0, g.name(n).to_string())).collect();
    for s in &mut sizes {
        s.0 = closure(&g, &s.1);
    }
    let nearest = |want: usize| sizes.iter().min_by_key(|(n, _)| n.abs_diff(want)).unwrap().1.clone();
    let terms = [bp.to_string(), nearest(1_242), nearest(13)];

    let client = reqwest::Client::builder().pool_max_idle_per_host(16).build().unwrap();
    let endpoint = format!("http://{addr}/graphql");
    // Timed: until the last byte arrives. The client's JSON parse is not
    // the server's work: `check` parses afterwards.
    let post = |q: String| {
        let (client, endpoint) = (client.clone(), endpoint.clone());
        async move { client.post(endpoint).json(&json!({ "query": q })).send().await.unwrap().bytes().await.unwrap() }
    };
    let check = |bytes: &[u8]| -> Value {
        let body: Value = serde_json::from_slice(bytes).unwrap();
        assert!(body.get("errors").is_none(), "{body}");
        body
    };
    let impact = |term: &str, limit: usize, nodes: bool| {
        let sel = if nodes { "nodes { apiName depth } truncated" } else { "truncated" };
        format!(r#"{{ branch {{ impact(of: "{term}", maxDepth: 64, limit: {limit}) {{ {sel} }} }} }}"#)
    };

    let pg = match std::env::var("ONTOGRAPH_TEST_POSTGRES_URL") {
        Ok(u) => Some(pg_edges(&u, &g).await),
        Err(_) => {
            eprintln!("ONTOGRAPH_TEST_POSTGRES_URL unset: no PostgreSQL column");
            None
        }
    };

    println!("| closure (descendants) | ontograph HTTP, nodes {{ apiName depth }} | same, truncated only | PostgreSQL WITH RECURSIVE | in-process closure | HTTP / PostgreSQL |");
    println!("|---|---|---|---|---|---|");
    let mut limit = 200_000;
    for term in &terms {
        let size = closure(&g, term);
        let mut full = vec![];
        let mut bare = vec![];
        let mut sql = vec![];
        let mut inproc = vec![];
        for _ in 0..RUNS {
            limit -= 1; // a distinct question: a cache miss
            let t = Instant::now();
            let body = post(impact(term, limit, true)).await;
            full.push(t.elapsed());
            let body = check(&body);
            assert_eq!(body["data"]["branch"]["impact"]["nodes"].as_array().unwrap().len(), size);
            limit -= 1;
            let t = Instant::now();
            let body = post(impact(term, limit, false)).await;
            bare.push(t.elapsed());
            check(&body);
            let t = Instant::now();
            assert_eq!(closure(&g, term), size);
            inproc.push(t.elapsed());
            if let Some(pool) = &pg {
                let t = Instant::now();
                let n: i64 = sqlx::query_scalar(
                    "WITH RECURSIVE d(id) AS (SELECT src FROM bench_edges WHERE dst = $1 \
                     UNION SELECT e.src FROM bench_edges e JOIN d ON e.dst = d.id) SELECT count(*) FROM d",
                )
                .bind(term)
                .fetch_one(pool)
                .await
                .unwrap();
                sql.push(t.elapsed());
                assert_eq!(n as usize, size, "PostgreSQL finds the same closure");
            }
        }
        let (f, sq) = (median(full), (!sql.is_empty()).then(|| median(sql)));
        println!(
            "| {term}, {size} nodes | {} | {} | {} | {} | {} |",
            ms(f),
            ms(median(bare)),
            sq.map_or("–".into(), ms),
            ms(median(inproc)),
            sq.map_or("–".into(), |s| format!("{:.2}×", f.as_secs_f64() / s.as_secs_f64())),
        );
    }

    // Fairness: `{ __typename }` alone, then under 8 clients of distinct
    // 28k-node impacts (with node lists): once with the load generator at
    // the server's priority, once with it niced (as if on other machines).
    println!();
    let idle = fairness(&endpoint, None).await;
    fairness(&endpoint, Some((idle, 0))).await;
    fairness(&endpoint, Some((idle, 19))).await;
    let _ = stop_tx.send(());
    serving.join().unwrap();
}

/// p99 of 1,000 `{ __typename }` probes on one connection of this
/// runtime: alone (`load` None), or while 8 clients on a runtime of their
/// own, its threads at the given niceness, ask for distinct 28k-node
/// impacts. The load generator shares the 2 cores with the server; at
/// niceness 19 it takes only what the server leaves, as clients on other
/// machines would, so the figure shows the server's own scheduling.
async fn fairness(endpoint: &str, load: Option<(Duration, i32)>) -> Duration {
    let client = reqwest::Client::new();
    let probe = |n: usize| {
        let (client, endpoint) = (client.clone(), endpoint.to_owned());
        async move {
            let mut xs = Vec::with_capacity(n);
            for _ in 0..n {
                let t = Instant::now();
                client.post(&endpoint).json(&json!({ "query": "{ __typename }" })).send().await.unwrap();
                xs.push(t.elapsed());
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            xs
        }
    };
    let Some((idle99, nice)) = load else {
        let mut idle = probe(1_000).await;
        let (p50, p99) = (quantile(&mut idle, 0.5), quantile(&mut idle, 0.99));
        println!("{{ __typename }} alone: p50 {} p99 {}", ms(p50), ms(p99));
        return p99;
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (flag, endpoint_owned) = (stop.clone(), endpoint.to_owned());
    let generator = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .on_thread_start(move || nicer(nice))
            .build()
            .unwrap();
        rt.block_on(async move {
            let client = reqwest::Client::new();
            let load: Vec<_> = (0..8usize)
                .map(|c| {
                    let (stop, endpoint, client) = (flag.clone(), endpoint_owned.clone(), client.clone());
                    tokio::spawn(async move {
                        let (mut i, mut refused) = (0usize, 0usize);
                        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                            i += 1;
                            let q = format!(
                                r#"{{ branch {{ impact(of: "GO_0008150", maxDepth: 64, limit: {}) {{ nodes {{ apiName depth }} }} }} }}"#,
                                150_000 - c * 10_000 - i - nice as usize * 1_000
                            );
                            let res = client.post(&endpoint).json(&json!({ "query": q })).send().await.unwrap();
                            if res.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                                refused += 1;
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                            let _ = res.bytes().await;
                        }
                        (i, refused)
                    })
                })
                .collect();
            let (mut answered, mut refused) = (0, 0);
            for l in load {
                let (i, r) = l.await.unwrap();
                answered += i - r;
                refused += r;
            }
            (answered, refused)
        })
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut busy = probe(1_000).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (answered, refused) = generator.join().unwrap();
    let (p50, p99) = (quantile(&mut busy, 0.5), quantile(&mut busy, 0.99));
    println!(
        "{{ __typename }} under 8 clients of distinct 28k-node impacts (load generator at nice {nice}): p50 {} p99 {} \
         (p99 ×{:.1} idle); {answered} impacts answered, {refused} refused OVERLOADED",
        ms(p50),
        ms(p99),
        p99.as_secs_f64() / idle99.as_secs_f64()
    );
    p99
}

/// Lower the calling thread's priority (Linux schedules threads by niceness).
fn nicer(nice: i32) {
    #[cfg(target_os = "linux")]
    if nice != 0 {
        // SAFETY: a plain system call on the calling thread's own id.
        unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, nice) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// The graph's edges (source → target, every relation) in a PostgreSQL
/// table indexed for the recursive walk from targets to sources.
async fn pg_edges(url: &str, g: &GraphIndex) -> sqlx::PgPool {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
    sqlx::query("DROP TABLE IF EXISTS bench_edges").execute(&pool).await.unwrap();
    sqlx::query("CREATE TABLE bench_edges (src text NOT NULL, dst text NOT NULL)").execute(&pool).await.unwrap();
    let mut edges = vec![];
    for n in 0..g.node_count() as u32 {
        for a in g.out(n).iter() {
            edges.push((g.name(n).to_string(), g.name(a.node).to_string()));
        }
    }
    for chunk in edges.chunks(10_000) {
        let (s, d): (Vec<String>, Vec<String>) = chunk.iter().cloned().unzip();
        sqlx::query("INSERT INTO bench_edges SELECT * FROM unnest($1::text[], $2::text[])")
            .bind(s)
            .bind(d)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query("CREATE INDEX ON bench_edges (dst, src)").execute(&pool).await.unwrap();
    sqlx::query("ANALYZE bench_edges").execute(&pool).await.unwrap();
    pool
}
