//! Hostile clients against the real server over real TCP (issue 14):
//! unknown HTTP methods and paths add no metric series.

use crate::live::{sample, Live};
#[tokio::test]
async fn unknown_methods_and_paths_add_no_metric_series() {
    let app = Live::start().await;
    for (method, path) in [("XYZ1", "/healthz"), ("XYZ2", "/healthz"), ("XYZ3", "/graphql"), ("GET", "/nope/123")] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let res = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
        assert!(res.status().is_client_error(), "{method} {path}: {}", res.status());
    }
    let m = app.metrics().await;
    for client_input in ["XYZ", "nope"] {
        assert!(!m.contains(client_input), "{client_input} in:\n{m}");
    }
    assert_eq!(sample(&m, r#"ontograph_http_requests_total{method="other",route="/healthz",status="405"}"#), Some(2.0));
    assert_eq!(sample(&m, r#"ontograph_http_requests_total{method="other",route="/graphql",status="405"}"#), Some(1.0));
    app.stop().await;
}
