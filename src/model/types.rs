//! Ontology entities as stored and exchanged. Serde names follow the
//! import/export document (camelCase, references by apiName). `version` is
//! not part of the document: the store keeps it beside the body.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Annotations of a node: name → values, names in order, values in the
/// order they were given. What an ontology file says about a term that
/// has no field of its own (OBO `synonym`, `xref`, `subset`, `comment`,
/// …; see docs/formats.md). Empty for most hand-made entities, and then
/// absent from the document.
pub type Annotations = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    #[default]
    Active,
    Experimental,
    Deprecated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DataType {
    String,
    Integer,
    Decimal,
    Boolean,
    Date,
    Datetime,
    Json,
    Reference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Cardinality {
    OneToOne,
    OneToMany,
    #[default]
    ManyToOne,
    ManyToMany,
}

/// What kind of entity a change or record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityKind {
    ObjectType,
    Interface,
    LinkType,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::ObjectType => "OBJECT_TYPE",
            EntityKind::Interface => "INTERFACE",
            EntityKind::LinkType => "LINK_TYPE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "OBJECT_TYPE" => EntityKind::ObjectType,
            "INTERFACE" => EntityKind::Interface,
            "LINK_TYPE" => EntityKind::LinkType,
            _ => return None,
        })
    }
}

/// An entity's identity on a branch.
pub type EntityKey = (EntityKind, String);

fn is_false(b: &bool) -> bool {
    !*b
}

/// A property, embedded in its owner (object type or interface).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Property {
    pub api_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub data_type: DataType,
    /// Target object type, only for `REFERENCE` properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub array: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A node: a kind of thing in the ontology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectType {
    pub api_name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Status,
    #[serde(default)]
    pub properties: Vec<Property>,
    #[serde(default)]
    pub extends: Vec<String>,
    #[serde(default)]
    pub implements: Vec<String>,
    /// The identifier in the ontology file this node came from: a CURIE
    /// (`GO:0008150`), an unprefixed OBO id (`part_of`) or a full IRI.
    /// None for nodes made here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curie: Option<String>,
    #[serde(default, skip_serializing_if = "Annotations::is_empty")]
    pub annotations: Annotations,
    #[serde(skip)]
    pub version: i64,
}

/// A node: a shape that object types implement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Interface {
    pub api_name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub extends: Vec<String>,
    #[serde(default)]
    pub properties: Vec<Property>,
    /// The identifier in the ontology file this node came from: a CURIE
    /// (`GO:0008150`), an unprefixed OBO id (`part_of`) or a full IRI.
    /// None for nodes made here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curie: Option<String>,
    #[serde(default, skip_serializing_if = "Annotations::is_empty")]
    pub annotations: Annotations,
    #[serde(skip)]
    pub version: i64,
}

/// An edge between object types. Identity: (source, apiName, target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkType {
    pub api_name: String,
    pub source: String,
    pub target: String,
    #[serde(default)]
    pub cardinality: Cardinality,
    #[serde(default)]
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Status,
    #[serde(skip)]
    pub version: i64,
}

impl LinkType {
    /// The GraphQL id: `"{source}.{apiName}.{target}"`.
    pub fn id(&self) -> String {
        link_id(&self.source, &self.api_name, &self.target)
    }
}

pub fn link_id(source: &str, api_name: &str, target: &str) -> String {
    format!("{source}.{api_name}.{target}")
}

/// Split a link type id into (source, apiName, target). apiNames never
/// contain dots, so the split is unambiguous.
pub fn parse_link_id(id: &str) -> Option<(&str, &str, &str)> {
    let mut parts = id.split('.');
    let (s, a, t) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next().is_none().then_some((s, a, t))
}

/// Either kind of node, borrowed from a snapshot.
#[derive(Debug, Clone, Copy)]
pub enum NodeRef<'a> {
    ObjectType(&'a ObjectType),
    Interface(&'a Interface),
}
