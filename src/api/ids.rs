//! Global object ids (Relay Global Object Identification): every object a
//! client cache may store under its id gets one that is unique across the
//! server and stable for what it denotes. An id is the base64url (no
//! padding) of a short typed string; clients treat it as opaque, the
//! server decodes it in `Query.node(id:)` (`super::node`). The forms, with
//! `{b}` a branch incarnation `{name}~{created_at in µs since the epoch}`:
//!
//! | typed string | denotes |
//! |---|---|
//! | `Branch:{b}` | a branch at its head (moves with it) |
//! | `Branch:{b}@{at}` | a branch as of its version `at` (immutable) |
//! | `ObjectType:{b}:{apiName}`, `Interface:…`, `LinkType:{b}:{linkId}` | an entity at a branch head |
//! | `ObjectType:{b}@{at}:{apiName}`, … | an entity in a past state (immutable) |
//! | `Commit:{b}#{version}` | a commit |
//! | `EntityChange:{b}#{version}:{Kind}:{entityId}` | one entity's change within a commit |
//! | `EntityChange:={Kind}:{entityId}:{CHANGE}:{fields,…}` | a change outside any commit (diff, dry-run merge): the id is its content |
//! | `Conflict:{source b}@{v}:{target b}@{v}:{Kind}:{entityId}:{field}:{resolution}:{digest}` | a conflict of the merge of source into target at those versions |
//! | `ApiToken:{id}` | an API token, by its public id (admins only) |
//! | `AuditEvent:{seq}` | an audit event (admins only) |
//!
//! The incarnation (the branch's durable `created_at`) makes a branch
//! deleted and created again under the same name a different branch, and
//! ids stable across restarts. None of the parts can contain the
//! separators: branch names are `[A-Za-z0-9._/-]`, apiNames
//! `[A-Za-z0-9_]`, link ids add dots. A decoded id must encode back to
//! exactly the same text, so every object has one id and only one.

use std::fmt::Write as _;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::engine::{BranchMeta, BranchView};
use crate::error::{Error, Result};
use crate::model::{self, ChangeKind, EntityKind};

/// One incarnation of a branch: its name and durable creation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchRef {
    pub name: Arc<str>,
    /// `created_at` in microseconds since the epoch (what both databases
    /// store exactly).
    pub incarnation: i64,
}

impl BranchRef {
    pub fn of(meta: &BranchMeta) -> Self {
        BranchRef { name: Arc::from(meta.name.as_str()), incarnation: meta.created_at.timestamp_micros() }
    }

    /// Whether `meta` is this incarnation.
    pub fn is(&self, meta: &BranchMeta) -> bool {
        *self.name == *meta.name && self.incarnation == meta.created_at.timestamp_micros()
    }

    fn write(&self, out: &mut String) {
        let _ = write!(out, "{}~{}", self.name, self.incarnation);
    }

    fn parse(s: &str) -> Option<Self> {
        let (name, inc) = s.split_once('~')?;
        (!name.is_empty()).then_some(())?;
        Some(BranchRef { name: Arc::from(name), incarnation: inc.parse().ok()? })
    }
}

/// Where an entity was read: a branch incarnation at its head (`at:
/// None`) or as of version `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub branch: BranchRef,
    pub at: Option<i64>,
}

impl Scope {
    pub fn of(view: &BranchView) -> Self {
        Scope { branch: BranchRef::of(&view.meta), at: view.at }
    }

    fn write(&self, out: &mut String) {
        self.branch.write(out);
        if let Some(at) = self.at {
            let _ = write!(out, "@{at}");
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.split_once('@') {
            None => Some(Scope { branch: BranchRef::parse(s)?, at: None }),
            Some((b, at)) => Some(Scope { branch: BranchRef::parse(b)?, at: Some(non_negative(at)?) }),
        }
    }
}

/// A merge of `source` at `source_version` into `target` at
/// `target_version`: what a conflict belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRef {
    pub source: BranchRef,
    pub source_version: i64,
    pub target: BranchRef,
    pub target_version: i64,
}

/// A conflict's identity: its merge, entity and field, the side chosen
/// for it, and a digest of everything it reports (so one id never names
/// two different contents, even where other resolutions shape a
/// conflict's `dependents`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRef {
    pub merge: MergeRef,
    pub entity_kind: EntityKind,
    pub entity_id: String,
    pub field: Option<String>,
    pub resolution: Option<model::Side>,
    pub digest: String,
}

impl ConflictRef {
    pub fn of(merge: &MergeRef, c: &model::Conflict) -> Self {
        ConflictRef {
            merge: merge.clone(),
            entity_kind: c.entity_kind,
            entity_id: c.id.clone(),
            field: c.field.clone(),
            resolution: c.resolution,
            digest: digest(c),
        }
    }
}

/// What a global id denotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalId {
    Branch(Scope),
    Entity(EntityKind, Scope, String),
    Commit(BranchRef, i64),
    CommitChange(BranchRef, i64, EntityKind, String),
    /// A change outside any commit, identified by its content.
    Change(model::EntityChange),
    Conflict(ConflictRef),
    /// An API token, by its public id.
    Token(String),
    /// An audit event, by its `seq`.
    AuditEvent(i64),
}

fn kind_tag(k: EntityKind) -> &'static str {
    match k {
        EntityKind::ObjectType => "ObjectType",
        EntityKind::Interface => "Interface",
        EntityKind::LinkType => "LinkType",
    }
}

fn kind_of_tag(s: &str) -> Option<EntityKind> {
    Some(match s {
        "ObjectType" => EntityKind::ObjectType,
        "Interface" => EntityKind::Interface,
        "LinkType" => EntityKind::LinkType,
        _ => return None,
    })
}

fn side_tag(s: Option<model::Side>) -> &'static str {
    match s {
        None => "-",
        Some(model::Side::Source) => "SOURCE",
        Some(model::Side::Target) => "TARGET",
    }
}

fn side_of_tag(s: &str) -> Option<Option<model::Side>> {
    Some(match s {
        "-" => None,
        "SOURCE" => Some(model::Side::Source),
        "TARGET" => Some(model::Side::Target),
        _ => return None,
    })
}

fn non_negative(s: &str) -> Option<i64> {
    s.parse().ok().filter(|n| *n >= 0)
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// `{b}#{version}`.
fn parse_commit(s: &str) -> Option<(BranchRef, i64)> {
    let (b, v) = s.split_once('#')?;
    Some((BranchRef::parse(b)?, non_negative(v).filter(|v| *v >= 1)?))
}

/// `{b}@{version}`, both sides of a merge.
fn parse_side(s: &str) -> Option<(BranchRef, i64)> {
    let (b, v) = s.split_once('@')?;
    Some((BranchRef::parse(b)?, non_negative(v)?))
}

impl GlobalId {
    /// The typed string (before base64url).
    fn text(&self) -> String {
        let mut s = String::with_capacity(64);
        match self {
            GlobalId::Branch(scope) => {
                s.push_str("Branch:");
                scope.write(&mut s);
            }
            GlobalId::Entity(kind, scope, key) => {
                let _ = write!(s, "{}:", kind_tag(*kind));
                scope.write(&mut s);
                let _ = write!(s, ":{key}");
            }
            GlobalId::Commit(b, v) => {
                s.push_str("Commit:");
                b.write(&mut s);
                let _ = write!(s, "#{v}");
            }
            GlobalId::CommitChange(b, v, kind, key) => {
                s.push_str("EntityChange:");
                b.write(&mut s);
                let _ = write!(s, "#{v}:{}:{key}", kind_tag(*kind));
            }
            GlobalId::Change(c) => {
                let _ = write!(
                    s,
                    "EntityChange:={}:{}:{}:{}",
                    kind_tag(c.entity_kind),
                    c.id,
                    c.change.as_str(),
                    c.fields.join(",")
                );
            }
            GlobalId::Conflict(c) => {
                let m = &c.merge;
                s.push_str("Conflict:");
                m.source.write(&mut s);
                let _ = write!(s, "@{}:", m.source_version);
                m.target.write(&mut s);
                let _ = write!(
                    s,
                    "@{}:{}:{}:{}:{}:{}",
                    m.target_version,
                    kind_tag(c.entity_kind),
                    c.entity_id,
                    c.field.as_deref().unwrap_or(""),
                    side_tag(c.resolution),
                    c.digest
                );
            }
            GlobalId::Token(id) => {
                let _ = write!(s, "ApiToken:{id}");
            }
            GlobalId::AuditEvent(seq) => {
                let _ = write!(s, "AuditEvent:{seq}");
            }
        }
        s
    }

    fn parse_text(s: &str) -> Option<GlobalId> {
        let parts: Vec<&str> = s.split(':').collect();
        Some(match parts.as_slice() {
            ["Branch", scope] => GlobalId::Branch(Scope::parse(scope)?),
            ["ApiToken", id] => GlobalId::Token(non_empty(id)?),
            ["AuditEvent", seq] => GlobalId::AuditEvent(non_negative(seq)?),
            [tag @ ("ObjectType" | "Interface" | "LinkType"), scope, key] => {
                GlobalId::Entity(kind_of_tag(tag)?, Scope::parse(scope)?, non_empty(key)?)
            }
            ["Commit", c] => {
                let (b, v) = parse_commit(c)?;
                GlobalId::Commit(b, v)
            }
            ["EntityChange", c, kind, key] => {
                let (b, v) = parse_commit(c)?;
                GlobalId::CommitChange(b, v, kind_of_tag(kind)?, non_empty(key)?)
            }
            ["EntityChange", kind, key, change, fields] => {
                let change = ChangeKind::parse(change)?;
                let fields: Vec<String> = match *fields {
                    "" => vec![],
                    f => f.split(',').map(non_empty).collect::<Option<_>>()?,
                };
                let entity_kind = kind_of_tag(kind.strip_prefix('=')?)?;
                GlobalId::Change(model::EntityChange { entity_kind, id: non_empty(key)?, change, fields })
            }
            ["Conflict", source, target, kind, key, field, resolution, digest] => {
                let (source, source_version) = parse_side(source)?;
                let (target, target_version) = parse_side(target)?;
                GlobalId::Conflict(ConflictRef {
                    merge: MergeRef { source, source_version, target, target_version },
                    entity_kind: kind_of_tag(kind)?,
                    entity_id: non_empty(key)?,
                    field: (!field.is_empty()).then(|| field.to_string()),
                    resolution: side_of_tag(resolution)?,
                    digest: non_empty(digest)?,
                })
            }
            _ => return None,
        })
    }

    /// The opaque id clients see.
    pub fn encode(&self) -> async_graphql::ID {
        async_graphql::ID(base64url(self.text().as_bytes()))
    }

    /// Decode an id; `None` unless it is exactly the encoding of an id of
    /// one of the forms above.
    pub fn decode(id: &str) -> Option<GlobalId> {
        let bytes = unbase64url(id)?;
        let text = std::str::from_utf8(&bytes).ok()?;
        let parsed = GlobalId::parse_text(text)?;
        (parsed.text() == text && base64url(text.as_bytes()) == id).then_some(parsed)
    }

    /// `decode`, or BAD_USER_INPUT naming `field`.
    pub fn parse(field: &str, id: &str) -> Result<GlobalId> {
        GlobalId::decode(id).ok_or_else(|| Error::bad_input(field, "not an id this server issued (ids are opaque)"))
    }
}

/// A link type argument (`updateLinkType(id:)`, `Branch.linkType(id:)`,
/// the batch changes): `"{source}.{apiName}.{target}"` as it is, or a
/// LinkType's global id, which must name a link type of the branch the
/// field acts on (`on`, when it exists). Anything else is passed on as a
/// link id, for the caller's own check.
pub fn link_key(field: &str, id: &str, on: Option<&BranchMeta>) -> Result<String> {
    if id.contains('.') {
        return Ok(id.to_owned());
    }
    match GlobalId::decode(id) {
        None => Ok(id.to_owned()),
        Some(GlobalId::Entity(EntityKind::LinkType, scope, key)) => match on {
            Some(meta) if !scope.branch.is(meta) => {
                let msg = match *scope.branch.name == *meta.name {
                    true => format!("names a link type of an earlier branch named {}", meta.name),
                    false => format!("names a link type of branch {}, not of {}", scope.branch.name, meta.name),
                };
                Err(Error::bad_input(field, msg))
            }
            _ => Ok(key),
        },
        Some(_) => Err(Error::bad_input(field, "the id of something else than a link type")),
    }
}

/// A short digest of everything a conflict reports: 16 hex digits of the
/// SHA-256 of its fields as JSON.
pub fn digest(c: &model::Conflict) -> String {
    let side = side_tag(c.resolution);
    let fields = (
        c.entity_kind.as_str(),
        &c.id,
        &c.field,
        format!("{:?}", c.kind),
        &c.base,
        &c.source,
        &c.target,
        &c.dependents,
        side,
    );
    let json = serde_json::to_vec(&fields).unwrap_or_default();
    let hash = Sha256::digest(&json);
    hash[..8].iter().fold(String::with_capacity(16), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (RFC 4648 §5).
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn unbase64url(s: &str) -> Option<Vec<u8>> {
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    for chunk in s.as_bytes().chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = ALPHABET.iter().position(|a| a == c)? as u32;
            n |= v << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(name: &str) -> BranchRef {
        BranchRef { name: Arc::from(name), incarnation: 1_718_000_000_123_456 }
    }

    #[test]
    fn base64url_round_trips_and_matches_rfc_4648() {
        // RFC 4648 §10 test vectors, without padding.
        for (plain, enc) in
            [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE")]
        {
            assert_eq!(base64url(plain.as_bytes()), enc);
            assert_eq!(unbase64url(enc).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(unbase64url("Zm9vY"), None, "a length of 1 mod 4 is never an encoding");
        assert_eq!(unbase64url("Zm9v+g"), None, "only the URL-safe alphabet");
    }

    #[test]
    fn every_form_round_trips_and_is_canonical() {
        let change = model::EntityChange {
            entity_kind: EntityKind::ObjectType,
            id: "Employee".into(),
            change: ChangeKind::Modified,
            fields: vec!["description".into(), "status".into()],
        };
        let merge = MergeRef { source: b("dev"), source_version: 3, target: b("main"), target_version: 7 };
        let ids = [
            GlobalId::Branch(Scope { branch: b("main"), at: None }),
            GlobalId::Branch(Scope { branch: b("release/1.0"), at: Some(0) }),
            GlobalId::Entity(EntityKind::ObjectType, Scope { branch: b("main"), at: None }, "Employee".into()),
            GlobalId::Entity(EntityKind::Interface, Scope { branch: b("main"), at: Some(4) }, "Locatable".into()),
            GlobalId::Entity(EntityKind::LinkType, Scope { branch: b("x"), at: None }, "A.rel.B".into()),
            GlobalId::Commit(b("main"), 4),
            GlobalId::CommitChange(b("main"), 4, EntityKind::LinkType, "A.rel.B".into()),
            GlobalId::Change(change.clone()),
            GlobalId::Change(model::EntityChange { fields: vec![], change: ChangeKind::Added, ..change }),
            GlobalId::Conflict(ConflictRef {
                merge: merge.clone(),
                entity_kind: EntityKind::ObjectType,
                entity_id: "E".into(),
                field: Some("description".into()),
                resolution: None,
                digest: "0123456789abcdef".into(),
            }),
            GlobalId::Conflict(ConflictRef {
                merge,
                entity_kind: EntityKind::Interface,
                entity_id: "I".into(),
                field: None,
                resolution: Some(model::Side::Target),
                digest: "0123456789abcdef".into(),
            }),
        ];
        let mut seen = std::collections::HashSet::new();
        for id in &ids {
            let enc = id.encode();
            assert!(enc.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "{enc:?}");
            assert_eq!(GlobalId::decode(&enc).as_ref(), Some(id), "{}", id.text());
            assert!(seen.insert(enc.0.clone()), "{} encodes like another id", id.text());
        }
        assert_eq!(GlobalId::Commit(b("main"), 4).text(), "Commit:main~1718000000123456#4");
    }

    #[test]
    fn malformed_ids_do_not_decode() {
        let enc = |t: &str| base64url(t.as_bytes());
        for bad in [
            String::new(),
            "not base64!".into(),
            "Employee".into(),
            enc("Branch:main"),
            enc("Branch:main~x"),
            enc("Branch:main~01"),
            enc("Branch:~1"),
            enc("Branch:main~1@-1"),
            enc("Branch:main~1@"),
            enc("Nope:main~1"),
            enc("ObjectType:main~1:"),
            enc("ObjectType:main~1"),
            enc("Commit:main~1#0"),
            enc("Commit:main~1#+4"),
            enc("EntityChange:main~1#4:Thing:E"),
            enc("EntityChange:=ObjectType:E:CHANGED:"),
            enc("EntityChange:=ObjectType:E:MODIFIED:a,,b"),
            enc("Conflict:dev~1@3:main~1@7:ObjectType:E:description:MAYBE:ab"),
            // Valid text, non-canonical base64 (trailing bits set).
            format!("{}h", &enc("Branch:main~1")[..enc("Branch:main~1").len() - 1]),
        ] {
            assert_eq!(GlobalId::decode(&bad), None, "{bad:?}");
        }
        let err = GlobalId::parse("id", "Employee").unwrap_err();
        assert_eq!(err.code(), Error::BAD_USER_INPUT);
    }
}
