//! `changes` over graphql-transport-ws at `/graphql/ws`, with a real
//! WebSocket client against the real server: every commit exactly once
//! and in order, only the subscribed branch, and on shutdown each
//! subscription completes and the socket closes with 1001.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::CREATE_OT;
use crate::live::{sample, Live};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const CHANGES: &str = "subscription($b: String) { changes(branch: $b) { branch version changes { entityId change } } }";

/// A connection past `connection_init` / `connection_ack`.
async fn connect(app: &Live) -> Ws {
    let mut req = format!("ws://{}/graphql/ws", app.server.addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (mut ws, res) = tokio_tungstenite::connect_async(req).await.expect("WebSocket handshake");
    assert_eq!(res.headers()["sec-websocket-protocol"], "graphql-transport-ws");
    send(&mut ws, json!({ "type": "connection_init" })).await;
    assert_eq!(recv(&mut ws).await, Some(json!({ "type": "connection_ack" })));
    ws
}

async fn send(ws: &mut Ws, msg: Value) {
    ws.send(Message::text(msg.to_string())).await.unwrap();
}

/// The next protocol message, or `None` for a close frame (asserting its
/// code is 1001, going away).
async fn recv(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .expect("no WebSocket message within 60 s")
            .expect("the socket ended without a close frame")
            .expect("WebSocket error");
        match msg {
            Message::Text(t) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Message::Close(frame) => {
                let frame = frame.expect("a close frame with a code");
                assert_eq!(u16::from(frame.code), 1001, "{frame:?}");
                return None;
            }
            _ => continue,
        }
    }
}

/// Wait until the server has `n` subscriptions open (it has no ack for
/// `subscribe`, so commits made before this could be missed).
async fn wait_for_subscriptions(app: &Live, n: f64) {
    for _ in 0..6000 {
        if sample(&app.metrics().await, "ontograph_subscriptions_active") == Some(n) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("subscriptions did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_sees_each_of_100_commits_exactly_once_in_order() {
    let app = Live::start().await;
    app.ok("mutation { createBranch(name: \"other\") { name } }", json!({})).await;
    let mut ws = connect(&app).await;
    send(
        &mut ws,
        json!({ "id": "main", "type": "subscribe", "payload": { "query": CHANGES, "variables": { "b": "main" } } }),
    )
    .await;
    send(
        &mut ws,
        json!({ "id": "other", "type": "subscribe", "payload": { "query": CHANGES, "variables": { "b": "other" } } }),
    )
    .await;
    wait_for_subscriptions(&app, 2.0).await;
    let m = app.metrics().await;
    assert_eq!(sample(&m, r#"ontograph_graphql_requests_total{operation="subscription"}"#), Some(2.0));
    assert_eq!(sample(&m, "ontograph_websocket_connections"), Some(1.0));

    for i in 0..100 {
        app.ok(CREATE_OT, json!({ "input": { "apiName": format!("T{i}") } })).await;
    }
    for v in 1..=100 {
        let msg = recv(&mut ws).await.expect("a commit");
        let want = json!({
            "id": "main",
            "type": "next",
            "payload": { "data": { "changes": {
                "branch": "main", "version": v, "changes": [{ "entityId": format!("T{}", v - 1), "change": "ADDED" }]
            } } }
        });
        assert_eq!(msg, want);
    }

    // Shutdown: both subscriptions complete (nothing else arrives first:
    // no duplicate, nothing from `other`), then the socket closes.
    let stop = tokio::spawn(app.server.stop());
    let mut rest = Vec::new();
    while let Some(msg) = recv(&mut ws).await {
        rest.push(msg);
    }
    rest.sort_by_key(|m| m["id"].as_str().unwrap_or("").to_owned());
    assert_eq!(rest, vec![json!({ "id": "main", "type": "complete" }), json!({ "id": "other", "type": "complete" })]);
    stop.await.unwrap().unwrap();
}

#[tokio::test]
async fn invalid_subscriptions_get_errors_and_the_connection_survives() {
    let app = Live::start().await;
    let mut ws = connect(&app).await;
    let deep = format!("subscription {}{}", "{ a ".repeat(200), "}".repeat(200));
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": deep } })).await;
    // A rejected operation gets one `error` message (payload: the
    // errors) and no `complete`, as graphql-transport-ws specifies.
    let msg = recv(&mut ws).await.unwrap();
    assert_eq!((msg["id"].clone(), msg["type"].clone()), (json!("1"), json!("error")), "{msg}");
    assert_eq!(msg["payload"][0]["extensions"]["code"], "LIMIT_EXCEEDED", "{msg}");
    send(&mut ws, json!({ "id": "2", "type": "subscribe", "payload": { "query": "subscription { nope }" } })).await;
    let msg = recv(&mut ws).await.unwrap();
    assert_eq!((msg["id"].clone(), msg["type"].clone()), (json!("2"), json!("error")), "{msg}");
    assert_eq!(msg["payload"][0]["extensions"]["code"], "BAD_USER_INPUT", "{msg}");
    // A query over the socket still works.
    send(&mut ws, json!({ "id": "3", "type": "subscribe", "payload": { "query": "{ __typename }" } })).await;
    assert_eq!(recv(&mut ws).await.unwrap()["payload"]["data"]["__typename"], "Query");
    assert_eq!(recv(&mut ws).await.unwrap(), json!({ "id": "3", "type": "complete" }));
    app.stop().await;
}

/// Subscribing to a branch that does not exist is NOT_FOUND, not a stream
/// that stays silent; the commits a subscriber gets carry the same ids as
/// the history.
#[tokio::test]
async fn a_missing_branch_is_not_found_and_commits_carry_their_ids() {
    let app = Live::start().await;
    let mut ws = connect(&app).await;
    let q = "subscription { changes(branch: \"nope\") { version } }";
    send(&mut ws, json!({ "id": "1", "type": "subscribe", "payload": { "query": q } })).await;
    let msg = recv(&mut ws).await.unwrap();
    // graphql-transport-ws's `error` message: the operation ends there.
    assert_eq!((&msg["id"], &msg["type"]), (&json!("1"), &json!("error")), "{msg}");
    assert_eq!(msg["payload"][0]["extensions"]["code"], "NOT_FOUND", "{msg}");
    assert_eq!(msg["payload"][0]["path"], json!(["changes"]), "{msg}");
    let q = "subscription { changes(branch: \"main\") { id version changes { id entityId } } }";
    send(&mut ws, json!({ "id": "2", "type": "subscribe", "payload": { "query": q } })).await;
    wait_for_subscriptions(&app, 1.0).await;
    app.ok(CREATE_OT, json!({ "input": { "apiName": "Seen" } })).await;
    let got = loop {
        let msg = recv(&mut ws).await.unwrap();
        if msg["id"] == "2" && msg["type"] == "next" {
            break msg["payload"]["data"]["changes"].clone();
        }
    };
    let history = app
        .ok("{ branch { commits(first: 1) { edges { node { id version changes { id entityId } } } } } }", json!({}))
        .await;
    assert_eq!(got, history["branch"]["commits"]["edges"][0]["node"]);
    app.stop().await;
}

#[tokio::test]
async fn a_websocket_without_a_graphql_protocol_is_refused() {
    let app = Live::start().await;
    let req = format!("ws://{}/graphql/ws", app.server.addr).into_client_request().unwrap();
    let err = tokio_tungstenite::connect_async(req).await.expect_err("handshake without a subprotocol");
    assert!(err.to_string().contains("400"), "{err}");
    app.assert_alive().await;
    app.stop().await;
}

#[tokio::test]
async fn websocket_connections_and_operations_are_capped() {
    let app = Live::start_with(|a| {
        a.limits.max_ws_connections = 1;
        a.limits.max_ws_operations = 2;
    })
    .await;
    let mut ws = connect(&app).await;
    let sub = |id: &str| {
        let q = "subscription { changes { version } }";
        json!({ "id": id, "type": "subscribe", "payload": { "query": q } })
    };
    send(&mut ws, sub("a")).await;
    send(&mut ws, sub("b")).await;
    // A third operation at once is refused with the protocol's error message.
    send(&mut ws, sub("c")).await;
    let msg = recv(&mut ws).await.unwrap();
    assert_eq!((msg["id"].clone(), msg["type"].clone()), (json!("c"), json!("error")), "{msg}");
    assert_eq!(msg["payload"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
    // Once one completes, another may start.
    send(&mut ws, json!({ "id": "a", "type": "complete" })).await;
    send(&mut ws, sub("d")).await;
    wait_for_subscriptions(&app, 2.0).await;
    app.gql(CREATE_OT, json!({ "input": { "apiName": "Capped" } })).await;
    let mut got = vec![];
    while got.len() < 2 {
        let msg = recv(&mut ws).await.unwrap();
        if msg["type"] == "next" {
            got.push(msg);
        }
    }
    got.sort_by_key(|m| m["id"].as_str().unwrap().to_owned());
    let ids: Vec<&str> = got.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["b", "d"], "{got:?}");
    assert!(got.iter().all(|m| m["payload"]["data"]["changes"]["version"] == 1));

    // A second connection while the first is open: 503 before the upgrade.
    let req = format!("ws://{}/graphql/ws", app.server.addr).into_client_request().unwrap();
    let mut req = req;
    req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let err = tokio_tungstenite::connect_async(req).await.expect_err("over the connection cap");
    assert!(err.to_string().contains("503"), "{err}");
    // Closing the first frees its place.
    ws.close(None).await.unwrap();
    drop(ws);
    let mut reconnected = None;
    for _ in 0..500 {
        let mut req = format!("ws://{}/graphql/ws", app.server.addr).into_client_request().unwrap();
        req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
        if let Ok((ws, _)) = tokio_tungstenite::connect_async(req).await {
            reconnected = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(reconnected.is_some(), "the place of a closed connection is never freed");
    app.stop().await;
}
