//! Behaviour of `Ontology::apply` / `import`: exact errors and changes.

use super::*;
use crate::error::Error;
use std::sync::Arc;

fn ot(name: &str, extends: &[&str]) -> ObjectType {
    ObjectType {
        api_name: name.into(),
        display_name: String::new(),
        description: None,
        status: Status::Active,
        properties: vec![],
        extends: extends.iter().map(|s| s.to_string()).collect(),
        implements: vec![],
        curie: None,
        annotations: Default::default(),
        version: 0,
    }
}

fn link(s: &str, a: &str, t: &str) -> LinkType {
    LinkType {
        api_name: a.into(),
        source: s.into(),
        target: t.into(),
        cardinality: Cardinality::ManyToOne,
        display_name: String::new(),
        description: None,
        status: Status::Active,
        version: 0,
    }
}

fn reference(name: &str, target: &str) -> Property {
    Property {
        api_name: name.into(),
        display_name: None,
        data_type: DataType::Reference,
        target: Some(target.into()),
        required: false,
        unique: false,
        array: false,
        description: None,
    }
}

fn apply(o: &Ontology, changes: Vec<Change>) -> Result<Applied, Error> {
    o.apply(&changes)
}

fn base() -> Ontology {
    let changes = vec![
        Change::CreateObjectType(ot("Person", &[])),
        Change::CreateObjectType(ot("Employee", &["Person"])),
        Change::CreateLinkType(link("Employee", "manager", "Employee")),
    ];
    apply(&Ontology::default(), changes).unwrap().ontology
}

#[test]
fn create_sets_version_one_and_default_display_name() {
    let o = base();
    let e = o.object_type("Employee").unwrap();
    assert_eq!((e.version, e.display_name.as_str()), (1, "Employee"));
    assert_eq!(o.link_type("Employee.manager.Employee").unwrap().version, 1);
}

#[test]
fn batch_may_reference_forward() {
    let changes = vec![Change::CreateObjectType(ot("B", &["A"])), Change::CreateObjectType(ot("A", &[]))];
    let applied = apply(&Ontology::default(), changes).unwrap();
    let kinds: Vec<_> = applied.changes.iter().map(|c| (c.id.as_str(), c.change)).collect();
    assert_eq!(kinds, [("A", ChangeKind::Added), ("B", ChangeKind::Added)]);
}

#[test]
fn unknown_reference_names_the_field() {
    let mut t = ot("Order", &[]);
    t.properties.push(reference("buyer", "Customer"));
    let err = apply(&base(), vec![Change::CreateObjectType(t)]).unwrap_err();
    match err {
        Error::BadUserInput { field, message } => {
            assert_eq!(field.as_deref(), Some("properties[0].target"));
            assert!(message.contains("unknown object type Customer"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn reference_to_wrong_kind_is_rejected() {
    let named = Interface {
        api_name: "Named".into(),
        display_name: String::new(),
        description: None,
        extends: vec![],
        properties: vec![],
        curie: None,
        annotations: Default::default(),
        version: 0,
    };
    let err = apply(&base(), vec![Change::CreateInterface(named), Change::CreateObjectType(ot("X", &["Named"]))])
        .unwrap_err();
    assert_eq!(err.code(), Error::BAD_USER_INPUT);
    assert_eq!(err.to_string(), "X: extends[0]: Named is an interface, not an object type");
}

#[test]
fn names_are_unique_across_object_types_and_interfaces() {
    let named = Interface {
        api_name: "Person".into(),
        display_name: String::new(),
        description: None,
        extends: vec![],
        properties: vec![],
        curie: None,
        annotations: Default::default(),
        version: 0,
    };
    let err = apply(&base(), vec![Change::CreateInterface(named)]).unwrap_err();
    assert!(matches!(err, Error::AlreadyExists(ref n) if n == "Person"), "{err:?}");
}

#[test]
fn stale_version_conflicts_with_expected_and_actual() {
    let o = base();
    let patch = ObjectTypePatch { display_name: Some("Staff".into()), ..Default::default() };
    let ok = apply(
        &o,
        vec![Change::UpdateObjectType { api_name: "Employee".into(), expected_version: 1, patch: patch.clone() }],
    )
    .unwrap();
    let e = ok.ontology.object_type("Employee").unwrap();
    assert_eq!((e.version, e.display_name.as_str()), (2, "Staff"));
    assert_eq!(ok.changes[0].fields, ["displayName"]);
    let err =
        apply(&ok.ontology, vec![Change::UpdateObjectType { api_name: "Employee".into(), expected_version: 1, patch }])
            .unwrap_err();
    assert!(matches!(err, Error::VersionConflict { expected: 1, actual: 2, .. }), "{err:?}");
}

#[test]
fn delete_in_use_lists_dependents_and_writes_nothing() {
    let o = base();
    let err =
        apply(&o, vec![Change::DeleteObjectType { api_name: "Person".into(), expected_version: 1, cascade: false }])
            .unwrap_err();
    match err {
        Error::InUse { id, dependents } => {
            assert_eq!(id, "Person");
            assert_eq!(dependents, ["Employee"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(o.object_type("Person").is_some());
}

#[test]
fn cascade_removes_links_and_references() {
    let o = base();
    let applied =
        apply(&o, vec![Change::DeleteObjectType { api_name: "Employee".into(), expected_version: 1, cascade: true }])
            .unwrap();
    let got: Vec<_> = applied.changes.iter().map(|c| (c.entity_kind, c.id.as_str(), c.change)).collect();
    assert_eq!(
        got,
        [
            (EntityKind::ObjectType, "Employee", ChangeKind::Deleted),
            (EntityKind::LinkType, "Employee.manager.Employee", ChangeKind::Deleted),
        ]
    );
    let applied =
        apply(&o, vec![Change::DeleteObjectType { api_name: "Person".into(), expected_version: 1, cascade: true }])
            .unwrap();
    let e = applied.ontology.object_type("Employee").unwrap();
    assert!(e.extends.is_empty());
    assert_eq!(e.version, 2);
    assert_eq!(applied.ontology.referrers("Person").count(), 0);
}

#[test]
fn deleting_a_node_with_its_links_in_one_batch_is_fine() {
    let changes = vec![
        Change::DeleteObjectType { api_name: "Employee".into(), expected_version: 1, cascade: false },
        Change::DeleteLinkType { id: "Employee.manager.Employee".into(), expected_version: 1 },
    ];
    let applied = apply(&base(), changes).unwrap();
    assert_eq!(applied.ontology.object_type_count(), 1);
    assert_eq!(applied.ontology.link_type_count(), 0);
}

#[test]
fn import_is_idempotent_and_bumps_changed_entities() {
    let doc = demo();
    let first = Ontology::default().import(doc.into_entities()).unwrap();
    assert_eq!(first.changes.len(), 18 + 3 + 22);
    let again = first.ontology.import(demo().into_entities()).unwrap();
    assert!(again.changes.is_empty());
    let mut doc = demo();
    doc.object_types[0].description = Some("changed".into());
    let name = doc.object_types[0].api_name.clone();
    let third = first.ontology.import(doc.into_entities()).unwrap();
    assert_eq!(third.changes.len(), 1);
    assert_eq!(third.changes[0].fields, ["description"]);
    assert_eq!(third.ontology.object_type(&name).unwrap().version, 2);
}

#[test]
fn export_round_trips_byte_identically() {
    let o = Ontology::default().import(demo().into_entities()).unwrap().ontology;
    let a = serde_json::to_string_pretty(&DocumentRef::of(&o)).unwrap();
    let doc: Document = serde_json::from_str(&a).unwrap();
    let o2 = Ontology::default().import(doc.into_entities()).unwrap().ontology;
    let b = serde_json::to_string_pretty(&DocumentRef::of(&o2)).unwrap();
    assert_eq!(a, b);
}

/// Bulk construction gives exactly the state entity-by-entity `put` gives:
/// entities, versions and the referrer index.
#[test]
fn from_entities_equals_putting_one_by_one() {
    let mut buf = vec![];
    crate::cli::generate(2_000, 9, &mut buf).unwrap();
    let doc: Document = serde_json::from_slice(&buf).unwrap();
    let mut entities: Vec<Entity> = doc.into_entities().chain(demo().into_entities()).collect();
    entities.reverse(); // not in key order
    let mut one_by_one = Ontology::default();
    for e in entities.iter().cloned() {
        one_by_one.put(e);
    }
    let bulk = Ontology::from_entities(entities);
    let all = |o: &Ontology| o.entities().collect::<Vec<_>>();
    assert_eq!(all(&bulk), all(&one_by_one));
    for e in one_by_one.entities().filter(|e| e.kind() != EntityKind::LinkType) {
        let id = e.id();
        let want: Vec<&Name> = one_by_one.referrers(&id).collect();
        assert_eq!(bulk.referrers(&id).collect::<Vec<_>>(), want, "{id}");
    }
    assert!(one_by_one.referrers("Person").count() > 0);
}

fn interface(name: &str, extends: &[&str]) -> Interface {
    Interface {
        api_name: name.into(),
        display_name: String::new(),
        description: None,
        extends: extends.iter().map(|s| s.to_string()).collect(),
        properties: vec![],
        curie: None,
        annotations: Default::default(),
        version: 0,
    }
}

/// An entity from a small pool of names, so that documents repeat names
/// (same or other content, same or other kind), reference missing or
/// wrong-kind nodes, and now and then carry an invalid name.
fn pool_entity() -> impl proptest::strategy::Strategy<Value = Entity> {
    use proptest::prelude::*;
    const NAMES: [&str; 6] = ["A", "B", "C", "D", "E", "9bad"];
    let name = || proptest::sample::select(&NAMES[..]);
    (0..3u8, name(), name(), name(), proptest::option::of("[ab]")).prop_map(|(kind, n, r, t, description)| {
        // Half the nodes extend nothing, so that many documents are valid.
        let extends: &[&str] = if description.is_some() { &[r] } else { &[] };
        match kind {
            0 => Entity::ObjectType(Arc::new(ObjectType { description, ..ot(n, extends) })),
            1 => Entity::Interface(Arc::new(Interface { description, ..interface(n, extends) })),
            _ => Entity::LinkType(Arc::new(LinkType { description, ..link(r, &n.to_lowercase(), t) })),
        }
    })
}

proptest::proptest! {
    /// The bulk import into an empty state gives exactly what upserting
    /// one by one gives: the same entities, versions, referrers and
    /// changes, or the same first error.
    #[test]
    fn import_into_empty_equals_one_by_one(doc in proptest::collection::vec(pool_entity(), 0..12)) {
        let empty = Ontology::default();
        let bulk = empty.import(doc.clone());
        let stepwise = empty.import_one_by_one(doc);
        match (bulk, stepwise) {
            (Ok(a), Ok(b)) => {
                let all = |o: &Ontology| o.entities().collect::<Vec<_>>();
                proptest::prop_assert_eq!(all(&a.ontology), all(&b.ontology));
                proptest::prop_assert_eq!(a.changes, b.changes);
                for e in b.ontology.entities().filter(|e| e.kind() != EntityKind::LinkType) {
                    let id = e.id();
                    proptest::prop_assert_eq!(
                        a.ontology.referrers(&id).collect::<Vec<_>>(),
                        b.ontology.referrers(&id).collect::<Vec<_>>()
                    );
                }
            }
            (a, b) => {
                proptest::prop_assert_eq!(format!("{:?}", a.err()), format!("{:?}", b.err()))
            }
        }
    }
}

/// The bulk path on a real document: the generator's 2,000 types.
#[test]
fn a_generated_document_imports_alike_either_way() {
    let mut buf = vec![];
    crate::cli::generate(2_000, 3, &mut buf).unwrap();
    let doc: Document = serde_json::from_slice(&buf).unwrap();
    let entities: Vec<Entity> = doc.into_entities().chain(demo().into_entities()).collect();
    let (a, b) = (
        Ontology::default().import(entities.clone()).unwrap(),
        Ontology::default().import_one_by_one(entities).unwrap(),
    );
    assert_eq!(a.ontology.entities().collect::<Vec<_>>(), b.ontology.entities().collect::<Vec<_>>());
    assert_eq!(a.changes, b.changes);
    assert!(a.changes.len() > 10_000);
}

/// The documents the property above draws are both valid and invalid
/// often enough for it to compare both outcomes.
#[test]
fn the_pool_draws_valid_and_invalid_documents() {
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut ok, mut err) = (0, 0);
    for _ in 0..256 {
        let doc = proptest::collection::vec(pool_entity(), 0..12).new_tree(&mut runner).unwrap().current();
        match Ontology::default().import(doc) {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    assert!(ok >= 25 && err >= 25, "{ok} valid, {err} invalid");
}
