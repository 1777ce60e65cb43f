//! The one error enum. Every failure a client can cause has a variant here, and
//! `Error::code` maps each to the contract's `extensions.code` in one place
//! (see `api::error` for the GraphQL conversion). Internal errors carry detail
//! for the log only.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that fails validation; `field` names the offending input field.
    #[error("{message}")]
    BadUserInput { message: String, field: Option<String> },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// Optimistic-lock failure: `what` is the entity id or `branch <name>`.
    #[error("version conflict on {what}: expected {expected}, actual {actual}")]
    VersionConflict { what: String, expected: i64, actual: i64 },
    #[error("{id} is still referenced by {}", dependents.join(", "))]
    InUse { id: String, dependents: Vec<String> },
    #[error("branch {0} is protected: it changes only through merges")]
    BranchProtected(String),
    /// A merge found conflicts no resolution settles; nothing was written.
    #[error("merge has {} unresolved conflict(s)", .0.iter().filter(|c| c.resolution.is_none()).count())]
    MergeConflict(Vec<crate::model::Conflict>),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    Forbidden(String),
    /// Anything the client did not cause. Logged with detail, shown generic.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// The contract's `extensions.code` for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadUserInput { .. } => "BAD_USER_INPUT",
            Error::NotFound(_) => "NOT_FOUND",
            Error::AlreadyExists(_) => "ALREADY_EXISTS",
            Error::VersionConflict { .. } => "VERSION_CONFLICT",
            Error::InUse { .. } => "IN_USE",
            Error::BranchProtected(_) => "BRANCH_PROTECTED",
            Error::MergeConflict(_) => "MERGE_CONFLICT",
            Error::LimitExceeded(_) => "LIMIT_EXCEEDED",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        Error::BadUserInput { message: format!("{field}: {}", message.into()), field: Some(field) }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Error::Internal(err.into())
    }

    /// A copy, for an error shared by several waiters (the cache coalesces
    /// identical computations). An internal error keeps its message chain.
    pub fn duplicate(&self) -> Self {
        match self {
            Error::BadUserInput { message, field } => {
                Error::BadUserInput { message: message.clone(), field: field.clone() }
            }
            Error::NotFound(s) => Error::NotFound(s.clone()),
            Error::AlreadyExists(s) => Error::AlreadyExists(s.clone()),
            Error::VersionConflict { what, expected, actual } => {
                Error::VersionConflict { what: what.clone(), expected: *expected, actual: *actual }
            }
            Error::InUse { id, dependents } => Error::InUse { id: id.clone(), dependents: dependents.clone() },
            Error::BranchProtected(s) => Error::BranchProtected(s.clone()),
            Error::MergeConflict(c) => Error::MergeConflict(c.clone()),
            Error::LimitExceeded(s) => Error::LimitExceeded(s.clone()),
            Error::Forbidden(s) => Error::Forbidden(s.clone()),
            Error::Internal(e) => Error::Internal(anyhow::anyhow!("{e:#}")),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
