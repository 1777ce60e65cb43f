//! Subscription root: commits as they become durable.

use async_graphql::{Context, Subscription};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::commit::Commit;
use super::error::GqlResult;
use super::Shutdown;
use crate::engine::Engine;
use crate::error::Error;
use crate::metrics::Metrics;

pub struct SubscriptionRoot;

/// Live updates, over graphql-transport-ws at `/graphql/ws`.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every commit after it is durable, in commit order; only those of
    /// `branch` when given (NOT_FOUND when there is no such branch). A
    /// subscriber that falls more than 1024 commits behind is ended
    /// (re-read `commits` and subscribe again). When the server shuts
    /// down the stream delivers the commits already made and completes.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        branch: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = Commit>> {
        let engine = ctx.data_unchecked::<Engine>();
        // Subscribed before the check: no commit after it is missed.
        let rx = engine.subscribe();
        if let Some(b) = &branch {
            if engine.branch(b).is_none() {
                return Err(Error::NotFound(format!("branch {b}"))).gql();
            }
        }
        let stop = ctx.data_opt::<Shutdown>().map(|s| s.0.clone()).unwrap_or_default();
        // Held by the stream: the gauge counts it until it is dropped.
        let open = ctx.data_opt::<Metrics>().map(Metrics::subscription);
        Ok(futures::stream::unfold((rx, branch, stop, open), |(mut rx, branch, stop, open)| async move {
            loop {
                // Biased: commits already broadcast go out before the stop.
                let next = tokio::select! {
                    biased;
                    r = rx.recv() => r,
                    _ = stop.cancelled() => return None,
                };
                match next {
                    Ok(c) if branch.as_ref().is_none_or(|b| *b == c.record.branch) => {
                        let commit = Commit::new(c.record.clone(), &c.meta);
                        return Some((commit, (rx, branch, stop, open)));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
                }
            }
        }))
    }
}
