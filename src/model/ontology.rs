//! `Ontology`: one immutable state of a branch. Backed by persistent maps
//! (`im`), so cloning is O(1) and a change copies only the touched paths:
//! a writer clones the head, applies a commit, and publishes the result
//! while readers keep using the old state.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;

use im::{OrdMap, OrdSet};
use serde::Serialize;

use super::types::{DataType, EntityKind, Interface, LinkType, NodeRef, ObjectType, Property};

/// Interned apiName or link id: cloned far more often than created.
pub type Name = Arc<str>;

/// One immutable state of an ontology.
#[derive(Clone, Default)]
pub struct Ontology {
    pub(super) object_types: OrdMap<Name, Arc<ObjectType>>,
    pub(super) interfaces: OrdMap<Name, Arc<Interface>>,
    pub(super) link_types: OrdMap<Name, Arc<LinkType>>,
    /// `(referenced node, referrer id)`: who depends on a node. Kept in
    /// step with every write so `IN_USE` checks and cascades cost
    /// O(dependents · log n), not a scan.
    referrers: OrdSet<(Name, Name)>,
}

/// An entity of any kind, owned: what a write puts into an `Ontology`.
#[derive(Debug, Clone, PartialEq)]
pub enum Entity {
    ObjectType(Arc<ObjectType>),
    Interface(Arc<Interface>),
    LinkType(Arc<LinkType>),
}

impl Entity {
    pub fn kind(&self) -> EntityKind {
        match self {
            Entity::ObjectType(_) => EntityKind::ObjectType,
            Entity::Interface(_) => EntityKind::Interface,
            Entity::LinkType(_) => EntityKind::LinkType,
        }
    }

    pub fn id(&self) -> String {
        match self {
            Entity::ObjectType(o) => o.api_name.clone(),
            Entity::Interface(i) => i.api_name.clone(),
            Entity::LinkType(l) => l.id(),
        }
    }

    /// Properties declared on the entity itself (0 for a link type).
    pub fn property_count(&self) -> usize {
        match self {
            Entity::ObjectType(o) => o.properties.len(),
            Entity::Interface(i) => i.properties.len(),
            Entity::LinkType(_) => 0,
        }
    }

    pub fn version(&self) -> i64 {
        match self {
            Entity::ObjectType(o) => o.version,
            Entity::Interface(i) => i.version,
            Entity::LinkType(l) => l.version,
        }
    }

    /// The document form (no version): what the store keeps as the body.
    pub fn to_json(&self) -> serde_json::Value {
        fn j<T: Serialize>(v: &T) -> serde_json::Value {
            serde_json::to_value(v).expect("entities always serialize")
        }
        match self {
            Entity::ObjectType(o) => j(o.as_ref()),
            Entity::Interface(i) => j(i.as_ref()),
            Entity::LinkType(l) => j(l.as_ref()),
        }
    }

    /// An entity from its document form and a version.
    pub fn from_value(kind: EntityKind, doc: serde_json::Value, version: i64) -> serde_json::Result<Self> {
        Ok(match kind {
            EntityKind::ObjectType => {
                Entity::ObjectType(Arc::new(ObjectType { version, ..serde_json::from_value(doc)? }))
            }
            EntityKind::Interface => Entity::Interface(Arc::new(Interface { version, ..serde_json::from_value(doc)? })),
            EntityKind::LinkType => Entity::LinkType(Arc::new(LinkType { version, ..serde_json::from_value(doc)? })),
        })
    }

    /// Rebuild an entity from its stored body and version.
    pub fn from_json(kind: EntityKind, body: &str, version: i64) -> serde_json::Result<Self> {
        Ok(match kind {
            EntityKind::ObjectType => {
                let mut o: ObjectType = serde_json::from_str(body)?;
                o.version = version;
                Entity::ObjectType(Arc::new(o))
            }
            EntityKind::Interface => {
                let mut i: Interface = serde_json::from_str(body)?;
                i.version = version;
                Entity::Interface(Arc::new(i))
            }
            EntityKind::LinkType => {
                let mut l: LinkType = serde_json::from_str(body)?;
                l.version = version;
                Entity::LinkType(Arc::new(l))
            }
        })
    }

    /// apiNames this entity refers to, with the kind of node each must
    /// be and the input field that names it. Allocation-light: this runs
    /// for every entity on load.
    pub fn references<'a>(&'a self) -> Vec<Reference<'a>> {
        let mut out = Vec::new();
        let props = |out: &mut Vec<Reference<'a>>, props: &'a [Property]| {
            for (i, p) in props.iter().enumerate() {
                if let (DataType::Reference, Some(t)) = (p.data_type, &p.target) {
                    out.push(Reference { target: t, kind: EntityKind::ObjectType, field: RefField::PropertyTarget(i) });
                }
            }
        };
        let list = |out: &mut Vec<Reference<'a>>, names: &'a [String], kind, field: fn(usize) -> RefField| {
            out.extend(names.iter().enumerate().map(|(i, n)| Reference { target: n, kind, field: field(i) }));
        };
        match self {
            Entity::ObjectType(o) => {
                list(&mut out, &o.extends, EntityKind::ObjectType, RefField::Extends);
                list(&mut out, &o.implements, EntityKind::Interface, RefField::Implements);
                props(&mut out, &o.properties);
            }
            Entity::Interface(it) => {
                list(&mut out, &it.extends, EntityKind::Interface, RefField::Extends);
                props(&mut out, &it.properties);
            }
            Entity::LinkType(l) => {
                out.push(Reference { target: &l.source, kind: EntityKind::ObjectType, field: RefField::Source });
                out.push(Reference { target: &l.target, kind: EntityKind::ObjectType, field: RefField::Target });
            }
        }
        out
    }
}

/// One outgoing reference of an entity.
#[derive(Debug, Clone, Copy)]
pub struct Reference<'a> {
    pub target: &'a str,
    pub kind: EntityKind,
    pub field: RefField,
}

/// The input field a reference comes from, e.g. `properties[2].target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefField {
    Extends(usize),
    Implements(usize),
    PropertyTarget(usize),
    Source,
    Target,
}

impl std::fmt::Display for RefField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefField::Extends(i) => write!(f, "extends[{i}]"),
            RefField::Implements(i) => write!(f, "implements[{i}]"),
            RefField::PropertyTarget(i) => write!(f, "properties[{i}].target"),
            RefField::Source => f.write_str("source"),
            RefField::Target => f.write_str("target"),
        }
    }
}

impl std::fmt::Debug for Ontology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ontology")
            .field("object_types", &self.object_types.len())
            .field("interfaces", &self.interfaces.len())
            .field("link_types", &self.link_types.len())
            .finish()
    }
}

impl Ontology {
    pub fn object_type(&self, api_name: &str) -> Option<&Arc<ObjectType>> {
        self.object_types.get(api_name)
    }

    pub fn interface(&self, api_name: &str) -> Option<&Arc<Interface>> {
        self.interfaces.get(api_name)
    }

    pub fn link_type(&self, id: &str) -> Option<&Arc<LinkType>> {
        self.link_types.get(id)
    }

    pub fn node(&self, api_name: &str) -> Option<NodeRef<'_>> {
        self.object_type(api_name)
            .map(|o| NodeRef::ObjectType(o))
            .or_else(|| self.interface(api_name).map(|i| NodeRef::Interface(i)))
    }

    pub fn entity(&self, kind: EntityKind, id: &str) -> Option<Entity> {
        match kind {
            EntityKind::ObjectType => self.object_type(id).cloned().map(Entity::ObjectType),
            EntityKind::Interface => self.interface(id).cloned().map(Entity::Interface),
            EntityKind::LinkType => self.link_type(id).cloned().map(Entity::LinkType),
        }
    }

    /// Entities of every kind.
    pub fn entity_count(&self) -> usize {
        self.object_types.len() + self.interfaces.len() + self.link_types.len()
    }

    pub fn object_type_count(&self) -> usize {
        self.object_types.len()
    }

    pub fn interface_count(&self) -> usize {
        self.interfaces.len()
    }

    pub fn link_type_count(&self) -> usize {
        self.link_types.len()
    }

    /// Object types in apiName order, starting strictly after `after`.
    pub fn object_types_after<'a>(&'a self, after: Option<&str>) -> impl Iterator<Item = &'a Arc<ObjectType>> + 'a {
        range_after(&self.object_types, after)
    }

    pub fn interfaces_after<'a>(&'a self, after: Option<&str>) -> impl Iterator<Item = &'a Arc<Interface>> + 'a {
        range_after(&self.interfaces, after)
    }

    pub fn link_types_after<'a>(&'a self, after: Option<&str>) -> impl Iterator<Item = &'a Arc<LinkType>> + 'a {
        range_after(&self.link_types, after)
    }

    /// Object types in apiName order strictly between the cursors `after`
    /// and `before` (either may be open), from either end.
    pub fn object_types_between<'a>(
        &'a self,
        after: Option<&str>,
        before: Option<&str>,
    ) -> impl DoubleEndedIterator<Item = &'a Arc<ObjectType>> + 'a {
        range_between(&self.object_types, after, before)
    }

    pub fn interfaces_between<'a>(
        &'a self,
        after: Option<&str>,
        before: Option<&str>,
    ) -> impl DoubleEndedIterator<Item = &'a Arc<Interface>> + 'a {
        range_between(&self.interfaces, after, before)
    }

    pub fn link_types_between<'a>(
        &'a self,
        after: Option<&str>,
        before: Option<&str>,
    ) -> impl DoubleEndedIterator<Item = &'a Arc<LinkType>> + 'a {
        range_between(&self.link_types, after, before)
    }

    /// Ids of the entities that reference node `api_name`, in id order.
    pub fn referrers<'a>(&'a self, api_name: &str) -> impl Iterator<Item = &'a Name> + 'a {
        let key: Name = Arc::from(api_name);
        let from = (key.clone(), Name::from(""));
        self.referrers
            .range((Bound::Included(from), Bound::Unbounded))
            .take_while(move |(t, _)| *t == key)
            .map(|(_, r)| r)
    }

    /// A state holding exactly `entities` (distinct kind and id): what
    /// loading a branch builds. The same state as `put` of each, built in
    /// bulk — maps filled in key order, the referrer index sorted once and
    /// filled in order (on a second thread) — because entry-by-entry
    /// inserts in random order cost most of a cold start (about 2.5× at
    /// 500,000 entities).
    pub fn from_entities(entities: Vec<Entity>) -> Ontology {
        let (mut ots, mut its, mut lts) = (Vec::new(), Vec::new(), Vec::new());
        for e in entities {
            let id: Name = Arc::from(e.id());
            match e {
                Entity::ObjectType(o) => ots.push((id, o)),
                Entity::Interface(i) => its.push((id, i)),
                Entity::LinkType(l) => lts.push((id, l)),
            }
        }
        // Stable sorts: linear on the already sorted rows a store returns.
        ots.sort_by(|a, b| a.0.cmp(&b.0));
        its.sort_by(|a, b| a.0.cmp(&b.0));
        lts.sort_by(|a, b| a.0.cmp(&b.0));
        let referrers = || {
            let names: HashMap<&str, &Name> =
                ots.iter().map(|(k, _)| (&**k, k)).chain(its.iter().map(|(k, _)| (&**k, k))).collect();
            let target = |t: &str| names.get(t).map_or_else(|| Name::from(t), |n| Name::clone(n));
            let mut refs: Vec<(Name, Name)> = Vec::new();
            let mut add =
                |id: &Name, e: Entity| refs.extend(e.references().iter().map(|r| (target(r.target), id.clone())));
            ots.iter().for_each(|(id, o)| add(id, Entity::ObjectType(o.clone())));
            its.iter().for_each(|(id, i)| add(id, Entity::Interface(i.clone())));
            lts.iter().for_each(|(id, l)| add(id, Entity::LinkType(l.clone())));
            refs.sort_unstable();
            refs.dedup();
            refs.into_iter().collect::<OrdSet<(Name, Name)>>()
        };
        std::thread::scope(|scope| {
            let referrers = scope.spawn(referrers);
            let object_types = ots.iter().cloned().collect();
            let interfaces = its.iter().cloned().collect();
            let link_types = lts.iter().cloned().collect();
            let referrers = referrers.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            Ontology { object_types, interfaces, link_types, referrers }
        })
    }

    /// Insert or replace an entity, keeping the referrer index in step.
    pub(crate) fn put(&mut self, entity: Entity) {
        let id: Name = Arc::from(entity.id());
        if let Some(old) = self.entity(entity.kind(), &id) {
            self.unindex(&id, &old);
        }
        for r in entity.references() {
            let target = self.intern(r.target);
            self.referrers.insert((target, id.clone()));
        }
        match entity {
            Entity::ObjectType(o) => {
                self.object_types.insert(id, o);
            }
            Entity::Interface(i) => {
                self.interfaces.insert(id, i);
            }
            Entity::LinkType(l) => {
                self.link_types.insert(id, l);
            }
        }
    }

    /// Remove an entity (no dependents check: callers do that).
    pub(crate) fn remove(&mut self, kind: EntityKind, id: &str) -> Option<Entity> {
        let old = self.entity(kind, id)?;
        self.unindex(&Arc::from(id), &old);
        match kind {
            EntityKind::ObjectType => {
                self.object_types.remove(id);
            }
            EntityKind::Interface => {
                self.interfaces.remove(id);
            }
            EntityKind::LinkType => {
                self.link_types.remove(id);
            }
        }
        Some(old)
    }

    /// The shared `Name` of a node when it exists (most references point
    /// at existing nodes), so the referrer index holds no extra copies.
    fn intern(&self, name: &str) -> Name {
        let key = self.object_types.get_key_value(name).map(|(k, _)| k);
        let key = key.or_else(|| self.interfaces.get_key_value(name).map(|(k, _)| k));
        key.map_or_else(|| Arc::from(name), Name::clone)
    }

    fn unindex(&mut self, id: &Name, old: &Entity) {
        for r in old.references() {
            self.referrers.remove(&(Arc::from(r.target), id.clone()));
        }
    }

    /// Every entity, in document order: interfaces, object types, link types.
    pub fn entities(&self) -> impl Iterator<Item = Entity> + '_ {
        let i = self.interfaces.values().cloned().map(Entity::Interface);
        let o = self.object_types.values().cloned().map(Entity::ObjectType);
        let l = self.link_types.values().cloned().map(Entity::LinkType);
        i.chain(o).chain(l)
    }
}

fn range_after<'a, V>(map: &'a OrdMap<Name, V>, after: Option<&str>) -> impl Iterator<Item = &'a V> + 'a {
    let lower = match after {
        Some(a) => Bound::Excluded(Name::from(a)),
        None => Bound::Unbounded,
    };
    map.range((lower, Bound::Unbounded)).map(|(_, v)| v)
}

fn range_between<'a, V>(
    map: &'a OrdMap<Name, V>,
    after: Option<&str>,
    before: Option<&str>,
) -> impl DoubleEndedIterator<Item = &'a V> + 'a {
    let bound = |c: Option<&str>| c.map_or(Bound::Unbounded, |c| Bound::Excluded(Name::from(c)));
    // Crossed cursors select nothing (and must not reach `range`).
    let empty = matches!((after, before), (Some(a), Some(b)) if a >= b);
    let range = if empty { None } else { Some(map.range((bound(after), bound(before)))) };
    range.into_iter().flatten().map(|(_, v)| v)
}
