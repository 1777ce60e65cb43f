//! The traversal result cache: hits, canonical keys, coalescing, never a
//! stale answer, bounded memory, persisted queries and warming.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Executor;
use ontograph::api::warm::{self, Reads, WarmPlan};
use ontograph::cache::{Answer, BranchKey, CacheConfig, QueryKey, Question, ResultCache};
use ontograph::engine::{Engine, EngineOptions};
use ontograph::graph::Direction;
use ontograph::store;
use serde_json::{json, Value};

use crate::helpers::TestApp;

const CHILDREN_OF_PERSON: &str = r#"query($b: String! = "main", $at: Int) { branch(name: $b, at: $at) { version
    traverse(from: ["Person"], direction: INCOMING, relations: ["extends"]) { nodes { apiName depth } cached } } }"#;

async fn children_of_person(app: &TestApp, vars: Value) -> (Vec<String>, bool) {
    let t = app.ok(CHILDREN_OF_PERSON, vars).await["branch"]["traverse"].clone();
    let names = t["nodes"].as_array().unwrap().iter().map(|n| n["apiName"].as_str().unwrap().to_owned()).collect();
    (names, t["cached"].as_bool().unwrap())
}

async fn stats(app: &TestApp) -> Value {
    app.engine.sync_cache().await;
    app.ok(
        "{ server { cache { hits misses hitRate entries weightedBytes capacityBytes evictions invalidations } } }",
        json!({}),
    )
    .await["server"]["cache"]
        .clone()
}

#[tokio::test]
async fn second_identical_traversal_is_cached_and_a_write_refreshes_it() {
    let app = TestApp::with_demo().await;
    let (before, cached) = children_of_person(&app, json!({})).await;
    assert_eq!(before, ["Person", "Contractor", "Employee"]);
    assert!(!cached);
    assert_eq!(children_of_person(&app, json!({})).await, (before.clone(), true));
    let s = stats(&app).await;
    assert_eq!((s["hits"].as_u64(), s["misses"].as_u64(), s["entries"].as_u64()), (Some(1), Some(1), Some(1)));
    assert_eq!(s["hitRate"], 0.5);
    assert!(s["weightedBytes"].as_u64().unwrap() > 0);
    assert_eq!(s["capacityBytes"], 256 * 1024 * 1024);

    app.create_object_type(json!({ "apiName": "Intern", "extends": ["Employee"] })).await;
    let (after, cached) = children_of_person(&app, json!({})).await;
    assert_eq!(after, ["Person", "Contractor", "Employee", "Intern"]);
    assert!(!cached, "the first read after a write is computed on the new state");
    assert_eq!(children_of_person(&app, json!({})).await, (after, true));
    let s = stats(&app).await;
    assert_eq!((s["hits"].as_u64(), s["misses"].as_u64()), (Some(2), Some(2)));
    assert_eq!(s["entries"], 1, "the old version's entry was dropped");
    assert_eq!(s["invalidations"], 1);
}

#[tokio::test]
async fn equivalent_arguments_share_one_entry() {
    let app = TestApp::with_demo().await;
    let ask = |args: &str| {
        format!("{{ branch {{ traverse({args}) {{ nodes {{ apiName depth }} edges {{ source target }} truncated cached }} }} }}")
    };
    let first = app.ok(&ask(r#"from: ["Employee", "Order"], relations: ["extends", "manager"]"#), json!({})).await;
    assert_eq!(first["branch"]["traverse"]["cached"], false);
    for same in [
        r#"from: ["Order", "Employee"], relations: ["manager", "extends"]"#,
        r#"from: ["Employee", "Order", "Employee"], relations: ["extends", "manager", "extends"]"#,
        r#"from: ["Employee", "Order"], relations: ["extends", "manager"], direction: OUTGOING, maxDepth: 3, limit: 1000"#,
        r#"from: ["Employee", "Order"], relations: ["extends", "manager"], nodeKinds: [INTERFACE, OBJECT_TYPE]"#,
    ] {
        let mut again = app.ok(&ask(same), json!({})).await;
        assert_eq!(again["branch"]["traverse"]["cached"], true, "{same}");
        again["branch"]["traverse"]["cached"] = false.into();
        assert_eq!(again, first, "{same}");
    }
    // A clamped request shares the entry of the cap but still reports truncation.
    let q = |limit: i64| {
        format!(
            r#"{{ branch {{ traverse(from: ["Employee"], maxDepth: 64, limit: {limit}) {{ truncated cached }} }} }}"#
        )
    };
    assert_eq!(
        app.ok(&q(100_000), json!({})).await["branch"]["traverse"],
        json!({ "truncated": false, "cached": false })
    );
    assert_eq!(
        app.ok(&q(5_000_000), json!({})).await["branch"]["traverse"],
        json!({ "truncated": true, "cached": true })
    );
    // Different questions do not collide.
    let other = app.ok(&ask(r#"from: ["Employee"], relations: ["extends"]"#), json!({})).await;
    assert_eq!(other["branch"]["traverse"]["cached"], false);
}

#[tokio::test]
async fn every_traversal_field_is_cached_and_errors_are_not() {
    let app = TestApp::with_demo().await;
    let q = r#"{ branch {
        sp: shortestPath(from: "Payment", to: "Customer") { nodes }
        ps: paths(from: "Payment", to: "Customer", limit: 2) { length }
        r: reachable(from: "Payment", to: "Product")
        i: impact(of: "Person") { nodes { apiName } cached }
        c: cycles(limit: 3) { length } } }"#;
    let first = app.ok(q, json!({})).await;
    assert_eq!(first["branch"]["i"]["cached"], false);
    let s = stats(&app).await;
    assert_eq!((s["misses"].as_u64(), s["hits"].as_u64(), s["entries"].as_u64()), (Some(5), Some(0), Some(5)));
    let mut second = app.ok(q, json!({})).await;
    assert_eq!(second["branch"]["i"]["cached"], true);
    second["branch"]["i"]["cached"] = false.into();
    assert_eq!(second, first);
    let s = stats(&app).await;
    assert_eq!((s["misses"].as_u64(), s["hits"].as_u64()), (Some(5), Some(5)));
    for _ in 0..2 {
        let err = app.err(r#"{ branch { traverse(from: ["Nope"]) { cached } } }"#, json!({})).await;
        assert_eq!(err["extensions"]["code"], "NOT_FOUND");
    }
    assert_eq!(stats(&app).await["entries"], 5, "errors are not cached");
}

fn key(version: i64, limit: usize) -> QueryKey {
    let question = Question::traverse(vec!["A".into()], Direction::Both, None, None, 3, limit);
    QueryKey { branch: BranchKey { uid: 1, version, historical: false }, question }
}

/// N identical concurrent misses run one computation; the others wait
/// for it and share its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_concurrent_misses_compute_once() {
    let cache = ResultCache::new(CacheConfig::default());
    let computations = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(tokio::sync::Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (cache, computations, start) = (cache.clone(), computations.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let compute = async {
                    computations.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok::<_, String>(Answer::Reachable(true))
                };
                cache.get_or_compute(&key(1, 10), compute).await.unwrap().1
            })
        })
        .collect();
    let mut cached = vec![];
    for t in tasks {
        cached.push(t.await.unwrap());
    }
    assert_eq!(computations.load(Ordering::SeqCst), 1);
    assert_eq!(cached.iter().filter(|c| !**c).count(), 1, "exactly one caller computed");
    let s = cache.stats();
    assert_eq!((s.misses, s.hits), (1, 15));

    // Over GraphQL: a large graph (answered on the blocking pool), 12 identical requests at once.
    let app = generated_app(3000, CacheConfig::default()).await;
    let q = r#"{ branch { traverse(from: ["T0"], direction: BOTH, maxDepth: 6, limit: 100000) { cached } } }"#;
    let answers = futures::future::join_all((0..12).map(|_| app.ok(q, json!({})))).await;
    assert_eq!(answers.iter().filter(|a| a["branch"]["traverse"]["cached"] == false).count(), 1);
    let s = app.engine.cache_stats();
    assert_eq!((s.misses, s.hits), (1, 11));
}

async fn generated_app(n: usize, cache: CacheConfig) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("g.db").display());
    let engine =
        Engine::open(store::connect(&url).await.unwrap(), EngineOptions { cache, ..Default::default() }).await.unwrap();
    let mut doc = vec![];
    ontograph::cli::generate(n, 7, &mut doc).unwrap();
    let doc: ontograph::model::Document = serde_json::from_slice(&doc).unwrap();
    engine.import("main", doc.into_entities().collect(), "generated".into(), None).await.unwrap();
    let mut app = TestApp::from_engine(engine, &url);
    app.keep(dir);
    app
}

#[tokio::test]
async fn commits_drop_only_the_old_head_entries_of_their_branch() {
    let app = TestApp::with_demo().await;
    app.ok(r#"mutation { createBranch(name: "fork") { version } }"#, json!({})).await;
    app.create_object_type(json!({ "apiName": "Robot" })).await;
    let v = app.branch_version("main").await;
    let main = json!({});
    let fork = json!({ "b": "fork" });
    let past = json!({ "at": v - 1 });
    for vars in [&main, &fork, &past] {
        assert!(!children_of_person(&app, vars.clone()).await.1);
    }
    assert_eq!(stats(&app).await["entries"], 3);

    app.create_object_type(json!({ "apiName": "Intern", "extends": ["Employee"] })).await;
    let s = stats(&app).await;
    assert_eq!((s["entries"].as_u64(), s["invalidations"].as_u64()), (Some(2), Some(1)));
    // The fork and the past version are untouched; main is recomputed.
    assert_eq!(
        children_of_person(&app, fork).await,
        (vec!["Person".into(), "Contractor".into(), "Employee".into()], true)
    );
    assert!(children_of_person(&app, past).await.1);
    let (names, cached) = children_of_person(&app, main).await;
    assert!(!cached);
    assert!(names.contains(&"Intern".to_string()));
}

/// A branch deleted and created again under the same name (at the same
/// version number) never sees the old incarnation's answers.
#[tokio::test]
async fn a_recreated_branch_does_not_inherit_answers() {
    let app = TestApp::with_demo().await;
    let tmp = json!({ "b": "tmp" });
    app.ok(r#"mutation { createBranch(name: "tmp") { version } }"#, json!({})).await;
    assert_eq!(children_of_person(&app, tmp.clone()).await.0.len(), 3);
    assert!(children_of_person(&app, tmp.clone()).await.1);
    app.ok(r#"mutation { deleteBranch(name: "tmp", expectedVersion: 0) }"#, json!({})).await;
    app.create_object_type(json!({ "apiName": "Intern", "extends": ["Employee"] })).await;
    app.ok(r#"mutation { createBranch(name: "tmp") { version } }"#, json!({})).await;
    let (names, cached) = children_of_person(&app, tmp).await;
    assert_eq!((names.len(), cached), (4, false));
}

/// Readers race a writer that grows an inheritance chain by one type per
/// commit. Every answer must be exactly the chain of the version the same
/// read reports, whether it came from the cache or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_readers_and_writer_never_see_a_stale_answer() {
    let app = Arc::new(TestApp::new().await);
    app.create_object_type(json!({ "apiName": "N0" })).await;
    let base = app.branch_version("main").await;
    const COMMITS: i64 = 30;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (app, done) = (app.clone(), done.clone());
        tokio::spawn(async move {
            for k in 1..=COMMITS {
                app.create_object_type(json!({ "apiName": format!("N{k}"), "extends": [format!("N{}", k - 1)] })).await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let q = r#"query($at: Int) { branch(at: $at) { version
        traverse(from: ["N0"], direction: INCOMING, relations: ["extends"], maxDepth: 64) { nodes { apiName depth } cached }
        reachable(from: "N0", to: "N0") } }"#;
    let readers: Vec<_> = (0..6)
        .map(|r| {
            let (app, done) = (app.clone(), done.clone());
            tokio::spawn(async move {
                let (mut reads, mut hits) = (0, 0);
                while !done.load(Ordering::SeqCst) || reads < 20 {
                    // In-process reads answered from the cache never wait on
                    // anything: yield so the writer gets scheduled.
                    tokio::task::yield_now().await;
                    // Every third read of some readers travels back in time.
                    let at = if r % 2 == 1 && reads % 3 == 0 { json!(base + reads % COMMITS / 2) } else { json!(null) };
                    let b = app.ok(q, json!({ "at": at })).await["branch"].clone();
                    if b.is_null() {
                        continue; // that version does not exist yet
                    }
                    let v = b["version"].as_i64().unwrap();
                    let expect: Vec<Value> =
                        (0..=v - base).map(|k| json!({ "apiName": format!("N{k}"), "depth": k })).collect();
                    assert_eq!(b["traverse"]["nodes"], Value::Array(expect), "answer for version {v}");
                    reads += 1;
                    hits += b["traverse"]["cached"].as_bool().unwrap() as i64;
                }
                (reads, hits)
            })
        })
        .collect();
    writer.await.unwrap();
    let (mut reads, mut hits) = (0, 0);
    for r in readers {
        let (n, h) = r.await.unwrap();
        reads += n;
        hits += h;
    }
    assert!(hits > 0 && hits < reads, "{hits} cached of {reads} reads");
    assert_eq!(app.branch_version("main").await, base + COMMITS);
}

/// A stream of distinct questions: the cache evicts to stay within its
/// capacity.
#[tokio::test]
async fn memory_stays_within_the_capacity() {
    let capacity = 64 * 1024;
    let app = generated_app(500, CacheConfig { capacity_bytes: capacity, ..CacheConfig::default() }).await;
    let q =
        r#"query($l: Int) { branch { traverse(from: ["T0"], direction: BOTH, maxDepth: 5, limit: $l) { cached } } }"#;
    for l in 1..=400 {
        app.ok(q, json!({ "l": l })).await;
        if l % 50 == 0 {
            app.engine.sync_cache().await;
            let s = app.engine.cache_stats();
            assert!(s.weighted_bytes <= capacity, "{s:?}");
        }
    }
    app.engine.sync_cache().await;
    let s = app.engine.cache_stats();
    assert!(s.evictions > 0 && s.entries > 0 && s.weighted_bytes <= capacity, "{s:?}");

    // Capacity 0 turns the cache off.
    let off = generated_app(50, CacheConfig { capacity_bytes: 0, ..CacheConfig::default() }).await;
    let q = r#"{ branch { traverse(from: ["T0"]) { cached } } }"#;
    for _ in 0..2 {
        assert_eq!(off.ok(q, json!({})).await["branch"]["traverse"]["cached"], false);
    }
}

#[tokio::test]
async fn time_to_live_expires_answers() {
    // Generous: the second read must come within the TTL even on a busy machine.
    let app = generated_app(50, CacheConfig { ttl: Some(Duration::from_secs(2)), ..CacheConfig::default() }).await;
    let q = r#"{ branch { traverse(from: ["T0"]) { cached } } }"#;
    let cached = |v: Value| v["branch"]["traverse"]["cached"].as_bool().unwrap();
    assert!(!cached(app.ok(q, json!({})).await));
    assert!(cached(app.ok(q, json!({})).await));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(!cached(app.ok(q, json!({})).await));
}

fn sha256(s: &str) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(s.as_bytes()))
}

#[tokio::test]
async fn automatic_persisted_queries() {
    let app = TestApp::with_demo().await;
    let query = r#"{ branch { traverse(from: ["Employee"], maxDepth: 1) { nodes { apiName } } } }"#;
    let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(query) } });
    let run = |text: &str| {
        let mut req = async_graphql::Request::new(text);
        req.extensions = serde_json::from_value(persisted.clone()).unwrap();
        let api = app.api.clone();
        async move { serde_json::to_value(api.execute(req).await).unwrap() }
    };
    let unknown = run("").await;
    assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound");
    let registered = run(query).await;
    assert!(registered.get("errors").is_none(), "{registered:#}");
    let by_hash = run("").await;
    assert_eq!(by_hash["data"], registered["data"]);
    assert_eq!(by_hash["data"]["branch"]["traverse"]["nodes"][0]["apiName"], "Employee");
    let wrong = run(r#"{ __typename }"#).await;
    assert_eq!(wrong["errors"][0]["message"], "provided sha does not match query");
}

#[test]
fn warm_plans_know_which_branches_they_read() {
    let plan = WarmPlan::parse(
        r#"query a { branch { traverse(from: ["X"]) { truncated } } }
           query b { branch(name: "dev") { impact(of: "X") { truncated } } old: branch(at: 3) { version } }
           query c($n: String!) { branch(name: $n) { version } }
           query d { branches { name } }
           query e { branch(at: 1) { version } server { version } }
           query f { branch(name: "dev") { ... on Branch { diff(against: "qa") { base } } } }"#,
    )
    .unwrap();
    let mut reads: Vec<(String, Reads)> =
        plan.queries.iter().map(|q| (q.operation.clone().unwrap(), q.reads.clone())).collect();
    reads.sort_by(|a, b| a.0.cmp(&b.0));
    let set = |b: &[&str]| Reads::Branches(b.iter().map(|s| s.to_string()).collect());
    assert_eq!(
        reads,
        [
            ("a".into(), set(&["main"])),
            // `at` beyond the head answers null until commits land: it reads the head.
            ("b".into(), set(&["dev", "main"])),
            ("c".into(), Reads::Any),
            ("d".into(), Reads::Any),
            // `server` reports live statistics.
            ("e".into(), Reads::Any),
            ("f".into(), set(&["dev", "qa"])),
        ]
    );
    assert!(WarmPlan::parse("mutation { deleteBranch(name: \"x\", expectedVersion: 0) }").is_err());
    assert!(WarmPlan::parse("{ branch { ").is_err());
}

/// Warm queries run at start and again after each commit on their branch,
/// so a user's first question after a write is already a hit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warming_keeps_answers_hot_across_commits() {
    let app = TestApp::with_demo().await;
    let plan = WarmPlan::parse(
        r#"query children { branch { traverse(from: ["Person"], direction: INCOMING, relations: ["extends"]) { truncated } } }"#,
    )
    .unwrap();
    let warmer = warm::spawn(app.api.clone(), &app.engine, plan);
    let wait_for_misses = |n: u64| {
        let engine = app.engine.clone();
        async move {
            for _ in 0..500 {
                if engine.cache_stats().misses >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("the warmer did not run");
        }
    };
    wait_for_misses(1).await;
    let (names, cached) = children_of_person(&app, json!({})).await;
    assert_eq!((names.len(), cached), (3, true));

    app.create_object_type(json!({ "apiName": "Intern", "extends": ["Employee"] })).await;
    wait_for_misses(2).await;
    let (names, cached) = children_of_person(&app, json!({})).await;
    assert_eq!((names.len(), cached), (4, true), "warm after the commit: {names:?}");
    // A commit on another branch does not re-run it: a re-run would be a
    // hit (main did not move). The next commit on main re-runs it once.
    let hits = app.engine.cache_stats().hits;
    app.ok(r#"mutation { createBranch(name: "side") { version } }"#, json!({})).await;
    app.ok(r#"mutation { createObjectType(branch: "side", input: { apiName: "Side" }) { version } }"#, json!({})).await;
    app.create_object_type(json!({ "apiName": "Trainee", "extends": ["Employee"] })).await;
    wait_for_misses(3).await;
    app.engine.sync_cache().await;
    assert_eq!(app.engine.cache_stats().hits, hits, "the warmer ran for a commit on another branch");
    warmer.abort();
}

/// Each warm operation runs as a document of its own: the request limits
/// apply per operation (here 120 aliases in the file, 100 allowed per
/// request), and a fragment is sent only with the operations using it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_operations_run_alone_with_their_fragments() {
    let app = TestApp::with_demo().await;
    let names = ["Person", "Employee", "Customer", "Invoice", "Payment", "Product"];
    let mut file = String::from("fragment T on Traversal { truncated }\n");
    for (i, from) in names.iter().cycle().take(30).enumerate() {
        let aliases: String = (1..=4)
            .map(|d| {
                format!(
                    r#"d{d}: traverse(from: ["{from}"], direction: BOTH, maxDepth: {}) {{ ...T }} "#,
                    d + 4 * (i / 6)
                )
            })
            .collect();
        file.push_str(&format!("query q{i} {{ branch {{ {aliases} }} }}\n"));
    }
    file.push_str("query lone { branch { version } }\n");
    let plan = WarmPlan::parse(&file).unwrap();
    let warmer = warm::spawn(app.api.clone(), &app.engine, plan);
    for _ in 0..500 {
        if app.engine.cache_stats().misses >= 120 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    warmer.abort();
    assert_eq!(app.engine.cache_stats().misses, 120, "every traversal of every operation ran once");
}
