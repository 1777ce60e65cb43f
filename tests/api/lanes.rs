//! Two lanes (docs/ARCHITECTURE.md, "Two lanes"): heavy requests are
//! admitted to a bounded lane and refused with OVERLOADED past it; light
//! requests never wait behind them, and long answers are written off the
//! async workers.

use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::live::{error_with_code, sample, Live};

/// A branch large enough that its traversals are heavy (over the 2,000
/// nodes answered on the async worker).
async fn large(live: &Live, n: usize) {
    let mut doc = vec![];
    ontograph::cli::generate(n, 7, &mut doc).unwrap();
    let doc: ontograph::model::Document = serde_json::from_slice(&doc).unwrap();
    live.server.engine.import("main", doc.into_entities().collect(), "generated".into(), None).await.unwrap();
    // Built now, so the requests below do not race the background build.
    live.server.engine.prepare_graphs().await.unwrap();
}

fn impact(i: usize) -> String {
    format!(r#"{{ branch {{ impact(of: "T{i}", maxDepth: 64) {{ truncated nodes {{ apiName }} }} }} }}"#)
}

/// Until `task` ends: `{ __typename }` probes sent while the lane is busy;
/// how many were answered with the lane still busy.
async fn probe_while_busy<T>(live: &Live, task: &tokio::task::JoinHandle<T>) -> usize {
    let engine = &live.server.engine;
    let mut answered_during = 0;
    while !task.is_finished() {
        if engine.lane_stats().running == 0 {
            tokio::task::yield_now().await;
            continue;
        }
        assert_eq!(live.ok("{ __typename }", json!({})).await["__typename"], "Query");
        if engine.lane_stats().running > 0 {
            answered_during += 1;
        }
    }
    answered_during
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_heavy_lane_refuses_heavy_requests_and_still_serves_light_ones() {
    let live = Live::start_with(|a| {
        a.traversal_workers = 1;
        a.heavy_queue = 1;
    })
    .await;
    large(&live, 3_000).await;
    let engine = live.server.engine.clone();
    // The lane's one worker is held until `release` is sent.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let holder = tokio::spawn({
        let engine = engine.clone();
        async move { engine.heavy(move || held.recv().is_ok()).await }
    });
    while engine.lane_stats().running == 0 {
        tokio::task::yield_now().await;
    }
    // Two heavy requests fill the lane (one for the worker, one queued):
    // both are admitted and wait.
    let waiting: Vec<_> = (0..2)
        .map(|i| {
            let (client, url, q) = (live.client.clone(), live.url("/graphql"), impact(i));
            tokio::spawn(async move {
                let res = client.post(url).json(&json!({ "query": q })).send().await.unwrap();
                (res.status(), res.json::<Value>().await.unwrap())
            })
        })
        .collect();
    while engine.lane_stats().admitted < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    // A third is refused at once: 503, Retry-After, OVERLOADED, no data.
    let res = live.client.post(live.url("/graphql")).json(&json!({ "query": impact(2) })).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()[header::RETRY_AFTER], "1");
    let body: Value = res.json().await.unwrap();
    assert!(body.get("data").is_none(), "{body}");
    assert!(error_with_code(&body, "OVERLOADED")["message"].as_str().unwrap().contains("heavy requests"));
    // Light requests are answered meanwhile: no admission needed.
    assert_eq!(live.ok("{ __typename }", json!({})).await, json!({ "__typename": "Query" }));
    let lookup = live.ok(r#"{ branch { objectType(apiName: "T5") { apiName } } }"#, json!({})).await;
    assert_eq!(lookup["branch"]["objectType"]["apiName"], "T5");
    assert_eq!(live.client.get(live.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
    let metrics = live.metrics().await;
    assert_eq!(sample(&metrics, r#"ontograph_heavy_lane{state="admitted"}"#), Some(2.0));
    assert_eq!(sample(&metrics, r#"ontograph_heavy_lane{state="capacity"}"#), Some(2.0));
    assert_eq!(sample(&metrics, "ontograph_heavy_lane_rejections_total"), Some(1.0));
    // Released, the admitted requests are answered in full.
    release.send(()).unwrap();
    assert!(holder.await.unwrap().unwrap());
    for w in waiting {
        let (status, body) = w.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["errors"].is_null(), "{body}");
        assert!(!body["data"]["branch"]["impact"]["nodes"].as_array().unwrap().is_empty(), "{body}");
    }
    assert_eq!(engine.lane_stats().admitted, 0);
    // Room again.
    let (status, _) = live.gql(&impact(2), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    live.stop().await;
}

/// On a runtime of one thread, a probe `{ __typename }` can only be
/// answered while a long answer is being written if that writing happens
/// elsewhere (the heavy lane's thread): the probes below are answered
/// while the lane is busy with the answer.
#[tokio::test(flavor = "current_thread")]
async fn light_requests_are_answered_while_a_long_answer_is_written() {
    let live = Live::start_with(|a| a.traversal_workers = 1).await;
    large(&live, 10_000).await;
    let q = |alias: &str| {
        format!(
            r#"{{ branch {{ traverse(from: ["T0"], direction: BOTH, maxDepth: 64, limit: 100000) {{
                truncated nodes {{ {alias}: apiName kind depth }} edges {{ source target relation }} }} }} }}"#
        )
    };
    // Computed and cached once: the next request with another selection
    // misses the response cache and only writes the answer.
    let first = live.ok(&q("a"), json!({})).await;
    let rows = first["branch"]["traverse"]["nodes"].as_array().unwrap().len();
    assert!(rows > 4096, "long enough to be written on the lane: {rows}");
    let mut answered_during = 0;
    for round in 0..20 {
        let (client, url, body) =
            (live.client.clone(), live.url("/graphql"), json!({ "query": q(&format!("r{round}")) }));
        let long =
            tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().bytes().await.unwrap() });
        answered_during += probe_while_busy(&live, &long).await;
        let body: Value = serde_json::from_slice(&long.await.unwrap()).unwrap();
        assert_eq!(body["data"]["branch"]["traverse"]["nodes"].as_array().unwrap().len(), rows);
        if answered_during >= 3 {
            break;
        }
    }
    assert!(answered_during >= 3, "probes answered while the lane wrote: {answered_during}");
    live.stop().await;
}

/// The search reproduction (issue 14): 100 aliased `objectTypes(filter:
/// { search })` with a long `$s`. A 7 MB `$s` is refused before anything
/// runs; a 1 KiB one (the longest search) scans on the heavy lane, so on a
/// one-thread runtime `{ __typename }` is answered while the scans run.
#[tokio::test(flavor = "current_thread")]
async fn the_search_reproduction_is_refused_or_scanned_off_the_async_workers() {
    let live = Live::start_with(|a| a.traversal_workers = 1).await;
    large(&live, 3_000).await;
    let aliases: Vec<String> =
        (0..100).map(|i| format!("a{i}: objectTypes(filter: {{ search: $s }}) {{ totalCount }}")).collect();
    let q = format!("query($s: String) {{ branch {{ {} }} }}", aliases.join(" "));
    let (status, body) = live.gql(&q, json!({ "s": "x".repeat(7 * 1024 * 1024) })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("data").is_none(), "refused before it ran: {body}");
    error_with_code(&body, "LIMIT_EXCEEDED");
    let (client, url) = (live.client.clone(), live.url("/graphql"));
    let body = json!({ "query": q, "variables": { "s": "t".repeat(1024) } });
    let scans = tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().json::<Value>().await });
    let answered_during = probe_while_busy(&live, &scans).await;
    let body = scans.await.unwrap().unwrap();
    assert_eq!(body["data"]["branch"]["a99"]["totalCount"], 0, "{body}");
    assert!(answered_during >= 1, "probes answered while the lane scanned: {answered_during}");
    live.stop().await;
}
