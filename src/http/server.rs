//! Server startup and shutdown, in the library so tests can run the real
//! server on port 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{AppState, OriginPolicy};
use crate::api::warm::{self, WarmPlan};
use crate::api::{Api, ApiOptions, ResponseCache};
use crate::auth::{Auth, Principal};
use crate::config::ServeArgs;
use crate::engine::{Engine, MAIN};
use crate::metrics::Metrics;
use crate::store;

/// A running server.
pub struct Server {
    /// The bound address (the real port when started with port 0).
    pub addr: SocketAddr,
    pub engine: Engine,
    pub metrics: Metrics,
    pub auth: Auth,
    /// Cancelled first: stop accepting, finish in-flight HTTP requests.
    stop_http: CancellationToken,
    /// Cancelled once HTTP is done: subscriptions deliver what is durable
    /// and complete, sockets close, background probes end.
    closing: CancellationToken,
    tracker: TaskTracker,
    grace: Duration,
    task: JoinHandle<std::io::Result<()>>,
    /// The background cache warmer, when `--warm` was given.
    warmer: Option<JoinHandle<()>>,
}

impl Server {
    /// Open the store, load every branch, seed the demo unless told not
    /// to, bind, and start serving in the background.
    pub async fn start(args: ServeArgs) -> anyhow::Result<Server> {
        let store = store::connect(&args.db.database_url).await.context("opening the database")?;
        let warm = args.warm.as_deref().map(WarmPlan::load).transpose()?;
        let auth = Auth::start(store.clone(), args.auth.auth_config()).await.context("loading API tokens")?;
        secure_by_default(&args, &auth)?;
        let engine = Engine::open(store, args.engine_options()).await.context("loading branches")?;
        if !args.no_demo && engine.seed_demo_if_empty().await? {
            tracing::info!("seeded the demo ontology into main");
        }
        if args.protect_main && engine.branch(MAIN).is_some_and(|b| !b.state.protected) {
            let by = Principal::local("serve --protect-main");
            let audit = auth.audit_entry(&by, "branch.protect", Some(MAIN), None);
            engine.set_protection(MAIN, true, Some(audit)).await?;
        }
        // Graphs are built on first use; build them now, in the
        // background, so the first traversal after a restart is fast.
        let graphs = engine.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match graphs.prepare_graphs().await {
                Ok(()) => tracing::info!(ms = started.elapsed().as_millis() as u64, "branch graphs ready"),
                Err(e) => tracing::warn!(error = %e, "preparing branch graphs failed; they are built on first use"),
            }
        });
        let (stop_http, closing) = (CancellationToken::new(), CancellationToken::new());
        if let Some(notices) = store::notices::connect(&args.db.database_url).await.context("listening for replicas")? {
            // Other processes may share this database: follow their commits.
            engine.replicate(notices, Duration::from_millis(args.replica_poll_ms), closing.clone());
        }
        let listener = TcpListener::bind(args.addr).await.with_context(|| format!("binding {}", args.addr))?;
        let addr = listener.local_addr()?;
        let metrics = Metrics::new();
        metrics.spawn_probes(&engine, closing.clone());
        let api = Api::new(
            engine.clone(),
            ApiOptions {
                apq_capacity_bytes: args.apq_capacity_bytes,
                responses: ResponseCache::new(args.response_cache_bytes),
                limits: args.limits.query_limits(),
                metrics: Some(metrics.clone()),
                shutdown: Some(closing.clone()),
                auth: Some(auth.clone()),
                parse_threads: usize::from(args.limits.max_concurrent_parses),
                document_cache_bytes: args.document_cache_bytes,
            },
        );
        auth.spawn_refresh(closing.clone());
        let mut allowed_hosts = args.auth.allowed_hosts.clone();
        if allowed_hosts.is_empty() {
            allowed_hosts = OriginPolicy::default_hosts(addr);
        }
        let origins = Arc::new(OriginPolicy { cors_origins: args.auth.cors_origins.clone(), allowed_hosts });
        let warmer = warm.map(|plan| {
            tracing::info!(operations = plan.queries.len(), "warming the cache in the background");
            warm::spawn(api.clone(), &engine, plan)
        });
        let tracker = TaskTracker::new();
        let app = super::router(AppState {
            api,
            auth: auth.clone(),
            origins,
            engine: engine.clone(),
            metrics: metrics.clone(),
            max_body_bytes: args.max_body_bytes,
            shutdown: closing.clone(),
            tracker: tracker.clone(),
            ws_connections: std::sync::Arc::new(tokio::sync::Semaphore::new(args.limits.max_ws_connections)),
            max_ws_operations: args.limits.max_ws_operations,
            ws_timeouts: super::ws::Timeouts {
                init: args.peers.ws_init_timeout(),
                idle: args.peers.ws_idle_timeout(),
                send: args.peers.ws_send_timeout(),
            },
        });
        let limits = super::conn::ConnLimits {
            max_connections: super::conn::effective_cap(args.peers.max_connections),
            header_read_timeout: args.peers.header_read_timeout(),
        };
        let task = tokio::spawn(super::conn::serve(listener, app, limits, stop_http.clone()));
        let grace = Duration::from_secs(args.shutdown_timeout_secs);
        Ok(Server { addr, engine, metrics, auth, stop_http, closing, tracker, grace, task, warmer })
    }

    /// Stop accepting, let in-flight requests finish, then let
    /// subscriptions deliver the commits made so far and complete (all
    /// within the shutdown timeout), and return.
    pub async fn stop(self) -> anyhow::Result<()> {
        if let Some(w) = &self.warmer {
            w.abort();
        }
        let deadline = tokio::time::Instant::now() + self.grace;
        self.stop_http.cancel();
        let served = tokio::time::timeout_at(deadline, self.task).await;
        // Every write acknowledged over HTTP is broadcast by now, and every
        // denial queued for the audit table is written.
        self.auth.audit().flush().await;
        self.closing.cancel();
        self.tracker.close();
        if tokio::time::timeout_at(deadline, self.tracker.wait()).await.is_err() || served.is_err() {
            tracing::warn!(timeout = ?self.grace, "shutdown timeout: connections still open are dropped");
            return Ok(());
        }
        served.expect("checked")??;
        Ok(())
    }
}

/// Like Redis' protected mode: with no API token and no JWT configured,
/// the server is open (everyone may do everything), which is only allowed
/// on loopback unless `--insecure-open` says otherwise.
fn secure_by_default(args: &ServeArgs, auth: &Auth) -> anyhow::Result<()> {
    if !auth.is_open() {
        return Ok(());
    }
    if args.addr.ip().is_loopback() {
        tracing::warn!(
            addr = %args.addr,
            "no authentication configured: anyone who can reach this loopback address may read and write \
             (open mode); create a token with `ontograph token create` or configure --jwt-secret/--jwt-jwks-file"
        );
        return Ok(());
    }
    if args.auth.insecure_open {
        tracing::warn!(addr = %args.addr, "no authentication configured and --insecure-open: anyone who can reach this address may read and write");
        return Ok(());
    }
    anyhow::bail!(
        "refusing to listen on {} without authentication: create an API token (`ontograph token create --name NAME \
         --role admin`) or configure JWTs (--jwt-secret or --jwt-jwks-file); to serve without authentication \
         anyway, pass --insecure-open",
        args.addr
    )
}

/// `ontograph serve`: run until SIGINT or SIGTERM.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let server = Server::start(args).await?;
    tracing::info!(addr = %server.addr, "listening; GraphiQL at http://{}/graphiql", server.addr);
    shutdown_signal().await;
    tracing::info!("shutting down: finishing in-flight requests and subscriptions");
    server.stop().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
