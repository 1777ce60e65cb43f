//! Several ontograph processes on one PostgreSQL database
//! (docs/production.md, "Replicas"): commits, branch changes and
//! protection made by one reach the others, their caches and their
//! subscribers; a write on a replica that is behind is checked against the
//! database's head. PostgreSQL only (module `postgres`, skipped with a
//! notice without `ONTOGRAPH_TEST_POSTGRES_URL`).

/// `minVersion` on one server: waits for a commit that is on its way, and
/// gives up with LIMIT_EXCEEDED after 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_version_waits_for_the_commit_or_gives_up() {
    use async_graphql::Executor;
    use serde_json::json;
    let app = crate::helpers::TestApp::with_demo().await;
    let head = app.branch_version("main").await;
    let engine = app.engine.clone();
    let q = format!("{{ branch(minVersion: {}) {{ version }} }}", head + 1);
    let waiting = tokio::spawn({
        let api = app.api.clone();
        let q = q.clone();
        async move { serde_json::to_value(api.execute(async_graphql::Request::new(q)).await).unwrap() }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let ot: ontograph::model::ObjectType = serde_json::from_value(json!({ "apiName": "Awaited" })).unwrap();
    let req = ontograph::engine::CommitRequest {
        changes: vec![ontograph::model::Change::CreateObjectType(ot)],
        ..Default::default()
    };
    engine.commit("main", req).await.unwrap();
    assert_eq!(waiting.await.unwrap()["data"]["branch"]["version"], head + 1);
    let err = app.err(&format!("{{ branch(minVersion: {}) {{ version }} }}", head + 5), json!({})).await;
    assert_eq!(crate::helpers::code(&err), "LIMIT_EXCEEDED");
    assert!(err["message"].as_str().unwrap().contains("minVersion"), "{err}");
}

/// Every executed response names the branch versions it was answered at;
/// a response that read no branch carries no extension.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_the_versions_they_were_answered_at() {
    use serde_json::json;
    let app = crate::helpers::TestApp::with_demo().await;
    let head = app.branch_version("main").await;
    let versions = async |q: &str| app.gql(q, json!({})).await["extensions"]["versions"].clone();
    assert_eq!(versions("{ __typename }").await, serde_json::Value::Null);
    assert_eq!(versions("{ branch { name } }").await, json!({ "main": head }));
    assert_eq!(versions("{ branch(at: 1) { name } }").await, json!({ "main": 1 }));
    assert_eq!(versions("{ old: branch(at: 1) { name } branch { name } }").await, json!({ "main": head }));
    assert_eq!(versions(r#"{ branch(name: "nope") { name } }"#).await, serde_json::Value::Null);
    // Writes say what they made.
    let made = versions(r#"mutation { createBranch(name: "dev") { name } }"#).await;
    assert_eq!(made, json!({ "dev": 0 }));
    let made = versions(r#"mutation { createObjectType(branch: "dev", input: { apiName: "Draft" }) { apiName } }"#);
    assert_eq!(made.await, json!({ "dev": 1 }));
    let merged = versions(r#"mutation { mergeBranch(source: "dev", target: "main") { merged } }"#).await;
    assert_eq!(merged, json!({ "dev": 1, "main": head + 1 }));
    assert_eq!(versions("{ branches { name } }").await, json!({ "dev": 1, "main": head + 1 }));
    // Relay refetches by id: the branch is read there too.
    let id = app.ok(r#"{ branch(name: "dev") { objectType(apiName: "Draft") { id } } }"#, json!({})).await;
    let id = id["branch"]["objectType"]["id"].as_str().unwrap().to_owned();
    let q = format!(r#"{{ node(id: "{id}") {{ id }} }}"#);
    assert_eq!(versions(&q).await, json!({ "dev": 1 }));
}

/// Over HTTP: `extensions.versions` in answers (replayed ones too), and
/// the `Ontograph-Min-Version` header, which holds a request until the
/// branch is there (else 503 LIMIT_EXCEEDED with Retry-After; malformed:
/// 400).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_min_version_header_waits_for_the_branch_or_refuses() {
    use reqwest::StatusCode;
    use serde_json::json;
    let app = crate::live::Live::start().await;
    app.server.engine.seed_demo_if_empty().await.unwrap();
    let head = app.main_version().await;
    let post = |header: Option<&str>| {
        let req = app.client.post(app.url("/graphql")).json(&json!({ "query": "{ branch { version } }" }));
        let req = match header {
            Some(h) => req.header("ontograph-min-version", h),
            None => req,
        };
        async move {
            let res = req.send().await.unwrap();
            let (status, retry) = (res.status(), res.headers().get("retry-after").cloned());
            (status, retry, res.json::<serde_json::Value>().await.unwrap())
        }
    };
    // A replay from the response cache says the same.
    for _ in 0..2 {
        let (status, _, body) = post(None).await;
        assert_eq!((status, &body["extensions"]["versions"]), (StatusCode::OK, &json!({ "main": head })));
    }
    let (status, _, body) = post(Some(&format!("main={head}"))).await;
    assert_eq!((status, &body["data"]["branch"]["version"]), (StatusCode::OK, &json!(head)));
    // Waits for a commit on its way.
    let waiting = tokio::spawn(post(Some(&format!("{}", head + 1))));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    app.create("Awaited").await;
    let (status, _, body) = waiting.await.unwrap();
    assert_eq!((status, &body["data"]["branch"]["version"]), (StatusCode::OK, &json!(head + 1)));
    assert_eq!(body["extensions"]["versions"], json!({ "main": head + 1 }));
    // Never reached: refused after the wait, for a retry elsewhere.
    let (status, retry, body) = post(Some(&format!("main={}, nope=3", head + 9))).await;
    assert_eq!((status, retry.as_ref().map(|v| v.to_str().unwrap())), (StatusCode::SERVICE_UNAVAILABLE, Some("1")));
    assert_eq!(crate::helpers::code(&body["errors"][0]), "LIMIT_EXCEEDED", "{body}");
    assert!(body.get("data").is_none());
    let (status, _, body) = post(Some("main=soon")).await;
    assert_eq!((status, crate::helpers::code(&body["errors"][0])), (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"));
}

mod postgres {
    use std::sync::Arc;
    use std::time::Duration;

    use async_trait::async_trait;
    use futures::stream::{BoxStream, StreamExt};
    use ontograph::engine::{CommitRequest, Engine, EngineOptions};
    use ontograph::model::{Change, ObjectType};
    use ontograph::store::notices::{Notice, Notices};
    use ontograph::store::{self};
    use serde_json::json;
    use tokio_util::sync::CancellationToken;

    use crate::helpers::{with_postgres, TestApp};
    use crate::live::Live;

    /// Notices that never wake anyone: a replica that only catches up
    /// when it is told to (or before a write).
    struct Silent;

    #[async_trait]
    impl Notices for Silent {
        async fn announce(&self, _: &str, _: Option<i64>) {}
        async fn listen(&self) -> ontograph::error::Result<BoxStream<'static, Notice>> {
            Ok(futures::stream::pending().boxed())
        }
    }

    async fn engine(url: &str) -> Engine {
        Engine::open(store::connect(url).await.unwrap(), EngineOptions::default()).await.unwrap()
    }

    fn create(name: &str, expected: Option<i64>) -> CommitRequest {
        let ot: ObjectType = serde_json::from_value(json!({ "apiName": name })).unwrap();
        CommitRequest {
            changes: vec![Change::CreateObjectType(ot)],
            expected_branch_version: expected,
            ..Default::default()
        }
    }

    async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while !done().await {
            assert!(tokio::time::Instant::now() < deadline, "never happened: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_on_one_replica_reaches_the_other_its_caches_and_subscribers() {
        with_postgres("replicas", |url| async move {
            let a = Live::start_at(&url, |_| {}).await;
            let b = Live::start_at(&url, |args| args.replica_poll_ms = 3_600_000).await;
            a.server.engine.seed_demo_if_empty().await.unwrap();
            let head = a.main_version().await;
            eventually("B loads the seed", async || b.main_version().await == head).await;
            // A cached answer on B, and a subscriber on B.
            let q = r#"{ branch { impact(of: "Person") { nodes { apiName } } } }"#;
            let before = b.ok(q, json!({})).await;
            let mut feed = b.server.engine.subscribe();
            // Over A: a new type extending Person (LISTEN/NOTIFY wakes B).
            a.ok(r#"mutation { createObjectType(branch: "main", input: { apiName: "Intern", extends: ["Person"] }) { version } }"#, json!({}))
                .await;
            let published = tokio::time::timeout(Duration::from_secs(15), feed.recv()).await.unwrap().unwrap();
            assert_eq!((published.record.branch.as_str(), published.record.version), ("main", head + 1));
            assert_eq!(b.main_version().await, head + 1);
            let after = b.ok(q, json!({})).await;
            assert_ne!(before, after, "B's cached answer was dropped");
            assert!(after.to_string().contains("\"Intern\""), "{after}");
            // And back: a write on B reaches A.
            b.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
            eventually("A sees B's branch", async || a.server.engine.branch("dev").is_some()).await;
            // A replica that keeps up is ready and says how long ago it caught up.
            let ready = a.client.get(a.url("/readyz")).send().await.unwrap();
            assert_eq!(ready.status(), reqwest::StatusCode::OK);
            let age = crate::live::sample(&a.metrics().await, "ontograph_replica_caught_up_age_seconds");
            assert!(age.is_some_and(|s| s < 10.0), "{age:?}");
            a.stop().await;
            b.stop().await;
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_on_a_replica_that_is_behind_is_checked_against_the_database() {
        with_postgres("replicas", |url| async move {
            let a = engine(&url).await;
            let b = engine(&url).await;
            let stop = CancellationToken::new();
            b.replicate(Arc::new(Silent), Duration::from_secs(3_600), stop.clone());
            let committed = a.commit("main", create("FromA", None)).await.unwrap();
            let v = committed.commit.version;
            assert_eq!(b.branch("main").unwrap().state.version, v - 1, "B has not caught up");
            // The client read v from A; B catches up before it checks.
            let on_b = b.commit("main", create("FromB", Some(v))).await.unwrap();
            assert_eq!(on_b.commit.version, v + 1);
            let o = &b.branch("main").unwrap().state.ontology;
            assert!(o.object_type("FromA").is_some() && o.object_type("FromB").is_some());
            // Read your writes on a replica that has not heard of them:
            // `minVersion` catches up first.
            a.catch_up().await.unwrap(); // A follows no one: bring it up to B's write
            let a_wrote = a.commit("main", create("Later", Some(v + 1))).await.unwrap().commit.version;
            let b_app = TestApp::from_engine(b.clone(), &url);
            let q = format!(
                r#"{{ branch(minVersion: {a_wrote}) {{ version objectType(apiName: "Later") {{ apiName }} }} }}"#
            );
            let read = b_app.ok(&q, json!({})).await;
            assert_eq!(read["branch"], json!({ "version": a_wrote, "objectType": { "apiName": "Later" } }));
            // A stale expectation is a real conflict, with the database's head.
            let err = a.commit("main", create("Late", Some(v))).await.err().expect("stale");
            assert_eq!(err.code(), ontograph::error::Error::VERSION_CONFLICT);
            stop.cancel();
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn branches_created_protected_and_deleted_elsewhere_follow() {
        with_postgres("replicas", |url| async move {
            let a = engine(&url).await;
            let b = TestApp::from_engine(engine(&url).await, &url);
            a.commit("main", create("Base", None)).await.unwrap();
            a.create_branch("dev", "main", None).await.unwrap();
            a.commit("dev", create("OnDev", None)).await.unwrap();
            a.set_protection("main", true, None).await.unwrap();
            b.engine.catch_up().await.unwrap();
            // B's main was behind the fork point when it loaded dev: the
            // fork was brought forward from the rows main changed.
            let q = r#"{ branch(name: "dev") { version objectType(apiName: "OnDev") { apiName } base: objectType(apiName: "Base") { apiName } } }"#;
            let dev = b.ok(q, json!({})).await;
            let want = json!({ "version": 1, "objectType": { "apiName": "OnDev" }, "base": { "apiName": "Base" } });
            assert_eq!(dev["branch"], want);
            assert!(b.engine.branch("main").unwrap().state.protected);
            let uid = b.engine.branch("dev").unwrap().meta.uid;
            b.engine.catch_up().await.unwrap();
            assert_eq!(b.engine.branch("dev").unwrap().meta.uid, uid, "an unchanged branch stays the same incarnation");
            a.delete_branch("dev", 1, None).await.unwrap();
            b.engine.catch_up().await.unwrap();
            assert!(b.engine.branch("dev").is_none());
        })
        .await;
    }
}
