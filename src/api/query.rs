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
    async fn server(&self) -> ServerInfo {
        ServerInfo { version: env!("CARGO_PKG_VERSION"), limits: Limits { max_page_size: MAX_PAGE } }
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
}
