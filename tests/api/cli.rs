//! The command line with the real binary: generate → import → export →
//! import → export is byte-identical; YAML imports; schema prints the SDL.

use std::path::Path;
use std::process::{Command, Output};

fn ontograph(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_ontograph")).args(args).output().expect("run ontograph");
    assert!(out.status.success(), "ontograph {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn db(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

#[test]
fn export_import_export_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("gen.json");
    std::fs::write(&generated, ontograph(&["generate", "--object-types", "3000", "--seed", "5"]).stdout).unwrap();

    let (a, b) = (db(dir.path(), "a.db"), db(dir.path(), "b.db"));
    ontograph(&["import", generated.to_str().unwrap(), "--database-url", &a, "--quiet"]);
    let first = ontograph(&["export", "--database-url", &a]).stdout;
    let exported = dir.path().join("export.json");
    std::fs::write(&exported, &first).unwrap();
    ontograph(&["import", exported.to_str().unwrap(), "--database-url", &b, "--quiet"]);
    let second = ontograph(&["export", "--database-url", &b]).stdout;
    assert_eq!(first, second);
    let doc: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(doc["objectTypes"].as_array().unwrap().len(), 3000);
    assert_eq!(doc["linkTypes"].as_array().unwrap().len(), 12000);

    // Importing the same document again changes nothing and writes no commit.
    let again = ontograph(&["import", exported.to_str().unwrap(), "--database-url", &b, "--quiet"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to commit"));
    // Export at version 0 is the empty document.
    let empty: serde_json::Value =
        serde_json::from_slice(&ontograph(&["export", "--database-url", &b, "--at", "0"]).stdout).unwrap();
    assert_eq!(empty, serde_json::json!({ "objectTypes": [], "interfaces": [], "linkTypes": [] }));
}

#[test]
fn imports_yaml_and_rejects_an_inconsistent_document_whole() {
    let dir = tempfile::tempdir().unwrap();
    let url = db(dir.path(), "y.db");
    let yaml = dir.path().join("o.yaml");
    std::fs::write(
        &yaml,
        "objectTypes:\n  - apiName: Person\n  - apiName: Employee\n    extends: [Person]\n    properties:\n      - { apiName: name, dataType: STRING, required: true }\nlinkTypes:\n  - { apiName: manager, source: Employee, target: Employee, cardinality: MANY_TO_ONE }\n",
    )
    .unwrap();
    ontograph(&["import", yaml.to_str().unwrap(), "--database-url", &url, "--quiet"]);
    let doc: serde_json::Value =
        serde_json::from_slice(&ontograph(&["export", "--database-url", &url]).stdout).unwrap();
    assert_eq!(doc["objectTypes"][0]["apiName"], "Employee");
    assert_eq!(doc["objectTypes"][0]["displayName"], "Employee");
    assert_eq!(doc["linkTypes"][0]["apiName"], "manager");

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{ "objectTypes": [ { "apiName": "Robot", "extends": ["Ghost"] } ] }"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ontograph"))
        .args(["import", bad.to_str().unwrap(), "--database-url", &url, "--quiet"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown object type Ghost"));
    let after: serde_json::Value =
        serde_json::from_slice(&ontograph(&["export", "--database-url", &url]).stdout).unwrap();
    assert_eq!(after, doc, "a rejected import writes nothing");
}

#[test]
fn schema_command_prints_the_snapshot() {
    let sdl = ontograph(&["schema"]).stdout;
    let saved = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/ontograph.graphql")).unwrap();
    assert_eq!(sdl, saved);
}
