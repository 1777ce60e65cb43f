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
                 node: __type(name: "OntologyNode") { kind possibleTypes { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["__schema"]["subscriptionType"]["name"], "SubscriptionRoot");
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
