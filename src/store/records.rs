//! Plain records exchanged with the store.

use chrono::{DateTime, Utc};

use sqlx::types::Json;

use crate::error::{Error, Result};
use crate::model::{EntityChange, EntityKind};

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRecord {
    pub branch: String,
    pub version: i64,
    pub author: Option<String>,
    pub message: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub changes: Vec<EntityChange>,
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

/// Called with the number of entity rows written so far (import progress).
pub type Progress<'a> = &'a (dyn Fn(u64) + Send + Sync);

pub struct NewCommit<'a> {
    pub branch: &'a str,
    pub expected_head: i64,
    pub author: Option<&'a str>,
    pub message: Option<&'a str>,
    pub timestamp: DateTime<Utc>,
    pub changes: &'a [EntityChange],
    pub rows: &'a [EntityRow],
    pub progress: Option<Progress<'a>>,
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

/// `commits` as selected by both backends (`changes` is TEXT in SQLite,
/// JSONB in PostgreSQL; `Json` decodes either).
#[derive(sqlx::FromRow)]
pub(crate) struct CommitRow {
    branch: String,
    version: i64,
    author: Option<String>,
    message: Option<String>,
    created_at: DateTime<Utc>,
    changes: Json<Vec<EntityChange>>,
}

impl From<CommitRow> for CommitRecord {
    fn from(r: CommitRow) -> Self {
        CommitRecord {
            branch: r.branch,
            version: r.version,
            author: r.author,
            message: r.message,
            timestamp: r.created_at,
            changes: r.changes.0,
        }
    }
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
        let kind = EntityKind::parse(&r.kind).ok_or_else(|| {
            Error::internal(anyhow::anyhow!("unknown entity kind {:?} in store", r.kind))
        })?;
        Ok(EntityRow {
            kind,
            id: r.id,
            version: r.version,
            body: r.body,
        })
    }
}
