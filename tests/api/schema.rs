//! The SDL snapshot: `schema/ontograph.graphql` must equal the live schema.
//! On drift the test rewrites the file (so the change shows in review) and
//! fails.

use serde_json::json;

use crate::helpers::TestApp;

#[test]
fn sdl_snapshot_matches_live_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/ontograph.graphql");
    let live = ontograph::api::sdl();
    let saved = std::fs::read_to_string(path).unwrap_or_default();
    if saved != live {
        std::fs::write(path, &live).unwrap();
        panic!("schema/ontograph.graphql drifted from the live schema; it has been rewritten: review and commit it");
    }
}

#[tokio::test]
async fn introspection_describes_the_contract() {
    let app = TestApp::new().await;
    let data = app
        .ok(
            r#"{ __schema { queryType { name } mutationType { name } subscriptionType { name } }
                 branch: __type(name: "Branch") { description fields { name } }
                 node: __type(name: "OntologyNode") { kind possibleTypes { name } }
                 relay: __type(name: "Node") { kind fields { name type { kind ofType { name } } } possibleTypes { name } } }"#,
            json!({}),
        )
        .await;
    let roots = &data["__schema"];
    assert_eq!(
        (&roots["queryType"]["name"], &roots["mutationType"]["name"], &roots["subscriptionType"]["name"]),
        (&json!("Query"), &json!("Mutation"), &json!("Subscription"))
    );
    // Relay Global Object Identification: `interface Node { id: ID! }`,
    // implemented by every type a client cache keeps under its id.
    assert_eq!(data["relay"]["kind"], "INTERFACE");
    assert_eq!(
        data["relay"]["fields"],
        json!([{ "name": "id", "type": { "kind": "NON_NULL", "ofType": { "name": "ID" } } }])
    );
    let mut cached: Vec<&str> =
        data["relay"]["possibleTypes"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    cached.sort();
    let all = [
        "ApiToken",
        "AuditEvent",
        "Branch",
        "Commit",
        "Conflict",
        "EntityChange",
        "Interface",
        "LinkType",
        "ObjectType",
    ];
    assert_eq!(cached, all);
    let fields: Vec<&str> =
        data["branch"]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    for f in [
        "name",
        "parent",
        "forkedAt",
        "version",
        "protected",
        "objectType",
        "objectTypes",
        "interface",
        "interfaces",
        "linkType",
        "linkTypes",
        "node",
        "commits",
    ] {
        assert!(fields.contains(&f), "Branch.{f} missing");
    }
    assert!(data["branch"]["description"].as_str().unwrap().contains("consistent"));
    assert_eq!(data["node"]["kind"], "INTERFACE");
    assert_eq!(data["node"]["possibleTypes"], json!([{ "name": "ObjectType" }, { "name": "Interface" }]));
}

/// Every type, field, argument and enum value of ours carries a description:
/// it is what GraphiQL shows.
#[tokio::test]
async fn every_type_and_field_is_documented() {
    let app = TestApp::new().await;
    let data = app
        .ok(
            r#"{ __schema { types { name kind description
                 fields { name description args { name description } }
                 inputFields { name description }
                 enumValues { name description } } } }"#,
            json!({}),
        )
        .await;
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut missing = vec![];
    for t in data["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        let undocumented = |v: &serde_json::Value| v["description"].as_str().is_none_or(|d| d.trim().is_empty());
        // async-graphql generates `*Connection` types and gives no way to describe them; their fields are checked.
        if undocumented(t) && !name.ends_with("Connection") {
            missing.push(name.to_string());
        }
        for list in ["fields", "inputFields", "enumValues"] {
            for f in t[list].as_array().into_iter().flatten() {
                if undocumented(f) {
                    missing.push(format!("{name}.{}", f["name"].as_str().unwrap()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
}

/// Every `extensions.code` a client can see is written once, in
/// `src/error.rs` (`Error::CODES`, each the `code()` of a variant: a unit
/// test there checks that); everywhere else builds errors from `Error`.
#[test]
fn error_codes_are_written_only_in_error_rs() {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    rust_files(&src, &mut files);
    let mut found = vec![];
    for path in files.iter().filter(|p| !p.ends_with("src/error.rs")) {
        let text = std::fs::read_to_string(path).unwrap();
        for code in ontograph::error::Error::CODES {
            if text.contains(&format!("\"{code}\"")) {
                found.push(format!("{}: \"{code}\"", path.strip_prefix(&src).unwrap().display()));
            }
        }
    }
    assert!(found.len() < files.len(), "the walk found the sources");
    assert!(found.is_empty(), "code strings outside src/error.rs: {found:#?}");
}
