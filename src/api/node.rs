//! Relay Global Object Identification: the `Node` interface, implemented
//! by every type a client cache may keep under its id, and the resolution
//! of an id back to its object (`Query.node`, `Query.nodes`).

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::parser::types::Field;
use async_graphql::{
    registry, Context, ContextSelectionSet, Interface, OutputType, Positioned, ServerResult, Value, ID,
};

use super::admin::{self, ApiToken, AuditEvent};
use super::branch::Branch;
use super::commit::{Commit, EntityChange};
use super::entities::{InterfaceType, LinkType, ObjectType, Read};
use super::ids::{BranchRef, ConflictRef, GlobalId};
use super::merge::{merge_ref, Conflict};
use super::versions::Versions;
use crate::engine::{BranchView, Engine, MergeRequest};
use crate::error::Result;
use crate::model::{self, EntityKind};

/// An object with a global id: `node(id:)` finds it again, and client
/// caches (Apollo, Relay, urql's graphcache) may keep it under its id.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "Globally unique, stable for what it denotes, opaque (base64url); `node(id:)` resolves it."
))]
pub enum Node {
    Branch(Branch),
    ObjectType(ObjectType),
    Interface(InterfaceType),
    LinkType(LinkType),
    Commit(Commit),
    EntityChange(EntityChange),
    Conflict(Conflict),
    ApiToken(ApiToken),
    AuditEvent(AuditEvent),
}

/// The branch incarnation `b` at its head (`at: None`) or as of version
/// `at` (< head: a past state); `None` when it no longer exists.
async fn view(engine: &Engine, b: &BranchRef, at: Option<i64>) -> Result<Option<BranchView>> {
    let Some(head) = engine.branch(&b.name).filter(|v| b.is(&v.meta)) else {
        return Ok(None);
    };
    let Some(at) = at else {
        return Ok(Some(head));
    };
    // A past-state id is only ever issued below the head.
    if at >= head.state.version {
        return Ok(None);
    }
    Ok(engine.branch_at(&b.name, at).await?.filter(|v| b.is(&v.meta) && v.at == Some(at)))
}

/// Commit `version` of the branch incarnation `b`, if it still exists.
async fn commit(engine: &Engine, b: &BranchRef, version: i64) -> Result<Option<Commit>> {
    let Some(head) = view(engine, b, None).await? else {
        return Ok(None);
    };
    if version > head.state.version {
        return Ok(None);
    }
    let rows = engine.commits(&b.name, Some(version + 1), 1).await?;
    // Read by name: still the same incarnation afterwards, so the row is its.
    if view(engine, b, None).await?.is_none() {
        return Ok(None);
    }
    Ok(rows.into_iter().find(|c| c.version == version).map(|c| Commit::new(c, &head.meta)))
}

/// The conflict `c` names, recomputed by a dry-run merge while both
/// branches are still at the versions it names.
async fn conflict(engine: &Engine, c: &ConflictRef) -> Result<Option<Conflict>> {
    let m = &c.merge;
    let heads = (view(engine, &m.source, None).await?, view(engine, &m.target, None).await?);
    let (Some(s), Some(t)) = heads else {
        return Ok(None);
    };
    if (s.state.version, t.state.version) != (m.source_version, m.target_version) {
        return Ok(None);
    }
    let resolutions = c
        .resolution
        .map(|choose| model::Resolution { id: c.entity_id.clone(), field: c.field.clone(), choose })
        .into_iter()
        .collect();
    let req = MergeRequest {
        source: m.source.name.to_string(),
        target: m.target.name.to_string(),
        expected_target_version: None,
        dry_run: true,
        resolutions,
        author: None,
        message: None,
        // A dry run writes nothing, protected target or not.
        into_protected: crate::engine::IntoProtected::Allow(None),
    };
    // A resolution this conflict does not arise under fails the dry run:
    // then there is no such conflict.
    let Ok(out) = engine.merge(req).await else {
        return Ok(None);
    };
    if merge_ref(&out) != *m {
        return Ok(None);
    }
    let merge = Arc::new(merge_ref(&out));
    Ok(out
        .conflicts
        .into_iter()
        .map(|found| Conflict::new(found, merge.clone()))
        .find(|found| ConflictRef::of(&merge, found.conflict()) == *c))
}

/// The object `id` denotes, or `None` when it no longer exists (or never
/// did). Tokens and audit events are for admins only (FORBIDDEN).
pub async fn resolve(ctx: &Context<'_>, id: GlobalId) -> Result<Option<Node>> {
    let engine = ctx.data_unchecked::<Engine>();
    Ok(match id {
        GlobalId::Token(id) => admin::token_by_id(ctx, &id)?.map(Node::ApiToken),
        GlobalId::AuditEvent(seq) => admin::audit_event(ctx, seq).await?.map(Node::AuditEvent),
        GlobalId::Branch(scope) => view(engine, &scope.branch, scope.at).await?.map(|v| {
            Versions::read(ctx, &v);
            Node::Branch(Branch(v))
        }),
        GlobalId::Entity(kind, scope, key) => {
            let Some(v) = view(engine, &scope.branch, scope.at).await? else {
                return Ok(None);
            };
            Versions::read(ctx, &v);
            let at = Read::of(&v);
            let o = &at.ontology;
            match kind {
                EntityKind::ObjectType => {
                    o.object_type(&key).map(|t| Node::ObjectType(ObjectType::new(t.clone(), at.clone())))
                }
                EntityKind::Interface => {
                    o.interface(&key).map(|i| Node::Interface(InterfaceType::new(i.clone(), at.clone())))
                }
                EntityKind::LinkType => o.link_type(&key).map(|l| Node::LinkType(LinkType::new(l.clone(), at.clone()))),
            }
        }
        GlobalId::Commit(b, version) => commit(engine, &b, version).await?.map(Node::Commit),
        GlobalId::CommitChange(b, version, kind, key) => {
            let Some(c) = commit(engine, &b, version).await? else {
                return Ok(None);
            };
            c.entity_changes()
                .iter()
                .find(|ch| ch.entity_kind == kind && ch.id == key)
                .map(|ch| Node::EntityChange(EntityChange::in_commit(ch.clone(), &b, version)))
        }
        GlobalId::Change(change) => Some(Node::EntityChange(EntityChange::value(change))),
        GlobalId::Conflict(c) => conflict(engine, &c).await?.map(Node::Conflict),
    })
}

/// Resolve one id argument (BAD_USER_INPUT naming `field` when malformed).
pub async fn node(ctx: &Context<'_>, field: &str, id: &ID) -> Result<Option<Node>> {
    resolve(ctx, GlobalId::parse(field, id)?).await
}

/// One entry of `nodes(ids:)`: a node, null, or an error of its own (a
/// malformed id) that nulls only this entry. async-graphql's
/// `Result<Option<T>>` would declare the entry non-null (`Node!`), so an
/// error would null the whole list.
pub struct NodeEntry(pub async_graphql::Result<Option<Node>>);

impl OutputType for NodeEntry {
    fn type_name() -> Cow<'static, str> {
        <Option<Node> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Option<Node> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut registry::Registry) -> String {
        <Option<Node> as OutputType>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        match &self.0 {
            Ok(node) => node.resolve(ctx, field).await,
            // As a nullable field does: the error is reported, the entry null.
            Err(err) => {
                ctx.add_error(ctx.set_error_path(err.clone().into_server_error(field.pos)));
                Ok(Value::Null)
            }
        }
    }
}
