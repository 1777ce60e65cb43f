//! `ontograph generate`: a synthetic ontology document with a realistic
//! shape, for tests and benchmarks. Deterministic for a given seed.
//! Shape: inheritance forests (most types extend one earlier type), a few
//! interfaces, 2-5 properties per type (some REFERENCE), and ~4 link
//! types per object type whose targets follow a power law, so a few hub
//! types collect most incoming links. Streams its output: memory stays
//! flat however many types are asked for.

use std::collections::HashSet;
use std::io::Write;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::model::{Cardinality, DataType, Interface, LinkType, ObjectType, Property, Status};

const RELATIONS: [&str; 16] = [
    "owns",
    "part_of",
    "depends_on",
    "references",
    "manages",
    "contains",
    "produces",
    "consumes",
    "assigned_to",
    "located_in",
    "derived_from",
    "supplies",
    "reports_to",
    "member_of",
    "governs",
    "links_to",
];
const LINKS_PER_TYPE: usize = 4;
const SCALARS: [DataType; 7] = [
    DataType::String,
    DataType::Integer,
    DataType::Decimal,
    DataType::Boolean,
    DataType::Date,
    DataType::Datetime,
    DataType::Json,
];

pub fn type_name(i: usize) -> String {
    format!("T{i}")
}

/// Index of a link target: skewed towards low indices (hubs).
fn power_law(rng: &mut SmallRng, n: usize) -> usize {
    let u: f64 = rng.random();
    ((n as f64) * u.powi(3)) as usize % n
}

/// Write the document for `n` object types to `out`.
pub fn generate(n: usize, seed: u64, out: &mut impl Write) -> anyhow::Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let n_ifaces = (n / 1000).clamp(3, 50);
    write!(out, "{{\"interfaces\":[")?;
    for i in 0..n_ifaces {
        let extends = if i > 0 && rng.random_bool(0.3) { vec![format!("I{}", rng.random_range(0..i))] } else { vec![] };
        let iface = Interface {
            api_name: format!("I{i}"),
            display_name: format!("Interface {i}"),
            description: None,
            extends,
            properties: vec![property("name", DataType::String, None, true)],
            curie: None,
            annotations: Default::default(),
            version: 0,
        };
        sep(out, i)?;
        serde_json::to_writer(&mut *out, &iface)?;
    }
    write!(out, "],\"objectTypes\":[")?;
    for i in 0..n {
        // Forests: a parent among the previous 1000 types keeps trees deep-ish.
        let extends = if i > 0 && rng.random_bool(0.7) {
            vec![type_name(rng.random_range(i.saturating_sub(1000)..i))]
        } else {
            vec![]
        };
        let implements =
            if rng.random_bool(0.3) { vec![format!("I{}", rng.random_range(0..n_ifaces))] } else { vec![] };
        let mut properties = vec![];
        for p in 0..rng.random_range(2..=5) {
            let target = (n > 1 && rng.random_bool(0.1)).then(|| type_name(rng.random_range(0..n)));
            let dt = if target.is_some() { DataType::Reference } else { SCALARS[rng.random_range(0..SCALARS.len())] };
            properties.push(property(&format!("p{p}"), dt, target, p == 0));
        }
        let ot = ObjectType {
            api_name: type_name(i),
            display_name: format!("Type {i}"),
            description: None,
            status: if rng.random_bool(0.05) { Status::Deprecated } else { Status::Active },
            properties,
            extends,
            implements,
            curie: None,
            annotations: Default::default(),
            version: 0,
        };
        sep(out, i)?;
        serde_json::to_writer(&mut *out, &ot)?;
    }
    write!(out, "],\"linkTypes\":[")?;
    let mut seen = HashSet::new();
    let mut written = 0;
    if n > 0 {
        for _ in 0..n * LINKS_PER_TYPE * 2 {
            if written == n * LINKS_PER_TYPE {
                break;
            }
            let (s, r, t) = (rng.random_range(0..n), rng.random_range(0..RELATIONS.len()), power_law(&mut rng, n));
            if !seen.insert((s, r, t)) {
                continue;
            }
            let lt = LinkType {
                api_name: RELATIONS[r].into(),
                source: type_name(s),
                target: type_name(t),
                cardinality: Cardinality::ManyToOne,
                display_name: RELATIONS[r].into(),
                description: None,
                status: Status::Active,
                version: 0,
            };
            sep(out, written)?;
            serde_json::to_writer(&mut *out, &lt)?;
            written += 1;
        }
    }
    writeln!(out, "]}}")?;
    Ok(())
}

fn sep(out: &mut impl Write, i: usize) -> std::io::Result<()> {
    if i > 0 {
        out.write_all(b",\n")?;
    }
    Ok(())
}

fn property(name: &str, data_type: DataType, target: Option<String>, required: bool) -> Property {
    Property {
        api_name: name.into(),
        display_name: None,
        data_type,
        target,
        required,
        unique: false,
        array: false,
        description: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Document, Ontology};

    #[test]
    fn generated_document_is_valid_and_deterministic() {
        let (mut a, mut b) = (vec![], vec![]);
        generate(2000, 7, &mut a).unwrap();
        generate(2000, 7, &mut b).unwrap();
        assert_eq!(a, b);
        let doc: Document = serde_json::from_slice(&a).unwrap();
        assert_eq!((doc.object_types.len(), doc.link_types.len(), doc.interfaces.len()), (2000, 8000, 3));
        let o = Ontology::default().import(doc.into_entities()).expect("generated document is consistent");
        assert_eq!(o.ontology.object_type_count(), 2000);
        // Power-law targets: the busiest type has far more than the mean (4) incoming links.
        let max_in = (0..2000).map(|i| o.ontology.referrers(&type_name(i)).count()).max().unwrap();
        assert!(max_in > 40, "max incoming {max_in}");
    }
}
