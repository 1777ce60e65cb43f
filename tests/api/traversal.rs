//! Traversal fields over GraphQL on the demo ontology: exact answers,
//! caps, budgets and error codes.

use std::time::Duration;

use ontograph::engine::{ComputeCounts, Engine, EngineOptions, TraversalLimits};
use ontograph::graph::{self, Budget, Direction, View};
use ontograph::store;
use serde_json::json;

use crate::helpers::{code, TestApp};

#[tokio::test]
async fn traverse_inheritance_of_employee() {
    let app = TestApp::with_demo().await;
    let q = r#"{ branch { traverse(from: ["Employee"], relations: ["extends", "implements"], maxDepth: 10) {
        nodes { apiName kind depth node { __typename } } edges { source target relation linkType { linkId } } truncated cached } } }"#;
    let t = app.ok(q, json!({})).await["branch"]["traverse"].clone();
    assert_eq!(
        t["nodes"],
        json!([
            { "apiName": "Employee", "kind": "OBJECT_TYPE", "depth": 0, "node": { "__typename": "ObjectType" } },
            { "apiName": "Auditable", "kind": "INTERFACE", "depth": 1, "node": { "__typename": "Interface" } },
            { "apiName": "Person", "kind": "OBJECT_TYPE", "depth": 1, "node": { "__typename": "ObjectType" } },
            { "apiName": "Party", "kind": "OBJECT_TYPE", "depth": 2, "node": { "__typename": "ObjectType" } },
            { "apiName": "Named", "kind": "INTERFACE", "depth": 3, "node": { "__typename": "Interface" } },
        ])
    );
    assert_eq!(
        t["edges"],
        json!([
            { "source": "Employee", "target": "Auditable", "relation": "implements", "linkType": null },
            { "source": "Employee", "target": "Person", "relation": "extends", "linkType": null },
            { "source": "Party", "target": "Named", "relation": "implements", "linkType": null },
            { "source": "Person", "target": "Party", "relation": "extends", "linkType": null },
        ])
    );
    assert_eq!((t["truncated"].as_bool(), t["cached"].as_bool()), (Some(false), Some(false)));
}

#[tokio::test]
async fn depth_limit_and_caps_truncate() {
    let app = TestApp::with_demo().await;
    let q = r#"query($d: Int, $l: Int) { branch { traverse(from: ["Employee"], relations: ["extends"], maxDepth: $d, limit: $l) {
        nodes { apiName } truncated } } }"#;
    let t = app.ok(q, json!({ "d": 1, "l": 10 })).await["branch"]["traverse"].clone();
    assert_eq!(t, json!({ "nodes": [{ "apiName": "Employee" }, { "apiName": "Person" }], "truncated": true }));
    let t = app.ok(q, json!({ "d": 5, "l": 2 })).await["branch"]["traverse"].clone();
    assert_eq!(t, json!({ "nodes": [{ "apiName": "Employee" }, { "apiName": "Person" }], "truncated": true }));
    // Above the server caps: clamped, answered, and reported as truncated.
    let t = app.ok(q, json!({ "d": 1000, "l": 5000000 })).await["branch"]["traverse"].clone();
    assert_eq!(t["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(t["truncated"], true);
    let t = app.ok(q, json!({ "d": 5, "l": 10 })).await["branch"]["traverse"].clone();
    assert_eq!(t["truncated"], false);
}

#[tokio::test]
async fn traversal_errors_have_codes() {
    let app = TestApp::with_demo().await;
    let cases = [
        (r#"{ branch { traverse(from: ["Nope"]) { truncated } } }"#, "NOT_FOUND"),
        (r#"{ branch { traverse(from: []) { truncated } } }"#, "BAD_USER_INPUT"),
        (r#"{ branch { traverse(from: ["Employee"], maxDepth: -1) { truncated } } }"#, "BAD_USER_INPUT"),
        (r#"{ branch { shortestPath(from: "Employee", to: "Nope") { length } } }"#, "NOT_FOUND"),
        (r#"{ branch { paths(from: "Employee", to: "Person", limit: -5) { length } } }"#, "BAD_USER_INPUT"),
        (r#"{ branch { impact(of: "Nope") { truncated } } }"#, "NOT_FOUND"),
        (r#"{ branch { traverse(from: ["Employee"], direction: SIDEWAYS) { truncated } } }"#, "BAD_USER_INPUT"),
    ];
    for (q, want) in cases {
        assert_eq!(code(&app.err(q, json!({})).await), want, "{q}");
    }
}

#[tokio::test]
async fn paths_and_reachability() {
    let app = TestApp::with_demo().await;
    let q = r#"{ branch {
        sp: shortestPath(from: "Payment", to: "Customer") { nodes length edges { relation linkType { linkId } } }
        none: shortestPath(from: "Named", to: "Employee") { length }
        back: shortestPath(from: "Named", to: "Employee", direction: BOTH) { nodes }
        ps: paths(from: "Payment", to: "Customer", limit: 2) { nodes length }
        yes: reachable(from: "Payment", to: "Product")
        no: reachable(from: "Product", to: "Payment")
        self: shortestPath(from: "Person", to: "Person") { nodes length } } }"#;
    let b = app.ok(q, json!({})).await["branch"].clone();
    assert_eq!(
        b["sp"],
        json!({ "nodes": ["Payment", "Invoice", "Customer"], "length": 2, "edges": [
        { "relation": "settles", "linkType": { "linkId": "Payment.settles.Invoice" } },
        { "relation": "billed_to", "linkType": { "linkId": "Invoice.billed_to.Customer" } } ] })
    );
    assert_eq!(b["none"], json!(null));
    assert_eq!(b["back"], json!({ "nodes": ["Named", "Department", "Employee"] }));
    assert_eq!(
        b["ps"],
        json!([
        { "nodes": ["Payment", "Invoice", "Customer"], "length": 2 },
        { "nodes": ["Payment", "Invoice", "Order", "Employee", "Project", "Customer"], "length": 5 } ])
    );
    assert_eq!((b["yes"].as_bool(), b["no"].as_bool()), (Some(true), Some(false)));
    assert_eq!(b["self"], json!({ "nodes": ["Person"], "length": 0 }));
}

#[tokio::test]
async fn impact_and_cycles() {
    let app = TestApp::with_demo().await;
    let q = r#"{ branch { impact(of: "Person", relations: ["extends", "references"]) { nodes { apiName depth } truncated }
                          cycles(limit: 3) { nodes length edges { relation } }
                          inheritance: cycles(relations: ["extends"]) { nodes } } }"#;
    let b = app.ok(q, json!({})).await["branch"].clone();
    assert_eq!(
        b["impact"]["nodes"],
        json!([
        { "apiName": "Contractor", "depth": 1 }, { "apiName": "Employee", "depth": 1 }, { "apiName": "Order", "depth": 1 },
        { "apiName": "Department", "depth": 2 } ])
    );
    assert_eq!(
        b["cycles"][0],
        json!({ "nodes": ["Employee", "Employee"], "length": 1, "edges": [{ "relation": "manager" }] })
    );
    assert_eq!(
        b["cycles"][1],
        json!({ "nodes": ["Employee", "Employee"], "length": 1, "edges": [{ "relation": "references" }] })
    );
    assert_eq!(b["inheritance"], json!([]));

    // Make an inheritance cycle; the next answer shows it, rotated to its smallest apiName.
    app.ok(
        r#"mutation { commit(branch: "main", changes: [
        { createObjectType: { apiName: "Zeta", extends: ["Alpha"] } },
        { createObjectType: { apiName: "Alpha", extends: ["Zeta"] } } ]) { version } }"#,
        json!({}),
    )
    .await;
    let c = app.ok(r#"{ branch { cycles(relations: ["extends"]) { nodes } } }"#, json!({})).await;
    assert_eq!(c["branch"]["cycles"], json!([{ "nodes": ["Alpha", "Zeta", "Alpha"] }]));
}

/// With no time left, a large traversal returns at once, truncated; it
/// neither errors nor hangs. (Budget zero makes this deterministic.)
#[tokio::test]
async fn spent_budget_truncates_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("b.db").display());
    let traversal = TraversalLimits { budget: Duration::ZERO, ..TraversalLimits::default() };
    let opts = EngineOptions { traversal, ..EngineOptions::default() };
    let engine = Engine::open(store::connect(&url).await.unwrap(), opts).await.unwrap();
    let mut doc = vec![];
    ontograph::cli::generate(3000, 3, &mut doc).unwrap();
    let doc: ontograph::model::Document = serde_json::from_slice(&doc).unwrap();
    engine.import("main", doc.into_entities().collect(), "big".into(), None).await.unwrap();
    let app = TestApp::from_engine(engine, &url);
    let t = app
        .ok(r#"{ branch { traverse(from: ["T0"], direction: BOTH, maxDepth: 64) { truncated } } }"#, json!({}))
        .await;
    assert_eq!(t["branch"]["traverse"]["truncated"], true);
    let err = app.err(r#"{ branch { reachable(from: "T0", to: "T2999", direction: BOTH) } }"#, json!({})).await;
    assert_eq!(code(&err), "LIMIT_EXCEEDED");
}

/// Questions start on the async worker with a small work allowance; a
/// large one runs out of it and is recomputed on the blocking pool. Both
/// routes give the complete answer the graph functions give directly.
#[tokio::test]
async fn large_questions_move_to_the_pool_with_complete_answers() {
    let app = TestApp::new().await;
    let mut doc = vec![];
    ontograph::cli::generate(3000, 5, &mut doc).unwrap();
    let doc: ontograph::model::Document = serde_json::from_slice(&doc).unwrap();
    app.engine.import("main", doc.into_entities().collect(), "big".into(), None).await.unwrap();
    let g = app.engine.branch("main").unwrap().state.graph();
    let both = View::new(&g, Direction::Both);
    let t0 = g.id("T0").unwrap();
    for (depth, counts) in
        [(1u32, ComputeCounts { inline: 1, pooled: 0 }), (64, ComputeCounts { inline: 1, pooled: 1 })]
    {
        let expected = graph::traverse(&both, &[t0], depth, 100_000, &mut Budget::new(Duration::from_secs(600)));
        let q = format!(
            r#"{{ branch {{ traverse(from: ["T0"], direction: BOTH, maxDepth: {depth}, limit: 100000) {{ nodes {{ apiName depth }} truncated }} }} }}"#
        );
        let t = &app.ok(&q, json!({})).await["branch"]["traverse"];
        let got: Vec<(String, u64)> = t["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["apiName"].as_str().unwrap().to_owned(), n["depth"].as_u64().unwrap()))
            .collect();
        let want: Vec<(String, u64)> = expected.nodes.iter().map(|&(n, d)| (g.name(n).to_string(), d as u64)).collect();
        assert_eq!(got, want, "maxDepth {depth}");
        assert_eq!(t["truncated"], expected.truncated);
        assert_eq!(app.engine.compute_counts(), counts, "maxDepth {depth}");
    }
    // One hop from the three hubs is three nodes expanded but more edges
    // than the inline allowance: a node costs its edges, so it goes to the pool.
    let mut hubs: Vec<u32> = (0..g.node_count() as u32).collect();
    hubs.sort_by_key(|&n| std::cmp::Reverse(both.degree(n)));
    let hubs = &hubs[..3];
    let edges: usize = hubs.iter().map(|&n| both.degree(n)).sum();
    assert!(edges > 1024, "the hubs have {edges} edges");
    let names: Vec<String> = hubs.iter().map(|&n| format!("\"{}\"", g.name(n))).collect();
    let q = format!(
        r#"{{ branch {{ traverse(from: [{}], direction: BOTH, maxDepth: 1) {{ truncated }} }} }}"#,
        names.join(", ")
    );
    app.ok(&q, json!({})).await;
    assert_eq!(app.engine.compute_counts(), ComputeCounts { inline: 1, pooled: 2 });
    // A cycle search starts with a pass over the whole graph: it goes to
    // the pool before doing that pass on the async worker.
    let none = app.ok(r#"{ branch { cycles(relations: ["extends"]) { length } } }"#, json!({})).await;
    assert_eq!(none["branch"]["cycles"], json!([]), "inheritance is a forest: no tick after the SCC pass");
    assert_eq!(app.engine.compute_counts(), ComputeCounts { inline: 1, pooled: 3 });
    // The whole component is far more work than the inline allowance.
    let all = graph::traverse(&both, &[t0], 64, 100_000, &mut Budget::new(Duration::from_secs(600)));
    assert!(all.nodes.len() > 2_000 && !all.truncated, "{} nodes", all.nodes.len());
}

/// Node and edge lists with plain selections are rendered directly
/// (api/render.rs); a directive forces the per-field resolvers. Both must
/// give the same JSON, aliases and __typename included.
#[tokio::test]
async fn direct_rendering_equals_the_resolvers() {
    let app = TestApp::with_demo().await;
    let q = |d: &str| {
        format!(
            r#"{{ branch {{ traverse(from: ["Employee"], direction: BOTH, maxDepth: 2) {{
                nodes {{ n: apiName {d} kind depth __typename apiName }}
                edges {{ source {d} t: target relation __typename }} }}
              shortestPath(from: "Payment", to: "Customer") {{ edges {{ source target {d} relation }} }} }} }}"#
        )
    };
    let direct = app.ok(&q(""), json!({})).await;
    let resolved = app.ok(&q("@include(if: true)"), json!({})).await;
    assert_eq!(direct, resolved);
    let nodes = direct["branch"]["traverse"]["nodes"].as_array().unwrap();
    assert!(nodes.len() > 5);
    assert_eq!(
        nodes[0],
        json!({ "n": "Employee", "kind": "OBJECT_TYPE", "depth": 0, "__typename": "TraversalNode", "apiName": "Employee" })
    );
    assert!(!direct["branch"]["traverse"]["edges"].as_array().unwrap().is_empty());
}

/// Over HTTP node and edge lists are written as JSON bytes (a long one on
/// the blocking pool) and spliced into the response: the answer equals
/// the in-process one, built as values, byte for byte once parsed — for a
/// list long enough to be written off the runtime too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn written_lists_equal_the_values_over_http() {
    let live = crate::live::Live::start().await;
    let mut doc = vec![];
    ontograph::cli::generate(10_000, 7, &mut doc).unwrap();
    let doc: ontograph::model::Document = serde_json::from_slice(&doc).unwrap();
    live.server.engine.import("main", doc.into_entities().collect(), "generated".into(), None).await.unwrap();
    let in_process = TestApp::from_engine(live.server.engine.clone(), "unused");
    let q = r#"{ branch { traverse(from: ["T0"], direction: BOTH, maxDepth: 6, limit: 100000) {
        nodes { __typename n: apiName kind depth } edges { source target relation __typename } truncated } } }"#;
    let over_http = live.ok(q, json!({})).await;
    let values = in_process.ok(q, json!({})).await;
    assert_eq!(over_http, values);
    let n = over_http["branch"]["traverse"]["nodes"].as_array().unwrap().len();
    assert!(n > 4096, "long enough to be written on the blocking pool: {n}");
    live.stop().await;
}

/// `--max-response-bytes`: a list that would not fit fails with
/// LIMIT_EXCEEDED before it is built; a smaller answer is whole.
#[tokio::test]
async fn answers_larger_than_the_response_limit_are_refused() {
    let live = crate::live::Live::start_with(|a| a.limits.max_response_bytes = 600).await;
    live.server.engine.seed_demo_if_empty().await.unwrap();
    let big =
        r#"{ branch { traverse(from: ["Employee"], direction: BOTH, maxDepth: 10) { nodes { apiName depth } } } }"#;
    let (_, body) = live.gql(big, json!({})).await;
    let err = crate::live::error_with_code(&body, "LIMIT_EXCEEDED");
    assert!(err["message"].as_str().unwrap().contains("--max-response-bytes"), "{body:#}");
    let small = r#"{ branch { traverse(from: ["Employee"], maxDepth: 1) { nodes { apiName } } } }"#;
    assert!(live.ok(small, json!({})).await["branch"]["traverse"]["nodes"].as_array().unwrap().len() > 1);
    live.stop().await;
}

/// A diff's, a commit's and a merge's changes are written like the
/// traversal lists: over HTTP, with plain fields, the same JSON as the
/// resolvers give (forced with a directive) and as the in-process schema
/// gives.
#[tokio::test]
async fn written_diff_changes_equal_the_resolvers() {
    let live = crate::live::Live::start().await;
    live.server.engine.seed_demo_if_empty().await.unwrap();
    live.ok(r#"mutation { createBranch(name: "dev") { name } }"#, json!({})).await;
    let v = live.ok(r#"{ branch { objectType(apiName: "Employee") { version } } }"#, json!({})).await;
    let v = v["branch"]["objectType"]["version"].as_i64().unwrap();
    let edits = format!(
        r#"mutation {{ a: createObjectType(branch: "dev", input: {{ apiName: "Freelancer" }}) {{ version }}
             b: updateObjectType(branch: "dev", apiName: "Employee", expectedVersion: {v}, input: {{ description: "d", displayName: "E" }}) {{ version }} }}"#
    );
    live.ok(&edits, json!({})).await;
    let q = |d: &str| {
        format!(
            r#"{{ branch(name: "dev") {{ diff(against: "main") {{ changes {{ id {d} k: entityKind entityId change fields __typename }} }} }} }}"#
        )
    };
    let direct = live.ok(&q(""), json!({})).await;
    let resolved = live.ok(&q("@include(if: true)"), json!({})).await;
    assert_eq!(direct, resolved);
    let in_process = TestApp::from_engine(live.server.engine.clone(), "unused");
    assert_eq!(in_process.ok(&q(""), json!({})).await, direct);
    let changes = direct["branch"]["diff"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{direct:#}");
    assert_eq!((&changes[0]["entityId"], &changes[0]["change"]), (&json!("Employee"), &json!("MODIFIED")));
    assert_eq!(changes[0]["fields"], json!(["description", "displayName"]));
    assert_eq!(changes[0]["__typename"], "EntityChange");
    assert_eq!((&changes[1]["entityId"], &changes[1]["fields"]), (&json!("Freelancer"), &json!([])));
    // A commit's changes and a dry-run merge's, the same way.
    let sel = |d: &str| format!("{{ id {d} k: entityKind entityId change fields __typename }}");
    let commits = |d: &str| {
        format!(r#"{{ branch(name: "dev") {{ commits(first: 1) {{ edges {{ node {{ changes {} }} }} }} }} }}"#, sel(d))
    };
    let direct = live.ok(&commits(""), json!({})).await;
    assert_eq!(direct, live.ok(&commits("@include(if: true)"), json!({})).await);
    assert_eq!(
        direct["branch"]["commits"]["edges"][0]["node"]["changes"].as_array().unwrap().len(),
        1,
        "each mutation field is a commit"
    );
    let merge = |d: &str| {
        format!(r#"mutation {{ mergeBranch(source: "dev", target: "main", dryRun: true) {{ changes {} }} }}"#, sel(d))
    };
    let direct = live.ok(&merge(""), json!({})).await;
    assert_eq!(direct, live.ok(&merge("@include(if: true)"), json!({})).await);
    assert_eq!(direct["mergeBranch"]["changes"].as_array().unwrap().len(), 2);
    live.stop().await;
}
