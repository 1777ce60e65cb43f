//! Diffs, merges and conflicts as GraphQL sees them.

use std::sync::Arc;

use async_graphql::{Enum, ErrorExtensions, InputObject, Json, Object, SimpleObject, ID};

use super::commit::Commit;
use super::enums::EntityKind;
use super::ids::{BranchRef, ConflictRef, GlobalId, MergeRef};
use super::render::ChangeList;
use crate::engine;
use crate::error::{Error, Result};
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
    /// The conflict's `entityId`, or the conflict's own `id` (which
    /// implies `field`; the branch versions in it are not checked: guard
    /// with `expectedTargetVersion`).
    pub id: ID,
    /// The conflict's `field` (MODIFY_MODIFY only; omit for whole-entity conflicts).
    pub field: Option<String>,
    /// Which side's value wins.
    pub choose: Side,
}

impl ConflictResolution {
    /// The model's resolution of `resolutions[i]` for merging `source`
    /// into `target`: `id` is an entityId (it contains no global id's
    /// form) or a Conflict id of a merge of these two branches.
    pub fn resolve(self, i: usize, source: &str, target: &str) -> Result<model::Resolution> {
        let choose = self.choose.into();
        let field_name = format!("resolutions[{i}].id");
        let Some(GlobalId::Conflict(c)) = GlobalId::decode(&self.id) else {
            return Ok(model::Resolution { id: self.id.0, field: self.field, choose });
        };
        if *c.merge.source.name != *source || *c.merge.target.name != *target {
            let msg = format!("names a conflict of merging {} into {}", c.merge.source.name, c.merge.target.name);
            return Err(Error::bad_input(field_name, msg));
        }
        if self.field.is_some() && self.field != c.field {
            return Err(Error::bad_input(format!("resolutions[{i}].field"), "differs from the conflict's field"));
        }
        Ok(model::Resolution { id: c.entity_id, field: c.field, choose })
    }
}

/// A disagreement between source and target, relative to their merge base.
pub struct Conflict {
    conflict: model::Conflict,
    merge: Arc<MergeRef>,
}

impl Conflict {
    pub fn new(conflict: model::Conflict, merge: Arc<MergeRef>) -> Self {
        Conflict { conflict, merge }
    }

    pub fn conflict(&self) -> &model::Conflict {
        &self.conflict
    }
}

/// A disagreement between source and target, relative to their merge base.
#[Object]
impl Conflict {
    /// Global id (Relay `Node`) of this conflict of merging `source` into
    /// `target` at the versions they had, with the side its resolution
    /// chose. `node(id:)` finds it again only while both branches are
    /// still at those versions (and a BROKEN_REFERENCE conflict only when
    /// no other resolution shaped it); afterwards it is null. Opaque.
    pub async fn id(&self) -> ID {
        GlobalId::Conflict(ConflictRef::of(&self.merge, &self.conflict)).encode()
    }
    /// Kind of the entity in conflict.
    async fn entity_kind(&self) -> EntityKind {
        self.conflict.entity_kind.into()
    }
    /// The entity: apiName for nodes, `"{source}.{apiName}.{target}"` for
    /// link types. Name it (or the conflict's `id`) in a `ConflictResolution`.
    async fn entity_id(&self) -> ID {
        ID(self.conflict.id.clone())
    }
    /// The top-level field both sides changed (MODIFY_MODIFY); null for whole-entity conflicts.
    async fn field(&self) -> Option<&str> {
        self.conflict.field.as_deref()
    }
    /// What kind of disagreement this is.
    async fn kind(&self) -> ConflictKind {
        self.conflict.kind.into()
    }
    /// The value in the merge base (the field's value, or the entity's document); null when absent.
    async fn base(&self) -> Option<Json<&serde_json::Value>> {
        self.conflict.base.as_ref().map(Json)
    }
    /// The value on the source branch; null when absent (deleted or never added).
    async fn source(&self) -> Option<Json<&serde_json::Value>> {
        self.conflict.source.as_ref().map(Json)
    }
    /// The value on the target branch; null when absent.
    async fn target(&self) -> Option<Json<&serde_json::Value>> {
        self.conflict.target.as_ref().map(Json)
    }
    /// BROKEN_REFERENCE: the entities that refer to `entityId`.
    async fn dependents(&self) -> &[String] {
        &self.conflict.dependents
    }
    /// The side a resolution chose; null while unresolved.
    async fn resolution(&self) -> Option<Side> {
        self.conflict.resolution.map(Into::into)
    }
}

/// The merge an outcome was computed for.
pub fn merge_ref(out: &engine::MergeOutcome) -> MergeRef {
    MergeRef {
        source: BranchRef::of(&out.source),
        source_version: out.source_version,
        target: BranchRef::of(&out.target),
        target_version: out.target_version,
    }
}

/// The outcome of `mergeBranch`.
pub struct MergeResult(pub engine::MergeOutcome);

impl MergeResult {
    /// The outcome as the mutation answers it: MERGE_CONFLICT (nothing
    /// written) when a real merge found a conflict no resolution settles.
    pub fn answer(out: engine::MergeOutcome, dry_run: bool) -> async_graphql::Result<MergeResult> {
        if dry_run || out.merged {
            return Ok(MergeResult(out));
        }
        let merge = merge_ref(&out);
        let mut err = Error::MergeConflict(out.conflicts.clone()).extend();
        if let Some(ext) = err.extensions.as_mut() {
            ext.set("conflicts", conflicts_value(&out.conflicts, Some(&merge)));
        }
        Err(err)
    }
}

/// The outcome of `mergeBranch`. Not a `Node`: it is the answer to one
/// mutation, not something to look up again; its commit, conflicts and
/// changes have ids of their own.
#[Object]
impl MergeResult {
    /// Whether the target now holds the merge (false for a dry run).
    async fn merged(&self) -> bool {
        self.0.merged
    }
    /// The merge commit on the target; null for a dry run or when the
    /// target already held everything.
    async fn commit(&self) -> Option<Commit> {
        self.0.commit.clone().map(|c| Commit::new(c, &self.0.target))
    }
    /// Every conflict found, each with the side its resolution chose
    /// (a dry run lists unresolved ones with `resolution: null`).
    async fn conflicts(&self) -> Vec<Conflict> {
        let merge = Arc::new(merge_ref(&self.0));
        self.0.conflicts.iter().map(|c| Conflict::new(c.clone(), merge.clone())).collect()
    }
    /// What the merge changes on the target (a dry run: would change,
    /// once no conflict is left unresolved). After a merge these are the
    /// merge commit's changes, with the same ids.
    async fn changes(&self) -> ChangeList {
        let commit = self.0.commit.as_ref().map(|c| (BranchRef::of(&self.0.target), c.version));
        ChangeList::new(Arc::new(self.0.changes.clone()), commit)
    }
}

/// A branch's changes since its merge base with another branch. Not a
/// `Node`: a client cache keeps it with the branch it was read from.
#[derive(SimpleObject)]
pub struct BranchDiff {
    /// Version of the merge base on `baseBranch`: the fork point, or the
    /// source version the newest merge between the two brought in.
    pub base: Option<i64>,
    /// The branch whose state at version `base` is the merge base.
    pub base_branch: String,
    /// Entities this branch added, modified (with the fields) or deleted
    /// since the merge base, in (kind, entityId) order.
    pub changes: ChangeList,
}

impl From<engine::BranchDiff> for BranchDiff {
    fn from(d: engine::BranchDiff) -> Self {
        BranchDiff {
            base: Some(d.base_version),
            base_branch: d.base_branch,
            changes: ChangeList::new(Arc::new(d.changes), None),
        }
    }
}

/// `extensions.conflicts` of a MERGE_CONFLICT error: the fields of
/// `Conflict`, so a client reads both the same way; `id` only when the
/// merge is known (`MergeResult::answer`).
pub(super) fn conflicts_value(conflicts: &[model::Conflict], merge: Option<&MergeRef>) -> async_graphql::Value {
    let one = |c: &model::Conflict| {
        let value = |v: &Option<serde_json::Value>| {
            v.as_ref().and_then(|v| async_graphql::Value::from_json(v.clone()).ok()).unwrap_or_default()
        };
        let name = |e: async_graphql::Name| async_graphql::Value::Enum(e);
        let mut m = async_graphql::indexmap::IndexMap::new();
        if let Some(merge) = merge {
            let id = GlobalId::Conflict(ConflictRef::of(merge, c)).encode();
            m.insert(async_graphql::Name::new("id"), async_graphql::Value::from(id.0));
        }
        m.insert(async_graphql::Name::new("entityKind"), name(async_graphql::Name::new(c.entity_kind.as_str())));
        m.insert(async_graphql::Name::new("entityId"), async_graphql::Value::from(c.id.clone()));
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
