//! `/graphql/ws`: GraphQL over WebSocket (graphql-transport-ws, and the
//! legacy subscriptions-transport-ws). Our own loop around async-graphql's
//! protocol engine instead of `GraphQLSubscription`, for a clean shutdown:
//! when the server stops, each `changes` stream delivers what is already
//! durable and completes, and once every operation of a connection has
//! completed (or the grace period is over) the socket is closed with 1001
//! "going away". Connections are tracked so shutdown waits for them.
//!
//! Slow and silent peers (docs/security.md): a socket that sends no
//! `connection_init` within `--ws-init-timeout-secs` is closed with 4408, one
//! with nothing to do for `--ws-idle-timeout-secs` with 1000, one that stops
//! reading is dropped after `--ws-send-timeout-secs`. Nothing queues without
//! bound: one outgoing message is in flight at a time (the protocol engine
//! and the subscription streams are pulled, not pushed, so a stalled writer
//! stops them), and refusals wait in a queue of [`REFUSALS_QUEUED`].

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
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
use tokio::time::Instant;

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

/// Refusals of operations over `--max-ws-operations` waiting to be sent.
/// When full, the connection's input is not read further until one is
/// sent: a client flooding `subscribe` is slowed, not buffered.
const REFUSALS_QUEUED: usize = 16;

/// How long a WebSocket may stay silent or stall (`--ws-*-timeout-secs`).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From the upgrade to `connection_init`; then 4408.
    pub init: Duration,
    /// With no client message and no operation running; then 1000.
    /// `None`: never.
    pub idle: Option<Duration>,
    /// For one message to be taken by the client's connection; then the
    /// socket is dropped (a close frame could not be sent either).
    pub send: Duration,
}

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

/// Operations started on a connection and not yet completed, and what
/// the init and idle timeouts are measured from.
struct Active {
    ids: Mutex<HashSet<String>>,
    count: watch::Sender<usize>,
    opened: Instant,
    /// `connection_init` arrived.
    initialised: AtomicBool,
    /// The client's last frame (pings included) or the last operation
    /// ending, whichever is later: idleness is counted from there.
    quiet_since: Mutex<Instant>,
}

/// What the init and idle timeouts ask for now.
enum Check {
    /// Look again then.
    At(Instant),
    /// No timeout applies (idle timeout off).
    Never,
    /// Close the socket with this frame.
    Close(CloseFrame),
}

impl Active {
    fn new() -> Self {
        let now = Instant::now();
        let (ids, count) = (Mutex::default(), watch::Sender::new(0));
        Active { ids, count, opened: now, initialised: AtomicBool::new(false), quiet_since: Mutex::new(now) }
    }

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
        if ids.is_empty() {
            self.heard();
        }
        self.count.send_replace(ids.len());
    }

    /// The client sent something (or the last operation ended).
    fn heard(&self) {
        *self.quiet_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn check(&self, t: &Timeouts) -> Check {
        let now = Instant::now();
        if !self.initialised.load(Ordering::Relaxed) {
            let at = self.opened + t.init;
            return match now >= at {
                // graphql-transport-ws: "Connection initialisation timeout".
                true => Check::Close(CloseFrame { code: 4408, reason: "Connection initialisation timeout".into() }),
                false => Check::At(at),
            };
        }
        let Some(idle) = t.idle else { return Check::Never };
        if self.len() > 0 {
            // Looked at again a period later; an operation ending restarts
            // the count (`update`).
            return Check::At(now + idle);
        }
        let at = *self.quiet_since.lock().unwrap_or_else(|e| e.into_inner()) + idle;
        match now >= at {
            true => Check::Close(CloseFrame {
                code: 1000,
                reason: format!("idle timeout: no message and no operation for {} s", idle.as_secs()).into(),
            }),
            false => Check::At(at),
        }
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
    let active = Arc::new(Active::new());
    let mut count_rx = active.count.subscribe();
    let (incoming, heard) = (active.clone(), active.clone());
    let max_operations = app.max_ws_operations;
    let timeouts = app.ws_timeouts;
    // Refusals of operations over the per-connection cap, answered beside
    // the protocol engine's own messages.
    let (refuse, refusals) = tokio::sync::mpsc::channel::<String>(REFUSALS_QUEUED);
    let shutdown = app.shutdown.clone();
    // Input ends when the client goes away, or on shutdown once nothing is
    // running (or after the grace period).
    let closing = async move {
        shutdown.cancelled().await;
        let _ = tokio::time::timeout(CLOSE_GRACE, count_rx.wait_for(|n| *n == 0)).await;
    };
    let input = stream
        .take_while(|m| futures::future::ready(m.is_ok()))
        // Any frame is activity, WebSocket pings and pongs included.
        .inspect(move |_| heard.heard())
        .filter_map(|m| {
            futures::future::ready(match m {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
                _ => None,
            })
        })
        .filter_map(move |data| {
            let refused = match operation(&data) {
                Some((true, id)) if incoming.len() >= max_operations => Some(refusal(protocol, &id, max_operations)),
                Some((start, id)) => {
                    incoming.update(start, id);
                    None
                }
                None => None,
            };
            let refuse = refuse.clone();
            async move {
                match refused {
                    // Waits while the queue is full (the loop below drains it).
                    Some(text) => {
                        let _ = refuse.send(text).await;
                        None
                    }
                    None => Some(data),
                }
            }
        })
        .take_until(Box::pin(closing));
    // Credentials come with `connection_init`: refused ones close the
    // connection with graphql-transport-ws's 4403 (async-graphql sends a
    // 1002, rewritten below).
    let refused = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let on_init = {
        let (app, refused, conn) = (app.clone(), refused.clone(), active.clone());
        move |payload: Value| {
            conn.initialised.store(true, Ordering::Relaxed);
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
        let wake = match active.check(&timeouts) {
            Check::Close(frame) => {
                tracing::debug!(code = frame.code, reason = %frame.reason, "closing a silent WebSocket");
                let _ = within(timeouts.send, sink.send(Message::Close(Some(frame)))).await;
                let _ = within(timeouts.send, sink.close()).await;
                return;
            }
            Check::At(at) => Some(at),
            Check::Never => None,
        };
        // The connection ends with the protocol engine's output; refusals
        // are interleaved while it runs; the timeouts are looked at again
        // when due (and after every message: cheap).
        let msg = tokio::select! {
            msg = output.next() => match msg {
                Some(msg) => msg,
                None => break,
            },
            Some(text) = refusals.recv() => async_graphql::http::WsMessage::Text(text),
            _ = sleep_until(wake) => continue,
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
        // A client that stops reading stalls this send once the socket's
        // buffers are full; it is dropped rather than waited for.
        if within(timeouts.send, sink.send(msg)).await.is_err() {
            tracing::debug!(timeout = ?timeouts.send, "dropping a WebSocket whose client stopped reading");
            return;
        }
    }
    if app.shutdown.is_cancelled() {
        let frame = CloseFrame { code: 1001, reason: "server shutting down".into() };
        let _ = within(timeouts.send, sink.send(Message::Close(Some(frame)))).await;
    }
    let _ = within(timeouts.send, sink.close()).await;
}

/// A send that fails or does not finish within `limit` is an error.
async fn within<E>(limit: Duration, send: impl std::future::Future<Output = Result<(), E>>) -> Result<(), ()> {
    match tokio::time::timeout(limit, send).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Sleeps until `at`; forever for `None`.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
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
