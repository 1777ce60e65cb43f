//! The traversal result cache: a bounded moka `future::Cache` of answers
//! keyed by (branch incarnation, version, canonical question), weighed in
//! approximate bytes, with hit/miss/eviction counters. Identical
//! concurrent misses are computed once. Correct by construction: a key
//! names the exact state it was computed on, so a new version can never be
//! answered from an old entry; dropping old entries is memory hygiene.
//! Depends on `graph` (the answer types) only.

mod key;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use moka::notification::RemovalCause;

pub use key::{Answer, BranchKey, QueryKey, Question};

/// 256 MiB.
pub const DEFAULT_CAPACITY_BYTES: u64 = 256 * 1024 * 1024;

/// Size and lifetime bounds of the cache.
#[derive(Debug, Clone, Copy)]
pub struct CacheConfig {
    /// Upper bound of the summed entry weights (approximate bytes); 0
    /// turns the cache off (every answer is computed).
    pub capacity_bytes: u64,
    /// Drop an entry this long after it was computed.
    pub ttl: Option<Duration>,
    /// Drop an entry this long after it was last read.
    pub tti: Option<Duration>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig { capacity_bytes: DEFAULT_CAPACITY_BYTES, ttl: None, tti: None }
    }
}

/// Counters since start, and the current size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Answers served from the cache (including requests that waited for
    /// an identical in-flight computation).
    pub hits: u64,
    /// Answers that had to be computed (each miss is one computation).
    pub misses: u64,
    /// Entries held now.
    pub entries: u64,
    /// Summed weight of the entries, in approximate bytes.
    pub weighted_bytes: u64,
    /// The configured capacity in bytes.
    pub capacity_bytes: u64,
    /// Entries evicted to stay within the capacity.
    pub evictions: u64,
    /// Entries dropped because their TTL or TTI passed.
    pub expirations: u64,
    /// Entries dropped because their branch moved on or was deleted.
    pub invalidations: u64,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    expirations: AtomicU64,
    invalidations: AtomicU64,
}

/// The result cache. Cheap to clone (shared).
#[derive(Clone)]
pub struct ResultCache {
    /// `None` when configured with capacity 0.
    cache: Option<Cache<QueryKey, Answer>>,
    counters: Arc<Counters>,
    capacity_bytes: u64,
}

impl ResultCache {
    pub fn new(config: CacheConfig) -> Self {
        let counters = Arc::new(Counters::default());
        let cache = (config.capacity_bytes > 0).then(|| {
            let c = counters.clone();
            let mut b = Cache::builder()
                .max_capacity(config.capacity_bytes)
                .weigher(|k: &QueryKey, v: &Answer| u32::try_from(k.weight() + v.weight()).unwrap_or(u32::MAX))
                .support_invalidation_closures()
                .eviction_listener(move |_k, _v, cause| {
                    let counter = match cause {
                        RemovalCause::Size => &c.evictions,
                        RemovalCause::Expired => &c.expirations,
                        RemovalCause::Explicit => &c.invalidations,
                        RemovalCause::Replaced => return,
                    };
                    counter.fetch_add(1, Relaxed);
                });
            if let Some(ttl) = config.ttl {
                b = b.time_to_live(ttl);
            }
            if let Some(tti) = config.tti {
                b = b.time_to_idle(tti);
            }
            b.build()
        });
        ResultCache { cache, counters, capacity_bytes: config.capacity_bytes }
    }

    /// The cached answer for `key`, or the result of `compute` (stored
    /// when it succeeds). Concurrent calls for the same missing key run
    /// one `compute`; the others wait for it and share its result, error
    /// included. Returns the answer and whether it came from the cache.
    pub async fn get_or_compute<E, F>(&self, key: &QueryKey, compute: F) -> Result<(Answer, bool), Arc<E>>
    where
        F: Future<Output = Result<Answer, E>>,
        E: Send + Sync + 'static,
    {
        let Some(cache) = &self.cache else {
            self.counters.misses.fetch_add(1, Relaxed);
            return compute.await.map(|a| (a, false)).map_err(Arc::new);
        };
        match cache.entry_by_ref(key).or_try_insert_with(compute).await {
            Ok(entry) => {
                let cached = !entry.is_fresh();
                let counter = if cached { &self.counters.hits } else { &self.counters.misses };
                counter.fetch_add(1, Relaxed);
                Ok((entry.into_value(), cached))
            }
            Err(e) => {
                self.counters.misses.fetch_add(1, Relaxed);
                Err(e)
            }
        }
    }

    /// Drop one entry.
    pub async fn invalidate(&self, key: &QueryKey) {
        if let Some(cache) = &self.cache {
            cache.invalidate(key).await;
        }
    }

    /// Drop every entry whose branch matches `stale`. Takes effect at once
    /// for reads; the memory is released by a maintenance pass that this
    /// starts in the background.
    pub fn invalidate_branches(&self, stale: impl Fn(&BranchKey) -> bool + Send + Sync + 'static) {
        let Some(cache) = &self.cache else { return };
        if let Err(e) = cache.invalidate_entries_if(move |k, _| stale(&k.branch)) {
            // Only possible without `support_invalidation_closures`, which
            // `new` always sets; the keys are still versioned, so no stale read.
            tracing::error!(error = %e, "cache invalidation failed");
            return;
        }
        let cache = cache.clone();
        tokio::spawn(async move { cache.run_pending_tasks().await });
    }

    /// Apply pending invalidations and evictions now (tests, stats).
    pub async fn sync(&self) {
        if let Some(cache) = &self.cache {
            cache.run_pending_tasks().await;
        }
    }

    pub fn stats(&self) -> CacheStats {
        let c = &self.counters;
        CacheStats {
            hits: c.hits.load(Relaxed),
            misses: c.misses.load(Relaxed),
            entries: self.cache.as_ref().map_or(0, |c| c.entry_count()),
            weighted_bytes: self.cache.as_ref().map_or(0, |c| c.weighted_size()),
            capacity_bytes: self.capacity_bytes,
            evictions: c.evictions.load(Relaxed),
            expirations: c.expirations.load(Relaxed),
            invalidations: c.invalidations.load(Relaxed),
        }
    }
}
