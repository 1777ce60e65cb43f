//! API tokens: `ogt_<id>_<secret>`. The id (public, 16 hex digits) finds
//! the token; only the SHA-256 of the secret (64 hex digits, 256 random
//! bits) is stored, and it is compared in constant time. The tokens are
//! held in memory (read again periodically), so checking one costs a hash
//! and a map lookup, not a database round trip.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{BranchScope, Principal, PrincipalKind, Role};
use crate::error::{Error, Result};
use crate::store::{NewToken, TokenRecord};

/// Every API token starts with this.
pub const TOKEN_PREFIX: &str = "ogt_";

/// A token just created: its record and its secret, shown once.
pub struct CreatedToken {
    pub record: TokenRecord,
    /// The whole bearer token (`ogt_<id>_<secret>`).
    pub secret: String,
}

/// A token to store, and the bearer token to give out.
pub(super) struct NewSecret {
    pub new: NewToken,
    pub secret: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Token names: like branch names, readable and log-safe.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    match ok {
        true => Ok(()),
        false => {
            Err(Error::bad_input("name", "a token name is 1-100 characters of [A-Za-z0-9._@-], starting alphanumeric"))
        }
    }
}

/// Most branch globs one token may carry, and longest glob.
const MAX_GLOBS: usize = 32;
const MAX_GLOB_LEN: usize = 200;
/// Longest lifetime a token may be given (10 years).
const MAX_DAYS: u32 = 3650;

pub(super) fn new_token(
    name: &str,
    role: Role,
    branches: Vec<String>,
    expires_in_days: Option<u32>,
    created_by: &str,
) -> Result<NewSecret> {
    check_name(name)?;
    if branches.len() > MAX_GLOBS || branches.iter().any(|b| b.is_empty() || b.len() > MAX_GLOB_LEN) {
        return Err(Error::bad_input("branches", format!("at most {MAX_GLOBS} globs of 1-{MAX_GLOB_LEN} characters")));
    }
    BranchScope::new(&branches)?;
    let expires_at = match expires_in_days {
        Some(d) if d == 0 || d > MAX_DAYS => {
            return Err(Error::bad_input("expiresInDays", format!("between 1 and {MAX_DAYS}")));
        }
        Some(d) => Some(Utc::now() + chrono::Duration::days(i64::from(d))),
        None => None,
    };
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut id);
    rand::rng().fill_bytes(&mut secret);
    let (id, secret) = (hex(&id), hex(&secret));
    let new = NewToken {
        id: id.clone(),
        name: name.to_owned(),
        secret_hash: hash(&secret),
        role: role.as_str().to_owned(),
        branches,
        created_at: Utc::now(),
        created_by: Some(created_by.to_owned()),
        expires_at,
    };
    Ok(NewSecret { new, secret: format!("{TOKEN_PREFIX}{id}_{secret}") })
}

/// The tokens known to this server, by id.
#[derive(Default)]
pub(super) struct TokenSet(ArcSwap<HashMap<String, Arc<TokenRecord>>>);

impl TokenSet {
    pub fn replace(&self, records: Vec<TokenRecord>) {
        self.0.store(Arc::new(records.into_iter().map(|r| (r.id.clone(), Arc::new(r))).collect()));
    }

    pub fn insert(&self, record: TokenRecord) {
        self.0.rcu(|map| {
            let mut map = HashMap::clone(map);
            map.insert(record.id.clone(), Arc::new(record.clone()));
            map
        });
    }

    pub fn all(&self) -> Vec<TokenRecord> {
        let mut all: Vec<TokenRecord> = self.0.load().values().map(|r| TokenRecord::clone(r)).collect();
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        all
    }

    pub fn any_live(&self, now: DateTime<Utc>) -> bool {
        self.0.load().values().any(|r| live(r, now))
    }

    /// The principal of bearer token `token`, or `UNAUTHENTICATED`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Principal> {
        let bad = || Error::Unauthenticated("invalid API token".into());
        let (id, secret) = token.strip_prefix(TOKEN_PREFIX).and_then(|t| t.split_once('_')).ok_or_else(bad)?;
        let map = self.0.load();
        let record = map.get(id).ok_or_else(bad)?;
        let matches: bool = hash(secret).as_bytes().ct_eq(record.secret_hash.as_bytes()).into();
        if !matches {
            return Err(bad());
        }
        if record.revoked_at.is_some() {
            return Err(Error::Unauthenticated(format!("API token {} was revoked", record.name)));
        }
        if record.expires_at.is_some_and(|e| e <= now) {
            return Err(Error::Unauthenticated(format!("API token {} has expired", record.name)));
        }
        let role = Role::parse(&record.role)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("token role {:?}", record.role)))?;
        Ok(Principal {
            name: record.name.clone(),
            role,
            scope: BranchScope::new(&record.branches)?,
            kind: PrincipalKind::Token,
        })
    }
}

fn live(r: &TokenRecord, now: DateTime<Utc>) -> bool {
    r.revoked_at.is_none() && r.expires_at.is_none_or(|e| e > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(created: &NewSecret) -> TokenRecord {
        let n = &created.new;
        TokenRecord {
            id: n.id.clone(),
            name: n.name.clone(),
            secret_hash: n.secret_hash.clone(),
            role: n.role.clone(),
            branches: n.branches.clone(),
            created_at: n.created_at,
            created_by: n.created_by.clone(),
            expires_at: n.expires_at,
            revoked_at: None,
        }
    }

    #[test]
    fn a_token_verifies_only_whole_unrevoked_and_unexpired() {
        let set = TokenSet::default();
        let t = new_token("ci-bot", Role::Editor, vec!["feature/*".into()], Some(1), "admin").unwrap();
        assert!(t.secret.starts_with("ogt_") && t.secret.len() == 4 + 16 + 1 + 64);
        assert_ne!(t.new.secret_hash, t.secret, "only the hash is stored");
        set.replace(vec![stored(&t)]);
        let now = Utc::now();
        let p = set.verify(&t.secret, now).unwrap();
        assert_eq!((p.name.as_str(), p.role, p.kind), ("ci-bot", Role::Editor, PrincipalKind::Token));
        assert!(p.scope.allows("feature/x") && !p.scope.allows("main"));
        let mut tampered = t.secret.clone();
        tampered.pop();
        tampered.push(if t.secret.ends_with('0') { '1' } else { '0' });
        for bad in [tampered.as_str(), "ogt_", "ogt_nope", &t.secret[..30]] {
            assert!(matches!(set.verify(bad, now), Err(Error::Unauthenticated(_))), "{bad}");
        }
        let tomorrow = now + chrono::Duration::days(2);
        assert!(set.verify(&t.secret, tomorrow).unwrap_err().to_string().contains("expired"));
        let mut revoked = stored(&t);
        revoked.revoked_at = Some(now);
        set.insert(revoked);
        assert!(set.verify(&t.secret, now).unwrap_err().to_string().contains("revoked"));
        assert!(!set.any_live(now));
    }

    #[test]
    fn names_globs_and_lifetimes_are_checked() {
        assert!(new_token("", Role::Viewer, vec![], None, "a").is_err());
        assert!(new_token("has space", Role::Viewer, vec![], None, "a").is_err());
        assert!(new_token("x", Role::Viewer, vec!["[".into()], None, "a").is_err());
        assert!(new_token("x", Role::Viewer, vec![], Some(0), "a").is_err());
        assert!(new_token("x", Role::Viewer, vec![], Some(MAX_DAYS + 1), "a").is_err());
        assert!(new_token("x", Role::Viewer, vec![], Some(MAX_DAYS), "a").is_ok());
    }
}
