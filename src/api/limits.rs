//! Bounds on what one request may ask for, and the defaults of the
//! arguments that size an answer. Each default is written once, here: the
//! schema declares it (`default_with`) and a resolver falls back to it for
//! an explicit `null`.

use crate::error::{Error, Result};

/// Largest page a connection returns.
pub const MAX_PAGE: usize = 1000;

/// Validate a connection's `first` or `last`, named by `field` (null
/// means `default`): 0..=MAX_PAGE.
pub fn page_size(field: &str, n: Option<i32>, default: i32) -> Result<usize> {
    match usize::try_from(n.unwrap_or(default)) {
        Ok(n) if n <= MAX_PAGE => Ok(n),
        _ => Err(Error::bad_input(field, format!("must be between 0 and {MAX_PAGE}"))),
    }
}

/// `first` of `objectTypes`, `interfaces` and `linkTypes`.
pub const PAGE: i32 = 100;
/// `first` of `commits`.
pub const COMMITS_PAGE: i32 = 50;
/// `traverse(maxDepth, limit)`.
pub const TRAVERSE_DEPTH: i32 = 3;
pub const TRAVERSE_LIMIT: i32 = 1000;
/// `paths(maxDepth, limit)`.
pub const PATHS_DEPTH: i32 = 5;
pub const PATHS_LIMIT: i32 = 10;
/// `impact(maxDepth, limit)`.
pub const IMPACT_DEPTH: i32 = 64;
pub const IMPACT_LIMIT: i32 = 10_000;
/// `cycles(limit)`.
pub const CYCLES_LIMIT: i32 = 100;
