//! The real binary killed mid-write: after SIGKILL and a restart on the
//! same database every acknowledged write is there, history is gapless and
//! no commit is partially applied — also while checkpoints are being
//! written after every commit, so the kill lands in or between them.
//! SIGTERM shuts down cleanly (exit 0).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::CREATE_OT;
use crate::proc::Proc;

/// Upper bound on writes in the crash test (one page of `objectTypes`).
const MAX_WRITES: usize = 900;
/// Writes acknowledged before the kill is armed.
const MIN_ACKS: usize = 5;

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

/// POST a query; the response JSON, which must have no errors.
async fn ok(client: &reqwest::Client, url: &str, query: &str, vars: Value) -> Value {
    let res = client.post(url).json(&json!({ "query": query, "variables": vars })).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    body["data"].clone()
}

fn db_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("og.db").display())
}

/// Sequential creates `T0, T1, …` until a request fails (the server died),
/// `MAX_WRITES` or the deadline. Returns the acknowledged apiNames (HTTP
/// 200, no errors), or an error for a response that was neither.
async fn write_stream(url: String, acks: Arc<AtomicUsize>) -> Result<Vec<String>, String> {
    let client = client();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut acked = Vec::new();
    for i in 0..MAX_WRITES {
        if Instant::now() > deadline {
            break;
        }
        let name = format!("T{i}");
        let body = json!({ "query": CREATE_OT, "variables": { "input": { "apiName": name } } });
        let Ok(res) = client.post(&url).json(&body).send().await else { break };
        let status = res.status();
        let Ok(text) = res.text().await else { break };
        let resp: Value = serde_json::from_str(&text).map_err(|e| format!("{name}: {status}: {e}: {text}"))?;
        if status != 200 || resp.get("errors").is_some() || resp["data"]["createObjectType"]["apiName"] != name {
            return Err(format!("{name}: unexpected response {status}: {resp}"));
        }
        acked.push(name);
        acks.store(acked.len(), Ordering::SeqCst);
    }
    Ok(acked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_write_loses_nothing_acknowledged_and_applies_nothing_partially() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(&dir);
    // A checkpoint after every commit: the writer is busy with one most
    // of the time.
    let mut server = Proc::spawn_with(&db, &["--checkpoint-changes", "1"], "info").await;

    let acks = Arc::new(AtomicUsize::new(0));
    let writer = tokio::spawn(write_stream(server.url(), acks.clone()));

    // Let some writes land, then keep writing ~200 ms more and kill the
    // process while a request is in flight.
    let armed = Instant::now() + Duration::from_secs(30);
    while acks.load(Ordering::SeqCst) < MIN_ACKS && Instant::now() < armed && !writer.is_finished() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(acks.load(Ordering::SeqCst) >= MIN_ACKS, "writes were not acknowledged in time");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!writer.is_finished(), "the writer stopped before the kill");
    let written = server.log_text().matches("checkpoint written").count();
    server.child.kill().await.expect("SIGKILL ontograph");

    let acked = tokio::time::timeout(Duration::from_secs(30), writer)
        .await
        .expect("writer did not stop after the kill")
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(acked.len() >= MIN_ACKS && acked.len() < MAX_WRITES, "{} acks", acked.len());
    drop(server);

    // Restart on the same database: from the newest whole checkpoint and
    // the commits after it.
    assert!(written > 0, "no checkpoint was written before the kill");
    let server = Proc::spawn(&db).await;
    let loaded = server
        .find_log(|v| v["fields"]["message"] == "branch loaded from its checkpoint")
        .unwrap_or_else(|| panic!("not loaded from a checkpoint:\n{}", server.log_text()));
    eprintln!("crash: {written} checkpoints written before the kill; restart: {}", loaded["fields"]);
    let q = r#"{ branch(name: "main") {
        version
        objectTypes(first: 1000) { totalCount edges { node { apiName version } } }
        commits(first: 1000) { totalCount edges { node { version changes { entityKind entityId change } } } }
    } }"#;
    let data = ok(&client(), &server.url(), q, json!({})).await;
    let branch = &data["branch"];
    let version = branch["version"].as_i64().unwrap();
    eprintln!("crash: {} acknowledged, branch version {version} after the restart", acked.len());

    // Every acknowledged write is there, at version 1.
    let types: Vec<&Value> = branch["objectTypes"]["edges"].as_array().unwrap().iter().map(|e| &e["node"]).collect();
    let present: BTreeSet<&str> = types.iter().map(|n| n["apiName"].as_str().unwrap()).collect();
    for name in &acked {
        assert!(present.contains(name.as_str()), "acknowledged {name} is missing after the restart");
    }
    for node in &types {
        assert_eq!(node["version"], 1, "{node}");
    }
    // At most the one in-flight write landed without its acknowledgement.
    assert!(
        (acked.len()..=acked.len() + 1).contains(&present.len()),
        "{} acked, {} present",
        acked.len(),
        present.len()
    );

    // History: gapless 1..=version, one whole ADDED change per commit, in
    // write order.
    let commits: Vec<&Value> = branch["commits"]["edges"].as_array().unwrap().iter().map(|e| &e["node"]).collect();
    assert_eq!(branch["commits"]["totalCount"].as_i64(), Some(version));
    assert_eq!(commits.len() as i64, version);
    let mut versions: Vec<i64> = commits.iter().map(|c| c["version"].as_i64().unwrap()).collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=version).collect::<Vec<_>>(), "versions are not gapless");
    for commit in &commits {
        let v = commit["version"].as_i64().unwrap();
        let want = json!([{ "entityKind": "OBJECT_TYPE", "entityId": format!("T{}", v - 1), "change": "ADDED" }]);
        assert_eq!(commit["changes"], want, "commit {v}");
    }

    // Nothing partially applied: one object type per commit.
    assert_eq!(branch["objectTypes"]["totalCount"].as_i64(), Some(version));
    assert_eq!(present.len() as i64, version);
}

#[tokio::test]
async fn sigterm_exits_zero_and_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_url(&dir);
    let mut server = Proc::spawn(&db).await;
    let client = client();
    ok(&client, &server.url(), CREATE_OT, json!({ "input": { "apiName": "BeforeTerm" } })).await;

    server.terminate();
    let exit = tokio::time::timeout(Duration::from_secs(10), server.child.wait())
        .await
        .expect("ontograph did not exit within 10 s of SIGTERM")
        .unwrap();
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
    drop(server);

    let server = Proc::spawn(&db).await;
    let data = ok(
        &client,
        &server.url(),
        r#"{ branch(name: "main") { version objectType(apiName: "BeforeTerm") { version } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(data["branch"], json!({ "version": 1, "objectType": { "version": 1 } }));
}
