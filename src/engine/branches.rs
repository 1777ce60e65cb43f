//! Branch lifecycle: fork, delete, protect, and the demo seed.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;

use super::{BranchHandle, BranchState, BranchView, Engine, MAIN};
use crate::error::{Error, Result};
use crate::model::demo;
use crate::store::{AuditEntry, NewBranch};

/// Branch names: readable, URL- and log-safe.
fn validate_name(name: &str) -> Result<()> {
    let ok = name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c));
    if !ok {
        return Err(Error::bad_input(
            "name",
            "a branch name is 1-100 characters of [A-Za-z0-9._/-], starting alphanumeric",
        ));
    }
    Ok(())
}

impl Engine {
    /// Fork `from` at its head or at its commit `at`. The fork shares the
    /// parent's state (persistent maps: O(1)) and the store writes one row.
    pub async fn create_branch(&self, name: &str, from: &str, at: Option<i64>) -> Result<BranchView> {
        validate_name(name)?;
        let _admin = self.inner.admin.lock().await;
        let max = self.inner.writes.max_branches;
        if self.inner.branches.load().len() >= max {
            return Err(Error::LimitExceeded(format!(
                "this server holds {max} branches, the most it keeps (--max-branches); delete one first"
            )));
        }
        let parent = self.handle(from)?;
        let at = at.unwrap_or_else(|| parent.state.load().version);
        // At the head: the parent's state itself, graph included (O(1)).
        // Earlier: its past state, O(changes since `at`).
        let base = self.state_at(&parent, at).await?;
        let new =
            NewBranch { name: name.into(), parent: Some(from.into()), forked_at: Some(at), created_at: Utc::now() };
        let rec = self.inner.store.create_branch(&new).await?;
        let state = BranchState::same_graph(0, false, base.ontology.clone(), &base);
        let handle = Arc::new(BranchHandle::new(&rec, state));
        let view = handle.view();
        self.publish_branches(|m| {
            m.insert(rec.name.clone(), handle.clone());
        });
        self.announce(name, None).await;
        Ok(view)
    }

    /// Delete a branch. `main` cannot be deleted; a branch with forks is
    /// `IN_USE`; a protected one is `BRANCH_PROTECTED`. `audit` is recorded
    /// with the deletion, atomically.
    pub async fn delete_branch(&self, name: &str, expected_version: i64, audit: Option<AuditEntry>) -> Result<()> {
        if name == MAIN {
            return Err(Error::forbidden("the main branch cannot be deleted"));
        }
        let _admin = self.inner.admin.lock().await;
        let handle = self.handle(name)?;
        let _writer = handle.write.lock().await;
        let state = handle.state.load();
        if state.protected {
            return Err(Error::BranchProtected(name.into()));
        }
        if state.version != expected_version {
            let what = format!("branch {name}");
            return Err(Error::VersionConflict { what, expected: expected_version, actual: state.version });
        }
        self.inner.store.delete_branch(name, audit.as_ref()).await?;
        self.publish_branches(|m| {
            m.remove(name);
        });
        self.cache_deleted(handle.meta.uid);
        self.inner.history.forget(handle.meta.uid);
        self.announce(name, None).await;
        Ok(())
    }

    /// Turn protection on or off. Protected branches reject direct writes.
    /// `audit` is recorded with the change, atomically.
    pub async fn set_protection(&self, name: &str, protected: bool, audit: Option<AuditEntry>) -> Result<BranchView> {
        let handle = self.handle(name)?;
        let _writer = handle.write.lock().await;
        self.inner.store.set_protected(name, protected, audit.as_ref()).await?;
        let cur = handle.state.load_full();
        let next = BranchState::same_graph(cur.version, protected, cur.ontology.clone(), &cur);
        handle.state.store(Arc::new(next));
        self.announce(name, None).await;
        Ok(handle.view())
    }

    /// Seed the demo ontology into `main` when the whole store is empty.
    pub async fn seed_demo_if_empty(&self) -> Result<bool> {
        let empty = self.branches().iter().all(|b| b.state.version == 0);
        if !empty {
            return Ok(false);
        }
        let entities = demo().into_entities().collect();
        Ok(self.import(MAIN, entities, "seed the demo ontology".into(), None).await?.is_some())
    }

    /// Swap in a new branch map (copy-on-write; branch changes are rare).
    pub(super) fn publish_branches(&self, edit: impl FnOnce(&mut BTreeMap<String, Arc<BranchHandle>>)) {
        let mut map = BTreeMap::clone(&self.inner.branches.load());
        edit(&mut map);
        self.inner.branches.store(Arc::new(map));
    }
}
