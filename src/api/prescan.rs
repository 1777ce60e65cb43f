//! The first request limits, checked on the raw text with a linear scan:
//! document size, token count and bracket nesting. They run before any
//! parse, so a huge or deeply nested text costs one pass and is refused
//! naming the limit (async-graphql's parser stops at 64 levels of nesting
//! too, but as a syntax error, after building its parse tree).

use super::guard::QueryLimits;
use crate::error::Error;

/// Refuses a text that is too large, has too many tokens or nests
/// brackets deeper than the limits allow.
pub fn prescan(query: &str, limits: &QueryLimits) -> Result<(), Error> {
    if query.len() > limits.max_document_bytes {
        return Err(Error::LimitExceeded(format!(
            "the query document is {} bytes; the limit is {}",
            query.len(),
            limits.max_document_bytes
        )));
    }
    let (mut tokens, mut depth) = (0usize, 0usize);
    let b = query.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' => i = skip_string(b, i),
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > limits.max_nesting() {
                    return Err(Error::LimitExceeded(format!(
                        "the query is nested deeper than {} levels of brackets (max query depth {})",
                        limits.max_nesting(),
                        limits.max_depth
                    )));
                }
                i += 1;
            }
            b'}' | b')' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'.' if b[i..].starts_with(b"...") => i += 3,
            b'!' | b'$' | b'&' | b':' | b'=' | b'@' | b'|' | b'.' => i += 1,
            _ => {
                // A name, a number or anything else: up to the next separator.
                while i < b.len() && !is_separator(b[i]) {
                    i += 1;
                }
            }
        }
        tokens += 1;
        if tokens > limits.max_tokens {
            return Err(Error::LimitExceeded(format!("the query has more than {} tokens", limits.max_tokens)));
        }
    }
    Ok(())
}

fn is_separator(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t'
            | b'\n'
            | b'\r'
            | b','
            | b'#'
            | b'"'
            | b'{'
            | b'}'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'!'
            | b'$'
            | b'&'
            | b':'
            | b'='
            | b'@'
            | b'|'
            | b'.'
    )
}

/// The index just past the string starting at `i` (a `"…"` or `"""…"""`).
fn skip_string(b: &[u8], i: usize) -> usize {
    if b[i..].starts_with(b"\"\"\"") {
        let mut j = i + 3;
        while j < b.len() {
            if b[j..].starts_with(b"\\\"\"\"") {
                j += 4;
            } else if b[j..].starts_with(b"\"\"\"") {
                return j + 3;
            } else {
                j += 1;
            }
        }
        return j;
    }
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            b'\n' | b'\r' => return j,
            _ => j += 1,
        }
    }
    j.min(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::DEFAULT_LIMITS;

    fn limits() -> QueryLimits {
        QueryLimits { max_depth: 4, max_tokens: 20, max_document_bytes: 200, ..DEFAULT_LIMITS }
    }

    #[test]
    fn prescan_counts_tokens_and_nesting_outside_strings_and_comments() {
        let l = limits();
        assert!(prescan("{ a { b } }", &l).is_ok());
        // Brackets inside strings, block strings and comments do not nest.
        assert!(prescan(r#"{ a(s: "{{{{{{{{{{{{{{{{{{{{") }"#, &l).is_ok());
        assert!(prescan("{ a(s: \"\"\"[[[[[[[[[[[[[[[[ \\\"\"\" ]]]]\"\"\") }", &l).is_ok());
        assert!(prescan("{ a # ((((((((((((((((((((\n }", &l).is_ok());
        // 2 × 4 + 8 = 16 levels allowed, 17 refused.
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let wide = QueryLimits { max_tokens: 1000, ..l };
        assert!(prescan(&nest(16), &wide).is_ok());
        assert!(prescan(&nest(17), &wide).unwrap_err().to_string().contains("nested deeper than 16"));
        assert!(prescan(&"a ".repeat(21), &l).unwrap_err().to_string().contains("more than 20 tokens"));
        assert!(prescan(&"#".repeat(201), &l).unwrap_err().to_string().contains("201 bytes"));
        // Spreads and punctuators are tokens; an unterminated string is left to the parser.
        assert!(prescan("{ ...F } fragment F on Q { a }", &l).is_ok());
        assert!(prescan("{ a(s: \"unterminated", &l).is_ok());
    }
}
