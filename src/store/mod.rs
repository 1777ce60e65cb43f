//! Durable, versioned persistence (sqlx). One trait, implemented once in
//! SQL (`sql.rs`) for two databases (SQLite, the embedded default;
//! PostgreSQL for production) with the same semantics, checked by one
//! conformance suite (`tests/api/store.rs`).
//! Transactions and database-error mapping stay in this module.
//! Depends on `model` only.

mod access;
mod load;
pub mod notices;
mod postgres;
mod records;
mod sql;
mod sql_access;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

pub use access::{Access, AuditEntry, AuditQuery, AuditRecord, NewToken, TokenRecord};
pub use load::{lineage, load_rows};
pub use records::{
    BranchRecord, Checkpoint, CommitRecord, CommitRows, EntityKey, EntityRow, MergeMark, MergeRecord, NewBranch,
    NewCheckpoint, NewCommit, Progress, RowChunks,
};

/// Bytes per stored chunk of a checkpoint: large enough that a million
/// types is a few dozen rows, far below both databases' value limits.
pub const CHECKPOINT_CHUNK: usize = 8 << 20;

use crate::error::{Error, Result};

/// The persistence contract. Every method is one transaction.
#[async_trait]
pub trait Store: Access + Send + Sync + 'static {
    /// Every branch, in name order.
    async fn branches(&self) -> Result<Vec<BranchRecord>>;

    /// One branch's record, `None` when there is no such branch: a
    /// replica's head check before a write reads one row, not the table.
    async fn branch(&self, name: &str) -> Result<Option<BranchRecord>>;

    /// Create a branch (a fork when `parent` is set). O(1): one row.
    /// `ALREADY_EXISTS` when the name is taken.
    async fn create_branch(&self, branch: &NewBranch) -> Result<BranchRecord>;

    /// The branch's own entity rows as of commit `upto`: for each entity
    /// the row of its latest commit ≤ `upto` (deletions included, body
    /// `None`). Ancestors are resolved by `load_rows`.
    async fn own_rows(&self, branch: &str, upto: i64) -> Result<Vec<EntityRow>>;

    /// The branch's own rows of `keys` as of commit `upto`: for each key
    /// the row of its latest commit ≤ `upto` (deletions included); keys
    /// the branch never touched are absent.
    /// Time travel and fork loading resolve only what changed with it.
    async fn rows_at(&self, branch: &str, upto: i64, keys: &[EntityKey]) -> Result<Vec<EntityRow>>;

    /// The entities the branch's commits `after < version ≤ upto` touched,
    /// each once.
    async fn touched(&self, branch: &str, after: i64, upto: i64) -> Result<Vec<EntityKey>>;

    /// Every recorded merge, oldest first.
    async fn merges(&self) -> Result<Vec<MergeRecord>>;

    /// Append one commit atomically: the branch head moves from
    /// `expected_head` to `expected_head + 1` only if it is still
    /// `expected_head` (else `VERSION_CONFLICT` on the branch, nothing
    /// written), and the commit row and entity rows land in the same
    /// transaction (with its merge record, for a merge).
    async fn append_commit(&self, commit: &NewCommit<'_>) -> Result<CommitRecord>;

    /// Commits of a branch, newest first, with version < `before`.
    async fn commits(&self, branch: &str, before: Option<i64>, limit: i64) -> Result<Vec<CommitRecord>>;

    /// Protect or unprotect a branch; `audit`, when given, is recorded in
    /// the same transaction.
    async fn set_protected(&self, branch: &str, protected: bool, audit: Option<&AuditEntry>) -> Result<()>;

    /// Delete a branch and its rows (commits, entity rows, merge records),
    /// with `audit` in the same transaction. `IN_USE` when other branches
    /// fork it.
    async fn delete_branch(&self, branch: &str, audit: Option<&AuditEntry>) -> Result<()>;

    /// Store a branch's checkpoint and drop its older ones, in one
    /// transaction. Returns false, writing nothing, when one at `version`
    /// or later is stored already (another process was first).
    /// `NOT_FOUND` when the branch is gone.
    async fn put_checkpoint(&self, checkpoint: &NewCheckpoint<'_>) -> Result<bool>;

    /// The branch's newest checkpoint with its bytes, if any.
    async fn checkpoint(&self, branch: &str) -> Result<Option<Checkpoint>>;

    /// Cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<()>;
}

/// Open (creating and migrating) the store a URL names:
/// `sqlite://path`, `sqlite::memory:` or `postgres://…`.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else {
        Err(Error::bad_input("database-url", "expected sqlite:… or postgres://…"))
    }
}

/// Map a database error to the contract: constraint violations the callers
/// can cause become their codes, everything else is internal (logged by
/// the API layer, shown generic).
fn db_error(what: &str, err: sqlx::Error) -> Error {
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            return Error::AlreadyExists(what.to_owned());
        }
        // A row naming a branch deleted meanwhile (e.g. the source of a
        // merge): the branch is gone.
        if db.is_foreign_key_violation() {
            return Error::NotFound(format!("{what}: a branch it names no longer exists"));
        }
    }
    Error::Internal(anyhow::Error::new(err).context(format!("store: {what}")))
}
