//! Subscription root: commits as they become durable, optionally first
//! replayed from the store (`afterVersion`) so a client that fell behind or
//! reconnected resumes without a gap.

use std::collections::VecDeque;
use std::sync::Arc;

use async_graphql::{Context, Subscription};
use futures::Stream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use super::commit::Commit;
use super::error::GqlResult;
use super::Shutdown;
use crate::engine::{BranchMeta, Engine, PublishedCommit, COMMIT_BUFFER};
use crate::error::Error;
use crate::metrics::{GaugeGuard, Metrics};
use crate::model::CommitRecord;

/// Commits read from the store at a time while replaying: a replay of any
/// length holds at most this many.
const REPLAY_PAGE: i64 = 32;

pub struct SubscriptionRoot;

/// Live updates, over graphql-transport-ws at `/graphql/ws`.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every commit after it is durable, in commit order; only those of
    /// `branch` when given (NOT_FOUND when there is no such branch), starting
    /// after its head as of subscribing. With `afterVersion` (needs `branch`;
    /// at most the head), the commits of `branch` after that version are
    /// first replayed from history, in order, then the stream goes on live
    /// with no gap and no duplicate: a client resumes from the last version
    /// it received. A subscriber that falls more than 1024 commits behind
    /// the newest is ended with LIMIT_EXCEEDED, whose message names the
    /// `afterVersion` to resume from. What a subscriber that never reads
    /// holds: its place in the buffer of the last 1024 commits, which all
    /// subscribers share (each commit is held once), at most 32 replayed
    /// commits read ahead, and on its WebSocket the one message being sent
    /// and the socket's buffers; a socket that takes no message for
    /// `--ws-send-timeout-secs` is closed. When the server shuts down the
    /// stream delivers the commits already made and completes (a replay
    /// still running stops between pages: resume with `afterVersion`).
    async fn changes(
        &self,
        ctx: &Context<'_>,
        branch: Option<String>,
        after_version: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Commit>>> {
        let engine = ctx.data_unchecked::<Engine>();
        if after_version.is_some() && branch.is_none() {
            return Err(Error::bad_input("afterVersion", "needs `branch`: versions count per branch")).gql();
        }
        // Subscribed before the branch's head is read: every commit after
        // that head is either in the broadcast or (for a replay) in the store.
        let rx = engine.subscribe();
        let from = match &branch {
            None => None,
            Some(b) => {
                let Some(view) = engine.branch(b) else {
                    return Err(Error::NotFound(format!("branch {b}"))).gql();
                };
                let head = view.state.version;
                let after = match after_version {
                    None => head,
                    Some(v) if v < 0 => return Err(Error::bad_input("afterVersion", "must be ≥ 0")).gql(),
                    Some(v) if v > head => {
                        let msg = format!("{v} is past the head of {b} (version {head})");
                        return Err(Error::bad_input("afterVersion", msg)).gql();
                    }
                    Some(v) => v,
                };
                Some(Start { meta: view.meta.clone(), after, head })
            }
        };
        let feed = Feed {
            engine: engine.clone(),
            rx,
            stop: ctx.data_opt::<Shutdown>().map(|s| s.0.clone()).unwrap_or_default(),
            // Held by the stream: the gauge counts it until it is dropped.
            _open: ctx.data_opt::<Metrics>().map(Metrics::subscription),
            replay: from.as_ref().filter(|s| s.after < s.head).map(|s| Replay {
                next: s.after + 1,
                upto: s.head,
                page: VecDeque::new(),
            }),
            delivered: from.as_ref().map(|s| s.after),
            seen_upto: from.as_ref().map(|s| s.head),
            start: from,
            branch,
            ended: false,
        };
        Ok(futures::stream::unfold(feed, |mut feed| async move { feed.next().await.map(|item| (item, feed)) }))
    }
}

/// Where a branch subscription starts: after version `after` of this
/// incarnation of the branch, whose head was `head` when it subscribed.
struct Start {
    meta: BranchMeta,
    after: i64,
    head: i64,
}

/// The commits `next..=upto` still to be read from the store, a page at a time.
struct Replay {
    next: i64,
    upto: i64,
    page: VecDeque<CommitRecord>,
}

/// One subscription's stream: the replay, then the broadcast.
struct Feed {
    engine: Engine,
    rx: broadcast::Receiver<Arc<PublishedCommit>>,
    branch: Option<String>,
    stop: CancellationToken,
    _open: Option<GaugeGuard>,
    start: Option<Start>,
    replay: Option<Replay>,
    /// Versions up to this one (of the start's incarnation) came, or were
    /// due, before the live part: the broadcast's copies are skipped.
    seen_upto: Option<i64>,
    /// The last version of `branch` delivered (or where it started): where
    /// a subscriber ended for lagging resumes.
    delivered: Option<i64>,
    ended: bool,
}

impl Feed {
    async fn next(&mut self) -> Option<async_graphql::Result<Commit>> {
        if self.ended {
            return None;
        }
        if let Some(item) = self.replayed().await {
            return item;
        }
        loop {
            // Biased: commits already broadcast go out before the stop.
            let next = tokio::select! {
                biased;
                r = self.rx.recv() => r,
                _ = self.stop.cancelled() => return None,
            };
            match next {
                Ok(c) if self.branch.as_ref().is_none_or(|b| *b == c.record.branch) => {
                    let start = self.start.as_ref();
                    let same_incarnation = start.is_some_and(|s| s.meta.uid == c.meta.uid);
                    if same_incarnation && self.seen_upto.is_some_and(|v| c.record.version <= v) {
                        continue;
                    }
                    self.delivered = Some(c.record.version);
                    return Some(Ok(Commit::new(c.record.clone(), &c.meta)));
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => {
                    self.ended = true;
                    return Some(Err(Error::LimitExceeded(self.lagged())).gql());
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The next replayed commit: `Some(item)` while the replay lasts
    /// (`Some(None)` ends the stream), `None` once it is over.
    async fn replayed(&mut self) -> Option<Option<async_graphql::Result<Commit>>> {
        let start = self.start.as_ref()?;
        let replay = self.replay.as_mut()?;
        if replay.page.is_empty() && replay.next <= replay.upto {
            // A replay cut by shutdown ends the stream: going live would
            // leave a gap. The client resumes with `afterVersion`.
            if self.stop.is_cancelled() {
                self.ended = true;
                return Some(None);
            }
            // Newest first from the store: versions below `before`.
            let before = (replay.next + REPLAY_PAGE).min(replay.upto + 1);
            match self.engine.commits(&start.meta.name, Some(before), before - replay.next).await {
                Ok(rows) => replay.page.extend(rows.into_iter().rev().filter(|c| c.version >= replay.next)),
                Err(e) => {
                    self.ended = true;
                    return Some(Some(Err(e).gql()));
                }
            }
            replay.next = before;
        }
        match replay.page.pop_front() {
            Some(c) => {
                self.delivered = Some(c.version);
                Some(Some(Ok(Commit::new(c, &start.meta))))
            }
            // Done (or the branch was deleted meanwhile: nothing more to read).
            None => {
                self.replay = None;
                None
            }
        }
    }

    /// The message of LIMIT_EXCEEDED for a subscriber that fell behind.
    fn lagged(&self) -> String {
        let how = match (&self.branch, self.delivered) {
            (Some(b), Some(v)) => format!("changes(branch: {b:?}, afterVersion: {v})"),
            _ => "changes(branch:, afterVersion:) for each branch, with the last version received".to_owned(),
        };
        format!(
            "this subscriber fell behind: more than {COMMIT_BUFFER} newer commits were made before it read them, \
             so it was ended; resume with {how} to receive every commit after the last one delivered"
        )
    }
}
