//! Whole-response cache for repeated read-only queries: the serialized
//! response of a query that only reads branches, keyed by its exact text,
//! variables and operation name, and valid only while every branch it
//! read is still at the version it was read at. A hit skips parsing,
//! validation, execution and serialization, which for a cached traversal
//! is most of the cost (the traversal answer itself is cached already).
//!
//! Never stale: the heads of the branches a query reads are recorded
//! before it executes, and a lookup replays the response only while every
//! one of them is still at that head. Heads only move forward, so a
//! response that saw a newer state than recorded can never match (and is
//! not even stored: the heads are checked again after execution).
//! Never wrong about `cached`: a response is stored only when every
//! traversal in it came from the result cache, so replaying it (with
//! `cached: true`) tells the truth.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use async_graphql::parser::types::{ExecutableDocument, Field, OperationType, Selection, SelectionSet};
use async_graphql::{Request, Response, Value, Variables};
use bytes::Bytes;
use moka::future::Cache;

use crate::engine::{Engine, MAIN};

/// Default capacity in bytes of stored responses.
pub const DEFAULT_RESPONSE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Set by a traversal field whose answer was computed, not cached: such a
/// response must not be replayed (it says `cached: false`).
#[derive(Clone, Default)]
pub struct Computed(Arc<AtomicBool>);

impl Computed {
    pub fn mark(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    query: String,
    variables: String,
    operation: Option<String>,
}

/// A branch's identity and head as seen by a request: `None` when absent.
type Head = Option<(u64, i64)>;

struct Entry {
    body: Bytes,
    reads: Vec<(String, Head)>,
}

/// The response cache (cheap to clone).
#[derive(Clone)]
pub struct ResponseCache {
    entries: Option<Cache<Key, Arc<Entry>>>,
    capacity_bytes: u64,
    counts: Arc<[AtomicU64; 2]>,
}

/// Counters since start and current size of the response cache.
#[derive(async_graphql::SimpleObject)]
pub struct ResponseCacheStats {
    /// Requests answered with a stored response.
    pub hits: u64,
    /// Cacheable requests (branch reads only) that had to execute.
    pub misses: u64,
    /// Responses held now (updated by the cache's maintenance; may lag).
    pub entries: u64,
    /// Approximate bytes held now.
    pub weighted_bytes: u64,
    /// The configured capacity in bytes (0: the response cache is off).
    pub capacity_bytes: u64,
}

/// A response ready to send: its JSON body, and whether it came from the
/// cache (then it has no errors).
pub struct Executed {
    pub body: Bytes,
    pub response: Option<Response>,
}

impl ResponseCache {
    /// A cache of at most `capacity_bytes` of response bodies; 0 turns it off.
    pub fn new(capacity_bytes: u64) -> Self {
        let entries = (capacity_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(capacity_bytes)
                .weigher(|k: &Key, e: &Arc<Entry>| {
                    let size = k.query.len() + k.variables.len() + e.body.len() + 64 * (e.reads.len() + 1);
                    u32::try_from(size).unwrap_or(u32::MAX)
                })
                .build()
        });
        ResponseCache { entries, capacity_bytes, counts: Default::default() }
    }

    /// Apply pending evictions now (the cache does this in the background;
    /// tests and stats readers that need exact sizes call it).
    pub async fn sync(&self) {
        if let Some(c) = &self.entries {
            c.run_pending_tasks().await;
        }
    }

    pub fn stats(&self) -> ResponseCacheStats {
        let (entries, weighted_bytes) = self.entries.as_ref().map_or((0, 0), |c| (c.entry_count(), c.weighted_size()));
        ResponseCacheStats {
            hits: self.counts[0].load(Ordering::Relaxed),
            misses: self.counts[1].load(Ordering::Relaxed),
            entries,
            weighted_bytes,
            capacity_bytes: self.capacity_bytes,
        }
    }

    /// Run one request through `execute` (the schema), or answer it from
    /// the cache. `Executed::response` is the fresh response (for status
    /// codes and logging), `None` on a hit.
    pub async fn run<F, Fut>(&self, engine: &Engine, mut req: Request, execute: F) -> Executed
    where
        F: FnOnce(Request) -> Fut,
        Fut: std::future::Future<Output = Response>,
    {
        let Some(entries) = &self.entries else {
            return fresh(execute(req).await);
        };
        let Some(key) = key(&req) else {
            return fresh(execute(req).await);
        };
        if let Some(e) = entries.get(&key).await {
            if e.reads.iter().all(|(b, head)| engine.head(b) == *head) {
                self.counts[0].fetch_add(1, Ordering::Relaxed);
                return Executed { body: e.body.clone(), response: None };
            }
        }
        let reads = reads(&mut req).map(|names| names.into_iter().map(|b| (b.clone(), engine.head(&b))).collect());
        if reads.is_some() {
            self.counts[1].fetch_add(1, Ordering::Relaxed);
        }
        let computed = Computed::default();
        let resp = execute(req.data(computed.clone())).await;
        let out = fresh(resp);
        let storable = out.response.as_ref().is_some_and(|r| r.errors.is_empty() && r.extensions.is_empty())
            && !computed.0.load(Ordering::Relaxed);
        if let (true, Some(reads)) = (storable, reads) {
            let reads: Vec<(String, Head)> = reads;
            // Not stored if a read branch moved during execution: it could
            // never be replayed (see the module doc).
            if reads.iter().all(|(b, head)| engine.head(b) == *head) {
                entries.insert(key, Arc::new(Entry { body: out.body.clone(), reads })).await;
            }
        }
        out
    }
}

fn fresh(resp: Response) -> Executed {
    let body = Bytes::from(serde_json::to_vec(&resp).unwrap_or_default());
    Executed { body, response: Some(resp) }
}

fn key(req: &Request) -> Option<Key> {
    if req.query.is_empty() {
        return None; // persisted-query hash only: the text is not known yet
    }
    Some(Key {
        query: req.query.clone(),
        variables: serde_json::to_string(&req.variables).ok()?,
        operation: req.operation_name.clone(),
    })
}

/// The branches a query reads, when that is all it reads: root fields
/// `branch` (literal or variable name, default `main`) and `__typename`.
/// `None` for anything else (mutations, `server`, `branches`, fragments
/// at the root, introspection, unparsable text).
fn reads(req: &mut Request) -> Option<Vec<String>> {
    let (operation, variables) = (req.operation_name.clone(), req.variables.clone());
    // The request keeps this parse: execution does not parse again.
    let doc = req.parsed_query().ok()?;
    let op = &super::guard::selected_operation(doc, operation.as_deref())?.node;
    if op.ty != OperationType::Query || !op.directives.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for sel in &op.selection_set.node.items {
        let Selection::Field(f) = &sel.node else { return None };
        let f = &f.node;
        match f.name.node.as_str() {
            "__typename" => {}
            "branch" => {
                out.push(branch_arg(&variables, f, "name")?);
                out.extend(nested_reads(doc, &f.selection_set.node, &variables)?);
            }
            _ => return None,
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// A branch-name argument: literal, variable, or `main` when omitted.
fn branch_arg(variables: &Variables, f: &Field, arg: &str) -> Option<String> {
    match f.arguments.iter().find(|(a, _)| a.node == arg).map(|(_, v)| &v.node) {
        None => Some(MAIN.to_owned()),
        Some(v) => match v.clone().into_const_with(|var| variable(variables, &var)).ok()? {
            Value::String(s) => Some(s),
            _ => None,
        },
    }
}

/// Branches read below a `branch` field: the `against` of every `diff`
/// (it reads that branch, and the merges between the two, which only a
/// commit on one of them moves), through fragments. `None` when it cannot
/// be told from the text. The warm plan uses it too.
pub(super) fn nested_reads(doc: &ExecutableDocument, set: &SelectionSet, variables: &Variables) -> Option<Vec<String>> {
    let mut out = Vec::new();
    walk_diffs(doc, set, variables, &mut out, 0)?;
    Some(out)
}

fn walk_diffs(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    variables: &Variables,
    out: &mut Vec<String>,
    depth: usize,
) -> Option<()> {
    if depth > 64 {
        return None;
    }
    for sel in &set.items {
        match &sel.node {
            Selection::Field(f) => {
                if f.node.name.node == "diff" {
                    out.push(branch_arg(variables, &f.node, "against")?);
                }
                walk_diffs(doc, &f.node.selection_set.node, variables, out, depth + 1)?;
            }
            Selection::InlineFragment(i) => walk_diffs(doc, &i.node.selection_set.node, variables, out, depth + 1)?,
            Selection::FragmentSpread(s) => {
                let frag = doc.fragments.get(&s.node.fragment_name.node)?;
                walk_diffs(doc, &frag.node.selection_set.node, variables, out, depth + 1)?;
            }
        }
    }
    Some(())
}

fn variable(vars: &Variables, name: &async_graphql::Name) -> Result<Value, ()> {
    vars.get(name).cloned().ok_or(())
}
