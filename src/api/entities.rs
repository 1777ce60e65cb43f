//! GraphQL views of ontology entities. Each holds the entity and the
//! state it was read from (`Read`: the ontology, and the branch scope its
//! global id names), so related lookups stay consistent.

use std::sync::Arc;

use async_graphql::{Interface, Object, ID};

use super::annotations::{self, Annotation};
use super::enums::{Cardinality, DataType, NodeKind, Status};
use super::ids::{GlobalId, Scope};
use crate::engine::BranchView;
use crate::model::{self, EntityKind, Ontology};

/// The state entities are read from: one ontology state and where it is
/// (branch incarnation, head or past version). Cheap to clone.
#[derive(Clone)]
pub struct Read {
    pub ontology: Arc<Ontology>,
    pub scope: Arc<Scope>,
}

impl Read {
    pub fn of(view: &BranchView) -> Self {
        Read { ontology: view.state.ontology.clone(), scope: Arc::new(Scope::of(view)) }
    }

    fn id(&self, kind: EntityKind, key: &str) -> ID {
        GlobalId::Entity(kind, (*self.scope).clone(), key.to_owned()).encode()
    }
}

/// A node of the ontology graph: an object type or an interface.
#[derive(Interface)]
#[graphql(
    name = "OntologyNode",
    // The full path: clippy's duplicated_attributes would take a second
    // `ty = "ID"` for a repeated attribute.
    field(
        name = "id",
        ty = "async_graphql::ID",
        desc = "Global id (Relay `Node`): this node on this branch at its head, or in one past state."
    ),
    field(name = "api_name", ty = "ID", desc = "Identity on its branch; unique across object types and interfaces."),
    field(name = "display_name", ty = "&str", desc = "Human-readable name."),
    field(name = "description", ty = "Option<&str>", desc = "Free-text description; null when none."),
    field(name = "kind", ty = "NodeKind", desc = "OBJECT_TYPE or INTERFACE."),
    field(name = "version", ty = "i64", desc = "Optimistic-lock version: 1 on creation, +1 per change."),
    field(name = "properties", ty = "Vec<Property>", desc = "Properties declared on this node (not inherited ones)."),
    field(name = "referenced_by", ty = "Vec<ID>", desc = "entityIds (apiName or linkId) of the entities that reference this node.")
)]
pub enum OntologyNode {
    ObjectType(ObjectType),
    Interface(InterfaceType),
}

impl OntologyNode {
    pub fn find(at: &Read, api_name: &str) -> Option<Self> {
        let o = &at.ontology;
        if let Some(t) = o.object_type(api_name) {
            return Some(OntologyNode::ObjectType(ObjectType::new(t.clone(), at.clone())));
        }
        o.interface(api_name).map(|i| OntologyNode::Interface(InterfaceType::new(i.clone(), at.clone())))
    }
}

fn referrers(o: &Ontology, api_name: &str) -> Vec<ID> {
    o.referrers(api_name).map(|r| ID(r.to_string())).collect()
}

fn ids(names: &[String]) -> Vec<ID> {
    names.iter().cloned().map(ID).collect()
}

/// A kind of thing in the ontology (a node of the graph).
pub struct ObjectType {
    inner: Arc<model::ObjectType>,
    at: Read,
}

impl ObjectType {
    pub fn new(inner: Arc<model::ObjectType>, at: Read) -> Self {
        ObjectType { inner, at }
    }
}

/// A kind of thing in the ontology: a node of the graph.
#[Object]
impl ObjectType {
    /// Global id (Relay `Node`): this object type on this branch at its
    /// head — the same before and after an update, so a mutation's result
    /// refreshes a cached copy — or, read through `branch(at:)`, in that
    /// past state (another id, whose data never changes). Opaque; resolve
    /// it with `node(id:)`.
    pub async fn id(&self) -> ID {
        self.at.id(EntityKind::ObjectType, &self.inner.api_name)
    }
    /// Identity on its branch (immutable): `^[A-Za-z][A-Za-z0-9_]*$`.
    async fn api_name(&self) -> ID {
        ID(self.inner.api_name.clone())
    }
    /// Human-readable name; defaults to the apiName.
    async fn display_name(&self) -> &str {
        &self.inner.display_name
    }
    /// Free-text description; null when none.
    async fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }
    /// Lifecycle status: ACTIVE (the default), EXPERIMENTAL or DEPRECATED.
    async fn status(&self) -> Status {
        self.inner.status.into()
    }
    /// Always OBJECT_TYPE.
    async fn kind(&self) -> NodeKind {
        NodeKind::ObjectType
    }
    /// Optimistic-lock version: 1 on creation, +1 per change. Pass it as
    /// `expectedVersion` to update or delete.
    async fn version(&self) -> i64 {
        self.inner.version
    }
    /// Properties declared on this object type itself (not inherited ones), in order.
    async fn properties(&self) -> Vec<Property> {
        self.inner.properties.iter().cloned().map(Property).collect()
    }
    /// apiNames of the object types this one extends (its parents).
    async fn extends(&self) -> Vec<ID> {
        ids(&self.inner.extends)
    }
    /// apiNames of the interfaces this object type implements.
    async fn implements(&self) -> Vec<ID> {
        ids(&self.inner.implements)
    }
    /// The parent object types themselves.
    async fn parents(&self) -> Vec<ObjectType> {
        let o = &self.at.ontology;
        self.inner
            .extends
            .iter()
            .filter_map(|p| o.object_type(p))
            .map(|t| ObjectType::new(t.clone(), self.at.clone()))
            .collect()
    }
    /// Link types whose source is this object type, in linkId order.
    async fn outgoing_links(&self) -> Vec<LinkType> {
        self.links(|l| l.source == self.inner.api_name)
    }
    /// Link types whose target is this object type, in linkId order.
    async fn incoming_links(&self) -> Vec<LinkType> {
        self.links(|l| l.target == self.inner.api_name)
    }
    /// entityIds (apiName or linkId) of the entities that reference this
    /// object type (subtypes, link types, REFERENCE properties): what
    /// blocks a delete without cascade.
    async fn referenced_by(&self) -> Vec<ID> {
        referrers(&self.at.ontology, &self.inner.api_name)
    }
    /// The identifier in the ontology file this object type was imported
    /// from (a CURIE such as `GO:0008150`, or an IRI); null when none.
    async fn curie(&self) -> Option<&str> {
        self.inner.curie.as_deref()
    }
    /// Annotations from the ontology file (synonyms, cross references,
    /// subsets, comments, …) in name order; only those named in `names`
    /// when given. Read-only: set by `import`, kept by updates.
    async fn annotations(&self, names: Option<Vec<String>>) -> Vec<Annotation> {
        annotations::select(&self.inner.annotations, names.as_deref())
    }
}

impl ObjectType {
    fn links(&self, keep: impl Fn(&model::LinkType) -> bool) -> Vec<LinkType> {
        let o = &self.at.ontology;
        o.referrers(&self.inner.api_name)
            .filter_map(|id| o.link_type(id))
            .filter(|l| keep(l))
            .map(|l| LinkType::new(l.clone(), self.at.clone()))
            .collect()
    }
}

/// A shape that object types implement (a node of the graph).
#[derive(Clone)]
pub struct InterfaceType {
    inner: Arc<model::Interface>,
    at: Read,
}

impl InterfaceType {
    pub fn new(inner: Arc<model::Interface>, at: Read) -> Self {
        InterfaceType { inner, at }
    }
}

/// A shape that object types implement: a node of the graph.
#[Object(name = "Interface")]
impl InterfaceType {
    /// Global id (Relay `Node`): this interface on this branch at its head
    /// (stable across updates), or in one past state. Opaque; resolve it
    /// with `node(id:)`.
    pub async fn id(&self) -> ID {
        self.at.id(EntityKind::Interface, &self.inner.api_name)
    }
    /// Identity on its branch (immutable); shares the namespace of object types.
    async fn api_name(&self) -> ID {
        ID(self.inner.api_name.clone())
    }
    /// Human-readable name; defaults to the apiName.
    async fn display_name(&self) -> &str {
        &self.inner.display_name
    }
    /// Free-text description; null when none.
    async fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }
    /// Always INTERFACE.
    async fn kind(&self) -> NodeKind {
        NodeKind::Interface
    }
    /// Optimistic-lock version: 1 on creation, +1 per change.
    async fn version(&self) -> i64 {
        self.inner.version
    }
    /// apiNames of the interfaces this one extends.
    async fn extends(&self) -> Vec<ID> {
        ids(&self.inner.extends)
    }
    /// Properties declared on this interface itself (not inherited ones), in order.
    async fn properties(&self) -> Vec<Property> {
        self.inner.properties.iter().cloned().map(Property).collect()
    }
    /// entityIds (apiName or linkId) of the entities that reference this interface.
    async fn referenced_by(&self) -> Vec<ID> {
        referrers(&self.at.ontology, &self.inner.api_name)
    }
    /// The identifier in the ontology file this interface was imported
    /// from (an OBO relation id such as `part_of`, or an IRI); null when none.
    async fn curie(&self) -> Option<&str> {
        self.inner.curie.as_deref()
    }
    /// Annotations from the ontology file (for a relation: `is_transitive`,
    /// `xref`, …) in name order; only those named in `names` when given.
    async fn annotations(&self, names: Option<Vec<String>>) -> Vec<Annotation> {
        annotations::select(&self.inner.annotations, names.as_deref())
    }
}

/// A typed relation between two object types (an edge of the graph).
pub struct LinkType {
    inner: Arc<model::LinkType>,
    at: Read,
}

impl LinkType {
    pub fn new(inner: Arc<model::LinkType>, at: Read) -> Self {
        LinkType { inner, at }
    }
}

/// A typed relation from one object type to another: an edge of the
/// graph. Its identity on a branch is `linkId`,
/// `"{source}.{apiName}.{target}"`.
#[Object]
impl LinkType {
    /// Global id (Relay `Node`): this link type on this branch at its head
    /// (stable across updates), or in one past state. Opaque; resolve it
    /// with `node(id:)`. Arguments that take a link type's
    /// `"{source}.{apiName}.{target}"` accept this id too.
    pub async fn id(&self) -> ID {
        self.at.id(EntityKind::LinkType, &self.inner.id())
    }
    /// `"{source}.{apiName}.{target}"`: the identity of a link type on its
    /// branch (the same on every branch; `id` tells branches apart).
    async fn link_id(&self) -> ID {
        ID(self.inner.id())
    }
    /// The relation name, e.g. `manager`; many link types may share it.
    async fn api_name(&self) -> &str {
        &self.inner.api_name
    }
    /// apiName of the source object type.
    async fn source(&self) -> ID {
        ID(self.inner.source.clone())
    }
    /// apiName of the target object type.
    async fn target(&self) -> ID {
        ID(self.inner.target.clone())
    }
    /// The source object type itself (resolved from `source`).
    async fn source_type(&self) -> Option<ObjectType> {
        let o = &self.at.ontology;
        o.object_type(&self.inner.source).map(|t| ObjectType::new(t.clone(), self.at.clone()))
    }
    /// The target object type itself (resolved from `target`).
    async fn target_type(&self) -> Option<ObjectType> {
        let o = &self.at.ontology;
        o.object_type(&self.inner.target).map(|t| ObjectType::new(t.clone(), self.at.clone()))
    }
    /// How many objects each end relates, e.g. MANY_TO_ONE: many source objects to one target object.
    async fn cardinality(&self) -> Cardinality {
        self.inner.cardinality.into()
    }
    /// Human-readable name; defaults to the apiName.
    async fn display_name(&self) -> &str {
        &self.inner.display_name
    }
    /// Free-text description; null when none.
    async fn description(&self) -> Option<&str> {
        self.inner.description.as_deref()
    }
    /// Lifecycle status: ACTIVE (the default), EXPERIMENTAL or DEPRECATED.
    async fn status(&self) -> Status {
        self.inner.status.into()
    }
    /// Optimistic-lock version: 1 on creation, +1 per change.
    async fn version(&self) -> i64 {
        self.inner.version
    }
}

/// A property of an object type or interface.
pub struct Property(model::Property);

/// A property of an object type or interface.
#[Object]
impl Property {
    /// Unique within its owner.
    async fn api_name(&self) -> &str {
        &self.0.api_name
    }
    /// Human-readable name; defaults to the apiName.
    async fn display_name(&self) -> &str {
        self.0.display_name.as_deref().unwrap_or(&self.0.api_name)
    }
    /// Type of the values; for REFERENCE, `target` names the referenced object type.
    async fn data_type(&self) -> DataType {
        self.0.data_type.into()
    }
    /// The referenced object type, for REFERENCE properties only.
    async fn target(&self) -> Option<ID> {
        self.0.target.clone().map(ID)
    }
    /// Whether a value is mandatory (every object must have one).
    async fn required(&self) -> bool {
        self.0.required
    }
    /// Whether values must be distinct (no two objects share one).
    async fn unique(&self) -> bool {
        self.0.unique
    }
    /// Whether the property holds a list of values.
    async fn array(&self) -> bool {
        self.0.array
    }
    /// Free-text description; null when none.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
}
