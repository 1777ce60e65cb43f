//! Who may do what, against the real server over HTTP: the role ×
//! operation matrix (every mutation and the admin queries, for each role
//! and anonymous; nothing written when denied), token revocation, the
//! audit log after a restart — on SQLite and PostgreSQL — and the secure
//! default (no start on a public address without authentication).

use ontograph::auth::{Anonymous, Auth, AuthConfig, Principal, Role};
use ontograph::store;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::live::Live;

/// A token created directly in the database (as `ontograph token create`).
pub async fn token(url: &str, name: &str, role: Role, branches: &[&str]) -> String {
    let store = store::connect(url).await.unwrap();
    let config = AuthConfig { anonymous: Anonymous::Read, jwt: None, refresh: std::time::Duration::from_secs(5) };
    let auth = Auth::start(store, config).await.unwrap();
    let branches = branches.iter().map(|b| b.to_string()).collect();
    auth.create_token(name, role, branches, None, &Principal::local("test"), None).await.unwrap().secret
}

/// `data` of a request that must succeed.
async fn ok(app: &Live, token: &str, query: &str, vars: Value) -> Value {
    let (status, body) = app.gql_as(Some(token), query, vars).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body:#}");
    assert!(body.get("errors").is_none(), "{query}: {body:#}");
    body["data"].clone()
}

/// What a denial must leave untouched: every branch's version and
/// protection, and the tokens.
async fn fingerprint(app: &Live, admin: &str) -> Value {
    ok(app, admin, "{ branches { name version protected } tokens(includeRevoked: true) { name revokedAt } }", json!({}))
        .await
}

/// One operation of the matrix: the least role that may run it (`None`:
/// any principal, anonymous included), what it needs prepared (run as
/// admin, with `{n}` replaced by a fresh number), and the request.
struct Case {
    name: &'static str,
    least: Option<Role>,
    prepare: &'static [&'static str],
    query: &'static str,
}

const CASES: &[Case] = &[
    Case { name: "read", least: None, prepare: &[], query: r#"{ branch(name: "feature/x") { version } }"# },
    Case {
        name: "createObjectType",
        least: Some(Role::Editor),
        prepare: &[],
        query: r#"mutation { createObjectType(branch: "feature/x", input: { apiName: "New{n}" }) { version } }"#,
    },
    Case {
        name: "updateObjectType",
        least: Some(Role::Editor),
        prepare: &[r#"mutation { createObjectType(branch: "feature/x", input: { apiName: "U{n}" }) { version } }"#],
        query: r#"mutation { updateObjectType(branch: "feature/x", apiName: "U{n}", expectedVersion: 1, input: { description: "d" }) { version } }"#,
    },
    Case {
        name: "deleteObjectType",
        least: Some(Role::Editor),
        prepare: &[r#"mutation { createObjectType(branch: "feature/x", input: { apiName: "D{n}" }) { version } }"#],
        query: r#"mutation { deleteObjectType(branch: "feature/x", apiName: "D{n}", expectedVersion: 1) { version } }"#,
    },
    Case {
        name: "createInterface",
        least: Some(Role::Editor),
        prepare: &[],
        query: r#"mutation { createInterface(branch: "feature/x", input: { apiName: "I{n}" }) { version } }"#,
    },
    Case {
        name: "updateInterface",
        least: Some(Role::Editor),
        prepare: &[r#"mutation { createInterface(branch: "feature/x", input: { apiName: "IU{n}" }) { version } }"#],
        query: r#"mutation { updateInterface(branch: "feature/x", apiName: "IU{n}", expectedVersion: 1, input: { description: "d" }) { version } }"#,
    },
    Case {
        name: "deleteInterface",
        least: Some(Role::Editor),
        prepare: &[r#"mutation { createInterface(branch: "feature/x", input: { apiName: "ID{n}" }) { version } }"#],
        query: r#"mutation { deleteInterface(branch: "feature/x", apiName: "ID{n}", expectedVersion: 1) { version } }"#,
    },
    Case {
        name: "createLinkType",
        least: Some(Role::Editor),
        prepare: &[],
        query: r#"mutation { createLinkType(branch: "feature/x", input: { apiName: "l{n}", source: "Base", target: "Base" }) { version } }"#,
    },
    Case {
        name: "updateLinkType",
        least: Some(Role::Editor),
        prepare: &[
            r#"mutation { createLinkType(branch: "feature/x", input: { apiName: "lu{n}", source: "Base", target: "Base" }) { version } }"#,
        ],
        query: r#"mutation { updateLinkType(branch: "feature/x", id: "Base.lu{n}.Base", expectedVersion: 1, input: { description: "d" }) { version } }"#,
    },
    Case {
        name: "deleteLinkType",
        least: Some(Role::Editor),
        prepare: &[
            r#"mutation { createLinkType(branch: "feature/x", input: { apiName: "ld{n}", source: "Base", target: "Base" }) { version } }"#,
        ],
        query: r#"mutation { deleteLinkType(branch: "feature/x", id: "Base.ld{n}.Base", expectedVersion: 1) { version } }"#,
    },
    Case {
        name: "commit",
        least: Some(Role::Editor),
        prepare: &[],
        query: r#"mutation { commit(branch: "feature/x", changes: [{ createObjectType: { apiName: "C{n}" } }]) { version } }"#,
    },
    Case {
        name: "createBranch",
        least: Some(Role::Editor),
        prepare: &[],
        query: r#"mutation { createBranch(name: "feature/b{n}", from: "main") { name } }"#,
    },
    Case {
        name: "deleteBranch",
        least: Some(Role::Maintainer),
        prepare: &[r#"mutation { createBranch(name: "feature/d{n}", from: "main") { name } }"#],
        query: r#"mutation { deleteBranch(name: "feature/d{n}", expectedVersion: 0) }"#,
    },
    Case {
        name: "setBranchProtection",
        least: Some(Role::Maintainer),
        prepare: &[r#"mutation { createBranch(name: "feature/p{n}", from: "main") { name } }"#],
        query: r#"mutation { setBranchProtection(name: "feature/p{n}", protected: true) { protected } }"#,
    },
    Case {
        name: "mergeBranch dry run",
        least: None,
        prepare: &[
            r#"mutation { createBranch(name: "feature/m{n}", from: "feature/x") { name } }"#,
            r#"mutation { createObjectType(branch: "feature/m{n}", input: { apiName: "M{n}" }) { version } }"#,
        ],
        query: r#"mutation { mergeBranch(source: "feature/m{n}", target: "feature/x", dryRun: true) { merged changes { entityKind } } }"#,
    },
    Case {
        name: "mergeBranch into an unprotected branch",
        least: Some(Role::Editor),
        prepare: &[
            r#"mutation { createBranch(name: "feature/m{n}", from: "feature/x") { name } }"#,
            r#"mutation { createObjectType(branch: "feature/m{n}", input: { apiName: "M{n}" }) { version } }"#,
        ],
        query: r#"mutation { mergeBranch(source: "feature/m{n}", target: "feature/x") { merged } }"#,
    },
    Case {
        name: "mergeBranch into a protected branch",
        least: Some(Role::Maintainer),
        prepare: &[
            r#"mutation { createBranch(name: "feature/pm{n}", from: "feature/prot") { name } }"#,
            r#"mutation { createObjectType(branch: "feature/pm{n}", input: { apiName: "PM{n}" }) { version } }"#,
        ],
        query: r#"mutation { mergeBranch(source: "feature/pm{n}", target: "feature/prot") { merged } }"#,
    },
    Case {
        name: "createObjectType outside the editor's globs",
        least: Some(Role::Maintainer),
        prepare: &[],
        query: r#"mutation { createObjectType(branch: "main", input: { apiName: "OnMain{n}" }) { version } }"#,
    },
    Case { name: "tokens", least: Some(Role::Admin), prepare: &[], query: "{ tokens { name } }" },
    Case {
        name: "auditLog",
        least: Some(Role::Admin),
        prepare: &[],
        query: "{ auditLog(first: 1) { edges { cursor } } }",
    },
    Case {
        name: "createToken",
        least: Some(Role::Admin),
        prepare: &[],
        query: r#"mutation { createToken(name: "t{n}", role: VIEWER) { secret } }"#,
    },
    Case {
        name: "revokeToken",
        least: Some(Role::Admin),
        prepare: &[r#"mutation { createToken(name: "r{n}", role: VIEWER) { secret } }"#],
        query: r#"mutation { revokeToken(name: "r{n}") { active } }"#,
    },
];

/// Every case for every principal: allowed (no errors) or the exact code
/// (`FORBIDDEN` with `extensions.required`), and nothing written when
/// denied. The editor's writes are limited to `feature/*`.
async fn role_matrix(url: &str) {
    let admin = token(url, "admin", Role::Admin, &[]).await;
    let principals: Vec<(&str, Option<Role>, Option<String>)> = vec![
        ("anonymous", None, None),
        ("viewer", Some(Role::Viewer), Some(token(url, "viewer", Role::Viewer, &[]).await)),
        ("editor", Some(Role::Editor), Some(token(url, "editor", Role::Editor, &["feature/*"]).await)),
        ("maintainer", Some(Role::Maintainer), Some(token(url, "maintainer", Role::Maintainer, &[]).await)),
        ("admin", Some(Role::Admin), Some(admin.clone())),
    ];
    let app = Live::start_at(url, |_| {}).await;
    ok(
        &app,
        &admin,
        r#"mutation { createObjectType(branch: "main", input: { apiName: "Base" }) { version } }"#,
        json!({}),
    )
    .await;
    for setup in [
        r#"mutation { createBranch(name: "feature/x", from: "main") { name } }"#,
        r#"mutation { createBranch(name: "feature/prot", from: "main") { name } }"#,
        r#"mutation { setBranchProtection(name: "feature/prot", protected: true) { protected } }"#,
    ] {
        ok(&app, &admin, setup, json!({})).await;
    }
    let mut n = 0;
    for (who, role, secret) in &principals {
        for case in CASES {
            n += 1;
            let fill = |q: &str| q.replace("{n}", &n.to_string());
            for p in case.prepare {
                ok(&app, &admin, &fill(p), json!({})).await;
            }
            let allowed = match (case.least, role) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(least), Some(r)) => *r >= least,
            };
            // The editor's globs: exactly the one case outside them.
            let allowed = allowed && !(*who == "editor" && case.name.contains("outside"));
            let before = fingerprint(&app, &admin).await;
            let (status, body) = app.gql_as(secret.as_deref(), &fill(case.query), json!({})).await;
            let label = format!("{who} / {}: {body:#}", case.name);
            assert_eq!(status, StatusCode::OK, "{label}");
            if allowed {
                assert!(body.get("errors").is_none(), "{label}");
                continue;
            }
            let err = &body["errors"][0];
            assert_eq!(err["extensions"]["code"], "FORBIDDEN", "{label}");
            // The role named is the one the check that failed asked for:
            // writing a branch needs an editor first (also outside the
            // editor's globs, and before a merge learns that its target is
            // protected, which then needs a maintainer).
            let required = match (case.name, *who) {
                (
                    "mergeBranch into a protected branch" | "createObjectType outside the editor's globs",
                    "anonymous" | "viewer",
                ) => "editor",
                ("createObjectType outside the editor's globs", "editor") => "editor",
                _ => case.least.unwrap().as_str(),
            };
            assert_eq!(err["extensions"]["required"], required, "{label}");
            assert_eq!(fingerprint(&app, &admin).await, before, "{label}: a denial wrote something");
        }
    }
    // Every denial is in the audit log, with who and what.
    let log =
        ok(&app, &admin, r#"{ auditLog(first: 1000) { edges { node { principal action outcome } } } }"#, json!({}))
            .await;
    let denials: Vec<&Value> = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["outcome"] == "denied: FORBIDDEN")
        .collect();
    let expected: usize = principals
        .iter()
        .map(|(who, role, _)| {
            CASES
                .iter()
                .filter(|c| match (c.least, role) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(least), Some(r)) => *r < least || (*who == "editor" && c.name.contains("outside")),
                })
                .count()
        })
        .sum();
    assert_eq!(denials.len(), expected, "{log:#}");
    assert!(denials.iter().any(|d| d["principal"] == "viewer" && d["action"] == "deleteBranch"), "{denials:#?}");
    app.stop().await;
}

/// With `--anonymous none`, a request without credentials is 401
/// `UNAUTHENTICATED` (reads too), as is one with a bad token.
async fn anonymous_none_and_bad_credentials(url: &str) {
    let viewer = token(url, "viewer", Role::Viewer, &[]).await;
    let app = Live::start_at(url, |a| a.auth.anonymous = Anonymous::None).await;
    for t in [None, Some("ogt_0000000000000000_nope"), Some("not-a-token")] {
        let (status, body) = app.gql_as(t, "{ branch { version } }", json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{t:?}: {body:#}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body:#}");
        assert!(body.get("data").is_none(), "{body:#}");
    }
    let res = app.client.post(app.url("/graphql")).header("content-type", "application/json").body("{}").send();
    let res = res.await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let basic = app.client.post(app.url("/graphql")).header("authorization", "Basic YTpi").body("{}").send();
    assert_eq!(basic.await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        ok(&app, &viewer, "{ viewer { name role } }", json!({})).await["viewer"],
        json!({ "name": "viewer", "role": "VIEWER" })
    );
    app.stop().await;
}

/// A revoked token is refused on its next request, here and — from its
/// next read of the token table — on another server over the same database.
async fn revoked_tokens_are_refused(url: &str) {
    let admin = token(url, "admin", Role::Admin, &[]).await;
    let a = Live::start_at(url, |a| a.auth.token_refresh_secs = 1).await;
    let b = Live::start_at(url, |a| a.auth.token_refresh_secs = 1).await;
    let created = ok(&a, &admin, r#"mutation { createToken(name: "ci", role: EDITOR, branches: ["ci/*"]) { secret token { name role branches active } } }"#, json!({})).await;
    assert_eq!(
        created["createToken"]["token"],
        json!({ "name": "ci", "role": "EDITOR", "branches": ["ci/*"], "active": true })
    );
    let secret = created["createToken"]["secret"].as_str().unwrap().to_owned();
    // B learns of the new token from its next read of the table.
    let mut seen = false;
    for _ in 0..100 {
        if b.gql_as(Some(&secret), "{ viewer { name } }", json!({})).await.0 == StatusCode::OK {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "server B never accepted the new token");
    let me = ok(&a, &secret, "{ viewer { name role branches openMode } }", json!({})).await;
    assert_eq!(me["viewer"], json!({ "name": "ci", "role": "EDITOR", "branches": ["ci/*"], "openMode": false }));
    ok(&a, &admin, r#"mutation { revokeToken(name: "ci") { active revokedAt } }"#, json!({})).await;
    let (status, body) = a.gql_as(Some(&secret), "{ viewer { name } }", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body:#}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("revoked"), "{body:#}");
    let mut refused = false;
    for _ in 0..100 {
        if b.gql_as(Some(&secret), "{ viewer { name } }", json!({})).await.0 == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refused, "server B kept accepting the revoked token");
    a.stop().await;
    b.stop().await;
}

/// Every admin action and denial is in the audit table, with its request
/// id, and still there after a restart; commit authors are principals.
async fn audit_survives_a_restart(url: &str) {
    let admin = token(url, "admin", Role::Admin, &[]).await;
    let app = Live::start_at(url, |_| {}).await;
    for m in [
        r#"mutation { createBranch(name: "dev") { name } }"#,
        r#"mutation { createBranch(name: "gone") { name } }"#,
        r#"mutation { createObjectType(branch: "dev", input: { apiName: "A" }) { version } }"#,
        r#"mutation { setBranchProtection(name: "main", protected: true) { protected } }"#,
        r#"mutation { mergeBranch(source: "dev", target: "main") { merged } }"#,
        r#"mutation { setBranchProtection(name: "main", protected: false) { protected } }"#,
        r#"mutation { deleteBranch(name: "gone", expectedVersion: 0) }"#,
        r#"mutation { createToken(name: "t", role: VIEWER) { secret } }"#,
        r#"mutation { revokeToken(name: "t") { active } }"#,
    ] {
        ok(&app, &admin, m, json!({})).await;
    }
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("x-request-id", "req-denied-1")
        .body(json!({ "query": r#"mutation { deleteBranch(name: "dev", expectedVersion: 1) }"# }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (status, _) = app.gql_as(Some("ogt_0_bad"), "{ __typename }", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let commits =
        ok(&app, &admin, r#"{ branch(name: "main") { commits(first: 1) { edges { node { author } } } } }"#, json!({}))
            .await;
    assert_eq!(commits["branch"]["commits"]["edges"][0]["node"]["author"], "admin");
    app.stop().await;

    let again = Live::start_at(url, |_| {}).await;
    let q = r#"{ auditLog(first: 100) { edges { node { principal action target outcome requestId } } } }"#;
    let log = ok(&again, &admin, q, json!({})).await;
    let mut events: Vec<Value> =
        log["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect();
    events.reverse();
    let brief: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
            (s("action"), s("target"), s("outcome"))
        })
        .collect();
    let want = |v: &[(&str, &str, &str)]| {
        v.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect::<Vec<_>>()
    };
    assert_eq!(
        brief,
        want(&[
            ("token.create", "admin", "ok"),
            ("branch.protect", "main", "ok"),
            ("branch.merge", "main", "ok"),
            ("branch.unprotect", "main", "ok"),
            ("branch.delete", "gone", "ok"),
            ("token.create", "t", "ok"),
            ("token.revoke", "t", "ok"),
            ("deleteBranch", "dev", "denied: FORBIDDEN"),
            ("authenticate", "", "denied: UNAUTHENTICATED"),
        ]),
        "{events:#?}"
    );
    assert_eq!(events[7]["principal"], "anonymous");
    assert_eq!(events[7]["requestId"], "req-denied-1");
    assert!(events[1..7].iter().all(|e| e["principal"] == "admin"), "{events:#?}");
    let only =
        ok(&again, &admin, r#"{ auditLog(action: "token.create") { edges { node { target } } } }"#, json!({})).await;
    assert_eq!(only["auditLog"]["edges"].as_array().unwrap().len(), 2);
    again.stop().await;
}

conformance!(role_matrix, anonymous_none_and_bad_credentials, revoked_tokens_are_refused, audit_survives_a_restart);

#[tokio::test]
async fn open_mode_only_on_loopback_unless_insecure_open() {
    use ontograph::config::ServeArgs;
    use ontograph::http::Server;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("open.db").display());
    let mut args = ServeArgs::for_tests(&url);
    args.addr = "0.0.0.0:0".parse().unwrap();
    let err = Server::start(args.clone()).await.err().expect("refused to start");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("refusing to listen on 0.0.0.0:0 without authentication") && msg.contains("--insecure-open"),
        "{msg}"
    );
    args.auth.insecure_open = true;
    let open = Server::start(args.clone()).await.expect("--insecure-open starts");
    open.stop().await.unwrap();
    // With a token, a public address is fine.
    args.auth.insecure_open = false;
    token(&url, "admin", Role::Admin, &[]).await;
    let guarded = Server::start(args).await.expect("starts with authentication");
    assert!(!guarded.auth.is_open());
    guarded.stop().await.unwrap();
}

#[tokio::test]
async fn open_mode_is_everyone_an_admin_signing_as_the_author_header() {
    let app = Live::start().await;
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("x-ontograph-author", "alice")
        .body(
            json!({ "query": r#"mutation { createObjectType(branch: "main", input: { apiName: "A" }) { version } }"# })
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let data = app
        .ok(
            r#"{ viewer { name role openMode } branch { commits(first: 1) { edges { node { author } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["viewer"], json!({ "name": "anonymous", "role": "ADMIN", "openMode": true }));
    assert_eq!(data["branch"]["commits"]["edges"][0]["node"]["author"], "alice");
    app.stop().await;
}

/// In auth mode `X-Ontograph-Author` is ignored: the principal signs.
#[tokio::test]
async fn the_author_header_is_ignored_once_authentication_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    let editor = token(&url, "editor", Role::Editor, &[]).await;
    let app = Live::start_at(&url, |_| {}).await;
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&editor)
        .header("content-type", "application/json")
        .header("x-ontograph-author", "mallory")
        .body(
            json!({ "query": r#"mutation { createObjectType(branch: "main", input: { apiName: "A" }) { version } }"# })
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let data = ok(&app, &editor, r#"{ branch { commits(first: 1) { edges { node { author } } } } }"#, json!({})).await;
    assert_eq!(data["branch"]["commits"]["edges"][0]["node"]["author"], "editor");
    app.stop().await;
}

/// Tokens and audit events have global ids that `node(id:)` resolves, for
/// admins only.
#[tokio::test]
async fn token_and_audit_event_ids_resolve_for_admins() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ids.db").display());
    let admin = token(&url, "admin", Role::Admin, &[]).await;
    let viewer = token(&url, "viewer", Role::Viewer, &[]).await;
    let app = Live::start_at(&url, |_| {}).await;
    let data =
        ok(&app, &admin, "{ tokens { id name } auditLog(first: 1) { edges { node { id seq action } } } }", json!({}))
            .await;
    let token_id = data["tokens"][0]["id"].as_str().unwrap().to_owned();
    let event = data["auditLog"]["edges"][0]["node"].clone();
    let q = "query($a: ID!, $b: ID!) { nodes(ids: [$a, $b]) { id ... on ApiToken { name } ... on AuditEvent { seq action } } }";
    let vars = json!({ "a": token_id, "b": event["id"] });
    let found = ok(&app, &admin, q, vars.clone()).await;
    assert_eq!(found["nodes"][0], json!({ "id": token_id, "name": "admin" }));
    assert_eq!(found["nodes"][1], event);
    let (_, denied) = app.gql_as(Some(&viewer), q, vars).await;
    assert_eq!(denied["errors"][0]["extensions"]["code"], "FORBIDDEN", "{denied:#}");
    assert_eq!(denied["data"]["nodes"], json!([null, null]));
    app.stop().await;
}
