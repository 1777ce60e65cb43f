//! Wake-ups between processes sharing one database (docs/production.md,
//! "Replicas"): after a commit or a branch change a process announces it
//! (PostgreSQL `NOTIFY`), and every process listens (`LISTEN`) to catch
//! up from the tables. A notification is only a wake-up — it carries the
//! branch name and nothing a replica relies on — so a lost one delays a
//! replica until its next poll and never loses a commit.

use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{BoxStream, StreamExt};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};

use super::db_error;
use crate::error::Result;

/// The channel every process announces on and listens to.
const CHANNEL: &str = "ontograph_commits";

#[async_trait]
pub trait Notices: Send + Sync + 'static {
    /// Tell the other processes that `branch` changed (best effort).
    async fn announce(&self, branch: &str);
    /// A stream that yields once per announcement by another process; it
    /// ends when the connection is lost.
    async fn listen(&self) -> Result<BoxStream<'static, ()>>;
}

/// The notices of the database `url` names: PostgreSQL's; `None` for
/// SQLite, which one process owns.
pub async fn connect(url: &str) -> Result<Option<std::sync::Arc<dyn Notices>>> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Ok(None);
    }
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(|e| db_error("connect (notices)", e))?;
    let me = format!("{:016x}", rand::random::<u64>());
    Ok(Some(std::sync::Arc::new(PgNotices { pool, me })))
}

struct PgNotices {
    pool: PgPool,
    /// This process's mark on its announcements (`"{me} {branch}"`): its
    /// own come back through LISTEN too, and need no catching up.
    me: String,
}

#[async_trait]
impl Notices for PgNotices {
    async fn announce(&self, branch: &str) {
        let payload = format!("{} {branch}", self.me);
        let sent = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&self.pool).await;
        if let Err(e) = sent {
            // The other replicas' polls catch up anyway.
            tracing::warn!(error = %e, "announcing a commit to the other replicas failed");
        }
    }

    async fn listen(&self) -> Result<BoxStream<'static, ()>> {
        let mut listener = PgListener::connect_with(&self.pool).await.map_err(|e| db_error("listen", e))?;
        listener.listen(CHANNEL).await.map_err(|e| db_error("listen", e))?;
        let own = format!("{} ", self.me);
        let others = move |n: &sqlx::postgres::PgNotification| !n.payload().starts_with(&own);
        Ok(listener
            .into_stream()
            .take_while(|n| futures::future::ready(n.is_ok()))
            .filter(move |n| futures::future::ready(n.as_ref().is_ok_and(&others)))
            .map(|_| ())
            .boxed())
    }
}
