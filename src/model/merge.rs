//! Three-way diff and merge of ontology states. States of one lineage
//! share structure (persistent maps), so finding what differs between two
//! of them costs O(changes · log n), not O(size): `im`'s map diff skips
//! every subtree the two states share.
//!
//! Merge rule, per entity and then per top-level field: a side that left
//! a value as it was in the base takes the other side's; two sides that
//! changed it to the same value agree; two different changes conflict.
//! Conflicts are reported, never decided silently; a resolution picks the
//! SOURCE or TARGET value. A merge with an unresolved conflict yields no
//! state at all.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use im::ordmap::DiffItem;
use serde_json::{Map, Value};

use super::change::{changed_fields, Draft};
use super::{Applied, ChangeKind, Entity, EntityChange, EntityKey, EntityKind, Name, Ontology};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// Both sides changed a field to different values.
    ModifyModify,
    /// One side changed an entity the other deleted.
    ModifyDelete,
    /// Both sides added an entity (or a node name) with different content.
    AddAdd,
    /// One side deleted a node the other side's entities refer to.
    BrokenReference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Target,
}

/// One conflict: the entity (and field, for MODIFY_MODIFY) and the three
/// values (`None`: absent on that side; documents without version).
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub entity_kind: EntityKind,
    pub id: String,
    pub field: Option<String>,
    pub kind: ConflictKind,
    pub base: Option<Value>,
    pub source: Option<Value>,
    pub target: Option<Value>,
    /// BROKEN_REFERENCE: the entities whose references to `id` would dangle.
    pub dependents: Vec<String>,
    /// The side a resolution chose; `None` while unresolved.
    pub resolution: Option<Side>,
}

/// Pick a side for the conflict on `id` (and `field`, for MODIFY_MODIFY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub id: String,
    pub field: Option<String>,
    pub choose: Side,
}

/// The outcome of a merge: every conflict found, and the target's next
/// state when none is left unresolved.
pub struct Merged {
    pub conflicts: Vec<Conflict>,
    pub applied: Option<Applied>,
}

impl Ontology {
    /// Keys of the entities that differ between `self` and `other`, in
    /// (kind, id) order. Fast for states of one lineage (see module doc).
    pub fn changed_keys(&self, other: &Ontology) -> Vec<EntityKey> {
        fn keys<V: PartialEq>(
            kind: EntityKind,
            a: &im::OrdMap<Name, V>,
            b: &im::OrdMap<Name, V>,
            out: &mut Vec<EntityKey>,
        ) {
            out.extend(a.diff(b).map(|d| match d {
                DiffItem::Add(k, _) | DiffItem::Remove(k, _) | DiffItem::Update { new: (k, _), .. } => {
                    (kind, k.to_string())
                }
            }));
        }
        let mut out = Vec::new();
        keys(EntityKind::ObjectType, &self.object_types, &other.object_types, &mut out);
        keys(EntityKind::Interface, &self.interfaces, &other.interfaces, &mut out);
        keys(EntityKind::LinkType, &self.link_types, &other.link_types, &mut out);
        out
    }

    /// What `self` changed since `base`, entity by entity in (kind, id)
    /// order. An entity whose content is back to the base's is unchanged.
    pub fn diff_since(&self, base: &Ontology) -> Vec<EntityChange> {
        base.changed_keys(self)
            .into_iter()
            .filter_map(|(kind, id)| {
                let (change, fields) = match (base.entity(kind, &id), self.entity(kind, &id)) {
                    (None, Some(_)) => (ChangeKind::Added, vec![]),
                    (Some(_), None) => (ChangeKind::Deleted, vec![]),
                    (Some(b), Some(s)) => match changed_fields(&b, &s) {
                        f if f.is_empty() => return None,
                        f => (ChangeKind::Modified, f),
                    },
                    (None, None) => return None,
                };
                Some(EntityChange { entity_kind: kind, id, change, fields })
            })
            .collect()
    }
}

/// Three-way merge of `source` into `target` against their merge `base`.
/// Only entities the source changed since the base need a decision: the
/// target keeps everything else. `Err` for a resolution that names no
/// conflict (once nothing is left unresolved) or a merged entity that is
/// invalid.
pub fn merge(base: &Ontology, source: &Ontology, target: &Ontology, resolutions: &[Resolution]) -> Result<Merged> {
    let mut m = Merger { base, source, target, picks: Picks::new(resolutions), conflicts: Vec::new(), open: 0 };
    let mut draft = Draft::new(target);
    for (kind, id) in base.changed_keys(source) {
        if let Some(decision) = m.decide(kind, &id) {
            m.apply(&mut draft, kind, &id, decision)?;
        }
    }
    m.repair_references(&mut draft)?;
    if m.open > 0 {
        return Ok(Merged { conflicts: m.conflicts, applied: None });
    }
    m.picks.check_all_used()?;
    Ok(Merged { conflicts: m.conflicts, applied: Some(draft.finish()?) })
}

struct Merger<'a> {
    base: &'a Ontology,
    source: &'a Ontology,
    target: &'a Ontology,
    picks: Picks<'a>,
    conflicts: Vec<Conflict>,
    /// Conflicts without a resolution.
    open: usize,
}

/// What the merge does to one entity of the target.
enum Decision {
    /// Make it this (`None`: delete it).
    Set(Option<Entity>),
    /// Field-level result: the target's document with some source fields.
    Fields(Map<String, Value>),
}

fn doc(e: &Option<Entity>) -> Option<Value> {
    e.as_ref().map(Entity::to_json)
}

impl Merger<'_> {
    fn decide(&mut self, kind: EntityKind, id: &str) -> Option<Decision> {
        let (b, s, t) = (self.base.entity(kind, id), self.source.entity(kind, id), self.target.entity(kind, id));
        let (bd, sd, td) = (doc(&b), doc(&s), doc(&t));
        if sd == bd || sd == td {
            return None;
        }
        if td == bd {
            return Some(Decision::Set(s));
        }
        if let (Some(Value::Object(bo)), Some(Value::Object(so)), Some(Value::Object(to))) = (&bd, &sd, &td) {
            let mut merged = to.clone();
            let mut complete = true;
            let fields: BTreeSet<&String> = bo.keys().chain(so.keys()).chain(to.keys()).collect();
            for f in fields {
                let (bf, sf, tf) = (bo.get(f), so.get(f), to.get(f));
                if sf == bf || sf == tf {
                    continue;
                }
                let take_source = if tf == bf {
                    true
                } else {
                    let choice = self.conflict(Conflict {
                        entity_kind: kind,
                        id: id.to_owned(),
                        field: Some(f.clone()),
                        kind: ConflictKind::ModifyModify,
                        base: bf.cloned(),
                        source: sf.cloned(),
                        target: tf.cloned(),
                        dependents: vec![],
                        resolution: None,
                    });
                    complete &= choice.is_some();
                    choice == Some(Side::Source)
                };
                if take_source {
                    match sf {
                        Some(v) => merged.insert(f.clone(), v.clone()),
                        None => merged.remove(f),
                    };
                }
            }
            return complete.then_some(Decision::Fields(merged));
        }
        let kind_of = if bd.is_none() { ConflictKind::AddAdd } else { ConflictKind::ModifyDelete };
        let c = Conflict {
            entity_kind: kind,
            id: id.to_owned(),
            field: None,
            kind: kind_of,
            base: bd,
            source: sd,
            target: td,
            dependents: vec![],
            resolution: None,
        };
        match self.conflict(c)? {
            Side::Source => Some(Decision::Set(s)),
            Side::Target => None,
        }
    }

    /// Record a conflict; the side its resolution picks, if any.
    fn conflict(&mut self, mut c: Conflict) -> Option<Side> {
        c.resolution = self.picks.get(&c.id, c.field.as_deref());
        if c.resolution.is_none() {
            self.open += 1;
        }
        let side = c.resolution;
        self.conflicts.push(c);
        side
    }

    fn apply(&mut self, draft: &mut Draft, kind: EntityKind, id: &str, decision: Decision) -> Result<()> {
        let entity = match decision {
            Decision::Set(None) => {
                match kind {
                    EntityKind::LinkType => draft.remove(kind, id),
                    _ => draft.delete_node(kind, id, false),
                }
                return Ok(());
            }
            Decision::Set(Some(e)) => e,
            Decision::Fields(doc) => Entity::from_value(kind, Value::Object(doc), 0)
                .map_err(|e| Error::bad_input("resolutions", format!("{id}: merged fields are invalid: {e}")))?,
        };
        // Both sides added one name, as an object type and as an interface.
        let other = match kind {
            EntityKind::ObjectType => Some(EntityKind::Interface),
            EntityKind::Interface => Some(EntityKind::ObjectType),
            EntityKind::LinkType => None,
        };
        if let Some(other) = other.filter(|o| draft.next.entity(*o, id).is_some()) {
            let c = Conflict {
                entity_kind: kind,
                id: id.to_owned(),
                field: None,
                kind: ConflictKind::AddAdd,
                base: None,
                source: Some(entity.to_json()),
                target: doc(&self.target.entity(other, id)),
                dependents: vec![],
                resolution: None,
            };
            match self.conflict(c) {
                Some(Side::Source) => draft.delete_node(other, id, true),
                _ => return Ok(()),
            }
        }
        draft.upsert(entity)
    }

    /// Nodes the merge deleted that something still refers to, or that a
    /// merged entity refers to: BROKEN_REFERENCE each. A resolution keeps
    /// the chosen side's node (restoring it) or deletes it together with
    /// the references to it, as `cascade: true` would.
    fn repair_references(&mut self, draft: &mut Draft) -> Result<()> {
        let mut seen = HashSet::new();
        loop {
            let broken: BTreeMap<String, Vec<String>> =
                broken_references(draft).into_iter().filter(|(name, _)| !seen.contains(name)).collect();
            if broken.is_empty() {
                return Ok(());
            }
            for (name, dependents) in broken {
                seen.insert(name.clone());
                let kind = [EntityKind::ObjectType, EntityKind::Interface]
                    .into_iter()
                    .find(|k| [self.base, self.source, self.target].iter().any(|o| o.entity(*k, &name).is_some()))
                    .unwrap_or(EntityKind::ObjectType);
                let (s, t) = (self.source.entity(kind, &name), self.target.entity(kind, &name));
                let c = Conflict {
                    entity_kind: kind,
                    id: name.clone(),
                    field: None,
                    kind: ConflictKind::BrokenReference,
                    base: doc(&self.base.entity(kind, &name)),
                    source: doc(&s),
                    target: doc(&t),
                    dependents,
                    resolution: None,
                };
                let keep = match self.conflict(c) {
                    None => continue,
                    Some(Side::Source) => s,
                    Some(Side::Target) => t,
                };
                match keep {
                    // The target's own node comes back as it was (same version).
                    Some(e) if self.target.entity(kind, &name).as_ref() == Some(&e) => draft.put(e),
                    Some(e) => draft.upsert(e)?,
                    None => draft.delete_node(kind, &name, true),
                }
            }
        }
    }
}

/// Missing node name → the entities referring to it, over the entities a
/// transaction touched (the rest of the target was consistent already).
fn broken_references(draft: &Draft) -> BTreeMap<String, Vec<String>> {
    let mut missing = BTreeSet::new();
    for (kind, id) in draft.touched() {
        match draft.next.entity(*kind, id) {
            Some(e) => missing.extend(e.references().iter().map(|r| r.target.to_owned())),
            None if *kind != EntityKind::LinkType => {
                missing.insert(id.clone());
            }
            None => {}
        }
    }
    missing
        .into_iter()
        .filter(|name| draft.next.node(name).is_none())
        .filter_map(|name| {
            let dependents: Vec<String> = draft.next.referrers(&name).map(|d| d.to_string()).collect();
            (!dependents.is_empty()).then_some((name, dependents))
        })
        .collect()
}

/// Resolutions by (id, field), and which of them a conflict used.
struct Picks<'a> {
    all: &'a [Resolution],
    index: HashMap<(&'a str, Option<&'a str>), usize>,
    used: Vec<bool>,
}

impl<'a> Picks<'a> {
    fn new(all: &'a [Resolution]) -> Self {
        // The first resolution of a conflict wins, as a scan would find it.
        let mut index = HashMap::with_capacity(all.len());
        for (i, r) in all.iter().enumerate().rev() {
            index.insert((r.id.as_str(), r.field.as_deref()), i);
        }
        Picks { all, index, used: vec![false; all.len()] }
    }

    fn get(&mut self, id: &str, field: Option<&str>) -> Option<Side> {
        let i = *self.index.get(&(id, field))?;
        self.used[i] = true;
        Some(self.all[i].choose)
    }

    /// Every resolution named a conflict, once.
    fn check_all_used(&self) -> Result<()> {
        for (i, r) in self.all.iter().enumerate() {
            let first = self.index[&(r.id.as_str(), r.field.as_deref())];
            if first != i {
                let msg = format!("resolves the same conflict as resolutions[{first}]");
                return Err(Error::bad_input(format!("resolutions[{i}]"), msg));
            }
        }
        match self.all.iter().enumerate().find(|(i, _)| !self.used[*i]) {
            None => Ok(()),
            Some((i, r)) => {
                let what = match &r.field {
                    Some(f) => format!("{}.{f}", r.id),
                    None => r.id.clone(),
                };
                Err(Error::bad_input(format!("resolutions[{i}]"), format!("no conflict on {what} to resolve")))
            }
        }
    }
}
