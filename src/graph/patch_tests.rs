//! `GraphIndex::patched` equals `GraphIndex::build` on random histories:
//! nodes added and removed (ids shift), extends / implements / reference
//! edges rewired, link types added and deleted.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::model::{Change, Entity, EntityKind, Ontology};

const LABELS: [&str; 3] = ["owns", "uses", "fresh"];

fn name(i: usize) -> String {
    // Interleaved names, so additions land between existing ids.
    format!("N{:02}", i % 60)
}

fn object(i: usize, parents: &[usize], iface: Option<usize>, reference: Option<usize>) -> Entity {
    let props: Vec<_> = reference
        .map(|r| json!({ "apiName": "ref", "dataType": "REFERENCE", "target": name(r) }))
        .into_iter()
        .collect();
    let implements: Vec<_> = iface.map(|k| format!("I{}", k % 3)).into_iter().collect();
    let extends: Vec<_> = parents.iter().map(|&p| name(p)).filter(|p| *p != name(i)).collect();
    let doc = json!({ "apiName": name(i), "extends": extends, "implements": implements, "properties": props });
    Entity::from_value(EntityKind::ObjectType, doc, 0).unwrap()
}

fn link(s: usize, label: &str, t: usize) -> Entity {
    let doc = json!({ "apiName": label, "source": name(s), "target": name(t) });
    Entity::from_value(EntityKind::LinkType, doc, 0).unwrap()
}

fn start() -> Ontology {
    let mut es: Vec<Entity> = (0..3)
        .map(|k| Entity::from_value(EntityKind::Interface, json!({ "apiName": format!("I{k}") }), 0).unwrap())
        .collect();
    es.extend((0..20).map(|i| object(i * 3, &[i * 3 / 2 * 3], Some(i), (i % 4 == 0).then_some(i * 3 + 3))));
    es.extend((0..10).map(|i| link(i * 3, LABELS[i % 2], i * 6 % 60)));
    Ontology::default().import(es).unwrap().ontology
}

/// One random step; invalid ones (dangling references, duplicates) fail
/// and are skipped, as a rejected commit would be.
fn step(o: &Ontology, op: u8, a: usize, b: usize) -> Option<Ontology> {
    let result = match op % 5 {
        0 => o.import([object(a, &[b], Some(a), (b % 3 == 0).then_some(b))]),
        1 => {
            let v = o.object_type(&name(a))?.version;
            o.apply(&[Change::DeleteObjectType { api_name: name(a), expected_version: v, cascade: true }])
        }
        2 => o.import([link(a, LABELS[b % 3], b)]),
        3 => {
            let l = o.link_types_after(None).nth(a % o.link_type_count().max(1))?;
            o.apply(&[Change::DeleteLinkType { id: l.id(), expected_version: l.version }])
        }
        _ => o.import([object(a, &[b, a + b], None, None)]),
    };
    result.ok().map(|r| r.ontology)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn patched_equals_a_fresh_build(
        history in proptest::collection::vec(proptest::collection::vec((0u8..5, 0usize..60, 0usize..60), 1..6), 1..8),
    ) {
        let mut o = start();
        let mut g = GraphIndex::build(&o);
        for commit in history {
            let mut next = o.clone();
            for (op, a, b) in commit {
                if let Some(n) = step(&next, op, a, b) {
                    next = n;
                }
            }
            // A superset with repeats, as accumulated seeds and startup
            // preparation pass: every changed key twice, plus unchanged ones.
            let mut changed = o.changed_keys(&next);
            changed.extend(changed.clone());
            changed.extend(next.changed_keys(&Ontology::default()).into_iter().step_by(7));
            let fresh = GraphIndex::build(&next);
            if let Some(p) = g.patched(&o, &next, &changed) {
                prop_assert_eq!(&p, &fresh);
            }
            g = fresh;
            o = next;
        }
    }
}

#[test]
fn a_new_relation_label_asks_for_a_full_build() {
    let o = start();
    let g = GraphIndex::build(&o);
    let next = o.import([link(0, "brand_new", 3)]).unwrap().ontology;
    assert!(g.patched(&o, &next, &o.changed_keys(&next)).is_none());
    let next = o.import([link(0, "owns", 3)]).unwrap().ontology;
    assert_eq!(g.patched(&o, &next, &o.changed_keys(&next)).unwrap(), GraphIndex::build(&next));
}
