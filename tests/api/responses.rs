//! The whole-response cache: replays only responses whose traversals were
//! all cached, never after a read branch moved, never for queries that
//! read anything but branches.

use async_graphql::{Request, Variables};
use ontograph::api::{Api, ApiOptions, ResponseCache, Transport};
use serde_json::{json, Value};

use crate::helpers::{TestApp, CREATE_OT};

const TRAVERSE: &str = r#"query($b: String! = "main") { branch(name: $b) { version
    traverse(from: ["Person"], direction: INCOMING, maxDepth: 3) { cached nodes { apiName depth } } } }"#;

/// Run a request as an HTTP POST would, through the pipeline with the
/// response cache: (`data`, served from it).
async fn run(app: &TestApp, cache: &ResponseCache, query: &str, vars: Value) -> (Value, bool) {
    let api = Api::new(app.engine.clone(), ApiOptions { responses: cache.clone(), ..ApiOptions::default() });
    let req = Request::new(query).variables(Variables::from_json(vars));
    let out = api.run(req, Transport::HttpPost).await;
    let body: Value = serde_json::from_slice(&out.body).unwrap();
    (body["data"].clone(), out.replayed)
}

#[tokio::test]
async fn replays_only_all_cached_answers_until_the_branch_moves() {
    let app = TestApp::with_demo().await;
    let cache = ResponseCache::new(1 << 20);
    let vars = json!({ "b": "main" });
    let (first, hit) = run(&app, &cache, TRAVERSE, vars.clone()).await;
    assert!(!hit);
    assert_eq!(first["branch"]["traverse"]["cached"], false);
    // Executed again: now every traversal is a cache hit, so it is stored.
    let (second, hit) = run(&app, &cache, TRAVERSE, vars.clone()).await;
    assert!(!hit);
    assert_eq!(second["branch"]["traverse"]["cached"], true);
    let (third, hit) = run(&app, &cache, TRAVERSE, vars.clone()).await;
    assert!(hit);
    assert_eq!(third, second);
    assert_eq!((cache.stats().hits, cache.stats().misses), (1, 2));

    // A commit on another branch changes nothing here...
    app.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    app.ok(
        r#"mutation { createObjectType(branch: "dev", input: { apiName: "Robot", extends: ["Person"] }) { version } }"#,
        json!({}),
    )
    .await;
    assert!(run(&app, &cache, TRAVERSE, vars.clone()).await.1);
    // ...but one on main does: the next answer is fresh and shows it.
    app.ok(CREATE_OT, json!({ "input": { "apiName": "Android", "extends": ["Person"] } })).await;
    let (after, hit) = run(&app, &cache, TRAVERSE, vars.clone()).await;
    assert!(!hit);
    assert_eq!(after["branch"]["version"], 2);
    assert!(after["branch"]["traverse"]["nodes"]
        .as_array()
        .unwrap()
        .contains(&json!({ "apiName": "Android", "depth": 1 })));
    // Another variable value is another entry.
    let (dev, hit) = run(&app, &cache, TRAVERSE, json!({ "b": "dev" })).await;
    assert!(!hit);
    assert!(dev["branch"]["traverse"]["nodes"]
        .as_array()
        .unwrap()
        .contains(&json!({ "apiName": "Robot", "depth": 1 })));
}

#[tokio::test]
async fn never_stores_what_is_not_a_pure_branch_read() {
    let app = TestApp::with_demo().await;
    let cache = ResponseCache::new(1 << 20);
    for q in [
        r#"{ server { cache { hits } } }"#,
        r#"{ branches { name } }"#,
        r#"{ branch { objectType(apiName: "Employee") { apiName } } nope }"#,
        r#"query($n: String!) { branch(name: $n) { version } }"#,
    ] {
        for _ in 0..3 {
            assert!(!run(&app, &cache, q, json!({})).await.1, "{q}");
        }
    }
    // A mutation runs every time.
    for i in 0..3 {
        let m =
            format!(r#"mutation {{ createObjectType(branch: "main", input: {{ apiName: "M{i}" }}) {{ version }} }}"#);
        assert!(!run(&app, &cache, &m, json!({})).await.1);
    }
    assert_eq!(app.branch_version("main").await, 4);
}

#[tokio::test]
async fn a_diff_is_replayed_only_while_both_branches_stand_still() {
    let app = TestApp::with_demo().await;
    let cache = ResponseCache::new(1 << 20);
    app.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    let q = r#"{ branch { ...d } } fragment d on Branch { diff(against: "dev") { changes { entityId } } }"#;
    run(&app, &cache, q, json!({})).await;
    assert!(run(&app, &cache, q, json!({})).await.1);
    app.ok(r#"mutation { createObjectType(branch: "dev", input: { apiName: "Robot" }) { version } }"#, json!({})).await;
    assert!(!run(&app, &cache, q, json!({})).await.1);
}

#[tokio::test]
async fn a_branch_deleted_and_created_again_is_not_the_same_branch() {
    let app = TestApp::with_demo().await;
    let cache = ResponseCache::new(1 << 20);
    app.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    let q = r#"{ branch(name: "dev") { forkedAt version } }"#;
    run(&app, &cache, q, json!({})).await;
    assert!(run(&app, &cache, q, json!({})).await.1);
    app.ok(r#"mutation { deleteBranch(name: "dev", expectedVersion: 0) }"#, json!({})).await;
    app.ok(CREATE_OT, json!({ "input": { "apiName": "Later" } })).await;
    app.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    let (body, hit) = run(&app, &cache, q, json!({})).await;
    assert!(!hit);
    assert_eq!(body["branch"], json!({ "forkedAt": 2, "version": 0 }));
}

/// Readers through the response cache while a writer commits: every
/// answer is consistent with the version it reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_readers_never_see_a_stale_response() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let cache = ResponseCache::new(1 << 20);
    let q = r#"{ branch { version objectTypes(first: 0) { totalCount } } }"#;
    let writer = {
        let app = app.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                app.ok(CREATE_OT, json!({ "input": { "apiName": format!("T{i}") } })).await;
            }
        })
    };
    let mut readers = vec![];
    for _ in 0..4 {
        let (app, cache) = (app.clone(), cache.clone());
        readers.push(tokio::spawn(async move {
            let mut hits = 0;
            for _ in 0..200 {
                let (body, hit) = run(&app, &cache, q, json!({})).await;
                let b = &body["branch"];
                assert_eq!(b["version"], b["objectTypes"]["totalCount"], "{body}");
                hits += hit as usize;
            }
            hits
        }));
    }
    writer.await.unwrap();
    let mut hits = 0;
    for r in readers {
        hits += r.await.unwrap();
    }
    // The final state is replayed, consistently.
    let (body, _) = run(&app, &cache, q, json!({})).await;
    assert_eq!(body["branch"]["version"], 40);
    assert!(hits > 0, "some reads between commits were replayed");
}

#[tokio::test]
async fn stays_within_its_capacity_under_a_stream_of_distinct_queries() {
    let app = TestApp::with_demo().await;
    let capacity = 64 * 1024;
    let cache = ResponseCache::new(capacity);
    let q = r#"query($n: ID!) { branch { objectType(apiName: $n) { apiName description properties { apiName } } } }"#;
    let names = ["Employee", "Person", "Customer", "Invoice", "Payment", "Office"];
    for i in 0..600 {
        // Distinct texts (an alias makes each query new), each stored.
        let text = q.replace("objectType(", &format!("t{i}: objectType("));
        for _ in 0..2 {
            run(&app, &cache, &text, json!({ "n": names[i % names.len()] })).await;
        }
    }
    cache.sync().await;
    let stats = cache.stats();
    assert!(stats.weighted_bytes <= capacity, "{} > {capacity}", stats.weighted_bytes);
    assert!(stats.entries > 10 && stats.entries < 600, "{} entries", stats.entries);
}
