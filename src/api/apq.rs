//! Automatic persisted queries: clients send the SHA-256 of a document
//! instead of the document (async-graphql's `ApolloPersistedQueries`),
//! backed by a bounded moka cache weighed by the documents' sizes.

use std::fmt::Write;

use async_graphql::parser::types::ExecutableDocument;
use moka::future::Cache;

/// 16 MiB.
pub const DEFAULT_APQ_CAPACITY_BYTES: u64 = 16 * 1024 * 1024;

/// Parsed documents by the hex SHA-256 of their text.
#[derive(Clone)]
pub struct PersistedQueries(Cache<String, ExecutableDocument>);

/// Counts bytes written to it.
struct ByteCount(usize);

impl Write for ByteCount {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Approximate in-memory size of a parsed document: its debug rendering
/// is proportional to the syntax tree (names, positions, nesting).
fn weight(key: &str, doc: &ExecutableDocument) -> u32 {
    let mut n = ByteCount(key.len());
    let _ = write!(n, "{doc:?}");
    u32::try_from(n.0).unwrap_or(u32::MAX)
}

impl PersistedQueries {
    pub fn new(capacity_bytes: u64) -> Self {
        PersistedQueries(Cache::builder().max_capacity(capacity_bytes).weigher(|k: &String, d| weight(k, d)).build())
    }
}

#[async_trait::async_trait]
impl async_graphql::extensions::apollo_persisted_queries::CacheStorage for PersistedQueries {
    async fn get(&self, key: String) -> Option<ExecutableDocument> {
        self.0.get(&key).await
    }

    async fn set(&self, key: String, query: ExecutableDocument) {
        self.0.insert(key, query).await;
    }
}
