//! Issue 18: real ontology files in and out. The Gene Ontology's own
//! `go-basic.obo` (release 2021-12-15, `tests/data/go-basic-2021-12-15.obo.gz`)
//! goes through the real `import` command; counts, annotations and
//! closures are compared with a reference read from the file by a naive
//! line parser here (no ontograph code); OBO and OWL exports import back
//! to the same ontology; a newer release imported on a branch is one
//! commit of exactly its changes, which `diff` and `impact` then show.
//! PATO and UO (from the PyPI wheel `psims`, see `tests/data/README.md`)
//! import and round-trip too; malformed files fail with their line.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ontograph::config::{DbArgs, ImportArgs};
use ontograph::engine::{Engine, EngineOptions};
use ontograph::store;
use serde_json::{json, Value};

use crate::helpers::TestApp;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// The decompressed text of a vendored `.obo.gz`.
fn gunzip(name: &str) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(data(name)).unwrap()).read_to_string(&mut text).unwrap();
    text
}

fn ontograph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ontograph")).args(args).output().expect("run ontograph")
}

fn ok(args: &[&str]) -> Output {
    let out = ontograph(args);
    assert!(out.status.success(), "ontograph {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// One stanza of the file as a naive reader sees it: kind, and (tag,
/// value) pairs with trailing `! comments` cut.
struct Stanza {
    kind: String,
    tags: Vec<(String, String)>,
}

/// A naive OBO reader: everything the test compares against.
struct Obo {
    stanzas: Vec<Stanza>,
}

fn strip_comment(value: &str) -> &str {
    // "GO:0048308 ! organelle inheritance" → "GO:0048308"
    value.split(" ! ").next().unwrap().trim()
}

impl Obo {
    fn parse(text: &str) -> Obo {
        let mut stanzas = vec![];
        for line in text.lines() {
            if line.starts_with('[') {
                stanzas.push(Stanza { kind: line.trim().to_owned(), tags: vec![] });
            } else if let (Some(s), Some((tag, value))) = (stanzas.last_mut(), line.split_once(':')) {
                if !line.starts_with('!') {
                    s.tags.push((tag.to_owned(), value.trim().to_owned()));
                }
            }
        }
        Obo { stanzas }
    }

    fn terms(&self) -> impl Iterator<Item = &Stanza> {
        self.stanzas.iter().filter(|s| s.kind == "[Term]")
    }

    fn typedefs(&self) -> impl Iterator<Item = &Stanza> {
        self.stanzas.iter().filter(|s| s.kind == "[Typedef]")
    }

    /// (child, relation, parent) of every `is_a` and `relationship` line of
    /// the terms, relation `is_a` for is_a; `intersection_of` lines as
    /// (child, `intersection_of[ R]`, target).
    fn edges(&self) -> Vec<(String, String, String)> {
        let mut out = vec![];
        for s in self.terms() {
            let id = s.get("id").unwrap();
            for (tag, value) in &s.tags {
                let v = strip_comment(value);
                match tag.as_str() {
                    "is_a" => out.push((id.clone(), "is_a".into(), v.to_owned())),
                    "relationship" => {
                        let (r, t) = v.split_once(' ').unwrap();
                        out.push((id.clone(), r.to_owned(), t.to_owned()));
                    }
                    "intersection_of" => match v.split_once(' ') {
                        Some((r, t)) => out.push((id.clone(), format!("intersection_of {r}"), t.to_owned())),
                        None => out.push((id.clone(), "intersection_of".into(), v.to_owned())),
                    },
                    _ => {}
                }
            }
        }
        out
    }

    /// How many lines of each tag the terms have.
    fn term_tags(&self) -> BTreeMap<String, usize> {
        let mut n = BTreeMap::new();
        for s in self.terms() {
            for (tag, _) in &s.tags {
                *n.entry(tag.clone()).or_insert(0) += 1;
            }
        }
        n
    }
}

impl Stanza {
    fn get(&self, tag: &str) -> Option<&String> {
        self.tags.iter().find(|(t, _)| t == tag).map(|(_, v)| v)
    }
}

/// `GO:0008150` → `GO_0008150` (every id in these files is `PREFIX:digits`).
fn api(id: &str) -> String {
    id.replace(':', "_")
}

/// Relation labels as the graph names them.
fn label(rel: &str) -> String {
    match rel {
        "is_a" => "extends".into(),
        r => match r.strip_prefix("intersection_of ") {
            Some(r) => format!("intersection_of__{}", r.replace(':', "__")),
            None => r.replace(':', "__"),
        },
    }
}

/// Shortest distances over `edges` from `start`, following them forwards
/// (`out`) or backwards.
fn bfs(edges: &[(String, String, String)], start: &str, out: bool, only_is_a: bool) -> BTreeMap<String, u32> {
    let mut adj: HashMap<&str, Vec<&str>> = HashMap::new();
    for (c, r, p) in edges {
        if only_is_a && r != "is_a" {
            continue;
        }
        let (a, b) = if out { (c, p) } else { (p, c) };
        adj.entry(a.as_str()).or_default().push(b.as_str());
    }
    let mut dist = BTreeMap::from([(start.to_owned(), 0)]);
    let mut queue = VecDeque::from([start.to_owned()]);
    while let Some(u) = queue.pop_front() {
        let d = dist[&u];
        for v in adj.get(u.as_str()).into_iter().flatten() {
            if !dist.contains_key(*v) {
                dist.insert(v.to_string(), d + 1);
                queue.push_back(v.to_string());
            }
        }
    }
    dist
}

/// `{ apiName depth }` nodes by (depth, apiName), as traverse returns them.
fn nodes(dist: &BTreeMap<String, u32>, skip: Option<&str>) -> Value {
    let mut v: Vec<(u32, String)> =
        dist.iter().filter(|(n, _)| Some(n.as_str()) != skip).map(|(n, d)| (*d, api(n))).collect();
    v.sort();
    json!(v.iter().map(|(d, n)| json!({ "apiName": n, "depth": d })).collect::<Vec<_>>())
}

async fn import(file: &Path, url: &str, branch: &str) {
    let args = ImportArgs {
        file: file.to_owned(),
        db: DbArgs { database_url: url.to_owned() },
        branch: branch.into(),
        quiet: true,
        format: None,
        absent: None,
    };
    ontograph::cli::import(args).await.unwrap();
}

/// Every entity of a branch as its document, in id order.
async fn documents(url: &str, branch: &str) -> Vec<Value> {
    let engine = Engine::open(store::connect(url).await.unwrap(), EngineOptions::default()).await.unwrap();
    let view = engine.branch(branch).unwrap();
    view.state.ontology.entities().map(|e| e.to_json()).collect()
}

/// Equal entity documents, or a panic naming the first difference.
fn same_documents(got: &[Value], want: &[Value], what: &str) {
    if got == want {
        return;
    }
    let i = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)).unwrap();
    panic!(
        "{what}: {} entities, {} expected; first difference: {} instead of {}",
        got.len(),
        want.len(),
        got.get(i).map_or("nothing".into(), Value::to_string),
        want.get(i).map_or("nothing".into(), Value::to_string)
    );
}

/// Counts per annotation name over all object types of a branch.
fn annotation_counts(docs: &[Value]) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for d in docs.iter().filter(|d| d.get("implements").is_some()) {
        for (k, v) in d["annotations"].as_object().into_iter().flatten() {
            *n.entry(k.clone()).or_insert(0) += v.as_array().unwrap().len();
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gene_ontology_obo_imports_directly_round_trips_and_releases_on_a_branch() {
    let text = gunzip("go-basic-2021-12-15.obo.gz");
    let go = Obo::parse(&text);
    let edges = go.edges();
    let terms: Vec<&Stanza> = go.terms().collect();
    let obsolete = terms.iter().filter(|s| s.get("is_obsolete").map(String::as_str) == Some("true")).count();
    let is_a = edges.iter().filter(|e| e.1 == "is_a").count();
    let links = edges.len() - is_a;
    let typedefs: Vec<&Stanza> = go.typedefs().collect();
    let typedef_is_a = typedefs.iter().flat_map(|s| &s.tags).filter(|(t, _)| t == "is_a").count();
    // The release as tests/data/README.md describes it.
    assert_eq!(
        (terms.len(), obsolete, is_a, links, typedefs.len(), typedef_is_a),
        (47_261, 3_472, 70_759, 15_790, 5, 2)
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("go-basic.obo");
    std::fs::write(&file, &text).unwrap();
    let url = format!("sqlite://{}", dir.path().join("go.db").display());
    import(&file, &url, "main").await;
    let mut app = TestApp::open(&url).await;

    // Counts: every term (obsolete ones DEPRECATED), the five Typedefs and
    // the header as interfaces, every relationship a link type, every
    // is_a an edge.
    let got = app
        .ok(
            r#"{ branch { stats { objectTypes interfaces linkTypes edges }
                 deprecated: objectTypes(first: 1, filter: { status: DEPRECATED }) { totalCount } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        got["branch"],
        json!({ "stats": { "objectTypes": terms.len(), "interfaces": typedefs.len() + 1, "linkTypes": links,
                           "edges": is_a + links + typedef_is_a },
                "deprecated": { "totalCount": obsolete } })
    );

    // Annotations: every synonym, xref, subset, comment, … line of a term
    // is one annotation value under its tag.
    let docs = documents(&url, "main").await;
    let mut want = go.term_tags();
    for tag in ["id", "name", "is_a", "relationship", "is_obsolete"] {
        want.remove(tag);
    }
    // `def` texts are descriptions; the annotation holds the def's xrefs
    // (every GO definition has some).
    let defs = want.remove("def").unwrap();
    let mut got = annotation_counts(&docs);
    assert_eq!(
        got.remove("def"),
        Some(defs - terms.iter().filter(|s| s.get("def").is_some_and(|d| d.ends_with("[]"))).count())
    );
    assert_eq!(got, want);
    let one = app
        .ok(
            r#"{ branch { objectType(apiName: "GO_0000001") { curie displayName description
                 annotations { name values } syn: annotations(names: ["synonym"]) { values } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        one["branch"]["objectType"],
        json!({ "curie": "GO:0000001", "displayName": "mitochondrion inheritance",
                "description": "The distribution of mitochondria, including the mitochondrial genome, into daughter cells after mitosis or meiosis, mediated by interactions between mitochondria and the cytoskeleton.",
                "annotations": [
                    { "name": "def", "values": ["[GOC:mcc, PMID:10873824, PMID:11389764]"] },
                    { "name": "namespace", "values": ["biological_process"] },
                    { "name": "synonym", "values": ["\"mitochondrial inheritance\" EXACT []"] } ],
                "syn": [{ "values": ["\"mitochondrial inheritance\" EXACT []"] }] })
    );
    let part_of = app
        .ok(
            r#"{ branch { interface(apiName: "part_of") { curie displayName annotations { name values } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        part_of["branch"]["interface"],
        json!({ "curie": "part_of", "displayName": "part of", "annotations": [
            { "name": "is_transitive", "values": ["true"] }, { "name": "namespace", "values": ["external"] },
            { "name": "xref", "values": ["BFO:0000050"] } ] })
    );

    // Closures equal the reference's: descendants (impact) of the three
    // roots and the ten biggest hubs, over all relations and over is_a;
    // ancestors of 60 sampled terms.
    let live: Vec<&str> =
        terms.iter().filter(|s| s.get("is_obsolete").is_none()).map(|s| s.get("id").unwrap().as_str()).collect();
    let has_parent: HashSet<&str> = edges.iter().filter(|e| e.1 == "is_a").map(|e| e.0.as_str()).collect();
    let roots: Vec<&str> = live.iter().copied().filter(|t| !has_parent.contains(t)).collect();
    assert_eq!(roots, ["GO:0003674", "GO:0005575", "GO:0008150"]);
    let mut indeg: HashMap<&str, usize> = HashMap::new();
    for (_, _, p) in &edges {
        *indeg.entry(p.as_str()).or_default() += 1;
    }
    let mut hubs: Vec<(usize, &str)> = indeg.iter().map(|(t, n)| (*n, *t)).collect();
    hubs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let mut largest = 0;
    for t in roots.iter().copied().chain(hubs.iter().take(10).map(|h| h.1)) {
        for (filter, only_is_a) in [("null", false), (r#"["extends"]"#, true)] {
            let dist = bfs(&edges, t, false, only_is_a);
            largest = largest.max(dist.len() - 1);
            let q = format!(
                r#"{{ branch {{ impact(of: "{}", relations: {filter}, limit: 100000) {{ nodes {{ apiName depth }} truncated }} }} }}"#,
                api(t)
            );
            let got = app.ok(&q, json!({})).await;
            assert_eq!(got["branch"]["impact"]["truncated"], false);
            assert!(got["branch"]["impact"]["nodes"] == nodes(&dist, Some(t)), "impact of {t} over {filter} differs");
        }
    }
    assert!(largest > 20_000, "largest closure {largest}");
    for t in live.iter().step_by(live.len() / 60).take(60) {
        let dist = bfs(&edges, t, true, false);
        let q = format!(
            r#"{{ branch {{ traverse(from: ["{}"], maxDepth: 64, limit: 100000) {{ nodes {{ apiName depth }} }} }} }}"#,
            api(t)
        );
        let got = app.ok(&q, json!({})).await;
        assert!(got["branch"]["traverse"]["nodes"] == nodes(&dist, None), "ancestors of {t} differ");
    }

    // Round trips: OBO and OWL exports import back to the same ontology
    // (into fresh databases), and importing the branch's own OBO export
    // onto it writes nothing.
    for (format, name) in [("obo", "export.obo"), ("owl", "export.ttl")] {
        let out = ok(&["export", "--format", format, "--database-url", &url]);
        let path = dir.path().join(name);
        std::fs::write(&path, &out.stdout).unwrap();
        let other = format!("sqlite://{}", dir.path().join(format!("{format}.db")).display());
        ok(&["import", path.to_str().unwrap(), "--database-url", &other, "--quiet"]);
        same_documents(&documents(&other, "main").await, &docs, &format!("GO through {format}"));
        if format == "obo" {
            let again = ok(&["import", path.to_str().unwrap(), "--database-url", &url, "--quiet"]);
            assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to commit"));
        }
    }
    // The OBO export is the file itself, up to its `! comments` on
    // annotation lines and the one xref the import had to escape.
    let exported = std::fs::read_to_string(dir.path().join("export.obo")).unwrap();
    let normalize = |t: &str| -> Vec<String> {
        t.lines().map(|l| l.replace("xref: EC 2.7.1.190", "xref: EC\\ 2.7.1.190")).collect()
    };
    let (a, b) = (normalize(&text), normalize(&exported));
    let differing: Vec<(usize, &String, &String)> =
        a.iter().zip(&b).enumerate().filter(|(_, (x, y))| x != y).map(|(i, (x, y))| (i + 1, x, y)).take(5).collect();
    assert_eq!((a.len(), differing), (b.len(), vec![]), "the OBO export differs from the file");

    // A newer release on a branch: one term added under biological_process,
    // one obsoleted, one re-parented, one gone from the file. Chosen
    // among leaves with one is_a parent and no relationships.
    let children: HashSet<&str> = edges.iter().map(|e| e.2.as_str()).collect();
    let simple: Vec<&&Stanza> = terms
        .iter()
        .filter(|s| {
            let id = s.get("id").unwrap().as_str();
            s.get("is_obsolete").is_none()
                && !children.contains(id)
                && s.tags.iter().filter(|(t, _)| t == "is_a").count() == 1
                && s.get("relationship").is_none()
        })
        .collect();
    let id = |s: &Stanza| s.get("id").unwrap().clone();
    let parent = |s: &Stanza| strip_comment(s.get("is_a").unwrap()).to_owned();
    let moved_stanza = simple.iter().skip(2).find(|s| parent(s) != "GO:0008150").unwrap();
    let (obsoleted, moved, gone) = (id(simple[0]), id(moved_stanza), id(simple[1]));
    let mut chunks: Vec<String> = vec![];
    for chunk in text.split("\n\n") {
        let lines = chunk.lines();
        let keep: Vec<&str> = match chunk.lines().find_map(|l| l.strip_prefix("id: ")) {
            Some(i) if i == gone => continue,
            Some(i) if i == obsoleted => {
                lines.filter(|l| !l.starts_with("is_a:")).chain(["is_obsolete: true"]).collect()
            }
            Some(i) if i == moved => lines
                .map(|l| if l.starts_with("is_a:") { "is_a: GO:0008150 ! biological_process" } else { l })
                .collect(),
            _ => lines.collect(),
        };
        chunks.push(keep.join("\n"));
    }
    let typedefs_at = chunks.iter().position(|c| c.starts_with("[Typedef]")).unwrap();
    chunks
        .insert(typedefs_at, "[Term]\nid: GO:9999999\nname: new process\nis_a: GO:0008150 ! biological_process".into());
    let next = chunks.join("\n\n");
    let next_file = dir.path().join("go-next.obo");
    std::fs::write(&next_file, &next).unwrap();
    assert_eq!(Obo::parse(&next).terms().count(), terms.len());

    app.ok(r#"mutation { createBranch(name: "go-2024", from: "main") { name } }"#, json!({})).await;
    drop(app);
    import(&next_file, &url, "go-2024").await;
    app = TestApp::open(&url).await;
    let release = app
        .ok(
            r#"{ b: branch(name: "go-2024") { version commits(first: 5) { edges { node { version changes { entityKind id: entityId change fields } } } }
                                           diff(against: "main") { changes { entityKind id: entityId change fields } } } }"#,
            json!({}),
        )
        .await;
    let mut changes = vec![
        json!({ "entityKind": "OBJECT_TYPE", "id": "GO_9999999", "change": "ADDED", "fields": [] }),
        json!({ "entityKind": "OBJECT_TYPE", "id": api(&obsoleted), "change": "MODIFIED", "fields": ["extends", "status"] }),
        json!({ "entityKind": "OBJECT_TYPE", "id": api(&moved), "change": "MODIFIED", "fields": ["extends"] }),
        json!({ "entityKind": "OBJECT_TYPE", "id": api(&gone), "change": "MODIFIED", "fields": ["extends", "status"] }),
    ];
    changes.sort_by_key(|c| c["id"].as_str().unwrap().to_owned());
    assert_eq!(release["b"]["version"], 1, "one commit");
    assert_eq!(release["b"]["commits"]["edges"][0]["node"]["changes"], json!(changes));
    assert_eq!(release["b"]["diff"]["changes"], json!(changes));

    // What moved under biological_process: impact on both branches.
    let impact = |branch: &str| {
        format!(
            r#"{branch}: branch(name: "{branch}") {{ impact(of: "GO_0008150", relations: ["extends"], maxDepth: 1) {{ nodes {{ apiName }} }} }}"#
        )
    };
    let q = format!(
        "{{ {} {} }}",
        impact("main").replace("main:", "before:"),
        impact("go-2024").replace("go-2024:", "after:")
    );
    let got = app.ok(&q, json!({})).await;
    let direct = |v: &Value| -> HashSet<String> {
        v["impact"]["nodes"].as_array().unwrap().iter().map(|n| n["apiName"].as_str().unwrap().to_owned()).collect()
    };
    let (before, after) = (direct(&got["before"]), direct(&got["after"]));
    let mut added: Vec<String> = after.difference(&before).cloned().collect();
    added.sort();
    let mut want_added = vec![api(&moved), "GO_9999999".to_owned()];
    want_added.sort();
    assert_eq!(added, want_added);
    let removed: HashSet<String> = before.difference(&after).cloned().collect();
    let want_removed: HashSet<String> =
        [simple[0], simple[1]].iter().filter(|s| parent(s) == "GO:0008150").map(|s| api(&id(s))).collect();
    assert_eq!(removed, want_removed);
    app.keep(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pato_and_uo_import_and_round_trip() {
    for (name, terms, intersections) in [("pato-2025-05-14.obo.gz", 2785, 0), ("uo-2026-07-31.obo.gz", 574, 160)] {
        let text = gunzip(name);
        let obo = Obo::parse(&text);
        let edges = obo.edges();
        let is_a = edges.iter().filter(|e| e.1 == "is_a").count();
        let inter = edges.iter().filter(|e| e.1.starts_with("intersection_of")).count();
        let links = edges.len() - is_a;
        let obsolete = obo.terms().filter(|s| s.get("is_obsolete").map(String::as_str) == Some("true")).count();
        assert_eq!((obo.terms().count(), inter), (terms, intersections), "{name}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(name.trim_end_matches(".gz"));
        std::fs::write(&file, &text).unwrap();
        let url = format!("sqlite://{}", dir.path().join("a.db").display());
        import(&file, &url, "main").await;
        let app = TestApp::open(&url).await;
        let got = app
            .ok(
                r#"{ branch { stats { objectTypes linkTypes }
                     deprecated: objectTypes(first: 1, filter: { status: DEPRECATED }) { totalCount } } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            got["branch"],
            json!({ "stats": { "objectTypes": terms, "linkTypes": links }, "deprecated": { "totalCount": obsolete } }),
            "{name}"
        );
        // Every link type is one edge of the file, under its relation's name.
        let docs = documents(&url, "main").await;
        let mut want: Vec<(String, String, String)> =
            edges.iter().filter(|e| e.1 != "is_a").map(|(c, r, p)| (api(c), label(r), api(p))).collect();
        want.sort();
        want.dedup();
        let mut got: Vec<(String, String, String)> = docs
            .iter()
            .filter(|d| d.get("source").is_some())
            .map(|d| {
                (
                    d["source"].as_str().unwrap().into(),
                    d["apiName"].as_str().unwrap().into(),
                    d["target"].as_str().unwrap().into(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, want, "{name}");
        for (format, ext) in [("obo", "obo"), ("owl", "ttl")] {
            let out = ok(&["export", "--format", format, "--database-url", &url]);
            let path = dir.path().join(format!("export.{ext}"));
            std::fs::write(&path, &out.stdout).unwrap();
            let other = format!("sqlite://{}", dir.path().join(format!("{format}.db")).display());
            ok(&["import", path.to_str().unwrap(), "--database-url", &other, "--quiet"]);
            same_documents(&documents(&other, "main").await, &docs, &format!("{name} through {format}"));
        }
    }
}

#[test]
fn malformed_files_fail_with_their_line_and_write_nothing() {
    let text = gunzip("go-basic-2021-12-15.obo.gz");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("e.db").display());
    let fails = |name: &str, content: &str| -> String {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out = ontograph(&["import", path.to_str().unwrap(), "--database-url", &url, "--quiet"]);
        assert!(!out.status.success(), "{name} imported");
        let err = String::from_utf8_lossy(&out.stderr).lines().next().unwrap().to_owned();
        err.replace(&format!("{}/", dir.path().display()), "")
    };
    let line_of = |needle: &str| text[..text.find(needle).unwrap()].matches('\n').count() + 1;

    // Truncated in the middle of GO:0000002's definition.
    let def = "def: \"The maintenance of the structure";
    let cut = text.find(def).unwrap() + def.len();
    assert_eq!(
        fails("truncated.obo", &text[..cut]),
        format!("Error: truncated.obo:{}:6: invalid clause: expected QuotedString", line_of(def))
    );
    // A dangling is_a: GO:0000001's first parent renamed to a term that
    // does not exist.
    let is_a = "is_a: GO:0048308 ! organelle inheritance";
    let dangling = text.replacen(is_a, "is_a: GO:9999998 ! nowhere", 1);
    assert_eq!(
        fails("dangling.obo", &dangling),
        format!(
            "Error: dangling.obo:{}: GO:0000001 is_a GO:9999998: no [Term] with id GO:9999998 in this file",
            line_of(is_a)
        )
    );
    // A duplicate id: GO:0000001's stanza again at the end.
    let first = &text[text.find("[Term]").unwrap()..text.find("[Term]\nid: GO:0000002").unwrap()];
    let duplicate = format!("{text}\n{first}");
    assert_eq!(
        fails("duplicate.obo", &duplicate),
        format!(
            "Error: duplicate.obo:{}: duplicate id GO:0000001 (first defined on line {})",
            duplicate.matches('\n').count() - first.matches('\n').count() + 1,
            line_of("[Term]")
        )
    );
    // Nothing was written: main is still at version 0.
    let out = ok(&["export", "--database-url", &url]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc, json!({ "objectTypes": [], "interfaces": [], "linkTypes": [] }));
}
