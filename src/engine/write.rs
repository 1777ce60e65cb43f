//! The write path: every mutation is exactly one commit in one database
//! transaction; the in-memory state changes only after that commit.

use std::sync::Arc;

use chrono::Utc;

use super::{BranchHandle, BranchState, BranchView, Engine, PublishedCommit};
use crate::error::{Error, Result};
use crate::model::{Absent, Applied, Change, ChangeKind, CommitRecord, Entity, EntityChange, EntityKind, Ontology};
use crate::store::{AuditEntry, CommitRows, EntityRow, MergeMark, NewCommit, Progress, RowChunks};

/// Bounds on what one write may make the server store and hold (every
/// version of an entity is stored whole, and every branch head is kept in
/// memory): checked before anything is written (docs/security.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteLimits {
    /// Largest entity as stored (its JSON body), after every change of the commit.
    pub max_entity_bytes: usize,
    /// Most properties declared on one object type or interface.
    pub max_properties: usize,
    /// Largest commit message in bytes.
    pub max_message_bytes: usize,
    /// Most branches, `main` included.
    pub max_branches: usize,
}

impl Default for WriteLimits {
    fn default() -> Self {
        WriteLimits {
            max_entity_bytes: 256 * 1024,
            max_properties: 1_000,
            max_message_bytes: 16 * 1024,
            max_branches: 1_000,
        }
    }
}

impl WriteLimits {
    fn check_message(&self, message: Option<&str>) -> Result<()> {
        match message {
            Some(m) if m.len() > self.max_message_bytes => Err(Error::LimitExceeded(format!(
                "a commit message of {} bytes; the limit is {} (--max-message-bytes)",
                m.len(),
                self.max_message_bytes
            ))),
            _ => Ok(()),
        }
    }

    /// Every entity the commit writes, as it will be stored.
    fn check_rows(&self, next: &Ontology, rows: &[EntityRow]) -> Result<()> {
        for row in rows {
            let Some(body) = &row.body else { continue };
            if body.len() > self.max_entity_bytes {
                return Err(Error::LimitExceeded(format!(
                    "{} would be stored as {} bytes; the limit is {} (--max-entity-bytes)",
                    row.id,
                    body.len(),
                    self.max_entity_bytes
                )));
            }
            let props = next.entity(row.kind, &row.id).map_or(0, |e| e.property_count());
            if props > self.max_properties {
                return Err(Error::LimitExceeded(format!(
                    "{} would declare {props} properties; the limit is {} (--max-properties)",
                    row.id, self.max_properties
                )));
            }
        }
        Ok(())
    }
}

/// What to commit, and the optimistic-lock and audit details.
#[derive(Default)]
pub struct CommitRequest {
    pub changes: Vec<Change>,
    pub expected_branch_version: Option<i64>,
    pub author: Option<String>,
    pub message: Option<String>,
}

/// A durable commit and the branch state it produced.
pub struct Committed {
    pub commit: CommitRecord,
    pub view: BranchView,
}

impl Engine {
    /// Apply `req.changes` to `branch` as one commit, all or nothing.
    pub async fn commit(&self, branch: &str, req: CommitRequest) -> Result<Committed> {
        if req.changes.is_empty() {
            return Err(Error::bad_input("changes", "must not be empty"));
        }
        let changes = req.changes;
        let meta = WriteMeta {
            expected_branch_version: req.expected_branch_version,
            author: req.author,
            message: req.message,
            skip_if_unchanged: false,
            merge: None,
            audit: None,
        };
        let committed = self.write(branch, meta, move |o| o.apply(&changes), None).await?;
        committed.ok_or_else(|| Error::internal(anyhow::anyhow!("a non-empty batch always commits")))
    }

    /// Create or replace many entities as one commit (the `import`
    /// command, the demo seed). `None` when the branch already holds
    /// exactly these.
    pub async fn import(
        &self,
        branch: &str,
        entities: Vec<Entity>,
        message: String,
        progress: Option<Arc<Progress>>,
    ) -> Result<Option<Committed>> {
        let meta = WriteMeta {
            expected_branch_version: None,
            author: Some("ontograph".into()),
            message: Some(message),
            skip_if_unchanged: true,
            merge: None,
            audit: None,
        };
        self.write(branch, meta, move |o| o.import(entities), progress).await
    }

    /// `import`, and then what the branch holds and `entities` do not is
    /// kept, obsoleted or deleted (`Absent`): an ontology release imported
    /// as one commit of exactly what changed (docs/formats.md).
    pub async fn import_release(
        &self,
        branch: &str,
        entities: Vec<Entity>,
        absent: Absent,
        message: String,
        progress: Option<Arc<Progress>>,
    ) -> Result<Option<Committed>> {
        let meta = WriteMeta {
            expected_branch_version: None,
            author: Some("ontograph".into()),
            message: Some(message),
            skip_if_unchanged: true,
            merge: None,
            audit: None,
        };
        self.write(branch, meta, move |o| o.import_release(entities, absent), progress).await
    }

    /// The one write path. Runs in its own task so that a client hanging
    /// up cannot cancel it between the database commit and the publish.
    async fn write<F>(
        &self,
        branch: &str,
        meta: WriteMeta,
        apply: F,
        progress: Option<Arc<Progress>>,
    ) -> Result<Option<Committed>>
    where
        F: FnOnce(&Ontology) -> Result<Applied> + Send + 'static,
    {
        let limits = self.inner.writes;
        limits.check_message(meta.message.as_deref())?;
        let handle = self.handle(branch)?;
        let engine = self.clone();
        let task = async move {
            let _writer = handle.write.lock().await;
            // On a replica: checked against the database's head.
            engine.catch_up_before_write(&handle).await?;
            let state = handle.state.load_full();
            check_writable(&handle, &state, &meta)?;
            let base = state.ontology.clone();
            let applied = tokio::task::spawn_blocking(move || {
                let applied = apply(&base)?;
                // A big commit's rows are rendered and checked while they are written.
                if applied.changes.len() > STREAM_ROWS_ABOVE {
                    return Ok::<_, Error>((applied, None));
                }
                let rows = rows_for(&base, &applied);
                limits.check_rows(&applied.ontology, &rows)?;
                Ok((applied, Some(rows)))
            });
            let (applied, rows) = applied.await.map_err(Error::internal)??;
            if applied.changes.is_empty() && meta.skip_if_unchanged {
                return Ok(None);
            }
            engine.publish_commit(&handle, &state, (applied, rows), &meta, progress).await.map(Some)
        };
        tokio::spawn(task).await.map_err(Error::internal)?
    }
}

pub(super) struct WriteMeta {
    pub expected_branch_version: Option<i64>,
    pub author: Option<String>,
    pub message: Option<String>,
    /// Write no commit when nothing changed (idempotent import).
    pub skip_if_unchanged: bool,
    /// A merge commit: the source branch and the version it brought in.
    /// Merges are the one way into a protected branch.
    pub merge: Option<(String, i64)>,
    /// Recorded with the commit, atomically.
    pub audit: Option<AuditEntry>,
}

/// Protection and the optimistic lock on the branch head.
pub(super) fn check_writable(handle: &BranchHandle, state: &BranchState, meta: &WriteMeta) -> Result<()> {
    if state.protected && meta.merge.is_none() {
        return Err(Error::BranchProtected(handle.meta.name.clone()));
    }
    if let Some(expected) = meta.expected_branch_version {
        if expected != state.version {
            let what = format!("branch {}", handle.meta.name);
            return Err(Error::VersionConflict { what, expected, actual: state.version });
        }
    }
    Ok(())
}

impl Engine {
    /// Make `applied` (with its `rows_for`, or `None` to have them rendered
    /// and checked against the limits as they are written) durable as the
    /// commit after `state` (the head the caller read under the branch's
    /// writer lock), then publish it.
    pub(super) async fn publish_commit(
        &self,
        handle: &BranchHandle,
        state: &BranchState,
        (applied, rows): (Applied, Option<Vec<EntityRow>>),
        meta: &WriteMeta,
        progress: Option<Arc<Progress>>,
    ) -> Result<Committed> {
        let Applied { ontology, changes } = applied;
        let changes = Arc::new(changes);
        let rows = match &rows {
            Some(rows) => CommitRows::All(rows),
            None => {
                let base = (*state.ontology).clone();
                CommitRows::chunks(render_rows(self.inner.writes, base, ontology.clone(), changes.clone()))
            }
        };
        let commit = self
            .inner
            .store
            .append_commit(&NewCommit {
                branch: &handle.meta.name,
                expected_head: state.version,
                author: meta.author.as_deref(),
                message: meta.message.as_deref(),
                timestamp: Utc::now(),
                changes: &changes,
                rows,
                progress: progress.as_deref(),
                merge: meta.merge.as_ref().map(|(source, v)| MergeMark { source, source_version: *v }),
                audit: meta.audit.as_ref(),
            })
            .await?;
        // Most edits (names, descriptions, statuses, link details) leave
        // the graph as it was: the next state shares it. Others patch it.
        let changed = changes.len() as u64;
        let ontology = Arc::new(ontology);
        let next = if changes_graph(&changes) {
            let changed = changes.iter().map(|c| (c.entity_kind, c.id.clone())).collect();
            BranchState::changed_graph(commit.version, state.protected, ontology, state, changed)
        } else {
            BranchState::same_graph(commit.version, state.protected, ontology, state)
        };
        handle.state.store(Arc::new(next));
        self.checkpoint_after(handle, changed);
        self.cache_committed(handle.meta.uid, commit.version);
        // Nobody listening is fine: the commit is durable either way.
        let published = PublishedCommit { meta: handle.meta.clone(), record: commit.clone() };
        let _ = self.inner.commits.send(Arc::new(published));
        self.announce(&handle.meta.name, Some(commit.version)).await;
        Ok(Committed { commit, view: handle.view() })
    }
}

/// Whether changes can alter the graph: nodes come or go, or a node's
/// `extends`, `implements` or reference properties may have changed. A
/// link type's endpoints and relation are its identity, so modifying one
/// never moves an edge.
fn changes_graph(changes: &[EntityChange]) -> bool {
    changes.iter().any(|c| match (c.entity_kind, c.change) {
        (EntityKind::LinkType, ChangeKind::Modified) => false,
        (_, ChangeKind::Modified) => {
            c.fields.iter().any(|f| matches!(f.as_str(), "extends" | "implements" | "properties"))
        }
        _ => true,
    })
}

/// The entity rows a commit of `applied` on `base` writes: the new body of
/// every added or modified entity, a tombstone for every deleted one.
pub(super) fn rows_for(base: &Ontology, applied: &Applied) -> Vec<EntityRow> {
    rows_of(base, &applied.ontology, &applied.changes)
}

/// A commit of more changes than this renders its rows while they are
/// written, `ROW_BATCH` at a time on a blocking thread, instead of
/// holding every body (a million-type import is GBs of them) at once.
const STREAM_ROWS_ABOVE: usize = 4096;
const ROW_BATCH: usize = 4096;

/// `rows_of` every change in batches, each checked against `limits`, sent
/// as they are ready: the writer holds at most two batches unsent. Stops
/// at the first batch over a limit (sent as the error) or when the writer
/// has gone.
fn render_rows(limits: WriteLimits, base: Ontology, next: Ontology, changes: Arc<Vec<EntityChange>>) -> RowChunks {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        for batch in changes.chunks(ROW_BATCH) {
            let rows = rows_of(&base, &next, batch);
            let checked = limits.check_rows(&next, &rows).map(|()| rows);
            let over = checked.is_err();
            if tx.blocking_send(checked).is_err() || over {
                break;
            }
        }
    });
    rx
}

/// The rows `changes` (from `base` to `next`) write.
fn rows_of(base: &Ontology, next: &Ontology, changes: &[EntityChange]) -> Vec<EntityRow> {
    changes
        .iter()
        .map(|c: &EntityChange| {
            let (version, body) = match next.entity(c.entity_kind, &c.id) {
                Some(e) if c.change != ChangeKind::Deleted => (e.version(), Some(e.to_json().to_string())),
                _ => (base.entity(c.entity_kind, &c.id).map_or(0, |e| e.version()), None),
            };
            EntityRow { kind: c.entity_kind, id: c.id.clone(), version, body }
        })
        .collect()
}
