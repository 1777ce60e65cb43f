//! Query root.

use async_graphql::{Context, Object, SimpleObject};

use super::branch::Branch;
use super::error::GqlResult;
use super::limits::MAX_PAGE;
use crate::engine::Engine;

pub struct QueryRoot;

/// Reads: branches (at their head or any past version) and server info.
#[Object]
impl QueryRoot {
    /// A branch by name, at its head or, with `at`, as it was right after
    /// commit `at` (time travel). Null when the branch or version does not
    /// exist.
    async fn branch(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "main")] name: String,
        at: Option<i64>,
    ) -> async_graphql::Result<Option<Branch>> {
        let engine = ctx.data_unchecked::<Engine>();
        match at {
            None => Ok(engine.branch(&name).map(Branch)),
            Some(at) => Ok(engine.branch_at(&name, at).await.gql()?.map(Branch)),
        }
    }

    /// Every branch, in name order.
    async fn branches(&self, ctx: &Context<'_>) -> Vec<Branch> {
        ctx.data_unchecked::<Engine>().branches().into_iter().map(Branch).collect()
    }

    /// About this server: build version and limits.
    async fn server(&self, ctx: &Context<'_>) -> ServerInfo {
        let t = ctx.data_unchecked::<Engine>().traversal_limits();
        let limits = Limits {
            max_page_size: MAX_PAGE,
            max_depth: t.max_depth,
            max_limit: t.max_limit,
            max_paths: t.max_paths,
            time_budget_ms: t.budget.as_millis() as u64,
        };
        ServerInfo { version: env!("CARGO_PKG_VERSION"), limits }
    }
}

/// About this server.
#[derive(SimpleObject)]
pub struct ServerInfo {
    /// ontograph's build version.
    version: &'static str,
    /// Server-side bounds on requests, e.g. the largest page size.
    limits: Limits,
}

/// Server-side bounds on requests.
#[derive(SimpleObject)]
pub struct Limits {
    /// Largest `first` a connection accepts.
    max_page_size: usize,
    /// Largest traversal maxDepth (and cycle length); larger requests are clamped.
    max_depth: u32,
    /// Largest number of nodes a traversal returns; larger limits are clamped.
    max_limit: usize,
    /// Largest number of paths or cycles one request returns.
    max_paths: usize,
    /// Time budget of one traversal in milliseconds; past it answers are truncated.
    time_budget_ms: u64,
}
