//! Field-level validation of single entities (no cross-entity checks: those
//! live in `ontology.rs`). Errors name the offending field so a client can
//! point at it, e.g. `properties[2].target`.

use std::collections::HashSet;

use super::types::{Annotations, DataType, Interface, LinkType, ObjectType, Property};
use crate::error::{Error, Result};

/// Longest accepted apiName; longer names are almost certainly mistakes.
pub const MAX_API_NAME: usize = 255;
pub const MAX_DISPLAY_NAME: usize = 1024;
pub const MAX_DESCRIPTION: usize = 64 * 1024;
/// Caps on list sizes inside one entity, so one request cannot build a
/// pathological node.
pub const MAX_PROPERTIES: usize = 2000;
pub const MAX_PARENTS: usize = 1000;
/// A node's `curie`: a CURIE or an IRI.
pub const MAX_CURIE: usize = 2048;
/// Annotations of one node: distinct names, values over all names, bytes
/// of one value, bytes of names and values together. In the Gene
/// Ontology (2021-12-15) the most any term has is 7 names, 483 values,
/// 36 KiB.
pub const MAX_ANNOTATION_NAMES: usize = 200;
pub const MAX_ANNOTATION_VALUES: usize = 10_000;
pub const MAX_ANNOTATION_VALUE: usize = 64 * 1024;
pub const MAX_ANNOTATION_BYTES: usize = 1024 * 1024;

/// `^[A-Za-z][A-Za-z0-9_]*$`, at most `MAX_API_NAME` bytes.
pub fn api_name(field: &str, name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok_first = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !ok_first || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        let shown: String = name.chars().take(40).collect();
        return Err(Error::bad_input(
            field,
            format!("{shown:?} is not a valid apiName (must match ^[A-Za-z][A-Za-z0-9_]*$)"),
        ));
    }
    if name.len() > MAX_API_NAME {
        return Err(Error::bad_input(field, format!("longer than {MAX_API_NAME} characters")));
    }
    Ok(())
}

pub fn display_name(field: &str, value: &str) -> Result<()> {
    max_len(field, value, MAX_DISPLAY_NAME)
}

pub fn description(field: &str, value: Option<&str>) -> Result<()> {
    value.map_or(Ok(()), |v| max_len(field, v, MAX_DESCRIPTION))
}

fn max_len(field: &str, value: &str, max: usize) -> Result<()> {
    if value.len() > max {
        return Err(Error::bad_input(field, format!("longer than {max} bytes")));
    }
    Ok(())
}

pub fn curie(field: &str, value: Option<&str>) -> Result<()> {
    let Some(v) = value else { return Ok(()) };
    if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::bad_input(field, "must be non-empty, without spaces or control characters"));
    }
    max_len(field, v, MAX_CURIE)
}

/// Annotation names: 1–255 bytes without spaces or control characters;
/// values: any text up to `MAX_ANNOTATION_VALUE`; the caps above.
pub fn annotations(field: &str, annotations: &Annotations) -> Result<()> {
    if annotations.len() > MAX_ANNOTATION_NAMES {
        return Err(Error::bad_input(field, format!("more than {MAX_ANNOTATION_NAMES} names")));
    }
    let (mut values, mut bytes) = (0, 0);
    for (name, vs) in annotations {
        let f = format!("{field}.{name}");
        if name.is_empty() || name.len() > MAX_API_NAME || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            let shown: String = name.chars().take(40).collect();
            return Err(Error::bad_input(
                field,
                format!("{shown:?} is not a valid annotation name (1 to {MAX_API_NAME} bytes, no spaces)"),
            ));
        }
        if vs.is_empty() {
            return Err(Error::bad_input(f, "an annotation has at least one value"));
        }
        values += vs.len();
        bytes += name.len();
        for v in vs {
            max_len(&f, v, MAX_ANNOTATION_VALUE)?;
            bytes += v.len();
        }
    }
    if values > MAX_ANNOTATION_VALUES {
        return Err(Error::bad_input(field, format!("more than {MAX_ANNOTATION_VALUES} values")));
    }
    if bytes > MAX_ANNOTATION_BYTES {
        return Err(Error::bad_input(field, format!("longer than {MAX_ANNOTATION_BYTES} bytes in all")));
    }
    Ok(())
}

/// A list of apiNames: each valid, no duplicates, not `own` (no self-loop).
pub fn name_list(field: &str, names: &[String], own: Option<&str>) -> Result<()> {
    if names.len() > MAX_PARENTS {
        return Err(Error::bad_input(field, format!("more than {MAX_PARENTS} entries")));
    }
    let mut seen = HashSet::new();
    for (i, n) in names.iter().enumerate() {
        let f = format!("{field}[{i}]");
        api_name(&f, n)?;
        if Some(n.as_str()) == own {
            return Err(Error::bad_input(f, format!("{n} cannot reference itself")));
        }
        if !seen.insert(n) {
            return Err(Error::bad_input(f, format!("duplicate entry {n}")));
        }
    }
    Ok(())
}

pub fn properties(field: &str, props: &[Property]) -> Result<()> {
    if props.len() > MAX_PROPERTIES {
        return Err(Error::bad_input(field, format!("more than {MAX_PROPERTIES} properties")));
    }
    let mut seen = HashSet::new();
    for (i, p) in props.iter().enumerate() {
        let f = format!("{field}[{i}]");
        api_name(&format!("{f}.apiName"), &p.api_name)?;
        if !seen.insert(p.api_name.as_str()) {
            return Err(Error::bad_input(format!("{f}.apiName"), format!("duplicate property {}", p.api_name)));
        }
        if let Some(d) = &p.display_name {
            display_name(&format!("{f}.displayName"), d)?;
        }
        description(&format!("{f}.description"), p.description.as_deref())?;
        match (p.data_type, &p.target) {
            (DataType::Reference, None) => {
                return Err(Error::bad_input(
                    format!("{f}.target"),
                    "a REFERENCE property must name its target object type",
                ))
            }
            (DataType::Reference, Some(t)) => api_name(&format!("{f}.target"), t)?,
            (_, Some(_)) => {
                return Err(Error::bad_input(format!("{f}.target"), "only REFERENCE properties have a target"))
            }
            (_, None) => {}
        }
    }
    Ok(())
}

pub fn object_type(o: &ObjectType) -> Result<()> {
    api_name("apiName", &o.api_name)?;
    display_name("displayName", &o.display_name)?;
    description("description", o.description.as_deref())?;
    properties("properties", &o.properties)?;
    name_list("extends", &o.extends, Some(&o.api_name))?;
    name_list("implements", &o.implements, None)?;
    curie("curie", o.curie.as_deref())?;
    annotations("annotations", &o.annotations)
}

pub fn interface(i: &Interface) -> Result<()> {
    api_name("apiName", &i.api_name)?;
    display_name("displayName", &i.display_name)?;
    description("description", i.description.as_deref())?;
    properties("properties", &i.properties)?;
    name_list("extends", &i.extends, Some(&i.api_name))?;
    curie("curie", i.curie.as_deref())?;
    annotations("annotations", &i.annotations)
}

pub fn link_type(l: &LinkType) -> Result<()> {
    api_name("apiName", &l.api_name)?;
    api_name("source", &l.source)?;
    api_name("target", &l.target)?;
    display_name("displayName", &l.display_name)?;
    description("description", l.description.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_name_pattern() {
        for ok in ["a", "Employee", "part_of", "X1_2"] {
            assert!(api_name("f", ok).is_ok(), "{ok}");
        }
        for bad in ["", "1a", "_a", "a-b", "a.b", "é", "a b"] {
            let err = api_name("f", bad).unwrap_err();
            assert_eq!(err.code(), Error::BAD_USER_INPUT, "{bad}");
        }
        assert!(api_name("f", &"a".repeat(MAX_API_NAME + 1)).is_err());
    }

    #[test]
    fn reference_needs_target_and_only_reference_has_one() {
        let mut p = Property {
            api_name: "owner".into(),
            display_name: None,
            data_type: DataType::Reference,
            target: None,
            required: false,
            unique: false,
            array: false,
            description: None,
        };
        let err = properties("properties", std::slice::from_ref(&p)).unwrap_err();
        assert!(err.to_string().starts_with("properties[0].target:"), "{err}");
        p.data_type = DataType::String;
        p.target = Some("Person".into());
        assert!(properties("properties", &[p]).is_err());
    }

    #[test]
    fn duplicate_property_names_rejected() {
        let p = Property {
            api_name: "name".into(),
            display_name: None,
            data_type: DataType::String,
            target: None,
            required: true,
            unique: false,
            array: false,
            description: None,
        };
        let err = properties("properties", &[p.clone(), p]).unwrap_err();
        assert!(err.to_string().starts_with("properties[1].apiName:"), "{err}");
    }

    #[test]
    fn annotation_limits() {
        let mut a = Annotations::new();
        a.insert("synonym".into(), vec!["x".into()]);
        assert!(annotations("annotations", &a).is_ok());
        a.insert("has space".into(), vec!["x".into()]);
        let err = annotations("annotations", &a).unwrap_err().to_string();
        assert_eq!(err, "annotations: \"has space\" is not a valid annotation name (1 to 255 bytes, no spaces)");
        a.remove("has space");
        a.insert("empty".into(), vec![]);
        let err = annotations("annotations", &a).unwrap_err().to_string();
        assert_eq!(err, "annotations.empty: an annotation has at least one value");
        a.insert("empty".into(), vec!["v".repeat(MAX_ANNOTATION_VALUE + 1)]);
        let err = annotations("annotations", &a).unwrap_err().to_string();
        assert_eq!(err, format!("annotations.empty: longer than {MAX_ANNOTATION_VALUE} bytes"));
        a.insert("empty".into(), vec!["v".into(); MAX_ANNOTATION_VALUES]);
        let err = annotations("annotations", &a).unwrap_err().to_string();
        assert_eq!(err, format!("annotations: more than {MAX_ANNOTATION_VALUES} values"));
        a.insert("empty".into(), vec!["v".repeat(MAX_ANNOTATION_VALUE); 17]);
        let err = annotations("annotations", &a).unwrap_err().to_string();
        assert_eq!(err, format!("annotations: longer than {MAX_ANNOTATION_BYTES} bytes in all"));
        let many: Annotations = (0..=MAX_ANNOTATION_NAMES).map(|i| (format!("n{i}"), vec!["v".into()])).collect();
        assert!(annotations("annotations", &many).is_err());
        assert!(curie("curie", Some("GO:0008150")).is_ok());
        assert!(curie("curie", Some("GO 0008150")).is_err());
        assert!(curie("curie", Some("")).is_err());
    }

    #[test]
    fn self_extension_and_duplicates_rejected() {
        assert!(name_list("extends", &["A".into()], Some("A")).is_err());
        assert!(name_list("extends", &["B".into(), "B".into()], Some("A")).is_err());
        assert!(name_list("extends", &["B".into(), "C".into()], Some("A")).is_ok());
    }
}
