//! `extensions.versions`: the version of every branch a response was
//! answered at (docs/production.md, "Read your writes"). A client reading
//! through a load balancer learns which state of each branch it saw, and
//! passes it back as `branch(minVersion:)` or the `Ontograph-Min-Version`
//! header to any replica to read at least that state.
//!
//! Recorded where a branch's state is taken — `branch`, `branches`,
//! `node(id:)` of a branch or entity, and the branch a mutation wrote —
//! so the version is the one the answer was computed from, not a head
//! read afterwards. A branch read twice in one response (at its head and
//! with `at:`) reports the newer version.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_graphql::{Context, Name, Value};

use crate::engine::BranchView;

/// The branches one request read, by name: shared by its resolvers.
#[derive(Clone, Default)]
pub struct Versions(Arc<Mutex<BTreeMap<String, i64>>>);

impl Versions {
    /// Note that the request read `view` (no-op outside a request that
    /// collects versions).
    pub fn read(ctx: &Context<'_>, view: &BranchView) {
        Versions::record(ctx, &view.meta.name, view.state.version);
    }

    /// Note that the request read or wrote `branch` at `version`.
    pub fn record(ctx: &Context<'_>, branch: &str, version: i64) {
        if let Some(v) = ctx.data_opt::<Versions>() {
            let mut seen = v.0.lock().unwrap_or_else(|p| p.into_inner());
            let at = seen.entry(branch.to_owned()).or_insert(version);
            *at = (*at).max(version);
        }
    }

    /// Add `versions` to the response's extensions when a branch was read.
    pub fn attach(&self, resp: &mut async_graphql::Response) {
        let seen = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        if seen.is_empty() {
            return;
        }
        let map = seen.into_iter().map(|(b, v)| (Name::new(b), Value::from(v))).collect();
        resp.extensions.insert("versions".to_owned(), Value::Object(map));
    }
}

/// Whether `ext` holds only what `attach` adds: such a response may be
/// stored by the response cache (a replay is valid only at the same heads,
/// so its versions stay true).
pub fn only_versions(ext: &BTreeMap<String, Value>) -> bool {
    ext.keys().all(|k| k == "versions")
}
