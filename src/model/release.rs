//! Importing a whole ontology release onto a branch: the branch becomes
//! what the file says. Entities of the file are created or replaced as
//! `Ontology::import` does (unchanged ones untouched); what the branch
//! holds and the file does not is kept, obsoleted or deleted (`Absent`).
//! One pass over the branch, so O(size), like the import itself.

use std::collections::HashSet;
use std::sync::Arc;

use super::change::Draft;
use super::ontology::{Entity, Ontology};
use super::types::{EntityKind, ObjectType, Status};
use super::Applied;
use crate::error::Result;

/// What a release import does with entities the file does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absent {
    /// Leave them as they are (the JSON/YAML import).
    Keep,
    /// OBO practice: an identifier, once released, is never withdrawn. An
    /// absent object type stays, `DEPRECATED`, without `extends` and
    /// `implements` (an obsolete term has no logical axioms); absent link
    /// types and interfaces are deleted (edges and relation vocabulary
    /// follow the file).
    Obsolete,
    /// Delete every absent entity.
    Delete,
}

impl Ontology {
    /// Make this state hold `entities` (see `Absent` for the rest), as
    /// one batch: integrity is checked on the result.
    pub fn import_release(&self, entities: Vec<Entity>, absent: Absent) -> Result<Applied> {
        let mut draft = Draft::new(self);
        let mut present: HashSet<(EntityKind, String)> = HashSet::with_capacity(entities.len());
        for e in entities {
            if absent != Absent::Keep {
                present.insert((e.kind(), e.id()));
            }
            draft.upsert(e)?;
        }
        if absent != Absent::Keep {
            let gone: Vec<Entity> = self.entities().filter(|e| !present.contains(&(e.kind(), e.id()))).collect();
            for e in gone {
                match (absent, e) {
                    (Absent::Obsolete, Entity::ObjectType(o)) => {
                        let obsolete = ObjectType {
                            status: Status::Deprecated,
                            extends: vec![],
                            implements: vec![],
                            version: o.version + 1,
                            ..ObjectType::clone(&o)
                        };
                        let unchanged = ObjectType { version: o.version + 1, ..ObjectType::clone(&o) };
                        if obsolete != unchanged {
                            draft.put(Entity::ObjectType(Arc::new(obsolete)));
                        }
                    }
                    (_, e) => draft.remove(e.kind(), &e.id()),
                }
            }
        }
        draft.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Document;

    fn doc(json: serde_json::Value) -> Vec<Entity> {
        serde_json::from_value::<Document>(json).unwrap().into_entities().collect()
    }

    fn base() -> Ontology {
        let entities = doc(serde_json::json!({
            "interfaces": [{ "apiName": "part_of" }],
            "objectTypes": [{ "apiName": "A" }, { "apiName": "B", "extends": ["A"] }, { "apiName": "C", "extends": ["A"] }],
            "linkTypes": [{ "apiName": "part_of", "source": "C", "target": "A" }],
        }));
        Ontology::default().import(entities).unwrap().ontology
    }

    fn changes(a: &Applied) -> Vec<(String, &'static str, Vec<String>)> {
        a.changes.iter().map(|c| (c.id.clone(), c.change.as_str(), c.fields.clone())).collect()
    }

    #[test]
    fn absent_entities_are_kept_obsoleted_or_deleted() {
        let o = base();
        // The next file: A unchanged, B re-parented to nothing, C and the
        // link and the relation gone, D new.
        let next = doc(
            serde_json::json!({ "objectTypes": [{ "apiName": "A" }, { "apiName": "B" }, { "apiName": "D", "extends": ["A"] }] }),
        );
        let kept = o.import_release(next.clone(), Absent::Keep).unwrap();
        assert_eq!(changes(&kept), [("B".into(), "MODIFIED", vec!["extends".into()]), ("D".into(), "ADDED", vec![])]);
        let obsoleted = o.import_release(next.clone(), Absent::Obsolete).unwrap();
        assert_eq!(
            changes(&obsoleted),
            [
                ("B".into(), "MODIFIED", vec!["extends".into()]),
                ("C".into(), "MODIFIED", vec!["extends".into(), "status".into()]),
                ("D".into(), "ADDED", vec![]),
                ("part_of".into(), "DELETED", vec![]),
                ("C.part_of.A".into(), "DELETED", vec![]),
            ]
        );
        let c = obsoleted.ontology.object_type("C").unwrap();
        assert_eq!((c.status, c.extends.len(), c.version), (Status::Deprecated, 0, 2));
        // Importing the same release again changes nothing.
        assert!(obsoleted.ontology.import_release(next.clone(), Absent::Obsolete).unwrap().changes.is_empty());
        let deleted = o.import_release(next, Absent::Delete).unwrap();
        assert_eq!(
            changes(&deleted),
            [
                ("B".into(), "MODIFIED", vec!["extends".into()]),
                ("C".into(), "DELETED", vec![]),
                ("D".into(), "ADDED", vec![]),
                ("part_of".into(), "DELETED", vec![]),
                ("C.part_of.A".into(), "DELETED", vec![]),
            ]
        );
    }
}
