//! Entity mutations and reads through the GraphQL schema, in-process.

use serde_json::{json, Value};

use crate::helpers::{code, TestApp, CREATE_OT, UPDATE_OT};

#[tokio::test]
async fn create_then_stale_update_conflicts_and_writes_nothing_and_survives_restart() {
    let app = TestApp::new().await;
    let created = app.create_object_type(json!({ "apiName": "Person" })).await;
    assert_eq!(created, json!({ "apiName": "Person", "displayName": "Person", "version": 1, "extends": [] }));
    let updated = app.ok(UPDATE_OT, json!({ "name": "Person", "v": 1, "input": { "displayName": "Human" } })).await;
    assert_eq!(updated["updateObjectType"]["version"], 2);

    let err = app.err(UPDATE_OT, json!({ "name": "Person", "v": 1, "input": { "displayName": "Lost" } })).await;
    assert_eq!(code(&err), "VERSION_CONFLICT");
    assert_eq!((err["extensions"]["expected"].as_i64(), err["extensions"]["actual"].as_i64()), (Some(1), Some(2)));
    assert_eq!(app.branch_version("main").await, 2);

    let q = r#"{ branch { version objectType(apiName: "Person") { displayName version } } }"#;
    let expect = json!({ "branch": { "version": 2, "objectType": { "displayName": "Human", "version": 2 } } });
    assert_eq!(app.ok(q, json!({})).await, expect);
    assert_eq!(app.reopen().await.ok(q, json!({})).await, expect);
}

#[tokio::test]
async fn demo_ontology_reads() {
    let app = TestApp::with_demo().await;
    let data = app
        .ok(
            r#"{ branch { version stats { objectTypes interfaces linkTypes edges }
                 e: objectType(apiName: "Employee") { extends implements parents { apiName } referencedBy
                    properties { apiName dataType target required array }
                    outgoingLinks { linkId } incomingLinks { linkId } }
                 n: node(apiName: "Named") { __typename kind apiName referencedBy }
                 lt: linkType(id: "Employee.manager.Employee") { apiName cardinality sourceType { apiName } }
                 missing: objectType(apiName: "Nope") { apiName } } }"#,
            json!({}),
        )
        .await;
    let b = &data["branch"];
    assert_eq!(b["version"], 1);
    // Edges: 8 extends + 12 implements + 3 REFERENCE properties + 22 link types.
    assert_eq!(b["stats"], json!({ "objectTypes": 18, "interfaces": 3, "linkTypes": 22, "edges": 45 }));
    assert_eq!(b["e"]["extends"], json!(["Person"]));
    assert_eq!(b["e"]["parents"], json!([{ "apiName": "Person" }]));
    assert_eq!(
        b["e"]["referencedBy"],
        json!([
            "Department",
            "Employee",
            "Employee.assigned_to.Project",
            "Employee.manager.Employee",
            "Employee.member_of.Department",
            "Employee.member_of.Team",
            "Employee.works_in.Office",
            "Order.sold_by.Employee"
        ])
    );
    assert_eq!(
        b["e"]["properties"][4],
        json!({ "apiName": "mentor", "dataType": "REFERENCE", "target": "Employee", "required": false, "array": false })
    );
    assert_eq!(
        b["e"]["incomingLinks"],
        json!([{ "linkId": "Employee.manager.Employee" }, { "linkId": "Order.sold_by.Employee" }])
    );
    assert_eq!(b["e"]["outgoingLinks"].as_array().unwrap().len(), 5);
    assert_eq!(
        b["n"],
        json!({ "__typename": "Interface", "kind": "INTERFACE", "apiName": "Named",
        "referencedBy": ["Department", "Locatable", "Party", "Product", "Project", "Team"] })
    );
    assert_eq!(
        b["lt"],
        json!({ "apiName": "manager", "cardinality": "MANY_TO_ONE", "sourceType": { "apiName": "Employee" } })
    );
    assert_eq!(b["missing"], json!(null));
}

#[tokio::test]
async fn connections_page_and_filter() {
    let app = TestApp::with_demo().await;
    let q = r#"query($after: String) { branch { objectTypes(first: 5, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { apiName } } } } }"#;
    let mut names = vec![];
    let mut after = json!(null);
    for _ in 0..10 {
        let page = app.ok(q, json!({ "after": after })).await["branch"]["objectTypes"].clone();
        assert_eq!(page["totalCount"], 18);
        names.extend(
            page["edges"].as_array().unwrap().iter().map(|e| e["node"]["apiName"].as_str().unwrap().to_owned()),
        );
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!((names.len(), &names), (18, &sorted));

    let f = app
        .ok(r#"{ branch { objectTypes(filter: { extends: "Organization" }) { totalCount edges { node { apiName } } }
                 s: objectTypes(filter: { search: "ORDER", status: ACTIVE }) { totalCount }
                 l: linkTypes(source: "Employee", apiName: "member_of") { totalCount edges { node { linkId } } }
                 t: linkTypes(target: "Office", first: 1) { totalCount pageInfo { hasNextPage } edges { node { linkId } } } } }"#, json!({}))
        .await;
    let b = &f["branch"];
    assert_eq!(b["objectTypes"]["totalCount"], 3);
    assert_eq!(b["s"]["totalCount"], 2);
    assert_eq!(
        b["l"]["edges"],
        json!([{ "node": { "linkId": "Employee.member_of.Department" } }, { "node": { "linkId": "Employee.member_of.Team" } }])
    );
    assert_eq!(b["t"]["totalCount"], 3);
    assert_eq!(b["t"]["edges"], json!([{ "node": { "linkId": "Company.headquartered_in.Office" } }]));
    assert_eq!(b["t"]["pageInfo"]["hasNextPage"], true);

    let err = app.err(r#"{ branch { objectTypes(first: 5000) { totalCount } } }"#, json!({})).await;
    assert_eq!(code(&err), "BAD_USER_INPUT");
}

#[tokio::test]
async fn delete_in_use_then_cascade() {
    let app = TestApp::with_demo().await;
    let err = app
        .err(
            r#"mutation { deleteObjectType(branch: "main", apiName: "Office", expectedVersion: 1) { version } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&err), "IN_USE");
    assert_eq!(
        err["extensions"]["dependents"],
        json!(["Company.headquartered_in.Office", "Employee.works_in.Office", "Shipment.ships_from.Office"])
    );
    assert_eq!(app.branch_version("main").await, 1);
    let commit = app
        .ok(
            r#"mutation { deleteObjectType(branch: "main", apiName: "Office", expectedVersion: 1, cascade: true) {
              version changes { entityKind entityId change fields } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        commit["deleteObjectType"],
        json!({ "version": 2, "changes": [
            { "entityKind": "OBJECT_TYPE", "entityId": "Office", "change": "DELETED", "fields": [] },
            { "entityKind": "LINK_TYPE", "entityId": "Company.headquartered_in.Office", "change": "DELETED", "fields": [] },
            { "entityKind": "LINK_TYPE", "entityId": "Employee.works_in.Office", "change": "DELETED", "fields": [] },
            { "entityKind": "LINK_TYPE", "entityId": "Shipment.ships_from.Office", "change": "DELETED", "fields": [] },
        ]})
    );
    let cascade_refs = app
        .ok(
            r#"mutation { deleteInterface(branch: "main", apiName: "Auditable", expectedVersion: 1, cascade: true) {
              changes { entityId change fields } } }"#,
            json!({}),
        )
        .await;
    let changes = cascade_refs["deleteInterface"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 6);
    assert!(changes
        .iter()
        .any(|c| c == &json!({ "entityId": "Employee", "change": "MODIFIED", "fields": ["implements"] })));
    let after =
        app.ok(r#"{ branch { version objectType(apiName: "Employee") { implements version } } }"#, json!({})).await;
    assert_eq!(after["branch"], json!({ "version": 3, "objectType": { "implements": [], "version": 2 } }));
}

#[tokio::test]
async fn batch_commit_is_atomic() {
    let app = TestApp::with_demo().await;
    let batch = r#"mutation($changes: [ChangeInput!]!) { commit(branch: "main", changes: $changes, message: "batch") {
        version message changes { entityId change } } }"#;
    let bad = json!([
        { "createObjectType": { "apiName": "Warehouse" } },
        { "createLinkType": { "apiName": "stores", "source": "Warehouse", "target": "Nothing" } },
    ]);
    let err = app.err(batch, json!({ "changes": bad })).await;
    assert_eq!(code(&err), "BAD_USER_INPUT");
    assert_eq!(err["extensions"]["field"], "target");
    assert_eq!(app.branch_version("main").await, 1);
    assert_eq!(
        app.ok(r#"{ branch { objectType(apiName: "Warehouse") { version } } }"#, json!({})).await["branch"]
            ["objectType"],
        json!(null)
    );

    let good = json!([
        { "createLinkType": { "apiName": "stores", "source": "Warehouse", "target": "Product", "cardinality": "MANY_TO_MANY" } },
        { "createObjectType": { "apiName": "Warehouse", "implements": ["Locatable"] } },
        { "updateObjectType": { "apiName": "Product", "expectedVersion": 1, "patch": { "status": "DEPRECATED" } } },
    ]);
    let c = app.ok(batch, json!({ "changes": good })).await;
    assert_eq!(
        c["commit"],
        json!({ "version": 2, "message": "batch", "changes": [
        { "entityId": "Product", "change": "MODIFIED" }, { "entityId": "Warehouse", "change": "ADDED" },
        { "entityId": "Warehouse.stores.Product", "change": "ADDED" } ] })
    );
    let err = app.err(r#"mutation { commit(branch: "main", changes: []) { version } }"#, json!({})).await;
    assert_eq!(code(&err), "BAD_USER_INPUT");
    let err = app.err(r#"mutation { commit(branch: "main", changes: [{ createObjectType: { apiName: "A" }, createInterface: { apiName: "B" } }]) { version } }"#, json!({})).await;
    assert_eq!(code(&err), "BAD_USER_INPUT");
}

#[tokio::test]
async fn errors_carry_contract_codes() {
    let app = TestApp::with_demo().await;
    let cases = [
        (
            r#"mutation { createObjectType(branch: "main", input: { apiName: "Person" }) { version } }"#,
            "ALREADY_EXISTS",
        ),
        (r#"mutation { createObjectType(branch: "main", input: { apiName: "Named" }) { version } }"#, "ALREADY_EXISTS"),
        (
            r#"mutation { createObjectType(branch: "main", input: { apiName: "9lives" }) { version } }"#,
            "BAD_USER_INPUT",
        ),
        (r#"mutation { createObjectType(branch: "nope", input: { apiName: "X" }) { version } }"#, "NOT_FOUND"),
        (
            r#"mutation { updateObjectType(branch: "main", apiName: "Nope", expectedVersion: 1, input: {}) { version } }"#,
            "NOT_FOUND",
        ),
        (
            r#"mutation { updateLinkType(branch: "main", id: "bad-id", expectedVersion: 1, input: {}) { version } }"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"mutation { createObjectType(branch: "main", input: { apiName: "X" }, expectedBranchVersion: 0) { version } }"#,
            "VERSION_CONFLICT",
        ),
        (
            r#"mutation { createObjectType(branch: "main", input: { apiName: "X", properties: [{ apiName: "r", dataType: REFERENCE }] }) { version } }"#,
            "BAD_USER_INPUT",
        ),
        (r#"mutation { deleteBranch(name: "main", expectedVersion: 1) }"#, "FORBIDDEN"),
        (r#"{ branch { nope } }"#, "BAD_USER_INPUT"),
        (r#"{ branch(at: -1) { version } }"#, "BAD_USER_INPUT"),
        (r#"{ branch { "#, "BAD_USER_INPUT"),
    ];
    for (q, want) in cases {
        let err = app.err(q, json!({})).await;
        assert_eq!(code(&err), want, "{q}: {err:#}");
    }
    assert_eq!(app.branch_version("main").await, 1);
}

#[tokio::test]
async fn branches_fork_time_travel_and_protection() {
    let app = TestApp::with_demo().await;
    app.ok(r#"mutation { createBranch(name: "dev") { name parent forkedAt version } }"#, json!({})).await;
    let created = app
        .ok(r#"mutation { createObjectType(branch: "dev", input: { apiName: "Robot", extends: ["Party"] }) { version } }"#, json!({}))
        .await;
    assert_eq!(created["createObjectType"]["version"], 1);
    let q = r#"{ main: branch { version r: objectType(apiName: "Robot") { apiName } }
                dev: branch(name: "dev") { version parent forkedAt r: objectType(apiName: "Robot") { apiName } }
                old: branch(name: "dev", at: 0) { version historical r: objectType(apiName: "Robot") { apiName } }
                future: branch(name: "dev", at: 5) { version } }"#;
    assert_eq!(
        app.ok(q, json!({})).await,
        json!({
            "main": { "version": 1, "r": null },
            "dev": { "version": 1, "parent": "main", "forkedAt": 1, "r": { "apiName": "Robot" } },
            "old": { "version": 0, "historical": true, "r": null },
            "future": null,
        })
    );
    let empty = app.ok(r#"{ branch(at: 0) { stats { objectTypes } } }"#, json!({})).await;
    assert_eq!(empty["branch"]["stats"]["objectTypes"], 0);

    app.ok(r#"mutation { setBranchProtection(name: "main", protected: true) { protected } }"#, json!({})).await;
    let err = app
        .err(r#"mutation { createObjectType(branch: "main", input: { apiName: "X" }) { version } }"#, json!({}))
        .await;
    assert_eq!(code(&err), "BRANCH_PROTECTED");
    let err = app.err(r#"mutation { deleteBranch(name: "main", expectedVersion: 1) }"#, json!({})).await;
    assert_eq!(code(&err), "FORBIDDEN");
    let err = app.err(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    assert_eq!(code(&err), "ALREADY_EXISTS");
    let err = app.err(r#"mutation { createBranch(name: "x y") { name } }"#, json!({})).await;
    assert_eq!(code(&err), "BAD_USER_INPUT");
    let err = app.err(r#"mutation { deleteBranch(name: "dev", expectedVersion: 0) }"#, json!({})).await;
    assert_eq!(code(&err), "VERSION_CONFLICT");
    app.ok(r#"mutation { deleteBranch(name: "dev", expectedVersion: 1) }"#, json!({})).await;
    let after = app.reopen().await;
    let names = after.ok(r#"{ branches { name protected } }"#, json!({})).await;
    assert_eq!(names["branches"], json!([{ "name": "main", "protected": true }]));
}

#[tokio::test]
async fn commit_history_pages_newest_first() {
    let app = TestApp::new().await;
    for i in 0..5 {
        app.ok(CREATE_OT, json!({ "input": { "apiName": format!("T{i}") }, "ebv": i })).await;
    }
    let q = r#"query($after: String) { branch { commits(first: 2, after: $after) { totalCount
        pageInfo { hasNextPage endCursor } edges { node { version timestamp changes { entityId change } } } } } }"#;
    let page = app.ok(q, json!({ "after": null })).await["branch"]["commits"].clone();
    assert_eq!(page["totalCount"], 5);
    let versions: Vec<i64> =
        page["edges"].as_array().unwrap().iter().map(|e| e["node"]["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [5, 4]);
    assert_eq!(page["edges"][0]["node"]["changes"], json!([{ "entityId": "T4", "change": "ADDED" }]));
    let next = app.ok(q, json!({ "after": page["pageInfo"]["endCursor"] })).await["branch"]["commits"].clone();
    let versions: Vec<i64> =
        next["edges"].as_array().unwrap().iter().map(|e| e["node"]["version"].as_i64().unwrap()).collect();
    assert_eq!(versions, [3, 2]);
}

/// `last`/`before` (Relay): walking every connection backward gives the
/// forward walk reversed, page by page; `first` and `last` together are
/// refused; commits page backward by version.
#[tokio::test]
async fn connections_page_backward_with_last_and_before() {
    let app = TestApp::with_demo().await;
    for (field, key) in [("objectTypes", "apiName"), ("interfaces", "apiName"), ("linkTypes", "linkId")] {
        let all = format!("{{ branch {{ {field}(first: 1000) {{ edges {{ cursor node {{ {key} }} }} }} }} }}");
        let forward: Vec<Value> = app.ok(&all, json!({})).await["branch"][field]["edges"].as_array().unwrap().clone();
        let q = format!(
            "query($before: String) {{ branch {{ {field}(last: 2, before: $before) {{ totalCount
             pageInfo {{ hasPreviousPage hasNextPage startCursor endCursor }} edges {{ cursor node {{ {key} }} }} }} }} }}"
        );
        let mut backward: Vec<Value> = vec![];
        let mut before = Value::Null;
        loop {
            let page = app.ok(&q, json!({ "before": before })).await["branch"][field].clone();
            assert_eq!(page["totalCount"], forward.len(), "{field}");
            assert_eq!(page["pageInfo"]["hasNextPage"], !before.is_null(), "{field}: a cursor bounds the end");
            let edges = page["edges"].as_array().unwrap();
            assert_eq!(page["pageInfo"]["startCursor"], edges[0]["cursor"]);
            backward.splice(0..0, edges.iter().cloned());
            if !page["pageInfo"]["hasPreviousPage"].as_bool().unwrap() {
                break;
            }
            before = page["pageInfo"]["startCursor"].clone();
        }
        assert_eq!(backward, forward, "{field}");
    }
    // Between two cursors, from either end.
    let q = r#"{ branch { a: objectTypes(after: "Customer", before: "Employee", first: 10) { edges { node { apiName } } }
                          b: objectTypes(after: "Customer", before: "Employee", last: 10) { edges { node { apiName } } } } }"#;
    let got = app.ok(q, json!({})).await;
    assert_eq!(got["branch"]["a"], got["branch"]["b"]);
    assert_eq!(got["branch"]["a"]["edges"], json!([{ "node": { "apiName": "Department" } }]));
    // A filtered list pages backward too.
    let q = r#"{ branch { objectTypes(last: 2, filter: { extends: "Organization" }) { totalCount edges { node { apiName } } } } }"#;
    let f = app.ok(q, json!({})).await["branch"]["objectTypes"].clone();
    assert_eq!(f["totalCount"], 3);
    assert_eq!(f["edges"].as_array().unwrap().len(), 2);

    let err = app.err(r#"{ branch { objectTypes(first: 2, last: 2) { totalCount } } }"#, json!({})).await;
    assert_eq!((code(&err), &err["extensions"]["field"]), ("BAD_USER_INPUT", &json!("last")));
    let err = app.err(r#"{ branch { commits(last: 1001) { totalCount } } }"#, json!({})).await;
    assert_eq!((code(&err), &err["extensions"]["field"]), ("BAD_USER_INPUT", &json!("last")));
    // An explicit `first: null` leaves `last` alone.
    app.ok(r#"{ branch { interfaces(first: null, last: 1) { totalCount } } }"#, json!({})).await;

    // Commits: newest first; `last` takes the oldest, `before` bounds from above.
    for i in 0..5 {
        app.ok(CREATE_OT, json!({ "input": { "apiName": format!("T{i}") } })).await;
    }
    let q = r#"query($last: Int, $before: String) { branch { commits(last: $last, before: $before) { totalCount
        pageInfo { hasPreviousPage hasNextPage } edges { cursor node { version } } } } }"#;
    let versions = |page: &Value| -> Vec<i64> {
        page["edges"].as_array().unwrap().iter().map(|e| e["node"]["version"].as_i64().unwrap()).collect()
    };
    let oldest = app.ok(q, json!({ "last": 2 })).await["branch"]["commits"].clone();
    assert_eq!((versions(&oldest), oldest["totalCount"].as_i64()), (vec![2, 1], Some(6)));
    assert_eq!(oldest["pageInfo"], json!({ "hasPreviousPage": true, "hasNextPage": false }));
    let newer = app.ok(q, json!({ "last": 2, "before": "2" })).await["branch"]["commits"].clone();
    assert_eq!(versions(&newer), [4, 3]);
    assert_eq!(newer["pageInfo"], json!({ "hasPreviousPage": true, "hasNextPage": true }));
    let newest = app.ok(q, json!({ "last": 5, "before": "4" })).await["branch"]["commits"].clone();
    assert_eq!(versions(&newest), [6, 5]);
    assert_eq!(newest["pageInfo"], json!({ "hasPreviousPage": false, "hasNextPage": true }));
}
