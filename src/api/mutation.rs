//! Mutation root. Every entity mutation (and a merge that changes
//! something) is exactly one commit: durable before it answers, all or
//! nothing. Branch and token administration write one transaction each.
//! Each resolver checks the caller's role first (`access`): a denied
//! request writes nothing.

use async_graphql::{Context, Object, ID};

use super::access::{self, require, require_on_branch};
use super::admin::{self, ApiToken, CreatedToken, Role};
use super::branch::Branch;
use super::commit::Commit;
use super::entities::{InterfaceType, LinkType, ObjectType, Read};
use super::error::GqlResult;
use super::ids::link_key;
use super::inputs::{
    ChangeInput, InterfaceInput, InterfacePatch, LinkTypeInput, LinkTypePatch, ObjectTypeInput, ObjectTypePatch,
};
use super::merge::{ConflictResolution, MergeResult};
use super::versions::Versions;
use crate::auth;
use crate::engine::{CommitRequest, Committed, Engine, IntoProtected, MergeRequest, MAIN};
use crate::error::{Error, Result};
use crate::model::{parse_link_id, Change};

pub struct MutationRoot;

/// Run one change as a commit, for an editor of `branch`.
async fn run(
    ctx: &Context<'_>,
    action: &str,
    branch: &str,
    change: Change,
    expected_branch_version: Option<i64>,
    message: Option<String>,
) -> async_graphql::Result<Committed> {
    let author = require_on_branch(ctx, auth::Role::Editor, action, branch).gql()?.author();
    let engine = ctx.data_unchecked::<Engine>();
    let req = CommitRequest { changes: vec![change], expected_branch_version, author, message };
    let committed = engine.commit(branch, req).await.gql()?;
    Versions::read(ctx, &committed.view);
    Ok(committed)
}

fn object_type(c: &Committed, api_name: &str) -> Result<ObjectType> {
    let o = &c.view.state.ontology;
    let t = o.object_type(api_name).ok_or_else(|| Error::internal(anyhow::anyhow!("{api_name} vanished")))?;
    Ok(ObjectType::new(t.clone(), Read::of(&c.view)))
}

fn interface(c: &Committed, api_name: &str) -> Result<InterfaceType> {
    let o = &c.view.state.ontology;
    let i = o.interface(api_name).ok_or_else(|| Error::internal(anyhow::anyhow!("{api_name} vanished")))?;
    Ok(InterfaceType::new(i.clone(), Read::of(&c.view)))
}

fn link_type(c: &Committed, id: &str) -> Result<LinkType> {
    let o = &c.view.state.ontology;
    let l = o.link_type(id).ok_or_else(|| Error::internal(anyhow::anyhow!("{id} vanished")))?;
    Ok(LinkType::new(l.clone(), Read::of(&c.view)))
}

/// A link type argument of a mutation on `branch`: its
/// `"{source}.{apiName}.{target}"`, or its global id on that branch.
fn link_arg(ctx: &Context<'_>, branch: &str, field: &str, id: &ID) -> Result<String> {
    let on = ctx.data_unchecked::<Engine>().branch(branch);
    let id = link_key(field, id, on.as_ref().map(|v| &v.meta))?;
    let msg = "expected \"{source}.{apiName}.{target}\" or a LinkType's id";
    parse_link_id(&id).map(|_| ()).ok_or_else(|| Error::bad_input(field, msg))?;
    Ok(id)
}

/// The commit a mutation made, with its branch's incarnation.
fn made(c: Committed) -> Commit {
    Commit::new(c.commit, &c.view.meta)
}

/// Writes. Each mutation is exactly one commit, durable before it answers.
#[Object(name = "Mutation")]
#[allow(clippy::too_many_arguments)]
impl MutationRoot {
    /// Create an object type. Fails with ALREADY_EXISTS when the apiName is
    /// taken by an object type or interface, BAD_USER_INPUT when a
    /// referenced apiName does not exist.
    async fn create_object_type(
        &self,
        ctx: &Context<'_>,
        branch: String,
        input: ObjectTypeInput,
        expected_branch_version: Option<i64>,
        message: Option<String>,
    ) -> async_graphql::Result<ObjectType> {
        let ot: crate::model::ObjectType = input.into();
        let name = ot.api_name.clone();
        let c = run(ctx, "createObjectType", &branch, Change::CreateObjectType(ot), expected_branch_version, message)
            .await?;
        object_type(&c, &name).gql()
    }

    /// Update an object type. `expectedVersion` must equal its current
    /// version, else VERSION_CONFLICT (with `expected` and `actual`) and
    /// nothing is written.
    async fn update_object_type(
        &self,
        ctx: &Context<'_>,
        branch: String,
        api_name: ID,
        expected_version: i64,
        input: ObjectTypePatch,
        expected_branch_version: Option<i64>,
        message: Option<String>,
    ) -> async_graphql::Result<ObjectType> {
        let change = Change::UpdateObjectType { api_name: api_name.0.clone(), expected_version, patch: input.into() };
        let c = run(ctx, "updateObjectType", &branch, change, expected_branch_version, message).await?;
        object_type(&c, &api_name).gql()
    }

    /// Delete an object type. Fails with IN_USE (listing `dependents`) while
    /// anything references it, unless `cascade: true`, which also deletes
    /// dependent link types and removes references in the same commit.
    async fn delete_object_type(
        &self,
        ctx: &Context<'_>,
        branch: String,
        api_name: ID,
        expected_version: i64,
        #[graphql(default_with = "Some(false)")] cascade: Option<bool>,
        expected_branch_version: Option<i64>,
        message: Option<String>,
    ) -> async_graphql::Result<Commit> {
        let cascade = cascade.unwrap_or(false);
        let change = Change::DeleteObjectType { api_name: api_name.0, expected_version, cascade };
        Ok(made(run(ctx, "deleteObjectType", &branch, change, expected_branch_version, message).await?))
    }

    /// Create an interface.
    async fn create_interface(
        &self,
        ctx: &Context<'_>,
        branch: String,
        input: InterfaceInput,
        expected_branch_version: Option<i64>,
        message: Option<String>,
    ) -> async_graphql::Result<InterfaceType> {
        let it: crate::model::Interface = input.into();
        let name = it.api_name.clone();
        let c =
            run(ctx, "createInterface", &branch, Change::CreateInterface(it), expected_branch_version, message).await?;
        interface(&c, &name).gql()
    }

    /// Update an interface (optimistic lock on `expectedVersion`).
    async fn update_interface(
        &self,
        ctx: &Context<'_>,
        branch: String,
        api_name: ID,
        expected_version: i64,
        input: InterfacePatch,
        expected_branch_version: Option<i64>,
        message: Option<String>,
    ) -> async_graphql::Result<InterfaceType> {
        let change = Change::UpdateInterface { api_name: api_name.0.clone(), expected_version, patch: input.into() };
        let c = run(ctx, "updateInterface", &branch, change, expected_branch_version, message).await?;
        interface(&c, &api_name).gql()
    }

    /// Delete an interface; IN_USE while implemented or extended unless
    /// `cascade: true`.
    async fn delete_interface(
        &self,
        ctx: &Context<'_>,
        branch: String,
        api_name: ID,
        expected_version: i64,
        #[graphql(default_with = "Some(false)")] cascade: Option<bool>,
        expected_branch_version: Option<i64>,
        message: Option<String>,
    ) -> async_graphql::Result<Commit> {
        let cascade = cascade.unwrap_or(false);
        let change = Change::DeleteInterface { api_name: api_name.0, expected_version, cascade };
        Ok(made(run(ctx, "deleteInterface", &branch, change, expected_branch_version, message).await?))
    }

    /// Create a link type between two existing object types.
    async fn create_link_type(
        &self,
        ctx: &Context<'_>,
        branch: String,
        input: LinkTypeInput,
        expected_branch_version: Option<i64>,
        message: Option<String>,
    ) -> async_graphql::Result<LinkType> {
        let lt: crate::model::LinkType = input.into();
        let id = lt.id();
        let c =
            run(ctx, "createLinkType", &branch, Change::CreateLinkType(lt), expected_branch_version, message).await?;
        link_type(&c, &id).gql()
    }

    /// Update a link type (optimistic lock on `expectedVersion`). `id` is
    /// its `linkId`, `"{source}.{apiName}.{target}"`, or its `id` on this
    /// branch.
    async fn update_link_type(
        &self,
        ctx: &Context<'_>,
        branch: String,
        id: ID,
        expected_version: i64,
        input: LinkTypePatch,
        expected_branch_version: Option<i64>,
        message: Option<String>,
    ) -> async_graphql::Result<LinkType> {
        let id = link_arg(ctx, &branch, "id", &id).gql()?;
        let change = Change::UpdateLinkType { id: id.clone(), expected_version, patch: input.into() };
        let c = run(ctx, "updateLinkType", &branch, change, expected_branch_version, message).await?;
        link_type(&c, &id).gql()
    }

    /// Delete a link type. `id` is its `linkId` or its `id` on this branch.
    async fn delete_link_type(
        &self,
        ctx: &Context<'_>,
        branch: String,
        id: ID,
        expected_version: i64,
        expected_branch_version: Option<i64>,
        message: Option<String>,
    ) -> async_graphql::Result<Commit> {
        let id = link_arg(ctx, &branch, "id", &id).gql()?;
        let change = Change::DeleteLinkType { id, expected_version };
        Ok(made(run(ctx, "deleteLinkType", &branch, change, expected_branch_version, message).await?))
    }

    /// Apply several changes atomically as one commit. References are
    /// checked on the final state, so a batch may create a type and its
    /// parent in any order. Error fields are prefixed `changes[i].`.
    async fn commit(
        &self,
        ctx: &Context<'_>,
        branch: String,
        changes: Vec<ChangeInput>,
        expected_branch_version: Option<i64>,
        message: Option<String>,
    ) -> async_graphql::Result<Commit> {
        let author = require_on_branch(ctx, auth::Role::Editor, "commit", &branch).gql()?.author();
        let engine = ctx.data_unchecked::<Engine>();
        let mut changes = changes;
        for (i, c) in changes.iter_mut().enumerate() {
            if let Some(id) = c.link_id_mut() {
                let on = engine.branch(&branch);
                *id = ID(link_key(&format!("changes[{i}].id"), id, on.as_ref().map(|v| &v.meta)).gql()?);
            }
        }
        let changes = changes.into_iter().map(Into::into).collect();
        let req = CommitRequest { changes, expected_branch_version, author, message };
        let committed = engine.commit(&branch, req).await.gql()?;
        Versions::read(ctx, &committed.view);
        Ok(made(committed))
    }

    /// Fork a branch from `from` at its head, or at its version `at`.
    /// O(1): the fork shares its parent's state and stores only its own
    /// changes.
    async fn create_branch(
        &self,
        ctx: &Context<'_>,
        name: String,
        #[graphql(default_with = "MAIN.to_owned()")] from: String,
        at: Option<i64>,
    ) -> async_graphql::Result<Branch> {
        require_on_branch(ctx, auth::Role::Editor, "createBranch", &name).gql()?;
        let engine = ctx.data_unchecked::<Engine>();
        let view = engine.create_branch(&name, &from, at).await.gql()?;
        Versions::read(ctx, &view);
        Ok(Branch(view))
    }

    /// Delete a branch and its history. `main` cannot be deleted
    /// (FORBIDDEN); a branch with forks is IN_USE.
    async fn delete_branch(
        &self,
        ctx: &Context<'_>,
        name: String,
        expected_version: i64,
    ) -> async_graphql::Result<bool> {
        require_on_branch(ctx, auth::Role::Maintainer, "deleteBranch", &name).gql()?;
        let audit = access::audit_entry(ctx, "branch.delete", Some(&name));
        ctx.data_unchecked::<Engine>().delete_branch(&name, expected_version, audit).await.gql()?;
        Ok(true)
    }

    /// Merge `source` into `target`, three-way against their merge base
    /// (the fork point, or the newest merge between the two), as one
    /// commit on the target; merging again later brings only newer
    /// changes. Conflicts are per field (MODIFY_MODIFY) or per entity
    /// (MODIFY_DELETE, ADD_ADD, BROKEN_REFERENCE) and are never settled
    /// silently: with one left unresolved nothing is written and the
    /// mutation fails with MERGE_CONFLICT (`extensions.conflicts`).
    /// `resolutions` pick a side per conflict; `dryRun` previews the
    /// conflicts and changes without writing. Merging into a protected
    /// branch is allowed: it is how protected branches change.
    #[allow(clippy::too_many_arguments)]
    async fn merge_branch(
        &self,
        ctx: &Context<'_>,
        source: String,
        #[graphql(default_with = "MAIN.to_owned()")] target: String,
        expected_target_version: Option<i64>,
        #[graphql(default_with = "Some(false)")] dry_run: Option<bool>,
        resolutions: Option<Vec<ConflictResolution>>,
        message: Option<String>,
    ) -> async_graphql::Result<MergeResult> {
        let dry_run = dry_run.unwrap_or(false);
        let principal = match dry_run {
            true => require(ctx, auth::Role::Viewer, "mergeBranch(dryRun: true)").gql()?,
            false => require_on_branch(ctx, auth::Role::Editor, "mergeBranch", &target).gql()?,
        };
        // Whether the target is protected is known under its writer lock.
        let into_protected = match principal.require(auth::Role::Maintainer, "merging into a protected branch") {
            Ok(()) => IntoProtected::Allow(access::audit_entry(ctx, "branch.merge", Some(&target))),
            Err(e) => IntoProtected::Refuse(e),
        };
        let denied_target = target.clone();
        let engine = ctx.data_unchecked::<Engine>();
        let resolutions = resolutions
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.resolve(i, &source, &target))
            .collect::<Result<_>>()
            .gql()?;
        let req = MergeRequest {
            source,
            target,
            expected_target_version,
            dry_run,
            resolutions,
            author: principal.author(),
            message,
            into_protected,
        };
        match engine.merge(req).await {
            Ok(outcome) => {
                // The states the merge read, and the commit it made.
                Versions::record(ctx, &outcome.source.name, outcome.source_version);
                let target = outcome.commit.as_ref().map_or(outcome.target_version, |c| c.version);
                Versions::record(ctx, &outcome.target.name, target);
                MergeResult::answer(outcome, dry_run)
            }
            // The refusal above, returned because the target is protected.
            Err(e @ Error::Forbidden { .. }) => Err(access::denied(ctx, "mergeBranch", Some(&denied_target), e)).gql(),
            Err(e) => Err(e).gql(),
        }
    }

    /// Create an API token for `role`, its writes limited to branches
    /// matching `branches` (globs; default all), valid for
    /// `expiresInDays` (default: until revoked). The secret is in the
    /// answer and nowhere else. Admins only.
    async fn create_token(
        &self,
        ctx: &Context<'_>,
        name: String,
        role: Role,
        branches: Option<Vec<String>>,
        expires_in_days: Option<i32>,
    ) -> async_graphql::Result<CreatedToken> {
        admin::create_token(ctx, name, role, branches, expires_in_days).await
    }

    /// Revoke the live token named `name`: it is refused from the next
    /// request on (on other replicas, from their next read of the token
    /// table). Admins only.
    async fn revoke_token(&self, ctx: &Context<'_>, name: String) -> async_graphql::Result<ApiToken> {
        admin::revoke_token(ctx, name).await
    }

    /// Protect a branch (direct writes fail with BRANCH_PROTECTED) or lift
    /// the protection. Maintainers only.
    async fn set_branch_protection(
        &self,
        ctx: &Context<'_>,
        name: String,
        protected: bool,
    ) -> async_graphql::Result<Branch> {
        require_on_branch(ctx, auth::Role::Maintainer, "setBranchProtection", &name).gql()?;
        let action = if protected { "branch.protect" } else { "branch.unprotect" };
        let audit = access::audit_entry(ctx, action, Some(&name));
        let view = ctx.data_unchecked::<Engine>().set_protection(&name, protected, audit).await.gql()?;
        Versions::read(ctx, &view);
        Ok(Branch(view))
    }
}
