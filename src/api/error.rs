//! Domain errors → GraphQL errors, in one place. Every error a client can
//! cause carries `extensions.code`; internal errors are logged here with
//! their detail and shown as a generic message.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe};
use async_graphql::{ErrorExtensions, Response, Value};
use futures::stream::BoxStream;
use futures::StreamExt;

use crate::error::Error;

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        if let Error::Internal(detail) = self {
            tracing::error!(error = ?detail, "internal error");
            return async_graphql::Error::new("internal server error")
                .extend_with(|_, e| e.set("code", "INTERNAL_SERVER_ERROR"));
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, e| {
            e.set("code", self.code());
            match self {
                Error::VersionConflict { expected, actual, .. } => {
                    e.set("expected", *expected);
                    e.set("actual", *actual);
                }
                Error::InUse { dependents, .. } => e.set("dependents", dependents.clone()),
                Error::MergeConflict(conflicts) => e.set("conflicts", super::merge::conflicts_value(conflicts)),
                Error::BadUserInput { field: Some(f), .. } => e.set("field", f.as_str()),
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

/// Gives errors that async-graphql itself raises (syntax, validation,
/// variable coercion: all caused by the request) the contract's
/// `BAD_USER_INPUT` code, so no client-visible error lacks one.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        fill_codes(next.run(ctx).await)
    }

    /// The same for each response of a subscription (over WebSocket).
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(fill_codes).boxed()
    }
}

fn fill_codes(mut resp: Response) -> Response {
    for err in &mut resp.errors {
        let ext = err.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", Value::from("BAD_USER_INPUT"));
        }
    }
    resp
}
