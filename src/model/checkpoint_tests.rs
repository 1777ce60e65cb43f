use std::sync::Arc;

use super::*;
use crate::model::{demo, Document, EntityKind};

fn all(o: &Ontology) -> Vec<Entity> {
    o.entities().collect()
}

/// Every field and every variant of every enum, set and unset.
fn every_field() -> Vec<Entity> {
    use DataType as D;
    let types = [D::String, D::Integer, D::Decimal, D::Boolean, D::Date, D::Datetime, D::Json, D::Reference];
    let properties: Vec<Property> = types
        .iter()
        .enumerate()
        .map(|(i, &data_type)| Property {
            api_name: format!("p{i}"),
            display_name: (i % 2 == 0).then(|| format!("P {i} ✓")),
            data_type,
            target: (data_type == D::Reference).then(|| "Thing".to_owned()),
            required: i & 1 != 0,
            unique: i & 2 != 0,
            array: i & 4 != 0,
            description: (i % 3 == 0).then(|| "a\nmultiline \"description\"".to_owned()),
        })
        .collect();
    let mut annotations = Annotations::new();
    annotations.insert("synonym".into(), vec!["\"x\" EXACT []".into(), String::new()]);
    annotations.insert("xref".into(), vec![]);
    let statuses = [Status::Active, Status::Experimental, Status::Deprecated];
    let mut out: Vec<Entity> = statuses
        .iter()
        .enumerate()
        .map(|(i, &status)| {
            Entity::ObjectType(Arc::new(ObjectType {
                api_name: format!("Every{i}"),
                display_name: String::new(),
                description: (i == 1).then(|| "d".into()),
                status,
                properties: properties.clone(),
                extends: vec!["Thing".into()],
                implements: vec!["Named".into()],
                curie: (i == 0).then(|| "GO:0008150".into()),
                annotations: if i == 2 { annotations.clone() } else { Annotations::new() },
                version: 1 + i as i64 * 1_000_000_007,
            }))
        })
        .collect();
    out.push(Entity::ObjectType(Arc::new(ObjectType {
        api_name: "Thing".into(),
        display_name: "Thing".into(),
        description: None,
        status: Status::Active,
        properties: vec![],
        extends: vec![],
        implements: vec![],
        curie: None,
        annotations: Annotations::new(),
        version: 3,
    })));
    out.push(Entity::Interface(Arc::new(Interface {
        api_name: "Named".into(),
        display_name: "Named things".into(),
        description: Some("has a name".into()),
        extends: vec![],
        properties,
        curie: Some("http://example.org/Named".into()),
        annotations,
        version: 7,
    })));
    let cardinalities =
        [Cardinality::OneToOne, Cardinality::OneToMany, Cardinality::ManyToOne, Cardinality::ManyToMany];
    for (i, &cardinality) in cardinalities.iter().enumerate() {
        out.push(Entity::LinkType(Arc::new(LinkType {
            api_name: format!("rel{i}"),
            source: "Every0".into(),
            target: "Thing".into(),
            cardinality,
            display_name: format!("rel {i}"),
            description: (i == 3).then(|| "last".into()),
            status: statuses[i % 3],
            version: i as i64 + 1,
        })));
    }
    out
}

fn generated(types: usize) -> Vec<Entity> {
    let mut buf = vec![];
    crate::cli::generate(types, 5, &mut buf).unwrap();
    let doc: Document = serde_json::from_slice(&buf).unwrap();
    doc.into_entities().chain(demo().into_entities()).chain(every_field()).collect()
}

#[test]
fn a_state_decodes_to_exactly_itself() {
    for entities in [vec![], every_field(), generated(1_500)] {
        let o = Ontology::from_entities(entities);
        let bytes = encode(&o);
        for threads in [1, 2, 5] {
            let back = decode(&bytes, threads).expect("readable");
            assert_eq!(all(&back), all(&o));
            for e in o.entities().filter(|e| e.kind() != EntityKind::LinkType) {
                let id = e.id();
                assert_eq!(back.referrers(&id).collect::<Vec<_>>(), o.referrers(&id).collect::<Vec<_>>(), "{id}");
            }
        }
    }
}

#[test]
fn many_sections_decode_in_order_on_any_number_of_threads() {
    let o = Ontology::from_entities(generated(300));
    let n = o.entities().count();
    for per in [1, 7, n - 1, n, n + 1] {
        let bytes = encode_in_sections(&o, per);
        for threads in [1, 2, 3, 64] {
            assert_eq!(all(&decode(&bytes, threads).expect("readable")), all(&o), "{per} per section");
        }
    }
}

/// A cut or damaged checkpoint is an error (the engine then loads from
/// the rows), never a panic or a huge allocation.
#[test]
fn cut_or_damaged_bytes_are_refused_without_panicking() {
    let o = Ontology::from_entities(every_field());
    let bytes = encode_in_sections(&o, 3);
    assert_eq!(decode(b"OGCKPT99", 1).err(), Some(Unreadable("unknown format")));
    assert!(decode(b"", 1).is_err());
    for cut in MAGIC.len() + 1..bytes.len() {
        assert!(decode(&bytes[..cut], 2).is_err(), "cut at {cut}");
    }
    // Every single-byte change either is refused or decodes to some state.
    for i in MAGIC.len()..bytes.len() {
        for delta in [1u8, 0x80, 0xff] {
            let mut bad = bytes.clone();
            bad[i] = bad[i].wrapping_add(delta);
            let _ = decode(&bad, 2);
        }
    }
    // A count claiming far more than is there.
    let mut huge = MAGIC.to_vec();
    uint(&mut huge, u64::MAX >> 1);
    uint(&mut huge, 3);
    huge.extend([0, 1, 0]);
    assert!(decode(&huge, 1).is_err());
}
