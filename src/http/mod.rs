//! HTTP: the axum router (`/graphql`, `/graphql/ws`, `/graphiql`,
//! `/healthz`, `/readyz`, `/metrics`), request ids, tracing spans and
//! metrics per request, the accept loop (connection cap, header-read
//! timeout: `conn`), and server startup and graceful shutdown. It only
//! mounts the pipeline that `api` builds. Depends on `api`, `engine`,
//! `metrics` and `config`, and on `store` only to open the database at
//! start.

mod body;
mod conn;
mod graphiql;
mod graphql;
mod identity;
mod min_version;
mod negotiate;
mod server;
mod ws;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::http::{HeaderName, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use server::{serve, Server};

pub use identity::OriginPolicy;

use crate::api::Api;
use crate::auth::Auth;
use crate::engine::Engine;
use crate::error::Error;
use crate::metrics::Metrics;

/// How long `/readyz` waits for the database before answering 503.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
struct AppState {
    /// The request pipeline around the schema.
    api: Api,
    /// Credentials → principals; the audit log.
    auth: Auth,
    /// Allowed browser origins and host names.
    origins: Arc<OriginPolicy>,
    engine: Engine,
    metrics: Metrics,
    max_body_bytes: usize,
    /// Cancelled when shutdown starts.
    shutdown: CancellationToken,
    /// WebSocket connections, which outlive the HTTP server's own
    /// graceful shutdown (they are upgraded away from it).
    tracker: TaskTracker,
    /// Permits for open WebSocket connections (`--max-ws-connections`).
    ws_connections: Arc<tokio::sync::Semaphore>,
    /// Operations one WebSocket connection may run at once.
    max_ws_operations: usize,
    /// How long a WebSocket may stay silent or stall.
    ws_timeouts: ws::Timeouts,
}

/// The whole HTTP surface over one engine and its schema.
fn router(state: AppState) -> Router {
    let method_not_allowed = |allow: &'static str| {
        move |State(app): State<AppState>| async move {
            let err = Error::bad_request(format!("method not allowed; use {allow}"));
            let mut res = graphql::reject(&app, StatusCode::METHOD_NOT_ALLOWED, negotiate::MediaType::Json, err);
            res.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
            res
        }
    };
    let max_body = state.max_body_bytes;
    let routes = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post).fallback(method_not_allowed("GET, POST")))
        .route("/graphql/ws", get(ws::handler))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/", get(|| async { Redirect::temporary("/graphiql") }))
        .merge(graphiql::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), record));
    let cors = cors_layer(&state.origins.cors_origins);
    // Innermost first: panics caught inside the span; an unknown Host
    // refused before any route; CORS headers on every answer (errors
    // included) and preflights answered; the id copied to the response; a
    // request id before the span that logs it.
    routes
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(graphql::panic_response))
        .layer(middleware::from_fn_with_state(state.clone(), identity::check_host))
        .layer(tower::util::option_layer(cors))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                // Failures are logged where they happen, with their detail
                // (internal errors, panics); a 503 from /readyz is a warning.
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// CORS for `--cors-origins` (exact origins): preflights from them are
/// answered with the methods and headers GraphQL clients send; without
/// any, none (an `OPTIONS` is 405 like any other method).
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let list = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok());
    let request_id = HeaderName::from_static("x-request-id");
    let min_version = HeaderName::from_static(min_version::HEADER);
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                header::ACCEPT,
                request_id.clone(),
                min_version,
            ])
            .expose_headers([request_id])
            .max_age(Duration::from_secs(600)),
    )
}

/// One span per request (events inside it carry the request id).
fn request_span(req: &Request) -> tracing::Span {
    let id = req.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("");
    tracing::info_span!(
        "request",
        id,
        method = %req.method(),
        path = req.uri().path(),
        operation = tracing::field::Empty,
        operation_name = tracing::field::Empty,
        principal = tracing::field::Empty,
    )
}

/// Counts and times each request by its route pattern.
async fn record(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    // The route's pattern, never the raw path: every label value is a
    // series kept for good, so none may come from the client.
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().clone();
    let _in_flight = app.metrics.http_in_flight();
    let res = next.run(req).await;
    app.metrics.http_request(&route, method.as_str(), res.status().as_u16(), start.elapsed());
    res
}

/// Ready when the database answers within [`READY_TIMEOUT`].
async fn readyz(State(app): State<AppState>) -> Response {
    let err = match tokio::time::timeout(READY_TIMEOUT, app.engine.ready()).await {
        Ok(Ok(())) => match app.engine.replication_lag() {
            Some((since, bound)) if since > bound => {
                tracing::warn!(?since, "not ready: this replica has not caught up with the database");
                return (StatusCode::SERVICE_UNAVAILABLE, "replica behind the database").into_response();
            }
            _ => return (StatusCode::OK, "ready").into_response(),
        },
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {READY_TIMEOUT:?}"),
    };
    tracing::warn!(error = %err, "not ready: database unreachable");
    (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
}

async fn metrics(State(app): State<AppState>) -> Response {
    let body = app.metrics.render(&app.engine);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}
