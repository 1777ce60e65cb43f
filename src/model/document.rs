//! The import/export document (`{ objectTypes, interfaces, linkTypes }`).
//! Export is deterministic (entities in id order, fixed field order), so
//! export → import → export is byte-identical.

use serde::{Deserialize, Serialize};

use super::ontology::{Entity, Ontology};
use super::types::{Interface, LinkType, ObjectType};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Document {
    #[serde(default)]
    pub object_types: Vec<ObjectType>,
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    #[serde(default)]
    pub link_types: Vec<LinkType>,
}

/// A borrowed view of an ontology that serializes as a `Document`
/// without copying a million entities first.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentRef<'a> {
    pub object_types: Vec<&'a ObjectType>,
    pub interfaces: Vec<&'a Interface>,
    pub link_types: Vec<&'a LinkType>,
}

impl<'a> DocumentRef<'a> {
    pub fn of(o: &'a Ontology) -> Self {
        DocumentRef {
            object_types: o.object_types_after(None).map(|x| x.as_ref()).collect(),
            interfaces: o.interfaces_after(None).map(|x| x.as_ref()).collect(),
            link_types: o.link_types_after(None).map(|x| x.as_ref()).collect(),
        }
    }
}

impl Document {
    pub fn len(&self) -> usize {
        self.object_types.len() + self.interfaces.len() + self.link_types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entities in dependency-friendly order (interfaces, object types,
    /// link types); `Ontology::import` checks references on the final state
    /// anyway.
    pub fn into_entities(self) -> impl Iterator<Item = Entity> {
        let i = self.interfaces.into_iter().map(|x| Entity::Interface(x.into()));
        let o = self.object_types.into_iter().map(|x| Entity::ObjectType(x.into()));
        let l = self.link_types.into_iter().map(|x| Entity::LinkType(x.into()));
        i.chain(o).chain(l)
    }
}

/// The demo ontology seeded into an empty database so GraphiQL has
/// something to explore.
pub fn demo() -> Document {
    serde_json::from_str(include_str!("demo.json")).expect("demo.json is a valid document")
}
