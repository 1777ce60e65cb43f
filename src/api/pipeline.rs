//! The one way into the schema, for HTTP, WebSocket and the warm plan
//! (docs/ARCHITECTURE.md, "One request's path"): persisted-query
//! resolution → prescan of the text → whole-response cache → one parse →
//! document limits → operation checks for the transport → execution
//! (validation, resolvers; a timeout for queries) → codes on every error →
//! metrics. It says whether the operation ran, which decides the HTTP
//! status; `http/` only reads bodies, negotiates and maps that outcome.
//!
//! The schema itself carries no extension: with none, async-graphql
//! resolves each field directly instead of through an extension chain.

use std::any::TypeId;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response, ServerError};
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};

use super::documents::Documents;
use super::error::{fill_codes, request_error};
use super::guard::{check_document, prescan, selected_operation, selects_introspection, QueryLimits};
use super::input_bounds::check_inputs;
use super::json::{self, ResponseBudget, Splice};
use super::parsing::{Parsers, LARGE_DOCUMENT};
use super::persisted::{PersistedQueries, Registration};
use super::reads::reads;
use super::responses::{Pending, ResponseCache};
use super::versions::Versions;
use super::weight::{reads_large, selects_heavy_fields};
use super::{observe, ApiOptions, OntographSchema, RequestId};
use crate::auth::Principal;
use crate::engine::{Admission, Engine};
use crate::error::Error;
use crate::metrics::Metrics;

/// How a request arrived: decides which operations it may run and
/// whether the whole-response cache serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    HttpGet,
    HttpPost,
    WebSocket,
    /// The server's own requests (the warm plan).
    Internal,
}

impl Transport {
    fn is_http(self) -> bool {
        matches!(self, Transport::HttpGet | Transport::HttpPost)
    }
}

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The operation was executed (its response may still carry errors).
    Ran,
    /// Refused before execution: parse, validation or limit errors; the
    /// body has no `data` entry.
    Rejected,
    /// An operation this transport may not run: a mutation over GET.
    WrongMethod,
    /// The request as a whole is unacceptable (a batch over the limit).
    BadRequest,
    /// Refused before execution because the server is busy (the heavy
    /// lane or the parser threads are full): try again shortly.
    Overloaded,
}

/// A response ready to send.
pub struct Executed {
    pub body: Bytes,
    pub outcome: Outcome,
    /// Replayed from the whole-response cache.
    pub replayed: bool,
}

/// The request pipeline and everything it holds; cheap to clone.
#[derive(Clone)]
pub struct Api(Arc<Inner>);

struct Inner {
    schema: OntographSchema,
    parsers: Parsers,
    documents: Documents,
    engine: Engine,
    responses: ResponseCache,
    persisted: PersistedQueries,
    limits: QueryLimits,
    metrics: Option<Metrics>,
}

/// A request that passed every check before execution.
struct Checked {
    req: Request,
    op: OperationType,
    /// Set when the response may be stored in the response cache.
    pending: Option<Pending>,
    /// A heavy operation's place in the heavy lane, held until its
    /// response is written.
    admission: Option<Admission>,
}

/// Why a request stops before execution.
enum Early {
    /// Answered from the response cache.
    Cached(Bytes),
    /// Refused: the response, the outcome, and the operation type when known.
    Refused(Response, Outcome, Option<OperationType>),
}

fn refuse(err: Error, outcome: Outcome) -> Early {
    let outcome = if err.code() == Error::OVERLOADED { Outcome::Overloaded } else { outcome };
    Early::Refused(Response::from_errors(vec![request_error(&err)]), outcome, None)
}

fn reject(err: ServerError) -> Early {
    Early::Refused(Response::from_errors(vec![err]), Outcome::Rejected, None)
}

/// Responses estimated larger than this are written on the blocking pool.
const OFF_RUNTIME_BYTES: usize = 256 * 1024;

/// Whether async-graphql executed the operation: a request it refuses
/// (validation, variable coercion) is answered with errors only — `data`
/// null and no error with a path — while an executed one has `data`, or
/// a field error with its path that nulled it.
fn executed(resp: &Response) -> bool {
    !matches!(resp.data, async_graphql::Value::Null) || resp.errors.iter().any(|e| !e.path.is_empty())
}

impl Api {
    pub fn new(engine: Engine, opts: ApiOptions) -> Api {
        let schema = super::build_schema(engine.clone(), &opts);
        Api(Arc::new(Inner {
            schema,
            parsers: Parsers::new(opts.parse_threads),
            documents: Documents::new(opts.document_cache_bytes),
            engine,
            responses: opts.responses,
            persisted: PersistedQueries::new(opts.apq_capacity_bytes),
            limits: opts.limits,
            metrics: opts.metrics,
        }))
    }

    pub fn schema(&self) -> &OntographSchema {
        &self.0.schema
    }

    pub fn limits(&self) -> &QueryLimits {
        &self.0.limits
    }

    pub fn responses(&self) -> &ResponseCache {
        &self.0.responses
    }

    /// The threads that parse large requests.
    pub fn parsers(&self) -> &Parsers {
        &self.0.parsers
    }

    /// Run one request and render its response.
    pub async fn run(&self, req: Request, transport: Transport) -> Executed {
        let started = Instant::now();
        let budget = Arc::new(ResponseBudget::new(self.0.limits.max_response_bytes));
        let (resp, outcome, op, pending, _admission) = match self.check(req, transport).await {
            Err(Early::Cached(body)) => {
                // A stored response of an executed query.
                if let Some(m) = &self.0.metrics {
                    m.graphql_request(observe::label(Some(OperationType::Query)), started.elapsed());
                }
                return Executed { body, outcome: Outcome::Ran, replayed: true };
            }
            Err(Early::Refused(resp, outcome, op)) => (fill_codes(resp), outcome, op, None, None),
            Ok(checked) => {
                let (op, pending, admission) = (checked.op, checked.pending, checked.admission);
                // Written by `json::write_response`: rendered lists are
                // spliced in as bytes.
                let req = checked.req.data(Splice).data(budget.clone());
                let (resp, ran) = self.execute_checked(req, op).await;
                (resp, if ran { Outcome::Ran } else { Outcome::Rejected }, Some(op), pending, admission)
            }
        };
        observe::finished(self.0.metrics.as_ref(), op, started, &resp);
        let max = self.0.limits.max_response_bytes;
        let with_data = outcome == Outcome::Ran;
        // A large response is written off the async workers (its lists were
        // already written as bytes; what is left is copying).
        let written = match budget.used() > OFF_RUNTIME_BYTES {
            false => (json::write_response(&resp, with_data, max), resp),
            true => self
                .0
                .engine
                .heavy(move || (json::write_response(&resp, with_data, max), resp))
                .await
                .unwrap_or_else(|e| (Err(e), Response::default())),
        };
        let (body, resp) = match written {
            (Ok(body), resp) => (body, resp),
            (Err(e), _) => {
                let resp = Response::from_errors(vec![request_error(&e)]);
                observe::count_errors_of(self.0.metrics.as_ref(), &resp);
                let body = json::write_response(&resp, with_data, usize::MAX).unwrap_or_default();
                return Executed { body, outcome, replayed: false };
            }
        };
        if let Some(p) = pending {
            self.0.responses.store(&self.0.engine, p, &resp, &body).await;
        }
        Executed { body, outcome, replayed: false }
    }

    /// Run a batch (a JSON array of requests over HTTP POST), each item
    /// through the pipeline, concurrently; at most `max_root_fields`
    /// items, since a batch costs what one operation with as many root
    /// fields does.
    pub async fn run_batch(&self, reqs: Vec<Request>, transport: Transport) -> Executed {
        if reqs.len() > self.0.limits.max_root_fields {
            let msg = format!("a batch of {} operations; the limit is {}", reqs.len(), self.0.limits.max_root_fields);
            let err = Error::LimitExceeded(msg);
            if let Some(m) = &self.0.metrics {
                m.graphql_error(err.code());
            }
            return Executed { body: super::error::error_body(&err), outcome: Outcome::BadRequest, replayed: false };
        }
        let outs = futures::future::join_all(reqs.into_iter().map(|r| self.run(r, transport))).await;
        let mut body = Vec::with_capacity(outs.iter().map(|o| o.body.len() + 1).sum::<usize>() + 2);
        body.push(b'[');
        for (i, out) in outs.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&out.body);
        }
        body.push(b']');
        Executed { body: Bytes::from(body), outcome: Outcome::Ran, replayed: false }
    }

    /// Every check before execution, in order of cost.
    async fn check(&self, mut req: Request, transport: Transport) -> Result<Checked, Early> {
        let inner = &*self.0;
        let registration = inner.persisted.resolve(&mut req).await.map_err(|e| refuse(e, Outcome::Rejected))?;
        // A hostile text is refused here, before anything parses it.
        prescan(&req.query, &inner.limits).map_err(|e| refuse(e, Outcome::Rejected))?;
        if transport.is_http() {
            if let Some(body) = inner.responses.lookup(&inner.engine, &req).await {
                // Stored only after it passed these checks and ran.
                self.remember(registration, &req).await;
                return Err(Early::Cached(body));
            }
        }
        let name = req.operation_name.clone();
        let variables = req.variables.clone();
        self.parse(&mut req).await?;
        let doc = req.parsed_query().map_err(|e| reject(e.clone()))?;
        let Some(op) = selected_operation(doc, name.as_deref()) else {
            let msg = match &name {
                Some(n) => format!(r#"Unknown operation named "{n}""#),
                None => "Operation name required in request.".to_owned(),
            };
            return Err(refuse(Error::bad_request(msg), Outcome::Rejected));
        };
        let ty = op.node.ty;
        observe::on_span(Some(ty), name.as_deref());
        check_inputs(doc, &op.node, &variables, &inner.limits).map_err(|e| refuse(e, Outcome::Rejected))?;
        let refused = |err: Error, outcome: Outcome| match refuse(err, outcome) {
            Early::Refused(resp, outcome, _) => Early::Refused(resp, outcome, Some(ty)),
            early => early,
        };
        match ty {
            OperationType::Mutation if transport == Transport::HttpGet => {
                let err = Error::bad_request("mutations are not allowed over GET; use POST");
                return Err(refused(err, Outcome::WrongMethod));
            }
            OperationType::Subscription if transport.is_http() => {
                let msg = "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql/ws";
                return Err(refused(Error::bad_request(msg), Outcome::Rejected));
            }
            _ => {}
        }
        if !inner.limits.introspection && selects_introspection(doc) {
            return Err(refused(Error::forbidden("introspection is disabled on this server"), Outcome::Rejected));
        }
        // The server's own requests (the warm plan) run one at a time anyway.
        let heavy_fields = transport != Transport::Internal && selects_heavy_fields(doc, &op.node);
        let cacheable = ty == OperationType::Query && transport.is_http();
        // One walk serves the heavy lane and the response cache.
        let reads = (heavy_fields || cacheable).then(|| reads(doc, &op.node, &variables));
        let admission = match heavy_fields && reads.as_ref().is_some_and(|r| reads_large(r, &inner.engine)) {
            true => Some(inner.engine.admit_heavy().map_err(|e| refused(e, Outcome::Overloaded))?),
            false => None,
        };
        let reads = reads.filter(|_| cacheable);
        let pending = reads.and_then(|r| inner.responses.plan(&inner.engine, &mut req, r));
        self.remember(registration, &req).await;
        Ok(Checked { req, op: ty, pending, admission })
    }

    /// The request's document, parsed and within the document limits: from
    /// the document cache, or parsed (a large text on a parser thread),
    /// checked and kept.
    async fn parse(&self, req: &mut Request) -> Result<(), Early> {
        let inner = &*self.0;
        if req.query.is_empty() {
            // No text: a document parsed by the server itself (the warm plan).
            let doc = req.parsed_query().map_err(|e| reject(e.clone()))?;
            return check_document(doc, &inner.limits).map_err(|e| refuse(e, Outcome::Rejected));
        }
        if let Some(doc) = inner.documents.get(&req.query) {
            req.set_parsed_query(doc);
            return Ok(());
        }
        let doc = if req.query.len() >= LARGE_DOCUMENT {
            let text = std::mem::take(&mut req.query);
            let parsed = inner.parsers.run(move || (async_graphql::parser::parse_query(&text), text)).await;
            let (doc, text) = parsed.map_err(|e| refuse(e, Outcome::Rejected))?;
            req.query = text;
            doc
        } else {
            async_graphql::parser::parse_query(&req.query)
        };
        let doc = doc.map_err(|e| reject(e.into()))?;
        check_document(&doc, &inner.limits).map_err(|e| refuse(e, Outcome::Rejected))?;
        inner.documents.insert(&req.query, &doc);
        req.set_parsed_query(doc);
        Ok(())
    }

    async fn remember(&self, registration: Option<Registration>, req: &Request) {
        if let Some(r) = registration {
            self.0.persisted.register(r, &req.query).await;
        }
    }

    /// Execute a checked request. Whether it ran, and the response with a
    /// code on every error.
    /// Every executed response says which branch versions it read
    /// (`extensions.versions`).
    async fn execute_checked(&self, req: Request, op: OperationType) -> (Response, bool) {
        let versions = Versions::default();
        let req = req.data(versions.clone());
        let (mut resp, ran) = within(time_limit(&self.0.limits, op), self.0.schema.execute(req)).await;
        versions.attach(&mut resp);
        (fill_codes(resp), ran)
    }

    /// One response over WebSocket (or in-process): the pipeline without
    /// the response cache and rendering.
    async fn respond(&self, req: Request, transport: Transport) -> Response {
        let started = Instant::now();
        let (resp, op) = match self.check(req, transport).await {
            Ok(checked) => {
                let op = checked.op;
                (self.execute_checked(checked.req, op).await.0, Some(op))
            }
            Err(Early::Refused(resp, _, op)) => (fill_codes(resp), op),
            Err(Early::Cached(_)) => unreachable!("the response cache serves HTTP only"),
        };
        observe::finished(self.0.metrics.as_ref(), op, started, &resp);
        resp
    }

    /// A subscription's stream, after the same checks as any request.
    async fn subscribe(self, mut req: Request, session: Arc<Data>) -> BoxStream<'static, Response> {
        // The connection's principal (from `connection_init`) and request
        // id travel with each of its operations: `Schema::execute` sees
        // request data, not the connection's.
        if let Some(p) = datum::<Principal>(&session) {
            req.data.insert(p.clone());
        }
        if let Some(id) = datum::<RequestId>(&session) {
            req.data.insert(id.clone());
        }
        let checked = match self.check(req, Transport::WebSocket).await {
            Ok(c) if c.op == OperationType::Subscription => c,
            Ok(c) => {
                let op = c.op;
                let started = Instant::now();
                let (resp, _) = self.execute_checked(c.req, op).await;
                observe::finished(self.0.metrics.as_ref(), Some(op), started, &resp);
                return stream::once(async move { resp }).boxed();
            }
            Err(Early::Refused(resp, _, op)) => {
                let resp = fill_codes(resp);
                observe::finished(self.0.metrics.as_ref(), op, Instant::now(), &resp);
                return stream::once(async move { resp }).boxed();
            }
            Err(Early::Cached(_)) => unreachable!("the response cache serves HTTP only"),
        };
        let metrics = self.0.metrics.clone();
        if let Some(m) = &metrics {
            // Counted when it starts; a stream has no latency to measure.
            m.subscription_started();
        }
        self.0
            .schema
            .execute_stream_with_session_data(checked.req, session)
            .map(move |resp| {
                let resp = fill_codes(resp);
                if let Some(m) = &metrics {
                    observe::count_errors(m, &resp);
                }
                resp
            })
            .boxed()
    }
}

/// A datum of the connection's data, by type.
fn datum<T: 'static>(data: &Data) -> Option<&T> {
    data.get(&TypeId::of::<T>()).and_then(|d| d.downcast_ref::<T>())
}

/// The WebSocket protocol engine (and in-process callers such as tests)
/// run requests through the same pipeline.
impl Executor for Api {
    async fn execute(&self, request: Request) -> Response {
        self.respond(request, Transport::WebSocket).await
    }

    fn execute_stream(&self, request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let api = self.clone();
        stream::once(api.subscribe(request, session_data.unwrap_or_default())).flatten().boxed()
    }
}

/// Queries run within the request timeout; a mutation that started
/// completes (cutting it would not undo a write already durable).
fn time_limit(limits: &QueryLimits, op: OperationType) -> Option<Duration> {
    limits.timeout.filter(|_| op == OperationType::Query)
}

/// Runs an execution within `limit`: its response and whether it ran
/// (a query cut by the timeout ran, and answers `LIMIT_EXCEEDED`).
async fn within(limit: Option<Duration>, execution: impl Future<Output = Response>) -> (Response, bool) {
    let resp = match limit {
        Some(t) => match tokio::time::timeout(t, execution).await {
            Ok(resp) => resp,
            Err(_) => {
                let msg = format!("the query did not finish within the request timeout of {} ms", t.as_millis());
                return (Response::from_errors(vec![request_error(&Error::LimitExceeded(msg))]), true);
            }
        },
        None => execution.await,
    };
    let ran = executed(&resp);
    (resp, ran)
}

impl Api {
    /// The warm plan's requests: the pipeline, as the server's own.
    pub async fn run_internal(&self, req: Request) -> Response {
        self.respond(req, Transport::Internal).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::DEFAULT_LIMITS;

    #[tokio::test]
    async fn queries_are_cut_at_the_timeout_and_mutations_complete() {
        let limits = QueryLimits { timeout: Some(Duration::from_millis(10)), ..DEFAULT_LIMITS };
        assert_eq!(time_limit(&limits, OperationType::Query), Some(Duration::from_millis(10)));
        assert_eq!(time_limit(&limits, OperationType::Mutation), None);
        let (resp, ran) = within(Some(Duration::from_millis(10)), futures::future::pending()).await;
        assert!(ran, "a query cut by the timeout ran");
        let err = &resp.errors[0];
        assert_eq!(err.message, "the query did not finish within the request timeout of 10 ms");
        let code = err.extensions.as_ref().and_then(|e| e.get("code")).cloned();
        assert_eq!(code, Some(async_graphql::Value::from(Error::LIMIT_EXCEEDED)));
        let slow = async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            Response::new(async_graphql::Value::from_json(serde_json::json!({ "slow": true })).unwrap())
        };
        let (resp, ran) = within(None, slow).await;
        assert!(ran && resp.errors.is_empty());
    }

    #[test]
    fn a_response_without_data_or_field_errors_did_not_run() {
        let refused = Response::from_errors(vec![ServerError::new("Unknown field", None)]);
        assert!(!executed(&refused));
        let mut nulled = Response::from_errors(vec![ServerError::new("failed", None)]);
        nulled.errors[0].path = vec![async_graphql::PathSegment::Field("createBranch".into())];
        assert!(executed(&nulled), "a non-null root field that failed nulls data, with its path");
        let data = Response::new(async_graphql::Value::from_json(serde_json::json!({ "a": null })).unwrap());
        assert!(executed(&data));
    }
}
