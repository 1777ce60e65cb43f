//! Media types of GraphQL over HTTP: which response type the `Accept`
//! header allows (406 when none), and which request bodies a POST may
//! carry (415 otherwise).

use axum::http::{header, HeaderMap};

/// The response media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`: request errors get HTTP 400.
    GraphqlResponse,
    /// `application/json` (the legacy type): well-formed requests get 200.
    Json,
}

impl MediaType {
    pub fn content_type(self) -> &'static str {
        match self {
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        }
    }
}

/// The response type for an `Accept` header: the acceptable range with
/// the highest q, the more specific on ties; a missing header means
/// `application/json`. `None` when nothing we produce is acceptable.
pub fn accept(headers: &HeaderMap) -> Option<MediaType> {
    let Some(value) = headers.get(header::ACCEPT) else {
        return Some(MediaType::Json);
    };
    let value = value.to_str().ok()?;
    if value.trim().is_empty() {
        return Some(MediaType::Json);
    }
    let mut best: Option<(f32, u8, MediaType)> = None;
    for range in value.split(',') {
        let mut parts = range.split(';');
        let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let (mut q, mut utf8) = (1.0f32, true);
        for p in parts {
            let Some((k, v)) = p.split_once('=') else { continue };
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "q" => q = v.parse().unwrap_or(0.0),
                "charset" => utf8 = v.eq_ignore_ascii_case("utf-8"),
                _ => {}
            }
        }
        let (rank, media) = match essence.as_str() {
            "application/graphql-response+json" => (3, MediaType::GraphqlResponse),
            "application/json" => (2, MediaType::Json),
            "application/*" => (1, MediaType::Json),
            "*/*" => (0, MediaType::Json),
            _ => continue,
        };
        if q <= 0.0 || !utf8 {
            continue;
        }
        if best.is_none_or(|(bq, br, _)| (q, rank) > (bq, br)) {
            best = Some((q, rank, media));
        }
    }
    best.map(|(_, _, m)| m)
}

/// What a POST body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json`: a GraphQL request object (or a batch array).
    Json,
    /// `application/graphql`: the bare document (a legacy convenience).
    Document,
}

/// The body kind of a POST from its `Content-Type`, or why it is refused
/// (HTTP 415): missing, another type, or a charset other than UTF-8.
pub fn body_kind(headers: &HeaderMap) -> Result<BodyKind, String> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err("a POST needs Content-Type: application/json".into());
    };
    let value = value.to_str().map_err(|_| "unreadable Content-Type".to_owned())?;
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            let v = v.trim().trim_matches('"');
            if k.trim().eq_ignore_ascii_case("charset") && !v.eq_ignore_ascii_case("utf-8") {
                return Err(format!("unsupported charset {v:?}: requests must be UTF-8"));
            }
        }
    }
    match essence.as_str() {
        "application/json" => Ok(BodyKind::Json),
        "application/graphql" => Ok(BodyKind::Document),
        _ => Err(format!("unsupported Content-Type {essence:?}: send application/json")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, v.parse().unwrap());
        h
    }

    #[test]
    fn accept_picks_the_best_range() {
        let a = |v: &str| accept(&with(header::ACCEPT, v));
        assert_eq!(accept(&HeaderMap::new()), Some(MediaType::Json));
        assert_eq!(a("*/*"), Some(MediaType::Json));
        assert_eq!(a("application/json"), Some(MediaType::Json));
        assert_eq!(a("application/graphql-response+json"), Some(MediaType::GraphqlResponse));
        assert_eq!(a("application/graphql-response+json, application/json;q=0.9"), Some(MediaType::GraphqlResponse));
        assert_eq!(a("application/json, application/graphql-response+json"), Some(MediaType::GraphqlResponse));
        assert_eq!(a("application/graphql-response+json;q=0.5, application/json"), Some(MediaType::Json));
        assert_eq!(a("text/html, */*;q=0.1"), Some(MediaType::Json));
        assert_eq!(a("text/html"), None);
        assert_eq!(a("application/json;q=0"), None);
        assert_eq!(a("application/json; charset=latin1"), None);
    }

    #[test]
    fn body_kind_accepts_json_only_in_utf8() {
        let k = |v: &str| body_kind(&with(header::CONTENT_TYPE, v));
        assert_eq!(k("application/json"), Ok(BodyKind::Json));
        assert_eq!(k("Application/JSON; charset=UTF-8"), Ok(BodyKind::Json));
        assert_eq!(k("application/graphql"), Ok(BodyKind::Document));
        assert!(k("application/json; charset=utf-16").is_err());
        assert!(k("text/plain").is_err());
        assert!(k("application/x-www-form-urlencoded").is_err());
        assert!(body_kind(&HeaderMap::new()).is_err());
    }
}
