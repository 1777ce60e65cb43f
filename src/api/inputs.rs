//! GraphQL input types and their conversion to model changes.

use async_graphql::{InputObject, MaybeUndefined, OneofObject, ID};

use super::enums::{Cardinality, DataType, Status};
use crate::model::{self, Change};

/// A property of a new or updated object type or interface.
#[derive(InputObject)]
pub struct PropertyInput {
    /// Unique within its owner: `^[A-Za-z][A-Za-z0-9_]*$`.
    api_name: String,
    /// Human-readable name; defaults to the apiName.
    display_name: Option<String>,
    /// Type of the values; REFERENCE also needs `target`.
    data_type: DataType,
    /// Required for REFERENCE properties (an object type), forbidden otherwise.
    target: Option<ID>,
    /// Whether a value is mandatory (every object must have one); default false.
    #[graphql(default)]
    required: bool,
    /// Whether values must be distinct (no two objects share one); default false.
    #[graphql(default)]
    unique: bool,
    /// Whether the property holds a list of values; default false.
    #[graphql(default)]
    array: bool,
    /// Free-text description.
    description: Option<String>,
}

impl From<PropertyInput> for model::Property {
    fn from(p: PropertyInput) -> Self {
        model::Property {
            api_name: p.api_name,
            display_name: p.display_name,
            data_type: p.data_type.into(),
            target: p.target.map(|t| t.0),
            required: p.required,
            unique: p.unique,
            array: p.array,
            description: p.description,
        }
    }
}

fn props(p: Vec<PropertyInput>) -> Vec<model::Property> {
    p.into_iter().map(Into::into).collect()
}

fn names(ids: Vec<ID>) -> Vec<String> {
    ids.into_iter().map(|i| i.0).collect()
}

/// Optional text where `null` clears the value and absence keeps it.
fn clearable(v: MaybeUndefined<String>) -> Option<Option<String>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(s) => Some(Some(s)),
    }
}

/// A new object type.
#[derive(InputObject)]
pub struct ObjectTypeInput {
    /// Identity: `^[A-Za-z][A-Za-z0-9_]*$`, unique across object types and interfaces.
    api_name: ID,
    /// Defaults to the apiName.
    display_name: Option<String>,
    /// Free-text description.
    description: Option<String>,
    /// Lifecycle status; default ACTIVE.
    #[graphql(default_with = "Status::Active")]
    status: Status,
    /// Its properties; apiNames unique within the object type. Default none.
    #[graphql(default)]
    properties: Vec<PropertyInput>,
    /// Parent object types (apiNames).
    #[graphql(default)]
    extends: Vec<ID>,
    /// Implemented interfaces (apiNames).
    #[graphql(default)]
    implements: Vec<ID>,
}

impl From<ObjectTypeInput> for model::ObjectType {
    fn from(i: ObjectTypeInput) -> Self {
        model::ObjectType {
            display_name: i.display_name.unwrap_or_default(),
            api_name: i.api_name.0,
            description: i.description,
            status: i.status.into(),
            properties: props(i.properties),
            extends: names(i.extends),
            implements: names(i.implements),
            curie: None,
            annotations: Default::default(),
            version: 0,
        }
    }
}

/// Changes to an object type; omitted fields stay as they are. Lists
/// (properties, extends, implements) are replaced whole.
#[derive(InputObject, Default)]
pub struct ObjectTypePatch {
    /// New human-readable name.
    display_name: Option<String>,
    /// `null` clears the description.
    description: MaybeUndefined<String>,
    /// New lifecycle status.
    status: Option<Status>,
    /// Replaces the whole property list.
    properties: Option<Vec<PropertyInput>>,
    /// Replaces the parent object types (apiNames).
    extends: Option<Vec<ID>>,
    /// Replaces the implemented interfaces (apiNames).
    implements: Option<Vec<ID>>,
}

impl From<ObjectTypePatch> for model::ObjectTypePatch {
    fn from(p: ObjectTypePatch) -> Self {
        model::ObjectTypePatch {
            display_name: p.display_name,
            description: clearable(p.description),
            status: p.status.map(Into::into),
            properties: p.properties.map(props),
            extends: p.extends.map(names),
            implements: p.implements.map(names),
        }
    }
}

/// A new interface.
#[derive(InputObject)]
pub struct InterfaceInput {
    /// Identity: `^[A-Za-z][A-Za-z0-9_]*$`, unique across object types and interfaces.
    api_name: ID,
    /// Defaults to the apiName.
    display_name: Option<String>,
    /// Free-text description.
    description: Option<String>,
    /// Parent interfaces (apiNames).
    #[graphql(default)]
    extends: Vec<ID>,
    /// Its properties; apiNames unique within the interface. Default none.
    #[graphql(default)]
    properties: Vec<PropertyInput>,
}

impl From<InterfaceInput> for model::Interface {
    fn from(i: InterfaceInput) -> Self {
        model::Interface {
            display_name: i.display_name.unwrap_or_default(),
            api_name: i.api_name.0,
            description: i.description,
            extends: names(i.extends),
            properties: props(i.properties),
            curie: None,
            annotations: Default::default(),
            version: 0,
        }
    }
}

/// Changes to an interface; omitted fields stay as they are.
#[derive(InputObject, Default)]
pub struct InterfacePatch {
    /// New human-readable name.
    display_name: Option<String>,
    /// `null` clears the description.
    description: MaybeUndefined<String>,
    /// Replaces the whole property list.
    properties: Option<Vec<PropertyInput>>,
    /// Replaces the parent interfaces (apiNames).
    extends: Option<Vec<ID>>,
}

impl From<InterfacePatch> for model::InterfacePatch {
    fn from(p: InterfacePatch) -> Self {
        model::InterfacePatch {
            display_name: p.display_name,
            description: clearable(p.description),
            properties: p.properties.map(props),
            extends: p.extends.map(names),
        }
    }
}

/// A new link type. Its linkId is `"{source}.{apiName}.{target}"`.
#[derive(InputObject)]
pub struct LinkTypeInput {
    /// The relation name, e.g. `manager`.
    api_name: String,
    /// Source object type (apiName).
    source: ID,
    /// Target object type (apiName).
    target: ID,
    /// How many objects each end relates; default MANY_TO_ONE.
    #[graphql(default_with = "Cardinality::ManyToOne")]
    cardinality: Cardinality,
    /// Defaults to the apiName.
    display_name: Option<String>,
    /// Free-text description.
    description: Option<String>,
    /// Lifecycle status; default ACTIVE.
    #[graphql(default_with = "Status::Active")]
    status: Status,
}

impl From<LinkTypeInput> for model::LinkType {
    fn from(l: LinkTypeInput) -> Self {
        model::LinkType {
            display_name: l.display_name.unwrap_or_default(),
            api_name: l.api_name,
            source: l.source.0,
            target: l.target.0,
            cardinality: l.cardinality.into(),
            description: l.description,
            status: l.status.into(),
            version: 0,
        }
    }
}

/// Changes to a link type. Source, apiName and target are its identity
/// and cannot change: delete and create instead.
#[derive(InputObject, Default)]
pub struct LinkTypePatch {
    /// New cardinality.
    cardinality: Option<Cardinality>,
    /// New human-readable name.
    display_name: Option<String>,
    /// `null` clears the description.
    description: MaybeUndefined<String>,
    /// New lifecycle status.
    status: Option<Status>,
}

impl From<LinkTypePatch> for model::LinkTypePatch {
    fn from(p: LinkTypePatch) -> Self {
        model::LinkTypePatch {
            cardinality: p.cardinality.map(Into::into),
            display_name: p.display_name,
            description: clearable(p.description),
            status: p.status.map(Into::into),
        }
    }
}

/// Update of an object type inside a batch `commit`.
#[derive(InputObject)]
pub struct UpdateObjectTypeChange {
    /// The object type to update (apiName).
    api_name: ID,
    /// The entity `version` you last read; a mismatch fails the whole commit with VERSION_CONFLICT.
    expected_version: i64,
    /// The changes; omitted fields stay as they are.
    patch: ObjectTypePatch,
}

/// Update of an interface inside a batch `commit`.
#[derive(InputObject)]
pub struct UpdateInterfaceChange {
    /// The interface to update (apiName).
    api_name: ID,
    /// The entity `version` you last read; a mismatch fails the whole commit with VERSION_CONFLICT.
    expected_version: i64,
    /// The changes; omitted fields stay as they are.
    patch: InterfacePatch,
}

/// Update of a link type inside a batch `commit`.
#[derive(InputObject)]
pub struct UpdateLinkTypeChange {
    /// The link type to update: its `linkId`, `"{source}.{apiName}.{target}"`,
    /// or its `id` on this branch.
    id: ID,
    /// The entity `version` you last read; a mismatch fails the whole commit with VERSION_CONFLICT.
    expected_version: i64,
    /// The changes; omitted fields stay as they are.
    patch: LinkTypePatch,
}

/// Deletion of an object type or interface inside a batch `commit`.
#[derive(InputObject)]
pub struct DeleteNodeChange {
    /// The object type or interface to delete (apiName).
    api_name: ID,
    /// The entity `version` you last read; a mismatch fails the whole commit with VERSION_CONFLICT.
    expected_version: i64,
    /// Also delete dependent link types and remove references to the node.
    #[graphql(default)]
    cascade: bool,
}

/// Deletion of a link type inside a batch `commit`.
#[derive(InputObject)]
pub struct DeleteLinkTypeChange {
    /// The link type to delete: its `linkId`, `"{source}.{apiName}.{target}"`,
    /// or its `id` on this branch.
    id: ID,
    /// The entity `version` you last read; a mismatch fails the whole commit with VERSION_CONFLICT.
    expected_version: i64,
}

/// One change of a batch `commit`: exactly one of the fields.
#[derive(OneofObject)]
pub enum ChangeInput {
    /// Create an object type.
    CreateObjectType(ObjectTypeInput),
    /// Update an object type, guarded by its `expectedVersion`.
    UpdateObjectType(UpdateObjectTypeChange),
    /// Delete an object type (`cascade` to delete its dependents too).
    DeleteObjectType(DeleteNodeChange),
    /// Create an interface.
    CreateInterface(InterfaceInput),
    /// Update an interface, guarded by its `expectedVersion`.
    UpdateInterface(UpdateInterfaceChange),
    /// Delete an interface (`cascade` to remove references to it too).
    DeleteInterface(DeleteNodeChange),
    /// Create a link type.
    CreateLinkType(LinkTypeInput),
    /// Update a link type, guarded by its `expectedVersion`.
    UpdateLinkType(UpdateLinkTypeChange),
    /// Delete a link type.
    DeleteLinkType(DeleteLinkTypeChange),
}

impl ChangeInput {
    /// The link type argument of an update or delete of a link type.
    pub fn link_id_mut(&mut self) -> Option<&mut ID> {
        match self {
            ChangeInput::UpdateLinkType(u) => Some(&mut u.id),
            ChangeInput::DeleteLinkType(d) => Some(&mut d.id),
            _ => None,
        }
    }
}

impl From<ChangeInput> for Change {
    fn from(c: ChangeInput) -> Self {
        match c {
            ChangeInput::CreateObjectType(i) => Change::CreateObjectType(i.into()),
            ChangeInput::UpdateObjectType(u) => Change::UpdateObjectType {
                api_name: u.api_name.0,
                expected_version: u.expected_version,
                patch: u.patch.into(),
            },
            ChangeInput::DeleteObjectType(d) => Change::DeleteObjectType {
                api_name: d.api_name.0,
                expected_version: d.expected_version,
                cascade: d.cascade,
            },
            ChangeInput::CreateInterface(i) => Change::CreateInterface(i.into()),
            ChangeInput::UpdateInterface(u) => Change::UpdateInterface {
                api_name: u.api_name.0,
                expected_version: u.expected_version,
                patch: u.patch.into(),
            },
            ChangeInput::DeleteInterface(d) => Change::DeleteInterface {
                api_name: d.api_name.0,
                expected_version: d.expected_version,
                cascade: d.cascade,
            },
            ChangeInput::CreateLinkType(l) => Change::CreateLinkType(l.into()),
            ChangeInput::UpdateLinkType(u) => {
                Change::UpdateLinkType { id: u.id.0, expected_version: u.expected_version, patch: u.patch.into() }
            }
            ChangeInput::DeleteLinkType(d) => {
                Change::DeleteLinkType { id: d.id.0, expected_version: d.expected_version }
            }
        }
    }
}
