//! The real server on port 0 over real HTTP (reqwest): malformed and
//! oversized requests, error codes and statuses, the side endpoints and
//! the author header. Every error has `extensions.code`; nothing is a 500.

use ontograph::config::ServeArgs;
use ontograph::http::Server;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{code, CREATE_OT, UPDATE_OT};
use crate::live::Live;

fn assert_error(err: &Value, want: &str) {
    assert_eq!(code(err), want, "{err:#}");
    assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {err:#}");
}

#[tokio::test]
async fn malformed_json_body_is_400_bad_user_input() {
    let app = Live::start().await;
    for body in [r#"{"query": "{ __typename }""#, "{query: 1}", "not json at all", ""] {
        let (status, resp) = app.post_raw(body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {resp:#}");
        assert_error(&resp["errors"][0], "BAD_USER_INPUT");
    }
    // Invalid UTF-8 inside a JSON string.
    let (status, resp) = app.post_raw(b"{\"query\": \"\xff\xfe\"}".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{resp:#}");
    assert_error(&resp["errors"][0], "BAD_USER_INPUT");
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn json_that_is_not_a_request_is_400_bad_user_input() {
    let app = Live::start().await;
    let mut wrong = Vec::new();
    for body in ["[1,2]", "[]", r#"{"foo":1}"#, "{}", "42", "null", r#""{ __typename }""#, r#"{"query": 5}"#] {
        let (status, resp) = app.post_raw(body).await;
        let code = resp["errors"][0]["extensions"]["code"].as_str().map(str::to_owned);
        if status != StatusCode::BAD_REQUEST || code.as_deref() != Some("BAD_USER_INPUT") {
            wrong.push(format!("{body} -> {status} {resp}"));
        }
    }
    assert!(wrong.is_empty(), "expected 400 BAD_USER_INPUT for:\n{}", wrong.join("\n"));
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn syntax_error_is_200_bad_user_input() {
    let app = Live::start().await;
    let err = app.err(StatusCode::OK, "{ branch(name: \"main\" { version }", json!({})).await;
    assert_error(&err, "BAD_USER_INPUT");
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn unknown_field_is_200_bad_user_input() {
    let app = Live::start().await;
    let err = app.err(StatusCode::OK, r#"{ branch(name: "main") { noSuchField } }"#, json!({})).await;
    assert_error(&err, "BAD_USER_INPUT");
    assert!(err["message"].as_str().unwrap().contains("noSuchField"), "{err:#}");
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn wrong_argument_type_is_200_bad_user_input() {
    let app = Live::start().await;
    let err = app.err(StatusCode::OK, "{ branch(name: 5) { version } }", json!({})).await;
    assert_error(&err, "BAD_USER_INPUT");
    let err = app
        .err(StatusCode::OK, r#"{ branch(name: "main") { objectTypes(first: "x") { totalCount } } }"#, json!({}))
        .await;
    assert_error(&err, "BAD_USER_INPUT");
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn wrong_variable_type_is_200_bad_user_input() {
    let app = Live::start().await;
    let q = "query($n: String!) { branch(name: $n) { version } }";
    let err = app.err(StatusCode::OK, q, json!({ "n": 5 })).await;
    assert_error(&err, "BAD_USER_INPUT");
    let err = app.err(StatusCode::OK, q, json!({})).await;
    assert_error(&err, "BAD_USER_INPUT");
    let err = app.err(StatusCode::OK, CREATE_OT, json!({ "input": { "apiName": ["A"] } })).await;
    assert_error(&err, "BAD_USER_INPUT");
    app.assert_alive().await;
    assert_eq!(app.main_version().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn unknown_branch_in_a_mutation_is_not_found() {
    let app = Live::start().await;
    let q = r#"mutation { createObjectType(branch: "nope", input: { apiName: "A" }) { apiName } }"#;
    let err = app.err(StatusCode::OK, q, json!({})).await;
    assert_error(&err, "NOT_FOUND");
    app.assert_alive().await;
    assert_eq!(app.main_version().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn update_of_an_unknown_api_name_is_not_found() {
    let app = Live::start().await;
    let vars = json!({ "name": "Nope", "v": 1, "input": { "displayName": "x" } });
    let err = app.err(StatusCode::OK, UPDATE_OT, vars).await;
    assert_error(&err, "NOT_FOUND");
    app.assert_alive().await;
    assert_eq!(app.main_version().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn query_for_an_unknown_branch_is_null_without_error() {
    let app = Live::start().await;
    let data = app.ok(r#"{ branch(name: "nope") { version } }"#, json!({})).await;
    assert_eq!(data["branch"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn megabyte_display_name_is_rejected_naming_the_field() {
    let app = Live::start().await;
    let huge = "x".repeat(1024 * 1024);
    let err = app.err(StatusCode::OK, CREATE_OT, json!({ "input": { "apiName": "A", "displayName": huge } })).await;
    assert_error(&err, "BAD_USER_INPUT");
    let field = err["extensions"]["field"].as_str().unwrap_or_else(|| panic!("no field: {err:#}"));
    assert!(field.ends_with("displayName"), "{field}");
    assert!(err["message"].as_str().unwrap().len() < 10_000, "error echoes the input");
    assert_eq!(app.main_version().await, 0);
    let data = app.ok(r#"{ branch { objectType(apiName: "A") { apiName } } }"#, json!({})).await;
    assert_eq!(data["branch"]["objectType"], Value::Null);
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn megabyte_api_name_is_rejected_naming_the_field() {
    let app = Live::start().await;
    let huge = "A".repeat(1024 * 1024);
    let err = app.err(StatusCode::OK, CREATE_OT, json!({ "input": { "apiName": huge } })).await;
    assert_error(&err, "BAD_USER_INPUT");
    let field = err["extensions"]["field"].as_str().unwrap_or_else(|| panic!("no field: {err:#}"));
    assert!(field.ends_with("apiName"), "{field}");
    assert!(err["message"].as_str().unwrap().len() < 10_000, "error echoes the input");
    assert_eq!(app.main_version().await, 0);
    let data = app.ok("{ branch { objectTypes { totalCount } } }", json!({})).await;
    assert_eq!(data["branch"]["objectTypes"]["totalCount"], 0);
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn body_over_the_limit_is_413_limit_exceeded() {
    let app = Live::start().await;
    // A syntactically valid request of 9 MiB (the default limit is 8 MiB).
    let pad = "x".repeat(9 * 1024 * 1024);
    let body = json!({ "query": "{ __typename }", "variables": { "pad": pad } }).to_string();
    let (status, resp) = app.post_raw(body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{resp:#}");
    assert_error(&resp["errors"][0], "LIMIT_EXCEEDED");
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn stale_expected_version_is_version_conflict_and_changes_nothing() {
    let app = Live::start().await;
    assert_eq!(app.create("A").await["version"], 1);
    let vars = json!({ "name": "A", "v": 1, "input": { "displayName": "First" } });
    assert_eq!(app.ok(UPDATE_OT, vars).await["updateObjectType"]["version"], 2);
    let before = app.main_version().await;

    let vars = json!({ "name": "A", "v": 1, "input": { "displayName": "Stale" } });
    let err = app.err(StatusCode::OK, UPDATE_OT, vars).await;
    assert_error(&err, "VERSION_CONFLICT");
    assert_eq!(err["extensions"]["expected"].as_i64(), Some(1), "{err:#}");
    assert_eq!(err["extensions"]["actual"].as_i64(), Some(2), "{err:#}");

    let data = app.ok(r#"{ branch { version objectType(apiName: "A") { displayName version } } }"#, json!({})).await;
    assert_eq!(data["branch"]["version"].as_i64(), Some(before));
    assert_eq!(data["branch"]["objectType"], json!({ "displayName": "First", "version": 2 }));
    app.stop().await;
}

#[tokio::test]
async fn get_graphql_with_a_query_string_works() {
    let app = Live::start().await;
    let res = app.client.get(app.url("/graphql?query=%7B__typename%7D")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body:#}");
    assert!(body["data"]["__typename"].is_string(), "{body:#}");

    let res = app.client.get(app.url("/graphql")).query(&[("query", r#"{ branch(name: "main") { version } }"#)]);
    let body: Value = res.send().await.unwrap().json().await.unwrap();
    assert_eq!(body["data"]["branch"]["version"], 0, "{body:#}");
    app.stop().await;
}

#[tokio::test]
async fn health_ready_and_graphiql_endpoints() {
    let app = Live::start().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let res = app.client.get(app.url("/graphiql")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(res.text().await.unwrap().to_lowercase().contains("graphiql"));

    let res = app.client.get(app.url("/")).send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()[header::LOCATION], "/graphiql");
    app.stop().await;
}

#[tokio::test]
async fn author_header_is_recorded_on_the_commit() {
    let app = Live::start().await;
    let body = json!({ "query": CREATE_OT, "variables": { "input": { "apiName": "Authored" } } }).to_string();
    let res = app
        .client
        .post(app.url("/graphql"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-ontograph-author", "alice@example.com")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let resp: Value = res.json().await.unwrap();
    assert!(resp.get("errors").is_none(), "{resp:#}");
    app.create("Anonymous").await;

    let q = "{ branch { commits(first: 10) { edges { node { version author changes { entityId } } } } } }";
    let data = app.ok(q, json!({})).await;
    let commits: Vec<Value> =
        data["branch"]["commits"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect();
    assert_eq!(commits.len(), 2, "{data:#}");
    // Newest first.
    assert_eq!(commits[0]["changes"][0]["entityId"], "Anonymous");
    assert_eq!(commits[0]["author"], Value::Null);
    assert_eq!(commits[1]["changes"][0]["entityId"], "Authored");
    assert_eq!(commits[1]["author"], "alice@example.com");
    app.stop().await;
}

/// Automatic persisted queries over HTTP: a hash-only POST (no `query`)
/// is accepted, answered `PersistedQueryNotFound` until registered, then
/// served by POST and by GET.
#[tokio::test]
async fn automatic_persisted_queries_over_post_and_get() {
    use sha2::Digest;
    let app = Live::start().await;
    let query = "{ server { version } }";
    let hash = format!("{:x}", sha2::Sha256::digest(query.as_bytes()));
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let (status, body) = app.post_raw(json!({ "extensions": ext }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    let (_, body) = app.post_raw(json!({ "query": query, "extensions": ext }).to_string()).await;
    assert_eq!(body["data"]["server"]["version"], env!("CARGO_PKG_VERSION"), "{body:#}");
    let (_, body) = app.post_raw(json!({ "extensions": ext }).to_string()).await;
    assert_eq!(body["data"]["server"]["version"], env!("CARGO_PKG_VERSION"), "{body:#}");
    let res = app.client.get(app.url("/graphql")).query(&[("extensions", ext.to_string())]).send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["server"]["version"], env!("CARGO_PKG_VERSION"), "{body:#}");
    app.stop().await;
}

/// `--warm FILE` runs its queries at start; a file that is not a set of
/// queries stops the server from starting.
#[tokio::test]
async fn warm_file_is_run_at_start_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.db").display());
    let warm = dir.path().join("warm.graphql");
    std::fs::write(&warm, r#"query hot { branch { traverse(from: ["Employee"]) { truncated } } }"#).unwrap();
    let mut args = ServeArgs::for_tests(&url);
    args.no_demo = false;
    args.warm = Some(warm.clone());
    let server = Server::start(args.clone()).await.unwrap();
    let mut warmed = false;
    for _ in 0..500 {
        if server.engine.cache_stats().misses >= 1 {
            warmed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(warmed, "the warm query did not run");
    server.stop().await.unwrap();
    std::fs::write(&warm, r#"mutation { deleteBranch(name: "x", expectedVersion: 0) }"#).unwrap();
    let err = Server::start(args).await.err().expect("a mutation in the warm file is refused");
    assert!(format!("{err:#}").contains("not a query"), "{err:#}");
}
