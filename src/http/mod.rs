//! HTTP: the axum router (`/graphql`, `/graphql/ws`, `/graphiql`,
//! `/healthz`, `/readyz`) and server startup. It only mounts the schema
//! that `api` builds. Depends on `api` and `engine`.

mod graphiql;
mod graphql;
mod server;

use async_graphql_axum::GraphQLSubscription;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use server::{serve, Server};

use crate::api::{OntographSchema, ResponseCache};
use crate::engine::Engine;

#[derive(Clone)]
struct AppState {
    schema: OntographSchema,
    engine: Engine,
    responses: ResponseCache,
}

/// The whole HTTP surface over one engine and its schema.
pub fn router(schema: OntographSchema, engine: Engine, responses: ResponseCache, max_body_bytes: usize) -> Router {
    let state = AppState { schema: schema.clone(), engine, responses };
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route_service("/graphql/ws", GraphQLSubscription::new(schema))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/", get(|| async { Redirect::temporary("/graphiql") }))
        .merge(graphiql::router())
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(graphql::panic_response))
        .with_state(state)
}

/// Ready when the database answers.
async fn readyz(State(app): State<AppState>) -> Response {
    match app.engine.ready().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}
