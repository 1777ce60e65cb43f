//! Cache warming: a GraphQL file of read-only operations that run in the
//! background at start and again after every commit on a branch they read,
//! so the answers a team asks for most are already cached. One operation
//! runs at a time (and its traversals on the engine's bounded pool), so
//! warming never competes with requests for more than one slot.

use std::collections::BTreeSet;
use std::path::Path;

use async_graphql::parser::types::{OperationType, Selection};
use async_graphql::{Name, Request, Value};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::task::JoinHandle;

use super::OntographSchema;
use crate::engine::{Engine, MAIN};

/// Most operations one warm file may hold.
pub const MAX_WARM_OPERATIONS: usize = 1000;

/// Which branch heads an operation reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reads {
    /// These branches (possibly none: only historical or server reads).
    Branches(BTreeSet<String>),
    /// Not known from the text (a variable branch name, `branches`, …).
    Any,
}

/// One operation of the warm file.
#[derive(Debug, Clone)]
pub struct WarmQuery {
    /// The operation's name (None for a lone anonymous operation).
    pub operation: Option<String>,
    pub reads: Reads,
}

/// The parsed warm file.
#[derive(Debug, Clone)]
pub struct WarmPlan {
    text: String,
    pub queries: Vec<WarmQuery>,
}

impl WarmPlan {
    /// Read and check a warm file: queries only, at most
    /// `MAX_WARM_OPERATIONS`.
    pub fn load(path: &Path) -> anyhow::Result<WarmPlan> {
        let text = std::fs::read_to_string(path)?;
        WarmPlan::parse(text).map_err(|e| anyhow::anyhow!("warm file {}: {e}", path.display()))
    }

    pub fn parse(text: String) -> Result<WarmPlan, String> {
        let doc = async_graphql::parser::parse_query(&text).map_err(|e| e.to_string())?;
        let mut queries = vec![];
        for (name, op) in doc.operations.iter() {
            let op = &op.node;
            if op.ty != OperationType::Query {
                return Err(format!("operation {} is not a query", name.map_or("(anonymous)", |n| n.as_str())));
            }
            let mut reads = BTreeSet::new();
            let mut any = false;
            for sel in &op.selection_set.node.items {
                let Selection::Field(f) = &sel.node else {
                    any = true;
                    continue;
                };
                let f = &f.node;
                match f.name.node.as_str() {
                    "branch" => {
                        let arg = |n: &str| f.arguments.iter().find(|(a, _)| a.node == n).map(|(_, v)| &v.node);
                        if arg("at").is_some() {
                            continue; // a past version never changes
                        }
                        match arg("name") {
                            None => {
                                reads.insert(MAIN.to_owned());
                            }
                            // A literal name; a variable (no constant value) could be any branch.
                            Some(v) => match v.clone().into_const() {
                                Some(Value::String(s)) => {
                                    reads.insert(s);
                                }
                                _ => any = true,
                            },
                        }
                        // A `diff` below reads its `against` branch too.
                        match super::responses::nested_reads(&doc, &f.selection_set.node, &Default::default()) {
                            Some(others) => reads.extend(others),
                            None => any = true,
                        }
                    }
                    "server" | "__typename" | "__schema" | "__type" => {}
                    _ => any = true,
                }
            }
            let reads = if any { Reads::Any } else { Reads::Branches(reads) };
            queries.push(WarmQuery { operation: name.map(Name::to_string), reads });
        }
        if queries.len() > MAX_WARM_OPERATIONS {
            return Err(format!("{} operations; at most {MAX_WARM_OPERATIONS}", queries.len()));
        }
        Ok(WarmPlan { text, queries })
    }

    async fn run(&self, schema: &OntographSchema, which: impl Fn(&WarmQuery) -> bool) {
        for q in self.queries.iter().filter(|q| which(q)) {
            let mut req = Request::new(self.text.clone());
            if let Some(op) = &q.operation {
                req = req.operation_name(op.clone());
            }
            let resp = schema.execute(req).await;
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

/// Run the plan now and after every commit on a branch it reads, until
/// the task is aborted. A burst of commits is answered by one run.
pub fn spawn(schema: OntographSchema, engine: &Engine, plan: WarmPlan) -> JoinHandle<()> {
    let mut commits = engine.subscribe();
    tokio::spawn(async move {
        plan.run(&schema, |_| true).await;
        loop {
            let mut dirty = BTreeSet::new();
            let mut all = false;
            match commits.recv().await {
                Ok(c) => {
                    dirty.insert(c.branch.clone());
                }
                Err(RecvError::Lagged(_)) => all = true,
                Err(RecvError::Closed) => return,
            }
            loop {
                match commits.try_recv() {
                    Ok(c) => {
                        dirty.insert(c.branch.clone());
                    }
                    Err(TryRecvError::Lagged(_)) => all = true,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => return,
                }
            }
            plan.run(&schema, |q| match &q.reads {
                Reads::Any => true,
                Reads::Branches(b) => all || !b.is_disjoint(&dirty),
            })
            .await;
        }
    })
}
