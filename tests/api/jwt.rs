//! JWT bearer tokens from an identity provider, over HTTP against the real
//! server: a JWKS of RSA keys (`tests/data/jwt/`) with issuer and audience
//! required, and a shared HMAC secret. Every way a token can be wrong is
//! 401 `UNAUTHENTICATED`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::live::Live;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jwt");
const SECRET: &str = "a shared secret of at least thirty-two characters";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn claims(sub: &str, role: Value) -> Value {
    json!({ "sub": sub, "role": role, "iss": "https://idp.example", "aud": "ontograph", "exp": now() + 600 })
}

fn rs256(kid: &str, claims: &Value) -> String {
    let pem = std::fs::read(format!("{DATA}/test-rsa.pem")).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    encode(&header, claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

fn hs256(secret: &str, claims: &Value) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes()).unwrap()).unwrap()
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

async fn status_and_body(app: &Live, token: &str) -> (StatusCode, Value) {
    app.gql_as(Some(token), "{ viewer { name role branches } }", json!({})).await
}

#[tokio::test]
async fn jwks_tokens_verified_and_every_bad_one_refused() {
    let app = Live::start_with(|a| {
        a.auth.jwt_jwks_file = Some(format!("{DATA}/jwks.json").into());
        a.auth.jwt_issuer = Some("https://idp.example".into());
        a.auth.jwt_audience = Some("ontograph".into());
    })
    .await;
    let valid = rs256("test-key-1", &claims("alice", json!("editor")));
    let (status, body) = status_and_body(&app, &valid).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["data"]["viewer"], json!({ "name": "alice", "role": "EDITOR", "branches": ["*"] }));
    let write = r#"mutation { createObjectType(branch: "main", input: { apiName: "A" }) { version } }"#;
    let (status, body) = app.gql_as(Some(&valid), write, json!({})).await;
    assert!(status == StatusCode::OK && body.get("errors").is_none(), "{body:#}");

    let mut c = claims("alice", json!("admin"));
    let with = |k: &str, v: Value| {
        let mut c = claims("alice", json!("editor"));
        c[k] = v;
        c
    };
    let without = |k: &str| {
        let mut c = claims("alice", json!("editor"));
        c.as_object_mut().unwrap().remove(k);
        c
    };
    let (head, _, sig) = {
        let parts: Vec<&str> = valid.split('.').collect();
        (parts[0].to_owned(), parts[1].to_owned(), parts[2].to_owned())
    };
    c["role"] = json!("admin");
    let tampered = format!("{head}.{}.{sig}", b64(&c));
    let none = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT", "kid": "test-key-1" })), b64(&c));
    let public_key_as_hmac = {
        let jwks: Value = serde_json::from_str(&std::fs::read_to_string(format!("{DATA}/jwks.json")).unwrap()).unwrap();
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some("test-key-1".into());
        let n = jwks["keys"][0]["n"].as_str().unwrap().to_owned();
        encode(&h, &claims("alice", json!("admin")), &EncodingKey::from_secret(n.as_bytes()).unwrap()).unwrap()
    };
    let cases = [
        ("expired", rs256("test-key-1", &with("exp", json!(now() - 3600)))),
        ("not yet valid", rs256("test-key-1", &with("nbf", json!(now() + 3600)))),
        ("wrong issuer", rs256("test-key-1", &with("iss", json!("https://evil.example")))),
        ("wrong audience", rs256("test-key-1", &with("aud", json!("another-api")))),
        ("no issuer", rs256("test-key-1", &without("iss"))),
        ("no subject", rs256("test-key-1", &without("sub"))),
        ("no expiry", rs256("test-key-1", &without("exp"))),
        ("unknown role", rs256("test-key-1", &with("role", json!("root")))),
        ("unknown key id", rs256("another-key", &claims("alice", json!("editor")))),
        ("alg none", none),
        ("tampered claims", tampered),
        ("public key as HMAC secret", public_key_as_hmac),
        ("not a JWT", "abc.def".to_owned()),
    ];
    for (why, token) in cases {
        let (status, body) = status_and_body(&app, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body:#}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{why}: {body:#}");
    }
    app.stop().await;
}

#[tokio::test]
async fn hmac_tokens_role_lists_and_branch_claims() {
    let app = Live::start_with(|a| {
        a.auth.jwt_secret = Some(SECRET.into());
        a.auth.jwt_role_claim = "realm_access.roles".into();
    })
    .await;
    let c = json!({ "sub": "bob", "exp": now() + 600, "realm_access": { "roles": ["offline_access", "viewer", "maintainer"] },
                    "branches": ["team-b/*"] });
    let (status, body) = status_and_body(&app, &hs256(SECRET, &c)).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["data"]["viewer"], json!({ "name": "bob", "role": "MAINTAINER", "branches": ["team-b/*"] }));
    let no_role = json!({ "sub": "carol", "exp": now() + 600 });
    let (_, body) = status_and_body(&app, &hs256(SECRET, &no_role)).await;
    assert_eq!(body["data"]["viewer"]["role"], "VIEWER", "no role claim: a viewer");
    let (status, _) = status_and_body(&app, &hs256("another secret of at least thirty-two chars", &c)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}
