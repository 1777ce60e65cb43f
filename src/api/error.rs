//! Domain errors → GraphQL errors, in one place. Every error a client can
//! cause carries `extensions.code` (a code of `crate::error::Error`);
//! internal errors are logged here with their detail and shown as a
//! generic message.

use async_graphql::{ErrorExtensions, Response, ServerError, Value};
use bytes::Bytes;

use crate::error::Error;

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        if let Error::Internal(detail) = self {
            tracing::error!(error = ?detail, "internal error");
            return async_graphql::Error::new("internal server error")
                .extend_with(|_, e| e.set("code", Error::INTERNAL));
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, e| {
            e.set("code", self.code());
            match self {
                Error::VersionConflict { expected, actual, .. } => {
                    e.set("expected", *expected);
                    e.set("actual", *actual);
                }
                Error::InUse { dependents, .. } => e.set("dependents", dependents.clone()),
                Error::MergeConflict(conflicts) => e.set("conflicts", super::merge::conflicts_value(conflicts, None)),
                Error::BadUserInput { field: Some(f), .. } => e.set("field", f.as_str()),
                Error::Forbidden { required: Some(role), .. } => e.set("required", *role),
                _ => {}
            }
        })
    }
}

/// `result.gql()?` in resolvers: converts with the code attached (a bare
/// `?` would go through async-graphql's Display conversion and lose it).
pub trait GqlResult<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for Result<T, Error> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.extend())
    }
}

/// An error about the request as a whole (no position, no path).
pub fn request_error(err: &Error) -> ServerError {
    let e = err.extend();
    let mut out = ServerError::new(e.message, None);
    out.extensions = e.extensions;
    out
}

/// The body of a response that is only this error:
/// `{"errors":[{"message":…,"extensions":{"code":…}}]}`.
pub fn error_body(err: &Error) -> Bytes {
    let resp = Response::from_errors(vec![request_error(err)]);
    super::json::write_response(&resp, false, usize::MAX).unwrap_or_default()
}

/// async-graphql's own limit errors, recognised by their fixed messages
/// (pinned by tests in `tests/api/limits.rs`).
fn is_builtin_limit_error(err: &ServerError) -> bool {
    const PREFIXES: [&str; 4] = [
        "Query is too complex",
        "Query is nested too deep",
        "The recursion depth of the query cannot be greater than",
        "The number of directives on the field",
    ];
    PREFIXES.iter().any(|p| err.message.starts_with(p))
}

/// Gives every error of a response a code: async-graphql's own limit
/// errors get `LIMIT_EXCEEDED`, its other errors (syntax, validation,
/// variable coercion: all caused by the request) `BAD_USER_INPUT`.
pub fn fill_codes(mut resp: Response) -> Response {
    for err in &mut resp.errors {
        let code = if is_builtin_limit_error(err) { Error::LIMIT_EXCEEDED } else { Error::BAD_USER_INPUT };
        let ext = err.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", Value::from(code));
        }
    }
    resp
}
