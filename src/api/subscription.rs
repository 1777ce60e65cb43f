//! Subscription root: commits as they become durable.

use async_graphql::{Context, Subscription};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::commit::Commit;
use crate::engine::Engine;

pub struct SubscriptionRoot;

/// Live updates, over graphql-transport-ws at `/graphql/ws`.
#[Subscription]
impl SubscriptionRoot {
    /// Every commit after it is durable, in commit order; only those of
    /// `branch` when given. A subscriber that falls more than 1024 commits
    /// behind is ended (re-read `commits` and subscribe again).
    async fn changes(&self, ctx: &Context<'_>, branch: Option<String>) -> impl Stream<Item = Commit> {
        let rx = ctx.data_unchecked::<Engine>().subscribe();
        futures::stream::unfold((rx, branch), |(mut rx, branch)| async move {
            loop {
                match rx.recv().await {
                    Ok(c) if branch.as_ref().is_none_or(|b| *b == c.branch) => {
                        return Some((Commit(c.as_ref().clone()), (rx, branch)));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
                }
            }
        })
    }
}
