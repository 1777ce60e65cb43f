//! Diffs, merges and conflicts as GraphQL sees them.

use async_graphql::{Enum, InputObject, Json, Object, SimpleObject, ID};

use super::commit::{Commit, EntityChange};
use super::enums::EntityKind;
use crate::engine;
use crate::model;

/// What kind of disagreement a conflict is.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::ConflictKind")]
pub enum ConflictKind {
    /// Both branches changed the same field to different values (`field` names it).
    ModifyModify,
    /// One branch changed an entity the other deleted.
    ModifyDelete,
    /// Both branches added the entity (or the same node name) with different content.
    AddAdd,
    /// One branch deleted a node that the other branch's entities refer to (`dependents`).
    BrokenReference,
}

/// A side of a merge.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::Side")]
pub enum Side {
    /// The branch being merged (`source`).
    Source,
    /// The branch merged into (`target`).
    Target,
}

/// Settle one conflict: the conflict on entity `id` (and `field`, for
/// MODIFY_MODIFY) takes the value of the chosen side. For a whole-entity
/// conflict the chosen side's entity is kept as it is there; choosing a
/// side where it is deleted deletes it and removes references to it.
#[derive(InputObject)]
pub struct ConflictResolution {
    /// The conflict's `id`.
    pub id: ID,
    /// The conflict's `field` (MODIFY_MODIFY only; omit for whole-entity conflicts).
    pub field: Option<String>,
    /// Which side's value wins.
    pub choose: Side,
}

impl From<ConflictResolution> for model::Resolution {
    fn from(r: ConflictResolution) -> Self {
        model::Resolution { id: r.id.0, field: r.field, choose: r.choose.into() }
    }
}

/// A disagreement between source and target, relative to their merge base.
pub struct Conflict(pub model::Conflict);

/// A disagreement between source and target, relative to their merge base.
#[Object]
impl Conflict {
    /// Kind of the entity in conflict.
    async fn entity_kind(&self) -> EntityKind {
        self.0.entity_kind.into()
    }
    /// The entity: apiName for nodes, `"{source}.{apiName}.{target}"` for link types.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The top-level field both sides changed (MODIFY_MODIFY); null for whole-entity conflicts.
    async fn field(&self) -> Option<&str> {
        self.0.field.as_deref()
    }
    /// What kind of disagreement this is.
    async fn kind(&self) -> ConflictKind {
        self.0.kind.into()
    }
    /// The value in the merge base (the field's value, or the entity's document); null when absent.
    async fn base(&self) -> Option<Json<&serde_json::Value>> {
        self.0.base.as_ref().map(Json)
    }
    /// The value on the source branch; null when absent (deleted or never added).
    async fn source(&self) -> Option<Json<&serde_json::Value>> {
        self.0.source.as_ref().map(Json)
    }
    /// The value on the target branch; null when absent.
    async fn target(&self) -> Option<Json<&serde_json::Value>> {
        self.0.target.as_ref().map(Json)
    }
    /// BROKEN_REFERENCE: the entities that refer to `id`.
    async fn dependents(&self) -> &[String] {
        &self.0.dependents
    }
    /// The side a resolution chose; null while unresolved.
    async fn resolution(&self) -> Option<Side> {
        self.0.resolution.map(Into::into)
    }
}

/// The outcome of `mergeBranch`.
pub struct MergeResult(pub engine::MergeOutcome);

/// The outcome of `mergeBranch`.
#[Object]
impl MergeResult {
    /// Whether the target now holds the merge (false for a dry run).
    async fn merged(&self) -> bool {
        self.0.merged
    }
    /// The merge commit on the target; null for a dry run or when the
    /// target already held everything.
    async fn commit(&self) -> Option<Commit> {
        self.0.commit.clone().map(Commit)
    }
    /// Every conflict found, each with the side its resolution chose
    /// (a dry run lists unresolved ones with `resolution: null`).
    async fn conflicts(&self) -> Vec<Conflict> {
        self.0.conflicts.iter().cloned().map(Conflict).collect()
    }
    /// What the merge changes on the target (a dry run: would change,
    /// once no conflict is left unresolved).
    async fn changes(&self) -> Vec<EntityChange> {
        self.0.changes.iter().cloned().map(EntityChange).collect()
    }
}

/// A branch's changes since its merge base with another branch.
#[derive(SimpleObject)]
pub struct BranchDiff {
    /// Version of the merge base on `baseBranch`: the fork point, or the
    /// source version the newest merge between the two brought in.
    pub base: Option<i64>,
    /// The branch whose state at version `base` is the merge base.
    pub base_branch: String,
    /// Entities this branch added, modified (with the fields) or deleted
    /// since the merge base, in (kind, id) order.
    pub changes: Vec<EntityChange>,
}

impl From<engine::BranchDiff> for BranchDiff {
    fn from(d: engine::BranchDiff) -> Self {
        BranchDiff {
            base: Some(d.base_version),
            base_branch: d.base_branch,
            changes: d.changes.into_iter().map(EntityChange).collect(),
        }
    }
}

/// `extensions.conflicts` of a MERGE_CONFLICT error: the fields of
/// `Conflict`, so a client reads both the same way.
pub(super) fn conflicts_value(conflicts: &[model::Conflict]) -> async_graphql::Value {
    let one = |c: &model::Conflict| {
        let value = |v: &Option<serde_json::Value>| {
            v.as_ref().and_then(|v| async_graphql::Value::from_json(v.clone()).ok()).unwrap_or_default()
        };
        let name = |e: async_graphql::Name| async_graphql::Value::Enum(e);
        let mut m = async_graphql::indexmap::IndexMap::new();
        m.insert(async_graphql::Name::new("entityKind"), name(async_graphql::Name::new(c.entity_kind.as_str())));
        m.insert(async_graphql::Name::new("id"), async_graphql::Value::from(c.id.clone()));
        m.insert(async_graphql::Name::new("field"), c.field.clone().map_or(async_graphql::Value::Null, Into::into));
        m.insert(async_graphql::Name::new("kind"), name(async_graphql::Name::new(kind_name(c.kind))));
        m.insert(async_graphql::Name::new("base"), value(&c.base));
        m.insert(async_graphql::Name::new("source"), value(&c.source));
        m.insert(async_graphql::Name::new("target"), value(&c.target));
        m.insert(async_graphql::Name::new("dependents"), c.dependents.clone().into());
        let resolution = c.resolution.map(|s| match s {
            model::Side::Source => "SOURCE",
            model::Side::Target => "TARGET",
        });
        m.insert(
            async_graphql::Name::new("resolution"),
            resolution.map_or(async_graphql::Value::Null, |r| name(async_graphql::Name::new(r))),
        );
        async_graphql::Value::Object(m)
    };
    async_graphql::Value::List(conflicts.iter().map(one).collect())
}

fn kind_name(k: model::ConflictKind) -> &'static str {
    match k {
        model::ConflictKind::ModifyModify => "MODIFY_MODIFY",
        model::ConflictKind::ModifyDelete => "MODIFY_DELETE",
        model::ConflictKind::AddAdd => "ADD_ADD",
        model::ConflictKind::BrokenReference => "BROKEN_REFERENCE",
    }
}
