//! Parsed documents by their text: the same query sent again with other
//! variables (what frontends do) is not parsed, nor measured against the
//! document limits, again — it passed them the first time (only documents
//! that did are kept; the limits do not change while the server runs). A
//! hit costs a clone of the parsed document, which async-graphql consumes
//! as it executes. Bounded by approximate bytes.

use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;
use moka::sync::Cache;

/// 16 MiB.
pub const DEFAULT_DOCUMENT_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// A parsed document is about this many times its text.
const WEIGHT_PER_BYTE: usize = 8;

/// Cheap to clone; `None` inside when off (capacity 0).
#[derive(Clone)]
pub struct Documents(Option<Cache<String, Arc<ExecutableDocument>>>);

impl Documents {
    pub fn new(capacity_bytes: u64) -> Self {
        let weigh = |k: &String, _: &Arc<ExecutableDocument>| {
            u32::try_from(k.len().saturating_mul(WEIGHT_PER_BYTE + 1)).unwrap_or(u32::MAX)
        };
        Documents((capacity_bytes > 0).then(|| Cache::builder().max_capacity(capacity_bytes).weigher(weigh).build()))
    }

    /// A copy of the parsed document of `text`, if it was kept.
    pub fn get(&self, text: &str) -> Option<ExecutableDocument> {
        let kept = self.0.as_ref()?.get(text)?;
        Some(ExecutableDocument::clone(&kept))
    }

    /// Keep `doc`, the parse of `text`, which passed the document limits.
    pub fn insert(&self, text: &str, doc: &ExecutableDocument) {
        if let Some(c) = &self.0 {
            if !text.is_empty() {
                c.insert(text.to_owned(), Arc::new(doc.clone()));
            }
        }
    }
}
