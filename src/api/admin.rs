//! Administration over GraphQL: API tokens and the audit log (admins
//! only), and `viewer` (who the caller is, for everyone).

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::access::{self, require};
use super::error::GqlResult;
use super::ids::GlobalId;
use super::limits::page_size;
use crate::auth::{self, Principal};
use crate::error::Error;
use crate::store::{AuditQuery, AuditRecord, TokenRecord};

/// A role: what a principal may do. Each includes the one before.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "auth::Role")]
pub enum Role {
    /// Reads everything (queries and subscriptions; merge dry runs).
    Viewer,
    /// Also writes unprotected branches within its branch globs, creates
    /// branches named within them, and merges into unprotected ones.
    Editor,
    /// Also merges into protected branches, sets protection and deletes branches.
    Maintainer,
    /// Also creates and revokes API tokens and reads the audit log.
    Admin,
}

/// An API token (never its secret: only a hash of it is stored).
pub struct ApiToken(pub TokenRecord);

/// An API token (never its secret: only a hash of it is stored).
#[Object]
impl ApiToken {
    /// Global id (`node(id:)` resolves it, for admins).
    pub async fn id(&self) -> ID {
        GlobalId::Token(self.0.id.clone()).encode()
    }
    /// Unique among live tokens; the principal's name (and commit author).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the token may do.
    async fn role(&self) -> Role {
        auth::Role::parse(&self.0.role).unwrap_or(auth::Role::Viewer).into()
    }
    /// Branch-name globs its writes are limited to (`*`: all branches).
    async fn branches(&self) -> Vec<String> {
        match self.0.branches.is_empty() {
            true => vec!["*".to_owned()],
            false => self.0.branches.clone(),
        }
    }
    /// When it was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Who created it.
    async fn created_by(&self) -> Option<&str> {
        self.0.created_by.as_deref()
    }
    /// When it stops working; null for never.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When it was revoked; null while it is not.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// Whether it is accepted now: not revoked and not expired.
    async fn active(&self) -> bool {
        self.0.revoked_at.is_none() && self.0.expires_at.is_none_or(|e| e > Utc::now())
    }
}

/// A new API token and its secret.
#[derive(SimpleObject)]
pub struct CreatedToken {
    /// The token.
    pub token: ApiToken,
    /// The bearer token to send as `Authorization: Bearer <secret>`. Shown
    /// this once: the server keeps only a hash of it.
    pub secret: String,
}

/// Who the caller is.
pub struct Viewer(Principal);

/// Who the caller is.
#[Object]
impl Viewer {
    /// The principal's name: a token's name, a JWT's subject, or `anonymous`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The principal's role.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// Branch-name globs the principal may write (`*`: all branches).
    async fn branches(&self) -> Vec<String> {
        self.0.scope.patterns()
    }
    /// Whether the server runs without authentication (open mode:
    /// everyone is an admin; only ever on loopback or with --insecure-open).
    async fn open_mode(&self) -> bool {
        self.0.kind == auth::PrincipalKind::Open
    }
}

/// One audit event: an admin action or a denied request.
pub struct AuditEvent(pub AuditRecord);

/// One audit event: an admin action or a denied request.
#[Object]
impl AuditEvent {
    /// Global id (`node(id:)` resolves it, for admins).
    pub async fn id(&self) -> ID {
        GlobalId::AuditEvent(self.0.seq).encode()
    }
    /// Order of recording, across the whole server.
    async fn seq(&self) -> i64 {
        self.0.seq
    }
    /// When it happened (UTC).
    async fn at(&self) -> DateTime<Utc> {
        self.0.entry.at
    }
    /// Who: a token name, a JWT subject, `anonymous`, or `cli`.
    async fn principal(&self) -> &str {
        &self.0.entry.principal
    }
    /// What: `token.create`, `token.revoke`, `branch.protect`,
    /// `branch.unprotect`, `branch.delete`, `branch.merge` (into a protected
    /// branch), or the field a denied request asked for.
    async fn action(&self) -> &str {
        &self.0.entry.action
    }
    /// On what: a branch or token name; null when none.
    async fn target(&self) -> Option<&str> {
        self.0.entry.target.as_deref()
    }
    /// `ok`, or `denied: <CODE>` with the code the client got.
    async fn outcome(&self) -> &str {
        &self.0.entry.outcome
    }
    /// The request's `x-request-id`; null when none.
    async fn request_id(&self) -> Option<&str> {
        self.0.entry.request_id.as_deref()
    }
    /// The message the client got, for a denial.
    async fn detail(&self) -> Option<&str> {
        self.0.entry.detail.as_deref()
    }
}

/// Audit events newest first; the cursor is an event's `seq`.
pub type AuditConnection = Connection<String, AuditEvent>;

/// A token by its public id (`node`), for admins.
pub fn token_by_id(ctx: &Context<'_>, id: &str) -> crate::error::Result<Option<ApiToken>> {
    require(ctx, auth::Role::Admin, "node(ApiToken)")?;
    Ok(access::auth(ctx)?.tokens().into_iter().find(|t| t.id == id).map(ApiToken))
}

/// An audit event by its `seq` (`node`), for admins.
pub async fn audit_event(ctx: &Context<'_>, seq: i64) -> crate::error::Result<Option<AuditEvent>> {
    require(ctx, auth::Role::Admin, "node(AuditEvent)")?;
    let query = AuditQuery { before: Some(seq.saturating_add(1)), limit: 1, ..AuditQuery::default() };
    let rows = access::auth(ctx)?.audit_log(&query).await?;
    Ok(rows.into_iter().find(|r| r.seq == seq).map(AuditEvent))
}

pub fn viewer(ctx: &Context<'_>) -> Viewer {
    Viewer(access::principal(ctx).clone())
}

pub fn tokens(ctx: &Context<'_>, include_revoked: bool) -> async_graphql::Result<Vec<ApiToken>> {
    require(ctx, auth::Role::Admin, "tokens").gql()?;
    let all = access::auth(ctx).gql()?.tokens();
    Ok(all.into_iter().filter(|t| include_revoked || t.revoked_at.is_none()).map(ApiToken).collect())
}

pub async fn audit_log(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    principal: Option<String>,
    action: Option<String>,
) -> async_graphql::Result<AuditConnection> {
    require(ctx, auth::Role::Admin, "auditLog").gql()?;
    let first = page_size("first", first, super::limits::COMMITS_PAGE).gql()?;
    let before = match &after {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| Error::bad_input("after", "not an audit cursor")).gql()?),
    };
    let auth = access::auth(ctx).gql()?;
    let query = AuditQuery { before, limit: first as i64 + 1, principal, action };
    let mut rows = auth.audit_log(&query).await.gql()?;
    let has_next = rows.len() > first;
    rows.truncate(first);
    let mut conn = Connection::new(after.is_some(), has_next);
    conn.edges.extend(rows.into_iter().map(|r| Edge::new(r.seq.to_string(), AuditEvent(r))));
    Ok(conn)
}

pub async fn create_token(
    ctx: &Context<'_>,
    name: String,
    role: Role,
    branches: Option<Vec<String>>,
    expires_in_days: Option<i32>,
) -> async_graphql::Result<CreatedToken> {
    let by = require(ctx, auth::Role::Admin, "createToken").gql()?;
    let days = match expires_in_days {
        None => None,
        Some(d) => Some(u32::try_from(d).map_err(|_| Error::bad_input("expiresInDays", "must be ≥ 1")).gql()?),
    };
    let auth = access::auth(ctx).gql()?;
    let created = auth
        .create_token(&name, role.into(), branches.unwrap_or_default(), days, by, access::request_id_of(ctx))
        .await
        .gql()?;
    Ok(CreatedToken { token: ApiToken(created.record), secret: created.secret })
}

pub async fn revoke_token(ctx: &Context<'_>, name: String) -> async_graphql::Result<ApiToken> {
    let by = require(ctx, auth::Role::Admin, "revokeToken").gql()?;
    let auth = access::auth(ctx).gql()?;
    Ok(ApiToken(auth.revoke_token(&name, by, access::request_id_of(ctx)).await.gql()?))
}
