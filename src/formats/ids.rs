//! Ontology identifiers ↔ apiNames. Both mappings are injective and
//! reversible (`node_id(node_name(x)) == x`), deterministic, and leave the
//! common cases readable:
//!
//! | id | node apiName | relation apiName |
//! |---|---|---|
//! | `GO:0008150` (prefix and local part alphanumeric, local part may hold single `_`) | `GO_0008150` | `GO__0008150` (local part alphanumeric) |
//! | `part_of` (unprefixed) | `X__part_5Fof` (only alphanumeric ids stay as they are) | `part_of` |
//! | anything else | `X__` + the id with each byte outside `[A-Za-z0-9]` as `_HH` | the same |
//!
//! The forms cannot meet: a node name either has no `_` (unprefixed),
//! exactly one `_` and no `__` (prefixed), or starts with `X__` followed
//! by an escape; a relation name has no `__` (plain), exactly one `__`
//! between two alphanumeric parts (prefixed), or starts with `X__` and
//! has `_` after it (escaped). Relation names that the graph uses itself
//! (`extends`, `implements`, `references`) and those starting with
//! `intersection_of` (the logical-definition links, see `obo.rs`) are
//! escaped. Each inverse re-encodes its answer and refuses a name that is
//! not the image of an id.

use crate::model::validate::MAX_API_NAME;

fn alnum(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn letter_first(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
}

/// Alphanumeric runs joined by single underscores.
fn segments(s: &str) -> bool {
    s.split('_').all(alnum)
}

const ESCAPED: &str = "X__";

fn escape(id: &str) -> String {
    let mut out = String::from(ESCAPED);
    for (i, b) in id.bytes().enumerate() {
        // An escape always holds at least one `_HH` (the first byte when
        // nothing else needs one), so it never looks like `P__L`.
        let plain = b.is_ascii_alphanumeric() && !(i == 0 && alnum(id));
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02X}"));
        }
    }
    out
}

fn unescape(body: &str) -> Option<String> {
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' {
            let hex = body.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn checked(name: String, id: &str) -> Result<String, String> {
    if name.len() > MAX_API_NAME {
        return Err(format!("id {id} makes an apiName longer than {MAX_API_NAME} characters ({name})"));
    }
    Ok(name)
}

/// The apiName of a term (object type) or other node with id `id`.
pub fn node_name(id: &str) -> Result<String, String> {
    let name = match id.split_once(':') {
        Some((p, l)) if letter_first(p) && alnum(p) && segments(l) => format!("{p}_{l}"),
        None if letter_first(id) && alnum(id) => id.to_owned(),
        _ => escape(id),
    };
    checked(name, id)
}

/// The id whose node apiName is `name`; `None` when no id maps to it.
pub fn node_id(name: &str) -> Option<String> {
    let id = match name.strip_prefix(ESCAPED) {
        Some(body) => unescape(body)?,
        None => match name.split_once('_') {
            Some((p, l)) => format!("{p}:{l}"),
            None => name.to_owned(),
        },
    };
    (node_name(&id).ok()? == name).then_some(id)
}

const RESERVED: [&str; 3] = ["extends", "implements", "references"];

/// The apiName of a relation (link types, and the interface an OBO
/// Typedef becomes) with id `id`.
pub fn relation_name(id: &str) -> Result<String, String> {
    let plain = letter_first(id)
        && segments(id)
        && !RESERVED.contains(&id)
        && !id.starts_with("intersection_of")
        && !id.starts_with(ESCAPED);
    let name = if plain {
        id.to_owned()
    } else {
        match id.split_once(':') {
            Some((p, l)) if letter_first(p) && alnum(p) && alnum(l) => format!("{p}__{l}"),
            _ => escape(id),
        }
    };
    checked(name, id)
}

/// The id whose relation apiName is `name`; `None` when no id maps to it.
pub fn relation_id(name: &str) -> Option<String> {
    // `X__abc` is the prefixed `X:abc`; an escape has `_` after `X__`.
    let escaped = name.strip_prefix(ESCAPED).and_then(unescape);
    let plain = match name.split_once("__") {
        Some((p, l)) => format!("{p}:{l}"),
        None => name.to_owned(),
    };
    escaped.into_iter().chain([plain]).find(|id| relation_name(id).ok().as_deref() == Some(name))
}

/// An OBO PURL (`http://purl.obolibrary.org/obo/GO_0008150`) as a CURIE
/// (`GO:0008150`); `None` for any other IRI.
pub fn curie_of_purl(iri: &str) -> Option<String> {
    let local = iri.strip_prefix(OBO_PURL)?;
    let (p, l) = local.split_once('_')?;
    (letter_first(p) && alnum(p) && !l.is_empty() && !l.contains(['/', '#'])).then(|| format!("{p}:{l}"))
}

pub const OBO_PURL: &str = "http://purl.obolibrary.org/obo/";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::validate;

    #[test]
    fn node_names() {
        for (id, name) in [
            ("GO:0008150", "GO_0008150"),
            ("NCBITaxon:9606", "NCBITaxon_9606"),
            ("CHEBI:foo_bar", "CHEBI_foo_bar"),
            ("Employee", "Employee"),
            ("GO_0008150", "X__GO_5F0008150"),
            ("part_of", "X__part_5Fof"),
            ("abc", "abc"),
            ("PR:Q9-1", "X__PR_3AQ9_2D1"),
            ("0001", "X___30001"),
            ("http://x.org/a#b", "X__http_3A_2F_2Fx_2Eorg_2Fa_23b"),
            ("A:_b", "X__A_3A_5Fb"),
            ("A:b__c", "X__A_3Ab_5F_5Fc"),
        ] {
            assert_eq!(node_name(id).unwrap(), name, "{id}");
            assert_eq!(node_id(name).as_deref(), Some(id), "{name}");
            validate::api_name("f", name).unwrap();
        }
        for not_an_image in ["Foo__bar", "Foo_", "X__abc", "X__a_ZZ", "GO_"] {
            assert_eq!(node_id(not_an_image), None, "{not_an_image}");
        }
    }

    #[test]
    fn relation_names() {
        for (id, name) in [
            ("part_of", "part_of"),
            ("negatively_regulates", "negatively_regulates"),
            ("BFO:0000050", "BFO__0000050"),
            ("has:prefix", "has__prefix"),
            ("extends", "X___65xtends"),
            ("intersection_of", "X__intersection_5Fof"),
            ("X:abc", "X__abc"),
            ("a__b", "X__a_5F_5Fb"),
            ("RO:HOM0000007", "RO__HOM0000007"),
            ("uberon/core#subdivision_of", "X__uberon_2Fcore_23subdivision_5Fof"),
        ] {
            assert_eq!(relation_name(id).unwrap(), name, "{id}");
            assert_eq!(relation_id(name).as_deref(), Some(id), "{name}");
            validate::api_name("f", name).unwrap();
        }
        assert_eq!(relation_id("intersection_of"), None);
        assert_eq!(relation_id("intersection_of__part_of"), None);
    }

    #[test]
    fn too_long() {
        let id = format!("http://example.org/{}", "a/".repeat(100));
        assert!(node_name(&id).unwrap_err().contains("longer than 255"));
    }

    #[test]
    fn purls() {
        assert_eq!(curie_of_purl("http://purl.obolibrary.org/obo/GO_0008150").as_deref(), Some("GO:0008150"));
        assert_eq!(curie_of_purl("http://purl.obolibrary.org/obo/go#part_of"), None);
        assert_eq!(curie_of_purl("http://example.org/GO_1"), None);
    }
}
