//! Automatic persisted queries (Apollo's protocol): a client sends the
//! SHA-256 of a document instead of the document; when the server does
//! not know it (`PersistedQueryNotFound`) the client sends both, and the
//! server keeps the text. Kept in a bounded moka cache weighed by text
//! size. A document is remembered only after it passed every check of
//! the request that sent it, so a hash never names a document that could
//! not run where it is used (a GET may only register queries: no
//! "register by GET, run by GET" path to a mutation).

use std::sync::Arc;

use async_graphql::Request;
use moka::future::Cache;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// 16 MiB.
pub const DEFAULT_APQ_CAPACITY_BYTES: u64 = 16 * 1024 * 1024;

/// Document texts by the hex SHA-256 of the text.
#[derive(Clone)]
pub struct PersistedQueries(Cache<String, Arc<str>>);

/// The `persistedQuery` request extension.
#[derive(serde::Deserialize)]
struct Extension {
    version: i32,
    #[serde(rename = "sha256Hash")]
    sha256_hash: String,
}

/// What the request carried: a text to remember once its checks passed.
pub struct Registration {
    hash: String,
}

impl PersistedQueries {
    pub fn new(capacity_bytes: u64) -> Self {
        let weigh = |k: &String, v: &Arc<str>| u32::try_from(k.len() + v.len()).unwrap_or(u32::MAX);
        PersistedQueries(Cache::builder().max_capacity(capacity_bytes).weigher(weigh).build())
    }

    /// Fill in the text of a request that names its document by hash.
    /// `Some` when the request sent text and hash: remember it (see
    /// [`PersistedQueries::register`]) once the request passed its checks.
    pub async fn resolve(&self, req: &mut Request) -> Result<Option<Registration>, Error> {
        let Some(value) = req.extensions.remove("persistedQuery") else { return Ok(None) };
        let ext: Extension = serde_json::to_value(value)
            .and_then(serde_json::from_value)
            .map_err(|_| Error::bad_request("Invalid \"PersistedQuery\" extension configuration."))?;
        if ext.version != 1 {
            return Err(Error::bad_request(format!(
                "Only the \"PersistedQuery\" extension of version \"1\" is supported, and the current version is \"{}\".",
                ext.version
            )));
        }
        if req.query.is_empty() {
            // Apollo clients recognise this exact message and resend the text.
            let text =
                self.0.get(&ext.sha256_hash).await.ok_or_else(|| Error::bad_request("PersistedQueryNotFound"))?;
            req.query = text.to_string();
            return Ok(None);
        }
        if format!("{:x}", Sha256::digest(req.query.as_bytes())) != ext.sha256_hash {
            return Err(Error::bad_request("provided sha does not match query"));
        }
        Ok(Some(Registration { hash: ext.sha256_hash }))
    }

    /// Remember the text of a request that passed its checks.
    pub async fn register(&self, registration: Registration, text: &str) {
        self.0.insert(registration.hash, Arc::from(text)).await;
    }
}
