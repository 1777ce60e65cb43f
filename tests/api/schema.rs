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
    assert_eq!(
        data["__schema"]["subscriptionType"]["name"],
        "SubscriptionRoot"
    );
    let fields: Vec<&str> = data["branch"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
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
    assert!(data["branch"]["description"]
        .as_str()
        .unwrap()
        .contains("consistent"));
    assert_eq!(data["node"]["kind"], "INTERFACE");
    assert_eq!(
        data["node"]["possibleTypes"],
        json!([{ "name": "ObjectType" }, { "name": "Interface" }])
    );
}
