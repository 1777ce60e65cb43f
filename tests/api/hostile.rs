//! Slow, silent and hostile peers against the real server over real TCP
//! (issue 14): a request head sent a byte at a time and a silent
//! connection are cut by the header-read timeout; connections past the cap
//! wait for a place (WebSockets hold one too); a WebSocket that never sends
//! `connection_init` is closed with 4408 (a thousand of them, then a normal
//! client subscribes); an idle one is closed unless it pings or has a
//! subscription; a flood of refused subscribes is answered in order; a
//! subscriber that never reads is dropped, one that lags is ended with
//! LIMIT_EXCEEDED, and both resume with `afterVersion` and get every commit
//! they missed, in order, once; unknown HTTP methods add no metric series.

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use ontograph::engine::COMMIT_BUFFER;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::helpers::CREATE_OT;
use crate::live::{sample, Live};

type Ws = WebSocketStream<TcpStream>;

/// Generous bound for anything the server should do "soon".
const SOON: Duration = Duration::from_secs(60);

/// What a WebSocket client sees next.
#[derive(Debug, PartialEq)]
enum Seen {
    Msg(Value),
    Close(u16, String),
    /// The connection ended without a (complete) close frame.
    Gone,
}

/// A WebSocket handshake (graphql-transport-ws) over a fresh TCP
/// connection; `recv_buffer` shrinks the client's socket receive buffer so
/// a client that stops reading stalls the server after a few messages.
async fn open(addr: SocketAddr, recv_buffer: Option<u32>) -> Ws {
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(bytes) = recv_buffer {
        socket.set_recv_buffer_size(bytes).unwrap();
    }
    let stream = socket.connect(addr).await.unwrap();
    let mut req = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (ws, _) = tokio_tungstenite::client_async(req, stream).await.expect("WebSocket handshake");
    ws
}

/// Opened and past `connection_init` / `connection_ack`.
async fn connect(app: &Live, recv_buffer: Option<u32>) -> Ws {
    let mut ws = open(app.server.addr, recv_buffer).await;
    send(&mut ws, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut ws).await, Seen::Msg(json!({ "type": "connection_ack" })));
    ws
}

async fn send(ws: &mut Ws, msg: Value) {
    ws.send(Message::text(msg.to_string())).await.unwrap();
}

/// The next message, close frame or end (within [`SOON`]).
async fn next(ws: &mut Ws) -> Seen {
    loop {
        let msg = tokio::time::timeout(SOON, ws.next()).await.expect("nothing from the server within 60 s");
        return match msg {
            Some(Ok(Message::Text(t))) => Seen::Msg(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(Some(f)))) => Seen::Close(u16::from(f.code), f.reason.to_string()),
            Some(Ok(Message::Close(None))) | Some(Err(_)) | None => Seen::Gone,
            Some(Ok(_)) => continue,
        };
    }
}

fn subscribe(id: &str, query: &str, variables: Value) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })
}

/// Wait until `/metrics` shows `series` at `value`.
async fn wait_for(app: &Live, series: &str, value: f64) {
    let deadline = Instant::now() + SOON;
    while sample(&app.metrics().await, series) != Some(value) {
        assert!(Instant::now() < deadline, "{series} never reached {value}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reads until the server closes the connection; what it sent before.
async fn read_until_closed(conn: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(SOON, conn.read(&mut buf)).await.expect("still open after 60 s") {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_or_silent_request_head_is_cut_by_the_header_read_timeout() {
    let app = Live::start_with(|a| a.peers.header_read_timeout_secs = 1).await;
    // Slowloris: a head that never ends, one header every 100 ms.
    let mut slow = TcpStream::connect(app.server.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n").await.unwrap();
    let started = Instant::now();
    let (mut reader, mut writer) = slow.into_split();
    let trickle = tokio::spawn(async move {
        while writer.write_all(b"x-slow: 1\r\n").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut got = Vec::new();
    let answer = tokio::time::timeout(SOON, reader.read_to_end(&mut got)).await.expect("still open after 60 s");
    assert!(answer.is_err() || got.is_empty(), "a response to an unfinished head: {got:?}");
    // Never before the timeout, however busy the machine.
    assert!(started.elapsed() >= Duration::from_secs(1));
    trickle.abort();

    // A connection that sends nothing at all.
    let mut silent = TcpStream::connect(app.server.addr).await.unwrap();
    assert!(read_until_closed(&mut silent).await.is_empty());

    // Keep-alive still works: two requests on one connection.
    let mut conn = TcpStream::connect(app.server.addr).await.unwrap();
    for close in ["keep-alive", "close"] {
        let req = format!("GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: {close}\r\n\r\n");
        conn.write_all(req.as_bytes()).await.unwrap();
        let mut head = vec![0u8; 512];
        let n = tokio::time::timeout(SOON, conn.read(&mut head)).await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&head[..n]);
        assert!(text.starts_with("HTTP/1.1 200") && text.ends_with("ok"), "{text}");
    }
    app.assert_alive().await;
    app.stop().await;
}

/// Sends a request on a new connection; its response text, in a task.
fn request_in_background(addr: SocketAddr) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let mut conn = TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n").await.unwrap();
        String::from_utf8(read_until_closed(&mut conn).await).unwrap()
    })
}

/// Past the cap a connection waits (it is not refused) until a place
/// frees; an upgraded WebSocket keeps its place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_until_a_place_frees() {
    let app = Live::start_with(|a| {
        a.peers.max_connections = 2;
        a.peers.header_read_timeout_secs = 600;
    })
    .await;
    let addr = app.server.addr;
    let first = TcpStream::connect(addr).await.unwrap();
    let second = TcpStream::connect(addr).await.unwrap();
    let waiting = request_in_background(addr);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "a third connection was served past a cap of 2");
    drop(first);
    let answer = tokio::time::timeout(SOON, waiting).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A WebSocket (its HTTP connection is over once upgraded) and the
    // silent one fill both places again.
    let mut ws = connect(&app, None).await;
    let waiting = request_in_background(addr);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "a WebSocket does not count against the cap");
    ws.close(None).await.unwrap();
    let answer = tokio::time::timeout(SOON, waiting).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(second);
    app.stop().await;
}

const CHANGES: &str = "subscription($b: String, $after: Int) { changes(branch: $b, afterVersion: $after) { version } }";

/// Commits one object type on main over HTTP; the commit's version.
async fn commit(app: &Live, name: &str, message: &str) -> i64 {
    let q = "mutation($n: ID!, $m: String) { \
             commit(branch: \"main\", changes: [{ createObjectType: { apiName: $n } }], message: $m) { version } }";
    app.ok(q, json!({ "n": name, "m": message })).await["commit"]["version"].as_i64().unwrap()
}

/// `next` messages of operation `id` until `n` versions arrived.
async fn versions(ws: &mut Ws, id: &str, n: usize) -> Vec<i64> {
    let mut got = Vec::new();
    while got.len() < n {
        match next(ws).await {
            Seen::Msg(m) if m["id"] == id && m["type"] == "next" => {
                let v = &m["payload"]["data"]["changes"]["version"];
                got.push(v.as_i64().unwrap_or_else(|| panic!("not a commit: {m}")));
            }
            Seen::Msg(m) if m["type"] == "pong" => {}
            other => panic!("expected a commit of {id}, got {other:?} after {got:?}"),
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_silent_websockets_are_closed_by_the_init_timeout_then_a_client_subscribes() {
    // The default cap of 1,000 sockets: the silent ones take every place.
    let app = Live::start_with(|a| {
        a.peers.ws_init_timeout_secs = 1;
        a.limits.max_ws_connections = 1_000;
    })
    .await;
    let addr = app.server.addr;
    let opened: Vec<(Ws, Instant)> = futures::stream::iter(0..1_000)
        .map(|_| async move {
            let at = Instant::now();
            (open(addr, None).await, at)
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let closes = futures::future::join_all(opened.into_iter().map(|(mut ws, at)| async move {
        let seen = next(&mut ws).await;
        (seen, at.elapsed())
    }))
    .await;
    for (seen, after) in &closes {
        assert_eq!(*seen, Seen::Close(4408, "Connection initialisation timeout".into()));
        assert!(*after >= Duration::from_secs(1), "closed after {after:?}, before the timeout");
    }
    wait_for(&app, "ontograph_websocket_connections", 0.0).await;

    let mut ws = connect(&app, None).await;
    send(&mut ws, subscribe("s", CHANGES, json!({ "b": "main" }))).await;
    wait_for(&app, "ontograph_subscriptions_active", 1.0).await;
    let v = commit(&app, "AfterTheFlood", "").await;
    assert_eq!(versions(&mut ws, "s", 1).await, [v]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_websocket_is_closed_unless_it_pings_or_has_a_subscription() {
    let app = Live::start_with(|a| a.peers.ws_idle_timeout_secs = 1).await;
    let mut ws = connect(&app, None).await;
    // Pings (the protocol's and WebSocket's own) for 2.5 idle periods.
    for i in 0..10 {
        if i % 2 == 0 {
            send(&mut ws, json!({ "type": "ping" })).await;
            assert_eq!(next(&mut ws).await, Seen::Msg(json!({ "type": "pong" })));
        } else {
            ws.send(Message::Ping(vec![1].into())).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // A subscription keeps a silent client's socket open.
    send(&mut ws, subscribe("s", CHANGES, json!({ "b": "main" }))).await;
    wait_for(&app, "ontograph_subscriptions_active", 1.0).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let v = commit(&app, "StillHere", "").await;
    assert_eq!(versions(&mut ws, "s", 1).await, [v]);
    // Once it ends, the socket is idle and closed (1000).
    send(&mut ws, json!({ "id": "s", "type": "complete" })).await;
    let ended = Instant::now();
    assert_eq!(next(&mut ws).await, Seen::Msg(json!({ "id": "s", "type": "complete" })));
    match next(&mut ws).await {
        Seen::Close(1000, reason) => assert!(reason.starts_with("idle timeout"), "{reason}"),
        other => panic!("expected an idle close, got {other:?}"),
    }
    assert!(ended.elapsed() >= Duration::from_secs(1));
    wait_for(&app, "ontograph_websocket_connections", 0.0).await;
    app.stop().await;
}

/// Far more refusals than their queue holds: each is answered, in order,
/// and the connection goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_refused_subscribes_is_answered_in_order() {
    let app = Live::start_with(|a| a.limits.max_ws_operations = 1).await;
    let mut ws = connect(&app, None).await;
    send(&mut ws, subscribe("held", CHANGES, json!({ "b": "main" }))).await;
    wait_for(&app, "ontograph_subscriptions_active", 1.0).await;
    for i in 0..200 {
        send(&mut ws, subscribe(&format!("r{i}"), CHANGES, json!({}))).await;
    }
    for i in 0..200 {
        match next(&mut ws).await {
            Seen::Msg(m) => {
                assert_eq!((&m["id"], &m["type"]), (&json!(format!("r{i}")), &json!("error")), "{m}");
                assert_eq!(m["payload"][0]["extensions"]["code"], "LIMIT_EXCEEDED", "{m}");
            }
            other => panic!("expected refusal r{i}, got {other:?}"),
        }
    }
    let v = commit(&app, "Flooded", "").await;
    assert_eq!(versions(&mut ws, "held", 1).await, [v]);
    app.stop().await;
}

/// A subscription whose every message is about 40 KB (the message of each
/// commit, 40 times): a client that does not read stalls the server fast.
const BIG: &str = "subscription($b: String, $after: Int) { changes(branch: $b, afterVersion: $after) { version \
                   m0: message m1: message m2: message m3: message m4: message m5: message m6: message m7: message \
                   m8: message m9: message m10: message m11: message m12: message m13: message m14: message \
                   m15: message m16: message m17: message m18: message m19: message m20: message m21: message \
                   m22: message m23: message m24: message m25: message m26: message m27: message m28: message \
                   m29: message m30: message m31: message m32: message m33: message m34: message m35: message \
                   m36: message m37: message m38: message m39: message } }";

/// What a client that stopped reading got before the server gave up on
/// it: the commit versions, and the last message if it was not a commit.
async fn drain(ws: &mut Ws) -> (Vec<i64>, Option<Seen>) {
    let mut got = Vec::new();
    loop {
        match next(ws).await {
            Seen::Msg(m) if m["type"] == "next" && m["payload"]["data"]["changes"].is_object() => {
                got.push(m["payload"]["data"]["changes"]["version"].as_i64().unwrap());
            }
            other => return (got, Some(other)),
        }
    }
}

fn assert_consecutive(got: &[i64], from: i64, to: i64) {
    let want: Vec<i64> = (from..=to).collect();
    assert_eq!(got, want, "expected exactly versions {from}..={to}, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_is_dropped_and_resumes_with_after_version() {
    let app = Live::start_with(|a| a.peers.ws_send_timeout_secs = 1).await;
    let message = "m".repeat(1_000);
    let mut stalled = connect(&app, Some(4096)).await;
    send(&mut stalled, subscribe("s", BIG, json!({ "b": "main" }))).await;
    wait_for(&app, "ontograph_subscriptions_active", 1.0).await;
    // Commit until the server drops the socket it cannot write to.
    let mut head = 0;
    let mut dropped = false;
    while head < 2_000 && !dropped {
        head = commit(&app, &format!("T{head}"), &message).await;
        if head % 10 == 0 {
            let m = app.metrics().await;
            dropped = sample(&m, "ontograph_websocket_connections") == Some(0.0)
                && sample(&m, "ontograph_subscriptions_active") == Some(0.0);
        }
    }
    assert!(dropped, "a client that never reads still held its socket after {head} commits");
    // What it had been sent before: a prefix of the commits, in order.
    let (got, end) = drain(&mut stalled).await;
    assert_eq!(end, Some(Seen::Gone));
    assert_consecutive(&got, 1, got.len() as i64);
    assert!((got.len() as i64) < head, "{} of {head}", got.len());

    // Resumed: every commit it missed, then live ones, each once, in order,
    // with commits landing while the replay runs.
    let after = got.len() as i64;
    let mut ws = connect(&app, None).await;
    send(&mut ws, subscribe("r", CHANGES, json!({ "b": "main", "after": after }))).await;
    let writer = {
        let client = app.client.clone();
        let url = app.url("/graphql");
        tokio::spawn(async move {
            for i in 0..50 {
                let body = json!({ "query": CREATE_OT, "variables": { "input": { "apiName": format!("Live{i}") } } });
                let res = client.post(&url).json(&body).send().await.unwrap();
                assert_eq!(res.status(), 200);
            }
        })
    };
    writer.await.unwrap();
    let end = app.main_version().await;
    assert_eq!(end, head + 50);
    let got = versions(&mut ws, "r", (end - after) as usize).await;
    assert_consecutive(&got, after + 1, end);
    // Nothing more was queued for it: a query on the socket answers next.
    send(&mut ws, json!({ "id": "q", "type": "subscribe", "payload": { "query": "{ __typename }" } })).await;
    match next(&mut ws).await {
        Seen::Msg(m) => assert_eq!((&m["id"], &m["payload"]["data"]["__typename"]), (&json!("q"), &json!("Query"))),
        other => panic!("{other:?}"),
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_falls_behind_is_ended_with_limit_exceeded_and_resumes() {
    // Writes never time out here: the client only pauses.
    let app = Live::start_with(|a| a.peers.ws_send_timeout_secs = 600).await;
    let message = "m".repeat(1_000);
    let mut slow = connect(&app, Some(4096)).await;
    send(&mut slow, subscribe("s", BIG, json!({ "b": "main" }))).await;
    wait_for(&app, "ontograph_subscriptions_active", 1.0).await;
    // Twice as many commits as the broadcast holds while it does not read:
    // the socket's buffers took about 70 of these messages here, far fewer
    // than the 1,024 of slack left.
    let mut head = 0;
    for i in 0..2 * COMMIT_BUFFER {
        head = commit(&app, &format!("T{i}"), &message).await;
    }
    let (got, end) = drain(&mut slow).await;
    assert_consecutive(&got, 1, got.len() as i64);
    let delivered = got.len() as i64;
    assert!(delivered < head - COMMIT_BUFFER as i64, "{delivered} of {head} delivered: it never fell behind");
    // The end: LIMIT_EXCEEDED saying where to resume (a `next` with the
    // error, or the protocol's `error` when nothing had been delivered).
    let Some(Seen::Msg(m)) = end else { panic!("expected the error, got {end:?}") };
    assert_eq!(m["id"], "s", "{m}");
    let error = match m["type"].as_str() {
        Some("next") => m["payload"]["errors"][0].clone(),
        _ => m["payload"][0].clone(),
    };
    assert_eq!(error["extensions"]["code"], "LIMIT_EXCEEDED", "{m}");
    let text = error["message"].as_str().unwrap();
    assert!(text.contains(&format!("changes(branch: \"main\", afterVersion: {delivered})")), "{text}");
    if m["type"] == "next" {
        assert_eq!(next(&mut slow).await, Seen::Msg(json!({ "id": "s", "type": "complete" })));
    }

    // Resumed on the same socket, as the message says.
    send(&mut slow, subscribe("r", CHANGES, json!({ "b": "main", "after": delivered }))).await;
    let got = versions(&mut slow, "r", (head - delivered) as usize).await;
    assert_consecutive(&got, delivered + 1, head);
    let v = commit(&app, "Next", "").await;
    assert_eq!(versions(&mut slow, "r", 1).await, [v]);
    app.stop().await;
}

#[tokio::test]
async fn after_version_needs_a_branch_and_at_most_its_head() {
    let app = Live::start().await;
    commit(&app, "One", "").await;
    let mut ws = connect(&app, None).await;
    for (vars, code, field) in [
        (json!({ "after": 0 }), "BAD_USER_INPUT", Some("afterVersion")),
        (json!({ "b": "main", "after": -1 }), "BAD_USER_INPUT", Some("afterVersion")),
        (json!({ "b": "main", "after": 2 }), "BAD_USER_INPUT", Some("afterVersion")),
        (json!({ "b": "nope", "after": 0 }), "NOT_FOUND", None),
    ] {
        send(&mut ws, subscribe("e", CHANGES, vars.clone())).await;
        let Seen::Msg(m) = next(&mut ws).await else { panic!("{vars}") };
        assert_eq!(m["type"], "error", "{vars}: {m}");
        assert_eq!(m["payload"][0]["extensions"]["code"], code, "{vars}: {m}");
        assert_eq!(m["payload"][0]["extensions"]["field"].as_str(), field, "{vars}: {m}");
    }
    // afterVersion 0 replays the whole history; the head replays nothing.
    send(&mut ws, subscribe("all", CHANGES, json!({ "b": "main", "after": 0 }))).await;
    assert_eq!(versions(&mut ws, "all", 1).await, [1]);
    send(&mut ws, subscribe("none", CHANGES, json!({ "b": "main", "after": 1 }))).await;
    wait_for(&app, "ontograph_subscriptions_active", 2.0).await;
    let v = commit(&app, "Two", "").await;
    let mut got = Vec::new();
    for _ in 0..2 {
        let Seen::Msg(m) = next(&mut ws).await else { panic!() };
        got.push((m["id"].as_str().unwrap().to_owned(), m["payload"]["data"]["changes"]["version"].as_i64().unwrap()));
    }
    got.sort();
    assert_eq!(got, [("all".to_owned(), v), ("none".to_owned(), v)]);
    app.stop().await;
}

#[tokio::test]
async fn unknown_methods_and_paths_add_no_metric_series() {
    let app = Live::start().await;
    for (method, path) in [("XYZ1", "/healthz"), ("XYZ2", "/healthz"), ("XYZ3", "/graphql"), ("GET", "/nope/123")] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let res = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
        assert!(res.status().is_client_error(), "{method} {path}: {}", res.status());
    }
    let m = app.metrics().await;
    for client_input in ["XYZ", "nope"] {
        assert!(!m.contains(client_input), "{client_input} in:\n{m}");
    }
    assert_eq!(sample(&m, r#"ontograph_http_requests_total{method="other",route="/healthz",status="405"}"#), Some(2.0));
    assert_eq!(sample(&m, r#"ontograph_http_requests_total{method="other",route="/graphql",status="405"}"#), Some(1.0));
    app.stop().await;
}
