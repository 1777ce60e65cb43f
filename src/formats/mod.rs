//! Ontology files in and out: OBO (`obo`) and OWL (`owl`: RDF/XML or
//! Turtle in, Turtle out), mapped onto the model as docs/formats.md
//! describes; identifiers ↔ apiNames in `ids`. Synchronous and pure but
//! for the reader and writer they are handed: the CLI runs them on a
//! blocking thread. Depends on `model` only.

pub mod ids;
pub mod obo;
pub mod owl;

use std::fmt;

/// What a file held (reading) or what was written: counts for the
/// report, and what could not be kept.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Terms (OWL classes), obsolete ones included.
    pub terms: usize,
    pub obsolete: usize,
    /// Relations declared (OBO Typedefs, OWL object properties).
    pub typedefs: usize,
    /// `is_a` / `rdfs:subClassOf` edges between terms (distinct per term).
    pub is_a: usize,
    /// `is_a` between relations.
    pub typedef_is_a: usize,
    /// `relationship` / `subClassOf (P some C)` edges.
    pub relationships: usize,
    /// `intersection_of` genus and differentia edges.
    pub intersections: usize,
    /// Qualifier lists on clauses that map to a field (not kept).
    pub dropped_qualifiers: usize,
    /// Lines of `xref`s with an unescaped space in the id (not OBO 1.4),
    /// read with the space escaped.
    pub repaired: Vec<usize>,
    /// OWL axioms and annotations with no place in the model (class
    /// expressions other than named classes, `some` restrictions and
    /// intersections of them).
    pub dropped_axioms: usize,
    /// Properties and `implements` entries, which no OBO or OWL term
    /// carries (not written).
    pub dropped_properties: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} terms ({} obsolete), {} relations, {} is_a, {} relationships, {} intersection_of",
            self.terms, self.obsolete, self.typedefs, self.is_a, self.relationships, self.intersections
        )
    }
}

/// A file that cannot be imported: where, and why.
#[derive(Debug)]
pub struct FormatError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl FormatError {
    pub fn at(file: &str, line: usize, column: Option<usize>, message: String) -> Self {
        FormatError { file: file.to_owned(), line: Some(line), column, message }
    }

    pub fn io(file: &str, e: impl fmt::Display) -> Self {
        FormatError { file: file.to_owned(), line: None, column: None, message: format!("reading failed: {e}") }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(c) = self.column {
            write!(f, ":{c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for FormatError {}
