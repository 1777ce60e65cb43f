//! Commits as GraphQL sees them.

use async_graphql::{Object, ID};
use chrono::{DateTime, Utc};

use super::enums::{ChangeKind, EntityKind};
use super::ids::{BranchRef, GlobalId};
use super::render::ChangeList;
use crate::engine::BranchMeta;
use crate::model;
use crate::model::CommitRecord;

/// One durable change to a branch: the unit of history and of audit.
pub struct Commit {
    /// The record, its `changes` moved to `changes`.
    record: CommitRecord,
    /// Shared with the list that renders them: an import's commit lists
    /// every entity, and is not copied per read.
    changes: std::sync::Arc<Vec<model::EntityChange>>,
    /// The incarnation of the branch it was made on (for ids).
    branch: BranchRef,
}

impl Commit {
    /// A commit of the branch incarnation `meta`.
    pub fn new(mut record: CommitRecord, meta: &BranchMeta) -> Self {
        let changes = std::sync::Arc::new(std::mem::take(&mut record.changes));
        Commit { record, changes, branch: BranchRef::of(meta) }
    }

    /// What the commit changed, by kind and entityId.
    pub fn entity_changes(&self) -> &[model::EntityChange] {
        &self.changes
    }
}

/// One durable change to a branch: the unit of history and of audit.
#[Object]
impl Commit {
    /// Global id (Relay `Node`) of this commit (`main#4`, told apart from
    /// the commits of an earlier branch of the same name). Commits never
    /// change. Opaque; resolve it with `node(id:)`.
    pub async fn id(&self) -> ID {
        GlobalId::Commit(self.branch.clone(), self.record.version).encode()
    }
    /// Name of the branch the commit was made on.
    async fn branch(&self) -> &str {
        &self.record.branch
    }
    /// The branch version this commit produced (1 for the first commit).
    async fn version(&self) -> i64 {
        self.record.version
    }
    /// Who made it: the authenticated principal (an API token's name or a
    /// JWT's subject). In open mode (no authentication configured), the
    /// `X-Ontograph-Author` request header; null when not sent.
    async fn author(&self) -> Option<&str> {
        self.record.author.as_deref()
    }
    /// The `message` given to the mutation; null when none.
    async fn message(&self) -> Option<&str> {
        self.record.message.as_deref()
    }
    /// When the commit was made durable (UTC).
    async fn timestamp(&self) -> DateTime<Utc> {
        self.record.timestamp
    }
    /// Every entity the commit added, modified or deleted, by kind and entityId.
    async fn changes(&self) -> ChangeList {
        ChangeList::new(self.changes.clone(), Some((self.branch.clone(), self.record.version)))
    }
}

/// What one commit did to one entity.
pub struct EntityChange {
    change: model::EntityChange,
    /// The commit it belongs to; `None` outside any commit (a diff, a
    /// dry-run merge).
    commit: Option<(BranchRef, i64)>,
}

impl EntityChange {
    /// A change within commit `version` of `branch`.
    pub fn in_commit(change: model::EntityChange, branch: &BranchRef, version: i64) -> Self {
        EntityChange { change, commit: Some((branch.clone(), version)) }
    }

    /// A change outside any commit: a diff, what a dry-run merge would do.
    pub fn value(change: model::EntityChange) -> Self {
        EntityChange { change, commit: None }
    }
}

/// What one commit did to one entity (or, in a diff or a dry-run merge,
/// what differs or would change).
#[Object]
impl EntityChange {
    /// Global id (Relay `Node`). Within a commit: this entity's change in
    /// that commit. In a diff or a dry-run merge, where there is no
    /// commit: the change's content itself (kind, entityId, change,
    /// fields), so equal ids always mean equal data. Changes never
    /// change. Opaque; resolve it with `node(id:)`.
    pub async fn id(&self) -> ID {
        let c = &self.change;
        match &self.commit {
            Some((branch, version)) => GlobalId::CommitChange(branch.clone(), *version, c.entity_kind, c.id.clone()),
            None => GlobalId::Change(c.clone()),
        }
        .encode()
    }
    /// Kind of the entity; tells how to read `entityId`.
    async fn entity_kind(&self) -> EntityKind {
        self.change.entity_kind.into()
    }
    /// The entity: apiName for nodes, `"{source}.{apiName}.{target}"` for
    /// link types (the same entity on every branch).
    async fn entity_id(&self) -> ID {
        ID(self.change.id.clone())
    }
    /// Whether the entity was added, modified or deleted.
    async fn change(&self) -> ChangeKind {
        self.change.change.into()
    }
    /// Top-level fields that changed (MODIFIED only), in name order.
    async fn fields(&self) -> &[String] {
        &self.change.fields
    }
}
