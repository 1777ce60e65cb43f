//! GraphQL over HTTP (the spec's statuses and media types), beyond what
//! the graphql-http audit in `.ci/run` checks: 405 for mutations over GET
//! and other methods, 406, 415, 400 without `data` for request errors
//! with `application/graphql-response+json`, 200 with `data` once
//! execution started.

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::CREATE_OT;
use crate::live::{error_with_code, Live};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn send(
    app: &Live,
    method: Method,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = app.client.request(method, app.url("/graphql")).query(query);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body ({status}): {e}: {text:?}"));
    (status, headers, body)
}

#[tokio::test]
async fn mutations_over_get_are_405_and_write_nothing() {
    let app = Live::start().await;
    let q = r#"mutation { createObjectType(branch: "main", input: { apiName: "A" }) { apiName } }"#;
    for accept in ["application/json", GRAPHQL_RESPONSE] {
        let (status, h, body) = send(&app, Method::GET, &[("query", q)], &[("accept", accept)], None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body:#}");
        assert_eq!(h[header::ALLOW], "POST");
        error_with_code(&body, "BAD_USER_INPUT");
    }
    // Selected by operationName among several.
    let doc = "query Q { __typename } mutation M { deleteBranch(name: \"x\", expectedVersion: 0) }";
    let (status, _, _) = send(&app, Method::GET, &[("query", doc), ("operationName", "M")], &[], None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _, body) = send(&app, Method::GET, &[("query", doc), ("operationName", "Q")], &[], None).await;
    assert_eq!((status, &body["data"]["__typename"]), (StatusCode::OK, &json!("Query")));
    let data = app.ok("{ branch { version } }", json!({})).await;
    assert_eq!(data["branch"]["version"], 0);
    app.stop().await;
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let app = Live::start().await;
    for m in [Method::PUT, Method::DELETE, Method::PATCH] {
        let (status, h, body) = send(&app, m.clone(), &[], &[], None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{m}");
        assert_eq!(h[header::ALLOW], "GET, POST");
        error_with_code(&body, "BAD_USER_INPUT");
    }
    app.stop().await;
}

#[tokio::test]
async fn accept_and_content_type_are_negotiated() {
    let app = Live::start().await;
    let body = || Some(json!({ "query": "{ __typename }" }).to_string());
    let json_ct = ("content-type", "application/json");
    let (status, h, _) = send(&app, Method::POST, &[], &[json_ct, ("accept", GRAPHQL_RESPONSE)], body()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "application/graphql-response+json; charset=utf-8");
    let (status, h, _) = send(&app, Method::POST, &[], &[json_ct], body()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "application/json; charset=utf-8");
    let (status, _, body406) = send(&app, Method::POST, &[], &[json_ct, ("accept", "text/html")], body()).await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    error_with_code(&body406, "BAD_USER_INPUT");
    for ct in ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1"] {
        let (status, _, b) = send(&app, Method::POST, &[], &[("content-type", ct)], body()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}");
        error_with_code(&b, "BAD_USER_INPUT");
    }
    // The bare document is accepted as application/graphql.
    let (status, _, b) =
        send(&app, Method::POST, &[], &[("content-type", "application/graphql")], Some("{ __typename }".into())).await;
    assert_eq!((status, &b["data"]["__typename"]), (StatusCode::OK, &json!("Query")));
    app.stop().await;
}

#[tokio::test]
async fn request_errors_are_400_without_data_for_graphql_response_json() {
    let app = Live::start().await;
    let headers = [("content-type", "application/json"), ("accept", GRAPHQL_RESPONSE)];
    for (query, vars) in [
        ("{", json!(null)),
        ("{ nope }", json!(null)),
        ("query($n: String!) { branch(name: $n) { version } }", json!({ "n": 5 })),
        ("query A { __typename } query B { __typename }", json!(null)),
    ] {
        let body = json!({ "query": query, "variables": vars }).to_string();
        let (status, _, resp) = send(&app, Method::POST, &[], &headers, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {resp:#}");
        assert!(resp.get("data").is_none(), "{query}: {resp:#}");
        error_with_code(&resp, "BAD_USER_INPUT");
        // The same with application/json: 200, still without data.
        let (status, _, resp) = send(&app, Method::POST, &[], &headers[..1], Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{query}: {resp:#}");
        assert!(resp.get("data").is_none(), "{query}: {resp:#}");
    }
    // Execution started: 200 with data, even when a field fails.
    let body = json!({ "query": CREATE_OT, "variables": { "input": { "apiName": "1bad" } } }).to_string();
    let (status, _, resp) = send(&app, Method::POST, &[], &headers, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{resp:#}");
    assert!(resp.get("data").is_some(), "{resp:#}");
    error_with_code(&resp, "BAD_USER_INPUT");
    // A subscription over HTTP is refused up front.
    let body = json!({ "query": "subscription { changes { version } }" }).to_string();
    let (status, _, resp) = send(&app, Method::POST, &[], &headers, Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{resp:#}");
    assert!(resp["errors"][0]["message"].as_str().unwrap().contains("/graphql/ws"), "{resp:#}");
    app.stop().await;
}

#[tokio::test]
async fn null_parameters_mean_absent_and_wrong_types_are_400() {
    let app = Live::start().await;
    let (status, body) =
        app.post_raw(r#"{"query":"{ __typename }","variables":null,"operationName":null,"extensions":null}"#).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["data"]["__typename"], "Query");
    for bad in [
        r#"{"query":"{ __typename }","variables":"x"}"#,
        r#"{"query":"{ __typename }","variables":[1]}"#,
        r#"{"query":"{ __typename }","operationName":1}"#,
        r#"{"query":"{ __typename }","extensions":false}"#,
        r#"{"query":["{ __typename }"]}"#,
    ] {
        let (status, body) = app.post_raw(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body:#}");
        error_with_code(&body, "BAD_USER_INPUT");
    }
    let (status, body) = app.post_raw("").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    let res = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "GET without query");
    app.stop().await;
}
