//! Prometheus metrics of one server (the `prometheus` crate, one registry
//! per server so in-process test servers do not share counters). Request
//! counters and histograms are updated as requests finish; engine figures
//! (branches, cache, runtime) are read when `/metrics` is scraped.
//! Depends on `engine`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;

/// Latency buckets in seconds: 0.25 ms … 10 s.
const LATENCY_BUCKETS: &[f64] =
    &[0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// How often the runtime lag probe wakes up.
const LAG_PERIOD: Duration = Duration::from_millis(250);

/// The instruments; cheap to clone (shared).
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    http_in_flight: IntGauge,
    graphql_requests: IntCounterVec,
    graphql_duration: HistogramVec,
    graphql_errors: IntCounterVec,
    subscriptions: IntGauge,
    websockets: IntGauge,
    commits: IntCounter,
    branch_entities: IntGaugeVec,
    branch_edges: IntGaugeVec,
    branch_version: IntGaugeVec,
    cache_counters: IntCounterVec,
    cache_entries: IntGauge,
    cache_bytes: IntGauge,
    cache_capacity: IntGauge,
    runtime_lag: Histogram,
    runtime_lag_last: Gauge,
    runtime_tasks: IntGauge,
    runtime_workers: IntGauge,
    runtime_queue: IntGauge,
    /// `heavy_lane` by state: admitted, running, waiting, capacity.
    lane: IntGaugeVec,
    lane_rejections: IntCounter,
    replica_age: Gauge,
    replica_lag: IntGaugeVec,
    /// One scrape at a time: `refresh` mirrors the cache's counters by
    /// read-then-add and resets the branch gauges before refilling them,
    /// so two at once would double-count or expose half-filled gauges.
    scrape: std::sync::Mutex<()>,
}

/// Decrements its gauge when dropped (in-flight requests, open sockets).
pub struct GaugeGuard(IntGauge);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn track(g: &IntGauge) -> GaugeGuard {
    g.inc();
    GaugeGuard(g.clone())
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new_custom(Some("ontograph".into()), None).expect("valid prefix");
        let r = &registry;
        let latency = |name: &str, help: &str, labels: &[&str]| {
            let opts = HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
            reg(r, HistogramVec::new(opts, labels).expect("valid histogram"))
        };
        let counters = |name: &str, help: &str, labels: &[&str]| {
            reg(r, IntCounterVec::new(Opts::new(name, help), labels).expect("valid counter"))
        };
        let gauges = |name: &str, help: &str, labels: &[&str]| {
            reg(r, IntGaugeVec::new(Opts::new(name, help), labels).expect("valid gauge"))
        };
        let gauge = |name: &str, help: &str| reg(r, IntGauge::new(name, help).expect("valid gauge"));
        let lag_opts =
            HistogramOpts::new("runtime_lag_seconds", "How late the lag probe woke up (async worker responsiveness)")
                .buckets(LATENCY_BUCKETS.to_vec());
        let build = gauges("build_info", "Always 1; the version label is ontograph's", &["version"]);
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let inner = Inner {
            http_requests: counters(
                "http_requests_total",
                "HTTP requests by route, method and status",
                &["route", "method", "status"],
            ),
            http_duration: latency("http_request_duration_seconds", "HTTP request latency by route", &["route"]),
            http_in_flight: gauge("http_requests_in_flight", "HTTP requests being served"),
            graphql_requests: counters(
                "graphql_requests_total",
                "GraphQL operations by type (invalid: rejected before its type was known)",
                &["operation"],
            ),
            graphql_duration: latency(
                "graphql_request_duration_seconds",
                "GraphQL operation latency by type",
                &["operation"],
            ),
            graphql_errors: counters(
                "graphql_errors_total",
                "GraphQL errors by extensions.code, including HTTP-level rejections",
                &["code"],
            ),
            subscriptions: gauge("subscriptions_active", "Open `changes` subscriptions"),
            websockets: gauge("websocket_connections", "Open /graphql/ws connections"),
            commits: reg(
                r,
                IntCounter::new("commits_total", "Commits made durable since start").expect("valid counter"),
            ),
            branch_entities: gauges("branch_entities", "Entities at a branch's head by kind", &["branch", "kind"]),
            branch_edges: gauges(
                "branch_edges",
                "Graph edges at a branch's head (once a read has built its graph)",
                &["branch"],
            ),
            branch_version: gauges("branch_version", "A branch's head version (commits on it)", &["branch"]),
            cache_counters: counters("cache_events_total", "Traversal result cache events since start", &["event"]),
            cache_entries: gauge("cache_entries", "Traversal answers held in the cache"),
            cache_bytes: gauge("cache_weighted_bytes", "Approximate bytes of the cached traversal answers"),
            cache_capacity: gauge("cache_capacity_bytes", "Configured capacity of the traversal cache (0: off)"),
            runtime_lag: reg(r, Histogram::with_opts(lag_opts).expect("valid histogram")),
            runtime_lag_last: reg(
                r,
                Gauge::new("runtime_lag_last_seconds", "The lag probe's latest reading").expect("valid gauge"),
            ),
            runtime_tasks: gauge("runtime_alive_tasks", "Tokio tasks alive"),
            runtime_workers: gauge("runtime_workers", "Tokio worker threads"),
            runtime_queue: gauge("runtime_global_queue_depth", "Tasks waiting in tokio's global queue"),
            lane: gauges(
                "heavy_lane",
                "The heavy lane: heavy requests admitted, pieces of heavy work running and waiting for a worker, \
                 and how many heavy requests it admits",
                &["state"],
            ),
            replica_age: reg(
                r,
                Gauge::new(
                    "replica_caught_up_age_seconds",
                    "Seconds since this replica last caught up with every branch in the database (0 without replicas)",
                )
                .expect("valid gauge"),
            ),
            replica_lag: gauges(
                "replica_lag_versions",
                "Per branch, commits in the database this replica has heard of and not applied yet \
                 (only with replicas; the applied version is ontograph_branch_version)",
                &["branch"],
            ),
            lane_rejections: reg(
                r,
                IntCounter::new("heavy_lane_rejections_total", "Heavy requests refused with OVERLOADED since start")
                    .expect("valid counter"),
            ),
            scrape: std::sync::Mutex::new(()),
            registry,
        };
        Metrics(Arc::new(inner))
    }

    /// One finished HTTP request; `route` is the matched route pattern (or
    /// a fixed fallback), never the raw path. The method is reduced to
    /// [`method_label`]: each distinct label value is a series kept until
    /// the process exits, so no label may come from client input.
    pub fn http_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let m = &self.0;
        m.http_requests.with_label_values(&[route, method_label(method), &status.to_string()]).inc();
        m.http_duration.with_label_values(&[route]).observe(elapsed.as_secs_f64());
    }

    /// Counts an HTTP request as in flight until the guard drops.
    pub fn http_in_flight(&self) -> GaugeGuard {
        track(&self.0.http_in_flight)
    }

    /// One finished GraphQL operation (`query`, `mutation`, `subscription`
    /// or `invalid`).
    pub fn graphql_request(&self, operation: &str, elapsed: Duration) {
        self.0.graphql_requests.with_label_values(&[operation]).inc();
        self.0.graphql_duration.with_label_values(&[operation]).observe(elapsed.as_secs_f64());
    }

    /// One subscription operation started (counted, not timed).
    pub fn subscription_started(&self) {
        self.0.graphql_requests.with_label_values(&["subscription"]).inc();
    }

    /// One error sent to a client, by its `extensions.code`.
    pub fn graphql_error(&self, code: &str) {
        self.0.graphql_errors.with_label_values(&[code]).inc();
    }

    /// Counts a subscription as open until the guard drops.
    pub fn subscription(&self) -> GaugeGuard {
        track(&self.0.subscriptions)
    }

    /// Counts a WebSocket connection as open until the guard drops.
    pub fn websocket(&self) -> GaugeGuard {
        track(&self.0.websockets)
    }

    /// The Prometheus text exposition, with engine figures read now.
    pub fn render(&self, engine: &Engine) -> String {
        // Held only across synchronous work (no await).
        let _scrape = self.0.scrape.lock().unwrap_or_else(|p| p.into_inner());
        self.refresh(engine);
        let mut out = Vec::new();
        let encoder = TextEncoder::new();
        if let Err(e) = encoder.encode(&self.0.registry.gather(), &mut out) {
            tracing::error!(error = %e, "encoding metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }

    fn refresh(&self, engine: &Engine) {
        let m = &self.0;
        m.branch_entities.reset();
        m.branch_edges.reset();
        m.branch_version.reset();
        for b in engine.branches() {
            let name = b.meta.name.as_str();
            let o = &b.state.ontology;
            for (kind, n) in [
                ("object_type", o.object_type_count()),
                ("interface", o.interface_count()),
                ("link_type", o.link_type_count()),
            ] {
                m.branch_entities.with_label_values(&[name, kind]).set(n as i64);
            }
            // Never builds a graph: on a large ontology that is seconds of CPU.
            if let Some(g) = b.state.built_graph() {
                m.branch_edges.with_label_values(&[name]).set(g.edge_count() as i64);
            }
            m.branch_version.with_label_values(&[name]).set(b.state.version);
        }
        let s = engine.cache_stats();
        for (event, n) in [
            ("hit", s.hits),
            ("miss", s.misses),
            ("eviction", s.evictions),
            ("expiration", s.expirations),
            ("invalidation", s.invalidations),
        ] {
            // Mirrors the cache's own monotonic counters.
            let c = m.cache_counters.with_label_values(&[event]);
            c.inc_by(n.saturating_sub(c.get()));
        }
        m.cache_entries.set(s.entries as i64);
        m.cache_bytes.set(s.weighted_bytes as i64);
        m.cache_capacity.set(s.capacity_bytes as i64);
        let rt = tokio::runtime::Handle::current().metrics();
        m.runtime_tasks.set(rt.num_alive_tasks() as i64);
        m.runtime_workers.set(rt.num_workers() as i64);
        m.runtime_queue.set(rt.global_queue_depth() as i64);
        let lane = engine.lane_stats();
        for (state, n) in [
            ("admitted", lane.admitted),
            ("running", lane.running),
            ("waiting", lane.waiting),
            ("capacity", lane.workers + lane.queue),
        ] {
            m.lane.with_label_values(&[state]).set(n as i64);
        }
        m.replica_age.set(engine.replication_lag().map_or(0.0, |(since, _)| since.as_secs_f64()));
        m.replica_lag.reset();
        for (branch, behind) in engine.replication_lag_versions() {
            m.replica_lag.with_label_values(&[&branch]).set(behind);
        }
        m.lane_rejections.inc_by(lane.rejected.saturating_sub(m.lane_rejections.get()));
    }

    /// Background tasks until `stop`: the runtime lag probe and the commit
    /// counter (fed by the engine's commit broadcast).
    pub fn spawn_probes(&self, engine: &Engine, stop: CancellationToken) {
        let m = self.clone();
        let s = stop.clone();
        tokio::spawn(async move {
            loop {
                let start = Instant::now();
                tokio::select! {
                    _ = s.cancelled() => return,
                    _ = tokio::time::sleep(LAG_PERIOD) => {}
                }
                let lag = start.elapsed().saturating_sub(LAG_PERIOD).as_secs_f64();
                m.0.runtime_lag.observe(lag);
                m.0.runtime_lag_last.set(lag);
            }
        });
        let m = self.clone();
        let mut rx = engine.subscribe();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    r = rx.recv() => match r {
                        Ok(_) => m.0.commits.inc(),
                        Err(RecvError::Lagged(n)) => m.0.commits.inc_by(n),
                        Err(RecvError::Closed) => return,
                    }
                }
            }
        });
    }
}

/// The `method` label: the methods a client of this server sends, else
/// `other` (`XYZ1 /healthz`, `XYZ2 …` must not add a series each).
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "POST", "OPTIONS", "HEAD", "PUT", "DELETE", "PATCH"];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

fn reg<C: prometheus::core::Collector + Clone + 'static>(r: &Registry, c: C) -> C {
    r.register(Box::new(c.clone())).expect("metric names are unique");
    c
}

#[cfg(test)]
mod tests {
    use super::method_label;

    #[test]
    fn methods_outside_the_fixed_set_are_other() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("PATCH"), "PATCH");
        for m in ["XYZ1", "get", "CONNECT", "TRACE", ""] {
            assert_eq!(method_label(m), "other", "{m}");
        }
    }
}
