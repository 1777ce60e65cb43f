//! Which operations are heavy, told from the text before they run: they
//! select a field whose cost grows with the ontology (a traversal, a
//! diff, a merge, a filtered scan, a past state) and read a branch whose
//! graph is too large to answer on an async worker. Heavy operations are
//! admitted to the engine's heavy lane (`engine::lane`), which refuses
//! them with `OVERLOADED` when full; everything else — `__typename`,
//! entity lookups, small graphs, answers the response cache holds —
//! never waits behind them (docs/ARCHITECTURE.md, "Two lanes").

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet};

use super::reads::Reads;
use crate::engine::Engine;

/// Fields whose work grows with the graph or the history.
const HEAVY_FIELDS: &[&str] =
    &["traverse", "shortestPath", "paths", "reachable", "impact", "cycles", "diff", "mergeBranch"];

/// Lists that scan every entity when given a `filter`.
const SCANS: &[&str] = &["objectTypes", "interfaces", "linkTypes"];

/// Whether `op` selects a field whose work grows with the ontology.
/// Fragments are scanned whether or not they are spread (validation
/// refuses unused ones): no walk through possibly cyclic spreads.
pub fn selects_heavy_fields(doc: &ExecutableDocument, op: &OperationDefinition) -> bool {
    selects_heavy(&op.selection_set.node) || doc.fragments.values().any(|f| selects_heavy(&f.node.selection_set.node))
}

/// Whether what an operation reads (`reads::reads`) includes a branch too
/// large to answer on an async worker.
pub fn reads_large(reads: &Reads, engine: &Engine) -> bool {
    match reads {
        Reads::Branches(names) => names.iter().any(|n| engine.branch(n).is_some_and(|b| b.state.is_large())),
        Reads::Any => engine.branches().iter().any(|b| b.state.is_large()),
    }
}

fn selects_heavy(set: &SelectionSet) -> bool {
    set.items.iter().any(|sel| match &sel.node {
        Selection::Field(f) => {
            let f = &f.node;
            let name = f.name.node.as_str();
            let has = |arg: &str| f.arguments.iter().any(|(a, _)| a.node == arg);
            HEAVY_FIELDS.contains(&name)
                || (name == "branch" && has("at"))
                || (SCANS.contains(&name) && has("filter"))
                || selects_heavy(&f.selection_set.node)
        }
        Selection::InlineFragment(i) => selects_heavy(&i.node.selection_set.node),
        Selection::FragmentSpread(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heavy_text(text: &str) -> bool {
        let doc = async_graphql::parser::parse_query(text).unwrap();
        let (_, op) = doc.operations.iter().next().unwrap();
        selects_heavy_fields(&doc, &op.node)
    }

    #[test]
    fn heavy_fields_are_found_through_nesting_and_fragments() {
        assert!(!heavy_text("{ __typename }"));
        assert!(!heavy_text(
            r#"{ branch { objectType(apiName: "A") { apiName } objectTypes(first: 5) { totalCount } } }"#
        ));
        assert!(heavy_text(r#"{ branch { impact(of: "A") { truncated } } }"#));
        assert!(heavy_text(r#"{ branch(name: "main", at: 3) { version } }"#));
        assert!(heavy_text(r#"{ branch { objectTypes(filter: { search: "x" }) { totalCount } } }"#));
        assert!(heavy_text(r#"{ branch { ...F } } fragment F on Branch { ... on Branch { cycles { truncated } } }"#));
        assert!(heavy_text(r#"mutation { mergeBranch(source: "a", target: "b") { merged } }"#));
    }
}
