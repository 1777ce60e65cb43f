//! Three-way merge and diff on `Ontology` states: exact conflicts per
//! kind, and properties on random change histories.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::error::Error;

fn ot(name: &str, extends: &[&str], description: Option<&str>) -> Change {
    Change::CreateObjectType(ObjectType {
        api_name: name.into(),
        display_name: String::new(),
        description: description.map(Into::into),
        status: Status::Active,
        properties: vec![],
        extends: extends.iter().map(|s| s.to_string()).collect(),
        implements: vec![],
        curie: None,
        annotations: Default::default(),
        version: 0,
    })
}

fn edit(o: &Ontology, name: &str, patch: ObjectTypePatch) -> Change {
    let expected_version = o.object_type(name).unwrap().version;
    Change::UpdateObjectType { api_name: name.into(), expected_version, patch }
}

fn describe(o: &Ontology, name: &str, text: &str) -> Change {
    edit(o, name, ObjectTypePatch { description: Some(Some(text.into())), ..Default::default() })
}

fn delete(o: &Ontology, name: &str, cascade: bool) -> Change {
    let expected_version = o.object_type(name).unwrap().version;
    Change::DeleteObjectType { api_name: name.into(), expected_version, cascade }
}

fn apply(o: &Ontology, changes: Vec<Change>) -> Ontology {
    o.apply(&changes).unwrap().ontology
}

/// Base: A; B extends A; E (description "base").
fn base() -> Ontology {
    apply(&Ontology::default(), vec![ot("A", &[], None), ot("B", &["A"], None), ot("E", &[], Some("base"))])
}

/// Every entity's document (no versions): what "equal content" means.
fn docs(o: &Ontology) -> Vec<serde_json::Value> {
    o.entities().map(|e| e.to_json()).collect()
}

fn pick(id: &str, field: Option<&str>, choose: Side) -> Resolution {
    Resolution { id: id.into(), field: field.map(Into::into), choose }
}

#[test]
fn disjoint_field_changes_merge_without_conflict() {
    let b = base();
    let s = apply(&b, vec![edit(&b, "E", ObjectTypePatch { display_name: Some("Ee".into()), ..Default::default() })]);
    let t = apply(&b, vec![describe(&b, "E", "target")]);
    let m = merge(&b, &s, &t, &[]).unwrap();
    assert!(m.conflicts.is_empty());
    let merged = m.applied.unwrap();
    let e = merged.ontology.object_type("E").unwrap();
    assert_eq!((e.display_name.as_str(), e.description.as_deref(), e.version), ("Ee", Some("target"), 3));
    assert_eq!(merged.changes.len(), 1);
    assert_eq!(merged.changes[0].fields, ["displayName"]);
}

#[test]
fn modify_modify_is_per_field_and_resolutions_pick_a_side() {
    let b = base();
    let s = apply(&b, vec![describe(&b, "E", "source")]);
    let t = apply(&b, vec![describe(&b, "E", "target")]);
    let m = merge(&b, &s, &t, &[]).unwrap();
    assert!(m.applied.is_none());
    assert_eq!(
        m.conflicts,
        [Conflict {
            entity_kind: EntityKind::ObjectType,
            id: "E".into(),
            field: Some("description".into()),
            kind: ConflictKind::ModifyModify,
            base: Some(json!("base")),
            source: Some(json!("source")),
            target: Some(json!("target")),
            dependents: vec![],
            resolution: None,
        }]
    );
    for (side, want) in [(Side::Source, "source"), (Side::Target, "target")] {
        let m = merge(&b, &s, &t, &[pick("E", Some("description"), side)]).unwrap();
        assert_eq!(m.conflicts[0].resolution, Some(side));
        let o = m.applied.unwrap().ontology;
        assert_eq!(o.object_type("E").unwrap().description.as_deref(), Some(want));
    }
    let err = merge(&b, &s, &t, &[pick("E", Some("description"), Side::Source), pick("A", None, Side::Source)])
        .err()
        .unwrap();
    assert_eq!(err.code(), Error::BAD_USER_INPUT);
    // Two answers to one conflict are refused too.
    let twice = [pick("E", Some("description"), Side::Source), pick("E", Some("description"), Side::Target)];
    let err = merge(&b, &s, &t, &twice).err().unwrap();
    assert!(matches!(&err, Error::BadUserInput { field: Some(f), .. } if f == "resolutions[1]"), "{err:?}");
}

#[test]
fn modify_delete_and_add_add() {
    let b = base();
    let s = apply(&b, vec![delete(&b, "E", false), ot("F", &[], Some("s"))]);
    let t = apply(&b, vec![describe(&b, "E", "target"), ot("F", &[], Some("t"))]);
    let m = merge(&b, &s, &t, &[]).unwrap();
    let got: Vec<_> =
        m.conflicts.iter().map(|c| (c.id.as_str(), c.kind, c.source.is_some(), c.target.is_some())).collect();
    assert_eq!(got, [("E", ConflictKind::ModifyDelete, false, true), ("F", ConflictKind::AddAdd, true, true)]);
    assert_eq!(m.conflicts[0].base.as_ref().unwrap()["description"], "base");
    let m = merge(&b, &s, &t, &[pick("E", None, Side::Source), pick("F", None, Side::Target)]).unwrap();
    let o = m.applied.unwrap().ontology;
    assert!(o.object_type("E").is_none());
    assert_eq!(o.object_type("F").unwrap().description.as_deref(), Some("t"));
    // The same addition on both sides agrees.
    let s = apply(&b, vec![ot("F", &[], Some("same"))]);
    let t = apply(&b, vec![ot("F", &[], Some("same"))]);
    let m = merge(&b, &s, &t, &[]).unwrap();
    assert!(m.conflicts.is_empty() && m.applied.unwrap().changes.is_empty());
}

#[test]
fn a_deletion_that_breaks_the_other_sides_new_reference_conflicts() {
    let b = base();
    // Source deletes E; target makes G extend it.
    let s = apply(&b, vec![delete(&b, "E", false)]);
    let t = apply(&b, vec![ot("G", &["E"], None)]);
    let m = merge(&b, &s, &t, &[]).unwrap();
    assert!(m.applied.is_none());
    assert_eq!(m.conflicts.len(), 1);
    let c = &m.conflicts[0];
    assert_eq!(
        (c.id.as_str(), c.kind, c.dependents.as_slice()),
        ("E", ConflictKind::BrokenReference, &["G".to_string()][..])
    );
    assert_eq!((c.source.is_none(), c.target.is_some()), (true, true));
    // TARGET keeps E; SOURCE deletes it and the reference with it.
    let o = merge(&b, &s, &t, &[pick("E", None, Side::Target)]).unwrap().applied.unwrap().ontology;
    assert_eq!(o.object_type("E").unwrap().version, 1);
    let o = merge(&b, &s, &t, &[pick("E", None, Side::Source)]).unwrap().applied.unwrap().ontology;
    assert!(o.object_type("E").is_none());
    assert!(o.object_type("G").unwrap().extends.is_empty());

    // Mirrored: target deletes E; source makes H extend it.
    let s = apply(&b, vec![ot("H", &["E"], None)]);
    let t = apply(&b, vec![delete(&b, "E", false)]);
    let m = merge(&b, &s, &t, &[]).unwrap();
    let c = &m.conflicts[0];
    assert_eq!(
        (c.id.as_str(), c.kind, c.dependents.as_slice()),
        ("E", ConflictKind::BrokenReference, &["H".to_string()][..])
    );
    let o = merge(&b, &s, &t, &[pick("E", None, Side::Source)]).unwrap().applied.unwrap().ontology;
    assert_eq!(o.object_type("H").unwrap().extends, ["E"]);
    assert_eq!(o.object_type("E").unwrap().description.as_deref(), Some("base"));
}

#[test]
fn diff_since_lists_entity_and_field_changes() {
    let b = base();
    let s = apply(&b, vec![describe(&b, "E", "x"), delete(&b, "B", false), ot("C", &["A"], None)]);
    let d: Vec<_> = s.diff_since(&b).into_iter().map(|c| (c.id, c.change, c.fields)).collect();
    assert_eq!(
        d,
        [
            ("B".to_string(), ChangeKind::Deleted, vec![]),
            ("C".to_string(), ChangeKind::Added, vec![]),
            ("E".to_string(), ChangeKind::Modified, vec!["description".to_string()]),
        ]
    );
    // Changed and changed back is no change.
    let back = apply(&s, vec![describe(&s, "E", "base")]);
    assert!(back.diff_since(&b).iter().all(|c| c.id != "E"));
}

/// A random edit of `o` (or none when the pick does not apply).
fn random_change(o: &Ontology, op: u8, x: usize, y: usize) -> Option<Change> {
    let names: Vec<String> = o.object_types_after(None).map(|t| t.api_name.clone()).collect();
    let name = |i: usize| names.get(i % names.len().max(1)).cloned();
    match op % 4 {
        0 => {
            let parent = name(y).into_iter().collect::<Vec<_>>();
            let parents: Vec<&str> = parent.iter().map(String::as_str).collect();
            Some(ot(&format!("N{x}_{y}"), &parents, None))
        }
        1 => Some(describe(o, &name(x)?, &format!("d{y}"))),
        2 => Some(delete(o, &name(x)?, true)),
        _ => {
            let extends = name(y).into_iter().filter(|p| Some(p) != name(x).as_ref()).collect();
            Some(edit(o, &name(x)?, ObjectTypePatch { extends: Some(extends), ..Default::default() }))
        }
    }
}

fn evolve(mut o: Ontology, ops: &[(u8, usize, usize)]) -> Ontology {
    for &(op, x, y) in ops {
        if let Some(c) = random_change(&o, op, x, y) {
            if let Ok(a) = o.apply(&[c]) {
                o = a.ontology;
            }
        }
    }
    o
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A branch merged into an unchanged target makes the target equal the branch.
    #[test]
    fn merge_into_unchanged_target_equals_the_branch(
        seed in proptest::collection::vec((0u8..4, 0usize..40, 0usize..40), 0..20),
        ops in proptest::collection::vec((0u8..4, 0usize..40, 0usize..40), 0..30),
    ) {
        let b = evolve(base(), &seed);
        let s = evolve(b.clone(), &ops);
        let m = merge(&b, &s, &b, &[]).unwrap();
        prop_assert!(m.conflicts.is_empty());
        prop_assert_eq!(docs(&m.applied.unwrap().ontology), docs(&s));
    }

    /// The diff is exactly the entities whose documents differ.
    #[test]
    fn diff_since_matches_a_full_comparison(
        ops in proptest::collection::vec((0u8..4, 0usize..40, 0usize..40), 0..30),
    ) {
        let b = evolve(base(), &[(0, 1, 2), (0, 3, 4), (0, 5, 1)]);
        let s = evolve(b.clone(), &ops);
        let got: Vec<String> = s.diff_since(&b).into_iter().map(|c| c.id).collect();
        let mut want: Vec<String> = b.entities().chain(s.entities())
            .map(|e| e.id())
            .filter(|id| {
                let f = |o: &Ontology| o.object_type(id).map(|t| Entity::ObjectType(t.clone()).to_json());
                f(&b) != f(&s)
            })
            .collect();
        want.sort();
        want.dedup();
        prop_assert_eq!(got, want);
    }

    /// Two sides changing disjoint entities: the merge holds both.
    #[test]
    fn disjoint_changes_merge_to_both(
        ops in proptest::collection::vec((1u8..2, 0usize..3, 0usize..40), 0..10),
    ) {
        let b = base();
        // Source edits A and B only; target edits E only.
        let s = evolve(b.clone(), &ops.iter().map(|&(o, x, y)| (o, x % 2, y)).collect::<Vec<_>>());
        let t = apply(&b, vec![describe(&b, "E", "target")]);
        let m = merge(&b, &s, &t, &[]).unwrap();
        prop_assert!(m.conflicts.is_empty());
        let o = m.applied.unwrap().ontology;
        for name in ["A", "B"] {
            prop_assert_eq!(&o.object_type(name).unwrap().description, &s.object_type(name).unwrap().description);
        }
        prop_assert_eq!(o.object_type("E").unwrap().description.as_deref(), Some("target"));
    }
}
