//! Replicas on one PostgreSQL (docs/production.md, "Replicas"), as real
//! `ontograph` processes (the release binary) on loopback:
//!
//! 1. Propagation: commits made over HTTP on replica A at 50 per second,
//!    a graphql-ws subscriber on replica B; for each commit, the time from
//!    A's answer to the commit arriving on B (B applied it to its state
//!    before it broadcasts), p50 / p99 / max.
//! 2. Read throughput: 16 closed-loop clients on kept-alive connections
//!    asking an entity lookup, all on one replica, then spread round-robin
//!    over three; req/s and the ratio. The machine's cores are shared by
//!    the replicas, PostgreSQL and this load generator: the ratio shows
//!    what a second and third process cost or give on the same cores, not
//!    what three machines would.
//!
//! Run: `ONTOGRAPH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test
//! cargo bench --bench replicas` (skipped with a notice without the URL).
//! Figures: docs/measurements.md, "Replicas".

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const COMMITS: usize = 500;
const WARMUP: usize = 25;
const RATE_HZ: u64 = 50;
const CLIENTS: usize = 16;
const LOAD_FOR: Duration = Duration::from_secs(8);

/// A replica: the release binary on port 0; killed when dropped.
struct Replica {
    _child: Child,
    addr: String,
}

async fn replica(url: &str, extra: &[&str]) -> Replica {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ontograph"))
        .args(["--addr", "127.0.0.1:0", "--database-url", url, "--log-format", "json"])
        .args(extra)
        .env("RUST_LOG", "warn,ontograph::http=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn ontograph");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next_line().await.unwrap().expect("ontograph exited before listening");
        let v: Value = serde_json::from_str(&line).unwrap_or_default();
        if let Some(a) = v["fields"]["addr"].as_str().filter(|_| line.contains("listening")) {
            break a.to_owned();
        }
    };
    // Keep reading stderr so the pipe never fills.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Replica { _child: child, addr }
}

impl Replica {
    fn url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }
}

fn quantile(xs: &mut [Duration], q: f64) -> Duration {
    xs.sort();
    xs[((xs.len() as f64 * q) as usize).min(xs.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Arrival time of each main version at a subscriber on `r`.
async fn subscriber(r: &Replica) -> Arc<Mutex<HashMap<i64, Instant>>> {
    let mut req = format!("ws://{}/graphql/ws", r.addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("WebSocket");
    ws.send(Message::text(json!({ "type": "connection_init" }).to_string())).await.unwrap();
    let sub = json!({ "id": "1", "type": "subscribe",
        "payload": { "query": r#"subscription { changes(branch: "main") { version } }"# } });
    ws.send(Message::text(sub.to_string())).await.unwrap();
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let out = seen.clone();
    tokio::spawn(async move {
        while let Some(Ok(Message::Text(t))) = ws.next().await {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if let Some(version) = v["payload"]["data"]["changes"]["version"].as_i64() {
                out.lock().unwrap().insert(version, Instant::now());
            }
        }
    });
    // The subscription is live once the server has it; give it a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    seen
}

async fn propagation(a: &Replica, b: &Replica) {
    let seen = subscriber(b).await;
    let client = reqwest::Client::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / RATE_HZ));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut acked = Vec::with_capacity(COMMITS);
    for i in 0..COMMITS + WARMUP {
        tick.tick().await;
        let q =
            format!(r#"mutation {{ createObjectType(branch: "main", input: {{ apiName: "P{i}" }}) {{ apiName }} }}"#);
        let body: Value = client.post(a.url()).json(&json!({ "query": q })).send().await.unwrap().json().await.unwrap();
        let at = Instant::now();
        let version = body["extensions"]["versions"]["main"].as_i64().unwrap_or_else(|| panic!("{body}"));
        if i >= WARMUP {
            acked.push((version, at));
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = seen.lock().unwrap();
    let mut lags = Vec::new();
    let (mut early, mut missing) = (0, 0);
    for (v, at) in &acked {
        match seen.get(v) {
            Some(arrived) if arrived >= at => lags.push(*arrived - *at),
            Some(_) => {
                early += 1; // on B before A's answer reached the client
                lags.push(Duration::ZERO);
            }
            None => missing += 1,
        }
    }
    println!(
        "propagation A→B at {RATE_HZ} commits/s, {} commits: p50 {}, p99 {}, max {} (from A's answer to B's subscriber; \
         {early} arrived before A's answer, {missing} never arrived)",
        acked.len(),
        ms(quantile(&mut lags, 0.50)),
        ms(quantile(&mut lags, 0.99)),
        ms(quantile(&mut lags, 1.0)),
    );
}

/// Closed-loop clients for `LOAD_FOR`, client i on `targets[i % len]`:
/// requests per second.
async fn load(targets: &[&Replica]) -> f64 {
    let query = json!({ "query": r#"{ branch { objectType(apiName: "Person") { apiName displayName status } } }"# });
    let stop = Instant::now() + LOAD_FOR;
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let url = targets[i % targets.len()].url();
            let query = query.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut n = 0u64;
                while Instant::now() < stop {
                    let res = client.post(&url).json(&query).send().await.unwrap();
                    assert!(res.status().is_success());
                    res.bytes().await.unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / LOAD_FOR.as_secs_f64()
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench` asks harness-less benches for their list
    }
    let Some(admin) = std::env::var("ONTOGRAPH_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipping the replicas bench: ONTOGRAPH_TEST_POSTGRES_URL is not set");
        return;
    };
    let name = format!("ontograph_bench_replicas_{}", std::process::id());
    let pool = sqlx::PgPool::connect(&admin).await.expect("connect");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    {
        // The demo ontology is seeded by the first replica.
        let a = replica(&url, &[]).await;
        let b = replica(&url, &["--no-demo"]).await;
        let c = replica(&url, &["--no-demo"]).await;
        propagation(&a, &b).await;
        let one = load(&[&a]).await;
        let three = load(&[&a, &b, &c]).await;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "entity lookup, {CLIENTS} clients: one replica {one:.0} req/s, three replicas {three:.0} req/s (×{:.2}); \
             {cores} cores: {:.0} / {:.0} req/s per core",
            three / one,
            one / cores as f64,
            three / cores as f64,
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&pool).await.unwrap();
}
