//! `/graphql` over GET and POST, per the GraphQL-over-HTTP spec: queries
//! by GET (a mutation gets 405), requests by POST as `application/json`
//! (other types get 415), answers as `application/graphql-response+json`
//! when accepted (else `application/json`; 406 when neither is). With
//! `application/graphql-response+json` a request rejected before
//! execution gets 400 and no `data`; with `application/json` it gets 200.
//! The body is read and parsed here, not by an extractor, so that every
//! malformed request gets a GraphQL-shaped error with a contract code.

use std::any::Any;

use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, Request};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::negotiate::{self, BodyKind, MediaType};
use super::AppState;
use crate::api::guard::{self, take_executed};
use crate::api::Author;

const AUTHOR_HEADER: &str = "x-ontograph-author";
const MAX_AUTHOR: usize = 200;

/// A JSON response with the given media type.
fn json_response(status: StatusCode, media: MediaType, body: Vec<u8>) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    res
}

/// A GraphQL-shaped error outside execution (counted in the metrics).
pub(super) fn reject(app: &AppState, status: StatusCode, media: MediaType, code: &str, message: &str) -> Response {
    app.metrics.graphql_error(code);
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    json_response(status, media, body.to_string().into_bytes())
}

fn author(headers: &HeaderMap) -> Option<Author> {
    let v = headers.get(AUTHOR_HEADER)?.to_str().ok()?.trim();
    (!v.is_empty()).then(|| Author(v.chars().take(MAX_AUTHOR).collect()))
}

/// One response body and whether its operation ran. A request rejected
/// before execution has no `data` entry.
fn render(mut resp: async_graphql::Response) -> (bool, Value) {
    let executed = take_executed(&mut resp);
    let mut v = serde_json::to_value(&resp).unwrap_or_else(|e| {
        tracing::error!(error = %e, "serializing a response");
        json!({ "errors": [{ "message": "internal server error", "extensions": { "code": "INTERNAL_SERVER_ERROR" } }] })
    });
    if !executed {
        if let Some(o) = v.as_object_mut() {
            o.remove("data");
        }
    }
    (executed, v)
}

async fn execute(app: &AppState, headers: &HeaderMap, media: MediaType, batch: BatchRequest) -> Response {
    let batch = match author(headers) {
        Some(a) => batch.data(a),
        None => batch,
    };
    let (status, body) = match app.schema.execute_batch(batch).await {
        BatchResponse::Single(resp) => {
            let (executed, body) = render(resp);
            let status = if executed || media == MediaType::Json { StatusCode::OK } else { StatusCode::BAD_REQUEST };
            (status, body)
        }
        BatchResponse::Batch(resps) => (StatusCode::OK, Value::Array(resps.into_iter().map(|r| render(r).1).collect())),
    };
    json_response(status, media, serde_json::to_vec(&body).unwrap_or_default())
}

/// Checks that need the operation's type before execution: a mutation is
/// refused over GET (405), a subscription over HTTP (400). The text is
/// prescanned first so the parser never sees a hostile nesting depth; a
/// document that does not parse is left to execution to report. Returns
/// the refusal, if any.
fn preflight(app: &AppState, media: MediaType, req: &mut Request, is_get: bool) -> Option<Response> {
    if req.query.is_empty() || guard::prescan(&req.query, &app.limits).is_err() {
        return None;
    }
    let name = req.operation_name.clone();
    let doc = req.parsed_query().ok()?;
    match guard::operation_type(doc, name.as_deref()) {
        Some(OperationType::Mutation) if is_get => {
            let mut res = reject(
                app,
                StatusCode::METHOD_NOT_ALLOWED,
                media,
                "BAD_USER_INPUT",
                "mutations are not allowed over GET; use POST",
            );
            res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            Some(res)
        }
        Some(OperationType::Subscription) => Some(reject(
            app,
            StatusCode::BAD_REQUEST,
            media,
            "BAD_USER_INPUT",
            "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql/ws",
        )),
        _ => None,
    }
}

/// The parameters of a GET. async-graphql's `parse_query_string` reads
/// `operation_name`; the spec's name is `operationName` (both accepted).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    #[serde(default)]
    query: String,
    #[serde(alias = "operation_name")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

fn parse_get(query_string: &str) -> Result<Request, String> {
    let p: GetParams = serde_urlencoded::from_str(query_string).map_err(|e| e.to_string())?;
    let object = |name: &str, text: Option<String>| -> Result<Option<Value>, String> {
        match text.map(|t| serde_json::from_str::<Value>(&t)).transpose() {
            Ok(Some(Value::Null)) | Ok(None) => Ok(None),
            Ok(Some(v @ Value::Object(_))) => Ok(Some(v)),
            Ok(Some(_)) => Err(format!("`{name}` must be a JSON object")),
            Err(e) => Err(format!("`{name}` is not JSON: {e}")),
        }
    };
    let mut req = Request::new(p.query);
    req.operation_name = p.operation_name.filter(|n| !n.is_empty());
    if let Some(v) = object("variables", p.variables)? {
        req.variables = async_graphql::Variables::from_json(v);
    }
    if let Some(v) = object("extensions", p.extensions)? {
        req.extensions = serde_json::from_value(v).map_err(|e| format!("`extensions`: {e}"))?;
    }
    Ok(req)
}

pub async fn get(State(app): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let Some(media) = negotiate::accept(&headers) else {
        return not_acceptable(&app);
    };
    let mut req = match parse_get(query.as_deref().unwrap_or_default()) {
        Ok(req) => req,
        Err(e) => {
            let msg = format!("invalid GraphQL GET request: {e}");
            return reject(&app, StatusCode::BAD_REQUEST, media, "BAD_USER_INPUT", &msg);
        }
    };
    if req.query.is_empty() && !req.extensions.contains_key("persistedQuery") {
        let msg = "a GraphQL GET request needs a `query` parameter";
        return reject(&app, StatusCode::BAD_REQUEST, media, "BAD_USER_INPUT", msg);
    }
    if let Some(res) = preflight(&app, media, &mut req, true) {
        return res;
    }
    execute(&app, &headers, media, BatchRequest::Single(req)).await
}

pub async fn post(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Some(media) = negotiate::accept(&headers) else {
        return not_acceptable(&app);
    };
    let kind = match negotiate::body_kind(&headers) {
        Ok(k) => k,
        Err(msg) => return reject(&app, StatusCode::UNSUPPORTED_MEDIA_TYPE, media, "BAD_USER_INPUT", &msg),
    };
    let body = match read_body(&app, body).await {
        Ok(b) => b,
        Err((status, code, msg)) => return reject(&app, status, media, code, &msg),
    };
    if body.is_empty() {
        return reject(&app, StatusCode::BAD_REQUEST, media, "BAD_USER_INPUT", "the request body is empty");
    }
    let batch = match kind {
        BodyKind::Document => match std::str::from_utf8(&body) {
            Ok(q) => BatchRequest::Single(Request::new(q)),
            Err(_) => return reject(&app, StatusCode::BAD_REQUEST, media, "BAD_USER_INPUT", "body is not UTF-8"),
        },
        BodyKind::Json => match parse_json_request(&body) {
            Ok(b) => b,
            Err(msg) => return reject(&app, StatusCode::BAD_REQUEST, media, "BAD_USER_INPUT", &msg),
        },
    };
    let batch = match batch {
        // A batch costs what one operation with as many root fields does.
        BatchRequest::Batch(items) if items.len() > app.limits.max_root_fields => {
            let msg = format!("a batch of {} operations; the limit is {}", items.len(), app.limits.max_root_fields);
            return reject(&app, StatusCode::BAD_REQUEST, media, "LIMIT_EXCEEDED", &msg);
        }
        BatchRequest::Single(mut req) => {
            if let Some(res) = preflight(&app, media, &mut req, false) {
                return res;
            }
            BatchRequest::Single(req)
        }
        b => b,
    };
    execute(&app, &headers, media, batch).await
}

fn not_acceptable(app: &AppState) -> Response {
    let msg = "acceptable response types: application/graphql-response+json, application/json";
    reject(app, StatusCode::NOT_ACCEPTABLE, MediaType::Json, "BAD_USER_INPUT", msg)
}

/// The body, within the size limit and the request timeout.
async fn read_body(app: &AppState, body: Body) -> Result<Bytes, (StatusCode, &'static str, String)> {
    let read = axum::body::to_bytes(body, app.max_body_bytes);
    let res = match app.request_timeout {
        Some(t) => tokio::time::timeout(t, read).await.map_err(|_| {
            (StatusCode::REQUEST_TIMEOUT, "LIMIT_EXCEEDED", "the request body did not arrive in time".to_owned())
        })?,
        None => read.await,
    };
    res.map_err(|e| {
        if is_length_limit(e.into_inner()) {
            let msg = format!("request body too large: the limit is {} bytes", app.max_body_bytes);
            (StatusCode::PAYLOAD_TOO_LARGE, "LIMIT_EXCEEDED", msg)
        } else {
            (StatusCode::BAD_REQUEST, "BAD_USER_INPUT", "the request body could not be read".to_owned())
        }
    })
}

/// Whether a body error is `http_body_util::Limited`'s, possibly wrapped
/// in axum's error type (as axum's own extractors unwrap it).
fn is_length_limit(mut err: axum::BoxError) -> bool {
    for _ in 0..3 {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        match err.downcast::<axum::Error>() {
            Ok(inner) => err = inner.into_inner(),
            Err(_) => return false,
        }
    }
    false
}

/// A JSON body must be a request object with a string `query` (or a
/// non-empty array of them); `operationName` a string, `variables` and
/// `extensions` objects, each also null. Checked before deserializing
/// because async-graphql's `Request` would default a missing query to "".
fn parse_json_request(body: &[u8]) -> Result<BatchRequest, String> {
    let mut value: Value = serde_json::from_slice(body).map_err(|e| format!("invalid GraphQL request body: {e}"))?;
    let check = |v: &mut Value| -> Result<(), String> {
        let Some(o) = v.as_object_mut() else {
            return Err("a GraphQL request is a JSON object".into());
        };
        // Null means absent (GraphQL over HTTP).
        o.retain(|k, v| !(v.is_null() && matches!(k.as_str(), "operationName" | "variables" | "extensions")));
        let persisted = o.get("extensions").and_then(|e| e.get("persistedQuery")).is_some_and(Value::is_object);
        match o.get("query") {
            Some(Value::String(_)) => {}
            None if persisted => {}
            None => return Err("a GraphQL request needs a string \"query\" (or a persisted query hash)".into()),
            Some(_) => return Err("\"query\" must be a string".into()),
        }
        if o.get("operationName").is_some_and(|v| !v.is_string()) {
            return Err("\"operationName\" must be a string or null".into());
        }
        for key in ["variables", "extensions"] {
            if o.get(key).is_some_and(|v| !v.is_object()) {
                return Err(format!("\"{key}\" must be an object or null"));
            }
        }
        Ok(())
    };
    match &mut value {
        Value::Array(items) if items.is_empty() => return Err("an empty batch".into()),
        Value::Array(items) => items.iter_mut().try_for_each(check)?,
        v => check(v)?,
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
    let body = json!({ "errors": [{ "message": "internal server error", "extensions": { "code": "INTERNAL_SERVER_ERROR" } }] });
    json_response(StatusCode::INTERNAL_SERVER_ERROR, MediaType::Json, body.to_string().into_bytes())
}
