//! Bounds on a request's input, checked before execution: the variables
//! (their total size and JSON nesting) and every argument value with its
//! variables substituted, fragments expanded (memoized). A variable is
//! sent once but may be used many times: one 64 KiB `$d` referenced by
//! 2,000 arguments is 128 MiB of input that async-graphql would build
//! before any resolver could refuse it. Sizes are those of the values
//! written as JSON.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet};
use async_graphql::{Name, Value, Variables};

use super::guard::QueryLimits;
use crate::error::Error;

/// The JSON size and nesting depth of a value (depth 1 for a scalar).
fn measure(v: &Value) -> (usize, usize) {
    let mut stack = vec![(v, 1usize)];
    let (mut size, mut depth) = (0usize, 0usize);
    while let Some((v, d)) = stack.pop() {
        depth = depth.max(d);
        size = size.saturating_add(match v {
            Value::Null | Value::Boolean(_) => 5,
            Value::Number(_) => 8,
            Value::String(s) => s.len() + 2,
            Value::Enum(e) => e.len() + 2,
            Value::Binary(b) => b.len(),
            Value::List(items) => {
                stack.extend(items.iter().map(|i| (i, d + 1)));
                items.len() + 1
            }
            Value::Object(fields) => {
                stack.extend(fields.values().map(|i| (i, d + 1)));
                fields.keys().map(|k| k.len() + 4).sum::<usize>() + 1
            }
        });
    }
    (size, depth)
}

/// The size of an argument value as written, variables substituted.
fn argument_size(v: &async_graphql_value::Value, vars: &HashMap<&Name, usize>) -> usize {
    use async_graphql_value::Value as V;
    match v {
        V::Variable(name) => vars.get(name).copied().unwrap_or(5),
        V::List(items) => items.iter().fold(1usize, |n, i| n.saturating_add(argument_size(i, vars))),
        V::Object(fields) => {
            fields.iter().fold(1usize, |n, (k, i)| n.saturating_add(k.len() + 4).saturating_add(argument_size(i, vars)))
        }
        V::String(s) => s.len() + 2,
        V::Enum(e) => e.len() + 2,
        V::Binary(b) => b.len(),
        V::Null | V::Boolean(_) => 5,
        V::Number(_) => 8,
    }
}

/// Argument bytes of selection sets, fragments expanded and memoized.
struct Inputs<'a> {
    doc: &'a ExecutableDocument,
    vars: HashMap<&'a Name, usize>,
    memo: HashMap<&'a Name, Option<usize>>,
}

impl<'a> Inputs<'a> {
    fn of(&mut self, set: &'a SelectionSet) -> usize {
        let mut n = 0usize;
        for s in &set.items {
            let more = match &s.node {
                Selection::Field(f) => {
                    let args = f.node.arguments.iter().map(|(_, v)| argument_size(&v.node, &self.vars));
                    args.fold(0usize, usize::saturating_add).saturating_add(self.of(&f.node.selection_set.node))
                }
                Selection::InlineFragment(f) => self.of(&f.node.selection_set.node),
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node),
            };
            n = n.saturating_add(more);
        }
        n
    }

    fn fragment(&mut self, name: &'a Name) -> usize {
        match self.memo.get(name) {
            Some(Some(n)) => return *n,
            // A cycle: validation reports it.
            Some(None) => return 0,
            None => {}
        }
        let Some(def) = self.doc.fragments.get(name) else { return 0 };
        self.memo.insert(name, None);
        let n = self.of(&def.node.selection_set.node);
        self.memo.insert(name, Some(n));
        n
    }
}

/// `LIMIT_EXCEEDED` when the variables are too large or too deep, or the
/// operation's arguments with the variables substituted are too large.
pub fn check_inputs(
    doc: &ExecutableDocument,
    op: &OperationDefinition,
    variables: &Variables,
    limits: &QueryLimits,
) -> Result<(), Error> {
    let mut vars = HashMap::new();
    let mut total = 0usize;
    for (name, value) in variables.iter() {
        let (size, depth) = measure(value);
        if depth > limits.max_variables_depth {
            return Err(Error::LimitExceeded(format!(
                "variable ${name} nests {depth} levels deep; the limit is {} (--max-variables-depth)",
                limits.max_variables_depth
            )));
        }
        total = total.saturating_add(size);
        vars.insert(name, size);
    }
    if total > limits.max_variables_bytes {
        return Err(Error::LimitExceeded(format!(
            "the variables are {total} bytes; the limit is {} (--max-variables-bytes)",
            limits.max_variables_bytes
        )));
    }
    let mut inputs = Inputs { doc, vars, memo: HashMap::new() };
    let expanded = inputs.of(&op.selection_set.node);
    if expanded > limits.max_input_bytes {
        return Err(Error::LimitExceeded(format!(
            "the arguments are {expanded} bytes with their variables substituted; the limit is {} (--max-input-bytes)",
            limits.max_input_bytes
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::DEFAULT_LIMITS;

    fn check(query: &str, vars: serde_json::Value, limits: &QueryLimits) -> Result<(), Error> {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let (_, op) = doc.operations.iter().next().unwrap();
        check_inputs(&doc, &op.node, &Variables::from_json(vars), limits)
    }

    #[test]
    fn a_variable_counts_once_per_use_through_fragments() {
        let limits = QueryLimits { max_input_bytes: 10_000, ..DEFAULT_LIMITS };
        let big = "x".repeat(1000);
        let once = "query($d: String) { a(x: $d) }";
        assert!(check(once, serde_json::json!({ "d": big }), &limits).is_ok());
        // Used 8 times through a fragment spread 2 × 4 times: 8,000 bytes, fine;
        // 16 times: over 10,000.
        let q = "query($d: String) { ...F ...F } fragment F on Q { a(x: $d) b(x: $d) c(x: $d) d(x: $d) }";
        assert!(check(q, serde_json::json!({ "d": big }), &limits).is_ok());
        let q16 = q.replace("{ ...F ...F }", "{ ...F ...F ...F ...F }");
        let err = check(&q16, serde_json::json!({ "d": big }), &limits).unwrap_err().to_string();
        assert!(err.contains("--max-input-bytes"), "{err}");
        // Literal arguments count too.
        let literal = format!("{{ a(x: \"{}\") }}", "y".repeat(20_000));
        assert!(check(&literal, serde_json::json!({}), &limits).is_err());
    }

    #[test]
    fn variables_are_bounded_in_size_and_depth() {
        let limits = QueryLimits { max_variables_bytes: 100, max_variables_depth: 4, ..DEFAULT_LIMITS };
        let q = "query($v: JSON) { a(x: 1) }";
        assert!(check(q, serde_json::json!({ "v": [[["ok"]]] }), &limits).is_ok());
        let deep = check(q, serde_json::json!({ "v": [[[["deep"]]]] }), &limits).unwrap_err().to_string();
        assert!(deep.contains("--max-variables-depth"), "{deep}");
        let big = check(q, serde_json::json!({ "v": "z".repeat(200) }), &limits).unwrap_err().to_string();
        assert!(big.contains("--max-variables-bytes"), "{big}");
    }
}
