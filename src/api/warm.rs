//! Cache warming: a GraphQL file of read-only operations that run in the
//! background at start and again after every commit on a branch they read,
//! so the answers a team asks for most are already cached. One operation
//! runs at a time (and its traversals on the engine's bounded pool), so
//! warming never competes with requests for more than one slot.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Request, Variables};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::task::JoinHandle;

pub use super::reads::Reads;
use super::Api;
use crate::engine::Engine;

/// Most operations one warm file may hold.
pub const MAX_WARM_OPERATIONS: usize = 1000;

/// One operation of the warm file.
#[derive(Debug, Clone)]
pub struct WarmQuery {
    /// The operation's name (None for a lone anonymous operation).
    pub operation: Option<String>,
    pub reads: Reads,
    /// The operation alone, with the fragments it uses: each run
    /// validates only its own operation, and the request limits apply to
    /// it, not to the whole file.
    document: ExecutableDocument,
}

/// The parsed warm file.
#[derive(Debug, Clone)]
pub struct WarmPlan {
    pub queries: Vec<WarmQuery>,
}

impl WarmPlan {
    /// Read and check a warm file: queries only, at most
    /// `MAX_WARM_OPERATIONS`.
    pub fn load(path: &Path) -> anyhow::Result<WarmPlan> {
        let text = std::fs::read_to_string(path)?;
        WarmPlan::parse(&text).map_err(|e| anyhow::anyhow!("warm file {}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<WarmPlan, String> {
        let doc = async_graphql::parser::parse_query(text).map_err(|e| e.to_string())?;
        let mut queries = vec![];
        for (name, op) in doc.operations.iter() {
            if op.node.ty != OperationType::Query {
                return Err(format!("operation {} is not a query", name.map_or("(anonymous)", |n| n.as_str())));
            }
            queries.push(WarmQuery {
                operation: name.map(Name::to_string),
                reads: super::reads::reads(&doc, &op.node, &Variables::default()),
                document: alone(&doc, op),
            });
        }
        if queries.len() > MAX_WARM_OPERATIONS {
            return Err(format!("{} operations; at most {MAX_WARM_OPERATIONS}", queries.len()));
        }
        Ok(WarmPlan { queries })
    }

    async fn run(&self, api: &Api, which: impl Fn(&WarmQuery) -> bool) {
        for q in self.queries.iter().filter(|q| which(q)) {
            let mut req = Request::new("").data(warm_principal());
            req.set_parsed_query(q.document.clone());
            let resp = api.run_internal(req).await;
            let op = q.operation.as_deref().unwrap_or("(anonymous)");
            if resp.errors.is_empty() {
                tracing::debug!(operation = op, "warmed");
            } else {
                let errors: Vec<String> = resp.errors.iter().map(|e| e.message.clone()).collect();
                tracing::warn!(operation = op, ?errors, "warm query failed");
            }
        }
    }
}

/// The warm plan reads as a viewer (it runs queries only).
fn warm_principal() -> crate::auth::Principal {
    crate::auth::Principal { role: crate::auth::Role::Viewer, ..crate::auth::Principal::local("warm") }
}

/// A document of `op` alone, with the fragments it uses (validation
/// refuses unused ones).
fn alone(doc: &ExecutableDocument, op: &Positioned<OperationDefinition>) -> ExecutableDocument {
    let mut used = HashSet::new();
    let mut todo = vec![&op.node.selection_set.node];
    while let Some(set) = todo.pop() {
        spreads(set, &mut |name| {
            if used.insert(name.clone()) {
                if let Some(f) = doc.fragments.get(name) {
                    todo.push(&f.node.selection_set.node);
                }
            }
        });
    }
    let fragments = doc.fragments.iter().filter(|(n, _)| used.contains(*n)).map(|(n, f)| (n.clone(), f.clone()));
    ExecutableDocument { operations: DocumentOperations::Single(op.clone()), fragments: fragments.collect() }
}

/// Calls `found` with every fragment spread in `set` (not inside the
/// fragments it names).
fn spreads<'a>(set: &'a SelectionSet, found: &mut impl FnMut(&'a Name)) {
    for sel in &set.items {
        match &sel.node {
            Selection::Field(f) => spreads(&f.node.selection_set.node, found),
            Selection::InlineFragment(i) => spreads(&i.node.selection_set.node, found),
            Selection::FragmentSpread(s) => found(&s.node.fragment_name.node),
        }
    }
}

/// Run the plan now and after every commit on a branch it reads, until
/// the task is aborted. A burst of commits is answered by one run.
pub fn spawn(api: Api, engine: &Engine, plan: WarmPlan) -> JoinHandle<()> {
    let mut commits = engine.subscribe();
    tokio::spawn(async move {
        plan.run(&api, |_| true).await;
        loop {
            let mut dirty = BTreeSet::new();
            let mut all = false;
            match commits.recv().await {
                Ok(c) => {
                    dirty.insert(c.record.branch.clone());
                }
                Err(RecvError::Lagged(_)) => all = true,
                Err(RecvError::Closed) => return,
            }
            loop {
                match commits.try_recv() {
                    Ok(c) => {
                        dirty.insert(c.record.branch.clone());
                    }
                    Err(TryRecvError::Lagged(_)) => all = true,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => return,
                }
            }
            plan.run(&api, |q| match &q.reads {
                Reads::Any => true,
                Reads::Branches(b) => all || !b.is_disjoint(&dirty),
            })
            .await;
        }
    })
}
