//! Who an HTTP request is, and where it may come from: the bearer token
//! (`Authorization: Bearer …`) becomes the request's `Principal` (401 when
//! it is not valid), the `Origin` of a WebSocket upgrade must be this
//! server's own or listed in `--cors-origins`, and the `Host` must be one
//! of `--allowed-hosts` (DNS rebinding: a hostile name resolving to
//! 127.0.0.1 must not reach a loopback server through a victim's browser).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::negotiate::MediaType;
use super::AppState;
use crate::api::{error_body, RequestId};
use crate::auth::{Auth, Principal};
use crate::error::Error;

const AUTHOR_HEADER: &str = "x-ontograph-author";

/// The request id the request-id layer set (or the client sent).
pub fn request_id(headers: &HeaderMap) -> Option<RequestId> {
    let id = headers.get("x-request-id")?.to_str().ok()?;
    Some(RequestId(id.chars().take(200).collect()))
}

/// The bearer token of an `Authorization` header value; `Err` for a value
/// that is not `Bearer <token>`.
pub fn bearer(value: &str) -> Result<&str, Error> {
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    let token = token.trim();
    match scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() {
        true => Ok(token),
        false => Err(Error::Unauthenticated("the Authorization header must be `Bearer <token>`".into())),
    }
}

/// The principal of a request's headers.
pub fn principal_of(auth: &Auth, headers: &HeaderMap) -> Result<Principal, Error> {
    let bearer = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v.to_str().map_err(|_| Error::Unauthenticated("the Authorization header is not text".into()))?;
            Some(bearer(v)?)
        }
    };
    let author = headers.get(AUTHOR_HEADER).and_then(|v| v.to_str().ok());
    auth.authenticate(bearer, author)
}

/// 401 with `WWW-Authenticate: Bearer`, the error recorded in the audit log.
pub fn unauthenticated(app: &AppState, headers: &HeaderMap, media: MediaType, err: Error) -> Response {
    let audit = app.auth.audit();
    let mut entry = audit.entry(&Principal::anonymous(), "authenticate", None, "denied: UNAUTHENTICATED", None);
    entry.request_id = request_id(headers).map(|r| r.0);
    entry.detail = Some(err.to_string());
    audit.denied(entry);
    app.metrics.graphql_error(err.code());
    let mut res = (StatusCode::UNAUTHORIZED, error_body(&err)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

/// Where browsers may call from, and under which host names.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// Exact origins (`https://app.example.com`) allowed cross-origin.
    pub cors_origins: Vec<String>,
    /// Host names (optionally with `:port`) the server answers to; empty:
    /// any.
    pub allowed_hosts: Vec<String>,
}

impl OriginPolicy {
    /// The default host list for a listen address: the loopback names
    /// when bound to loopback, else none (any host).
    pub fn default_hosts(addr: std::net::SocketAddr) -> Vec<String> {
        match addr.ip().is_loopback() {
            true => vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()],
            false => vec![],
        }
    }

    /// Whether a `Host` header value is allowed: its name (any port) or
    /// its exact `name:port` is listed.
    pub fn host_allowed(&self, host: Option<&str>) -> bool {
        if self.allowed_hosts.is_empty() {
            return true;
        }
        let Some(host) = host.map(str::to_ascii_lowercase) else { return false };
        let name = match host.rfind(':') {
            // `[::1]:8080` or `name:8080`, not the colons inside `[::1]`.
            Some(i) if !host[i..].contains(']') => &host[..i],
            _ => host.as_str(),
        };
        self.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(name) || h.eq_ignore_ascii_case(&host))
    }

    /// Whether a WebSocket upgrade may come from `origin`: no `Origin` (a
    /// program, not a browser), this server's own origin (GraphiQL), or a
    /// listed one.
    pub fn ws_origin_allowed(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else { return true };
        let same = host.is_some_and(|h| {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                .is_some_and(|o| o.eq_ignore_ascii_case(h))
        });
        same || self.cors_origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

/// Refuses requests whose `Host` is not allowed (403), before anything else.
pub async fn check_host(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    if app.origins.host_allowed(host) {
        return next.run(req).await;
    }
    let err = Error::forbidden(format!(
        "host {:?} is not served here (--allowed-hosts)",
        host.unwrap_or("").chars().take(100).collect::<String>()
    ));
    app.metrics.graphql_error(err.code());
    let json = [(header::CONTENT_TYPE, "application/json")];
    (StatusCode::FORBIDDEN, json, error_body(&err)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins() {
        let p = OriginPolicy {
            cors_origins: vec!["https://app.example.com".into()],
            allowed_hosts: OriginPolicy::default_hosts("127.0.0.1:8080".parse().unwrap()),
        };
        for ok in ["127.0.0.1:8080", "localhost", "LOCALHOST:1", "[::1]:8080", "[::1]"] {
            assert!(p.host_allowed(Some(ok)), "{ok}");
        }
        for bad in ["evil.example", "evil.example:8080", "127.0.0.1.evil.example:8080"] {
            assert!(!p.host_allowed(Some(bad)), "{bad}");
        }
        assert!(!p.host_allowed(None));
        assert!(OriginPolicy::default().host_allowed(Some("anything")));
        let host = Some("127.0.0.1:8080");
        assert!(p.ws_origin_allowed(None, host));
        assert!(p.ws_origin_allowed(Some("http://127.0.0.1:8080"), host));
        assert!(p.ws_origin_allowed(Some("https://app.example.com"), host));
        assert!(!p.ws_origin_allowed(Some("http://evil.example"), host));
        assert!(!p.ws_origin_allowed(Some("http://127.0.0.1:9999"), host));
        assert!(bearer("Bearer abc").is_ok() && bearer("bearer  abc ").unwrap() == "abc");
        assert!(bearer("Basic abc").is_err() && bearer("Bearer").is_err());
    }
}
