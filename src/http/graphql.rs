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

use super::body::BodyError;
use super::negotiate::{self, BodyKind, MediaType};
use super::AppState;
use crate::api::guard::{self, take_executed};
use crate::api::{Author, OverHttp};

const AUTHOR_HEADER: &str = "x-ontograph-author";
const MAX_AUTHOR: usize = 200;

/// A JSON response with the given media type.
fn json_response(status: StatusCode, media: MediaType, body: impl Into<Body>) -> Response {
    let mut res = (status, body.into()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    res
}

/// A GraphQL-shaped error outside execution (counted in the metrics).
pub(super) fn reject(app: &AppState, status: StatusCode, media: MediaType, code: &str, message: &str) -> Response {
    app.metrics.graphql_error(code);
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    json_response(status, media, body.to_string())
}

fn author(headers: &HeaderMap) -> Option<Author> {
    let v = headers.get(AUTHOR_HEADER)?.to_str().ok()?.trim();
    (!v.is_empty()).then(|| Author(v.chars().take(MAX_AUTHOR).collect()))
}

/// One response as sent: whole when its operation ran; without the `data`
/// entry when the request was rejected before execution. Serialized
/// straight to bytes (no intermediate JSON tree: answers can be large).
struct Out {
    resp: async_graphql::Response,
    executed: bool,
}

impl Out {
    fn new(mut resp: async_graphql::Response) -> Out {
        let executed = take_executed(&mut resp);
        Out { resp, executed }
    }
}

impl serde::Serialize for Out {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.executed {
            return self.resp.serialize(s);
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("errors", &self.resp.errors)?;
        if !self.resp.extensions.is_empty() {
            m.serialize_entry("extensions", &self.resp.extensions)?;
        }
        m.end()
    }
}

/// Runs a request and renders the answer. A single request whose document
/// passed the up-front checks (`cacheable`) goes through the response
/// cache, which parses and walks the text itself; any other is executed
/// directly, so a hostile document meets the guard first.
async fn execute(
    app: &AppState,
    headers: &HeaderMap,
    media: MediaType,
    batch: BatchRequest,
    cacheable: bool,
) -> Response {
    let batch = match author(headers) {
        Some(a) => batch.data(a),
        None => batch,
    }
    .data(OverHttp);
    let status = |executed: bool| {
        if executed || media == MediaType::Json {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        }
    };
    let (status, body) = match batch {
        BatchRequest::Single(req) if cacheable => {
            let start = std::time::Instant::now();
            let run = app.responses.run(&app.engine, req, |r| app.schema.execute(r)).await;
            match run.response {
                // A hit: a stored response of an executed query, which the
                // schema (and so its metrics extension) never saw.
                None => {
                    app.metrics.graphql_request("query", start.elapsed());
                    (StatusCode::OK, Ok(run.body))
                }
                Some(resp) => match Out::new(resp) {
                    Out { executed: true, .. } => (StatusCode::OK, Ok(run.body)),
                    // Rejected before execution: rendered again without `data`.
                    out => (status(false), serde_json::to_vec(&out).map(Bytes::from)),
                },
            }
        }
        BatchRequest::Single(req) => {
            let out = Out::new(app.schema.execute(req).await);
            (status(out.executed), serde_json::to_vec(&out).map(Bytes::from))
        }
        batch => match app.schema.execute_batch(batch).await {
            BatchResponse::Single(resp) => {
                let out = Out::new(resp);
                (status(out.executed), serde_json::to_vec(&out).map(Bytes::from))
            }
            BatchResponse::Batch(resps) => {
                let outs: Vec<Out> = resps.into_iter().map(Out::new).collect();
                (StatusCode::OK, serde_json::to_vec(&outs).map(Bytes::from))
            }
        },
    };
    match body {
        Ok(body) => json_response(status, media, body),
        Err(e) => {
            tracing::error!(error = %e, "serializing a response");
            reject(app, StatusCode::INTERNAL_SERVER_ERROR, media, "INTERNAL_SERVER_ERROR", "internal server error")
        }
    }
}

/// What the checks before execution decided.
enum Preflight {
    Refuse(Response),
    /// Execute; `checked` when the document passed every limit that can be
    /// checked up front (text, parse, aliases, root fields, expanded size).
    Run {
        checked: bool,
    },
}

/// Checks before execution. The text is prescanned first (a hostile one
/// is never parsed here). A GET is parsed to refuse a mutation (405). A
/// POST is parsed only when it has fragment spreads, to check its
/// expanded size before the response cache walks it (that walk expands
/// spreads); without any, the walk is linear in the prescanned text, and
/// a response-cache hit then costs no parse at all. A document that fails
/// a check is left to execution (the guard) to report.
fn preflight(app: &AppState, media: MediaType, req: &mut Request, is_get: bool) -> Preflight {
    if req.query.is_empty() || guard::prescan(&req.query, &app.limits).is_err() {
        return Preflight::Run { checked: false };
    }
    if !is_get && !req.query.contains("...") {
        return Preflight::Run { checked: true };
    }
    let name = req.operation_name.clone();
    let Ok(doc) = req.parsed_query() else { return Preflight::Run { checked: false } };
    let checked = guard::check_document(doc, &app.limits).is_ok();
    if is_get && guard::operation_type(doc, name.as_deref()) == Some(OperationType::Mutation) {
        let msg = "mutations are not allowed over GET; use POST";
        let mut res = reject(app, StatusCode::METHOD_NOT_ALLOWED, media, "BAD_USER_INPUT", msg);
        res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Preflight::Refuse(res);
    }
    Preflight::Run { checked }
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
    match preflight(&app, media, &mut req, true) {
        Preflight::Refuse(res) => res,
        Preflight::Run { checked } => execute(&app, &headers, media, BatchRequest::Single(req), checked).await,
    }
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
        Err((status, code, msg)) => {
            let mut res = reject(&app, status, media, code, &msg);
            // The rest of the body may still be on its way: do not reuse.
            res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return res;
        }
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
    match batch {
        // A batch costs what one operation with as many root fields does.
        BatchRequest::Batch(items) if items.len() > app.limits.max_root_fields => {
            let msg = format!("a batch of {} operations; the limit is {}", items.len(), app.limits.max_root_fields);
            reject(&app, StatusCode::BAD_REQUEST, media, "LIMIT_EXCEEDED", &msg)
        }
        BatchRequest::Single(mut req) => match preflight(&app, media, &mut req, false) {
            Preflight::Refuse(res) => res,
            Preflight::Run { checked } => execute(&app, &headers, media, BatchRequest::Single(req), checked).await,
        },
        b => execute(&app, &headers, media, b, false).await,
    }
}

fn not_acceptable(app: &AppState) -> Response {
    let msg = "acceptable response types: application/graphql-response+json, application/json";
    reject(app, StatusCode::NOT_ACCEPTABLE, MediaType::Json, "BAD_USER_INPUT", msg)
}

/// The body, within the size limit and the request timeout, or the
/// status, code and message refusing it.
async fn read_body(app: &AppState, body: Body) -> Result<Bytes, (StatusCode, &'static str, String)> {
    match super::body::read(body, app.max_body_bytes, app.limits.timeout).await {
        Ok(b) => Ok(b),
        Err(BodyError::TooLarge) => {
            let msg = format!("request body too large: the limit is {} bytes", app.max_body_bytes);
            Err((StatusCode::PAYLOAD_TOO_LARGE, "LIMIT_EXCEEDED", msg))
        }
        Err(BodyError::Timeout) => {
            Err((StatusCode::REQUEST_TIMEOUT, "LIMIT_EXCEEDED", "the request body did not arrive in time".to_owned()))
        }
        Err(BodyError::Unreadable) => {
            Err((StatusCode::BAD_REQUEST, "BAD_USER_INPUT", "the request body could not be read".to_owned()))
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
    tracing::error!(panic = detail, "request handler panicked");
    let body = json!({ "errors": [{ "message": "internal server error", "extensions": { "code": "INTERNAL_SERVER_ERROR" } }] });
    json_response(StatusCode::INTERNAL_SERVER_ERROR, MediaType::Json, body.to_string().into_bytes())
}
