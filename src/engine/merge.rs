//! Diff and three-way merge between branches. The merge base of two
//! branches is the state both last agreed on: the source state brought in
//! by their newest merge (either direction), or else the fork point of
//! their closest common ancestor. Base, source and target share structure
//! (see `history`), so both cost O(changes), not O(size).

use std::sync::Arc;

use super::write::{check_writable, rows_for, WriteMeta};
use super::{BranchMeta, BranchState, Engine};
use crate::error::{Error, Result};
use crate::model::{self, Conflict, EntityChange, Resolution};
use crate::store::{lineage, AuditEntry, BranchRecord, CommitRecord, MergeRecord};

/// `mergeBranch`'s arguments.
pub struct MergeRequest {
    pub source: String,
    pub target: String,
    pub expected_target_version: Option<i64>,
    pub dry_run: bool,
    pub resolutions: Vec<Resolution>,
    pub author: Option<String>,
    pub message: Option<String>,
    /// When the target turns out to be protected (checked under its writer
    /// lock): the error refusing the merge, for a caller who may not merge
    /// into protected branches; else the audit event to record with it.
    pub into_protected: IntoProtected,
}

/// What a merge into a protected branch does.
pub enum IntoProtected {
    /// Fail with this error, writing nothing.
    Refuse(Error),
    /// Merge, recording this audit event with the commit.
    Allow(Option<AuditEntry>),
}

/// What a merge did, or (dry run) would do.
pub struct MergeOutcome {
    /// The target now holds the merge. False for a dry run, and for a
    /// merge stopped by a conflict no resolution settles (nothing written:
    /// the API answers MERGE_CONFLICT).
    pub merged: bool,
    /// The merge commit; `None` when nothing needed to change.
    pub commit: Option<CommitRecord>,
    /// Every conflict found, with the side a resolution chose.
    pub conflicts: Vec<Conflict>,
    /// The changes the merge makes to the target.
    pub changes: Vec<EntityChange>,
    /// The branches merged and the versions the merge was computed at
    /// (the conflicts are those of these two states).
    pub source: BranchMeta,
    pub source_version: i64,
    pub target: BranchMeta,
    pub target_version: i64,
}

/// A branch's changes since its merge base with another.
pub struct BranchDiff {
    /// The branch whose state is the merge base, and its version.
    pub base_branch: String,
    pub base_version: i64,
    pub changes: Vec<EntityChange>,
}

impl Engine {
    /// What `branch` changed since its merge base with `against`.
    pub async fn diff(&self, branch: &str, state: &Arc<BranchState>, against: &str) -> Result<BranchDiff> {
        let (base_branch, base_version) = self.merge_base(branch, against).await?;
        let base = self.state_at(&*self.handle(&base_branch)?, base_version).await?;
        let state = state.clone();
        let changes = self.inner.lane.run(move || state.ontology.diff_since(&base.ontology)).await?;
        Ok(BranchDiff { base_branch, base_version, changes })
    }

    /// Merge `source` into `target` as one commit on the target. With an
    /// unresolved conflict nothing is written: an outcome with `merged:
    /// false` listing the conflicts (the API answers `MERGE_CONFLICT`
    /// unless it was a dry run).
    pub async fn merge(&self, req: MergeRequest) -> Result<MergeOutcome> {
        if req.source == req.target {
            return Err(Error::bad_input("source", "a branch cannot be merged into itself"));
        }
        let source = self.handle(&req.source)?;
        let target = self.handle(&req.target)?;
        let engine = self.clone();
        // Its own task: a client hanging up cannot cancel it between the
        // database commit and the publish.
        let task = async move {
            if !req.dry_run {
                // On a replica: the source as the database has it now. Under
                // its own writer lock, released before the target's is
                // taken, so two merges never wait on each other's locks.
                let _source_writer = source.write.lock().await;
                engine.catch_up_before_write(&source).await?;
            }
            // The target's writer lock: the state merged into is the head
            // the commit replaces, and a concurrent merge sees this one's
            // base. A dry run writes nothing, so it does not hold writers up.
            let _writer = match req.dry_run {
                false => Some(target.write.lock().await),
                true => None,
            };
            if !req.dry_run {
                engine.catch_up_before_write(&target).await?;
            }
            let t = target.state.load_full();
            let s = source.state.load_full();
            let audit = match (t.protected && !req.dry_run, req.into_protected) {
                (false, _) => None,
                (true, IntoProtected::Refuse(e)) => return Err(e),
                (true, IntoProtected::Allow(a)) => a,
            };
            let source_version = s.version;
            let meta = WriteMeta {
                expected_branch_version: req.expected_target_version,
                author: req.author,
                message: Some(req.message.unwrap_or_else(|| format!("merge {} into {}", req.source, req.target))),
                skip_if_unchanged: true,
                merge: Some((req.source.clone(), s.version)),
                audit,
            };
            check_writable(&target, &t, &meta)?;
            let outcome = |merged, commit, conflicts, changes| MergeOutcome {
                merged,
                commit,
                conflicts,
                changes,
                source: source.meta.clone(),
                source_version,
                target: target.meta.clone(),
                target_version: t.version,
            };
            let (base_branch, base_version) = engine.merge_base(&req.source, &req.target).await?;
            let base = engine.state_at(&*engine.handle(&base_branch)?, base_version).await?;
            let (tt, resolutions, dry_run) = (t.clone(), req.resolutions, req.dry_run);
            let merged = engine.inner.lane.run(move || {
                let merged = model::merge(&base.ontology, &s.ontology, &tt.ontology, &resolutions)?;
                // The rows to store, unless nothing will be stored.
                let rows = merged.applied.as_ref().filter(|_| !dry_run).map(|a| rows_for(&tt.ontology, a));
                Ok::<_, Error>((merged, rows))
            });
            let (model::Merged { conflicts, applied }, rows) = merged.await??;
            let Some(applied) = applied else {
                return Ok(outcome(false, None, conflicts, vec![]));
            };
            let changes = applied.changes.clone();
            if req.dry_run || changes.is_empty() {
                return Ok(outcome(!req.dry_run, None, conflicts, changes));
            }
            let committed = engine.publish_commit(&target, &t, (applied, rows), &meta, None).await?;
            Ok(outcome(true, Some(committed.commit), conflicts, changes))
        };
        tokio::spawn(task).await.map_err(Error::internal)?
    }

    /// (branch, version) of the merge base of `a` and `b`.
    async fn merge_base(&self, a: &str, b: &str) -> Result<(String, i64)> {
        let merges = self.inner.store.merges().await?;
        merge_base(&self.records(), &merges, a, b)
    }
}

/// The newest merge between `a` and `b` (either direction) brought in its
/// source as of `source_version`: both sides hold that state. Without one,
/// the closest common ancestor as of the earlier of the two fork points.
pub(super) fn merge_base(records: &[BranchRecord], merges: &[MergeRecord], a: &str, b: &str) -> Result<(String, i64)> {
    let newest = merges.iter().rev().find(|m| (m.source == a && m.target == b) || (m.source == b && m.target == a));
    if let Some(m) = newest {
        return Ok((m.source.clone(), m.source_version));
    }
    let head = |name: &str| records.iter().find(|r| r.name == name).map_or(0, |r| r.head);
    let (la, lb) = (lineage(records, a, head(a))?, lineage(records, b, head(b))?);
    for (name, va) in &la {
        if let Some((_, vb)) = lb.iter().find(|(n, _)| n == name) {
            return Ok((name.to_string(), (*va).min(*vb)));
        }
    }
    Err(Error::bad_input("source", format!("branches {a} and {b} have no common ancestor")))
}
