//! Global object ids (Relay Global Object Identification): unique across
//! branches, past states, commits, changes and conflicts; stable across
//! an update and a restart; every kind round-trips through `node(id:)` and
//! `nodes(ids:)`; malformed ids are BAD_USER_INPUT, ids of things that no
//! longer exist resolve to null.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Value};

use crate::helpers::{code, TestApp};

/// Every `id` in a response, by the path it was found at.
fn ids(v: &Value, path: &str, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("id", Value::String(id)) => {
                        out.insert(path.to_owned(), id.clone());
                    }
                    _ => ids(v, &format!("{path}.{k}"), out),
                }
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| ids(v, &format!("{path}[{i}]"), out)),
        _ => {}
    }
}

/// The typed string inside an id (base64url, no padding), to check the
/// documented forms.
fn typed(id: &str) -> String {
    const A: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bits: Vec<u32> = id.chars().map(|c| A.find(c).expect("base64url") as u32).collect();
    let mut bytes = vec![];
    for chunk in bits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (b << (18 - 6 * i)));
        bytes.extend((0..chunk.len() - 1).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    String::from_utf8(bytes).unwrap()
}

const NODE: &str = r#"query($id: ID!) { node(id: $id) { __typename id
    ... on Branch { name version historical }
    ... on ObjectType { apiName version description }
    ... on Interface { apiName version }
    ... on LinkType { linkId version description }
    ... on Commit { branch version message }
    ... on EntityChange { entityKind entityId change fields }
    ... on Conflict { entityKind entityId field kind resolution } } }"#;

async fn node(app: &TestApp, id: &str) -> Value {
    app.ok(NODE, json!({ "id": id })).await["node"].clone()
}

const READ: &str = r#"query($b: String!, $at: Int) { branch(name: $b, at: $at) { __typename id name version historical
    objectType(apiName: "Employee") { __typename id apiName version description }
    interface(apiName: "Locatable") { __typename id apiName version }
    linkType(id: "Payment.settles.Invoice") { __typename id linkId version description }
    commits(first: 2) { edges { node { __typename id branch version message
        changes { __typename id entityKind entityId change fields } } } } } }"#;

async fn read(app: &TestApp, branch: &str, at: Option<i64>) -> Value {
    app.ok(READ, json!({ "b": branch, "at": at })).await["branch"].clone()
}

const UPDATE_EMPLOYEE: &str = r#"mutation($b: String!, $v: Int!, $d: String) {
  updateObjectType(branch: $b, apiName: "Employee", expectedVersion: $v, input: { description: $d }) {
    __typename id apiName version description } }"#;

const UPDATE_SETTLES: &str = r#"mutation($b: String!, $id: ID!, $v: Int!, $d: String) {
  updateLinkType(branch: $b, id: $id, expectedVersion: $v, input: { description: $d }) {
    __typename id linkId version description } }"#;

/// main with the demo; `dev` forked from it changed Employee and
/// Payment.settles.Invoice; main then changed Employee too.
async fn diverged() -> TestApp {
    let app = TestApp::with_demo().await;
    app.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    app.ok(UPDATE_EMPLOYEE, json!({ "b": "dev", "v": 1, "d": "dev's" })).await;
    app.ok(UPDATE_SETTLES, json!({ "b": "dev", "id": "Payment.settles.Invoice", "v": 1, "d": "dev's" })).await;
    app.ok(UPDATE_EMPLOYEE, json!({ "b": "main", "v": 1, "d": "main's" })).await;
    app
}

/// Each object of a read, fetched again by its id, is the same object with
/// the same data (the selection of `NODE` ⊇ what is compared).
async fn assert_round_trip(app: &TestApp, read: &Value) {
    let mut found = BTreeMap::new();
    ids(read, "", &mut found);
    assert!(!found.is_empty(), "{read:#}");
    let all: Vec<&String> = found.values().collect();
    let by_nodes = app.ok("query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", json!({ "ids": all })).await
        ["nodes"]
        .clone();
    for (i, (path, id)) in found.iter().enumerate() {
        let got = node(app, id).await;
        assert_eq!(got["id"], json!(id), "node(id) of {path}: {got:#}");
        let mut want = read.clone();
        for part in path.split('.').filter(|p| !p.is_empty()) {
            let (key, index) = match part.split_once('[') {
                Some((k, i)) => (k, Some(i.trim_end_matches(']').parse::<usize>().unwrap())),
                None => (part, None),
            };
            want = want[key].clone();
            if let Some(i) = index {
                want = want[i].clone();
            }
        }
        for (k, v) in want.as_object().unwrap() {
            if !v.is_object() && !v.is_array() || k == "fields" {
                assert_eq!(&got[k], v, "{path}.{k} read back through node(id)");
            }
        }
        assert_eq!(by_nodes[i], json!({ "__typename": got["__typename"], "id": id }), "nodes(ids)[{i}]");
    }
}

#[tokio::test]
async fn every_kind_round_trips_through_node_and_nodes() {
    let app = diverged().await;
    assert_round_trip(&app, &read(&app, "main", None).await).await;
    assert_round_trip(&app, &read(&app, "dev", None).await).await;
    assert_round_trip(&app, &read(&app, "main", Some(1)).await).await;
    assert_round_trip(&app, &read(&app, "dev", Some(1)).await).await;
    // Changes outside any commit: a diff and a dry-run merge.
    let diff = app
        .ok(r#"{ branch(name: "dev") { diff { changes { id entityKind entityId change fields } } } }"#, json!({}))
        .await;
    assert_round_trip(&app, &diff).await;
    let q = r#"mutation { mergeBranch(source: "dev", dryRun: true) {
        conflicts { id entityKind entityId field kind resolution } changes { id entityKind entityId change fields } } }"#;
    let dry = app.ok(q, json!({})).await;
    assert_eq!(dry["mergeBranch"]["conflicts"].as_array().unwrap().len(), 1, "{dry:#}");
    assert_round_trip(&app, &dry).await;
    // A traversal's nodes and edges are embedded; the entities they name have ids.
    let q = r#"{ branch { shortestPath(from: "Payment", to: "Customer") {
        edges { linkType { id linkId version description } } } traverse(from: ["Employee"], maxDepth: 1) {
        nodes { node { id ... on ObjectType { apiName version description } } } } } }"#;
    assert_round_trip(&app, &app.ok(q, json!({})).await).await;
}

#[tokio::test]
async fn ids_are_unique_across_branches_past_states_commits_and_changes() {
    let app = diverged().await;
    let mut all = BTreeMap::new();
    for (b, at) in [("main", None), ("dev", None), ("main", Some(1)), ("main", Some(0)), ("dev", Some(1))] {
        ids(&read(&app, b, at).await, &format!("{b}@{at:?}"), &mut all);
    }
    let q = r#"{ branch(name: "dev") { diff { changes { id } } } }"#;
    ids(&app.ok(q, json!({})).await, "diff", &mut all);
    let distinct: HashSet<&String> = all.values().collect();
    // `main@Some(1)`: main's commits 1 and 0 of history repeat; nothing else may.
    let repeats: Vec<(&String, &String)> = all
        .iter()
        .filter(|(_, id)| all.values().filter(|o| o == id).count() > 1)
        .filter(|(p, _)| !p.contains(".commits."))
        .collect();
    assert!(repeats.is_empty(), "ids shared by different objects: {repeats:#?}");
    assert!(distinct.len() > 30, "{}", distinct.len());
    // The same commit read through two branch states is one id.
    let head = read(&app, "main", None).await;
    let past = read(&app, "main", Some(1)).await;
    assert_eq!(head["commits"]["edges"][1]["node"]["id"], past["commits"]["edges"][0]["node"]["id"]);
    // The forms the docs describe, with the branch's created_at in µs.
    let created: i64 = {
        let meta = app.engine.branch("main").unwrap().meta;
        meta.created_at.timestamp_micros()
    };
    assert_eq!(typed(head["id"].as_str().unwrap()), format!("Branch:main~{created}"));
    assert_eq!(typed(past["id"].as_str().unwrap()), format!("Branch:main~{created}@1"));
    assert_eq!(typed(head["objectType"]["id"].as_str().unwrap()), format!("ObjectType:main~{created}:Employee"));
    assert_eq!(typed(past["objectType"]["id"].as_str().unwrap()), format!("ObjectType:main~{created}@1:Employee"));
    assert_eq!(
        typed(head["linkType"]["id"].as_str().unwrap()),
        format!("LinkType:main~{created}:Payment.settles.Invoice")
    );
    let commit = &head["commits"]["edges"][0]["node"];
    assert_eq!(typed(commit["id"].as_str().unwrap()), format!("Commit:main~{created}#2"));
    assert_eq!(
        typed(commit["changes"][0]["id"].as_str().unwrap()),
        format!("EntityChange:main~{created}#2:ObjectType:Employee")
    );
    let diff = app.ok(q, json!({})).await;
    let first = diff["branch"]["diff"]["changes"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(typed(&first), "EntityChange:=ObjectType:Employee:MODIFIED:description");
}

#[tokio::test]
async fn an_entity_at_a_head_keeps_its_id_across_updates_and_restarts() {
    let app = diverged().await;
    let before = read(&app, "main", None).await;
    let updated =
        app.ok(UPDATE_EMPLOYEE, json!({ "b": "main", "v": 2, "d": "newer" })).await["updateObjectType"].clone();
    // The mutation's result is the cached entity, updated.
    assert_eq!(updated["id"], before["objectType"]["id"]);
    assert_eq!((&updated["version"], &updated["description"]), (&json!(3), &json!("newer")));
    let by_id = node(&app, before["objectType"]["id"].as_str().unwrap()).await;
    assert_eq!((&by_id["version"], &by_id["description"]), (&json!(3), &json!("newer")));
    // A link type updated through its global id keeps it.
    let lt = before["linkType"]["id"].as_str().unwrap();
    let u =
        app.ok(UPDATE_SETTLES, json!({ "b": "main", "id": lt, "v": 1, "d": "by id" })).await["updateLinkType"].clone();
    assert_eq!((&u["id"], &u["linkId"], &u["version"]), (&json!(lt), &json!("Payment.settles.Invoice"), &json!(2)));

    // A restart (a new engine over the same database) issues the same ids.
    let after = read(&app, "main", None).await;
    let reopened = app.reopen().await;
    assert_eq!(read(&reopened, "main", None).await, after);
    assert_eq!(read(&reopened, "dev", Some(1)).await, read(&app, "dev", Some(1)).await);
    let mut found = BTreeMap::new();
    ids(&after, "", &mut found);
    for id in found.values() {
        assert_eq!(node(&reopened, id).await["id"], json!(id));
    }
    // The past state's entity is immutable: another id than the head's,
    // still resolving to the old data.
    let past = read(&app, "main", Some(1)).await["objectType"].clone();
    assert_ne!(past["id"], updated["id"]);
    assert_eq!(node(&reopened, past["id"].as_str().unwrap()).await, past);
}

#[tokio::test]
async fn ids_of_what_no_longer_exists_resolve_to_null() {
    let app = diverged().await;
    let dev = read(&app, "dev", None).await;
    let dev_past = read(&app, "dev", Some(1)).await;
    let main = read(&app, "main", None).await;
    // A deleted entity: its head id is null, its past-state id still resolves.
    let q = r#"mutation { deleteObjectType(branch: "main", apiName: "Employee", expectedVersion: 2, cascade: true) { version } }"#;
    app.ok(q, json!({})).await;
    assert_eq!(node(&app, main["objectType"]["id"].as_str().unwrap()).await, Value::Null);
    let past = read(&app, "main", Some(2)).await["objectType"].clone();
    assert_eq!(node(&app, past["id"].as_str().unwrap()).await["description"], "main's");

    // A branch deleted and created again under the same name is another
    // branch: every id of the old one is null, the new one's differ.
    let v = app.branch_version("dev").await;
    app.ok("mutation($v: Int!) { deleteBranch(name: \"dev\", expectedVersion: $v) }", json!({ "v": v })).await;
    app.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    let mut old = BTreeMap::new();
    ids(&dev, "", &mut old);
    ids(&dev_past, "past", &mut old);
    for (path, id) in &old {
        assert_eq!(node(&app, id).await, Value::Null, "{path}");
    }
    let again = read(&app, "dev", None).await;
    assert_ne!(again["id"], dev["id"]);
    assert_ne!(again["objectType"]["id"], dev["objectType"]["id"]);
    // Out of range: a past state at or beyond the head.
    let created = app.engine.branch("dev").unwrap().meta.created_at.timestamp_micros();
    assert_eq!(node(&app, &encode(&format!("Branch:dev~{created}"))).await["name"], "dev");
    assert_eq!(node(&app, &encode(&format!("Branch:dev~{created}@0"))).await, Value::Null);
    assert_eq!(node(&app, &encode(&format!("Commit:dev~{created}#1"))).await, Value::Null);
}

fn encode(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn malformed_ids_are_bad_user_input_and_nodes_is_bounded() {
    let app = diverged().await;
    for bad in ["Employee", "Payment.settles.Invoice", "", "QnJhbmNoOm1haW4", &encode("Branch:main~x")] {
        let err = app.err(NODE, json!({ "id": bad })).await;
        assert_eq!(code(&err), "BAD_USER_INPUT", "{bad:?}: {err:#}");
        assert_eq!(err["extensions"]["field"], "id");
    }
    // In `nodes`, a malformed id fails only its own entry.
    let main = read(&app, "main", None).await;
    let ids = json!([main["id"], "nope", main["objectType"]["id"]]);
    let resp = app.gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": ids })).await;
    assert_eq!(
        resp["data"]["nodes"],
        json!([{ "id": main["id"] }, null, { "id": main["objectType"]["id"] }]),
        "{resp:#}"
    );
    assert_eq!(resp["errors"][0]["path"], json!(["nodes", 1]));
    assert_eq!(code(&resp["errors"][0]), "BAD_USER_INPUT");
    assert_eq!(resp["errors"][0]["extensions"]["field"], "ids[1]");
    // Bounded like a page: 1000 ids, not 1001.
    let many: Vec<&Value> = std::iter::repeat_n(&main["id"], 1000).collect();
    let ok = app.ok("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": many })).await;
    assert_eq!(ok["nodes"].as_array().unwrap().len(), 1000);
    let too_many: Vec<&Value> = std::iter::repeat_n(&main["id"], 1001).collect();
    let err = app.err("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": too_many })).await;
    assert_eq!(code(&err), "LIMIT_EXCEEDED", "{err:#}");
}

#[tokio::test]
async fn link_type_arguments_take_the_link_id_or_the_global_id_of_their_branch() {
    let app = diverged().await;
    let main = read(&app, "main", None).await;
    let dev = read(&app, "dev", None).await;
    let (main_lt, dev_lt) = (main["linkType"]["id"].as_str().unwrap(), dev["linkType"]["id"].as_str().unwrap());
    assert_ne!(main_lt, dev_lt);
    let q = r#"query($b: String!, $id: ID!) { branch(name: $b) { linkType(id: $id) { id description } } }"#;
    let got = app.ok(q, json!({ "b": "dev", "id": dev_lt })).await;
    assert_eq!(got["branch"]["linkType"], json!({ "id": dev_lt, "description": "dev's" }));
    // A past state of the branch finds it by the head's id too.
    let q_at = r#"query($id: ID!) { branch(name: "dev", at: 1) { linkType(id: $id) { id } } }"#;
    let past = read(&app, "dev", Some(1)).await["linkType"]["id"].clone();
    assert_eq!(app.ok(q_at, json!({ "id": dev_lt })).await["branch"]["linkType"]["id"], past);
    // Another branch's id, or another kind's, is refused.
    let err = app.err(q, json!({ "b": "main", "id": dev_lt })).await;
    assert_eq!((code(&err), &err["extensions"]["field"]), ("BAD_USER_INPUT", &json!("id")), "{err:#}");
    let err = app.err(q, json!({ "b": "main", "id": main["objectType"]["id"] })).await;
    assert_eq!(code(&err), "BAD_USER_INPUT");
    let err = app.err(UPDATE_SETTLES, json!({ "b": "main", "id": dev_lt, "v": 1, "d": "x" })).await;
    assert_eq!(code(&err), "BAD_USER_INPUT");
    // In a batch commit, as `changes[i].id`.
    let q = r#"mutation($c: [ChangeInput!]!) { commit(branch: "main", changes: $c) { changes { entityId change } } }"#;
    let bad = json!([{ "deleteLinkType": { "id": dev_lt, "expectedVersion": 1 } }]);
    let err = app.err(q, json!({ "c": bad })).await;
    assert_eq!((code(&err), &err["extensions"]["field"]), ("BAD_USER_INPUT", &json!("changes[0].id")), "{err:#}");
    let good = json!([{ "deleteLinkType": { "id": main_lt, "expectedVersion": 1 } }]);
    let done = app.ok(q, json!({ "c": good })).await;
    assert_eq!(done["commit"]["changes"], json!([{ "entityId": "Payment.settles.Invoice", "change": "DELETED" }]));
    assert_eq!(node(&app, main_lt).await, Value::Null);
}

#[tokio::test]
async fn a_conflict_resolves_while_both_branches_stay_at_its_versions() {
    let app = diverged().await;
    let q = r#"mutation($res: [ConflictResolution!]) { mergeBranch(source: "dev", dryRun: true, resolutions: $res) {
        conflicts { id entityId field kind resolution } } }"#;
    let open = app.ok(q, json!({})).await["mergeBranch"]["conflicts"][0].clone();
    assert_eq!(
        (&open["entityId"], &open["field"], &open["resolution"]),
        (&json!("Employee"), &json!("description"), &Value::Null)
    );
    let id = open["id"].as_str().unwrap();
    assert_eq!(node(&app, id).await["resolution"], Value::Null);
    // Resolved, the same conflict reads differently: another id (a cache
    // keeps both answers apart), resolving to the resolved one.
    let res = json!([{ "id": id, "choose": "SOURCE" }]);
    let chosen = app.ok(q, json!({ "res": res })).await["mergeBranch"]["conflicts"][0].clone();
    assert_eq!(chosen["resolution"], "SOURCE");
    assert_ne!(chosen["id"], open["id"]);
    assert_eq!(node(&app, chosen["id"].as_str().unwrap()).await["resolution"], "SOURCE");
    // The conflict's id names the merge of dev into main: not of main into dev.
    let q2 = r#"mutation($res: [ConflictResolution!]) { mergeBranch(source: "main", target: "dev", dryRun: true, resolutions: $res) { merged } }"#;
    let err = app.err(q2, json!({ "res": res })).await;
    assert_eq!((code(&err), &err["extensions"]["field"]), ("BAD_USER_INPUT", &json!("resolutions[0].id")), "{err:#}");
    // Once the target moves on, the conflict it named is gone.
    app.ok(UPDATE_EMPLOYEE, json!({ "b": "main", "v": 2, "d": "moved" })).await;
    assert_eq!(node(&app, id).await, Value::Null);
    // A real merge: its changes are its commit's, with the commit's ids.
    let res = json!([{ "id": "Employee", "field": "description", "choose": "TARGET" }]);
    let q3 = r#"mutation($res: [ConflictResolution!]) { mergeBranch(source: "dev", resolutions: $res) {
        commit { id changes { id } } changes { id } } }"#;
    let done = app.ok(q3, json!({ "res": res })).await["mergeBranch"].clone();
    assert_eq!(done["changes"], done["commit"]["changes"]);
    assert_eq!(node(&app, done["commit"]["id"].as_str().unwrap()).await["message"], "merge dev into main");
}

/// Every kind of id, read before and after a restart on the same database
/// (SQLite file and PostgreSQL: each stores `created_at` its own way), is
/// the same and resolves to the same object.
async fn ids_survive_a_restart(url: &str) {
    let app = TestApp::open(url).await;
    assert!(app.engine.seed_demo_if_empty().await.unwrap());
    app.ok(r#"mutation { createBranch(name: "dev") { id } }"#, json!({})).await;
    app.ok(UPDATE_EMPLOYEE, json!({ "b": "dev", "v": 1, "d": "dev's" })).await;
    app.ok(UPDATE_EMPLOYEE, json!({ "b": "main", "v": 1, "d": "main's" })).await;
    let q = r#"mutation { mergeBranch(source: "dev", dryRun: true) { conflicts { id entityId } changes { id } } }"#;
    let before = vec![
        read(&app, "main", None).await,
        read(&app, "dev", None).await,
        read(&app, "main", Some(1)).await,
        app.ok(q, json!({})).await,
    ];
    let reopened = app.reopen().await;
    let after = vec![
        read(&reopened, "main", None).await,
        read(&reopened, "dev", None).await,
        read(&reopened, "main", Some(1)).await,
        reopened.ok(q, json!({})).await,
    ];
    assert_eq!(after, before);
    let mut found = BTreeMap::new();
    for (i, v) in before.iter().enumerate() {
        ids(v, &i.to_string(), &mut found);
    }
    assert!(found.len() > 10, "{found:#?}");
    for (path, id) in &found {
        assert_eq!(node(&reopened, id).await["id"], json!(id), "{path}");
    }
}

conformance!(ids_survive_a_restart);
