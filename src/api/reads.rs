//! Which branch heads an operation reads, told from its text: the
//! whole-response cache replays a response only while those heads stay
//! where they were, and the warm plan re-runs an operation after a commit
//! on one of them. One walker for both, so they never disagree.

use std::collections::BTreeSet;

use async_graphql::parser::types::{ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet};
use async_graphql::{Name, Value, Variables};

use crate::engine::MAIN;

/// The branch heads an operation's answer depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reads {
    /// Only these branches (possibly none: `__typename`, introspection).
    Branches(BTreeSet<String>),
    /// Anything, or not known from the text: `server` (live statistics),
    /// `branches`, a branch name that cannot be resolved, fragments or
    /// directives at the root.
    Any,
}

/// What `op` reads, with `variables` (and the operation's defaults) for
/// branch names given as variables. `branch(name, at:)` counts as reading
/// the head too: `at` beyond the head answers null until commits land.
/// A `diff` below a branch reads its `against` branch (and the merges
/// between the two, which only a commit on one of them moves).
pub fn reads(doc: &ExecutableDocument, op: &OperationDefinition, variables: &Variables) -> Reads {
    if !op.directives.is_empty() {
        return Reads::Any;
    }
    let names = Names { op, variables };
    let mut out = BTreeSet::new();
    for sel in &op.selection_set.node.items {
        let Selection::Field(f) = &sel.node else { return Reads::Any };
        let f = &f.node;
        match f.name.node.as_str() {
            "__typename" | "__schema" | "__type" => {}
            "branch" => {
                let Some(name) = names.branch_arg(f, "name") else { return Reads::Any };
                out.insert(name);
                if walk_diffs(doc, &f.selection_set.node, &names, &mut out, 0).is_none() {
                    return Reads::Any;
                }
            }
            _ => return Reads::Any,
        }
    }
    Reads::Branches(out)
}

/// Resolves branch-name arguments.
struct Names<'a> {
    op: &'a OperationDefinition,
    variables: &'a Variables,
}

impl Names<'_> {
    /// A branch-name argument: literal, variable (given, else its default),
    /// or `main` when omitted.
    fn branch_arg(&self, f: &Field, arg: &str) -> Option<String> {
        match f.arguments.iter().find(|(a, _)| a.node == arg).map(|(_, v)| &v.node) {
            None => Some(MAIN.to_owned()),
            Some(v) => match v.clone().into_const_with(|var| self.variable(&var)).ok()? {
                Value::String(s) => Some(s),
                _ => None,
            },
        }
    }

    fn variable(&self, name: &Name) -> Result<Value, ()> {
        if let Some(v) = self.variables.get(name) {
            return Ok(v.clone());
        }
        let def = self.op.variable_definitions.iter().find(|d| d.node.name.node == *name).ok_or(())?;
        def.node.default_value.as_ref().map(|d| d.node.clone()).ok_or(())
    }
}

/// Adds the `against` of every `diff` below `set`, through fragments;
/// `None` when one cannot be told from the text.
fn walk_diffs(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    names: &Names<'_>,
    out: &mut BTreeSet<String>,
    depth: usize,
) -> Option<()> {
    // Fragments may form cycles (validation reports them later).
    if depth > 64 {
        return None;
    }
    for sel in &set.items {
        let below = match &sel.node {
            Selection::Field(f) => {
                if f.node.name.node == "diff" {
                    out.insert(names.branch_arg(&f.node, "against")?);
                }
                &f.node.selection_set.node
            }
            Selection::InlineFragment(i) => &i.node.selection_set.node,
            Selection::FragmentSpread(s) => &doc.fragments.get(&s.node.fragment_name.node)?.node.selection_set.node,
        };
        walk_diffs(doc, below, names, out, depth + 1)?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads_of(text: &str, vars: serde_json::Value) -> Reads {
        let doc = async_graphql::parser::parse_query(text).unwrap();
        let (_, op) = doc.operations.iter().next().unwrap();
        reads(&doc, &op.node, &Variables::from_json(vars))
    }

    fn set(b: &[&str]) -> Reads {
        Reads::Branches(b.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn branch_reads_from_literals_variables_defaults_and_diffs() {
        let none = serde_json::json!({});
        assert_eq!(reads_of("{ branch { version } }", none.clone()), set(&["main"]));
        assert_eq!(reads_of("{ __typename __schema { queryType { name } } }", none.clone()), set(&[]));
        assert_eq!(reads_of(r#"{ a: branch(name: "dev", at: 2) { version } }"#, none.clone()), set(&["dev"]));
        let q = r#"query($b: String! = "qa") { branch(name: $b) { version } }"#;
        assert_eq!(reads_of(q, none.clone()), set(&["qa"]));
        assert_eq!(reads_of(q, serde_json::json!({ "b": "dev" })), set(&["dev"]));
        assert_eq!(reads_of("query($b: String!) { branch(name: $b) { version } }", none.clone()), Reads::Any);
        let diff = r#"{ branch(name: "dev") { ...D } } fragment D on Branch { ... on Branch { diff(against: "qa") { base } } }"#;
        assert_eq!(reads_of(diff, none.clone()), set(&["dev", "qa"]));
        for any in ["{ server { version } }", "{ branches { name } }", "{ ... on Query { branch { version } } }"] {
            assert_eq!(reads_of(any, none.clone()), Reads::Any, "{any}");
        }
        let cycle = "{ branch { ...A } } fragment A on Branch { ...B } fragment B on Branch { ...A }";
        assert_eq!(reads_of(cycle, none), Reads::Any);
    }
}
