//! Ontology entities, validation and immutable ontology states.
//! Pure: no I/O, no async. Depends on nothing else in the crate but `error`
//! (its unit tests also use the document generator, `cli::generate`).

mod change;
pub mod checkpoint;
mod document;
mod merge;
mod ontology;
mod release;
mod types;
pub mod validate;

#[cfg(test)]
mod merge_tests;
#[cfg(test)]
mod tests;

pub use change::{
    Applied, Change, ChangeKind, CommitRecord, EntityChange, InterfacePatch, LinkTypePatch, ObjectTypePatch,
};
pub use document::{demo, Document, DocumentRef};
pub use merge::{merge, Conflict, ConflictKind, Merged, Resolution, Side};
pub use ontology::{Entity, Name, Ontology, RefField, Reference};
pub use release::Absent;
pub use types::*;
