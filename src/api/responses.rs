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

use async_graphql::{Request, Response};
use bytes::Bytes;
use moka::future::Cache;

use super::reads::Reads;
use super::versions::only_versions;
use crate::engine::Engine;

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

    /// The stored response to `req`, if its branches have not moved
    /// since. Costs no parse: the key is the text, variables and name.
    pub async fn lookup(&self, engine: &Engine, req: &Request) -> Option<Bytes> {
        let entries = self.entries.as_ref()?;
        let e = entries.get(&key(req)?).await?;
        if !e.reads.iter().all(|(b, head)| engine.head(b) == *head) {
            return None;
        }
        self.counts[0].fetch_add(1, Ordering::Relaxed);
        Some(e.body.clone())
    }

    /// Before executing a query that missed: what it reads and the heads
    /// of those branches now, when it is one that may be stored (it only
    /// reads branches). Marks the request so traversals report whether
    /// they were computed.
    pub fn plan(&self, engine: &Engine, req: &mut Request, reads: Reads) -> Option<Pending> {
        self.entries.as_ref()?;
        let key = key(req)?;
        let Reads::Branches(names) = reads else { return None };
        self.counts[1].fetch_add(1, Ordering::Relaxed);
        let heads = names
            .into_iter()
            .map(|b| {
                let head = engine.head(&b);
                (b, head)
            })
            .collect();
        let computed = Computed::default();
        req.data.insert(computed.clone());
        Some(Pending { key, heads, computed })
    }

    /// Store the response of a planned request: only when it has no
    /// errors, every traversal in it came from the result cache (so
    /// `cached: true` in a replay is true), and no branch it read moved
    /// while it ran (it could never be replayed: see the module doc).
    pub async fn store(&self, engine: &Engine, pending: Pending, resp: &Response, body: &Bytes) {
        let Some(entries) = &self.entries else { return };
        let storable =
            resp.errors.is_empty() && only_versions(&resp.extensions) && !pending.computed.0.load(Ordering::Relaxed);
        if storable && pending.heads.iter().all(|(b, head)| engine.head(b) == *head) {
            entries.insert(pending.key, Arc::new(Entry { body: body.clone(), reads: pending.heads })).await;
        }
    }
}

/// A query on its way to being stored.
pub struct Pending {
    key: Key,
    heads: Vec<(String, Head)>,
    computed: Computed,
}

fn key(req: &Request) -> Option<Key> {
    if req.query.is_empty() {
        return None; // a pre-parsed document (the warm plan): no text to key by
    }
    Some(Key {
        query: req.query.clone(),
        variables: serde_json::to_string(&req.variables).ok()?,
        operation: req.operation_name.clone(),
    })
}
