//! Changes and how they apply. A batch of changes applies to a clone of the
//! branch head; cross-entity integrity is checked once, on the final state,
//! so a batch may create `B` after an `A` that extends it, or delete a node
//! together with the links that use it. The head itself is never touched:
//! the caller publishes the result only after it is durable.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ontology::{Entity, Ontology};
use super::types::{Cardinality, EntityKind, Interface, LinkType, ObjectType, Property, Status};
use super::validate;
use crate::error::{Error, Result};

/// One requested change. Updates and deletes carry the entity version the
/// client last saw (optimistic locking).
#[derive(Debug, Clone)]
pub enum Change {
    CreateObjectType(ObjectType),
    UpdateObjectType { api_name: String, expected_version: i64, patch: ObjectTypePatch },
    DeleteObjectType { api_name: String, expected_version: i64, cascade: bool },
    CreateInterface(Interface),
    UpdateInterface { api_name: String, expected_version: i64, patch: InterfacePatch },
    DeleteInterface { api_name: String, expected_version: i64, cascade: bool },
    CreateLinkType(LinkType),
    UpdateLinkType { id: String, expected_version: i64, patch: LinkTypePatch },
    DeleteLinkType { id: String, expected_version: i64 },
}

/// Fields to change on an object type; `None` leaves a field as it is.
/// `description: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ObjectTypePatch {
    pub display_name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<Status>,
    pub properties: Option<Vec<Property>>,
    pub extends: Option<Vec<String>>,
    pub implements: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct InterfacePatch {
    pub display_name: Option<String>,
    pub description: Option<Option<String>>,
    pub properties: Option<Vec<Property>>,
    pub extends: Option<Vec<String>>,
}

/// Link type identity (source, apiName, target) is immutable; these are not.
#[derive(Debug, Clone, Default)]
pub struct LinkTypePatch {
    pub cardinality: Option<Cardinality>,
    pub display_name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<Status>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ADDED" => ChangeKind::Added,
            "MODIFIED" => ChangeKind::Modified,
            "DELETED" => ChangeKind::Deleted,
            _ => return None,
        })
    }
}

/// What one commit did to one entity: the commit log's unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityChange {
    pub entity_kind: EntityKind,
    pub id: String,
    pub change: ChangeKind,
    /// Top-level fields that differ (MODIFIED only), in name order.
    pub fields: Vec<String>,
}

/// One durable commit of a branch: the unit of history (and of audit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRecord {
    pub branch: String,
    pub version: i64,
    pub author: Option<String>,
    pub message: Option<String>,
    pub timestamp: chrono::DateTime<chrono::Utc>,
    pub changes: Vec<EntityChange>,
}

/// The result of applying a batch: the next state and what changed.
#[derive(Debug)]
pub struct Applied {
    pub ontology: Ontology,
    pub changes: Vec<EntityChange>,
}

impl Ontology {
    /// Apply `changes` in order, all or nothing. When the batch has more
    /// than one change, error fields are prefixed with `changes[i].`.
    pub fn apply(&self, changes: &[Change]) -> Result<Applied> {
        let mut draft = Draft::new(self);
        for (i, change) in changes.iter().enumerate() {
            draft.apply(change).map_err(|e| match e {
                Error::BadUserInput { message, field: Some(f) } if changes.len() > 1 => Error::BadUserInput {
                    message: format!("changes[{i}].{message}"),
                    field: Some(format!("changes[{i}].{f}")),
                },
                e => e,
            })?;
        }
        draft.finish()
    }

    /// Bulk create-or-replace, as `import` does: an entity equal to the
    /// current one is left alone, a different one replaces it (version + 1).
    pub fn import(&self, entities: impl IntoIterator<Item = Entity>) -> Result<Applied> {
        if self.entity_count() == 0 {
            return self.import_into_empty(entities);
        }
        self.import_one_by_one(entities)
    }

    pub(super) fn import_one_by_one(&self, entities: impl IntoIterator<Item = Entity>) -> Result<Applied> {
        let mut draft = Draft::new(self);
        for e in entities {
            draft.upsert(e)?;
        }
        draft.finish()
    }

    /// `import` into an empty state, in bulk: the same result and the same
    /// first error as upserting one by one, without a persistent-map insert
    /// per entity (`from_entities` builds the maps from sorted runs).
    fn import_into_empty(&self, entities: impl IntoIterator<Item = Entity>) -> Result<Applied> {
        // The first entity (by document position) that is invalid alone.
        let mut invalid: Option<(usize, Error)> = None;
        // Names of object types and interfaces share one namespace; link
        // types have their own. Each entry keyed once (a link type's id is
        // built, not stored): (namespace, id, document position).
        let space = |e: &Entity| (e.kind() == EntityKind::LinkType) as u8;
        let mut all: Vec<((u8, String, usize), Entity)> = Vec::new();
        for (i, e) in entities.into_iter().enumerate() {
            let e = normalized(e, 1);
            if let Err(err) = validate_alone(&e) {
                invalid = Some((i, err));
                break;
            }
            all.push(((space(&e), e.id(), i), e));
        }
        // A name's entries in document order: the same content again is
        // nothing, another content the next version, another kind of node
        // AlreadyExists.
        all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut clash: Option<(usize, Error)> = None;
        let mut kept: Vec<Entity> = Vec::with_capacity(all.len());
        let mut last_id: Option<(u8, String)> = None;
        for ((space, id, i), e) in all {
            if last_id.as_ref().is_none_or(|(s, last)| (*s, last.as_str()) != (space, id.as_str())) {
                last_id = Some((space, id));
                kept.push(e);
                continue;
            }
            let cur = kept.last_mut().expect("a name seen has an entry");
            if cur.kind() != e.kind() {
                if clash.as_ref().is_none_or(|(j, _)| i < *j) {
                    clash = Some((i, Error::AlreadyExists(id)));
                }
            } else if !same_content(cur, &e) {
                *cur = normalized(e, cur.version() + 1);
            }
        }
        let first = match (invalid, clash) {
            (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
            (a, b) => a.or(b),
        };
        if let Some((_, err)) = first {
            return Err(err);
        }
        let touched = kept.iter().map(|e| (e.kind(), e.id())).collect();
        let next = Ontology::from_entities(kept);
        Draft { base: self, next, touched }.finish()
    }
}

/// The checks of one entity on its own; errors name the entity.
fn validate_alone(e: &Entity) -> Result<()> {
    let id = e.id();
    match e {
        Entity::ObjectType(o) => validate::object_type(o),
        Entity::Interface(i) => validate::interface(i),
        Entity::LinkType(l) => validate::link_type(l),
    }
    .map_err(|err| match err {
        Error::BadUserInput { message, field } => Error::BadUserInput { message: format!("{id}: {message}"), field },
        other => other,
    })
}

/// An ontology being changed: a copy of the base (cheap: persistent maps)
/// with the changes applied so far, and every entity they touched.
pub(super) struct Draft<'a> {
    base: &'a Ontology,
    pub(super) next: Ontology,
    touched: BTreeSet<(EntityKind, String)>,
}

fn check_version(what: &str, expected: i64, actual: i64) -> Result<()> {
    if expected != actual {
        return Err(Error::VersionConflict { what: what.to_owned(), expected, actual });
    }
    Ok(())
}

impl<'a> Draft<'a> {
    pub(super) fn new(base: &'a Ontology) -> Self {
        Draft { base, next: base.clone(), touched: BTreeSet::new() }
    }

    /// Every entity this transaction put or removed.
    pub(super) fn touched(&self) -> &BTreeSet<(EntityKind, String)> {
        &self.touched
    }

    pub(super) fn put(&mut self, e: Entity) {
        self.touched.insert((e.kind(), e.id()));
        self.next.put(e);
    }

    pub(super) fn remove(&mut self, kind: EntityKind, id: &str) {
        self.touched.insert((kind, id.to_owned()));
        self.next.remove(kind, id);
    }

    fn ensure_free(&self, api_name: &str) -> Result<()> {
        match self.next.node(api_name) {
            Some(_) => Err(Error::AlreadyExists(api_name.to_owned())),
            None => Ok(()),
        }
    }

    fn apply(&mut self, change: &Change) -> Result<()> {
        match change {
            Change::CreateObjectType(o) => {
                validate::object_type(o)?;
                self.ensure_free(&o.api_name)?;
                let display_name = or_api_name(&o.display_name, &o.api_name);
                self.put(Entity::ObjectType(Arc::new(ObjectType { version: 1, display_name, ..o.clone() })));
            }
            Change::UpdateObjectType { api_name, expected_version, patch } => {
                let cur = self
                    .next
                    .object_type(api_name)
                    .ok_or_else(|| Error::NotFound(format!("object type {api_name}")))?;
                check_version(api_name, *expected_version, cur.version)?;
                let mut o = ObjectType::clone(cur);
                patch_fields(patch.display_name.as_ref(), &mut o.display_name);
                patch_fields(patch.description.as_ref(), &mut o.description);
                patch_fields(patch.status.as_ref(), &mut o.status);
                patch_fields(patch.properties.as_ref(), &mut o.properties);
                patch_fields(patch.extends.as_ref(), &mut o.extends);
                patch_fields(patch.implements.as_ref(), &mut o.implements);
                validate::object_type(&o)?;
                o.version += 1;
                self.put(Entity::ObjectType(Arc::new(o)));
            }
            Change::DeleteObjectType { api_name, expected_version, cascade } => {
                let cur = self
                    .next
                    .object_type(api_name)
                    .ok_or_else(|| Error::NotFound(format!("object type {api_name}")))?;
                check_version(api_name, *expected_version, cur.version)?;
                self.delete_node(EntityKind::ObjectType, api_name, *cascade);
            }
            Change::CreateInterface(i) => {
                validate::interface(i)?;
                self.ensure_free(&i.api_name)?;
                let display_name = or_api_name(&i.display_name, &i.api_name);
                self.put(Entity::Interface(Arc::new(Interface { version: 1, display_name, ..i.clone() })));
            }
            Change::UpdateInterface { api_name, expected_version, patch } => {
                let cur =
                    self.next.interface(api_name).ok_or_else(|| Error::NotFound(format!("interface {api_name}")))?;
                check_version(api_name, *expected_version, cur.version)?;
                let mut i = Interface::clone(cur);
                patch_fields(patch.display_name.as_ref(), &mut i.display_name);
                patch_fields(patch.description.as_ref(), &mut i.description);
                patch_fields(patch.properties.as_ref(), &mut i.properties);
                patch_fields(patch.extends.as_ref(), &mut i.extends);
                validate::interface(&i)?;
                i.version += 1;
                self.put(Entity::Interface(Arc::new(i)));
            }
            Change::DeleteInterface { api_name, expected_version, cascade } => {
                let cur =
                    self.next.interface(api_name).ok_or_else(|| Error::NotFound(format!("interface {api_name}")))?;
                check_version(api_name, *expected_version, cur.version)?;
                self.delete_node(EntityKind::Interface, api_name, *cascade);
            }
            Change::CreateLinkType(l) => {
                validate::link_type(l)?;
                if self.next.link_type(&l.id()).is_some() {
                    return Err(Error::AlreadyExists(format!("link type {}", l.id())));
                }
                let display_name = or_api_name(&l.display_name, &l.api_name);
                self.put(Entity::LinkType(Arc::new(LinkType { version: 1, display_name, ..l.clone() })));
            }
            Change::UpdateLinkType { id, expected_version, patch } => {
                let cur = self.next.link_type(id).ok_or_else(|| Error::NotFound(format!("link type {id}")))?;
                check_version(id, *expected_version, cur.version)?;
                let mut l = LinkType::clone(cur);
                patch_fields(patch.cardinality.as_ref(), &mut l.cardinality);
                patch_fields(patch.display_name.as_ref(), &mut l.display_name);
                patch_fields(patch.description.as_ref(), &mut l.description);
                patch_fields(patch.status.as_ref(), &mut l.status);
                validate::link_type(&l)?;
                l.version += 1;
                self.put(Entity::LinkType(Arc::new(l)));
            }
            Change::DeleteLinkType { id, expected_version } => {
                let cur = self.next.link_type(id).ok_or_else(|| Error::NotFound(format!("link type {id}")))?;
                check_version(id, *expected_version, cur.version)?;
                self.remove(EntityKind::LinkType, id);
            }
        }
        Ok(())
    }

    /// Delete a node. With `cascade`, dependent link types go too and
    /// references to the node are removed from the nodes that hold them;
    /// without it, remaining dependents fail the batch in `finish`.
    pub(super) fn delete_node(&mut self, kind: EntityKind, api_name: &str, cascade: bool) {
        if cascade {
            let dependents: Vec<String> = self.next.referrers(api_name).map(|d| d.to_string()).collect();
            for dep in dependents {
                if let Some(l) = self.next.link_type(&dep) {
                    let id = l.id();
                    self.remove(EntityKind::LinkType, &id);
                } else if let Some(o) = self.next.object_type(&dep) {
                    let mut o = ObjectType::clone(o);
                    o.extends.retain(|e| e != api_name);
                    o.implements.retain(|e| e != api_name);
                    o.properties.retain(|p| p.target.as_deref() != Some(api_name));
                    o.version += 1;
                    self.put(Entity::ObjectType(Arc::new(o)));
                } else if let Some(i) = self.next.interface(&dep) {
                    let mut i = Interface::clone(i);
                    i.extends.retain(|e| e != api_name);
                    i.properties.retain(|p| p.target.as_deref() != Some(api_name));
                    i.version += 1;
                    self.put(Entity::Interface(Arc::new(i)));
                }
            }
        }
        self.remove(kind, api_name);
    }

    pub(super) fn upsert(&mut self, e: Entity) -> Result<()> {
        let e = normalized(e, 0);
        let id = e.id();
        validate_alone(&e)?;
        let version = match self.next.entity(e.kind(), &id) {
            Some(cur) if same_content(&cur, &e) => return Ok(()),
            Some(cur) => cur.version() + 1,
            None if e.kind() != EntityKind::LinkType && self.next.node(&id).is_some() => {
                return Err(Error::AlreadyExists(id));
            }
            None => 1,
        };
        self.put(normalized(e, version));
        Ok(())
    }

    /// Integrity of the final state: every reference of a touched entity
    /// resolves to a node of the right kind, and no deleted node is still
    /// referenced.
    pub(super) fn finish(self) -> Result<Applied> {
        for (kind, id) in &self.touched {
            match self.next.entity(*kind, id) {
                Some(e) => {
                    for r in e.references() {
                        let found = match r.kind {
                            EntityKind::ObjectType => self.next.object_type(r.target).is_some(),
                            _ => self.next.interface(r.target).is_some(),
                        };
                        if !found {
                            let (want, other) = match r.kind {
                                EntityKind::ObjectType => ("object type", "an interface"),
                                _ => ("interface", "an object type"),
                            };
                            let problem = match self.next.node(r.target) {
                                Some(_) => {
                                    format!("{} is {other}, not {}", r.target, article(want))
                                }
                                None => format!("unknown {want} {}", r.target),
                            };
                            return Err(Error::BadUserInput {
                                message: format!("{id}: {}: {problem}", r.field),
                                field: Some(r.field.to_string()),
                            });
                        }
                    }
                }
                None if *kind != EntityKind::LinkType => {
                    let dependents: Vec<String> = self.next.referrers(id).map(|d| d.to_string()).collect();
                    if !dependents.is_empty() {
                        return Err(Error::InUse { id: id.clone(), dependents });
                    }
                }
                None => {}
            }
        }
        let changes = self
            .touched
            .iter()
            .filter_map(|(kind, id)| {
                let before = self.base.entity(*kind, id);
                let after = self.next.entity(*kind, id);
                let (change, fields) = match (&before, &after) {
                    (None, Some(_)) => (ChangeKind::Added, vec![]),
                    (Some(b), Some(a)) => (ChangeKind::Modified, changed_fields(b, a)),
                    (Some(_), None) => (ChangeKind::Deleted, vec![]),
                    (None, None) => return None,
                };
                Some(EntityChange { entity_kind: *kind, id: id.clone(), change, fields })
            })
            .collect();
        Ok(Applied { ontology: self.next, changes })
    }
}

fn article(noun: &str) -> String {
    let a = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{a} {noun}")
}

/// An empty display name defaults to the apiName.
fn or_api_name(display_name: &str, api_name: &str) -> String {
    if display_name.is_empty() { api_name } else { display_name }.to_owned()
}

fn patch_fields<T: Clone>(value: Option<&T>, field: &mut T) {
    if let Some(v) = value {
        *field = v.clone();
    }
}

/// The entity as stored: given version, display name defaulted.
fn normalized(e: Entity, version: i64) -> Entity {
    match e {
        // Moved out of the Arc, not copied, when this is its only owner
        // (an entity just parsed from a document).
        Entity::ObjectType(o) => {
            let mut o = Arc::unwrap_or_clone(o);
            if o.display_name.is_empty() {
                o.display_name = o.api_name.clone();
            }
            Entity::ObjectType(Arc::new(ObjectType { version, ..o }))
        }
        Entity::Interface(i) => {
            let mut i = Arc::unwrap_or_clone(i);
            if i.display_name.is_empty() {
                i.display_name = i.api_name.clone();
            }
            Entity::Interface(Arc::new(Interface { version, ..i }))
        }
        Entity::LinkType(l) => {
            let mut l = Arc::unwrap_or_clone(l);
            if l.display_name.is_empty() {
                l.display_name = l.api_name.clone();
            }
            Entity::LinkType(Arc::new(LinkType { version, ..l }))
        }
    }
}

pub(super) fn same_content(a: &Entity, b: &Entity) -> bool {
    a.to_json() == b.to_json()
}

/// Top-level document fields whose values differ between two versions.
pub(super) fn changed_fields(before: &Entity, after: &Entity) -> Vec<String> {
    let (b, a) = (before.to_json(), after.to_json());
    let empty = serde_json::Map::new();
    let (b, a) = (b.as_object().unwrap_or(&empty), a.as_object().unwrap_or(&empty));
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter().filter(|k| b.get(*k) != a.get(*k)).cloned().collect()
}
