//! `/graphql/ws`: GraphQL over WebSocket (graphql-transport-ws, and the
//! legacy subscriptions-transport-ws). Our own loop around async-graphql's
//! protocol engine instead of `GraphQLSubscription`, for a clean shutdown:
//! when the server stops, each `changes` stream delivers what is already
//! durable and completes, and once every operation of a connection has
//! completed (or the grace period is over) the socket is closed with 1001
//! "going away". Connections are tracked so shutdown waits for them.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::http::{WebSocket as Protocol, WebSocketProtocols, ALL_WEBSOCKET_PROTOCOLS};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::watch;

use super::conn::ConnSlot;
use super::negotiate::MediaType;
use super::{identity, AppState};
use crate::api::RequestId;
use crate::api::{error_body, request_error};
use crate::auth::Principal;
use crate::error::Error;

/// How long a connection may take to complete its operations once the
/// server is shutting down.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

pub async fn handler(
    State(app): State<AppState>,
    slot: Option<Extension<ConnSlot>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // A browser page may open a WebSocket to any origin (no CORS): only
    // this server's own pages and the listed origins may.
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !app.origins.ws_origin_allowed(origin, host) {
        let err = Error::forbidden("WebSocket connections from this origin are not allowed (--cors-origins)");
        let mut entry = app.auth.audit().entry(&Principal::anonymous(), "websocket", origin, "denied: FORBIDDEN", None);
        entry.request_id = identity::request_id(&headers).map(|r| r.0);
        app.auth.audit().denied(entry);
        app.metrics.graphql_error(err.code());
        let json = [(header::CONTENT_TYPE, "application/json")];
        return (StatusCode::FORBIDDEN, json, error_body(&err)).into_response();
    }
    // Programs may authenticate the upgrade itself; browsers cannot set
    // headers on it and send their token in `connection_init` instead.
    let upgraded_as = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(_) => match identity::principal_of(&app.auth, &headers) {
            Ok(p) => Some(p),
            Err(e) => return identity::unauthenticated(&app, &headers, MediaType::Json, e),
        },
    };
    let request_id = identity::request_id(&headers);
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').find_map(|p| WebSocketProtocols::from_str(p.trim()).ok()));
    let Some(protocol) = protocol else {
        let msg = "Sec-WebSocket-Protocol must be graphql-transport-ws (or graphql-ws)";
        return (StatusCode::BAD_REQUEST, msg).into_response();
    };
    let Ok(permit) = app.ws_connections.clone().try_acquire_owned() else {
        let err = Error::LimitExceeded("too many WebSocket connections; try again later".into());
        app.metrics.graphql_error(err.code());
        let json = [(header::CONTENT_TYPE, "application/json")];
        return (StatusCode::SERVICE_UNAVAILABLE, json, error_body(&err)).into_response();
    };
    let tracker = app.tracker.clone();
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).max_message_size(app.max_body_bytes).on_upgrade(move |socket| {
        tracker.track_future(async move {
            serve(socket, app, protocol, upgraded_as, request_id).await;
            // The socket's place under --max-connections, held as long as
            // the socket (the HTTP connection that carried the upgrade is over).
            drop(slot);
            drop(permit);
        })
    })
}

/// The operation id a protocol message starts or ends, if any.
fn operation(msg: &[u8]) -> Option<(bool, String)> {
    let env = Envelope::of(msg)?;
    let id = env.id?.into_owned();
    match env.ty?.as_ref() {
        "subscribe" | "start" => Some((true, id)),
        "complete" | "stop" | "error" => Some((false, id)),
        _ => None,
    }
}

/// A protocol message's `id` and `type`, read without building its
/// payload (queries, variables, results) as a JSON tree: every message in
/// each direction is looked at, and only these two fields matter.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    id: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    ty: Option<std::borrow::Cow<'a, str>>,
}

impl<'a> Envelope<'a> {
    fn of(msg: &'a [u8]) -> Option<Self> {
        serde_json::from_slice(msg).ok()
    }
}

/// Operations started on a connection and not yet completed.
#[derive(Default)]
struct Active {
    ids: Mutex<HashSet<String>>,
    count: watch::Sender<usize>,
}

impl Active {
    fn len(&self) -> usize {
        self.ids.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn update(&self, start: bool, id: String) {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        if start {
            ids.insert(id);
        } else {
            ids.remove(&id);
        }
        self.count.send_replace(ids.len());
    }
}

/// The principal of a connection: from the `connection_init` payload's
/// `Authorization` (`Bearer …`, also under `headers`) or `token`, else the
/// upgrade's, else anonymous (or refused: `--anonymous none`).
fn init_principal(app: &AppState, payload: &Value, upgraded_as: Option<Principal>) -> Result<Principal, Error> {
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let sent = field(payload, "Authorization").or_else(|| field(payload, "authorization")).or_else(|| {
        payload.get("headers").and_then(|h| field(h, "Authorization").or_else(|| field(h, "authorization")))
    });
    let token = match (sent, field(payload, "token")) {
        (Some(header), _) => Some(identity::bearer(&header)?.to_owned()),
        (None, Some(token)) => Some(token),
        (None, None) => None,
    };
    match (token, upgraded_as) {
        (None, Some(p)) => Ok(p),
        (token, _) => app.auth.authenticate(token.as_deref(), None),
    }
}

async fn serve(
    socket: WebSocket,
    app: AppState,
    protocol: WebSocketProtocols,
    upgraded_as: Option<Principal>,
    request_id: Option<RequestId>,
) {
    let _open = app.metrics.websocket();
    let (mut sink, stream) = socket.split();
    let active = Arc::new(Active::default());
    let mut count_rx = active.count.subscribe();
    let incoming = active.clone();
    let max_operations = app.max_ws_operations;
    // Refusals of operations over the per-connection cap, answered beside
    // the protocol engine's own messages.
    let (refuse, refusals) = tokio::sync::mpsc::unbounded_channel::<String>();
    let shutdown = app.shutdown.clone();
    // Input ends when the client goes away, or on shutdown once nothing is
    // running (or after the grace period).
    let closing = async move {
        shutdown.cancelled().await;
        let _ = tokio::time::timeout(CLOSE_GRACE, count_rx.wait_for(|n| *n == 0)).await;
    };
    let input = stream
        .take_while(|m| futures::future::ready(m.is_ok()))
        .filter_map(|m| {
            futures::future::ready(match m {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
                _ => None,
            })
        })
        .filter_map(move |data| {
            let pass = match operation(&data) {
                Some((true, id)) if incoming.len() >= max_operations => {
                    let _ = refuse.send(refusal(protocol, &id, max_operations));
                    false
                }
                Some((start, id)) => {
                    incoming.update(start, id);
                    true
                }
                None => true,
            };
            futures::future::ready(pass.then_some(data))
        })
        .take_until(Box::pin(closing));
    // Credentials come with `connection_init`: refused ones close the
    // connection with graphql-transport-ws's 4403 (async-graphql sends a
    // 1002, rewritten below).
    let refused = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let on_init = {
        let (app, refused) = (app.clone(), refused.clone());
        move |payload: Value| {
            let result = init_principal(&app, &payload, upgraded_as.clone());
            let request_id = request_id.clone();
            let (app, refused) = (app.clone(), refused.clone());
            async move {
                match result {
                    Ok(principal) => {
                        let mut data = async_graphql::Data::default();
                        data.insert(principal);
                        if let Some(id) = request_id {
                            data.insert(id);
                        }
                        Ok(data)
                    }
                    Err(e) => {
                        refused.store(true, std::sync::atomic::Ordering::Relaxed);
                        let audit = app.auth.audit();
                        let mut entry =
                            audit.entry(&Principal::anonymous(), "authenticate", None, "denied: UNAUTHENTICATED", None);
                        entry.request_id = request_id.map(|r| r.0);
                        entry.detail = Some(e.to_string());
                        audit.denied(entry);
                        app.metrics.graphql_error(e.code());
                        Err(async_graphql::Error::new(e.to_string()))
                    }
                }
            }
        }
    };
    let output = Protocol::new(app.api.clone(), input, protocol).on_connection_init(on_init);
    futures::pin_mut!(output);
    let mut refusals = refusals;
    let mut rejections = Rejections::default();
    loop {
        // The connection ends with the protocol engine's output; refusals
        // are interleaved while it runs.
        let msg = tokio::select! {
            msg = output.next() => match msg {
                Some(msg) => msg,
                None => break,
            },
            Some(text) = refusals.recv() => async_graphql::http::WsMessage::Text(text),
        };
        let msg = match msg {
            async_graphql::http::WsMessage::Text(text) => {
                // One look at `id` and `type` serves both the operation
                // count and the graphql-transport-ws rewrite.
                let (ended, rewrite) = match Envelope::of(text.as_bytes()) {
                    Some(Envelope { id: Some(id), ty: Some(ty) }) => {
                        let ended = matches!(ty.as_ref(), "complete" | "stop" | "error").then(|| id.to_string());
                        let rewrite = match protocol {
                            WebSocketProtocols::GraphQLWS => rejections.rewrite(&id, &ty, &text),
                            _ => Rewrite::Keep,
                        };
                        (ended, rewrite)
                    }
                    _ => (None, Rewrite::Keep),
                };
                if let Some(id) = ended {
                    active.update(false, id);
                }
                match rewrite {
                    Rewrite::Keep => Message::Text(text.into()),
                    Rewrite::Replace(text) => Message::Text(text.into()),
                    Rewrite::Drop => continue,
                }
            }
            async_graphql::http::WsMessage::Close(1002, _) if refused.load(std::sync::atomic::Ordering::Relaxed) => {
                Message::Close(Some(CloseFrame { code: 4403, reason: "Forbidden".into() }))
            }
            async_graphql::http::WsMessage::Close(code, reason) => {
                Message::Close(Some(CloseFrame { code, reason: reason.into() }))
            }
        };
        if sink.send(msg).await.is_err() {
            return;
        }
    }
    if app.shutdown.is_cancelled() {
        let frame = CloseFrame { code: 1001, reason: "server shutting down".into() };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
    let _ = sink.close().await;
}

/// graphql-transport-ws reports an operation rejected before execution
/// (a parse, validation, limit or permission error) as one `error` message
/// whose payload is the list of errors, and sends no `complete` after it.
/// async-graphql sends a `next` carrying the errors (and null `data`),
/// then `complete`: rewrite the first, drop the second. An operation's
/// later results with errors stay `next` (they are results).
#[derive(Default)]
struct Rejections {
    /// Operations that delivered a result (their errors are results).
    started: HashSet<String>,
    /// Operations answered with `error`, whose `complete` is dropped.
    rejected: HashSet<String>,
}

impl Rejections {
    /// What to do with the outgoing message `text` of operation `id`.
    fn rewrite(&mut self, id: &str, ty: &str, text: &str) -> Rewrite {
        match ty {
            "next" if !self.started.contains(id) => {
                // The first result of an operation: the one message whose
                // payload is read, to tell a rejection from a result.
                let Ok(v) = serde_json::from_str::<Value>(text) else { return Rewrite::Keep };
                let payload = &v["payload"];
                // No data at all: refused before execution, or failed at
                // its root field (a subscription whose stream could not
                // start, a mutation refused): the protocol's `error`.
                let no_data = payload.get("data").is_none_or(Value::is_null);
                if no_data && payload.get("errors").is_some_and(Value::is_array) {
                    self.rejected.insert(id.to_owned());
                    let msg = serde_json::json!({ "id": id, "type": "error", "payload": payload["errors"] });
                    return Rewrite::Replace(msg.to_string());
                }
                self.started.insert(id.to_owned());
                Rewrite::Keep
            }
            "complete" => {
                self.started.remove(id);
                match self.rejected.remove(id) {
                    true => Rewrite::Drop,
                    false => Rewrite::Keep,
                }
            }
            _ => Rewrite::Keep,
        }
    }
}

/// An outgoing message as sent, replaced, or not sent.
enum Rewrite {
    Keep,
    Replace(String),
    Drop,
}

/// The `error` message refusing operation `id` over the per-connection cap.
fn refusal(protocol: WebSocketProtocols, id: &str, max: usize) -> String {
    let err = Error::LimitExceeded(format!("at most {max} operations may run at once on one connection"));
    let error = serde_json::to_value(request_error(&err)).unwrap_or_default();
    let payload = match protocol {
        WebSocketProtocols::GraphQLWS => serde_json::json!([error]),
        _ => error,
    };
    serde_json::json!({ "id": id, "type": "error", "payload": payload }).to_string()
}
