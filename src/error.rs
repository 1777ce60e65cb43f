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
    /// No credentials where they are required, or credentials that are
    /// not valid (unknown, revoked, expired, badly signed).
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller may not do this; `required` names the role that may
    /// (`extensions.required`), when a role would.
    #[error("{message}")]
    Forbidden { message: String, required: Option<&'static str> },
    /// The heavy lane is full: try again later (HTTP 503, `Retry-After`).
    #[error("{0}")]
    Overloaded(String),
    /// Anything the client did not cause. Logged with detail, shown generic.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub const BAD_USER_INPUT: &'static str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &'static str = "NOT_FOUND";
    pub const ALREADY_EXISTS: &'static str = "ALREADY_EXISTS";
    pub const VERSION_CONFLICT: &'static str = "VERSION_CONFLICT";
    pub const IN_USE: &'static str = "IN_USE";
    pub const BRANCH_PROTECTED: &'static str = "BRANCH_PROTECTED";
    pub const MERGE_CONFLICT: &'static str = "MERGE_CONFLICT";
    pub const LIMIT_EXCEEDED: &'static str = "LIMIT_EXCEEDED";
    pub const UNAUTHENTICATED: &'static str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &'static str = "FORBIDDEN";
    pub const OVERLOADED: &'static str = "OVERLOADED";
    pub const INTERNAL: &'static str = "INTERNAL_SERVER_ERROR";

    /// Every code a client can see, each the `code()` of some variant
    /// (checked by a test, as is the absence of code strings elsewhere).
    pub const CODES: [&'static str; 12] = [
        Self::BAD_USER_INPUT,
        Self::NOT_FOUND,
        Self::ALREADY_EXISTS,
        Self::VERSION_CONFLICT,
        Self::IN_USE,
        Self::BRANCH_PROTECTED,
        Self::MERGE_CONFLICT,
        Self::LIMIT_EXCEEDED,
        Self::UNAUTHENTICATED,
        Self::FORBIDDEN,
        Self::OVERLOADED,
        Self::INTERNAL,
    ];

    /// The contract's `extensions.code` for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadUserInput { .. } => Self::BAD_USER_INPUT,
            Error::NotFound(_) => Self::NOT_FOUND,
            Error::AlreadyExists(_) => Self::ALREADY_EXISTS,
            Error::VersionConflict { .. } => Self::VERSION_CONFLICT,
            Error::InUse { .. } => Self::IN_USE,
            Error::BranchProtected(_) => Self::BRANCH_PROTECTED,
            Error::MergeConflict(_) => Self::MERGE_CONFLICT,
            Error::LimitExceeded(_) => Self::LIMIT_EXCEEDED,
            Error::Unauthenticated(_) => Self::UNAUTHENTICATED,
            Error::Forbidden { .. } => Self::FORBIDDEN,
            Error::Overloaded(_) => Self::OVERLOADED,
            Error::Internal(_) => Self::INTERNAL,
        }
    }

    /// Refused whatever the caller's role (e.g. deleting `main`).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden { message: message.into(), required: None }
    }

    /// A malformed request as a whole (no input field to name).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::BadUserInput { message: message.into(), field: None }
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
            Error::Unauthenticated(s) => Error::Unauthenticated(s.clone()),
            Error::Forbidden { message, required } => {
                Error::Forbidden { message: message.clone(), required: *required }
            }
            Error::Overloaded(s) => Error::Overloaded(s.clone()),
            Error::Internal(e) => Error::Internal(anyhow::anyhow!("{e:#}")),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::Error;

    /// One of each variant: every listed code is some variant's, and
    /// every variant's code is listed.
    #[test]
    fn every_code_comes_from_a_variant() {
        let each = [
            Error::bad_request("x"),
            Error::NotFound("x".into()),
            Error::AlreadyExists("x".into()),
            Error::VersionConflict { what: "x".into(), expected: 1, actual: 2 },
            Error::InUse { id: "x".into(), dependents: vec![] },
            Error::BranchProtected("x".into()),
            Error::MergeConflict(vec![]),
            Error::LimitExceeded("x".into()),
            Error::Unauthenticated("x".into()),
            Error::forbidden("x"),
            Error::Overloaded("x".into()),
            Error::internal(anyhow::anyhow!("x")),
        ];
        let mut from_variants: Vec<&str> = each.iter().map(Error::code).collect();
        let mut listed = Error::CODES.to_vec();
        from_variants.sort();
        listed.sort();
        assert_eq!(from_variants, listed);
    }
}
