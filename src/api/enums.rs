//! GraphQL enums, mirrored from the model (`remote` generates the
//! conversions both ways).

use async_graphql::Enum;

use crate::model;

/// Lifecycle of an object type or link type.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::Status")]
pub enum Status {
    /// In use; the default.
    Active,
    /// Being tried out; may change without notice.
    Experimental,
    /// Kept for compatibility; do not build on it.
    Deprecated,
}

/// The type of a property's values.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::DataType")]
pub enum DataType {
    /// Text (Unicode).
    String,
    /// Whole number.
    Integer,
    /// Number with a fractional part, e.g. `12.50`.
    Decimal,
    /// `true` or `false`.
    Boolean,
    /// Calendar date without time of day, ISO 8601 (e.g. `2024-05-31`).
    Date,
    /// Point in time, ISO 8601 with offset (e.g. `2024-05-31T14:00:00Z`).
    Datetime,
    /// Any JSON value (object, array or scalar).
    Json,
    /// A reference to an object type, named by the property's `target`.
    Reference,
}

/// How many objects a link type relates on each side.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::Cardinality")]
pub enum Cardinality {
    /// One source object relates to one target object, and vice versa.
    OneToOne,
    /// One source object relates to many target objects; each target to one source.
    OneToMany,
    /// Many source objects relate to one target object (e.g. employee → manager); the default.
    ManyToOne,
    /// Many source objects relate to many target objects.
    ManyToMany,
}

/// Kind of entity in commits, diffs and conflicts.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::EntityKind")]
pub enum EntityKind {
    /// An object type; its entityId is its apiName.
    ObjectType,
    /// An interface; its entityId is its apiName.
    Interface,
    /// A link type; its entityId is `"{source}.{apiName}.{target}"`.
    LinkType,
}

/// What a commit did to an entity.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::ChangeKind")]
pub enum ChangeKind {
    /// The entity was created.
    Added,
    /// The entity existed and changed; `fields` lists which top-level fields.
    Modified,
    /// The entity was deleted.
    Deleted,
}

/// The two kinds of graph node.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum NodeKind {
    /// An object type (`ObjectType`).
    ObjectType,
    /// An interface (`Interface`).
    Interface,
}
