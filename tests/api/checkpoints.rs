//! Checkpoints (docs/ARCHITECTURE.md, "Checkpoints"), on SQLite and
//! PostgreSQL: stored in chunks and replaced, a start from the newest one
//! replays the commits after it, and a cut, damaged or half-written one is
//! passed over for the rows with the same state as the result.

use chrono::Utc;
use ontograph::engine::{EngineOptions, Loaded};
use ontograph::error::Error;
use ontograph::store::{connect, NewBranch, NewCheckpoint};
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Raw SQL on the test's database, as damage from outside would be done.
async fn exec(url: &str, sql: &str) {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
}

fn new<'a>(branch: &'a str, version: i64, data: &'a [u8]) -> NewCheckpoint<'a> {
    NewCheckpoint { branch, version, entities: 3, digest: format!("d{version}"), data, created_at: Utc::now() }
}

/// The store: chunks join back to the bytes, a newer checkpoint replaces
/// the older, an older or equal one is refused, a deleted branch takes its
/// checkpoint with it, a missing branch is NOT_FOUND.
async fn checkpoints_are_stored_in_chunks_and_replaced(url: &str) {
    let store = connect(url).await.unwrap();
    let main = NewBranch { name: "main".into(), parent: None, forked_at: None, created_at: Utc::now() };
    store.create_branch(&main).await.unwrap();
    assert_eq!(store.checkpoint("main").await.unwrap(), None);

    // Three chunks: two full, one partial.
    let big: Vec<u8> = (0..2 * ontograph::store::CHECKPOINT_CHUNK + 12_345).map(|i| (i * 31 % 251) as u8).collect();
    assert!(store.put_checkpoint(&new("main", 4, &big)).await.unwrap());
    let cp = store.checkpoint("main").await.unwrap().expect("stored");
    assert_eq!((cp.version, cp.entities, cp.chunks, cp.bytes, cp.digest.as_str()), (4, 3, 3, big.len() as i64, "d4"));
    assert!(cp.data == big, "the chunks join back to the bytes");

    assert!(!store.put_checkpoint(&new("main", 4, b"same version")).await.unwrap());
    assert!(!store.put_checkpoint(&new("main", 2, b"older")).await.unwrap());
    assert_eq!(store.checkpoint("main").await.unwrap().unwrap().version, 4);
    assert!(store.put_checkpoint(&new("main", 9, b"newer")).await.unwrap());
    let cp = store.checkpoint("main").await.unwrap().unwrap();
    assert_eq!((cp.version, cp.chunks, cp.data.as_slice()), (9, 1, b"newer".as_slice()));

    let err = store.put_checkpoint(&new("nowhere", 1, b"x")).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    let dev = NewBranch { name: "dev".into(), parent: None, forked_at: None, created_at: Utc::now() };
    store.create_branch(&dev).await.unwrap();
    assert!(store.put_checkpoint(&new("dev", 1, b"dev's")).await.unwrap());
    store.delete_branch("dev", None).await.unwrap();
    store.create_branch(&dev).await.unwrap();
    assert_eq!(store.checkpoint("dev").await.unwrap(), None, "a branch made again starts without one");
    assert_eq!(store.checkpoint("main").await.unwrap().unwrap().version, 9);
}

const EVERYTHING: &str = r#"{ branches { name version }
    main: branch(name: "main") { ...all }
    dev: branch(name: "dev") { ...all } }
  fragment all on Branch {
    version
    stats { objectTypes interfaces linkTypes edges }
    objectTypes(first: 1000) { edges { node { apiName displayName description status version extends implements
      properties { apiName dataType target required unique array } curie annotations { name values } } } }
    interfaces(first: 1000) { edges { node { apiName version extends properties { apiName dataType } } } }
    linkTypes(first: 1000) { edges { node { linkId cardinality status version } } }
    node(apiName: "Person") { apiName }
    employee: objectType(apiName: "Employee") { referencedBy }
    impact(of: "Party") { nodes { apiName depth } }
  }"#;

fn no_checkpoints() -> EngineOptions {
    EngineOptions { checkpoint_changes: 0, ..EngineOptions::default() }
}

/// Commits after the checkpoint of every kind: an update, a create, a
/// cascading delete, a batch; a fork with changes of its own.
async fn edit(app: &TestApp) {
    let v = |d: &Value| d.to_string();
    app.ok(
        r#"mutation { updateObjectType(branch: "main", apiName: "Employee", expectedVersion: 1,
             input: { description: "after the checkpoint", status: DEPRECATED }) { version } }"#,
        json!({}),
    )
    .await;
    app.create_object_type(json!({ "apiName": "Robot", "extends": ["Party"] })).await;
    let del = app.ok(r#"{ branch { objectType(apiName: "Invoice") { version } } }"#, json!({})).await;
    let version = del["branch"]["objectType"]["version"].as_i64().unwrap_or_else(|| panic!("{}", v(&del)));
    app.ok(
        &format!(
            r#"mutation {{ deleteObjectType(branch: "main", apiName: "Invoice", expectedVersion: {version}, cascade: true) {{ version }} }}"#
        ),
        json!({}),
    )
    .await;
    app.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    app.ok(
        r#"mutation { commit(branch: "dev", changes: [
             { createObjectType: { apiName: "Drone", extends: ["Robot"] } },
             { createLinkType: { apiName: "pilots", source: "Employee", target: "Drone" } } ]) { version } }"#,
        json!({}),
    )
    .await;
}

/// A start from a checkpoint replays the commits after it and answers
/// exactly as the engine that made them; forks load from their rows.
async fn a_start_replays_only_the_commits_after_the_checkpoint(url: &str) {
    let app = TestApp::open_with(url, no_checkpoints()).await;
    app.engine.seed_demo_if_empty().await.unwrap();
    assert_eq!(app.engine.checkpoint("main").await.unwrap(), Some(1));
    edit(&app).await;
    assert_eq!(app.engine.checkpoint("dev").await.unwrap(), None, "forks are not checkpointed");
    let before = app.ok(EVERYTHING, json!({})).await;
    assert_eq!(before["main"]["version"], 4);

    let again = TestApp::open_with(url, no_checkpoints()).await;
    // Three commits after version 1: Employee, Robot, Invoice and the link types its cascade deleted.
    let Some(Loaded::Checkpoint { version: 1, replayed }) = again.engine.loaded_from("main") else {
        panic!("main loaded from {:?}", again.engine.loaded_from("main"));
    };
    assert!(replayed >= 3, "{replayed} rows replayed");
    assert_eq!(again.engine.loaded_from("dev"), Some(Loaded::Rows));
    assert_eq!(again.ok(EVERYTHING, json!({})).await, before);

    // With a checkpoint at the head, nothing is replayed.
    assert_eq!(again.engine.checkpoint("main").await.unwrap(), Some(4));
    let third = TestApp::open_with(url, no_checkpoints()).await;
    assert_eq!(third.engine.loaded_from("main"), Some(Loaded::Checkpoint { version: 4, replayed: 0 }));
    assert_eq!(third.ok(EVERYTHING, json!({})).await, before);
}

/// Damaged bytes, a missing chunk (a writer that died half way, had the
/// write not been one transaction) and chunks without their record: each
/// start loads from the rows and answers the same.
async fn a_damaged_or_partial_checkpoint_is_passed_over_for_the_rows(url: &str) {
    let app = TestApp::open_with(url, no_checkpoints()).await;
    app.engine.seed_demo_if_empty().await.unwrap();
    edit(&app).await;
    let before = app.ok(EVERYTHING, json!({})).await;
    let before = &before;
    let start = |expect: Loaded| async move {
        let again = TestApp::open_with(url, no_checkpoints()).await;
        assert_eq!(again.engine.loaded_from("main"), Some(expect));
        assert_eq!(&again.ok(EVERYTHING, json!({})).await, before);
    };

    let fresh = || async { app.engine.checkpoint("main").await.unwrap() };
    assert_eq!(fresh().await, Some(4));
    start(Loaded::Checkpoint { version: 4, replayed: 0 }).await;

    // One byte changed, same length: the digest catches it.
    let flip = if url.starts_with("postgres") {
        "UPDATE checkpoint_chunks SET data = overlay(data placing '\\x00'::bytea from 20 for 1)"
    } else {
        "UPDATE checkpoint_chunks SET data = substr(data, 1, 19) || x'00' || substr(data, 21)"
    };
    exec(url, flip).await;
    start(Loaded::Rows).await;

    // Cut short.
    exec(url, "DELETE FROM checkpoints").await;
    exec(url, "DELETE FROM checkpoint_chunks").await;
    assert_eq!(fresh().await, Some(4));
    let cut = if url.starts_with("postgres") {
        "UPDATE checkpoint_chunks SET data = substring(data from 1 for 100)"
    } else {
        "UPDATE checkpoint_chunks SET data = substr(data, 1, 100)"
    };
    exec(url, cut).await;
    start(Loaded::Rows).await;

    // The record without its chunks, then chunks without their record.
    exec(url, "DELETE FROM checkpoint_chunks").await;
    start(Loaded::Rows).await;
    exec(url, "DELETE FROM checkpoints").await;
    assert_eq!(fresh().await, Some(4));
    exec(url, "DELETE FROM checkpoints").await;
    start(Loaded::Rows).await;

    // A record claiming a version the branch has not reached.
    assert_eq!(fresh().await, Some(4));
    exec(url, "UPDATE checkpoints SET version = 99").await;
    exec(url, "UPDATE checkpoint_chunks SET version = 99").await;
    start(Loaded::Rows).await;
}

/// `--checkpoint-changes`: once that many entity changes are committed
/// on a root branch, its head is written in the background; forks never.
async fn checkpoints_are_written_in_the_background_after_enough_changes(url: &str) {
    let opts = EngineOptions { checkpoint_changes: 40, ..EngineOptions::default() };
    let app = TestApp::open_with(url, opts).await;
    let store = connect(url).await.unwrap();
    // The demo is one commit of 43 entities: past the threshold.
    app.engine.seed_demo_if_empty().await.unwrap();
    let mut waited = 0;
    let cp = loop {
        if let Some(cp) = store.checkpoint("main").await.unwrap() {
            break cp;
        }
        assert!(waited < 1_000, "no checkpoint after 10 s");
        waited += 1;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(cp.version, 1);
    // A few small commits stay under the threshold: no new checkpoint.
    app.create_object_type(json!({ "apiName": "Robot" })).await;
    app.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    for i in 0..50 {
        let q =
            format!(r#"mutation {{ createObjectType(branch: "dev", input: {{ apiName: "D{i}" }}) {{ version }} }}"#);
        app.ok(&q, json!({})).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(store.checkpoint("main").await.unwrap().unwrap().version, 1);
    assert_eq!(store.checkpoint("dev").await.unwrap(), None);
    let again = TestApp::open_with(url, no_checkpoints()).await;
    assert_eq!(again.engine.loaded_from("main"), Some(Loaded::Checkpoint { version: 1, replayed: 1 }));
}

conformance!(
    checkpoints_are_stored_in_chunks_and_replaced,
    a_start_replays_only_the_commits_after_the_checkpoint,
    a_damaged_or_partial_checkpoint_is_passed_over_for_the_rows,
    checkpoints_are_written_in_the_background_after_enough_changes,
);
