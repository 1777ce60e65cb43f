//! Resolve a branch's full state from its own rows and its ancestors'.

use std::collections::HashMap;

use super::{BranchRecord, EntityRow, Store};
use crate::error::{Error, Result};
use crate::model::EntityKind;

/// The live entity rows of `branch` as of its commit `at`: the root
/// ancestor's rows up to the fork point, overlaid level by level with each
/// descendant's own rows (a deletion hides the ancestor's row). Rows come
/// back ordered by (kind name, id), as the stores list them.
pub async fn load_rows(store: &dyn Store, branches: &[BranchRecord], branch: &str, at: i64) -> Result<Vec<EntityRow>> {
    let levels = lineage(branches, branch, at)?;
    if let [(name, upto)] = levels[..] {
        // A root branch: its own rows are the state (no overlay to build).
        let mut rows = store.own_rows(name, upto).await?;
        rows.retain(|r| r.body.is_some());
        return Ok(rows);
    }
    let mut state: HashMap<(EntityKind, String), EntityRow> = HashMap::new();
    for (name, upto) in levels.into_iter().rev() {
        for row in store.own_rows(name, upto).await? {
            let key = (row.kind, row.id.clone());
            if row.body.is_some() {
                state.insert(key, row);
            } else {
                state.remove(&key);
            }
        }
    }
    let mut rows: Vec<EntityRow> = state.into_values().collect();
    rows.sort_by(|a, b| (a.kind.as_str(), &a.id).cmp(&(b.kind.as_str(), &b.id)));
    Ok(rows)
}

/// `branch` as of `at` and its ancestors, each with the newest version of
/// it that `branch` contains: `(branch, at)`, `(parent, forked_at)`, … up
/// to the root. `NOT_FOUND` for an unknown branch on the way.
pub fn lineage<'a>(branches: &'a [BranchRecord], branch: &'a str, at: i64) -> Result<Vec<(&'a str, i64)>> {
    let by_name: HashMap<&str, &BranchRecord> = branches.iter().map(|b| (b.name.as_str(), b)).collect();
    let mut levels = Vec::new();
    let (mut name, mut upto) = (branch, at);
    loop {
        let rec = by_name.get(name).ok_or_else(|| Error::NotFound(format!("branch {name}")))?;
        levels.push((name, upto));
        match (&rec.parent, rec.forked_at) {
            // Bounded by the number of branches, should the records ever form a cycle.
            (Some(p), Some(f)) if levels.len() <= branches.len() => (name, upto) = (p.as_str(), f),
            _ => return Ok(levels),
        }
    }
}
