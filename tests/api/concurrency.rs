//! Optimistic locking under contention: no update is ever lost.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use crate::helpers::{code, TestApp, UPDATE_OT};

/// 20 writers race to update one entity, each retrying on conflict with
/// the version it re-reads. Every accepted write must be in the history
/// exactly once, at a gapless version, and visible by time travel.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_writers_lose_no_update() {
    let app = Arc::new(TestApp::new().await);
    app.create_object_type(json!({ "apiName": "Shared" })).await;
    let start = Arc::new(tokio::sync::Barrier::new(20));
    let writers: Vec<_> = (0..20)
        .map(|w| {
            let app = app.clone();
            let start = start.clone();
            tokio::spawn(async move {
                let (mut accepted, mut conflicts) = (vec![], 0);
                for attempt in 0..200 {
                    if accepted.len() == 3 {
                        break;
                    }
                    let q = r#"{ branch { objectType(apiName: "Shared") { version } } }"#;
                    let v = app.ok(q, json!({})).await["branch"]["objectType"]["version"].as_i64().unwrap();
                    // All 20 first read version 1, then write at once: a
                    // guaranteed race with exactly one winner.
                    if attempt == 0 {
                        start.wait().await;
                    }
                    let marker = format!("w{w}-{attempt}");
                    let resp = app
                        .gql(UPDATE_OT, json!({ "name": "Shared", "v": v, "input": { "description": marker } }))
                        .await;
                    match resp.get("errors") {
                        None => accepted.push((resp["data"]["updateObjectType"]["version"].as_i64().unwrap(), marker)),
                        Some(errs) => {
                            assert_eq!(code(&errs[0]), "VERSION_CONFLICT", "{resp:#}");
                            conflicts += 1;
                        }
                    }
                }
                (accepted, conflicts)
            })
        })
        .collect();
    let mut by_version = BTreeMap::new();
    let mut total_conflicts = 0;
    for w in writers {
        let (accepted, conflicts) = w.await.unwrap();
        assert_eq!(accepted.len(), 3, "every writer eventually gets its 3 writes in");
        total_conflicts += conflicts;
        for (v, marker) in accepted {
            assert!(by_version.insert(v, marker).is_none(), "version {v} handed out twice");
        }
    }
    // 60 accepted writes on versions 2..=61, no gaps, no duplicates.
    assert_eq!(by_version.keys().copied().collect::<Vec<_>>(), (2..=61).collect::<Vec<i64>>());
    assert!(total_conflicts >= 19, "the first round has one winner and 19 conflicts");
    // Branch history: one commit per accepted write (+ the create).
    assert_eq!(app.branch_version("main").await, 61);
    // Each accepted write is exactly the state at its commit.
    for (v, marker) in &by_version {
        let q = r#"query($at: Int) { branch(at: $at) { objectType(apiName: "Shared") { version description } } }"#;
        let data = app.ok(q, json!({ "at": v })).await;
        assert_eq!(data["branch"]["objectType"], json!({ "version": v, "description": marker }));
    }
    let restarted = app.reopen().await;
    let last = restarted.ok(r#"{ branch { objectType(apiName: "Shared") { version description } } }"#, json!({})).await;
    assert_eq!(last["branch"]["objectType"], json!({ "version": 61, "description": by_version[&61] }));
}
