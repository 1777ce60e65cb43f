//! Request limits over real HTTP: every violation is a GraphQL error with
//! `LIMIT_EXCEEDED` (HTTP 413 for an oversized body, 408 for a body that
//! never arrives), never a 500 or a hang, and `{ __typename }` keeps
//! answering.

use std::time::Duration;

use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::live::{error_with_code, Live};

/// `{ a { a { … } } }` nested `depth` levels.
fn nested(depth: usize) -> String {
    format!("{}{}", "{ a ".repeat(depth), "}".repeat(depth))
}

/// A limit error: 200 with `application/json` and no `data` entry.
async fn limit_error(app: &Live, query: &str) -> Value {
    let (status, body) = app.gql(query, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert!(body.get("data").is_none(), "a rejected request has no data entry: {body:#}");
    error_with_code(&body, "LIMIT_EXCEEDED").clone()
}

#[tokio::test]
async fn a_200_deep_query_is_limit_exceeded() {
    let app = Live::start().await;
    let err = limit_error(&app, &nested(200)).await;
    assert!(err["message"].as_str().unwrap().contains("nested deeper"), "{err:#}");
    // Refused on the text with the limit named, not as a syntax error.
    let err = limit_error(&app, &nested(100_000)).await;
    assert!(err["message"].as_str().unwrap().contains("nested deeper"), "{err:#}");
    let deep_list = format!("{{ branch(name: {}\"x\"{}) {{ version }} }}", "[".repeat(50_000), "]".repeat(50_000));
    limit_error(&app, &deep_list).await;
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn a_10000_alias_query_is_limit_exceeded() {
    let app = Live::start().await;
    let fields: Vec<String> = (0..10_000).map(|i| format!("a{i}: __typename")).collect();
    let err = limit_error(&app, &format!("{{ {} }}", fields.join(" "))).await;
    // 30,000 tokens: refused by the token limit before any parse.
    assert_eq!(err["message"], "the query has more than 10000 tokens", "{err:#}");
    let fields: Vec<String> = (0..3_000).map(|i| format!("a{i}: __typename")).collect();
    let err = limit_error(&app, &format!("{{ {} }}", fields.join(" "))).await;
    assert_eq!(err["message"], "the query has 3000 aliases; the limit is 100", "{err:#}");
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn a_50_mb_body_is_413_limit_exceeded() {
    let app = Live::start().await;
    let pad = "x".repeat(50 * 1024 * 1024);
    let body = json!({ "query": "{ __typename }", "variables": { "pad": pad } }).to_string();
    let (status, resp) = app.post_raw(body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{resp:#}");
    let err = error_with_code(&resp, "LIMIT_EXCEEDED");
    assert_eq!(err["message"], "request body too large: the limit is 8388608 bytes");
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn field_depth_complexity_root_fields_tokens_size_and_directives() {
    let app = Live::start_with(|a| {
        a.limits.max_query_depth = 3;
        a.limits.max_complexity = 50;
        a.limits.max_root_fields = 4;
        a.limits.max_tokens = 400;
        a.limits.max_document_bytes = 2_000;
        a.limits.max_directives = 2;
    })
    .await;
    // async-graphql's own depth check, given our code.
    let err = limit_error(&app, "{ branch { objectTypes { edges { node { apiName } } } } }").await;
    assert_eq!(err["message"], "Query is nested too deep.");
    // Fragments doubling at each level: 2^8 fields once expanded.
    let mut bomb = String::from("{ branch { ...F0 } }\n");
    for i in 0..8 {
        bomb += &format!("fragment F{i} on Branch {{ ...F{} ...F{} }}\n", i + 1, i + 1);
    }
    bomb += "fragment F8 on Branch { version }";
    let err = limit_error(&app, &bomb).await;
    assert_eq!(err["message"], "the query selects 257 fields once fragments are expanded; the limit is 50");
    let err = limit_error(&app, "{ a: __typename b: __typename c: __typename d: __typename e: __typename }").await;
    assert_eq!(err["message"], "operation (anonymous) selects 5 root fields; the limit is 4");
    let err = limit_error(&app, &format!("{{ __typename {} }}", "# comment\n".repeat(250))).await;
    assert!(err["message"].as_str().unwrap().starts_with("the query document is"), "{err:#}");
    let err = limit_error(&app, &format!("{{ __typename({}) }}", "a: 1 ".repeat(200))).await;
    assert_eq!(err["message"], "the query has more than 400 tokens");
    let err = limit_error(&app, "{ __typename @include(if: true) @skip(if: false) @include(if: true) }").await;
    assert!(err["message"].as_str().unwrap().starts_with("The number of directives on the field"), "{err:#}");
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn a_batch_larger_than_the_root_field_limit_is_refused() {
    let app = Live::start().await;
    let batch = |n: usize| Value::Array(vec![json!({ "query": "{ __typename }" }); n]).to_string();
    let (status, body) = app.post_raw(batch(64)).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body.as_array().unwrap().len(), 64);
    let (status, body) = app.post_raw(batch(100_000)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    let err = error_with_code(&body, "LIMIT_EXCEEDED");
    assert_eq!(err["message"], "a batch of 100000 operations; the limit is 64");
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn limit_errors_are_400_with_graphql_response_json() {
    let app = Live::start().await;
    let res = app
        .client
        .post(app.url("/graphql"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/graphql-response+json")
        .body(json!({ "query": nested(200) }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    error_with_code(&body, "LIMIT_EXCEEDED");
    app.stop().await;
}

#[tokio::test]
async fn introspection_can_be_turned_off() {
    let app = Live::start_with(|a| a.limits.no_introspection = true).await;
    let (status, body) = app.gql("{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let err = error_with_code(&body, "FORBIDDEN");
    assert_eq!(err["message"], "introspection is disabled on this server");
    assert!(body.get("data").is_none(), "{body:#}");
    // Through a fragment too.
    let (_, body) = app.gql("{ ...F } fragment F on Query { __type(name: \"Branch\") { name } }", json!({})).await;
    error_with_code(&body, "FORBIDDEN");
    app.assert_alive().await;
    app.stop().await;
    let app = Live::start().await;
    let data = app.ok("{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_never_arrives_is_408_limit_exceeded() {
    let app = Live::start_with(|a| a.limits.request_timeout_ms = 300).await;
    let mut conn = tokio::net::TcpStream::connect(app.server.addr).await.unwrap();
    let head =
        "POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(b"{\"query\":").await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), conn.read_to_end(&mut buf));
    read.await.expect("no answer to a stalled body").unwrap();
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("LIMIT_EXCEEDED"), "{text}");
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn limits_apply_to_the_in_process_schema_too() {
    let app = crate::helpers::TestApp::new().await;
    let resp = app.gql(&nested(200), json!({})).await;
    assert_eq!(resp["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED", "{resp:#}");
}

#[tokio::test]
async fn server_limits_report_the_request_limits() {
    let app = Live::start_with(|a| {
        a.limits.max_aliases = 7;
        a.limits.request_timeout_ms = 0;
    })
    .await;
    let q = "{ server { limits { maxQueryDepth maxComplexity maxAliases maxRootFields maxTokens maxDocumentBytes maxDirectives requestTimeoutMs introspection maxResponseBytes maxInputBytes maxVariablesBytes maxVariablesDepth } } }";
    let data = app.ok(q, json!({})).await;
    let want = json!({
        "maxQueryDepth": 32, "maxComplexity": 10000, "maxAliases": 7, "maxRootFields": 64, "maxTokens": 10000,
        "maxDocumentBytes": 524288, "maxDirectives": 10, "requestTimeoutMs": null, "introspection": true,
        "maxResponseBytes": 33554432, "maxInputBytes": 8388608, "maxVariablesBytes": 4194304, "maxVariablesDepth": 32
    });
    assert_eq!(data["server"]["limits"], want);
    app.stop().await;
}

/// The three hostile requests at once, with `{ __typename }` asked
/// alongside them: every one of those is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typename_keeps_answering_while_hostile_requests_are_refused() {
    let app = Live::start().await;
    let aliases: Vec<String> = (0..10_000).map(|i| format!("a{i}: __typename")).collect();
    let hostile = [
        json!({ "query": nested(200) }).to_string(),
        json!({ "query": format!("{{ {} }}", aliases.join(" ")) }).to_string(),
        json!({ "query": "{ __typename }", "variables": { "pad": "x".repeat(50 * 1024 * 1024) } }).to_string(),
    ];
    let refused = futures::future::join_all(hostile.into_iter().map(|b| app.post_raw(b)));
    let light = futures::future::join_all((0..20).map(|_| app.assert_alive()));
    let (refused, _) = tokio::join!(refused, light);
    let statuses: Vec<StatusCode> = refused.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::OK, StatusCode::PAYLOAD_TOO_LARGE]);
    for (_, body) in &refused {
        error_with_code(body, "LIMIT_EXCEEDED");
    }
    app.stop().await;
}

/// 2^40 fields once expanded, in a document of 40 lines: refused from
/// the memoized count, before anything walks the expansion (the response
/// cache's own walk of a branch query included).
#[tokio::test]
async fn a_fragment_bomb_is_refused_without_expanding_it() {
    let app = Live::start().await;
    let mut bomb = String::from("{ branch { ...F0 } }\n");
    for i in 0..40 {
        bomb += &format!("fragment F{i} on Branch {{ ...F{} ...F{} }}\n", i + 1, i + 1);
    }
    bomb += "fragment F40 on Branch { version }";
    let err = limit_error(&app, &bomb).await;
    assert_eq!(
        err["message"],
        "the query selects 1099511627777 fields once fragments are expanded; the limit is 10000"
    );
    app.assert_alive().await;
    app.stop().await;
}

/// VmRSS of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap().trim().trim_end_matches(" kB").parse().unwrap();
    kib * 1024
}

/// The entity-inflation attack, sent to the real binary: one 64 KiB
/// variable used as the description of 2,000 properties is 128 MiB of
/// input once substituted. The request as reported (26,000 tokens) is
/// refused before any parse (`--max-tokens`); one small enough to parse
/// (500 properties: 32 MiB substituted) before async-graphql builds its
/// input (`--max-input-bytes`). Nothing is written, and the server's
/// memory does not grow with repetition (the report: +130 MB per request).
/// The first requests of this size leave the allocator some pages on
/// each thread they touch (any request with a 64 KiB variable does, about
/// 20 MiB in all); after eight rounds of that warm-up, five more rounds add
/// less than 16 MiB, and the whole run less than 128 MiB.
#[tokio::test]
async fn entity_inflation_is_refused_before_it_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("inflate.db").display());
    let proc = crate::proc::Proc::spawn(&db).await;
    let client = reqwest::Client::new();
    let url = format!("http://{}/graphql", proc.addr);
    let body = |n: usize| {
        let props: Vec<String> =
            (0..n).map(|i| format!("{{ apiName: \"p{i}\", dataType: STRING, description: $d }}")).collect();
        let query = format!(
            "mutation($d: String) {{ createObjectType(branch: \"main\", input: {{ apiName: \"Big\", properties: [{}] }}) {{ version }} }}",
            props.join(", ")
        );
        json!({ "query": query, "variables": { "d": "x".repeat(64 * 1024) } }).to_string()
    };
    let attacks = [(body(2000), "tokens"), (body(500), "--max-input-bytes"), (body(5), "--max-entity-bytes")];
    let send = |body: String, limit: &'static str| {
        let req = client.post(&url).header("content-type", "application/json").body(body);
        async move {
            let answer: serde_json::Value = req.send().await.unwrap().json().await.unwrap();
            let err = error_with_code(&answer, "LIMIT_EXCEEDED");
            assert!(err["message"].as_str().unwrap().contains(limit), "{answer:#}");
        }
    };
    let pid = proc.child.id().unwrap();
    let start = rss(pid);
    for _ in 0..8 {
        for (body, limit) in &attacks {
            assert!(body.len() < 256 * 1024, "a small request: {} bytes", body.len());
            send(body.clone(), limit).await;
        }
    }
    let before = rss(pid);
    for _ in 0..5 {
        for (body, limit) in &attacks {
            send(body.clone(), limit).await;
        }
    }
    let grown = rss(pid).saturating_sub(before);
    eprintln!(
        "entity inflation: RSS {} KiB at start, {} KiB after eight rounds, +{} KiB after five more",
        start / 1024,
        before / 1024,
        grown / 1024
    );
    assert!(grown < 16 * 1024 * 1024, "RSS grew by {} KiB", grown / 1024);
    assert!(rss(pid) < start + 128 * 1024 * 1024, "RSS {} KiB from {} KiB", rss(pid) / 1024, start / 1024);
    let v = client.post(&url).header("content-type", "application/json").body(r#"{"query":"{ branch { version } }"}"#);
    let v: serde_json::Value = v.send().await.unwrap().json().await.unwrap();
    assert_eq!(v["data"]["branch"]["version"], 0, "nothing written");
}
