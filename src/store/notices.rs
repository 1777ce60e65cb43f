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

/// What another process announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub branch: String,
    /// The version a commit made; `None` for a change of the branch itself
    /// (created, deleted, protection changed).
    pub version: Option<i64>,
}

#[async_trait]
pub trait Notices: Send + Sync + 'static {
    /// Tell the other processes that `branch` changed (best effort):
    /// `version` is the head a commit made, `None` for a change of the
    /// branch itself.
    async fn announce(&self, branch: &str, version: Option<i64>);
    /// A stream of the other processes' announcements; it ends when the
    /// connection is lost.
    async fn listen(&self) -> Result<BoxStream<'static, Notice>>;
}

/// `"{mark} {version or -} {branch}"`: the branch last, so any name fits.
fn payload(mark: &str, branch: &str, version: Option<i64>) -> String {
    match version {
        Some(v) => format!("{mark} {v} {branch}"),
        None => format!("{mark} - {branch}"),
    }
}

/// The notice in a payload not marked `own`; `None` for this process's
/// own and for anything malformed (the poll catches up anyway).
fn parse(payload: &str, own: &str) -> Option<Notice> {
    let (mark, rest) = payload.split_once(' ')?;
    let (version, branch) = rest.split_once(' ')?;
    if mark == own {
        return None;
    }
    let version = match version {
        "-" => None,
        v => Some(v.parse().ok()?),
    };
    Some(Notice { branch: branch.to_owned(), version })
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
    /// This process's mark on its announcements (see `payload`): its own
    /// come back through LISTEN too, and need no catching up.
    me: String,
}

#[async_trait]
impl Notices for PgNotices {
    async fn announce(&self, branch: &str, version: Option<i64>) {
        let payload = payload(&self.me, branch, version);
        let sent = sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(&self.pool).await;
        if let Err(e) = sent {
            // The other replicas' polls catch up anyway.
            tracing::warn!(error = %e, "announcing a commit to the other replicas failed");
        }
    }

    async fn listen(&self) -> Result<BoxStream<'static, Notice>> {
        let mut listener = PgListener::connect_with(&self.pool).await.map_err(|e| db_error("listen", e))?;
        listener.listen(CHANNEL).await.map_err(|e| db_error("listen", e))?;
        let own = self.me.clone();
        Ok(listener
            .into_stream()
            .take_while(|n| futures::future::ready(n.is_ok()))
            .filter_map(move |n| futures::future::ready(n.ok().and_then(|n| parse(n.payload(), &own))))
            .boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_branch_and_version_and_skip_our_own() {
        let n = |b: &str, v| Some(Notice { branch: b.into(), version: v });
        assert_eq!(parse(&payload("a1", "main", Some(12)), "b2"), n("main", Some(12)));
        assert_eq!(parse(&payload("a1", "feature x-1", None), "b2"), n("feature x-1", None));
        assert_eq!(parse(&payload("a1", "main", Some(12)), "a1"), None, "our own");
        assert_eq!(parse("a1 twelve main", "b2"), None);
        assert_eq!(parse("garbage", "b2"), None);
    }
}
