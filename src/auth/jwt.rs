//! JWT bearer tokens from an identity provider (a frontend behind SSO),
//! verified with `jsonwebtoken`: a shared HMAC secret (`--jwt-secret`) or
//! the provider's public keys (`--jwt-jwks-file`, a JWKS document, keys
//! chosen by `kid`). A token must be signed by a configured key with an
//! algorithm of that key's family (`alg: none` does not even parse), have
//! `exp` in the future and `nbf` (if any) in the past, and carry `sub`;
//! `iss` and `aud` must match when configured. The role comes from a
//! claim (`--jwt-role-claim`, a dotted path; a string or a list of
//! strings, the highest known role wins; absent: viewer).

use std::path::PathBuf;

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::{BranchScope, Principal, PrincipalKind, Role};
use crate::error::{Error, Result};

/// How JWTs are checked (the `--jwt-*` flags).
#[derive(Debug, Clone, Default)]
pub struct JwtConfig {
    pub secret: Option<String>,
    pub jwks_file: Option<PathBuf>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// Dotted path of the claim naming the role, e.g. `role` or
    /// `realm_access.roles`.
    pub role_claim: String,
    /// Dotted path of an optional claim listing branch globs.
    pub branches_claim: String,
}

/// Tolerated clock skew for `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

enum Keys {
    Secret(DecodingKey),
    /// (kid, key, the algorithms its family allows).
    Set(Vec<(String, DecodingKey, &'static [Algorithm])>),
}

pub struct JwtVerifier {
    keys: Keys,
    config: JwtConfig,
}

fn unauthenticated(why: impl std::fmt::Display) -> Error {
    Error::Unauthenticated(format!("invalid bearer token: {why}"))
}

impl JwtVerifier {
    pub fn new(config: &JwtConfig) -> Result<JwtVerifier> {
        let keys = match (&config.secret, &config.jwks_file) {
            (Some(secret), None) => {
                if secret.len() < 32 {
                    return Err(Error::bad_input("jwt-secret", "use at least 32 characters"));
                }
                Keys::Secret(DecodingKey::from_secret(secret.as_bytes()).map_err(Error::internal)?)
            }
            (None, Some(path)) => Keys::Set(load_jwks(path)?),
            (Some(_), Some(_)) => {
                return Err(Error::bad_input("jwt-secret", "give --jwt-secret or --jwt-jwks-file, not both"))
            }
            (None, None) => return Err(Error::bad_input("jwt-secret", "give --jwt-secret or --jwt-jwks-file")),
        };
        Ok(JwtVerifier { keys, config: config.clone() })
    }

    /// The principal of a JWT, or `UNAUTHENTICATED` with the reason.
    pub fn verify(&self, token: &str) -> Result<Principal> {
        let header = jsonwebtoken::decode_header(token).map_err(unauthenticated)?;
        let (key, algorithms) = match &self.keys {
            Keys::Secret(key) => (key, HMAC),
            Keys::Set(keys) => {
                let kid = header.kid.as_deref().ok_or_else(|| unauthenticated("no key id (kid)"))?;
                let (_, key, algs) =
                    keys.iter().find(|(k, _, _)| k == kid).ok_or_else(|| unauthenticated("unknown key id"))?;
                (key, *algs)
            }
        };
        if !algorithms.contains(&header.alg) {
            return Err(unauthenticated(format!("algorithm {:?} does not fit the key", header.alg)));
        }
        let mut v = Validation::new(header.alg);
        v.algorithms = algorithms.to_vec();
        v.leeway = LEEWAY_SECS;
        v.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        match &self.config.issuer {
            Some(iss) => {
                v.set_issuer(&[iss]);
                required.push("iss");
            }
            None => v.iss = None,
        }
        match &self.config.audience {
            Some(aud) => {
                v.set_audience(&[aud]);
                required.push("aud");
            }
            None => v.validate_aud = false,
        }
        v.set_required_spec_claims(&required);
        let data = jsonwebtoken::decode::<Value>(token, key, &v).map_err(unauthenticated)?;
        let claims = data.claims;
        let sub = claims.get("sub").and_then(Value::as_str).filter(|s| !s.is_empty());
        let sub = sub.ok_or_else(|| unauthenticated("no subject (sub)"))?;
        let role = role_of(claim(&claims, &self.config.role_claim))?;
        let globs: Vec<String> = match claim(&claims, &self.config.branches_claim) {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => vec![],
        };
        let scope = BranchScope::new(&globs).map_err(|_| unauthenticated("bad branch globs"))?;
        Ok(Principal { name: sub.chars().take(200).collect(), role, scope, kind: PrincipalKind::Jwt })
    }
}

const HMAC: &[Algorithm] = &[Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
const RSA: &[Algorithm] =
    &[Algorithm::RS256, Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512];
const EC: &[Algorithm] = &[Algorithm::ES256, Algorithm::ES384];
const ED: &[Algorithm] = &[Algorithm::EdDSA];

/// The keys of a JWKS file that have a key id (tokens must name theirs).
fn load_jwks(path: &PathBuf) -> Result<Vec<(String, DecodingKey, &'static [Algorithm])>> {
    let bad = |why: String| Error::bad_input("jwt-jwks-file", format!("{}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let set: JwkSet = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let mut keys = vec![];
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else { continue };
        let family = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => RSA,
            AlgorithmParameters::EllipticCurve(_) => EC,
            AlgorithmParameters::OctetKeyPair(_) => ED,
            AlgorithmParameters::OctetKey(_) => HMAC,
            _ => continue,
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| bad(format!("key {kid}: {e}")))?;
        keys.push((kid, key, family));
    }
    if keys.is_empty() {
        return Err(bad("no key with a key id (kid)".into()));
    }
    Ok(keys)
}

/// The value at a dotted path of the claims.
fn claim<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(claims, |v, part| v.get(part))
}

/// The role a claim names: a role name, or a list of names (the highest
/// wins; names that are not roles are ignored); viewer when absent.
fn role_of(value: Option<&Value>) -> Result<Role> {
    match value {
        None | Some(Value::Null) => Ok(Role::Viewer),
        Some(Value::String(s)) => Role::parse(s).ok_or_else(|| unauthenticated(format!("unknown role {s:?}"))),
        Some(Value::Array(items)) => {
            Ok(items.iter().filter_map(Value::as_str).filter_map(Role::parse).max().unwrap_or(Role::Viewer))
        }
        Some(_) => Err(unauthenticated("the role claim is not a string or a list")),
    }
}
