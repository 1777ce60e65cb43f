//! Per-operation observability for the pipeline: the operation's type and
//! name go on the request's tracing span, its latency and error codes into
//! the metrics.

use std::time::Instant;

use async_graphql::parser::types::OperationType;
use async_graphql::Response;

use crate::metrics::Metrics;

/// The metrics label of an operation type; `invalid` when the request was
/// refused before its type was known.
pub fn label(op: Option<OperationType>) -> &'static str {
    match op {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "invalid",
    }
}

/// Puts the operation on the current span (the HTTP request's, whose
/// `operation` and `operation_name` fields are empty until now).
pub fn on_span(op: Option<OperationType>, name: Option<&str>) {
    let span = tracing::Span::current();
    span.record("operation", label(op));
    if let Some(name) = name {
        span.record("operation_name", name);
    }
}

/// One finished operation: its latency, and its errors by code (every
/// error has one by now: `error::fill_codes`).
pub fn finished(metrics: Option<&Metrics>, op: Option<OperationType>, started: Instant, resp: &Response) {
    let Some(m) = metrics else { return };
    m.graphql_request(label(op), started.elapsed());
    count_errors(m, resp);
    if !resp.errors.is_empty() {
        tracing::debug!(errors = resp.errors.len(), first = %resp.errors[0].message, "graphql errors");
    }
}

/// Counts a response's errors by code, when there are metrics.
pub fn count_errors_of(metrics: Option<&Metrics>, resp: &Response) {
    if let Some(m) = metrics {
        count_errors(m, resp);
    }
}

/// Counts a response's errors by code.
pub fn count_errors(metrics: &Metrics, resp: &Response) {
    for e in &resp.errors {
        if let Some(async_graphql::Value::String(code)) = e.extensions.as_ref().and_then(|x| x.get("code")) {
            metrics.graphql_error(code);
        }
    }
}
