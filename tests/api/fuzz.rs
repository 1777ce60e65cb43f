//! Thousands of generated malformed and hostile requests against the real
//! server (seeded, so a failure reproduces): invalid and truncated JSON,
//! deep nesting (JSON and GraphQL), huge lists and strings, wrong variable
//! types, unknown operations, broken UTF-8, mutated valid queries, odd
//! methods and headers. No response may be a 5xx, every `/graphql`
//! answer is JSON, and the server answers normally afterwards.

use futures::StreamExt;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::live::Live;

const REQUESTS: usize = 5_000;
const SEED: u64 = 0x6067_af00;

/// Valid operations to mutate and to send with wrong variables.
const CORPUS: &[&str] = &[
    "{ __typename }",
    r#"{ branch(name: "main") { version objectTypes(first: 5) { totalCount edges { cursor node { apiName } } } } }"#,
    r#"query Q($n: String!, $f: [ID!]!) { branch(name: $n) { traverse(from: $f, maxDepth: 3) { nodes { apiName depth } truncated } } }"#,
    r#"query P($a: ID!, $b: ID!) { branch { shortestPath(from: $a, to: $b) { nodes length } paths(from: $a, to: $b) { length } } }"#,
    r#"mutation M($i: ObjectTypeInput!) { createObjectType(branch: "main", input: $i) { apiName version } }"#,
    r#"mutation D($n: ID!, $v: Int!) { deleteObjectType(branch: "main", apiName: $n, expectedVersion: $v) { version } }"#,
    r#"{ branch { cycles(limit: 5) { nodes } impact(of: "Employee") { nodes { apiName } } } server { version limits { maxDepth } } }"#,
    "query A { __typename } query B { __schema { types { name } } }",
];

fn random_json(rng: &mut SmallRng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 3 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.random::<bool>()),
        2 => json!(rng.random::<i64>()),
        3 => json!(rng.random::<f64>() * 1e300),
        4 => json!(["", "main", "Employee", "T1", "💥", "\u{0}", "a".repeat(5000).as_str()][rng.random_range(0..7)]),
        5 => Value::Array((0..rng.random_range(0..5)).map(|_| random_json(rng, depth + 1)).collect()),
        _ => {
            let keys = ["apiName", "displayName", "properties", "extends", "dataType", "x", ""];
            let obj = (0..rng.random_range(0..5))
                .map(|_| (keys[rng.random_range(0..keys.len())].to_owned(), random_json(rng, depth + 1)))
                .collect();
            Value::Object(obj)
        }
    }
}

/// Random edits of a valid text: byte flips, deletions, duplications.
fn mutate(rng: &mut SmallRng, text: &str) -> Vec<u8> {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..rng.random_range(1..6) {
        if b.is_empty() {
            break;
        }
        let i = rng.random_range(0..b.len());
        match rng.random_range(0..4) {
            0 => b[i] = rng.random(),
            1 => {
                b.remove(i);
            }
            2 => {
                let j = rng.random_range(i..b.len().min(i + 40) + 1).min(b.len());
                let chunk = b[i..j].to_vec();
                b.splice(i..i, chunk);
            }
            _ => b.insert(i, b"{}()[]\"\\$@!:.,#\xff\xfe"[rng.random_range(0..17)]),
        }
    }
    b
}

/// One hostile request: method, path with query string, headers, body.
struct Case {
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    accept: Option<&'static str>,
    body: Vec<u8>,
}

fn post(body: Vec<u8>) -> Case {
    Case { method: Method::POST, path: "/graphql".into(), content_type: Some("application/json"), accept: None, body }
}

fn request_body(query: &str, vars: Value, op: Option<&str>) -> Vec<u8> {
    json!({ "query": query, "variables": vars, "operationName": op }).to_string().into_bytes()
}

fn generate(rng: &mut SmallRng, i: usize) -> Case {
    let q = CORPUS[rng.random_range(0..CORPUS.len())];
    match i % 16 {
        0 => post((0..rng.random_range(0..2000)).map(|_| rng.random()).collect()),
        1 => {
            let full = request_body(q, json!({}), None);
            post(full[..rng.random_range(0..full.len())].to_vec())
        }
        2 => {
            let d = rng.random_range(1..20_000);
            post(format!("{}{}", "[".repeat(d), "]".repeat(rng.random_range(0..=d))).into_bytes())
        }
        3 => {
            let d = rng.random_range(1..20_000);
            let wrap = if rng.random() { ["{ a ", "}"] } else { ["{ branch(name: [", "]) }"] };
            post(request_body(&format!("{}{}", wrap[0].repeat(d), wrap[1].repeat(d)), json!({}), None))
        }
        4 => {
            let n = rng.random_range(0..20_000);
            let from: Vec<Value> = (0..n).map(|k| json!(format!("T{k}"))).collect();
            post(request_body(CORPUS[2], json!({ "n": "main", "f": from }), None))
        }
        5 | 6 => {
            let vars: serde_json::Map<String, Value> =
                ["n", "f", "a", "b", "i", "v"].iter().map(|k| (k.to_string(), random_json(rng, 0))).collect();
            post(request_body(q, Value::Object(vars), None))
        }
        7 => post(request_body(q, json!({}), Some(["Nope", "", "Q", "A", "💥"][rng.random_range(0..5)]))),
        8 => {
            let mut body = b"{\"query\": \"{ branch(name: \\\"".to_vec();
            body.extend((0..rng.random_range(1..50)).map(|_| rng.random_range(0x80u8..=0xff)));
            body.extend_from_slice(b"\\\") { version } }\"}");
            post(body)
        }
        9 | 10 => {
            let text = mutate(rng, q);
            if rng.random() {
                let mut c = post(text);
                c.content_type = Some("application/graphql");
                c
            } else {
                post(request_body(&String::from_utf8_lossy(&text), random_json(rng, 0), None))
            }
        }
        11 => {
            let kind = rng.random_range(0..4);
            let n = rng.random_range(1..12_000);
            let query = match kind {
                0 => format!("{{ {} }}", (0..n).map(|k| format!("a{k}: __typename")).collect::<Vec<_>>().join(" ")),
                1 => format!("{{ __typename {} }}", "@skip(if: false) ".repeat(n.min(5000))),
                2 => format!("{{ branch(name: \"{}\") {{ version }} }}", "x".repeat(n * 100)),
                _ => format!("{{ branch {{ objectTypes(first: {n}99999999999999) {{ totalCount }} }} }}"),
            };
            post(request_body(&query, json!({}), None))
        }
        12 => {
            let items: Vec<Value> = (0..rng.random_range(0..20))
                .map(|_| if rng.random() { json!({ "query": q }) } else { random_json(rng, 0) })
                .collect();
            post(Value::Array(items).to_string().into_bytes())
        }
        13 => {
            let junk: String = (0..rng.random_range(0..300))
                .map(|_| {
                    ['%', 'F', 'f', '0', '{', '&', '=', 'q', 'u', 'e', 'r', 'y', '+', 'ÿ'][rng.random_range(0..14)]
                })
                .collect();
            let path = if rng.random() { format!("/graphql?{junk}") } else { format!("/graphql?query={junk}") };
            Case { method: Method::GET, path, content_type: None, accept: None, body: vec![] }
        }
        14 => {
            let mut c = post(request_body(q, json!({}), None));
            c.method = [Method::PUT, Method::DELETE, Method::PATCH, Method::OPTIONS, Method::GET]
                [rng.random_range(0..5)]
            .clone();
            c.content_type =
                [None, Some("text/plain"), Some("application/json; charset=utf-16"), Some("multipart/form-data")]
                    [rng.random_range(0..4)];
            c.accept = [None, Some("text/html"), Some("application/graphql-response+json"), Some("*/*;q=0")]
                [rng.random_range(0..4)];
            c
        }
        _ => {
            let mut body = format!(r#"{{"query":{},"variables":"#, json!(q)).into_bytes();
            let depth = rng.random_range(100..3000);
            body.extend(
                std::iter::repeat_n(b'{', 1).chain(std::iter::repeat_n(b"\"a\":{".iter().copied(), depth).flatten()),
            );
            post(body)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_hostile_requests_never_get_a_5xx() {
    let app = Live::start_with(|a| a.no_demo = false).await;
    let mut rng = SmallRng::seed_from_u64(SEED);
    let cases: Vec<(usize, Case)> = (0..REQUESTS).map(|i| (i, generate(&mut rng, i))).collect();
    let failures: Vec<String> = futures::stream::iter(cases)
        .map(|(i, case)| {
            let app = &app;
            async move {
                let mut req = app.client.request(case.method.clone(), app.url(&case.path)).body(case.body);
                if let Some(ct) = case.content_type {
                    req = req.header("content-type", ct);
                }
                if let Some(a) = case.accept {
                    req = req.header("accept", a);
                }
                let res = match req.send().await {
                    Ok(r) => r,
                    Err(e) => return Some(format!("#{i} {} {}: transport error {e}", case.method, case.path)),
                };
                let status = res.status();
                let text = res.text().await.unwrap_or_default();
                let json_ok = case.method == Method::OPTIONS || serde_json::from_str::<Value>(&text).is_ok();
                (status.is_server_error() || !json_ok).then(|| {
                    format!("#{i} {} {} -> {status}: {}", case.method, case.path, &text[..text.len().min(300)])
                })
            }
        })
        .buffer_unordered(16)
        .filter_map(|f| async move { f })
        .collect()
        .await;
    assert!(failures.is_empty(), "{} bad responses:\n{}", failures.len(), failures.join("\n"));

    app.assert_alive().await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let data = app.ok("{ branch { stats { objectTypes } } }", json!({})).await;
    assert!(data["branch"]["stats"]["objectTypes"].as_u64().unwrap() >= 18, "{data}");
    app.stop().await;
}
