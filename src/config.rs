//! The command line: one clap struct. Every flag also reads an
//! `ONTOGRAPH_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::api::{QueryLimits, DEFAULT_LIMITS};
use crate::auth::{Anonymous, AuthConfig, JwtConfig, Role};
use crate::engine::{EngineOptions, TraversalLimits, WriteLimits};

/// Defaults shown by `--help` come from the modules that own them; each
/// is written once, there.
fn traversal() -> TraversalLimits {
    TraversalLimits::default()
}

fn writes() -> WriteLimits {
    WriteLimits::default()
}

/// ontograph: a GraphQL server for versioned ontologies.
#[derive(Debug, Parser)]
#[command(name = "ontograph", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Flags of `serve`, the default command.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Log output format.
    #[arg(long, env = "ONTOGRAPH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
}

// Parsed once per process: the size of `Serve` does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve GraphQL on /graphql and GraphiQL on /graphiql (the default).
    Serve(ServeArgs),
    /// Import an ontology document (JSON or YAML) or an OBO or OWL file into a branch, as one commit.
    Import(ImportArgs),
    /// Print a branch as an ontology document (JSON), an OBO file or OWL (Turtle) to stdout.
    Export(ExportArgs),
    /// Print the GraphQL schema (SDL) to stdout.
    Schema,
    /// Print a synthetic ontology document (JSON) for tests and benchmarks.
    Generate(GenerateArgs),
    /// Manage API tokens (create, list, revoke) directly in the database.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown once: only a hash is stored).
    Create(TokenCreateArgs),
    /// List the tokens (never their secrets).
    List(TokenListArgs),
    /// Revoke the live token with this name.
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct TokenCreateArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Unique among live tokens; the principal's name and commit author.
    #[arg(long)]
    pub name: String,
    /// viewer, editor, maintainer or admin.
    #[arg(long)]
    pub role: Role,
    /// Branch-name globs its writes are limited to (repeatable; default: all).
    #[arg(long = "branches", num_args = 1..)]
    pub branches: Vec<String>,
    /// Days until it expires (default: never).
    #[arg(long)]
    pub expires: Option<u32>,
}

#[derive(Debug, Clone, Args)]
pub struct TokenListArgs {
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Clone, Args)]
pub struct TokenRevokeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The token's name.
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Database: `sqlite://FILE` (created and migrated on start),
    /// `sqlite::memory:`, or `postgres://…`.
    #[arg(long, env = "ONTOGRAPH_DATABASE_URL", default_value = "sqlite://ontograph.db")]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the bound address is logged).
    #[arg(long, env = "ONTOGRAPH_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub db: DbArgs,
    /// Do not seed the demo ontology into an empty database.
    #[arg(long, env = "ONTOGRAPH_NO_DEMO")]
    pub no_demo: bool,
    /// Protect `main` at start: it then changes only through merges.
    #[arg(long, env = "ONTOGRAPH_PROTECT_MAIN")]
    pub protect_main: bool,
    /// Largest accepted request body (and WebSocket message) in bytes;
    /// larger ones get HTTP 413.
    #[arg(long, env = "ONTOGRAPH_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_body_bytes: usize,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// On SIGINT/SIGTERM, wait at most this many seconds for in-flight
    /// requests and subscriptions to finish before exiting.
    #[arg(long, env = "ONTOGRAPH_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
    /// Cap on a traversal's maxDepth (and on cycle length); larger requests are clamped.
    /// At most 1024: path and cycle searches recurse once per edge of a path.
    #[arg(long, env = "ONTOGRAPH_MAX_DEPTH", default_value_t = traversal().max_depth, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_depth: u32,
    /// Cap on a traversal's limit (nodes returned); larger requests are clamped.
    #[arg(long, env = "ONTOGRAPH_MAX_LIMIT", default_value_t = traversal().max_limit)]
    pub max_limit: usize,
    /// Cap on the number of paths or cycles one request returns.
    #[arg(long, env = "ONTOGRAPH_MAX_PATHS", default_value_t = traversal().max_paths)]
    pub max_paths: usize,
    /// Time budget of one traversal in milliseconds; past it the answer is cut short (truncated).
    #[arg(long, env = "ONTOGRAPH_TIME_BUDGET_MS", default_value_t = traversal().budget.as_millis() as u64)]
    pub time_budget_ms: u64,
    /// Pieces of heavy work (traversals past a small allowance, graph builds, past
    /// states, diffs, merges, long answers being written) that may run at once on the
    /// blocking pool, the "heavy lane"; default: one less than the number of cores, at least 1.
    #[arg(long, env = "ONTOGRAPH_TRAVERSAL_WORKERS", default_value_t = traversal().workers)]
    pub traversal_workers: usize,
    /// Heavy requests (traversals of large graphs, past states, diffs, merges, searches)
    /// admitted beyond those the heavy lane runs; past them a heavy request is refused
    /// with OVERLOADED (HTTP 503, Retry-After: 1) while light requests are still served.
    #[arg(long, env = "ONTOGRAPH_HEAVY_QUEUE", default_value_t = crate::engine::DEFAULT_HEAVY_QUEUE)]
    pub heavy_queue: usize,
    /// Niceness (0–19) of the heavy lane's threads on Linux: higher values let the
    /// async workers, which answer light requests, take a busy core first, so their
    /// latency holds while heavy work fills the machine; 0 schedules both alike.
    #[arg(long, env = "ONTOGRAPH_HEAVY_LANE_NICE", default_value_t = crate::engine::DEFAULT_HEAVY_NICE,
          value_parser = clap::value_parser!(i32).range(0..=19))]
    pub heavy_lane_nice: i32,
    /// Entity changes committed on a root branch (or replayed at start) after which
    /// its head is written as a checkpoint in the background, so the next start decodes
    /// it and replays only later commits instead of reading every entity row; 0: never
    /// write one (existing ones are still read).
    #[arg(long, env = "ONTOGRAPH_CHECKPOINT_CHANGES", default_value_t = crate::engine::DEFAULT_CHECKPOINT_CHANGES)]
    pub checkpoint_changes: u64,
    /// Capacity of the traversal result cache in bytes (approximate sizes of
    /// the cached answers); 0 turns the cache off.
    #[arg(long, env = "ONTOGRAPH_CACHE_CAPACITY_BYTES", default_value_t = crate::cache::DEFAULT_CAPACITY_BYTES)]
    pub cache_capacity_bytes: u64,
    /// Drop a cached answer this many seconds after it was computed (default: never).
    #[arg(long, env = "ONTOGRAPH_CACHE_TTL_SECS")]
    pub cache_ttl_secs: Option<u64>,
    /// Drop a cached answer this many seconds after it was last read (default: never).
    #[arg(long, env = "ONTOGRAPH_CACHE_TTI_SECS")]
    pub cache_tti_secs: Option<u64>,
    /// Capacity of the automatic persisted query store in bytes (approximate
    /// sizes of the parsed documents).
    #[arg(long, env = "ONTOGRAPH_APQ_CAPACITY_BYTES", default_value_t = crate::api::DEFAULT_APQ_CAPACITY_BYTES)]
    pub apq_capacity_bytes: u64,
    /// Capacity in bytes of the whole-response cache: repeated queries that
    /// only read branches are answered with the stored response while those
    /// branches stay at the same version. 0 turns it off.
    #[arg(long, env = "ONTOGRAPH_RESPONSE_CACHE_BYTES", default_value_t = crate::api::DEFAULT_RESPONSE_CACHE_BYTES)]
    pub response_cache_bytes: u64,
    /// With PostgreSQL: how often, in milliseconds, this process reads the
    /// branch heads to catch up with commits other processes on the same
    /// database made (besides on every LISTEN/NOTIFY wake-up and before
    /// every write); see docs/production.md, "Replicas".
    #[arg(long, env = "ONTOGRAPH_REPLICA_POLL_MS", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub replica_poll_ms: u64,
    /// Capacity in bytes of the parsed-document cache: a query sent again
    /// (with other variables) is not parsed or checked again. 0 turns it off.
    #[arg(long, env = "ONTOGRAPH_DOCUMENT_CACHE_BYTES", default_value_t = crate::api::DEFAULT_DOCUMENT_CACHE_BYTES)]
    pub document_cache_bytes: u64,
    /// A GraphQL file of read-only queries to keep hot: each operation runs
    /// in the background at start and again after every commit on a branch it reads.
    #[arg(long, env = "ONTOGRAPH_WARM")]
    pub warm: Option<PathBuf>,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub peers: PeerArgs,
}

/// How long a slow or silent peer may hold a connection, and how many
/// connections there may be (docs/security.md, "Slow and silent peers").
#[derive(Debug, Clone, Args)]
pub struct PeerArgs {
    /// Seconds a client has to send a whole HTTP request head (request line
    /// and headers), counted from when the server starts waiting for it; a
    /// connection that does not is closed. Also how long an idle keep-alive
    /// connection stays open.
    #[arg(long, env = "ONTOGRAPH_HEADER_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,
    /// Most TCP connections held at once (HTTP and WebSocket); more wait in
    /// the kernel's accept queue until one closes. Lowered at start to the
    /// open-file limit less 256 when that is smaller.
    #[arg(long, env = "ONTOGRAPH_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u32).range(1..), |n| n as usize))]
    pub max_connections: usize,
    /// Seconds a WebSocket client has to send `connection_init` after the
    /// upgrade; then the socket is closed with 4408 (graphql-transport-ws).
    #[arg(long, env = "ONTOGRAPH_WS_INIT_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_init_timeout_secs: u64,
    /// Seconds a WebSocket may stay open with no message from the client
    /// (pings count) and no operation running; then it is closed (1000).
    /// 0 turns it off.
    #[arg(long, env = "ONTOGRAPH_WS_IDLE_TIMEOUT_SECS", default_value_t = 300)]
    pub ws_idle_timeout_secs: u64,
    /// Seconds one WebSocket message may take to be handed to the client's
    /// connection; a client that stops reading is disconnected after this.
    #[arg(long, env = "ONTOGRAPH_WS_SEND_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_send_timeout_secs: u64,
}

impl PeerArgs {
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub fn ws_init_timeout(&self) -> Duration {
        Duration::from_secs(self.ws_init_timeout_secs)
    }

    /// `None` when turned off.
    pub fn ws_idle_timeout(&self) -> Option<Duration> {
        (self.ws_idle_timeout_secs > 0).then(|| Duration::from_secs(self.ws_idle_timeout_secs))
    }

    pub fn ws_send_timeout(&self) -> Duration {
        Duration::from_secs(self.ws_send_timeout_secs)
    }
}

/// Who may call the server, and from where (docs/security.md).
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// What a request without credentials may do: `read` (everything a
    /// viewer may) or `none` (HTTP 401).
    #[arg(long, env = "ONTOGRAPH_ANONYMOUS", value_enum, default_value_t = Anonymous::Read)]
    pub anonymous: Anonymous,
    /// Serve without authentication on a non-loopback address. Without
    /// this, a server with no API token and no JWT configuration refuses
    /// to listen anywhere but loopback.
    #[arg(long, env = "ONTOGRAPH_INSECURE_OPEN")]
    pub insecure_open: bool,
    /// Shared secret (at least 32 characters) of HMAC-signed JWTs (HS256/384/512).
    #[arg(long, env = "ONTOGRAPH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// A JWKS file with the identity provider's public keys (RSA, EC, Ed25519),
    /// chosen by each token's `kid`.
    #[arg(long, env = "ONTOGRAPH_JWT_JWKS_FILE")]
    pub jwt_jwks_file: Option<PathBuf>,
    /// Required `iss` of JWTs.
    #[arg(long, env = "ONTOGRAPH_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Required `aud` of JWTs.
    #[arg(long, env = "ONTOGRAPH_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// The JWT claim naming the role (a dotted path, e.g. `realm_access.roles`;
    /// a role name or a list of them; absent: viewer).
    #[arg(long, env = "ONTOGRAPH_JWT_ROLE_CLAIM", default_value = "role")]
    pub jwt_role_claim: String,
    /// The JWT claim listing the branch globs the principal may write (absent: all).
    #[arg(long, env = "ONTOGRAPH_JWT_BRANCHES_CLAIM", default_value = "branches")]
    pub jwt_branches_claim: String,
    /// Browser origins allowed to call the server cross-origin (exact, e.g.
    /// `https://app.example.com`; comma-separated). WebSocket upgrades from
    /// other browser origins are refused.
    #[arg(long, env = "ONTOGRAPH_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Host names the server answers to (comma-separated; a name allows any
    /// port). Default on a loopback address: localhost, 127.0.0.1, [::1];
    /// elsewhere: any. Defeats DNS rebinding.
    #[arg(long, env = "ONTOGRAPH_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// How often the token table is read again (tokens revoked elsewhere
    /// are refused from then on), in seconds.
    #[arg(long, env = "ONTOGRAPH_TOKEN_REFRESH_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub token_refresh_secs: u64,
}

impl AuthArgs {
    pub fn jwt(&self) -> Option<JwtConfig> {
        (self.jwt_secret.is_some() || self.jwt_jwks_file.is_some()).then(|| JwtConfig {
            secret: self.jwt_secret.clone(),
            jwks_file: self.jwt_jwks_file.clone(),
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            role_claim: self.jwt_role_claim.clone(),
            branches_claim: self.jwt_branches_claim.clone(),
        })
    }

    pub fn auth_config(&self) -> AuthConfig {
        AuthConfig {
            anonymous: self.anonymous,
            jwt: self.jwt(),
            refresh: std::time::Duration::from_secs(self.token_refresh_secs),
        }
    }
}

impl ServeArgs {
    /// Settings for an in-process test server: every default as the
    /// command line has it (environment variables ignored), port 0, no demo.
    pub fn for_tests(database_url: &str) -> Self {
        let cmd = ServeArgs::augment_args(clap::Command::new("ontograph-test")).mut_args(|a| a.env(None));
        let argv = ["ontograph-test", "--addr", "127.0.0.1:0", "--no-demo", "--database-url", database_url];
        let matches = cmd.try_get_matches_from(argv).expect("the test settings parse");
        ServeArgs::from_arg_matches(&matches).expect("the test settings parse")
    }

    pub fn engine_options(&self) -> EngineOptions {
        EngineOptions {
            traversal: TraversalLimits {
                max_depth: self.max_depth,
                max_limit: self.max_limit,
                max_paths: self.max_paths,
                budget: std::time::Duration::from_millis(self.time_budget_ms),
                workers: self.traversal_workers,
                max_from: self.limits.max_from,
            },
            cache: crate::cache::CacheConfig {
                capacity_bytes: self.cache_capacity_bytes,
                ttl: self.cache_ttl_secs.map(std::time::Duration::from_secs),
                tti: self.cache_tti_secs.map(std::time::Duration::from_secs),
            },
            heavy_queue: self.heavy_queue,
            heavy_nice: self.heavy_lane_nice,
            checkpoint_changes: self.checkpoint_changes,
            writes: WriteLimits {
                max_entity_bytes: self.limits.max_entity_bytes,
                max_properties: self.limits.max_properties,
                max_message_bytes: self.limits.max_message_bytes,
                max_branches: self.limits.max_branches,
            },
        }
    }
}

/// Bounds on one GraphQL request; each violation is a `LIMIT_EXCEEDED` error.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Deepest field nesting of a query.
    #[arg(long, env = "ONTOGRAPH_MAX_QUERY_DEPTH", default_value_t = DEFAULT_LIMITS.max_depth, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..=512), usize::from))]
    pub max_query_depth: usize,
    /// Most fields a query selects once fragments are expanded (its complexity).
    #[arg(long, env = "ONTOGRAPH_MAX_COMPLEXITY", default_value_t = DEFAULT_LIMITS.max_complexity)]
    pub max_complexity: usize,
    /// Most aliased fields in one document.
    #[arg(long, env = "ONTOGRAPH_MAX_ALIASES", default_value_t = DEFAULT_LIMITS.max_aliases)]
    pub max_aliases: usize,
    /// Most fields in an operation's root selection set.
    #[arg(long, env = "ONTOGRAPH_MAX_ROOT_FIELDS", default_value_t = DEFAULT_LIMITS.max_root_fields)]
    pub max_root_fields: usize,
    /// Most lexical tokens in one document.
    #[arg(long, env = "ONTOGRAPH_MAX_TOKENS", default_value_t = DEFAULT_LIMITS.max_tokens)]
    pub max_tokens: usize,
    /// Largest query document in bytes (variables count toward --max-body-bytes only).
    #[arg(long, env = "ONTOGRAPH_MAX_DOCUMENT_BYTES", default_value_t = DEFAULT_LIMITS.max_document_bytes)]
    pub max_document_bytes: usize,
    /// Most directives on one field.
    #[arg(long, env = "ONTOGRAPH_MAX_DIRECTIVES", default_value_t = DEFAULT_LIMITS.max_directives)]
    pub max_directives: usize,
    /// Time limit of a request in milliseconds: reading its body, and
    /// running a query (mutations always complete); 0 turns it off.
    #[arg(long, env = "ONTOGRAPH_REQUEST_TIMEOUT_MS", default_value_t = DEFAULT_LIMITS.timeout.map_or(0, |t| t.as_millis() as u64))]
    pub request_timeout_ms: u64,
    /// Most WebSocket connections open at once on /graphql/ws; more are
    /// refused with HTTP 503 before the upgrade.
    #[arg(long, env = "ONTOGRAPH_MAX_WS_CONNECTIONS", default_value_t = 1_000)]
    pub max_ws_connections: usize,
    /// Most operations (subscriptions) running at once on one WebSocket
    /// connection; a further `subscribe` gets an `error` message.
    #[arg(long, env = "ONTOGRAPH_MAX_WS_OPERATIONS", default_value_t = 100)]
    pub max_ws_operations: usize,
    /// Largest response in bytes; lists are charged before they are built,
    /// so an answer that would be larger fails with LIMIT_EXCEEDED early.
    #[arg(long, env = "ONTOGRAPH_MAX_RESPONSE_BYTES", default_value_t = DEFAULT_LIMITS.max_response_bytes)]
    pub max_response_bytes: usize,
    /// Largest input of a request in bytes: every argument with its
    /// variables substituted (a variable used twice counts twice).
    #[arg(long, env = "ONTOGRAPH_MAX_INPUT_BYTES", default_value_t = DEFAULT_LIMITS.max_input_bytes)]
    pub max_input_bytes: usize,
    /// Largest `variables` of a request, in bytes of JSON.
    #[arg(long, env = "ONTOGRAPH_MAX_VARIABLES_BYTES", default_value_t = DEFAULT_LIMITS.max_variables_bytes)]
    pub max_variables_bytes: usize,
    /// Deepest nesting of a variable's JSON value.
    #[arg(long, env = "ONTOGRAPH_MAX_VARIABLES_DEPTH", default_value_t = DEFAULT_LIMITS.max_variables_depth)]
    pub max_variables_depth: usize,
    /// Threads that parse large requests (documents over 16 KiB, bodies over
    /// 64 KiB): how many are parsed at once. Parsing costs many times the
    /// text's size in memory; past a queue of 64, requests are OVERLOADED.
    #[arg(long, env = "ONTOGRAPH_MAX_CONCURRENT_PARSES", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_concurrent_parses: u16,
    /// Largest entity as stored (its JSON body) after a write, in bytes. Every
    /// version of an entity is stored whole, so this bounds what one small
    /// update can add to the database and to memory.
    #[arg(long, env = "ONTOGRAPH_MAX_ENTITY_BYTES", default_value_t = writes().max_entity_bytes)]
    pub max_entity_bytes: usize,
    /// Most properties declared on one object type or interface.
    #[arg(long, env = "ONTOGRAPH_MAX_PROPERTIES", default_value_t = writes().max_properties)]
    pub max_properties: usize,
    /// Largest commit message in bytes (kept with every commit and sent to every subscriber).
    #[arg(long, env = "ONTOGRAPH_MAX_MESSAGE_BYTES", default_value_t = writes().max_message_bytes)]
    pub max_message_bytes: usize,
    /// Most branches, main included; each branch head is kept in memory.
    #[arg(long, env = "ONTOGRAPH_MAX_BRANCHES", default_value_t = writes().max_branches)]
    pub max_branches: usize,
    /// Most names in one traversal's `from:` or `relations:` list.
    #[arg(long, env = "ONTOGRAPH_MAX_FROM", default_value_t = traversal().max_from)]
    pub max_from: usize,
    /// Refuse introspection (`__schema`, `__type`); GraphiQL then has no docs or completion.
    #[arg(long, env = "ONTOGRAPH_NO_INTROSPECTION")]
    pub no_introspection: bool,
}

impl LimitArgs {
    pub fn query_limits(&self) -> QueryLimits {
        QueryLimits {
            max_depth: self.max_query_depth,
            max_complexity: self.max_complexity,
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            max_tokens: self.max_tokens,
            max_document_bytes: self.max_document_bytes,
            max_directives: self.max_directives,
            timeout: self.request_timeout(),
            introspection: !self.no_introspection,
            max_response_bytes: self.max_response_bytes,
            max_input_bytes: self.max_input_bytes,
            max_variables_bytes: self.max_variables_bytes,
            max_variables_depth: self.max_variables_depth,
        }
    }

    pub fn request_timeout(&self) -> Option<std::time::Duration> {
        (self.request_timeout_ms > 0).then(|| std::time::Duration::from_millis(self.request_timeout_ms))
    }
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file: an ontology document (JSON, YAML), an OBO file or an OWL
    /// file (RDF/XML or Turtle).
    pub file: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    /// Branch to import into.
    #[arg(long, env = "ONTOGRAPH_BRANCH", default_value = "main")]
    pub branch: String,
    /// Hide the progress bars.
    #[arg(long, env = "ONTOGRAPH_QUIET")]
    pub quiet: bool,
    /// The file's format; by default from its name: .obo, .owl/.rdf/.ttl
    /// (OWL), .yaml/.yml, else JSON.
    #[arg(long, value_enum)]
    pub format: Option<FileFormat>,
    /// What happens to entities the branch holds and the file does not:
    /// keep (the default for JSON/YAML), obsolete (the default for OBO and
    /// OWL: object types become DEPRECATED, link types and interfaces are
    /// deleted) or delete. See docs/formats.md.
    #[arg(long, value_enum)]
    pub absent: Option<AbsentEntities>,
}

/// File formats of `import` and `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    /// The ontology document as JSON.
    Json,
    /// The ontology document as YAML (import only).
    Yaml,
    /// OBO 1.4.
    Obo,
    /// OWL: RDF/XML or Turtle on import (detected from the content), Turtle on export.
    Owl,
}

impl FileFormat {
    /// The format a file name suggests.
    pub fn of_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("obo") => FileFormat::Obo,
            Some("owl" | "rdf" | "ttl" | "xml") => FileFormat::Owl,
            Some("yaml" | "yml") => FileFormat::Yaml,
            _ => FileFormat::Json,
        }
    }
}

/// `import --absent`: see `model::Absent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AbsentEntities {
    Keep,
    Obsolete,
    Delete,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Branch to export.
    #[arg(long, env = "ONTOGRAPH_BRANCH", default_value = "main")]
    pub branch: String,
    /// Export the branch as of this version instead of its head.
    #[arg(long)]
    pub at: Option<i64>,
    /// json (the ontology document), obo, or owl (Turtle).
    #[arg(long, value_enum, default_value_t = FileFormat::Json)]
    pub format: FileFormat,
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// Number of object types (about 4 link types each).
    #[arg(long, env = "ONTOGRAPH_GENERATE_OBJECT_TYPES", default_value_t = 10_000)]
    pub object_types: usize,
    /// Random seed: the same seed gives the same document.
    #[arg(long, env = "ONTOGRAPH_GENERATE_SEED", default_value_t = 1)]
    pub seed: u64,
}
