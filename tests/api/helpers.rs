//! `TestApp`: a fresh database, an engine and the schema, in-process.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Executor, Request, Variables};
use ontograph::api::{Api, ApiOptions};
use ontograph::engine::{Engine, EngineOptions};
use ontograph::store;
use serde_json::{json, Value};
use tempfile::TempDir;

pub struct TestApp {
    pub engine: Engine,
    /// The request pipeline around the schema, as the server runs it.
    pub api: Api,
    pub url: String,
    _dir: Option<TempDir>,
}

impl TestApp {
    /// Empty SQLite database in a temp file, no demo.
    pub async fn new() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let mut app = TestApp::open(&url).await;
        app._dir = Some(dir);
        app
    }

    /// With the demo ontology seeded into main.
    pub async fn with_demo() -> TestApp {
        let app = TestApp::new().await;
        assert!(app.engine.seed_demo_if_empty().await.unwrap());
        app
    }

    pub async fn open(url: &str) -> TestApp {
        TestApp::open_with(url, EngineOptions::default()).await
    }

    /// An empty database, with the engine run as `opts` say.
    pub async fn with_options(opts: EngineOptions) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let mut app = TestApp::open_with(&url, opts).await;
        app._dir = Some(dir);
        app
    }

    pub async fn open_with(url: &str, opts: EngineOptions) -> TestApp {
        let engine = Engine::open(store::connect(url).await.unwrap(), opts).await.unwrap();
        TestApp::from_engine(engine, url)
    }

    pub fn from_engine(engine: Engine, url: &str) -> TestApp {
        TestApp { api: Api::new(engine.clone(), ApiOptions::default()), engine, url: url.to_owned(), _dir: None }
    }

    /// Keep `dir` (holding the database) alive as long as the app.
    pub fn keep(&mut self, dir: TempDir) {
        self._dir = Some(dir);
    }

    /// A second engine over the same database: what a restart sees.
    pub async fn reopen(&self) -> TestApp {
        TestApp::open(&self.url).await
    }

    /// The full response as JSON: `{ data, errors? }`.
    pub async fn gql(&self, query: &str, vars: Value) -> Value {
        let req = Request::new(query).variables(Variables::from_json(vars));
        serde_json::to_value(self.api.execute(req).await).unwrap()
    }

    /// `data` of a response that must have no errors.
    pub async fn ok(&self, query: &str, vars: Value) -> Value {
        let resp = self.gql(query, vars).await;
        assert!(resp.get("errors").is_none(), "unexpected errors: {resp:#}");
        resp["data"].clone()
    }

    /// The first error of a response that must fail.
    pub async fn err(&self, query: &str, vars: Value) -> Value {
        let resp = self.gql(query, vars).await;
        resp["errors"][0].clone()
    }

    pub async fn create_object_type(&self, input: Value) -> Value {
        self.ok(CREATE_OT, json!({ "input": input })).await["createObjectType"].clone()
    }

    pub async fn branch_version(&self, branch: &str) -> i64 {
        self.ok("query($b: String!) { branch(name: $b) { version } }", json!({ "b": branch })).await["branch"]
            ["version"]
            .as_i64()
            .unwrap()
    }
}

pub const CREATE_OT: &str = r#"mutation($input: ObjectTypeInput!, $ebv: Int) {
  createObjectType(branch: "main", input: $input, expectedBranchVersion: $ebv) { apiName displayName version extends }
}"#;

pub const UPDATE_OT: &str = r#"mutation($name: ID!, $v: Int!, $input: ObjectTypePatch!) {
  updateObjectType(branch: "main", apiName: $name, expectedVersion: $v, input: $input) { apiName displayName version }
}"#;

pub fn code(err: &Value) -> &str {
    err["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no code in {err:#}"))
}

/// The PostgreSQL URL for tests, from `ONTOGRAPH_TEST_POSTGRES_URL`; prints
/// a notice and returns `None` when unset.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("ONTOGRAPH_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipping {test}: ONTOGRAPH_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

static PG_DBS: AtomicUsize = AtomicUsize::new(0);

/// A fresh PostgreSQL database per test, dropped afterwards.
pub async fn with_postgres<F: std::future::Future<Output = ()>>(test: &str, case: impl FnOnce(String) -> F) {
    let Some(admin) = postgres_url(test) else {
        return;
    };
    let name = format!("ontograph_t_{}_{}", std::process::id(), PG_DBS.fetch_add(1, Ordering::SeqCst));
    let pool = sqlx::PgPool::connect(&admin).await.expect("connect to ONTOGRAPH_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.unwrap();
    let (base, _) = admin.rsplit_once('/').expect("URL has a database path");
    case(format!("{base}/{name}")).await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&pool).await.unwrap();
}

/// Run each scenario `fn(url: &str)` against a SQLite file and against
/// PostgreSQL (a fresh database each; skipped with a notice without
/// `ONTOGRAPH_TEST_POSTGRES_URL`): modules `sqlite_file` and `postgres`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite_file {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let dir = tempfile::tempdir().unwrap();
                super::$case(&format!("sqlite://{}", dir.path().join("t.db").display())).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::helpers::with_postgres(stringify!($case), |url| async move { super::$case(&url).await }).await;
            })*
        }
    };
}
