//! Per-operation observability: the operation's type and name go on the
//! request's tracing span, and its latency and error codes into the
//! metrics. Registered outside `ErrorCodes`, so it sees final codes.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextRequest, NextSubscribe,
};
use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Response, ServerResult};
use futures::stream::BoxStream;
use futures::StreamExt;

use super::guard::operation_type;
use crate::metrics::Metrics;

pub struct Observe(pub Metrics);

impl ExtensionFactory for Observe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ObserveExtension { metrics: self.0.clone(), operation: Mutex::new(None) })
    }
}

struct ObserveExtension {
    metrics: Metrics,
    operation: Mutex<Option<OperationType>>,
}

fn label(op: Option<OperationType>) -> &'static str {
    match op {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "invalid",
    }
}

/// Counts a response's errors by code (every error has one: `ErrorCodes`
/// runs inside this extension and fills in any that is missing).
fn count_errors(metrics: &Metrics, resp: &Response) {
    for e in &resp.errors {
        if let Some(async_graphql::Value::String(code)) = e.extensions.as_ref().and_then(|x| x.get("code")) {
            metrics.graphql_error(code);
        }
    }
}

#[async_trait::async_trait]
impl Extension for ObserveExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let start = Instant::now();
        let resp = next.run(ctx).await;
        let op = *self.operation.lock().unwrap_or_else(|e| e.into_inner());
        self.metrics.graphql_request(label(op), start.elapsed());
        count_errors(&self.metrics, &resp);
        if !resp.errors.is_empty() {
            tracing::debug!(errors = resp.errors.len(), first = %resp.errors[0].message, "graphql errors");
        }
        resp
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let metrics = self.metrics.clone();
        next.run(ctx, stream).inspect(move |resp| count_errors(&metrics, resp)).boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let mut request = next.run(ctx, request).await?;
        let name = request.operation_name.clone();
        // Parsed (and limit-checked) by the guard already.
        let op = request.parsed_query().ok().and_then(|doc| operation_type(doc, name.as_deref()));
        *self.operation.lock().unwrap_or_else(|e| e.into_inner()) = op;
        if op == Some(OperationType::Subscription) {
            // Streams have no `request` hook, and no latency to measure.
            self.metrics.subscription_started();
        }
        let span = tracing::Span::current();
        span.record("operation", label(op));
        if let Some(name) = &name {
            span.record("operation_name", name.as_str());
        }
        Ok(request)
    }
}
