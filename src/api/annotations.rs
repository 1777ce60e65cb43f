//! Read-only GraphQL views of node annotations (`ObjectType.annotations`,
//! `Interface.annotations`). Annotations come in through `import` (an OBO
//! or OWL file, or a JSON/YAML document); the mutations do not set them
//! and keep them as they are. See docs/formats.md.

use async_graphql::SimpleObject;

use crate::model::Annotations;

/// One annotation of a node: a name (for ontology files, the OBO tag,
/// e.g. `synonym`, `xref`, `subset`, `comment`) and its values in file
/// order, each as the OBO file writes it after the tag.
#[derive(SimpleObject)]
pub struct Annotation {
    /// The annotation's name, e.g. `synonym`.
    pub name: String,
    /// Its values, in the order they were given.
    pub values: Vec<String>,
}

/// The annotations in name order, only those named in `names` when given.
pub fn select(annotations: &Annotations, names: Option<&[String]>) -> Vec<Annotation> {
    annotations
        .iter()
        .filter(|(n, _)| names.is_none_or(|ns| ns.contains(n)))
        .map(|(name, values)| Annotation { name: name.clone(), values: values.clone() })
        .collect()
}
