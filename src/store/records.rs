//! Plain records exchanged with the store.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::{ChangeKind, EntityChange, EntityKind};
pub use crate::model::{CommitRecord, EntityKey};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BranchRecord {
    pub name: String,
    pub parent: Option<String>,
    /// Parent version this branch forked at.
    pub forked_at: Option<i64>,
    /// Number of commits on this branch.
    pub head: i64,
    pub protected: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewBranch {
    pub name: String,
    pub parent: Option<String>,
    pub forked_at: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// One entity as of one commit. `body` is the document JSON; `None` marks
/// a deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRow {
    pub kind: EntityKind,
    pub id: String,
    pub version: i64,
    pub body: Option<String>,
}

/// A branch head's state as checkpoint bytes, to be stored.
pub struct NewCheckpoint<'a> {
    pub branch: &'a str,
    pub version: i64,
    pub entities: i64,
    /// sha-256 of `data`, hex.
    pub digest: String,
    pub data: &'a [u8],
    pub created_at: DateTime<Utc>,
}

/// The newest checkpoint of a branch as stored: `data` is its chunks
/// joined in order (a missing or damaged chunk shows as a digest that
/// does not match).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Checkpoint {
    pub branch: String,
    pub version: i64,
    pub entities: i64,
    pub bytes: i64,
    pub chunks: i64,
    pub digest: String,
    pub created_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub data: Vec<u8>,
}

/// Called with the number of entity rows written so far (import progress).
pub type Progress = dyn Fn(u64) + Send + Sync;

/// `rows[i]` is the state `changes[i]` produced (same length, same order).
pub struct NewCommit<'a> {
    pub branch: &'a str,
    pub expected_head: i64,
    pub author: Option<&'a str>,
    pub message: Option<&'a str>,
    pub timestamp: DateTime<Utc>,
    pub changes: &'a [EntityChange],
    pub rows: CommitRows<'a>,
    pub progress: Option<&'a Progress>,
    /// Set when this commit is a merge: recorded with it, atomically.
    pub merge: Option<MergeMark<'a>>,
    /// An audit event recorded with the commit (a merge into a protected
    /// branch).
    pub audit: Option<&'a super::AuditEntry>,
}

/// The rows of a commit, in `changes`' order: all at hand, or rendered
/// elsewhere (off the async workers) and received a chunk at a time, so
/// that a commit of millions of entities never holds every body at once.
/// A chunk may be an error (a limit found while rendering): the commit is
/// then not made, and nothing of it is written.
pub enum CommitRows<'a> {
    All(&'a [EntityRow]),
    Chunks(std::sync::Mutex<Option<RowChunks>>),
}

/// The receiving end of rendered row chunks (`CommitRows::Chunks`).
pub type RowChunks = tokio::sync::mpsc::Receiver<Result<Vec<EntityRow>>>;

impl<'a> From<&'a [EntityRow]> for CommitRows<'a> {
    fn from(rows: &'a [EntityRow]) -> Self {
        CommitRows::All(rows)
    }
}

impl<'a> From<&'a Vec<EntityRow>> for CommitRows<'a> {
    fn from(rows: &'a Vec<EntityRow>) -> Self {
        CommitRows::All(rows)
    }
}

impl CommitRows<'_> {
    pub fn chunks(rx: RowChunks) -> Self {
        CommitRows::Chunks(std::sync::Mutex::new(Some(rx)))
    }

    /// The rows in order, a batch at a time. Chunks can be taken once.
    pub(crate) fn open(&self) -> Result<OpenRows<'_>> {
        match self {
            CommitRows::All(rows) => Ok(OpenRows::All(Some(rows))),
            CommitRows::Chunks(rx) => {
                let rx = rx.lock().map_err(|_| Error::internal(anyhow::anyhow!("row chunks poisoned")))?.take();
                let rx = rx.ok_or_else(|| Error::internal(anyhow::anyhow!("row chunks taken twice")))?;
                Ok(OpenRows::Chunks(rx))
            }
        }
    }
}

/// `CommitRows` being read.
pub(crate) enum OpenRows<'a> {
    All(Option<&'a [EntityRow]>),
    Chunks(RowChunks),
}

impl<'a> OpenRows<'a> {
    /// The next batch; `None` after the last.
    pub(crate) async fn next(&mut self) -> Result<Option<std::borrow::Cow<'a, [EntityRow]>>> {
        match self {
            OpenRows::All(rows) => Ok(rows.take().map(std::borrow::Cow::Borrowed)),
            OpenRows::Chunks(rx) => rx.recv().await.transpose().map(|c| c.map(std::borrow::Cow::Owned)),
        }
    }
}

/// What a merge commit brought in: `source` as of its version `source_version`.
#[derive(Debug, Clone, Copy)]
pub struct MergeMark<'a> {
    pub source: &'a str,
    pub source_version: i64,
}

/// A recorded merge: `target` at `target_version` holds `source` as of
/// `source_version`. `seq` orders merges across all branches.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MergeRecord {
    pub seq: i64,
    pub target: String,
    pub target_version: i64,
    pub source: String,
    pub source_version: i64,
}

impl NewCommit<'_> {
    pub fn record(&self) -> CommitRecord {
        CommitRecord {
            branch: self.branch.to_owned(),
            version: self.expected_head + 1,
            author: self.author.map(str::to_owned),
            message: self.message.map(str::to_owned),
            timestamp: self.timestamp,
            changes: self.changes.to_vec(),
        }
    }
}

/// Keep the last row of each run of equal (kind, id): rows arrive ordered
/// by (kind, id, commit_version), so the last one is the latest.
pub(crate) fn push_latest(out: &mut Vec<EntityRow>, row: EntityRow) {
    match out.last_mut() {
        Some(last) if last.kind == row.kind && last.id == row.id => *last = row,
        _ => out.push(row),
    }
}

/// `commits` as selected by both backends.
#[derive(sqlx::FromRow)]
pub(crate) struct CommitRow {
    branch: String,
    pub(crate) version: i64,
    author: Option<String>,
    message: Option<String>,
    created_at: DateTime<Utc>,
}

/// One entity change of a commit, as selected by both backends.
#[derive(sqlx::FromRow)]
pub(crate) struct ChangeRow {
    commit_version: i64,
    kind: String,
    id: String,
    change: String,
    fields: String,
}

/// The `fields` column: a JSON array of field names.
pub(crate) fn fields_json(fields: &[String]) -> String {
    serde_json::Value::from(fields.to_vec()).to_string()
}

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(anyhow::anyhow!("unexpected {what} {value:?} in store"))
}

/// Join commits with their changes (rows of any order), each commit's
/// changes in (kind, id) order as `Ontology::apply` reports them.
pub(crate) fn assemble(commits: Vec<CommitRow>, changes: Vec<ChangeRow>) -> Result<Vec<CommitRecord>> {
    let mut by_version: std::collections::HashMap<i64, Vec<EntityChange>> = Default::default();
    for c in changes {
        let change = EntityChange {
            entity_kind: EntityKind::parse(&c.kind).ok_or_else(|| corrupt("entity kind", &c.kind))?,
            id: c.id,
            change: ChangeKind::parse(&c.change).ok_or_else(|| corrupt("change kind", &c.change))?,
            fields: serde_json::from_str(&c.fields).map_err(|_| corrupt("fields", &c.fields))?,
        };
        by_version.entry(c.commit_version).or_default().push(change);
    }
    Ok(commits
        .into_iter()
        .map(|r| {
            let mut changes = by_version.remove(&r.version).unwrap_or_default();
            changes.sort_by(|a, b| (a.entity_kind, &a.id).cmp(&(b.entity_kind, &b.id)));
            CommitRecord {
                branch: r.branch,
                version: r.version,
                author: r.author,
                message: r.message,
                timestamp: r.created_at,
                changes,
            }
        })
        .collect())
}

/// `entity_versions` as selected by both backends (body as text).
#[derive(sqlx::FromRow)]
pub(crate) struct EntityRowRaw {
    kind: String,
    id: String,
    version: i64,
    body: Option<String>,
}

impl TryFrom<EntityRowRaw> for EntityRow {
    type Error = Error;
    fn try_from(r: EntityRowRaw) -> Result<Self> {
        let kind = EntityKind::parse(&r.kind)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown entity kind {:?} in store", r.kind)))?;
        Ok(EntityRow { kind, id: r.id, version: r.version, body: r.body })
    }
}

/// `(kind, id)` as selected by both backends.
#[derive(sqlx::FromRow)]
pub(crate) struct KeyRow {
    kind: String,
    id: String,
}

impl KeyRow {
    pub(crate) fn key(self) -> Result<EntityKey> {
        let kind = EntityKind::parse(&self.kind).ok_or_else(|| corrupt("entity kind", &self.kind))?;
        Ok((kind, self.id))
    }
}

/// Keys per `IN (…)` list: far below both backends' parameter limits.
const KEY_CHUNK: usize = 500;

/// `keys` without duplicates, cut into per-kind chunks for `IN (…)` lists.
pub(crate) fn key_chunks(keys: &[EntityKey]) -> Vec<(EntityKind, Vec<&String>)> {
    let mut sorted: Vec<&EntityKey> = keys.iter().collect();
    sorted.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    sorted.dedup();
    let mut out: Vec<(EntityKind, Vec<&String>)> = Vec::new();
    for (kind, id) in sorted {
        match out.last_mut() {
            Some((k, ids)) if k == kind && ids.len() < KEY_CHUNK => ids.push(id),
            _ => out.push((*kind, vec![id])),
        }
    }
    out
}
