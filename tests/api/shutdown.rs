//! SIGTERM to the real binary during requests: it stops accepting, the
//! in-flight request (a mutation whose body is still arriving) completes
//! and is acknowledged, the subscriber gets that commit and then a clean
//! `complete` and close (1001), the process exits 0, and after a restart
//! the write is there. JSON logs carry the request id.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::CREATE_OT;
use crate::live::sample;
use crate::proc::Proc;

async fn post(proc: &Proc, query: &str, vars: Value, request_id: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut req = client.post(proc.url()).json(&json!({ "query": query, "variables": vars }));
    if let Some(id) = request_id {
        req = req.header("x-request-id", id);
    }
    req.send().await.unwrap()
}

async fn metrics(proc: &Proc) -> String {
    reqwest::get(format!("http://{}/metrics", proc.addr)).await.unwrap().text().await.unwrap()
}

/// Wait (up to a minute) until a `/metrics` sample has `value`.
async fn wait_for_sample(proc: &Proc, series: &str, value: f64) {
    for _ in 0..6000 {
        if sample(&metrics(proc).await, series) == Some(value) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{series} never reached {value}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests_and_closes_subscriptions_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("og.db").display());
    let mut server = Proc::spawn(&db).await;

    // A subscriber, open on the server before anything is written.
    let mut req = format!("ws://{}/graphql/ws", server.addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws.send(Message::text(json!({ "type": "connection_init" }).to_string())).await.unwrap();
    let query = "subscription { changes(branch: \"main\") { version changes { entityId } } }";
    let subscribe = json!({ "id": "s", "type": "subscribe", "payload": { "query": query } });
    ws.send(Message::text(subscribe.to_string())).await.unwrap();
    wait_for_sample(&server, "ontograph_subscriptions_active", 1.0).await;
    let res = post(&server, CREATE_OT, json!({ "input": { "apiName": "Before" } }), None).await;
    assert_eq!(res.status(), 200);

    // A mutation in flight: headers and half of the body sent.
    let body = json!({ "query": CREATE_OT, "variables": { "input": { "apiName": "InFlight" } } }).to_string();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut conn = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(first).await.unwrap();
    conn.flush().await.unwrap();
    // Wait until the server holds the request (its head parsed; the scrape
    // itself is the other one in flight): before that the connection is
    // idle, and graceful shutdown rightly just closes it.
    wait_for_sample(&server, "ontograph_http_requests_in_flight", 2.0).await;

    server.terminate();
    server.wait_for_log("shutting down", Duration::from_secs(30)).await;
    // No new connections once shutdown has begun.
    let mut refused = false;
    for _ in 0..3000 {
        if tokio::net::TcpStream::connect(server.addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "still accepting connections after SIGTERM");

    // The in-flight request completes and is acknowledged.
    conn.write_all(rest).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(30), conn.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""apiName":"InFlight""#), "{answer}");

    // The subscriber saw both commits, then a clean end.
    let mut seen = Vec::new();
    let close = loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next()).await.unwrap().unwrap().unwrap();
        match msg {
            Message::Text(t) => seen.push(serde_json::from_str::<Value>(t.as_str()).unwrap()),
            Message::Close(frame) => break frame.expect("a close code"),
            _ => {}
        }
    };
    assert_eq!(u16::from(close.code), 1001, "{close:?}");
    let versions: Vec<Value> = seen.iter().map(|m| m["payload"]["data"]["changes"]["version"].clone()).collect();
    assert_eq!(seen[0], json!({ "type": "connection_ack" }));
    assert_eq!(versions[1..], [json!(1), json!(2), Value::Null], "{seen:#?}");
    assert_eq!(seen[3], json!({ "id": "s", "type": "complete" }));

    let exit = tokio::time::timeout(Duration::from_secs(30), server.child.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "exit status after SIGTERM: {exit}");
    server.find_log(|l| l["fields"]["message"] == "stopped").expect("a final `stopped` line");
    drop(server);

    let server = Proc::spawn(&db).await;
    let q = r#"{ branch { version objectType(apiName: "InFlight") { version } } }"#;
    let res: Value = post(&server, q, json!({}), None).await.json().await.unwrap();
    assert_eq!(res["data"]["branch"], json!({ "version": 2, "objectType": { "version": 1 } }));
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_info_has_no_per_request_lines() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("og.db").display());
    let server = Proc::spawn_with(&db, &[], "info,ontograph=debug,tower_http=debug").await;
    let res = post(&server, "{ __typename }", json!({}), Some("req-42")).await;
    assert_eq!(res.headers()["x-request-id"], "req-42");
    let res = post(&server, "{ __typename }", json!({}), None).await;
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    // The response line is logged after the body is sent: wait for it.
    let mut line = None;
    for _ in 0..3000 {
        line =
            server.find_log(|l| l["span"]["id"] == "req-42" && l["fields"]["message"] == "finished processing request");
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let line = line.unwrap_or_else(|| panic!("no request line with the id:\n{}", server.log_text()));
    assert_eq!(line["level"], "DEBUG");
    assert_eq!(line["span"]["operation"], "query", "{line}");
    drop(server);

    // At info, requests log nothing. Read the whole log: stop the server
    // and wait for its last line, so a late request line cannot be missed.
    let mut server = Proc::spawn(&db).await;
    for _ in 0..20 {
        post(&server, "{ __typename }", json!({}), Some("quiet")).await;
    }
    server.terminate();
    server.wait_for_log("stopped", Duration::from_secs(30)).await;
    let per_request = server.find_log(|l| {
        l["span"]["id"] == "quiet" || l["fields"]["message"].as_str().is_some_and(|m| m.contains("processing request"))
    });
    assert!(per_request.is_none(), "{}", server.log_text());
    assert!(!server.log_text().contains("quiet"), "{}", server.log_text());
}
