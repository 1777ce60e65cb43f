//! `Branch`: one consistent state of a branch and everything read from it.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::answer::answer;
use super::commit::Commit;
use super::entities::{InterfaceType, LinkType, ObjectType, OntologyNode, Read};
use super::enums::{NodeKind, Status};
use super::error::GqlResult;
use super::ids::{link_key, GlobalId, Scope};
use super::limits::{
    page_size, COMMITS_PAGE, CYCLES_LIMIT, IMPACT_DEPTH, IMPACT_LIMIT, PAGE, PATHS_DEPTH, PATHS_LIMIT, TRAVERSE_DEPTH,
    TRAVERSE_LIMIT,
};
use super::merge::BranchDiff;
use super::traversal::{self as tr, Direction, Path, Traversal};
use crate::cache::Question;
use crate::engine::{BranchView, Engine, MAIN};
use crate::error::Error;
use crate::model;

/// Extra fields on every connection.
#[derive(SimpleObject)]
pub struct ConnectionFields {
    /// Number of items matching the query (all pages).
    total_count: usize,
}

type Conn<N> = Connection<String, N, ConnectionFields>;

/// Narrow `objectTypes`. All given conditions must hold.
#[derive(InputObject, Default)]
pub struct ObjectTypeFilter {
    /// Only object types with this status.
    status: Option<Status>,
    /// Only object types that directly extend this one.
    extends: Option<ID>,
    /// Only object types that directly implement this interface.
    implements: Option<ID>,
    /// Case-insensitive substring of apiName or displayName.
    search: Option<String>,
}

/// Longest `search` string: no apiName or displayName is longer, and a
/// longer needle only costs time.
const MAX_SEARCH_BYTES: usize = 1024;

impl ObjectTypeFilter {
    /// The filter ready to test types with: the search lowercased once.
    fn prepared(mut self) -> Result<ObjectTypeFilter, Error> {
        if let Some(q) = &self.search {
            if q.len() > MAX_SEARCH_BYTES {
                let msg = format!("a search of {} bytes; the limit is {MAX_SEARCH_BYTES}", q.len());
                return Err(Error::LimitExceeded(msg));
            }
            self.search = Some(q.to_lowercase());
        }
        Ok(self)
    }

    /// Whether `t` passes; `self` is `prepared`.
    fn matches(&self, t: &model::ObjectType) -> bool {
        let status = self.status.is_none_or(|s| model::Status::from(s) == t.status);
        let extends = self.extends.as_ref().is_none_or(|p| t.extends.iter().any(|e| e == p.as_str()));
        let implements = self.implements.as_ref().is_none_or(|i| t.implements.iter().any(|e| e == i.as_str()));
        // Lowercasing may change a text's length: compare the lowercased
        // lengths (a needle longer than the field costs its length to set up).
        let contains = |field: &str, q: &str| {
            let field = field.to_lowercase();
            field.len() >= q.len() && field.contains(q)
        };
        let search = self.search.as_deref().is_none_or(|q| contains(&t.api_name, q) || contains(&t.display_name, q));
        status && extends && implements && search
    }
}

/// Which end of the range between the cursors a page is taken from.
#[derive(Clone, Copy)]
enum Take {
    /// `first`: from the start (after `after`).
    First(usize),
    /// `last`: from the end (before `before`).
    Last(usize),
}

/// The page size and direction of a connection (Relay): `first` (default
/// `default`) or `last`. `first`'s schema default does not count against
/// `last`; both given explicitly is BAD_USER_INPUT.
fn take(ctx: &Context<'_>, first: Option<i32>, last: Option<i32>, default: i32) -> crate::error::Result<Take> {
    let Some(last) = last else {
        return Ok(Take::First(page_size("first", first, default)?));
    };
    let explicit_first = ctx
        .field()
        .arguments()
        .is_ok_and(|args| args.iter().any(|(name, v)| name == "first" && *v != async_graphql::Value::Null));
    if explicit_first {
        return Err(Error::bad_input("last", "give `first` or `last`, not both"));
    }
    Ok(Take::Last(page_size("last", Some(last), default)?))
}

/// Build a page from the items strictly between the cursors (in order,
/// from either end). `hasPreviousPage` going forward and `hasNextPage`
/// going backward tell only whether a cursor bounds that side (Relay
/// allows this when counting is not cheap).
fn page<'a, T: 'a, N: async_graphql::OutputType>(
    items: impl DoubleEndedIterator<Item = &'a T>,
    total_count: usize,
    take: Take,
    (after, before): (bool, bool),
    cursor: impl Fn(&T) -> String,
    node: impl Fn(&T) -> N,
) -> Conn<N> {
    let (items, has_previous, has_next) = match take {
        Take::First(n) => {
            let mut items = items.take(n + 1).collect::<Vec<_>>();
            let more = items.len() > n;
            items.truncate(n);
            (items, after, more)
        }
        Take::Last(n) => {
            let mut items = items.rev().take(n + 1).collect::<Vec<_>>();
            let more = items.len() > n;
            items.truncate(n);
            items.reverse();
            (items, more, before)
        }
    };
    let mut conn = Connection::with_additional_fields(has_previous, has_next, ConnectionFields { total_count });
    conn.edges.extend(items.into_iter().map(|t| Edge::new(cursor(t), node(t))));
    conn
}

/// A branch of the ontology, read at one version: every field of one
/// query sees the same state even while commits land.
pub struct Branch(pub BranchView);

impl Branch {
    fn read(&self) -> Read {
        Read::of(&self.0)
    }
}

/// A branch of the ontology, read at one version: every field of one
/// query sees the same consistent state even while commits land.
#[Object]
impl Branch {
    /// Global id (Relay `Node`): this branch at its head (the same id as
    /// the head moves on), or, for `branch(name, at:)` below the head,
    /// the branch as of that version (its own id; its data never
    /// changes). A branch deleted and created again under the same name
    /// has other ids. Opaque; resolve it with `node(id:)`.
    pub async fn id(&self) -> ID {
        GlobalId::Branch(Scope::of(&self.0)).encode()
    }
    /// Unique name of the branch, e.g. `main`.
    async fn name(&self) -> &str {
        &self.0.meta.name
    }
    /// The branch this one was forked from; null for `main`.
    async fn parent(&self) -> Option<&str> {
        self.0.meta.parent.as_deref()
    }
    /// The parent's version this branch was forked at.
    async fn forked_at(&self) -> Option<i64> {
        self.0.meta.forked_at
    }
    /// Number of commits on this branch (counted from 0 at creation), as
    /// of this read. Pass it as `expectedBranchVersion` to guard a write.
    async fn version(&self) -> i64 {
        self.0.state.version
    }
    /// Protected branches reject direct writes; they change only by merge.
    async fn protected(&self) -> bool {
        self.0.state.protected
    }
    /// Whether this is a past version (`branch(name, at:)`).
    async fn historical(&self) -> bool {
        self.0.at.is_some()
    }
    /// When the branch was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.meta.created_at
    }
    /// Counts of entities and graph edges in this state.
    async fn stats(&self) -> async_graphql::Result<BranchStats> {
        let o = &self.0.state.ontology;
        // The first read of a state builds its graph: O(size), so off the
        // async workers.
        let state = self.0.state.clone();
        let edges =
            tokio::task::spawn_blocking(move || state.graph().edge_count()).await.map_err(Error::internal).gql()?;
        Ok(BranchStats {
            object_types: o.object_type_count(),
            interfaces: o.interface_count(),
            link_types: o.link_type_count(),
            edges,
        })
    }

    /// One object type by apiName, or null.
    async fn object_type(&self, api_name: ID) -> Option<ObjectType> {
        let o = &self.0.state.ontology;
        o.object_type(&api_name).map(|t| ObjectType::new(t.clone(), self.read()))
    }

    /// Object types in apiName order (the cursor is the apiName): `first`
    /// after the cursor `after`, or `last` before the cursor `before`
    /// (at most 1000).
    #[allow(clippy::too_many_arguments)]
    async fn object_types(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(PAGE)")] first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ObjectTypeFilter>,
    ) -> async_graphql::Result<Conn<ObjectType>> {
        let take = take(ctx, first, last, PAGE).gql()?;
        let o = &self.0.state.ontology;
        let at = self.read();
        let node = |t: &std::sync::Arc<model::ObjectType>| ObjectType::new(t.clone(), at.clone());
        let cursor = |t: &std::sync::Arc<model::ObjectType>| t.api_name.clone();
        let cursors = (after.is_some(), before.is_some());
        let items = o.object_types_between(after.as_deref(), before.as_deref());
        let Some(f) = filter else {
            return Ok(page(items, o.object_type_count(), take, cursors, cursor, node));
        };
        // A scan of every type: on the heavy lane when the ontology is large.
        let f = f.prepared().gql()?;
        let ontology = o.clone();
        let scan = move || -> Vec<std::sync::Arc<model::ObjectType>> {
            ontology.object_types_between(None, None).filter(|t| f.matches(t)).cloned().collect()
        };
        let matching = match self.0.state.is_large() {
            true => ctx.data_unchecked::<Engine>().heavy(scan).await.gql()?,
            false => scan(),
        };
        let total = matching.len();
        let start = after.as_ref().map_or(0, |a| matching.partition_point(|t| t.api_name <= *a));
        let end = before.as_ref().map_or(total, |b| matching.partition_point(|t| t.api_name < *b)).max(start);
        Ok(page(matching[start..end].iter(), total, take, cursors, cursor, node))
    }

    /// One interface by apiName, or null.
    async fn interface(&self, api_name: ID) -> Option<InterfaceType> {
        let o = &self.0.state.ontology;
        o.interface(&api_name).map(|i| InterfaceType::new(i.clone(), self.read()))
    }

    /// Interfaces in apiName order (the cursor is the apiName): `first`
    /// after `after`, or `last` before `before`.
    async fn interfaces(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(PAGE)")] first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<InterfaceType>> {
        let take = take(ctx, first, last, PAGE).gql()?;
        let o = &self.0.state.ontology;
        let at = self.read();
        let items = o.interfaces_between(after.as_deref(), before.as_deref());
        let node = |i: &std::sync::Arc<model::Interface>| InterfaceType::new(i.clone(), at.clone());
        let cursors = (after.is_some(), before.is_some());
        Ok(page(items, o.interface_count(), take, cursors, |i| i.api_name.clone(), node))
    }

    /// One link type, or null. `id` is its `linkId`,
    /// `"{source}.{apiName}.{target}"`, or its global `id` on this branch
    /// (from any of its states; an id of another branch is
    /// BAD_USER_INPUT).
    async fn link_type(&self, id: ID) -> async_graphql::Result<Option<LinkType>> {
        let key = link_key("id", &id, Some(&self.0.meta)).gql()?;
        let o = &self.0.state.ontology;
        Ok(o.link_type(&key).map(|l| LinkType::new(l.clone(), self.read())))
    }

    /// Link types in linkId order (the cursor is the linkId), optionally
    /// only those with the given source, target and/or relation name:
    /// `first` after `after`, or `last` before `before`.
    #[allow(clippy::too_many_arguments)]
    async fn link_types(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(PAGE)")] first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        source: Option<ID>,
        target: Option<ID>,
        api_name: Option<String>,
    ) -> async_graphql::Result<Conn<LinkType>> {
        let take = take(ctx, first, last, PAGE).gql()?;
        let o = &self.0.state.ontology;
        let at = self.read();
        let keep = |l: &model::LinkType| {
            source.as_ref().is_none_or(|s| l.source == s.as_str())
                && target.as_ref().is_none_or(|t| l.target == t.as_str())
                && api_name.as_ref().is_none_or(|a| &l.api_name == a)
        };
        let node = |l: &std::sync::Arc<model::LinkType>| LinkType::new(l.clone(), at.clone());
        let cursor = |l: &std::sync::Arc<model::LinkType>| l.id();
        let cursors = (after.is_some(), before.is_some());
        if source.is_none() && target.is_none() && api_name.is_none() {
            let items = o.link_types_between(after.as_deref(), before.as_deref());
            return Ok(page(items, o.link_type_count(), take, cursors, cursor, node));
        }
        // With an endpoint given, only that node's referrers are candidates.
        let mut matching: Vec<&std::sync::Arc<model::LinkType>> = match source.as_ref().or(target.as_ref()) {
            Some(n) => o.referrers(n).filter_map(|id| o.link_type(id)).filter(|l| keep(l)).collect(),
            None => o.link_types_between(None, None).filter(|l| keep(l)).collect(),
        };
        matching.sort_by_cached_key(|l| l.id());
        let total = matching.len();
        let start = after.as_ref().map_or(0, |a| matching.partition_point(|l| l.id() <= *a));
        let end = before.as_ref().map_or(total, |b| matching.partition_point(|l| l.id() < *b)).max(start);
        Ok(page(matching[start..end].iter().copied(), total, take, cursors, cursor, node))
    }

    /// An object type or interface by apiName, or null.
    async fn node(&self, api_name: ID) -> Option<OntologyNode> {
        OntologyNode::find(&self.read(), &api_name)
    }

    /// Breadth-first traversal from the `from` nodes (depth 0): each
    /// reached node once, at its shortest depth, ordered by (depth,
    /// apiName), with the edges followed between them. `relations`
    /// (link type apiNames or `extends`/`implements`/`references`) and
    /// `nodeKinds` restrict what is followed; null means all. Requests
    /// above the server caps are clamped and marked `truncated`.
    #[allow(clippy::too_many_arguments)]
    async fn traverse(
        &self,
        ctx: &Context<'_>,
        from: Vec<ID>,
        #[graphql(default_with = "Some(Direction::DEFAULT)")] direction: Option<Direction>,
        relations: Option<Vec<String>>,
        node_kinds: Option<Vec<NodeKind>>,
        #[graphql(default_with = "Some(TRAVERSE_DEPTH)")] max_depth: Option<i32>,
        #[graphql(default_with = "Some(TRAVERSE_LIMIT)")] limit: Option<i32>,
    ) -> async_graphql::Result<Traversal> {
        tr::names("relations", relations.as_deref(), &ctx.data_unchecked::<Engine>().traversal_limits()).gql()?;
        let limits = ctx.data_unchecked::<Engine>().traversal_limits();
        let (max_depth, c1) = tr::depth(max_depth.unwrap_or(TRAVERSE_DEPTH), &limits).gql()?;
        let (limit, c2) = tr::clamp("limit", limit.unwrap_or(TRAVERSE_LIMIT), limits.max_limit).gql()?;
        if from.is_empty() {
            return Err(Error::bad_input("from", "name at least one node")).gql();
        }
        tr::names("from", Some(&from), &limits).gql()?;
        tr::names("nodeKinds", node_kinds.as_deref(), &limits).gql()?;
        let from = from.into_iter().map(|f| f.0).collect();
        let dir = direction.unwrap_or(Direction::DEFAULT).into();
        let kinds = node_kinds.map(|ks| ks.into_iter().map(Into::into).collect());
        let q = Question::traverse(from, dir, relations, kinds, max_depth, limit);
        let a = answer(ctx, &self.0, q).await.gql()?;
        Ok(Traversal { result: a.traversal().gql()?, at: a.at, clamped: c1 || c2, cached: a.cached })
    }

    /// The shortest path (fewest edges) from `from` to `to`, or null when
    /// there is none. Ties are broken by apiName, then relation, along the
    /// path, so the answer is deterministic.
    async fn shortest_path(
        &self,
        ctx: &Context<'_>,
        from: ID,
        to: ID,
        #[graphql(default_with = "Some(Direction::DEFAULT)")] direction: Option<Direction>,
        relations: Option<Vec<String>>,
    ) -> async_graphql::Result<Option<Path>> {
        tr::names("relations", relations.as_deref(), &ctx.data_unchecked::<Engine>().traversal_limits()).gql()?;
        let dir = direction.unwrap_or(Direction::DEFAULT).into();
        let a = answer(ctx, &self.0, Question::shortest_path(from.0, to.0, dir, relations)).await.gql()?;
        Ok(a.path().gql()?.map(|path| Path { at: a.at, path }))
    }

    /// Simple paths (no repeated node) from `from` to `to` of at most
    /// `maxDepth` edges, shortest first, at most `limit` (capped by the
    /// server's paths limit).
    #[allow(clippy::too_many_arguments)]
    async fn paths(
        &self,
        ctx: &Context<'_>,
        from: ID,
        to: ID,
        #[graphql(default_with = "Some(Direction::DEFAULT)")] direction: Option<Direction>,
        relations: Option<Vec<String>>,
        #[graphql(default_with = "Some(PATHS_DEPTH)")] max_depth: Option<i32>,
        #[graphql(default_with = "Some(PATHS_LIMIT)")] limit: Option<i32>,
    ) -> async_graphql::Result<Vec<Path>> {
        tr::names("relations", relations.as_deref(), &ctx.data_unchecked::<Engine>().traversal_limits()).gql()?;
        let limits = ctx.data_unchecked::<Engine>().traversal_limits();
        let (max_depth, _) = tr::depth(max_depth.unwrap_or(PATHS_DEPTH), &limits).gql()?;
        let (limit, _) = tr::clamp("limit", limit.unwrap_or(PATHS_LIMIT), limits.max_paths).gql()?;
        let dir = direction.unwrap_or(Direction::DEFAULT).into();
        let q = Question::paths(from.0, to.0, dir, relations, max_depth, limit);
        let a = answer(ctx, &self.0, q).await.gql()?;
        Ok(tr::paths(a.paths().gql()?, &a.at))
    }

    /// Whether `to` can be reached from `from` at any depth.
    async fn reachable(
        &self,
        ctx: &Context<'_>,
        from: ID,
        to: ID,
        #[graphql(default_with = "Some(Direction::DEFAULT)")] direction: Option<Direction>,
        relations: Option<Vec<String>>,
    ) -> async_graphql::Result<bool> {
        tr::names("relations", relations.as_deref(), &ctx.data_unchecked::<Engine>().traversal_limits()).gql()?;
        let dir = direction.unwrap_or(Direction::DEFAULT).into();
        let a = answer(ctx, &self.0, Question::reachable(from.0, to.0, dir, relations)).await.gql()?;
        a.reachable().gql()
    }

    /// Everything that directly or transitively depends on `of` (its
    /// incoming closure over all relations, or over `relations`), with
    /// depth; `of` itself is not included.
    async fn impact(
        &self,
        ctx: &Context<'_>,
        of: ID,
        relations: Option<Vec<String>>,
        #[graphql(default_with = "Some(IMPACT_DEPTH)")] max_depth: Option<i32>,
        #[graphql(default_with = "Some(IMPACT_LIMIT)")] limit: Option<i32>,
    ) -> async_graphql::Result<Traversal> {
        tr::names("relations", relations.as_deref(), &ctx.data_unchecked::<Engine>().traversal_limits()).gql()?;
        let limits = ctx.data_unchecked::<Engine>().traversal_limits();
        let (max_depth, c1) = tr::depth(max_depth.unwrap_or(IMPACT_DEPTH), &limits).gql()?;
        let (limit, c2) = tr::clamp("limit", limit.unwrap_or(IMPACT_LIMIT), limits.max_limit).gql()?;
        let a = answer(ctx, &self.0, Question::impact(of.0, relations, max_depth, limit)).await.gql()?;
        Ok(Traversal { result: a.traversal().gql()?, at: a.at, clamped: c1 || c2, cached: a.cached })
    }

    /// Elementary cycles following edges source → target (e.g. an
    /// inheritance cycle with `relations: ["extends"]`), shortest first,
    /// each starting at its smallest apiName (and ending there again).
    async fn cycles(
        &self,
        ctx: &Context<'_>,
        relations: Option<Vec<String>>,
        #[graphql(default_with = "Some(CYCLES_LIMIT)")] limit: Option<i32>,
    ) -> async_graphql::Result<Vec<Path>> {
        tr::names("relations", relations.as_deref(), &ctx.data_unchecked::<Engine>().traversal_limits()).gql()?;
        let limits = ctx.data_unchecked::<Engine>().traversal_limits();
        let (limit, _) = tr::clamp("limit", limit.unwrap_or(CYCLES_LIMIT), limits.max_paths).gql()?;
        let a = answer(ctx, &self.0, Question::cycles(relations, limits.max_depth, limit)).await.gql()?;
        Ok(tr::paths(a.paths().gql()?, &a.at))
    }

    /// The commit history of this branch, newest first; a commit's cursor
    /// is its version. `first` commits older than `after`, or `last`
    /// commits newer than `before` (both cheap: versions are dense).
    async fn commits(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(COMMITS_PAGE)")] first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Conn<Commit>> {
        let take = take(ctx, first, last, COMMITS_PAGE).gql()?;
        let head = self.0.state.version;
        let version = |field: &str, c: &Option<String>| -> crate::error::Result<Option<i64>> {
            c.as_ref().map(|c| c.parse::<i64>().map_err(|_| Error::bad_input(field, "not a commit cursor"))).transpose()
        };
        // The versions strictly between the cursors: (low, high).
        let high = version("after", &after).gql()?.unwrap_or(head + 1).min(head + 1);
        let low = version("before", &before).gql()?.unwrap_or(0).max(0);
        let available = (high - low - 1).max(0);
        // Newest first: a page is the versions top..=bottom.
        let (top, count, has_previous, has_next) = match take {
            Take::First(n) => {
                let n = (n as i64).min(available);
                (high - 1, n, after.is_some(), n < available)
            }
            Take::Last(n) => {
                let n = (n as i64).min(available);
                (low + n, n, n < available, before.is_some())
            }
        };
        let engine = ctx.data_unchecked::<Engine>();
        let rows = match count {
            0 => vec![],
            _ => engine.commits(&self.0.meta.name, Some(top + 1), count).await.gql()?,
        };
        let total_count = ConnectionFields { total_count: head as usize };
        let mut conn = Connection::with_additional_fields(has_previous, has_next, total_count);
        let meta = &self.0.meta;
        conn.edges.extend(rows.into_iter().map(|c| Edge::new(c.version.to_string(), Commit::new(c, meta))));
        Ok(conn)
    }

    /// What this branch changed since its merge base with `against`: the
    /// fork point, or the newest merge between the two. Entity- and
    /// field-level; costs O(changes), whatever the size of the ontology.
    async fn diff(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "MAIN.to_owned()")] against: String,
    ) -> async_graphql::Result<BranchDiff> {
        let engine = ctx.data_unchecked::<Engine>();
        Ok(engine.diff(&self.0.meta.name, &self.0.state, &against).await.gql()?.into())
    }
}

/// Sizes of one branch state.
#[derive(SimpleObject)]
pub struct BranchStats {
    /// Number of object types.
    object_types: usize,
    /// Number of interfaces.
    interfaces: usize,
    /// Number of link types.
    link_types: usize,
    /// Edges of the graph: extends, implements, references and link types.
    edges: usize,
}
