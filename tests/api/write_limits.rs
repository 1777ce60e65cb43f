//! What one request may make the server store or hold (issue: hostile
//! clients): entity size and properties, commit messages, branches, list
//! arguments and search strings. Each violation is LIMIT_EXCEEDED naming
//! its flag, and nothing is written.

use ontograph::engine::{EngineOptions, TraversalLimits, WriteLimits};
use serde_json::json;

use crate::helpers::{code, TestApp, CREATE_OT, UPDATE_OT};

async fn app() -> TestApp {
    let writes = WriteLimits { max_entity_bytes: 8_192, max_properties: 12, max_message_bytes: 64, max_branches: 3 };
    let traversal = TraversalLimits { max_from: 4, ..TraversalLimits::default() };
    let app = TestApp::with_options(EngineOptions { writes, traversal, ..EngineOptions::default() }).await;
    app.engine.seed_demo_if_empty().await.unwrap();
    app
}

fn refused(err: &serde_json::Value, flag: &str) {
    assert_eq!(code(err), "LIMIT_EXCEEDED", "{err:#}");
    assert!(err["message"].as_str().unwrap().contains(flag), "{err:#}");
}

#[tokio::test]
async fn entities_past_the_size_or_property_limits_are_refused_and_nothing_is_written() {
    let app = app().await;
    let v = app.branch_version("main").await;
    let props =
        |n: usize| (0..n).map(|i| json!({ "apiName": format!("p{i}"), "dataType": "STRING" })).collect::<Vec<_>>();
    let over = json!({ "input": { "apiName": "Wide", "properties": props(13) } });
    refused(&app.err(CREATE_OT, over).await, "--max-properties");
    let most = app.ok(CREATE_OT, json!({ "input": { "apiName": "Wide", "properties": props(12) } })).await;
    assert_eq!(most["createObjectType"]["version"], 1);
    // An update that makes an entity too large: the entity as stored counts.
    let big = json!({ "name": "Wide", "v": 1, "input": { "description": "x".repeat(9_000) } });
    refused(&app.err(UPDATE_OT, big).await, "--max-entity-bytes");
    let wide = app.ok(r#"{ branch { objectType(apiName: "Wide") { version description } } }"#, json!({})).await;
    assert_eq!(wide["branch"]["objectType"], json!({ "version": 1, "description": null }));
    assert_eq!(app.branch_version("main").await, v + 1, "one commit: the refused ones wrote nothing");
    // The same across a restart: nothing half written.
    let again = app.reopen().await;
    assert_eq!(again.branch_version("main").await, v + 1);
}

#[tokio::test]
async fn commit_messages_and_branches_are_bounded() {
    let app = app().await;
    let m = |msg: &str| {
        format!(
            r#"mutation {{ createObjectType(branch: "main", input: {{ apiName: "M" }}, message: "{msg}") {{ version }} }}"#
        )
    };
    refused(&app.err(&m(&"m".repeat(65)), json!({})).await, "--max-message-bytes");
    app.ok(&m(&"m".repeat(64)), json!({})).await;
    let create = |n: &str| format!(r#"mutation {{ createBranch(name: "{n}") {{ name }} }}"#);
    app.ok(&create("one"), json!({})).await;
    app.ok(&create("two"), json!({})).await;
    refused(&app.err(&create("three"), json!({})).await, "--max-branches");
    let names = app.ok("{ branches { name } }", json!({})).await;
    assert_eq!(names["branches"].as_array().unwrap().len(), 3);
    app.ok(r#"mutation { deleteBranch(name: "two", expectedVersion: 0) }"#, json!({})).await;
    app.ok(&create("three"), json!({})).await;
}

#[tokio::test]
async fn long_name_lists_and_search_strings_are_refused() {
    let app = app().await;
    let from = |n: usize| (0..n).map(|_| "\"Employee\"").collect::<Vec<_>>().join(", ");
    let q = |n: usize| format!("{{ branch {{ traverse(from: [{}]) {{ truncated }} }} }}", from(n));
    refused(&app.err(&q(5), json!({})).await, "--max-from");
    app.ok(&q(4), json!({})).await;
    let rel = r#"{ branch { impact(of: "Employee", relations: ["a", "b", "c", "d", "e"]) { truncated } } }"#;
    refused(&app.err(rel, json!({})).await, "--max-from");
    let search = r#"query($s: String) { branch { objectTypes(filter: { search: $s }) { totalCount } } }"#;
    let err = app.err(search, json!({ "s": "e".repeat(1025) })).await;
    assert_eq!(code(&err), "LIMIT_EXCEEDED");
    let found = app.ok(search, json!({ "s": "EMPLOY" })).await;
    assert_eq!(found["branch"]["objectTypes"]["totalCount"], 1);
}

#[tokio::test]
async fn the_limits_are_reported() {
    let app = app().await;
    let q =
        "{ server { limits { maxEntityBytes maxProperties maxMessageBytes maxBranches maxFrom heavyLaneCapacity } } }";
    let limits = app.ok(q, json!({})).await["server"]["limits"].clone();
    let lane = app.engine.lane_stats();
    assert_eq!(
        limits,
        json!({ "maxEntityBytes": 8192, "maxProperties": 12, "maxMessageBytes": 64, "maxBranches": 3, "maxFrom": 4,
                "heavyLaneCapacity": lane.workers + lane.queue })
    );
}

/// A commit this large renders its rows while writing them (more than
/// `STREAM_ROWS_ABOVE`, 4096, changes): a body past the limit deep in it
/// still refuses the whole commit, and nothing of it is stored.
#[tokio::test]
async fn a_streamed_import_past_the_size_limit_writes_nothing() {
    use ontograph::model::{Entity, ObjectType};
    let app = app().await;
    let v = app.branch_version("main").await;
    let doc = |big: Option<usize>| -> Vec<Entity> {
        (0..10_000)
            .map(|i| {
                let description = (Some(i) == big).then(|| "x".repeat(9_000));
                let o = serde_json::from_value::<ObjectType>(json!({ "apiName": format!("Bulk{i:05}") })).unwrap();
                Entity::ObjectType(std::sync::Arc::new(ObjectType { description, ..o }))
            })
            .collect()
    };
    let Err(err) = app.engine.import("main", doc(Some(9_000)), "bulk".into(), None).await else {
        panic!("an entity past --max-entity-bytes was imported")
    };
    assert_eq!(err.code(), "LIMIT_EXCEEDED");
    assert!(err.to_string().contains("Bulk09000") && err.to_string().contains("--max-entity-bytes"), "{err}");
    assert_eq!(app.branch_version("main").await, v);
    let again = app.reopen().await;
    assert_eq!(again.branch_version("main").await, v);
    let count = r#"{ branch { objectTypes(filter: { search: "Bulk" }) { totalCount } } }"#;
    assert_eq!(again.ok(count, json!({})).await["branch"]["objectTypes"]["totalCount"], 0);

    let done = again.engine.import("main", doc(None), "bulk".into(), None).await.unwrap().unwrap();
    assert_eq!((done.commit.version, done.commit.changes.len()), (v + 1, 10_000));
    let after = again.reopen().await;
    assert_eq!(after.ok(count, json!({})).await["branch"]["objectTypes"]["totalCount"], 10_000);
}
