//! Commits as GraphQL sees them.

use async_graphql::{Object, ID};
use chrono::{DateTime, Utc};

use super::enums::{ChangeKind, EntityKind};
use crate::model;
use crate::model::CommitRecord;

/// One durable change to a branch: the unit of history and of audit.
pub struct Commit(pub CommitRecord);

/// One durable change to a branch: the unit of history and of audit.
#[Object]
impl Commit {
    /// Name of the branch the commit was made on.
    async fn branch(&self) -> &str {
        &self.0.branch
    }
    /// The branch version this commit produced (1 for the first commit).
    async fn version(&self) -> i64 {
        self.0.version
    }
    /// Who made it: the authenticated principal (an API token's name or a
    /// JWT's subject). In open mode (no authentication configured), the
    /// `X-Ontograph-Author` request header; null when not sent.
    async fn author(&self) -> Option<&str> {
        self.0.author.as_deref()
    }
    /// The `message` given to the mutation; null when none.
    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }
    /// When the commit was made durable (UTC).
    async fn timestamp(&self) -> DateTime<Utc> {
        self.0.timestamp
    }
    /// Every entity the commit added, modified or deleted, by kind and id.
    async fn changes(&self) -> Vec<EntityChange> {
        self.0.changes.iter().cloned().map(EntityChange).collect()
    }
}

/// What one commit did to one entity.
pub struct EntityChange(pub model::EntityChange);

/// What one commit did to one entity.
#[Object]
impl EntityChange {
    /// Kind of the entity; tells how to read `id`.
    async fn entity_kind(&self) -> EntityKind {
        self.0.entity_kind.into()
    }
    /// apiName for nodes, `"{source}.{apiName}.{target}"` for link types.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// Whether the entity was added, modified or deleted.
    async fn change(&self) -> ChangeKind {
        self.0.change.into()
    }
    /// Top-level fields that changed (MODIFIED only), in name order.
    async fn fields(&self) -> &[String] {
        &self.0.fields
    }
}
