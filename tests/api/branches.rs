//! Branches end to end: diff, three-way merge with every conflict kind,
//! resolutions, dry runs, the moving merge base, races on the target,
//! protection, deletion rules and time travel (also after a restart).
//! Every scenario runs on SQLite and on PostgreSQL (`conformance!`).

use ontograph::graph::GraphIndex;
use serde_json::{json, Value};

use crate::helpers::{code, TestApp};

const MERGE: &str = r#"mutation($s: String!, $t: String! = "main", $dry: Boolean = false,
                              $res: [ConflictResolution!], $etv: Int) {
  mergeBranch(source: $s, target: $t, dryRun: $dry, resolutions: $res, expectedTargetVersion: $etv) {
    merged
    commit { branch version changes { entityKind entityId change fields } }
    changes { entityId change fields }
    conflicts { entityKind entityId field kind base source target dependents resolution } } }"#;

/// `extensions.conflicts` without the entries' global ids (checked to be
/// there, distinct; what they resolve to is `tests/api/ids.rs`'s part).
fn without_ids(conflicts: &Value) -> Value {
    let mut out = conflicts.clone();
    let mut ids = std::collections::HashSet::new();
    for c in out.as_array_mut().unwrap() {
        let id = c.as_object_mut().unwrap().remove("id").expect("each conflict has its id");
        assert!(ids.insert(id.as_str().unwrap().to_owned()), "distinct ids: {conflicts:#}");
    }
    out
}

const COMMIT: &str = r#"mutation($b: String!, $c: [ChangeInput!]!) { commit(branch: $b, changes: $c) { version } }"#;

/// main: A; B extends A; E (description "base"); link A.owns.B. Then `dev` forks it.
async fn forked(url: &str) -> TestApp {
    let app = TestApp::open(url).await;
    let changes = json!([
        { "createObjectType": { "apiName": "A" } },
        { "createObjectType": { "apiName": "B", "extends": ["A"] } },
        { "createObjectType": { "apiName": "E", "description": "base" } },
        { "createLinkType": { "apiName": "owns", "source": "A", "target": "B" } },
    ]);
    commit(&app, "main", changes).await;
    app.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    app
}

async fn commit(app: &TestApp, branch: &str, changes: Value) -> i64 {
    app.ok(COMMIT, json!({ "b": branch, "c": changes })).await["commit"]["version"].as_i64().unwrap()
}

async fn version_of(app: &TestApp, branch: &str, name: &str) -> i64 {
    let q = r#"query($b: String!, $n: ID!) { branch(name: $b) { objectType(apiName: $n) { version } } }"#;
    app.ok(q, json!({ "b": branch, "n": name })).await["branch"]["objectType"]["version"].as_i64().unwrap()
}

/// Update object type `name` on `branch` with `patch`, at its current version.
async fn update(app: &TestApp, branch: &str, name: &str, patch: Value) {
    let v = version_of(app, branch, name).await;
    let change = json!([{ "updateObjectType": { "apiName": name, "expectedVersion": v, "patch": patch } }]);
    commit(app, branch, change).await;
}

async fn delete(app: &TestApp, branch: &str, name: &str) {
    let v = version_of(app, branch, name).await;
    commit(app, branch, json!([{ "deleteObjectType": { "apiName": name, "expectedVersion": v } }])).await;
}

async fn create(app: &TestApp, branch: &str, input: Value) {
    commit(app, branch, json!([{ "createObjectType": input }])).await;
}

async fn merge(app: &TestApp, vars: Value) -> Value {
    app.ok(MERGE, vars).await["mergeBranch"].clone()
}

async fn object(app: &TestApp, branch: &str, name: &str) -> Value {
    let q = r#"query($b: String!, $n: ID!) { branch(name: $b) {
        objectType(apiName: $n) { displayName description extends version } } }"#;
    app.ok(q, json!({ "b": branch, "n": name })).await["branch"]["objectType"].clone()
}

/// The document of object type E as the store and conflicts show it.
fn e_doc(description: &str) -> Value {
    json!({ "apiName": "E", "displayName": "E", "description": description, "status": "ACTIVE",
            "properties": [], "extends": [], "implements": [] })
}

async fn diff_lists_entity_and_field_changes_since_the_fork(url: &str) {
    let app = forked(url).await;
    update(&app, "dev", "E", json!({ "description": "dev" })).await;
    create(&app, "dev", json!({ "apiName": "C", "extends": ["B"] })).await;
    update(&app, "main", "A", json!({ "displayName": "Main A" })).await;
    let q = r#"{ dev: branch(name: "dev") { diff { base baseBranch changes { entityKind entityId change fields } } }
                 main: branch { diff(against: "dev") { base baseBranch changes { entityId change fields } } } }"#;
    assert_eq!(
        app.ok(q, json!({})).await,
        json!({
            "dev": { "diff": { "base": 1, "baseBranch": "main", "changes": [
                { "entityKind": "OBJECT_TYPE", "entityId": "C", "change": "ADDED", "fields": [] },
                { "entityKind": "OBJECT_TYPE", "entityId": "E", "change": "MODIFIED", "fields": ["description"] },
            ] } },
            "main": { "diff": { "base": 1, "baseBranch": "main", "changes": [
                { "entityId": "A", "change": "MODIFIED", "fields": ["displayName"] },
            ] } },
        })
    );
    let err = app.err(r#"{ branch { diff(against: "nope") { base } } }"#, json!({})).await;
    assert_eq!(code(&err), "NOT_FOUND");
}

async fn merge_combines_both_sides_field_by_field_as_one_commit(url: &str) {
    let app = forked(url).await;
    update(&app, "dev", "E", json!({ "displayName": "Dev E" })).await;
    create(&app, "dev", json!({ "apiName": "C", "extends": ["B"] })).await;
    update(&app, "main", "E", json!({ "description": "main" })).await;
    let preview = merge(&app, json!({ "s": "dev", "dry": true })).await;
    assert_eq!(
        preview,
        json!({ "merged": false, "commit": null, "conflicts": [], "changes": [
            { "entityId": "C", "change": "ADDED", "fields": [] },
            { "entityId": "E", "change": "MODIFIED", "fields": ["displayName"] },
        ] })
    );
    assert_eq!(app.branch_version("main").await, 2, "a dry run writes nothing");
    let done = merge(&app, json!({ "s": "dev" })).await;
    assert_eq!(done["merged"], true);
    assert_eq!(
        done["commit"],
        json!({ "branch": "main", "version": 3, "changes": [
            { "entityKind": "OBJECT_TYPE", "entityId": "C", "change": "ADDED", "fields": [] },
            { "entityKind": "OBJECT_TYPE", "entityId": "E", "change": "MODIFIED", "fields": ["displayName"] },
        ] })
    );
    assert_eq!(
        object(&app, "main", "E").await,
        json!({ "displayName": "Dev E", "description": "main", "extends": [], "version": 3 })
    );
    // Traversal sees the merged graph.
    let q =
        r#"{ branch { traverse(from: ["A"], direction: INCOMING, relations: ["extends"]) { nodes { apiName } } } }"#;
    let nodes = app.ok(q, json!({})).await["branch"]["traverse"]["nodes"].clone();
    assert_eq!(nodes, json!([{ "apiName": "A" }, { "apiName": "B" }, { "apiName": "C" }]));
    // Merging again with nothing new changes nothing.
    let again = merge(&app, json!({ "s": "dev" })).await;
    assert_eq!((again["merged"].clone(), again["commit"].clone()), (json!(true), Value::Null));
    assert_eq!(app.branch_version("main").await, 3);
}

async fn a_merge_moves_the_base_so_merging_again_applies_only_newer_changes(url: &str) {
    let app = forked(url).await;
    update(&app, "dev", "E", json!({ "displayName": "Dev E" })).await;
    merge(&app, json!({ "s": "dev" })).await;
    update(&app, "main", "E", json!({ "description": "main" })).await;
    update(&app, "dev", "E", json!({ "displayName": "Dev E 2" })).await;
    // Against the fork point this would be MODIFY_MODIFY on displayName;
    // against the moved base only dev's newer change applies.
    let done = merge(&app, json!({ "s": "dev" })).await;
    assert_eq!(done["conflicts"], json!([]));
    assert_eq!(done["changes"], json!([{ "entityId": "E", "change": "MODIFIED", "fields": ["displayName"] }]));
    assert_eq!(object(&app, "main", "E").await["displayName"], "Dev E 2");
    assert_eq!(object(&app, "main", "E").await["description"], "main");
    let diff = app.ok(r#"{ branch(name: "dev") { diff { base baseBranch changes { entityId } } } }"#, json!({})).await;
    assert_eq!(diff["branch"]["diff"], json!({ "base": 2, "baseBranch": "dev", "changes": [] }));
    // Merging main back into dev brings main's description over.
    let back = merge(&app, json!({ "s": "main", "t": "dev" })).await;
    assert_eq!(back["changes"], json!([{ "entityId": "E", "change": "MODIFIED", "fields": ["description"] }]));
    assert_eq!(object(&app, "dev", "E").await["description"], "main");
}

async fn modify_modify_conflict_writes_nothing_until_resolved(url: &str) {
    let app = forked(url).await;
    update(&app, "dev", "E", json!({ "description": "dev", "displayName": "Dev E" })).await;
    update(&app, "main", "E", json!({ "description": "main" })).await;
    let conflict = json!({ "entityKind": "OBJECT_TYPE", "entityId": "E", "field": "description", "kind": "MODIFY_MODIFY",
        "base": "base", "source": "dev", "target": "main", "dependents": [], "resolution": null });
    let err = app.err(MERGE, json!({ "s": "dev" })).await;
    assert_eq!(code(&err), "MERGE_CONFLICT");
    // Each entry reads as `Conflict` does, with the same global id a dry run gives it.
    let q = r#"mutation { mergeBranch(source: "dev", dryRun: true) { conflicts { id } } }"#;
    let id = app.ok(q, json!({})).await["mergeBranch"]["conflicts"][0]["id"].clone();
    let mut with_id = json!({ "id": id });
    with_id.as_object_mut().unwrap().extend(conflict.as_object().unwrap().clone());
    assert_eq!(err["extensions"]["conflicts"], json!([with_id]));
    // `dryRun: null` is the default, as the contract's `dryRun: Boolean = false` says (docs/ARCHITECTURE.md, "Contract decisions").
    let err = app.err(MERGE, json!({ "s": "dev", "dry": null })).await;
    assert_eq!(code(&err), "MERGE_CONFLICT");
    assert_eq!(app.branch_version("main").await, 2);
    assert_eq!(object(&app, "main", "E").await["displayName"], "E");
    let preview = merge(&app, json!({ "s": "dev", "dry": true })).await;
    assert_eq!(preview["conflicts"], json!([conflict]));

    let res = json!([{ "id": "E", "field": "description", "choose": "SOURCE" }]);
    let done = merge(&app, json!({ "s": "dev", "res": res })).await;
    assert_eq!(done["conflicts"][0]["resolution"], "SOURCE");
    assert_eq!(
        object(&app, "main", "E").await,
        json!({ "displayName": "Dev E", "description": "dev", "extends": [], "version": 3 })
    );

    // A resolution that names no conflict is an input error.
    update(&app, "dev", "A", json!({ "description": "x" })).await;
    let res = json!([{ "id": "Nope", "choose": "TARGET" }]);
    let err = app.err(MERGE, json!({ "s": "dev", "res": res })).await;
    assert_eq!(code(&err), "BAD_USER_INPUT");
    assert_eq!(err["extensions"]["field"], "resolutions[0]");
}

async fn modify_delete_and_add_add_conflicts(url: &str) {
    let app = forked(url).await;
    delete(&app, "dev", "E").await;
    update(&app, "main", "E", json!({ "description": "main" })).await;
    create(&app, "dev", json!({ "apiName": "F", "description": "dev" })).await;
    create(&app, "main", json!({ "apiName": "F", "description": "main" })).await;
    let err = app.err(MERGE, json!({ "s": "dev" })).await;
    assert_eq!(code(&err), "MERGE_CONFLICT");
    let f = |d: &str| {
        json!({ "apiName": "F", "displayName": "F", "description": d, "status": "ACTIVE",
                               "properties": [], "extends": [], "implements": [] })
    };
    assert_eq!(
        without_ids(&err["extensions"]["conflicts"]),
        json!([
            { "entityKind": "OBJECT_TYPE", "entityId": "E", "field": null, "kind": "MODIFY_DELETE",
              "base": e_doc("base"), "source": null, "target": e_doc("main"), "dependents": [], "resolution": null },
            { "entityKind": "OBJECT_TYPE", "entityId": "F", "field": null, "kind": "ADD_ADD",
              "base": null, "source": f("dev"), "target": f("main"), "dependents": [], "resolution": null },
        ])
    );
    // A resolution names a conflict by its entityId or by its own id.
    let e_conflict = err["extensions"]["conflicts"][0]["id"].clone();
    let res = json!([{ "id": e_conflict, "choose": "SOURCE" }, { "id": "F", "choose": "TARGET" }]);
    merge(&app, json!({ "s": "dev", "res": res })).await;
    assert_eq!(object(&app, "main", "E").await, Value::Null);
    assert_eq!(object(&app, "main", "F").await["description"], "main");
}

async fn a_deletion_that_breaks_a_new_reference_is_a_broken_reference_conflict(url: &str) {
    let app = forked(url).await;
    delete(&app, "dev", "E").await;
    create(&app, "main", json!({ "apiName": "G", "extends": ["E"] })).await;
    let err = app.err(MERGE, json!({ "s": "dev" })).await;
    assert_eq!(code(&err), "MERGE_CONFLICT");
    assert_eq!(
        without_ids(&err["extensions"]["conflicts"]),
        json!([{ "entityKind": "OBJECT_TYPE", "entityId": "E", "field": null, "kind": "BROKEN_REFERENCE",
                 "base": e_doc("base"), "source": null, "target": e_doc("base"), "dependents": ["G"], "resolution": null }])
    );
    // SOURCE: E goes, and so does G's reference to it; integrity holds.
    let res = json!([{ "id": "E", "choose": "SOURCE" }]);
    let done = merge(&app, json!({ "s": "dev", "res": res })).await;
    assert_eq!(
        done["changes"],
        json!([{ "entityId": "E", "change": "DELETED", "fields": [] }, { "entityId": "G", "change": "MODIFIED", "fields": ["extends"] }])
    );
    assert_eq!(object(&app, "main", "G").await["extends"], json!([]));
}

async fn a_protected_target_changes_only_through_merges(url: &str) {
    let app = forked(url).await;
    app.ok(r#"mutation { setBranchProtection(name: "main", protected: true) { protected } }"#, json!({})).await;
    let err = app.err(COMMIT, json!({ "b": "main", "c": [{ "createObjectType": { "apiName": "X" } }] })).await;
    assert_eq!(code(&err), "BRANCH_PROTECTED");
    create(&app, "dev", json!({ "apiName": "X" })).await;
    let done = merge(&app, json!({ "s": "dev" })).await;
    assert_eq!(done["commit"]["version"], 2);
    assert_eq!(object(&app, "main", "X").await["version"], 1);
}

async fn deleting_a_branch_with_forks_is_in_use_and_main_is_refused(url: &str) {
    let app = forked(url).await;
    app.ok(r#"mutation { createBranch(name: "feature", from: "dev") { parent } }"#, json!({})).await;
    let err = app.err(r#"mutation { deleteBranch(name: "dev", expectedVersion: 0) }"#, json!({})).await;
    assert_eq!(code(&err), "IN_USE");
    assert_eq!(err["extensions"]["dependents"], json!(["feature"]));
    let err = app.err(r#"mutation { deleteBranch(name: "main", expectedVersion: 1) }"#, json!({})).await;
    assert_eq!(code(&err), "FORBIDDEN");
    app.ok(r#"mutation { deleteBranch(name: "feature", expectedVersion: 0) }"#, json!({})).await;
    app.ok(r#"mutation { deleteBranch(name: "dev", expectedVersion: 0) }"#, json!({})).await;
}

async fn a_concurrent_change_on_the_target_is_a_conflict_never_an_overwrite(url: &str) {
    let app = forked(url).await;
    update(&app, "dev", "E", json!({ "description": "dev", "displayName": "Dev E" })).await;
    let preview = merge(&app, json!({ "s": "dev", "dry": true })).await;
    assert_eq!(preview["conflicts"], json!([]));
    let seen = app.branch_version("main").await;
    // Someone edits the same field on main between preview and merge.
    update(&app, "main", "E", json!({ "description": "main" })).await;
    let err = app.err(MERGE, json!({ "s": "dev", "etv": seen })).await;
    assert_eq!((code(&err), err["extensions"]["actual"].clone()), ("VERSION_CONFLICT", json!(seen + 1)));
    let err = app.err(MERGE, json!({ "s": "dev" })).await;
    assert_eq!(code(&err), "MERGE_CONFLICT");
    assert_eq!(err["extensions"]["conflicts"][0]["field"], "description");
    let res = json!([{ "id": "E", "field": "description", "choose": "TARGET" }]);
    merge(&app, json!({ "s": "dev", "res": res, "etv": seen + 1 })).await;
    assert_eq!(
        object(&app, "main", "E").await,
        json!({ "displayName": "Dev E", "description": "main", "extends": [], "version": 3 })
    );
}

/// Merges racing edits of the merged field never lose an edit silently:
/// each merge either conflicts or lands before the edit.
async fn merges_racing_edits_never_lose_one(url: &str) {
    let app = forked(url).await;
    update(&app, "dev", "E", json!({ "description": "dev" })).await;
    let edit = async {
        // An edit that lost the race to the merge retries at the new version.
        loop {
            let v = version_of(&app, "main", "E").await;
            let change = json!([{ "updateObjectType": { "apiName": "E", "expectedVersion": v,
                                                        "patch": { "description": "main" } } }]);
            match app.gql(COMMIT, json!({ "b": "main", "c": change })).await.get("errors") {
                None => break,
                Some(errs) => assert_eq!(errs[0]["extensions"]["code"], "VERSION_CONFLICT"),
            }
        }
    };
    let (m, ()) = tokio::join!(app.gql(MERGE, json!({ "s": "dev" })), edit);
    let e = object(&app, "main", "E").await;
    match m.get("errors") {
        Some(errs) => {
            assert_eq!(errs[0]["extensions"]["code"], "MERGE_CONFLICT");
            assert_eq!(e["description"], "main");
        }
        // The merge ran first; the edit (at the merged version) came after.
        None => assert_eq!((e["description"].clone(), e["version"].clone()), (json!("main"), json!(3))),
    }
}

/// Every state a branch passed through, read back with `at:`, equals the
/// snapshot taken at the time, on the live engine and after a restart.
async fn time_travel_reads_equal_snapshots_taken_at_the_time(url: &str) {
    let app = forked(url).await;
    let q = r#"query($b: String!, $at: Int) { branch(name: $b, at: $at) { version
        objectTypes(first: 100) { edges { node { apiName displayName description extends version } } }
        linkTypes(first: 100) { edges { node { linkId version } } }
        traverse(from: ["A"], direction: BOTH, maxDepth: 5) { nodes { apiName depth } edges { source target relation } } } }"#;
    let mut snaps = vec![];
    for (branch, i) in [("dev", 0), ("main", 1), ("dev", 2), ("dev", 3), ("main", 4), ("dev", 5)] {
        match i % 3 {
            0 => create(&app, branch, json!({ "apiName": format!("T{i}"), "extends": ["B"] })).await,
            1 => update(&app, branch, "E", json!({ "description": format!("v{i}"), "extends": ["A"] })).await,
            _ => update(&app, branch, "B", json!({ "extends": [] })).await,
        }
        let v = app.branch_version(branch).await;
        // The graph patched from the previous state's equals a fresh build.
        let state = app.engine.branch(branch).unwrap().state;
        assert_eq!(*state.graph(), GraphIndex::build(&state.ontology), "{branch} at {v}");
        snaps.push((branch, v, app.ok(q, json!({ "b": branch, "at": null })).await));
    }
    merge(&app, json!({ "s": "dev" })).await;
    update(&app, "main", "A", json!({ "description": "later" })).await;
    for reader in [&app, &app.reopen().await] {
        for (branch, v, snap) in &snaps {
            let past = reader.ok(q, json!({ "b": branch, "at": v })).await;
            let mut want = snap.clone();
            want["branch"]["version"] = json!(v);
            assert_eq!(past, want, "{branch} at {v}");
        }
    }
}

/// Commits nobody read the graph of accumulate their changes; the graph
/// then patched over all of them (one entity changed twice) is exact.
async fn unread_commits_patch_the_graph_once(url: &str) {
    let app = forked(url).await;
    app.engine.branch("main").unwrap().state.graph();
    create(&app, "main", json!({ "apiName": "X", "extends": ["A"] })).await;
    update(&app, "main", "X", json!({ "extends": ["B"] })).await;
    delete(&app, "main", "E").await;
    let state = app.engine.branch("main").unwrap().state;
    assert!(state.built_graph().is_none());
    assert_eq!(*state.graph(), GraphIndex::build(&state.ontology));
}

/// After a restart the graphs are prepared in the background: the
/// parent's built, the fork's patched from it; both equal fresh builds.
async fn graphs_are_prepared_after_a_restart(url: &str) {
    let app = forked(url).await;
    update(&app, "dev", "E", json!({ "extends": ["A"] })).await;
    create(&app, "dev", json!({ "apiName": "C", "extends": ["B"] })).await;
    update(&app, "main", "B", json!({ "extends": [] })).await;
    delete(&app, "main", "E").await;
    let app = app.reopen().await;
    app.engine.prepare_graphs().await.unwrap();
    for branch in ["main", "dev"] {
        let state = app.engine.branch(branch).unwrap().state;
        let graph = state.built_graph().expect("prepared");
        assert_eq!(*graph, GraphIndex::build(&state.ontology), "{branch}");
    }
}

conformance!(
    diff_lists_entity_and_field_changes_since_the_fork,
    merge_combines_both_sides_field_by_field_as_one_commit,
    a_merge_moves_the_base_so_merging_again_applies_only_newer_changes,
    modify_modify_conflict_writes_nothing_until_resolved,
    modify_delete_and_add_add_conflicts,
    a_deletion_that_breaks_a_new_reference_is_a_broken_reference_conflict,
    a_protected_target_changes_only_through_merges,
    deleting_a_branch_with_forks_is_in_use_and_main_is_refused,
    a_concurrent_change_on_the_target_is_a_conflict_never_an_overwrite,
    merges_racing_edits_never_lose_one,
    time_travel_reads_equal_snapshots_taken_at_the_time,
    graphs_are_prepared_after_a_restart,
    unread_commits_patch_the_graph_once,
);
