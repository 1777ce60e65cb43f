//! Slow, silent and hostile peers against the real server over real TCP
//! (issue 14): a request head sent a byte at a time and a silent
//! connection are cut by the header-read timeout; connections past the cap
//! wait for a place (WebSockets hold one too); a WebSocket that never sends
//! `connection_init` is closed with 4408 (a thousand of them, then a normal
//! client subscribes); an idle one is closed unless it pings or has a
//! subscription; a flood of refused subscribes is answered in order;
//! unknown HTTP methods add no metric series.

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

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
const CHANGES: &str = "subscription($b: String) { changes(branch: $b) { version } }";
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
