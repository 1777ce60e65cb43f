//! Who may do what, checked where the action is (docs/security.md has the
//! role matrix). The HTTP layer and the WebSocket's `connection_init` put
//! the request's `Principal` in its data. A request without one is
//! anonymous when the schema has an authenticator (fail safe), and an
//! open-mode admin only where there is none at all (in-process tests).
//! Every denial is audited and answered `FORBIDDEN` with the role needed.

use std::sync::LazyLock;

use async_graphql::Context;

use crate::auth::{Auth, Principal, Role};
use crate::error::{Error, Result};
use crate::store::AuditEntry;

/// The request id (`x-request-id`), for audit events.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

static OPEN: LazyLock<Principal> = LazyLock::new(|| Principal::open(None));
static ANONYMOUS: LazyLock<Principal> = LazyLock::new(Principal::anonymous);

/// The principal the request acts as.
pub fn principal<'a>(ctx: &Context<'a>) -> &'a Principal {
    if let Some(p) = ctx.data_opt::<Principal>() {
        return p;
    }
    match ctx.data_opt::<Auth>() {
        Some(auth) if !auth.is_open() => &ANONYMOUS,
        _ => &OPEN,
    }
}

fn request_id(ctx: &Context<'_>) -> Option<String> {
    ctx.data_opt::<RequestId>().map(|r| r.0.clone())
}

/// An audit event of an admin action by the request's principal; `None`
/// when the schema has no authenticator (in-process tests).
pub fn audit_entry(ctx: &Context<'_>, action: &str, target: Option<&str>) -> Option<AuditEntry> {
    let auth = ctx.data_opt::<Auth>()?;
    Some(auth.audit_entry(principal(ctx), action, target, request_id(ctx)))
}

/// Audit a denial of `action` and hand the error back.
pub fn denied(ctx: &Context<'_>, action: &str, target: Option<&str>, err: Error) -> Error {
    if let Some(auth) = ctx.data_opt::<Auth>() {
        let outcome = format!("denied: {}", err.code());
        let mut entry = auth.audit().entry(principal(ctx), action, target, &outcome, request_id(ctx));
        entry.detail = Some(err.to_string());
        auth.audit().denied(entry);
    }
    err
}

/// The principal, when it has at least `role`.
pub fn require<'a>(ctx: &Context<'a>, role: Role, action: &str) -> Result<&'a Principal> {
    let p = principal(ctx);
    p.require(role, action).map_err(|e| denied(ctx, action, None, e))?;
    Ok(p)
}

/// The principal, when it has at least `role` and may write `branch`.
pub fn require_on_branch<'a>(ctx: &Context<'a>, role: Role, action: &str, branch: &str) -> Result<&'a Principal> {
    let p = principal(ctx);
    p.require_on_branch(role, action, branch).map_err(|e| denied(ctx, action, Some(branch), e))?;
    Ok(p)
}

/// The authenticator, which the admin fields need.
pub fn auth<'a>(ctx: &Context<'a>) -> Result<&'a Auth> {
    ctx.data_opt::<Auth>().ok_or_else(|| Error::internal(anyhow::anyhow!("no authenticator in the schema")))
}

pub fn request_id_of(ctx: &Context<'_>) -> Option<String> {
    request_id(ctx)
}
