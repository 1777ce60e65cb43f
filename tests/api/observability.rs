//! `/metrics` (Prometheus text) with exact counts after known traffic,
//! and `/readyz` following the database's reachability (PostgreSQL: a
//! database that stops accepting connections and comes back).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{postgres_url, CREATE_OT};
use crate::live::{sample, Live};

#[tokio::test]
async fn metrics_count_requests_errors_cache_and_branches() {
    let app = Live::start_with(|a| a.no_demo = false).await;
    for _ in 0..3 {
        app.assert_alive().await;
    }
    app.ok(CREATE_OT, json!({ "input": { "apiName": "Robot" } })).await;
    let (_, body) = app.gql(&format!("{}{}", "{ a ".repeat(200), "}".repeat(200)), json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
    let (_, body) = app.gql("{ nope }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let traverse = r#"{ branch { traverse(from: ["Employee"]) { cached } } }"#;
    assert_eq!(app.ok(traverse, json!({})).await["branch"]["traverse"]["cached"], false);
    assert_eq!(app.ok(traverse, json!({})).await["branch"]["traverse"]["cached"], true);
    let edges = app.ok("{ branch { stats { edges } } }", json!({})).await["branch"]["stats"]["edges"].as_f64();

    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let mut m = res.text().await.unwrap();
    // Commits are counted from the engine's broadcast, asynchronously.
    for _ in 0..6000 {
        if sample(&m, "ontograph_commits_total") == Some(1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        m = app.metrics().await;
    }
    let s = |series: &str| sample(&m, series).unwrap_or_else(|| panic!("no {series} in:\n{m}"));
    // 3 × __typename, { nope }, 2 × traverse, stats.
    assert_eq!(s(r#"ontograph_graphql_requests_total{operation="query"}"#), 7.0);
    assert_eq!(s(r#"ontograph_graphql_request_duration_seconds_count{operation="query"}"#), 7.0);
    assert_eq!(s(r#"ontograph_graphql_requests_total{operation="mutation"}"#), 1.0);
    // Refused on its text, before its type is known.
    assert_eq!(s(r#"ontograph_graphql_requests_total{operation="invalid"}"#), 1.0);
    assert_eq!(s(r#"ontograph_graphql_errors_total{code="LIMIT_EXCEEDED"}"#), 1.0);
    assert_eq!(s(r#"ontograph_graphql_errors_total{code="BAD_USER_INPUT"}"#), 1.0);
    assert_eq!(s(r#"ontograph_http_requests_total{method="POST",route="/graphql",status="200"}"#), 9.0);
    assert_eq!(s(r#"ontograph_http_request_duration_seconds_count{route="/graphql"}"#), 9.0);
    assert_eq!(s(r#"ontograph_cache_events_total{event="hit"}"#), 1.0);
    assert_eq!(s(r#"ontograph_cache_events_total{event="miss"}"#), 1.0);
    assert_eq!(s(r#"ontograph_branch_entities{branch="main",kind="object_type"}"#), 19.0);
    assert_eq!(s(r#"ontograph_branch_entities{branch="main",kind="interface"}"#), 3.0);
    assert_eq!(s(r#"ontograph_branch_entities{branch="main",kind="link_type"}"#), 22.0);
    assert_eq!(s(r#"ontograph_branch_version{branch="main"}"#), 2.0);
    assert_eq!(Some(s(r#"ontograph_branch_edges{branch="main"}"#)), edges);
    assert_eq!(s("ontograph_commits_total"), 1.0);
    assert_eq!(s("ontograph_http_requests_in_flight"), 1.0, "this scrape");
    assert!(s("ontograph_runtime_workers") >= 1.0);
    assert!(m.contains("# TYPE ontograph_runtime_lag_seconds histogram"), "{m}");
    assert!(m.contains(r#"ontograph_build_info{version=""#), "{m}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_while_postgres_refuses_connections_and_recovers() {
    let Some(admin) = postgres_url("readyz_fails_while_postgres_refuses_connections_and_recovers") else {
        return;
    };
    let name = format!("ontograph_ready_{}", std::process::id());
    let pool = sqlx::PgPool::connect(&admin).await.expect("connect to ONTOGRAPH_TEST_POSTGRES_URL");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&pool).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
    let (base, _) = admin.rsplit_once('/').expect("URL has a database path");
    let url = format!("{base}/{name}");
    let app = Live::start_with(|a| a.db.database_url = url.clone()).await;
    let ready = || async { app.client.get(app.url("/readyz")).send().await.unwrap().status() };
    assert_eq!(ready().await, StatusCode::OK);

    // Unreachable: no new connections, existing ones terminated.
    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).execute(&pool).await.unwrap();
    let kill = format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
    sqlx::query(&kill).execute(&pool).await.unwrap();
    assert_eq!(ready().await, StatusCode::SERVICE_UNAVAILABLE);
    // Reads are served from memory meanwhile; a write fails generically.
    app.assert_alive().await;
    assert_eq!(app.ok("{ branch { version } }", json!({})).await["branch"]["version"], 0);
    let (status, body) = app.gql(CREATE_OT, json!({ "input": { "apiName": "Lost" } })).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR", "{body:#}");
    assert_eq!(body["errors"][0]["message"], "internal server error", "no detail leaks: {body:#}");

    sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).execute(&pool).await.unwrap();
    let mut recovered = false;
    for _ in 0..600 {
        if ready().await == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "/readyz did not recover");
    app.ok(CREATE_OT, json!({ "input": { "apiName": "Back" } })).await;
    app.stop().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&pool).await.unwrap();
}
