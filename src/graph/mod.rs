//! The graph of an ontology state and the traversal algorithms. Pure and
//! synchronous: no I/O, no async; the engine runs them on a blocking pool.
//! Nodes are object types and interfaces; edges carry a relation label (a
//! link type's apiName or the reserved `extends`, `implements`,
//! `references`). Depends on `model` only.

mod bits;
mod index;
mod patch;
mod paths;
mod query;
mod traverse;
mod visit;

#[cfg(test)]
mod patch_tests;
#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

pub use index::{Adj, Adjacent, EdgeRef, GraphIndex, NodeId, NodeKind, RelId, EXTENDS, IMPLEMENTS, REFERENCES};
pub use paths::{cycles, paths, shortest_path, Path};
pub use query::{Budget, Direction, OutOfBudget, Step, View};
pub use traverse::{impact, reachable, traverse, Traversal};
