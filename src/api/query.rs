//! Query root.

use async_graphql::{Context, Object, SimpleObject, ID};

use super::admin::{self, ApiToken, AuditConnection, Viewer};
use super::branch::Branch;
use super::error::GqlResult;
use super::limits::{COMMITS_PAGE, MAX_PAGE};
use super::node::{self, Node, NodeEntry};
use super::responses::{ResponseCache, ResponseCacheStats};
use super::versions::Versions;
use super::QueryLimits;
use crate::cache::CacheStats;
use crate::engine::{Engine, MAIN};
use crate::error::Error;

pub struct QueryRoot;

/// Reads: branches (at their head or any past version), any object by its
/// global id, and server info.
#[Object(name = "Query")]
impl QueryRoot {
    /// A branch by name, at its head or, with `at`, as it was right after
    /// commit `at` (time travel). Null when the branch or version does not
    /// exist. `minVersion` reads your own writes across replicas: the head
    /// is read once it is at that version or later, waiting up to 5 s for
    /// this server to catch up (LIMIT_EXCEEDED after that).
    async fn branch(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "MAIN.to_owned()")] name: String,
        at: Option<i64>,
        min_version: Option<i64>,
    ) -> async_graphql::Result<Option<Branch>> {
        let engine = ctx.data_unchecked::<Engine>();
        if let Some(min) = min_version {
            engine.wait_for_version(&name, min).await.gql()?;
        }
        let view = match at {
            None => engine.branch(&name),
            Some(at) => engine.branch_at(&name, at).await.gql()?,
        };
        Ok(view.map(|v| {
            Versions::read(ctx, &v);
            Branch(v)
        }))
    }

    /// Every branch, in name order.
    async fn branches(&self, ctx: &Context<'_>) -> Vec<Branch> {
        let all = ctx.data_unchecked::<Engine>().branches();
        all.into_iter()
            .map(|v| {
                Versions::read(ctx, &v);
                Branch(v)
            })
            .collect()
    }

    /// Who the caller is: name, role and the branches it may write.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        admin::viewer(ctx)
    }

    /// API tokens, newest last; revoked ones too with `includeRevoked`.
    /// Admins only (FORBIDDEN otherwise).
    async fn tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(false)")] include_revoked: Option<bool>,
    ) -> async_graphql::Result<Vec<ApiToken>> {
        admin::tokens(ctx, include_revoked.unwrap_or(false))
    }

    /// The audit log, newest first: admin actions (tokens created and
    /// revoked, protection changed, branches deleted, merges into protected
    /// branches) and every denied request. Filter by `principal` and
    /// `action`. Admins only (FORBIDDEN otherwise).
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(COMMITS_PAGE)")] first: Option<i32>,
        after: Option<String>,
        principal: Option<String>,
        action: Option<String>,
    ) -> async_graphql::Result<AuditConnection> {
        admin::audit_log(ctx, first, after, principal, action).await
    }

    /// The object with this global id (Relay), or null when it no longer
    /// exists: a deleted entity or branch, a past state or commit of a
    /// branch deleted since, a conflict whose branches have moved on. An
    /// id this server did not issue is BAD_USER_INPUT.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        node::node(ctx, "id", &id).await.gql()
    }

    /// The objects with these global ids, in the same order, each as
    /// `node(id:)` answers it (a malformed id fails only its own entry).
    /// At most `limits.maxPageSize` ids (more: LIMIT_EXCEEDED).
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> async_graphql::Result<Vec<NodeEntry>> {
        if ids.len() > MAX_PAGE {
            return Err(Error::LimitExceeded(format!("nodes: at most {MAX_PAGE} ids, got {}", ids.len()))).gql();
        }
        // One after the other: a commit or conflict id costs a store read
        // or a dry-run merge, and a request should not start 1000 at once.
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            out.push(NodeEntry(node::node(ctx, &format!("ids[{i}]"), id).await.gql()));
        }
        Ok(out)
    }

    /// About this server: build version, limits and cache statistics.
    async fn server(&self, ctx: &Context<'_>) -> ServerInfo {
        let engine = ctx.data_unchecked::<Engine>();
        let (t, w, lane) = (engine.traversal_limits(), engine.write_limits(), engine.lane_stats());
        let q = ctx.data_opt::<QueryLimits>().copied().unwrap_or_default();
        let limits = Limits {
            max_page_size: MAX_PAGE,
            max_depth: t.max_depth,
            max_limit: t.max_limit,
            max_paths: t.max_paths,
            time_budget_ms: t.budget.as_millis() as u64,
            max_query_depth: q.max_depth,
            max_complexity: q.max_complexity,
            max_aliases: q.max_aliases,
            max_root_fields: q.max_root_fields,
            max_tokens: q.max_tokens,
            max_document_bytes: q.max_document_bytes,
            max_directives: q.max_directives,
            request_timeout_ms: q.timeout.map(|t| t.as_millis() as u64),
            introspection: q.introspection,
            max_response_bytes: q.max_response_bytes,
            max_input_bytes: q.max_input_bytes,
            max_variables_bytes: q.max_variables_bytes,
            max_variables_depth: q.max_variables_depth,
            max_from: t.max_from,
            max_entity_bytes: w.max_entity_bytes,
            max_properties: w.max_properties,
            max_message_bytes: w.max_message_bytes,
            max_branches: w.max_branches,
            heavy_lane_capacity: lane.workers + lane.queue,
        };
        let responses = ctx.data_opt::<ResponseCache>().map_or_else(|| ResponseCache::new(0).stats(), |r| r.stats());
        ServerInfo { version: env!("CARGO_PKG_VERSION"), limits, cache: CacheInfo(engine.cache_stats()), responses }
    }
}

/// About this server.
#[derive(SimpleObject)]
pub struct ServerInfo {
    /// ontograph's build version.
    version: &'static str,
    /// Server-side bounds on requests, e.g. the largest page size.
    limits: Limits,
    /// The traversal result cache: counters since start and current size.
    cache: CacheInfo,
    /// The whole-response cache of repeated branch-only queries (HTTP).
    responses: ResponseCacheStats,
}

/// The traversal result cache: counters since start and current size.
pub struct CacheInfo(CacheStats);

/// The traversal result cache: counters since start and current size.
/// Entry counts and sizes are updated by the cache's maintenance, so they
/// may lag a moment behind the counters.
#[Object]
impl CacheInfo {
    /// Traversal answers served from the cache (including requests that
    /// waited for an identical computation already running).
    async fn hits(&self) -> u64 {
        self.0.hits
    }
    /// Traversal answers that had to be computed; each is one computation.
    async fn misses(&self) -> u64 {
        self.0.misses
    }
    /// hits / (hits + misses); 0 before the first traversal.
    async fn hit_rate(&self) -> f64 {
        let total = self.0.hits + self.0.misses;
        if total == 0 {
            0.0
        } else {
            self.0.hits as f64 / total as f64
        }
    }
    /// Answers held now.
    async fn entries(&self) -> u64 {
        self.0.entries
    }
    /// Approximate bytes of the answers held now.
    async fn weighted_bytes(&self) -> u64 {
        self.0.weighted_bytes
    }
    /// The configured capacity in bytes (0: the cache is off).
    async fn capacity_bytes(&self) -> u64 {
        self.0.capacity_bytes
    }
    /// Answers evicted to stay within the capacity.
    async fn evictions(&self) -> u64 {
        self.0.evictions
    }
    /// Answers dropped because their time to live or time to idle passed.
    async fn expirations(&self) -> u64 {
        self.0.expirations
    }
    /// Answers dropped because their branch moved on (a commit) or was deleted.
    async fn invalidations(&self) -> u64 {
        self.0.invalidations
    }
}

/// Server-side bounds on requests.
#[derive(SimpleObject)]
pub struct Limits {
    /// Largest `first` a connection accepts.
    max_page_size: usize,
    /// Largest traversal maxDepth (and cycle length); larger requests are clamped.
    max_depth: u32,
    /// Largest number of nodes a traversal returns; larger limits are clamped.
    max_limit: usize,
    /// Largest number of paths or cycles one request returns.
    max_paths: usize,
    /// Time budget of one traversal in milliseconds; past it answers are truncated.
    time_budget_ms: u64,
    /// Deepest field nesting of a request (deeper: LIMIT_EXCEEDED).
    max_query_depth: usize,
    /// Most fields a request selects once fragments are expanded.
    max_complexity: usize,
    /// Most aliased fields in one document.
    max_aliases: usize,
    /// Most fields in an operation's root selection set.
    max_root_fields: usize,
    /// Most lexical tokens in one document.
    max_tokens: usize,
    /// Largest query document in bytes.
    max_document_bytes: usize,
    /// Most directives on one field.
    max_directives: usize,
    /// Time limit of a query in milliseconds; null when there is none.
    request_timeout_ms: Option<u64>,
    /// Whether introspection (`__schema`, `__type`) is answered.
    introspection: bool,
    /// Largest response in bytes (larger: LIMIT_EXCEEDED, found while rendering).
    max_response_bytes: usize,
    /// Largest input in bytes: every argument with its variables substituted.
    max_input_bytes: usize,
    /// Largest `variables` in bytes of JSON.
    max_variables_bytes: usize,
    /// Deepest nesting of a variable's JSON value.
    max_variables_depth: usize,
    /// Most names in one traversal's `from` or `relations` list.
    max_from: usize,
    /// Largest entity as stored after a write, in bytes of JSON.
    max_entity_bytes: usize,
    /// Most properties declared on one object type or interface.
    max_properties: usize,
    /// Largest commit message in bytes.
    max_message_bytes: usize,
    /// Most branches the server keeps, main included.
    max_branches: usize,
    /// Heavy requests (traversals of large graphs, past states, diffs,
    /// merges, searches) running or queued at once; past it they are
    /// refused with OVERLOADED.
    heavy_lane_capacity: usize,
}
