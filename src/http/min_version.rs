//! The header form of `branch(minVersion:)` (docs/production.md, "Read
//! your writes"): `Ontograph-Min-Version: main=12, dev=3` holds the whole
//! request until this server has each branch at that version or later,
//! so a client pins its read-your-writes once, in its HTTP link, instead
//! of in every query. A bare number names `main`. Waits like the argument
//! does (catch up with the database, then up to 5 s); past that the
//! request is refused, 503 with `Retry-After` and `LIMIT_EXCEEDED` (or
//! the code of the database error that kept it from catching up): a load
//! balancer may retry it on another replica.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::graphql::reject;
use super::negotiate::MediaType;
use super::AppState;
use crate::engine::MAIN;
use crate::error::Error;

pub const HEADER: &str = "ontograph-min-version";

/// At most this many branches in one header: each is a wait.
const MAX_BRANCHES: usize = 16;

/// The branches and versions the header asks for; empty without it.
fn parse(headers: &HeaderMap) -> Result<Vec<(String, i64)>, String> {
    let mut out = Vec::new();
    for value in headers.get_all(HEADER) {
        let text = value.to_str().map_err(|_| format!("{HEADER} is not ASCII"))?;
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (branch, version) = item.rsplit_once('=').unwrap_or((MAIN, item));
            let version = version.trim().parse::<i64>().ok().filter(|v| *v >= 0);
            let branch = branch.trim();
            match version {
                Some(v) if !branch.is_empty() => out.push((branch.to_owned(), v)),
                _ => return Err(format!("{HEADER}: `{item}` is not `branch=version` (a version ≥ 0)")),
            }
        }
    }
    if out.len() > MAX_BRANCHES {
        return Err(format!("{HEADER} names {} branches; the limit is {MAX_BRANCHES}", out.len()));
    }
    Ok(out)
}

/// Wait until every branch the header names is at its version; the
/// response refusing the request otherwise.
pub async fn wait(app: &AppState, headers: &HeaderMap, media: MediaType) -> Result<(), Response> {
    let wanted = parse(headers).map_err(|msg| reject(app, StatusCode::BAD_REQUEST, media, Error::bad_request(msg)))?;
    let waits = wanted.iter().map(|(branch, v)| app.engine.wait_for_version(branch, *v));
    match futures::future::try_join_all(waits).await {
        Ok(_) => Ok(()),
        // LIMIT_EXCEEDED, or the database could not be read to catch up:
        // either way this replica cannot answer at that version now.
        Err(e) => {
            let mut res = reject(app, StatusCode::SERVICE_UNAVAILABLE, media, e);
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            Err(res)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(HEADER, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn branches_and_versions_are_read_from_every_header_line() {
        let pairs = |p: &[(&str, i64)]| p.iter().map(|(b, v)| (b.to_string(), *v)).collect::<Vec<_>>();
        assert_eq!(parse(&headers(&[])).unwrap(), pairs(&[]));
        assert_eq!(parse(&headers(&["12"])).unwrap(), pairs(&[("main", 12)]));
        assert_eq!(
            parse(&headers(&["main=12, dev = 3", "x=0"])).unwrap(),
            pairs(&[("main", 12), ("dev", 3), ("x", 0)])
        );
        for bad in ["main=", "=3", "main=-1", "main=twelve", "main=1e3"] {
            assert!(parse(&headers(&[bad])).is_err(), "{bad}");
        }
        let many = (0..17).map(|i| format!("b{i}=1")).collect::<Vec<_>>().join(",");
        assert!(parse(&headers(&[&many])).unwrap_err().contains("limit is 16"));
    }
}
