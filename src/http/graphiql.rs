//! Self-hosted GraphiQL IDE at `GET /graphiql`.
//!
//! Many GraphiQL setups, including the helper in `async-graphql`, load React,
//! GraphiQL and fonts from a public CDN such as unpkg or jsdelivr. Then the IDE
//! is just a blank page on air-gapped hosts, on laptops with no network, and
//! behind strict egress proxies. To avoid that, every asset the page needs is
//! vendored in `assets/graphiql/` and compiled into the binary with
//! `include_bytes!`. The page makes no requests outside this server: the GraphQL
//! endpoint is `/graphql` on the same origin and subscriptions use
//! `ws(s)://<same host>/graphql/ws`. See `assets/graphiql/LICENSES.md` for the
//! versions and licenses.

use axum::{
    extract::Path,
    http::{header, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
    Router,
};

/// Embeds a file from `assets/graphiql/` as a `(name, bytes)` pair.
macro_rules! asset {
    ($name:literal) => {
        ($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/graphiql/", $name)) as &'static [u8])
    };
}

/// Every file served at `/graphiql/assets/{file}`. Any other name returns 404.
const ASSETS: &[(&str, &[u8])] = &[
    asset!("react.production.min.js"),
    asset!("react-dom.production.min.js"),
    asset!("graphiql.min.js"),
    asset!("graphiql.min.css"),
];

/// The IDE page. All asset URLs are root-relative, and the endpoint URLs are
/// built from `window.location`, so the page works behind any host name or port.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>ontograph · GraphiQL</title>
  <link rel="stylesheet" href="/graphiql/assets/graphiql.min.css">
  <style>html, body, #graphiql { height: 100%; margin: 0; overflow: hidden; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/assets/react.production.min.js"></script>
  <script src="/graphiql/assets/react-dom.production.min.js"></script>
  <script src="/graphiql/assets/graphiql.min.js"></script>
  <script>
    (function () {
      var loc = window.location;
      var ws = (loc.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + loc.host + '/graphql/ws';
      // Headers from the editor's Headers tab (e.g. {"Authorization":
      // "Bearer ogt_…"}) go with every HTTP request; a subscription sends
      // the Authorization in connection_init, as the server expects, so
      // there is one WebSocket client per Authorization value.
      var fetchers = {};
      var fetcher = function (params, opts) {
        var headers = (opts && opts.headers) || {};
        var auth = headers.Authorization || headers.authorization || '';
        if (!fetchers[auth]) {
          fetchers[auth] = GraphiQL.createFetcher({
            url: '/graphql',
            subscriptionUrl: ws,
            wsConnectionParams: auth ? { Authorization: auth } : undefined
          });
        }
        return fetchers[auth](params, opts);
      };
      var defaultQuery = [
        '# Welcome to ontograph. Press Ctrl+Enter to run the query.',
        '{',
        '  branch(name: "main") {',
        '    version',
        '    objectTypes(first: 5) {',
        '      totalCount',
        '      edges { node { apiName displayName } }',
        '    }',
        '  }',
        '}',
        ''
      ].join('\n');
      ReactDOM.createRoot(document.getElementById('graphiql')).render(
        React.createElement(GraphiQL, {
          fetcher: fetcher,
          defaultQuery: defaultQuery,
          isHeadersEditorEnabled: true,
          // Tokens stay out of localStorage unless the user opts in.
          shouldPersistHeaders: false
        })
      );
    })();
  </script>
</body>
</html>
"#;

/// Routes for `GET /graphiql` and `GET /graphiql/assets/{file}`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/graphiql", get(page)).route("/graphiql/assets/{file}", get(asset))
}

async fn page() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-cache")], Html(PAGE))
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _)| *name == file) {
        Some((name, bytes)) => (
            [
                (header::CONTENT_TYPE, content_type(name)),
                (header::CACHE_CONTROL, "public, max-age=86400"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves [`router`] on an ephemeral localhost port and returns the base URL.
    async fn serve() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router::<()>()).await.unwrap() });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn page_references_local_assets_only() {
        let base = serve().await;
        let res = reqwest::get(format!("{base}/graphiql")).await.unwrap();
        assert_eq!(res.status(), 200);
        let ct = res.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/html"), "{ct}");
        let body = res.text().await.unwrap();
        for (name, _) in ASSETS {
            assert!(body.contains(&format!("\"/graphiql/assets/{name}\"")), "missing {name}");
        }
        assert!(!body.contains("http://") && !body.contains("https://"), "external URL in page");
        assert!(body.contains("url: '/graphql'") && body.contains("'/graphql/ws'"));
    }

    #[tokio::test]
    async fn assets_are_served_with_content_type_and_caching() {
        let base = serve().await;
        for (name, bytes) in ASSETS {
            let res = reqwest::get(format!("{base}/graphiql/assets/{name}")).await.unwrap();
            assert_eq!(res.status(), 200, "{name}");
            let h = res.headers();
            let ct = h[header::CONTENT_TYPE].to_str().unwrap();
            let want = if name.ends_with(".js") { "text/javascript" } else { "text/css" };
            assert!(ct.starts_with(want), "{name}: {ct}");
            assert_eq!(h[header::CACHE_CONTROL], "public, max-age=86400");
            assert_eq!(res.bytes().await.unwrap().as_ref(), *bytes, "{name}");
        }
    }

    #[tokio::test]
    async fn unknown_assets_are_404() {
        let base = serve().await;
        for path in ["nope.js", "LICENSES.md", "..%2F..%2FCargo.toml"] {
            let res = reqwest::get(format!("{base}/graphiql/assets/{path}")).await.unwrap();
            assert_eq!(res.status(), 404, "{path}");
        }
    }

    #[test]
    fn vendored_css_has_no_external_references() {
        for (name, bytes) in ASSETS.iter().filter(|(n, _)| n.ends_with(".css")) {
            let css: String = String::from_utf8_lossy(bytes)
                .to_ascii_lowercase()
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
                .collect();
            for bad in ["url(http", "url(//", "@importurl(http", "@importhttp"] {
                assert!(!css.contains(bad), "{name} contains `{bad}`");
            }
        }
    }

    #[test]
    fn vendored_js_has_no_cdn_references() {
        for (name, bytes) in ASSETS.iter().filter(|(n, _)| n.ends_with(".js")) {
            let js = String::from_utf8_lossy(bytes);
            for cdn in ["unpkg.com", "jsdelivr.net", "cdnjs.", "fonts.googleapis", "esm.sh"] {
                assert!(!js.contains(cdn), "{name} references {cdn}");
            }
        }
    }
}
