//! Deriving the graph of a new state from the graph of an earlier state
//! of the same branch and the entities that changed in between. Building
//! from scratch hashes every name and sorts every edge (seconds at a
//! million types); patching copies the unchanged adjacency rows as they
//! are (remapping ids only when nodes came or went, which keeps their
//! order because ids follow names) and rewrites only the rows of nodes
//! whose edges changed. A commit's next traversal then waits
//! milliseconds, not seconds.

use std::collections::{BTreeMap, HashSet};

use super::index::{
    interface_edges, link_type_edge, object_type_edges, Adj, GraphIndex, NodeId, NodeKind, RelId, Rows, EXTENDS,
    IMPLEMENTS, REFERENCES,
};
use crate::model::{Entity, EntityKey, EntityKind, Name, Ontology};

/// The edges one entity contributes: (source, target, label), as
/// `GraphIndex::build` lists them.
fn edges_of(e: &Entity) -> Vec<(&str, &str, &str)> {
    match e {
        Entity::ObjectType(t) => object_type_edges(t).collect(),
        Entity::Interface(i) => interface_edges(i).collect(),
        Entity::LinkType(l) => vec![link_type_edge(l)],
    }
}

fn node_kind(kind: EntityKind) -> Option<NodeKind> {
    match kind {
        EntityKind::ObjectType => Some(NodeKind::ObjectType),
        EntityKind::Interface => Some(NodeKind::Interface),
        EntityKind::LinkType => None,
    }
}

/// Per node: adjacency entries to drop and to add.
type Mods = BTreeMap<NodeId, (Vec<Adj>, Vec<Adj>)>;

impl GraphIndex {
    /// The graph of `new`, given that `self` is the graph of `old` and
    /// `changed` holds (at least) every entity that differs between them,
    /// in any order, repeats allowed.
    /// Equal to `GraphIndex::build(new)`. `None` when the set of relation
    /// labels changes (a link type with a new apiName, or the last of one
    /// gone) or a link type uses a reserved label: build from scratch then.
    pub fn patched(&self, old: &Ontology, new: &Ontology, changed: &[EntityKey]) -> Option<GraphIndex> {
        // Callers may name an entity more than once (changes accumulated
        // over several commits); each must count once.
        let mut changed: Vec<&EntityKey> = changed.iter().collect();
        changed.sort_unstable();
        changed.dedup();
        // Nodes that came or went.
        let mut removed: HashSet<&str> = HashSet::new();
        let mut added: Vec<(Name, NodeKind)> = Vec::new();
        for &(kind, id) in &changed {
            let Some(nk) = node_kind(*kind) else { continue };
            match (old.entity(*kind, id).is_some(), new.entity(*kind, id).is_some()) {
                (true, false) => {
                    removed.insert(id.as_str());
                }
                (false, true) => added.push((Name::from(id.as_str()), nk)),
                _ => {}
            }
        }
        let (names, kinds, new_to_old, old_to_new) = self.renumber(&removed, added);
        let id_new = |name: &str| names.binary_search_by(|n| (**n).cmp(name)).ok().map(|i| i as NodeId);

        // The relation table stays as it is, or this is no patch.
        let mut deleted_labels: HashSet<String> = HashSet::new();
        for &(kind, id) in changed.iter().filter(|(k, _)| *k == EntityKind::LinkType) {
            let (before, after) = (old.link_type(id), new.link_type(id));
            for l in [before, after].into_iter().flatten() {
                if [EXTENDS, IMPLEMENTS, REFERENCES].contains(&l.api_name.as_str())
                    || self.relation_id(&l.api_name).is_none()
                {
                    return None;
                }
            }
            if let (Some(l), None, EntityKind::LinkType) = (before, after, kind) {
                deleted_labels.insert(l.api_name.clone());
            }
        }
        if !deleted_labels.is_empty() {
            // One pass: every deleted link's label must still be in use.
            let mut in_use = HashSet::new();
            for l in new.link_types_after(None) {
                if deleted_labels.contains(&l.api_name)
                    && in_use.insert(l.api_name.as_str())
                    && in_use.len() == deleted_labels.len()
                {
                    break;
                }
            }
            if in_use.len() < deleted_labels.len() {
                return None;
            }
        }

        // Edges that came or went, by source (out rows) and target (in rows).
        let (mut out_mods, mut in_mods) = (Mods::new(), Mods::new());
        for &(kind, id) in &changed {
            let before = old.entity(*kind, id);
            let after = new.entity(*kind, id);
            let resolve = |edges: Vec<(&str, &str, &str)>, id: &dyn Fn(&str) -> Option<NodeId>| {
                let mut v: Vec<(NodeId, NodeId, RelId)> =
                    edges.into_iter().filter_map(|(s, t, l)| Some((id(s)?, id(t)?, self.relation_id(l)?))).collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let old_id = |name: &str| {
                let i = self.id(name)?;
                Some(old_to_new.as_ref().map_or(i, |m| m[i as usize])).filter(|&i| i != NodeId::MAX)
            };
            let gone = before.as_ref().map_or(vec![], |e| resolve(edges_of(e), &old_id));
            let came = after.as_ref().map_or(vec![], |e| resolve(edges_of(e), &id_new));
            for &(s, t, r) in gone.iter().filter(|e| !came.contains(e)) {
                out_mods.entry(s).or_default().0.push(Adj { node: t, rel: r });
                in_mods.entry(t).or_default().0.push(Adj { node: s, rel: r });
            }
            for &(s, t, r) in came.iter().filter(|e| !gone.contains(e)) {
                out_mods.entry(s).or_default().1.push(Adj { node: t, rel: r });
                in_mods.entry(t).or_default().1.push(Adj { node: s, rel: r });
            }
        }

        let n = names.len();
        let remap = old_to_new.as_deref();
        let (out_start, out) = self.rows(n, &new_to_old, remap, &out_mods, |g, v| g.out(v));
        let (in_start, inc) = self.rows(n, &new_to_old, remap, &in_mods, |g, v| g.inc(v));
        let start = out_start.into_iter().zip(in_start).map(|(o, i)| [o, i]).collect();
        Some(GraphIndex {
            names,
            kinds,
            relations: self.relations.clone(),
            link_relation: self.link_relation.clone(),
            start,
            out,
            inc,
        })
    }

    /// New node list after removals and additions; with the id mappings
    /// both ways when anything moved (`None` for the old→new map when ids
    /// are unchanged). Removed old nodes map to `NodeId::MAX`.
    #[allow(clippy::type_complexity)]
    fn renumber(
        &self,
        removed: &HashSet<&str>,
        mut added: Vec<(Name, NodeKind)>,
    ) -> (Vec<Name>, Vec<NodeKind>, Vec<NodeId>, Option<Vec<NodeId>>) {
        if removed.is_empty() && added.is_empty() {
            let ids = (0..self.node_count() as NodeId).collect();
            return (self.names.clone(), self.kinds.clone(), ids, None);
        }
        added.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let n = self.node_count() - removed.len() + added.len();
        let (mut names, mut kinds, mut new_to_old) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let mut old_to_new = vec![NodeId::MAX; self.node_count()];
        let mut extra = added.into_iter().peekable();
        for (i, name) in self.names.iter().enumerate() {
            while let Some((a, k)) = extra.next_if(|(a, _)| a < name) {
                names.push(a);
                kinds.push(k);
                new_to_old.push(NodeId::MAX);
            }
            if removed.contains(&**name) {
                continue;
            }
            old_to_new[i] = names.len() as NodeId;
            names.push(name.clone());
            kinds.push(self.kinds[i]);
            new_to_old.push(i as NodeId);
        }
        for (a, k) in extra {
            names.push(a);
            kinds.push(k);
            new_to_old.push(NodeId::MAX);
        }
        (names, kinds, new_to_old, Some(old_to_new))
    }

    /// One direction's CSR for the new node list: each row copied from
    /// the old graph (remapped when ids moved), with the row's edits.
    fn rows<'g>(
        &'g self,
        n: usize,
        new_to_old: &[NodeId],
        remap: Option<&[NodeId]>,
        mods: &Mods,
        row: impl Fn(&'g GraphIndex, NodeId) -> super::Adjacent<'g>,
    ) -> (Vec<u32>, Rows) {
        let mut start = Vec::with_capacity(n + 1);
        let cap = self.out.nodes.len() + mods.values().map(|m| m.1.len()).sum::<usize>();
        let mut rows = Rows { nodes: Vec::with_capacity(cap), rels: Vec::with_capacity(cap) };
        let mut edited: Vec<Adj> = Vec::new();
        for (v, &old) in new_to_old.iter().enumerate() {
            start.push(rows.nodes.len() as u32);
            let base = (old != NodeId::MAX).then(|| row(self, old));
            match (mods.get(&(v as NodeId)), remap, base) {
                (None, None, Some(b)) => {
                    rows.nodes.extend_from_slice(b.nodes);
                    rows.rels.extend_from_slice(b.rels);
                }
                (m, _, base) => {
                    edited.clear();
                    if let Some(b) = base {
                        let map = |a: Adj| Adj { node: remap.map_or(a.node, |m| m[a.node as usize]), rel: a.rel };
                        edited.extend(b.iter().map(map).filter(|a| a.node != NodeId::MAX));
                    }
                    if let Some((gone, came)) = m {
                        let mut gone = gone.clone();
                        gone.sort_unstable();
                        edited.retain(|a| gone.binary_search(a).is_err());
                        edited.extend_from_slice(came);
                        edited.sort_unstable();
                        edited.dedup();
                    }
                    rows.nodes.extend(edited.iter().map(|a| a.node));
                    rows.rels.extend(edited.iter().map(|a| a.rel));
                }
            }
        }
        start.push(rows.nodes.len() as u32);
        (start, rows)
    }
}
