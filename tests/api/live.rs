//! `Live`: the real server in-process on port 0 over a fresh SQLite file,
//! with a reqwest client; shared by the production-surface modules.

use ontograph::config::ServeArgs;
use ontograph::http::Server;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

pub struct Live {
    pub server: Server,
    pub base: String,
    pub client: reqwest::Client,
    _dir: Option<TempDir>,
}

impl Live {
    pub async fn start() -> Live {
        Live::start_with(|_| {}).await
    }

    /// Started with flags changed by `configure`.
    pub async fn start_with(configure: impl FnOnce(&mut ServeArgs)) -> Live {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("live.db").display());
        let mut live = Live::start_at(&url, configure).await;
        live._dir = Some(dir);
        live
    }

    /// Over the database at `url` (kept), with flags changed by `configure`.
    pub async fn start_at(url: &str, configure: impl FnOnce(&mut ServeArgs)) -> Live {
        let mut args = ServeArgs::for_tests(url);
        configure(&mut args);
        let server = Server::start(args).await.unwrap();
        let base = format!("http://{}", server.addr);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap();
        Live { server, base, client, _dir: None }
    }

    /// POST a GraphQL request with `Authorization: Bearer <token>` (none
    /// for `None`); status and the full response.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, vars: Value) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(json!({ "query": query, "variables": vars }).to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request failed");
        let status = res.status();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body ({status}): {e}: {text}"));
        (status, body)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POST a raw JSON body to `/graphql`; status and the body as JSON.
    pub async fn post_raw(&self, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
        let res = self
            .client
            .post(self.url("/graphql"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("request failed");
        let status = res.status();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body ({status}): {e}: {text}"));
        (status, body)
    }

    /// POST a GraphQL request; status and the full response.
    pub async fn gql(&self, query: &str, vars: Value) -> (StatusCode, Value) {
        self.post_raw(json!({ "query": query, "variables": vars }).to_string()).await
    }

    /// `data` of a request that must succeed with 200 and no errors.
    pub async fn ok(&self, query: &str, vars: Value) -> Value {
        let (status, body) = self.gql(query, vars).await;
        assert_eq!(status, StatusCode::OK, "{body:#}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// The first error of a request that must fail with HTTP `status`.
    pub async fn err(&self, status: StatusCode, query: &str, vars: Value) -> Value {
        let (got, body) = self.gql(query, vars).await;
        assert_eq!(got, status, "{body:#}");
        assert!(body["errors"][0].is_object(), "expected an error: {body:#}");
        body["errors"][0].clone()
    }

    pub async fn main_version(&self) -> i64 {
        self.ok(r#"{ branch(name: "main") { version } }"#, json!({})).await["branch"]["version"].as_i64().unwrap()
    }

    pub async fn create(&self, api_name: &str) -> Value {
        self.ok(crate::helpers::CREATE_OT, json!({ "input": { "apiName": api_name } })).await["createObjectType"]
            .clone()
    }

    /// The server still answers `{ __typename }`.
    pub async fn assert_alive(&self) {
        let data = self.ok("{ __typename }", json!({})).await;
        assert_eq!(data["__typename"], "Query", "{data:#}");
    }

    /// The `/metrics` text.
    pub async fn metrics(&self) -> String {
        let res = self.client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.text().await.unwrap()
    }

    pub async fn stop(self) {
        self.server.stop().await.unwrap();
    }
}

/// The value of one sample in Prometheus text (`name{labels}` exactly as
/// printed, or a bare name), or `None` when absent.
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

/// The first error of a response, asserting its code.
pub fn error_with_code<'a>(body: &'a Value, code: &str) -> &'a Value {
    let err = &body["errors"][0];
    assert_eq!(err["extensions"]["code"], code, "{body:#}");
    assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()), "{body:#}");
    err
}
