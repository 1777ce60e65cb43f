//! What a hostile web page can make a victim's browser send, sent exactly
//! so: a mutation by GET through persisted queries, a cross-site
//! WebSocket, CORS preflights, a rebound host name. And the WebSocket's
//! own credentials (`connection_init`, 4403 when refused).

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Digest;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::live::Live;

fn sha256(s: &str) -> String {
    format!("{:x}", sha2::Sha256::digest(s.as_bytes()))
}

/// `GET /graphql?…` with these parameters, JSON-encoded by the client.
async fn get(app: &Live, params: &[(&str, &str)]) -> (StatusCode, Value) {
    let res = app.client.get(app.url("/graphql")).query(params).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

async fn branch_exists(app: &Live, name: &str) -> bool {
    !app.ok("query($n: String!) { branch(name: $n) { name } }", json!({ "n": name })).await["branch"].is_null()
}

/// The reproduction from the issue: the first GET stores the document
/// under an unknown operation name, the second runs it by hash. Neither
/// writes; a mutation over GET is 405 whatever the persisted-query state.
#[tokio::test]
async fn no_mutation_ever_runs_from_a_get() {
    let app = Live::start().await;
    let query = r#"mutation M { createBranch(name: "csrf", from: "main") { name } }"#;
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(query) } }).to_string();
    let (_, first) = get(&app, &[("query", query), ("operationName", "Nope"), ("extensions", &ext)]).await;
    assert_eq!(first["errors"][0]["message"], r#"Unknown operation named "Nope""#, "{first:#}");
    let (status, second) = get(&app, &[("operationName", "M"), ("extensions", &ext)]).await;
    assert_eq!(status, StatusCode::OK, "{second:#}");
    assert_eq!(second["errors"][0]["message"], "PersistedQueryNotFound", "the refused document was not stored");
    // Registered by a legitimate POST, the hash still cannot run it by GET.
    let body =
        json!({ "query": query, "operationName": "M", "extensions": serde_json::from_str::<Value>(&ext).unwrap() });
    let (status, _) = app.post_raw(body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(branch_exists(&app, "csrf").await);
    app.ok(r#"mutation { deleteBranch(name: "csrf", expectedVersion: 0) }"#, json!({})).await;
    let (status, third) = get(&app, &[("operationName", "M"), ("extensions", &ext)]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{third:#}");
    let (status, fourth) = get(&app, &[("query", query), ("operationName", "M")]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{fourth:#}");
    assert!(!branch_exists(&app, "csrf").await, "a GET wrote");
    app.stop().await;
}

async fn ws(app: &Live, origin: Option<&str>) -> Result<Ws, tungstenite::Error> {
    let mut req = format!("ws://{}/graphql/ws", app.server.addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message as JSON, or the close code.
async fn next(ws: &mut Ws) -> Result<Value, u16> {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next()).await.expect("a message");
        match msg.expect("open").expect("no error") {
            Message::Text(t) => return Ok(serde_json::from_str(t.as_str()).unwrap()),
            Message::Close(frame) => return Err(frame.map_or(1005, |f| u16::from(f.code))),
            _ => continue,
        }
    }
}

/// A page on another origin cannot open the WebSocket; one on a listed
/// origin can, but without credentials it is anonymous and cannot write.
#[tokio::test]
async fn a_cross_site_websocket_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("b.db").display());
    let admin = crate::auth::token(&url, "admin", ontograph::auth::Role::Admin, &[]).await;
    let app = Live::start_at(&url, |a| a.auth.cors_origins = vec!["https://app.example.com".into()]).await;
    match ws(&app, Some("http://evil.example")).await {
        Err(tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| "a connection")),
    }
    // Same origin (GraphiQL) and programs (no Origin) are fine.
    assert!(ws(&app, Some(&format!("http://127.0.0.1:{}", app.server.addr.port()))).await.is_ok());
    let mut w = ws(&app, Some("https://app.example.com")).await.unwrap();
    w.send(Message::text(json!({ "type": "connection_init" }).to_string())).await.unwrap();
    assert_eq!(next(&mut w).await, Ok(json!({ "type": "connection_ack" })));
    let m = r#"mutation { setBranchProtection(name: "main", protected: true) { protected } }"#;
    w.send(Message::text(json!({ "id": "1", "type": "subscribe", "payload": { "query": m } }).to_string()))
        .await
        .unwrap();
    // Refused at its root field: graphql-transport-ws's `error` message.
    let answer = next(&mut w).await.unwrap();
    assert_eq!(answer["type"], "error", "{answer:#}");
    assert_eq!(answer["payload"][0]["extensions"]["code"], "FORBIDDEN", "{answer:#}");
    let (_, main) = app.gql_as(Some(&admin), r#"{ branch { protected } }"#, json!({})).await;
    assert_eq!(main["data"]["branch"]["protected"], false);
    app.stop().await;
}

/// Credentials over WebSocket travel in `connection_init`; refused ones
/// close the connection with 4403.
#[tokio::test]
async fn websocket_credentials_in_connection_init() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.db").display());
    let maintainer = crate::auth::token(&url, "maint", ontograph::auth::Role::Maintainer, &[]).await;
    let app = Live::start_at(&url, |a| a.auth.anonymous = ontograph::auth::Anonymous::None).await;
    let mut w = ws(&app, None).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {maintainer}") } });
    w.send(Message::text(init.to_string())).await.unwrap();
    assert_eq!(next(&mut w).await, Ok(json!({ "type": "connection_ack" })));
    let m = r#"mutation { setBranchProtection(name: "main", protected: true) { protected } }"#;
    w.send(Message::text(json!({ "id": "1", "type": "subscribe", "payload": { "query": m } }).to_string()))
        .await
        .unwrap();
    let answer = next(&mut w).await.unwrap();
    assert_eq!(answer["payload"]["data"]["setBranchProtection"]["protected"], true, "{answer:#}");
    for payload in [json!({}), json!({ "Authorization": "Bearer ogt_0_nope" }), json!({ "token": "nope" })] {
        let mut w = ws(&app, None).await.unwrap();
        w.send(Message::text(json!({ "type": "connection_init", "payload": payload }).to_string())).await.unwrap();
        assert_eq!(next(&mut w).await, Err(4403), "{payload}");
    }
    // A token on the upgrade itself (programs may send headers).
    let mut req = format!("ws://{}/graphql/ws", app.server.addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    req.headers_mut().insert("authorization", format!("Bearer {maintainer}").parse().unwrap());
    let (mut w, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    w.send(Message::text(json!({ "type": "connection_init" }).to_string())).await.unwrap();
    assert_eq!(next(&mut w).await, Ok(json!({ "type": "connection_ack" })));
    app.stop().await;
}

async fn preflight(app: &Live, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, authorization")
        .send()
        .await
        .unwrap()
}

/// A listed origin gets the CORS headers GraphQL clients need; another
/// gets none (its browser then refuses to send); without --cors-origins
/// an OPTIONS is 405 like any other method.
#[tokio::test]
async fn cors_preflights_answer_listed_origins_only() {
    let app = Live::start_with(|a| a.auth.cors_origins = vec!["https://app.example.com".into()]).await;
    let ok = preflight(&app, "https://app.example.com").await;
    assert!(ok.status().is_success(), "{}", ok.status());
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
    let allowed_headers = h["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    for needed in ["content-type", "authorization", "x-request-id"] {
        assert!(allowed_headers.contains(needed), "{allowed_headers}");
    }
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    let evil = preflight(&app, "https://evil.example").await;
    assert!(evil.headers().get("access-control-allow-origin").is_none(), "{:?}", evil.headers());
    let post = app
        .client
        .post(app.url("/graphql"))
        .header("origin", "https://app.example.com")
        .header("content-type", "application/json")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(post.headers()["access-control-allow-origin"], "https://app.example.com");
    app.stop().await;
    let plain = Live::start().await;
    assert_eq!(preflight(&plain, "https://app.example.com").await.status(), StatusCode::METHOD_NOT_ALLOWED);
    plain.stop().await;
}

/// DNS rebinding: `evil.example` resolving to 127.0.0.1 reaches the
/// socket, but the server answers only to its own names.
#[tokio::test]
async fn a_rebound_host_name_is_refused() {
    let app = Live::start().await;
    for path in ["/graphql?query=%7B__typename%7D", "/graphiql", "/healthz"] {
        let res = app.client.get(app.url(path)).header("host", "evil.example:8080").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let res = app.client.get(app.url("/healthz")).header("host", "localhost:1234").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.stop().await;
    let listed = Live::start_with(|a| a.auth.allowed_hosts = vec!["ontograph.internal".into()]).await;
    let res = listed.client.get(listed.url("/healthz")).header("host", "ontograph.internal").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = listed.client.get(listed.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "127.0.0.1 is not listed");
    listed.stop().await;
}
