//! Server startup and shutdown, in the library so tests can run the real
//! server on port 0.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::warm::{self, WarmPlan};
use crate::api::{build_schema_with, ResponseCache};
use crate::config::ServeArgs;
use crate::engine::{Engine, MAIN};
use crate::store;

/// A running server.
pub struct Server {
    /// The bound address (the real port when started with port 0).
    pub addr: SocketAddr,
    pub engine: Engine,
    shutdown: oneshot::Sender<()>,
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
        let engine = Engine::open_configured(store, args.traversal_limits(), args.cache_config())
            .await
            .context("loading branches")?;
        if !args.no_demo && engine.seed_demo_if_empty().await? {
            tracing::info!("seeded the demo ontology into main");
        }
        if args.protect_main {
            engine.set_protection(MAIN, true).await?;
        }
        let listener = TcpListener::bind(args.addr).await.with_context(|| format!("binding {}", args.addr))?;
        let addr = listener.local_addr()?;
        let responses = ResponseCache::new(args.response_cache_bytes);
        let schema = build_schema_with(engine.clone(), args.apq_capacity_bytes, responses.clone());
        let warmer = warm.map(|plan| {
            tracing::info!(operations = plan.queries.len(), "warming the cache in the background");
            warm::spawn(schema.clone(), &engine, plan)
        });
        let app = super::router(schema, engine.clone(), responses, args.max_body_bytes);
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop.await;
                })
                .await
        });
        Ok(Server { addr, engine, shutdown, task, warmer })
    }

    /// Stop accepting, let in-flight requests finish, and return.
    pub async fn stop(self) -> anyhow::Result<()> {
        if let Some(w) = &self.warmer {
            w.abort();
        }
        let _ = self.shutdown.send(());
        self.task.await??;
        Ok(())
    }
}

/// `ontograph serve`: run until SIGINT or SIGTERM.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let server = Server::start(args).await?;
    tracing::info!(addr = %server.addr, "listening; GraphiQL at http://{}/graphiql", server.addr);
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.stop().await
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
