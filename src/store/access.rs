//! Records and persistence of who may do what: API tokens (only a hash of
//! each secret is stored) and the audit log (admin actions and denied
//! requests). Plain records: what a role means is decided in `auth`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;

/// A token as created; `secret_hash` is the hex SHA-256 of the secret.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The public part of the token, which finds its row.
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub role: String,
    /// Branch-name globs its writes are limited to.
    pub branches: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A stored token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub role: String,
    pub branches: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One audit event: an admin action or a denied request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// Who: a token name, a JWT subject, `anonymous`, or `cli`.
    pub principal: String,
    /// What, e.g. `token.create`, `branch.protect`, `mutation.deleteBranch`.
    pub action: String,
    /// On what, e.g. a branch or token name.
    pub target: Option<String>,
    /// `ok`, or `denied: <CODE>` with the code the client got.
    pub outcome: String,
    pub request_id: Option<String>,
    pub detail: Option<String>,
}

/// A stored audit event; `seq` orders them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub entry: AuditEntry,
}

/// Which audit events to read: newest first, older than `before`.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub before: Option<i64>,
    pub limit: i64,
    pub principal: Option<String>,
    pub action: Option<String>,
}

/// Tokens and the audit log. Every method is one transaction.
#[async_trait]
pub trait Access: Send + Sync {
    /// Every token, revoked ones included, by creation time.
    async fn tokens(&self) -> Result<Vec<TokenRecord>>;

    /// Store a new token and its audit event together. `ALREADY_EXISTS`
    /// when a live token has the name.
    async fn create_token(&self, token: &NewToken, audit: &AuditEntry) -> Result<TokenRecord>;

    /// Revoke the live token named `name`, with its audit event.
    /// `NOT_FOUND` when there is none.
    async fn revoke_token(&self, name: &str, at: DateTime<Utc>, audit: &AuditEntry) -> Result<TokenRecord>;

    /// Append audit events (denials, written in batches).
    async fn append_audit(&self, entries: &[AuditEntry]) -> Result<()>;

    /// Audit events, newest first.
    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>>;
}
