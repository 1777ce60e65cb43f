//! The store conformance suite: every case runs against SQLite (temp file
//! and in-memory) and PostgreSQL (`ONTOGRAPH_TEST_POSTGRES_URL`; skipped
//! with a notice when unset). Same semantics on both is the contract.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use ontograph::error::Error;
use ontograph::model::{ChangeKind, EntityChange, EntityKind};
use ontograph::store::{
    connect, load_rows, AuditEntry, AuditQuery, CommitRows, EntityRow, MergeMark, NewBranch, NewCommit, NewToken, Store,
};
use serde_json::json;

use crate::helpers::TestApp;

fn row(id: &str, version: i64, body: Option<&str>) -> EntityRow {
    EntityRow { kind: EntityKind::ObjectType, id: id.into(), version, body: body.map(str::to_owned) }
}

fn change(id: &str, change: ChangeKind) -> EntityChange {
    EntityChange { entity_kind: EntityKind::ObjectType, id: id.into(), change, fields: vec![] }
}

async fn branch(store: &dyn Store, name: &str, parent: Option<&str>, at: Option<i64>) {
    let b = NewBranch { name: name.into(), parent: parent.map(Into::into), forked_at: at, created_at: Utc::now() };
    let rec = store.create_branch(&b).await.unwrap();
    assert_eq!((rec.head, rec.protected, rec.forked_at), (0, false, at));
}

async fn commit(store: &dyn Store, branch: &str, head: i64, rows: &[EntityRow]) -> Result<i64, Error> {
    let changes: Vec<_> = rows
        .iter()
        .map(|r| change(&r.id, if r.body.is_some() { ChangeKind::Modified } else { ChangeKind::Deleted }))
        .collect();
    let c = NewCommit {
        branch,
        expected_head: head,
        author: Some("tester"),
        message: Some("msg"),
        timestamp: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        changes: &changes,
        rows: rows.into(),
        progress: None,
        merge: None,
        audit: None,
    };
    store.append_commit(&c).await.map(|r| r.version)
}

/// (id, version) of the live rows of a branch at a version.
async fn live(store: &dyn Store, name: &str, at: i64) -> Vec<(String, i64)> {
    let branches = store.branches().await.unwrap();
    let rows = load_rows(store, &branches, name, at).await.unwrap();
    rows.into_iter().map(|r| (r.id, r.version)).collect()
}

fn pairs(p: &[(&str, i64)]) -> Vec<(String, i64)> {
    p.iter().map(|(a, b)| (a.to_string(), *b)).collect()
}

async fn commit_and_read_back(url: &str) {
    let store = connect(url).await.unwrap();
    let s = store.as_ref();
    assert!(s.branches().await.unwrap().is_empty());
    branch(s, "main", None, None).await;
    assert_eq!(commit(s, "main", 0, &[row("A", 1, Some("{}")), row("B", 1, Some("{}"))]).await.unwrap(), 1);
    assert_eq!(commit(s, "main", 1, &[row("A", 2, Some(r#"{"x":1}"#)), row("B", 1, None)]).await.unwrap(), 2);

    // Bodies are JSON: compared as values (PostgreSQL's JSONB re-spaces text).
    let own: Vec<_> = s.own_rows("main", 2).await.unwrap();
    let own: Vec<_> = own
        .into_iter()
        .map(|r| (r.id, r.version, r.body.map(|b| serde_json::from_str::<serde_json::Value>(&b).unwrap())))
        .collect();
    assert_eq!(own, [("A".into(), 2, Some(json!({ "x": 1 }))), ("B".into(), 1, None)]);
    assert_eq!(live(s, "main", 1).await, pairs(&[("A", 1), ("B", 1)]));
    assert_eq!(live(s, "main", 2).await, pairs(&[("A", 2)]));

    // A stale head is a conflict and writes nothing.
    let err = commit(s, "main", 1, &[row("C", 1, Some("{}"))]).await.unwrap_err();
    assert!(matches!(err, Error::VersionConflict { expected: 1, actual: 2, .. }), "{err:?}");
    assert_eq!(live(s, "main", 99).await, pairs(&[("A", 2)]));
    let err = commit(s, "nope", 0, &[]).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    let commits = s.commits("main", None, 10).await.unwrap();
    assert_eq!(commits.iter().map(|c| c.version).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(commits[0].changes, [change("A", ChangeKind::Modified), change("B", ChangeKind::Deleted)]);
    assert_eq!((commits[0].author.as_deref(), commits[0].message.as_deref()), (Some("tester"), Some("msg")));
    assert_eq!(commits[0].timestamp, Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap());
    let older = s.commits("main", Some(2), 10).await.unwrap();
    assert_eq!(older.iter().map(|c| c.version).collect::<Vec<_>>(), [1]);
    assert_eq!(s.branches().await.unwrap()[0].head, 2);
    // One branch's record, as the table has it.
    let main = s.branch("main").await.unwrap().expect("main");
    assert_eq!((main.name.as_str(), main.head), ("main", 2));
    assert_eq!(main.created_at, s.branches().await.unwrap()[0].created_at);
    assert!(s.branch("nope").await.unwrap().is_none());
}

async fn fork_reads_parent_up_to_fork_point(url: &str) {
    let store = connect(url).await.unwrap();
    let s = store.as_ref();
    branch(s, "main", None, None).await;
    commit(s, "main", 0, &[row("A", 1, Some("{}")), row("B", 1, Some("{}"))]).await.unwrap();
    commit(s, "main", 1, &[row("C", 1, Some("{}"))]).await.unwrap();
    branch(s, "dev", Some("main"), Some(1)).await;
    commit(s, "main", 2, &[row("A", 2, Some("{}"))]).await.unwrap();

    // The fork sees main as of version 1 only, and stores nothing itself.
    assert!(s.own_rows("dev", 0).await.unwrap().is_empty());
    assert_eq!(live(s, "dev", 0).await, pairs(&[("A", 1), ("B", 1)]));
    commit(s, "dev", 0, &[row("B", 1, None), row("D", 1, Some("{}"))]).await.unwrap();
    assert_eq!(live(s, "dev", 1).await, pairs(&[("A", 1), ("D", 1)]));
    // Time travel on both branches; main unaffected by the fork.
    assert_eq!(live(s, "dev", 0).await, pairs(&[("A", 1), ("B", 1)]));
    assert_eq!(live(s, "main", 3).await, pairs(&[("A", 2), ("B", 1), ("C", 1)]));
    assert_eq!(live(s, "main", 0).await, pairs(&[]));
    // A fork of a fork resolves through both ancestors.
    branch(s, "feat", Some("dev"), Some(1)).await;
    assert_eq!(live(s, "feat", 0).await, pairs(&[("A", 1), ("D", 1)]));
}

async fn branch_admin(url: &str) {
    let store = connect(url).await.unwrap();
    let s = store.as_ref();
    branch(s, "main", None, None).await;
    branch(s, "dev", Some("main"), Some(0)).await;
    let dup = NewBranch { name: "dev".into(), parent: Some("main".into()), forked_at: Some(0), created_at: Utc::now() };
    assert_eq!(s.create_branch(&dup).await.unwrap_err().code(), "ALREADY_EXISTS");
    match s.delete_branch("main", None).await.unwrap_err() {
        Error::InUse { dependents, .. } => assert_eq!(dependents, ["dev"]),
        other => panic!("unexpected {other:?}"),
    }
    s.set_protected("dev", true, None).await.unwrap();
    let names: Vec<_> = s.branches().await.unwrap().into_iter().map(|b| (b.name, b.protected)).collect();
    assert_eq!(names, [("dev".to_string(), true), ("main".to_string(), false)]);
    assert_eq!(s.set_protected("nope", true, None).await.unwrap_err().code(), "NOT_FOUND");
    commit(s, "dev", 0, &[row("X", 1, Some("{}"))]).await.unwrap();
    s.delete_branch("dev", None).await.unwrap();
    assert_eq!(s.branches().await.unwrap().len(), 1);
    assert!(s.own_rows("dev", 99).await.unwrap().is_empty());
    assert!(s.commits("dev", None, 10).await.unwrap().is_empty());
}

/// Racing appends with the same expected head: exactly one wins.
async fn concurrent_appends_one_wins(url: &str) {
    let store: Arc<dyn Store> = connect(url).await.unwrap();
    branch(store.as_ref(), "main", None, None).await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(
                async move { commit(store.as_ref(), "main", 0, &[row(&format!("T{i}"), 1, Some("{}"))]).await },
            )
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(v) => {
                assert_eq!(v, 1);
                wins += 1;
            }
            Err(Error::VersionConflict { expected: 0, actual: 1, .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(live(store.as_ref(), "main", 1).await.len(), 1);
}

/// Through the engine: what was acknowledged is there after a restart.
async fn engine_state_survives_restart(url: &str) {
    let app = TestApp::open(url).await;
    app.engine.seed_demo_if_empty().await.unwrap();
    app.ok(
        r#"mutation { updateObjectType(branch: "main", apiName: "Employee", expectedVersion: 1,
             input: { description: "changed" }) { version } }"#,
        json!({}),
    )
    .await;
    app.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    let q = r#"{ branches { name version forkedAt } branch { version objectType(apiName: "Employee") { version description }
                 stats { objectTypes interfaces linkTypes edges } } }"#;
    let before = app.ok(q, json!({})).await;
    assert_eq!(before["branch"]["objectType"], json!({ "version": 2, "description": "changed" }));
    let after = app.reopen().await.ok(q, json!({})).await;
    assert_eq!(before, after);
}

/// The per-key reads time travel and fork loading use, and merge records.
async fn rows_at_touched_and_merges(url: &str) {
    let store = connect(url).await.unwrap();
    let s = store.as_ref();
    branch(s, "main", None, None).await;
    commit(s, "main", 0, &[row("A", 1, Some("{}")), row("B", 1, Some("{}"))]).await.unwrap();
    commit(s, "main", 1, &[row("A", 2, Some(r#"{"x":2}"#)), row("C", 1, Some("{}"))]).await.unwrap();
    commit(s, "main", 2, &[row("B", 1, None)]).await.unwrap();
    let key = |id: &str| (EntityKind::ObjectType, id.to_string());
    let sorted = |mut v: Vec<(EntityKind, String)>| {
        v.sort();
        v
    };
    assert_eq!(sorted(s.touched("main", 1, 3).await.unwrap()), [key("A"), key("B"), key("C")]);
    assert_eq!(s.touched("main", 2, 3).await.unwrap(), [key("B")]);
    assert!(s.touched("main", 3, 3).await.unwrap().is_empty());
    let at = |upto, ids: &[&str]| {
        let keys: Vec<_> = ids.iter().map(|i| key(i)).collect();
        async move {
            let mut rows = s.rows_at("main", upto, &keys).await.unwrap();
            rows.sort_by(|a, b| a.id.cmp(&b.id));
            rows.into_iter().map(|r| (r.id, r.version, r.body.is_some())).collect::<Vec<_>>()
        }
    };
    let t = |id: &str, v, live| (id.to_string(), v, live);
    assert_eq!(at(1, &["A", "B", "C", "Z"]).await, [t("A", 1, true), t("B", 1, true)]);
    assert_eq!(at(3, &["A", "B", "C"]).await, [t("A", 2, true), t("B", 1, false), t("C", 1, true)]);
    // Many keys: chunked IN lists.
    let many: Vec<String> = (0..1200).map(|i| format!("K{i}")).chain(["A".into()]).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(at(3, &many).await, [t("A", 2, true)]);

    branch(s, "dev", Some("main"), Some(3)).await;
    assert!(s.merges().await.unwrap().is_empty());
    let changes = [change("D", ChangeKind::Added)];
    let rows = [row("D", 1, Some("{}"))];
    let c = NewCommit {
        branch: "main",
        expected_head: 3,
        author: None,
        message: None,
        timestamp: Utc::now(),
        changes: &changes,
        rows: CommitRows::All(&rows),
        progress: None,
        merge: Some(MergeMark { source: "dev", source_version: 0 }),
        audit: None,
    };
    s.append_commit(&c).await.unwrap();
    let m = s.merges().await.unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].target.as_str(), m[0].target_version, m[0].source.as_str(), m[0].source_version),
        ("main", 4, "dev", 0)
    );
    s.delete_branch("dev", None).await.unwrap();
    assert!(s.merges().await.unwrap().is_empty());
    // A merge from a branch deleted meanwhile: NOT_FOUND, nothing written.
    let ghost = NewCommit { expected_head: 4, merge: Some(MergeMark { source: "ghost", source_version: 0 }), ..c };
    assert_eq!(s.append_commit(&ghost).await.unwrap_err().code(), "NOT_FOUND");
    assert_eq!(s.branches().await.unwrap()[0].head, 4);
    assert_eq!(s.commits("main", None, 10).await.unwrap().len(), 4);
}

/// Through the engine: merges, their bases and time travel after a restart.
async fn engine_merge_survives_restart(url: &str) {
    let app = TestApp::open(url).await;
    app.engine.seed_demo_if_empty().await.unwrap();
    let update = |branch: &str, v: i64, d: &str| {
        format!(
            r#"mutation {{ updateObjectType(branch: "{branch}", apiName: "Employee", expectedVersion: {v},
                 input: {{ description: "{d}" }}) {{ version }} }}"#
        )
    };
    app.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    app.ok(&update("dev", 1, "dev"), json!({})).await;
    let merged = app.ok(r#"mutation { mergeBranch(source: "dev") { merged commit { version } } }"#, json!({})).await;
    assert_eq!(merged["mergeBranch"], json!({ "merged": true, "commit": { "version": 2 } }));
    app.ok(&update("dev", 2, "dev again"), json!({})).await;
    app.ok(&update("main", 2, "main"), json!({})).await;
    let app = app.reopen().await;
    // The merge base moved and survived: dev's newer change conflicts with
    // main's, and nothing older is reported.
    let err = app.err(r#"mutation { mergeBranch(source: "dev") { merged } }"#, json!({})).await;
    assert_eq!(err["extensions"]["code"], "MERGE_CONFLICT");
    let c = &err["extensions"]["conflicts"];
    assert_eq!(
        (c[0]["base"].clone(), c[0]["source"].clone(), c[0]["target"].clone()),
        (json!("dev"), json!("dev again"), json!("main"))
    );
    let q = r#"{ a: branch(at: 1) { objectType(apiName: "Employee") { description version } }
                b: branch(at: 2) { objectType(apiName: "Employee") { description version } }
                d: branch(name: "dev", at: 1) { objectType(apiName: "Employee") { description version } } }"#;
    let past = app.ok(q, json!({})).await;
    assert_eq!(past["b"]["objectType"], json!({ "description": "dev", "version": 2 }));
    assert_eq!(past["d"]["objectType"], json!({ "description": "dev", "version": 2 }));
    assert_eq!(past["a"]["objectType"]["version"], 1);
}

fn audit(action: &str, target: &str) -> AuditEntry {
    AuditEntry {
        at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        principal: "alice".into(),
        action: action.into(),
        target: Some(target.into()),
        outcome: "ok".into(),
        request_id: Some("req-1".into()),
        detail: None,
    }
}

fn token(id: &str, name: &str) -> NewToken {
    NewToken {
        id: id.into(),
        name: name.into(),
        secret_hash: "ab".repeat(32),
        role: "editor".into(),
        branches: vec!["feature/*".into()],
        created_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        created_by: Some("alice".into()),
        expires_at: None,
    }
}

/// (action, target) of every audit event, oldest first.
async fn audit_actions(s: &dyn Store) -> Vec<(String, String)> {
    let q = AuditQuery { limit: 1000, ..AuditQuery::default() };
    let mut rows = s.audit_log(&q).await.unwrap();
    rows.reverse();
    rows.into_iter().map(|r| (r.entry.action, r.entry.target.unwrap_or_default())).collect()
}

/// Tokens and the audit log: an admin action and its audit event commit
/// together, and a failed one writes neither.
async fn tokens_and_audit(url: &str) {
    let store = connect(url).await.unwrap();
    let s = store.as_ref();
    let created = s.create_token(&token("id1", "ci"), &audit("token.create", "ci")).await.unwrap();
    assert_eq!((created.name.as_str(), created.role.as_str(), created.revoked_at), ("ci", "editor", None));
    assert_eq!(created.branches, ["feature/*"]);
    let dup = s.create_token(&token("id2", "ci"), &audit("token.create", "ci")).await.unwrap_err();
    assert_eq!(dup.code(), "ALREADY_EXISTS");
    let at = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
    let revoked = s.revoke_token("ci", at, &audit("token.revoke", "ci")).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(at));
    assert_eq!(s.revoke_token("ci", at, &audit("token.revoke", "ci")).await.unwrap_err().code(), "NOT_FOUND");
    // The name is free again once revoked.
    s.create_token(&token("id3", "ci"), &audit("token.create", "ci")).await.unwrap();
    let tokens = s.tokens().await.unwrap();
    let ids: Vec<(&str, bool)> = tokens.iter().map(|t| (t.id.as_str(), t.revoked_at.is_some())).collect();
    assert_eq!(ids, [("id1", true), ("id3", false)]);

    // Protection, deletion and a merge commit carry their audit event.
    branch(s, "main", None, None).await;
    branch(s, "dev", Some("main"), Some(0)).await;
    s.set_protected("dev", true, Some(&audit("branch.protect", "dev"))).await.unwrap();
    let missing = s.set_protected("nope", true, Some(&audit("branch.protect", "nope"))).await.unwrap_err();
    assert_eq!(missing.code(), "NOT_FOUND");
    let changes = [change("A", ChangeKind::Added)];
    let rows = [row("A", 1, Some("{}"))];
    let merge_audit = audit("branch.merge", "main");
    let c = NewCommit {
        branch: "main",
        expected_head: 0,
        author: None,
        message: None,
        timestamp: Utc::now(),
        changes: &changes,
        rows: CommitRows::All(&rows),
        progress: None,
        merge: Some(MergeMark { source: "dev", source_version: 0 }),
        audit: Some(&merge_audit),
    };
    s.append_commit(&c).await.unwrap();
    // A stale head: VERSION_CONFLICT, no commit and no audit event.
    assert_eq!(s.append_commit(&c).await.unwrap_err().code(), "VERSION_CONFLICT");
    s.delete_branch("dev", Some(&audit("branch.delete", "dev"))).await.unwrap();
    s.append_audit(&[audit("mutation.commit", "main"), audit("authenticate", "")]).await.unwrap();
    let pairs = |p: &[(&str, &str)]| p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    assert_eq!(
        audit_actions(s).await,
        pairs(&[
            ("token.create", "ci"),
            ("token.revoke", "ci"),
            ("token.create", "ci"),
            ("branch.protect", "dev"),
            ("branch.merge", "main"),
            ("branch.delete", "dev"),
            ("mutation.commit", "main"),
            ("authenticate", ""),
        ])
    );
    // Newest first, paged by seq, filtered by action and principal.
    let page = s.audit_log(&AuditQuery { limit: 2, ..AuditQuery::default() }).await.unwrap();
    assert_eq!(page.iter().map(|r| r.entry.action.as_str()).collect::<Vec<_>>(), ["authenticate", "mutation.commit"]);
    let older =
        s.audit_log(&AuditQuery { before: Some(page[1].seq), limit: 1, ..AuditQuery::default() }).await.unwrap();
    assert_eq!(older[0].entry.action, "branch.delete");
    let q = AuditQuery { limit: 10, action: Some("token.create".into()), ..AuditQuery::default() };
    assert_eq!(s.audit_log(&q).await.unwrap().len(), 2);
    let q = AuditQuery { limit: 10, principal: Some("bob".into()), ..AuditQuery::default() };
    assert!(s.audit_log(&q).await.unwrap().is_empty());
    let all = s.audit_log(&AuditQuery { limit: 1000, ..AuditQuery::default() }).await.unwrap();
    assert_eq!(all.last().unwrap().entry, audit("token.create", "ci"), "every field round-trips");

    // All of it is there after a restart.
    drop(store);
    let again = connect(url).await.unwrap();
    assert_eq!(again.tokens().await.unwrap(), tokens);
    assert_eq!(audit_actions(again.as_ref()).await.len(), 8);
}

/// A commit whose rows arrive as chunks of `sizes` (then `tail`, an error
/// or nothing), on `head`.
async fn commit_chunks(
    s: &dyn Store,
    head: i64,
    ids: &[String],
    sizes: &[usize],
    tail: Option<Error>,
) -> Result<i64, Error> {
    // Backslashes of JSON's own escapes, which COPY's text format escapes again.
    let body = r#"{"d":"tab\tnl\nbs\\q\"","n":1}"#;
    let rows: Vec<EntityRow> = ids.iter().map(|id| row(id, 1, Some(body))).collect();
    let changes: Vec<_> = ids.iter().map(|id| change(id, ChangeKind::Added)).collect();
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let mut rest = rows.as_slice();
    let mut batches: Vec<Result<Vec<EntityRow>, Error>> = Vec::new();
    for n in sizes {
        let (now, later) = rest.split_at((*n).min(rest.len()));
        batches.push(Ok(now.to_vec()));
        rest = later;
    }
    batches.extend(tail.map(Err));
    let feeder = tokio::spawn(async move {
        for b in batches {
            if tx.send(b).await.is_err() {
                break;
            }
        }
    });
    let c = NewCommit {
        branch: "main",
        expected_head: head,
        author: None,
        message: None,
        timestamp: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
        changes: &changes,
        rows: CommitRows::chunks(rx),
        progress: None,
        merge: None,
        audit: None,
    };
    let r = s.append_commit(&c).await.map(|r| r.version);
    // Chunks are taken once: a second try is an error, never an empty commit.
    assert!(s.append_commit(&c).await.is_err());
    feeder.await.unwrap();
    r
}

async fn streamed_rows(url: &str) {
    let store = connect(url).await.unwrap();
    let s = store.as_ref();
    branch(s, "main", None, None).await;
    // Uneven batches across both backends' INSERT chunk sizes (1000, 2000).
    let ids: Vec<String> = (0..4500).map(|i| format!("T{i:05}")).collect();
    assert_eq!(commit_chunks(s, 0, &ids, &[1, 999, 1001, 2499], None).await.unwrap(), 1);
    let all = live(s, "main", 1).await;
    assert_eq!(all, ids.iter().map(|id| (id.clone(), 1)).collect::<Vec<_>>());
    assert_eq!(s.commits("main", None, 1).await.unwrap()[0].changes.len(), 4500);
    let own = s.own_rows("main", 1).await.unwrap();
    let body: serde_json::Value = serde_json::from_str(own[4499].body.as_deref().unwrap()).unwrap();
    assert_eq!(body, json!({ "d": "tab\tnl\nbs\\q\"", "n": 1 }));

    // An error after some batches were written: no commit, no rows.
    let more: Vec<String> = (0..3000).map(|i| format!("U{i:05}")).collect();
    let over = Error::LimitExceeded("U02500 is too big".into());
    let err = commit_chunks(s, 1, &more, &[2500], Some(over)).await.unwrap_err();
    assert!(matches!(&err, Error::LimitExceeded(m) if m == "U02500 is too big"), "{err:?}");
    // Fewer rows than changes (the renderer died): no commit either.
    let err = commit_chunks(s, 1, &more, &[1000, 1000], None).await.unwrap_err();
    assert_eq!(err.code(), "INTERNAL_SERVER_ERROR");
    assert_eq!(s.branch("main").await.unwrap().unwrap().head, 1);
    assert_eq!(live(s, "main", 99).await.len(), 4500);
    assert!(s.touched("main", 1, 99).await.unwrap().is_empty());
}

conformance!(
    streamed_rows,
    tokens_and_audit,
    commit_and_read_back,
    fork_reads_parent_up_to_fork_point,
    branch_admin,
    concurrent_appends_one_wins,
    engine_state_survives_restart,
    rows_at_touched_and_merges,
    engine_merge_survives_restart,
);

mod sqlite_memory {
    #[tokio::test]
    async fn commit_and_read_back() {
        super::commit_and_read_back("sqlite::memory:").await;
    }

    #[tokio::test]
    async fn fork_reads_parent_up_to_fork_point() {
        super::fork_reads_parent_up_to_fork_point("sqlite::memory:").await;
    }
}
