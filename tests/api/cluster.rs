//! Three real `ontograph` processes on one PostgreSQL database
//! (docs/production.md, "Replicas"): writes spread over all three with
//! optimistic versions lose no update, every acknowledged write reaches
//! every replica, a replica SIGKILLed while the others write comes back
//! caught up, the replicas recover when PostgreSQL drops every connection,
//! and a subscriber on one replica sees every commit, made on any of
//! them, once and in order. Propagation here is LISTEN/NOTIFY only: the
//! poll is an hour. PostgreSQL only (skipped with a notice without
//! `ONTOGRAPH_TEST_POSTGRES_URL`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::with_postgres;
use crate::proc::Proc;

/// Replicas that only learn of each other's commits by NOTIFY (and by
/// catching up when they (re)connect).
async fn replica(url: &str) -> Proc {
    Proc::spawn_with(url, &["--replica-poll-ms", "3600000"], "info").await
}

/// A GraphQL POST to `p`: the whole response body.
async fn gql(client: &reqwest::Client, p: &Proc, query: &str, variables: Value) -> Value {
    let res = client.post(p.url()).json(&json!({ "query": query, "variables": variables })).send().await;
    res.expect("POST /graphql").json().await.expect("a JSON body")
}

const READ: &str = r#"{ branch { version objectType(apiName: "Counter") { version displayName } } }"#;
const INCREMENT: &str = r#"mutation($v: Int!, $n: String!) {
  updateObjectType(branch: "main", apiName: "Counter", expectedVersion: $v, input: { displayName: $n }) { version }
}"#;

/// The counter as `p` has it: (branch version, entity version, value);
/// versions and value -1 before the counter has reached `p`.
async fn read(client: &reqwest::Client, p: &Proc) -> (i64, i64, i64) {
    let body = gql(client, p, READ, json!({})).await;
    let b = &body["data"]["branch"];
    let version = b["version"].as_i64().unwrap_or_else(|| panic!("{body}"));
    let t = &b["objectType"];
    match t["displayName"].as_str() {
        Some(n) => (version, t["version"].as_i64().unwrap(), n.parse().unwrap()),
        None => (version, -1, -1),
    }
}

/// Add one to the counter through `p`: read, write with the version read,
/// again on VERSION_CONFLICT. The branch version the write made.
async fn increment(client: &reqwest::Client, p: &Proc) -> i64 {
    for _ in 0..200 {
        let (_, v, n) = read(client, p).await;
        let body = gql(client, p, INCREMENT, json!({ "v": v, "n": (n + 1).to_string() })).await;
        if body["data"]["updateObjectType"].is_object() {
            // The answer says which branch version it made.
            return body["extensions"]["versions"]["main"].as_i64().unwrap_or_else(|| panic!("{body}"));
        }
        let code = body["errors"][0]["extensions"]["code"].as_str();
        assert_eq!(code, Some("VERSION_CONFLICT"), "only a real conflict may refuse an increment: {body}");
    }
    panic!("200 conflicts in a row");
}

/// `k` increments through `p`; the versions they made.
async fn writer(p: Arc<Proc>, k: usize) -> Vec<i64> {
    let client = reqwest::Client::new();
    let mut made = Vec::with_capacity(k);
    for _ in 0..k {
        made.push(increment(&client, &p).await);
    }
    made
}

/// Wait (at most 30 s) until `p` has main at `head` with the counter at `value`.
async fn converges(client: &reqwest::Client, p: &Proc, head: i64, value: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (v, _, n) = read(client, p).await;
        if (v, n) == (head, value) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} stays at version {v}, counter {n}; want {head}, {value}",
            p.addr
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A graphql-ws subscriber to main's commits on `p`: the versions it
/// receives, in order of arrival.
async fn subscribe(p: &Proc) -> Arc<Mutex<Vec<i64>>> {
    let mut req = format!("ws://{}/graphql/ws", p.addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("WebSocket handshake");
    ws.send(Message::text(json!({ "type": "connection_init" }).to_string())).await.unwrap();
    let subscribe = json!({ "id": "1", "type": "subscribe",
        "payload": { "query": r#"subscription { changes(branch: "main") { version } }"# } });
    ws.send(Message::text(subscribe.to_string())).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Text(t) = msg else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            match v["type"].as_str() {
                Some("next") => out.lock().unwrap().push(v["payload"]["data"]["changes"]["version"].as_i64().unwrap()),
                Some("connection_ack") => {}
                _ => panic!("subscriber got {v}"),
            }
        }
    });
    seen
}

/// Wait (at most 30 s) until the subscriber has seen exactly `1..=head`.
async fn saw_every_commit(seen: &Mutex<Vec<i64>>, from: i64, head: i64) {
    let want: Vec<i64> = (from..=head).collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = seen.lock().unwrap().clone();
        if got == want {
            return;
        }
        let prefix = want.starts_with(&got);
        assert!(prefix && tokio::time::Instant::now() < deadline, "the subscriber saw {got:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_lose_no_update_survive_a_kill_and_dropped_connections() {
    with_postgres("three replicas", |url| async move {
        let client = reqwest::Client::new();
        let mut r = vec![Arc::new(replica(&url).await), Arc::new(replica(&url).await), Arc::new(replica(&url).await)];
        let create = r#"mutation { createObjectType(branch: "main", input: { apiName: "Counter", displayName: "0" }) { apiName } }"#;
        let made = gql(&client, &r[0], create, json!({})).await;
        assert_eq!(made["extensions"]["versions"], json!({ "main": 1 }), "{made}");
        // A subscriber on the third replica, once it has the counter.
        converges(&client, &r[2], 1, 0).await;
        let seen = subscribe(&r[2]).await;

        // Phase 1: ten increments through each replica at once.
        let writers: Vec<_> = r.iter().map(|p| tokio::spawn(writer(p.clone(), 10))).collect();
        let mut acked = Vec::new();
        for w in writers {
            acked.extend(w.await.unwrap());
        }
        acked.sort();
        assert_eq!(acked, (2..=31).collect::<Vec<_>>(), "every increment one commit, none lost");
        for p in &r {
            converges(&client, p, 31, 30).await;
        }
        saw_every_commit(&seen, 2, 31).await;

        // Phase 2: the second replica is SIGKILLed while the others write,
        // and comes back caught up.
        let writers: Vec<_> = [&r[0], &r[2]].iter().map(|p| tokio::spawn(writer((*p).clone(), 10))).collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(Arc::into_inner(r.remove(1)).unwrap()); // SIGKILL
        tokio::time::sleep(Duration::from_millis(200)).await;
        r.insert(1, Arc::new(replica(&url).await));
        for w in writers {
            assert_eq!(w.await.unwrap().len(), 10);
        }
        for p in &r {
            converges(&client, p, 51, 50).await;
        }
        // The restarted replica follows new commits, and takes writes.
        writer(r[1].clone(), 3).await;
        for p in &r {
            converges(&client, p, 54, 53).await;
        }

        // Phase 3: PostgreSQL drops every connection (the replicas'
        // listeners included); the replicas reconnect and listen again.
        let db = sqlx::PgPool::connect(&url).await.unwrap();
        let dropped: Vec<(bool,)> = sqlx::query_as(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        assert!(dropped.len() >= 6, "each replica holds a listener and a pool: {dropped:?}");
        db.close().await;
        for (i, p) in r.iter().enumerate() {
            writer(p.clone(), 2).await;
            let head = 54 + 2 * (i as i64 + 1);
            for q in &r {
                converges(&client, q, head, head - 1).await;
            }
        }
        saw_every_commit(&seen, 2, 60).await;

        // Every replica says it is caught up.
        for p in &r {
            let ready = client.get(format!("http://{}/readyz", p.addr)).send().await.unwrap();
            assert_eq!(ready.status(), reqwest::StatusCode::OK);
            let metrics = client.get(format!("http://{}/metrics", p.addr)).send().await.unwrap().text().await.unwrap();
            let lag = crate::live::sample(&metrics, "ontograph_replica_lag_versions{branch=\"main\"}");
            assert_eq!(lag, Some(0.0), "{metrics}");
        }
    })
    .await;
}
