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
    String,
    Integer,
    Decimal,
    Boolean,
    Date,
    Datetime,
    Json,
    /// A reference to an object type, named by the property's `target`.
    Reference,
}

/// How many objects a link type relates on each side.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::Cardinality")]
pub enum Cardinality {
    OneToOne,
    OneToMany,
    ManyToOne,
    ManyToMany,
}

/// Kind of entity in commits, diffs and conflicts.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::EntityKind")]
pub enum EntityKind {
    ObjectType,
    Interface,
    LinkType,
}

/// What a commit did to an entity.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::ChangeKind")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// The two kinds of graph node.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum NodeKind {
    ObjectType,
    Interface,
}
