//! `/graphql` over GET and POST. The body is read and parsed here, not by
//! an extractor, so that every malformed request gets a GraphQL-shaped
//! error with a contract code instead of a bare-text rejection.

use std::any::Any;

use async_graphql::http::parse_query_string;
use async_graphql::BatchRequest;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::AppState;
use crate::api::Author;

const AUTHOR_HEADER: &str = "x-ontograph-author";
const MAX_AUTHOR: usize = 200;

/// A GraphQL-shaped error response outside execution.
fn error_response(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "errors": [{ "message": message.into(), "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

fn author(headers: &HeaderMap) -> Option<Author> {
    let v = headers.get(AUTHOR_HEADER)?.to_str().ok()?.trim();
    (!v.is_empty()).then(|| Author(v.chars().take(MAX_AUTHOR).collect()))
}

async fn execute(app: &AppState, headers: &HeaderMap, batch: BatchRequest) -> Response {
    let batch = match author(headers) {
        Some(a) => batch.data(a),
        None => batch,
    };
    match batch {
        BatchRequest::Single(req) => {
            let run = app.responses.run(&app.engine, req, |r| app.schema.execute(r)).await;
            ([(header::CONTENT_TYPE, "application/json")], run.body).into_response()
        }
        batch => Json(app.schema.execute_batch(batch).await).into_response(),
    }
}

pub async fn get(State(app): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    match parse_query_string(query.as_deref().unwrap_or_default()) {
        Ok(req) => execute(&app, &headers, BatchRequest::Single(req)).await,
        Err(e) => {
            error_response(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", format!("invalid GraphQL GET request: {e}"))
        }
    }
}

pub async fn post(State(app): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error_response(StatusCode::PAYLOAD_TOO_LARGE, "LIMIT_EXCEEDED", "request body too large");
        }
        Err(rej) => return error_response(rej.status(), "BAD_USER_INPUT", rej.body_text()),
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let batch = if content_type.starts_with("application/graphql") && !content_type.contains("json") {
        match std::str::from_utf8(&body) {
            Ok(q) => BatchRequest::Single(async_graphql::Request::new(q)),
            Err(_) => return error_response(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", "body is not UTF-8"),
        }
    } else {
        match parse_json_request(&body) {
            Ok(b) => b,
            Err(msg) => return error_response(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", msg),
        }
    };
    execute(&app, &headers, batch).await
}

/// A JSON body must be a request object with a string `query` (or a
/// non-empty array of them). Checked before deserializing because
/// async-graphql's `Request` would default a missing query to "".
fn parse_json_request(body: &[u8]) -> Result<BatchRequest, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid GraphQL request body: {e}"))?;
    // With automatic persisted queries a client may send only the hash.
    let is_request = |v: &serde_json::Value| {
        v.get("query").is_some_and(|q| q.is_string())
            || (v.get("query").is_none()
                && v.get("extensions").and_then(|e| e.get("persistedQuery")).is_some_and(|p| p.is_object()))
    };
    let ok = match &value {
        serde_json::Value::Object(_) => is_request(&value),
        serde_json::Value::Array(items) => !items.is_empty() && items.iter().all(is_request),
        _ => false,
    };
    if !ok {
        return Err("a GraphQL request is a JSON object with a string \"query\" or a persisted query hash (or a non-empty array of them)".into());
    }
    serde_json::from_value(value).map_err(|e| format!("invalid GraphQL request body: {e}"))
}

/// Last line of defence: a panic anywhere becomes a generic GraphQL error
/// (and is logged), never a dropped connection.
pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "request handler panicked");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "internal server error")
}
