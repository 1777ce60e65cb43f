//! Bounds on what one request may ask for.

use crate::error::{Error, Result};

/// Largest page a connection returns.
pub const MAX_PAGE: usize = 1000;

/// Validate a connection's `first` (null means `default`): 0..=MAX_PAGE.
pub fn page_size(first: Option<i32>, default: usize) -> Result<usize> {
    let Some(first) = first else {
        return Ok(default);
    };
    match usize::try_from(first) {
        Ok(n) if n <= MAX_PAGE => Ok(n),
        _ => Err(Error::bad_input("first", format!("must be between 0 and {MAX_PAGE}"))),
    }
}
