//! Who may do what (docs/security.md): principals and roles, API tokens
//! (`tokens`), JWT bearer tokens (`jwt`), and the audit log (`audit`).
//! `Auth` turns a request's credentials into a `Principal`; what each role
//! may do is checked where the action is (`api::access`), and under the
//! branch's writer lock where protection matters (`engine`).
//! Depends on `store` (tokens and audit rows) and `error`.

mod audit;
mod jwt;
mod principal;
mod tokens;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

pub use audit::AuditLog;
pub use jwt::{JwtConfig, JwtVerifier};
pub use principal::{BranchScope, Principal, PrincipalKind, Role};
pub use tokens::{CreatedToken, TOKEN_PREFIX};

use crate::error::{Error, Result};
use crate::store::{AuditEntry, AuditQuery, AuditRecord, Store, TokenRecord};
use tokens::TokenSet;

/// What an unauthenticated request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Anonymous {
    /// Read everything (the `viewer` role), write nothing.
    Read,
    /// Nothing: every request needs credentials (HTTP 401 without).
    None,
}

/// How credentials are checked.
#[derive(Clone)]
pub struct AuthConfig {
    pub anonymous: Anonymous,
    pub jwt: Option<JwtConfig>,
    /// How often the token table is read again, so a token revoked on
    /// another replica (or by the CLI) is refused here too.
    pub refresh: Duration,
}

/// The authenticator of one server; cheap to clone.
#[derive(Clone)]
pub struct Auth(Arc<Inner>);

struct Inner {
    store: Arc<dyn Store>,
    tokens: TokenSet,
    jwt: Option<JwtVerifier>,
    anonymous: Anonymous,
    /// No token and no JWT configured: everyone may do everything (only
    /// ever on loopback, or with `--insecure-open`). Leaves once a token
    /// exists; never comes back.
    open: AtomicBool,
    audit: AuditLog,
    refresh: Duration,
}

impl Auth {
    /// Load the tokens and decide the mode: open when there is neither a
    /// live token nor a JWT configuration.
    pub async fn start(store: Arc<dyn Store>, config: AuthConfig) -> Result<Auth> {
        let jwt = config.jwt.as_ref().map(JwtVerifier::new).transpose()?;
        let tokens = TokenSet::default();
        tokens.replace(store.tokens().await?);
        let open = jwt.is_none() && !tokens.any_live(Utc::now());
        let audit = AuditLog::start(store.clone());
        let inner = Inner {
            store,
            tokens,
            jwt,
            anonymous: config.anonymous,
            open: AtomicBool::new(open),
            audit,
            refresh: config.refresh,
        };
        Ok(Auth(Arc::new(inner)))
    }

    /// Open mode: no authentication configured (see `Inner::open`).
    pub fn is_open(&self) -> bool {
        self.0.open.load(Ordering::Relaxed)
    }

    pub fn audit(&self) -> &AuditLog {
        &self.0.audit
    }

    /// The principal of a request: from its bearer token when it has one
    /// (`UNAUTHENTICATED` when the token is not valid: never a silent
    /// downgrade to anonymous), else anonymous (`UNAUTHENTICATED` with
    /// `--anonymous none`). In open mode everyone is an admin, named by
    /// `author` (the `X-Ontograph-Author` header) when given.
    pub fn authenticate(&self, bearer: Option<&str>, author: Option<&str>) -> Result<Principal> {
        if self.is_open() {
            return Ok(Principal::open(author));
        }
        let Some(token) = bearer else {
            return match self.0.anonymous {
                Anonymous::Read => Ok(Principal::anonymous()),
                Anonymous::None => {
                    Err(Error::Unauthenticated("this server needs credentials: send a bearer token".into()))
                }
            };
        };
        if token.starts_with(TOKEN_PREFIX) {
            return self.0.tokens.verify(token, Utc::now());
        }
        match &self.0.jwt {
            Some(jwt) => jwt.verify(token),
            None => Err(Error::Unauthenticated("unknown bearer token".into())),
        }
    }

    /// Live and revoked tokens, by creation time.
    pub fn tokens(&self) -> Vec<TokenRecord> {
        self.0.tokens.all()
    }

    /// Create a token (its secret is in the result, and nowhere else),
    /// recorded in the audit log in the same transaction.
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
        branches: Vec<String>,
        expires_in_days: Option<u32>,
        by: &Principal,
        request_id: Option<String>,
    ) -> Result<CreatedToken> {
        let created = tokens::new_token(name, role, branches, expires_in_days, &by.name)?;
        let audit = self.0.audit.entry(by, "token.create", Some(name), "ok", request_id);
        let record = self.0.store.create_token(&created.new, &audit).await?;
        self.0.audit.log_line(&audit);
        self.0.tokens.insert(record.clone());
        self.leave_open_mode();
        Ok(CreatedToken { record, secret: created.secret })
    }

    /// Revoke the live token named `name`: refused from the next request on.
    pub async fn revoke_token(&self, name: &str, by: &Principal, request_id: Option<String>) -> Result<TokenRecord> {
        let audit = self.0.audit.entry(by, "token.revoke", Some(name), "ok", request_id);
        let record = self.0.store.revoke_token(name, Utc::now(), &audit).await?;
        self.0.audit.log_line(&audit);
        self.0.tokens.insert(record.clone());
        Ok(record)
    }

    /// Audit events, newest first, including every denial queued so far.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        self.0.audit.flush().await;
        self.0.store.audit_log(query).await
    }

    /// Read the token table again (tokens created or revoked elsewhere).
    pub async fn refresh(&self) -> Result<()> {
        self.0.tokens.replace(self.0.store.tokens().await?);
        if self.0.tokens.any_live(Utc::now()) {
            self.leave_open_mode();
        }
        Ok(())
    }

    /// Refresh the tokens every `refresh` interval until `stop`.
    pub fn spawn_refresh(&self, stop: CancellationToken) {
        let auth = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(auth.0.refresh);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = every.tick() => {}
                }
                if let Err(e) = auth.refresh().await {
                    tracing::warn!(error = %e, "reading the token table failed; keeping the tokens known");
                }
            }
        });
    }

    fn leave_open_mode(&self) {
        if self.0.open.swap(false, Ordering::Relaxed) {
            tracing::warn!("an API token exists now: authentication is on (open mode has ended)");
        }
    }

    /// An audit event by `principal` (for actions recorded elsewhere).
    pub fn audit_entry(
        &self,
        principal: &Principal,
        action: &str,
        target: Option<&str>,
        request_id: Option<String>,
    ) -> AuditEntry {
        self.0.audit.entry(principal, action, target, "ok", request_id)
    }
}
