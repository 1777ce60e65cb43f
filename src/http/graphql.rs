//! `/graphql` over GET and POST, per the GraphQL-over-HTTP spec: queries
//! by GET (a mutation gets 405), requests by POST as `application/json`
//! (other types get 415), answers as `application/graphql-response+json`
//! when accepted (else `application/json`; 406 when neither is). With
//! `application/graphql-response+json` a request rejected before
//! execution gets 400 and no `data`; with `application/json` it gets 200.
//! The body is read and parsed here, not by an extractor, so that every
//! malformed request gets a GraphQL-shaped error with a contract code.

use std::any::Any;

use async_graphql::{BatchRequest, Request};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::body::BodyError;
use super::identity;
use super::negotiate::{self, BodyKind, MediaType};
use super::AppState;
use crate::api::parsing::LARGE_BODY;
use crate::api::{error_body, Executed, Outcome, Transport};
use crate::auth::Principal;
use crate::error::Error;

/// A JSON response with the given media type.
fn json_response(status: StatusCode, media: MediaType, body: impl Into<Body>) -> Response {
    let mut res = (status, body.into()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    res
}

/// A request refused by HTTP itself, before the pipeline: a
/// GraphQL-shaped error with its code (counted in the metrics).
pub(super) fn reject(app: &AppState, status: StatusCode, media: MediaType, err: Error) -> Response {
    app.metrics.graphql_error(err.code());
    json_response(status, media, error_body(&err))
}

/// The HTTP answer to what the pipeline did: a request refused before
/// execution is 400 with `application/graphql-response+json` and 200
/// with `application/json`; a mutation over GET is 405; a request refused
/// because the server is busy is 503 with `Retry-After`.
fn respond(media: MediaType, out: Executed) -> Response {
    let status = match out.outcome {
        Outcome::Ran => StatusCode::OK,
        Outcome::Rejected if media == MediaType::Json => StatusCode::OK,
        Outcome::Rejected | Outcome::BadRequest => StatusCode::BAD_REQUEST,
        Outcome::WrongMethod => StatusCode::METHOD_NOT_ALLOWED,
        Outcome::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut res = json_response(status, media, out.body);
    match out.outcome {
        Outcome::WrongMethod => {
            res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        Outcome::Overloaded => {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        _ => {}
    }
    res
}

/// The 401 of a request whose credentials failed, sent before anything of
/// the request is read or parsed (the connection is closed: an unread
/// body may still be on its way).
fn refuse_unauthenticated(app: &AppState, headers: &HeaderMap, media: MediaType, err: Error) -> Response {
    let mut res = identity::unauthenticated(app, headers, media, err);
    res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Runs a request or batch through the pipeline as `principal`.
async fn execute(
    app: &AppState,
    headers: &HeaderMap,
    principal: Principal,
    media: MediaType,
    batch: BatchRequest,
    t: Transport,
) -> Response {
    tracing::Span::current().record("principal", principal.name.as_str());
    if let Err(refused) = super::min_version::wait(app, headers, media).await {
        return refused;
    }
    let request_id = identity::request_id(headers);
    let with_identity = |req: Request| {
        let req = req.data(principal.clone());
        match &request_id {
            Some(id) => req.data(id.clone()),
            None => req,
        }
    };
    let out = match batch {
        BatchRequest::Single(req) => app.api.run(with_identity(req), t).await,
        BatchRequest::Batch(reqs) => app.api.run_batch(reqs.into_iter().map(with_identity).collect(), t).await,
    };
    respond(media, out)
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
    // Who asks comes first: nothing of an unauthenticated request is read.
    let principal = match identity::principal_of(&app.auth, &headers) {
        Ok(p) => p,
        Err(e) => return refuse_unauthenticated(&app, &headers, media, e),
    };
    let req = match parse_get(query.as_deref().unwrap_or_default()) {
        Ok(req) => req,
        Err(e) => {
            let err = Error::bad_request(format!("invalid GraphQL GET request: {e}"));
            return reject(&app, StatusCode::BAD_REQUEST, media, err);
        }
    };
    if req.query.is_empty() && !req.extensions.contains_key("persistedQuery") {
        let err = Error::bad_request("a GraphQL GET request needs a `query` parameter");
        return reject(&app, StatusCode::BAD_REQUEST, media, err);
    }
    execute(&app, &headers, principal, media, BatchRequest::Single(req), Transport::HttpGet).await
}

pub async fn post(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Some(media) = negotiate::accept(&headers) else {
        return not_acceptable(&app);
    };
    // Who asks comes first: nothing of an unauthenticated request is read.
    let principal = match identity::principal_of(&app.auth, &headers) {
        Ok(p) => p,
        Err(e) => return refuse_unauthenticated(&app, &headers, media, e),
    };
    let kind = match negotiate::body_kind(&headers) {
        Ok(k) => k,
        Err(msg) => return reject(&app, StatusCode::UNSUPPORTED_MEDIA_TYPE, media, Error::bad_request(msg)),
    };
    let body = match read_body(&app, body).await {
        Ok(b) => b,
        Err((status, err)) => {
            let mut res = reject(&app, status, media, err);
            // The rest of the body may still be on its way: do not reuse.
            res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return res;
        }
    };
    if body.is_empty() {
        return reject(&app, StatusCode::BAD_REQUEST, media, Error::bad_request("the request body is empty"));
    }
    let batch = match kind {
        BodyKind::Document => match std::str::from_utf8(&body) {
            Ok(q) => BatchRequest::Single(Request::new(q)),
            Err(_) => return reject(&app, StatusCode::BAD_REQUEST, media, Error::bad_request("body is not UTF-8")),
        },
        BodyKind::Json if body.len() >= LARGE_BODY => {
            // Large bodies are parsed on the API's parser threads.
            match app.api.parsers().run(move || parse_json_request(&body)).await {
                Ok(Ok(b)) => b,
                Ok(Err(msg)) => return reject(&app, StatusCode::BAD_REQUEST, media, Error::bad_request(msg)),
                Err(e) => return overloaded(&app, media, e),
            }
        }
        BodyKind::Json => match parse_json_request(&body) {
            Ok(b) => b,
            Err(msg) => return reject(&app, StatusCode::BAD_REQUEST, media, Error::bad_request(msg)),
        },
    };
    execute(&app, &headers, principal, media, batch, Transport::HttpPost).await
}

/// 503 with `Retry-After` for an `OVERLOADED` server.
pub(super) fn overloaded(app: &AppState, media: MediaType, err: Error) -> Response {
    let mut res = reject(app, StatusCode::SERVICE_UNAVAILABLE, media, err);
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

fn not_acceptable(app: &AppState) -> Response {
    let msg = "acceptable response types: application/graphql-response+json, application/json";
    reject(app, StatusCode::NOT_ACCEPTABLE, MediaType::Json, Error::bad_request(msg))
}

/// The body, within the size limit and the request timeout, or the
/// status and error refusing it.
async fn read_body(app: &AppState, body: Body) -> Result<Bytes, (StatusCode, Error)> {
    match super::body::read(body, app.max_body_bytes, app.api.limits().timeout).await {
        Ok(b) => Ok(b),
        Err(BodyError::TooLarge) => {
            let msg = format!("request body too large: the limit is {} bytes", app.max_body_bytes);
            Err((StatusCode::PAYLOAD_TOO_LARGE, Error::LimitExceeded(msg)))
        }
        Err(BodyError::Timeout) => {
            Err((StatusCode::REQUEST_TIMEOUT, Error::LimitExceeded("the request body did not arrive in time".into())))
        }
        Err(BodyError::Unreadable) => {
            Err((StatusCode::BAD_REQUEST, Error::bad_request("the request body could not be read")))
        }
    }
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
    let err = Error::internal(anyhow::anyhow!("request handler panicked: {detail}"));
    json_response(StatusCode::INTERNAL_SERVER_ERROR, MediaType::Json, error_body(&err))
}
