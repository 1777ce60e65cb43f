//! Issue 3 acceptance: exact answers on a real ontology. The Gene Ontology
//! (`tests/data/go-basic-2021-12-15.tsv.gz`: 43,789 live terms, 86,549
//! edges over five relations, see `tests/data/README.md`) goes through the
//! real `import` command into SQLite, a fresh engine loads it back, and
//! every answer is compared with a reference computed here from the raw
//! data file by a naive BFS over plain `HashMap`s — no ontograph code.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Read;

use ontograph::config::{DbArgs, ImportArgs};
use ontograph::engine::{Engine, EngineOptions};
use ontograph::store;
use serde_json::{json, Value};

use crate::helpers::TestApp;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/go-basic-2021-12-15.tsv.gz");

/// The raw data: GO ids and OBO relation names, exactly as in the file.
struct Go {
    terms: Vec<(String, String)>,
    /// (child, relation, parent)
    edges: Vec<(String, String, String)>,
}

fn read_go() -> Go {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(DATA).expect("open GO data"))
        .read_to_string(&mut text)
        .expect("gunzip GO data");
    let (mut terms, mut edges) = (vec![], vec![]);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        match f[..] {
            ["T", id, name] => terms.push((id.to_owned(), name.to_owned())),
            ["E", child, rel, parent] => edges.push((child.to_owned(), rel.to_owned(), parent.to_owned())),
            _ => panic!("bad line in {DATA}: {line:?}"),
        }
    }
    Go { terms, edges }
}

/// The mapping into ontograph's model: `GO:0008150` → `GO_0008150`,
/// `is_a` → `extends`, every other relation keeps its name.
fn api(id: &str) -> String {
    id.replace(':', "_")
}

fn label(rel: &str) -> &str {
    if rel == "is_a" {
        "extends"
    } else {
        rel
    }
}

/// The import document for the data, as a user would write it.
fn document(go: &Go) -> Value {
    let mut extends: HashMap<&str, Vec<String>> = HashMap::new();
    let mut links = vec![];
    for (c, r, p) in &go.edges {
        if r == "is_a" {
            extends.entry(c).or_default().push(api(p));
        } else {
            links.push(json!({ "apiName": r, "source": api(c), "target": api(p), "cardinality": "MANY_TO_MANY" }));
        }
    }
    let objects: Vec<Value> = go
        .terms
        .iter()
        .map(|(id, name)| {
            let ext = extends.remove(id.as_str()).unwrap_or_default();
            json!({ "apiName": api(id), "displayName": name, "extends": ext })
        })
        .collect();
    json!({ "objectTypes": objects, "linkTypes": links })
}

/// The independent reference: adjacency lists in both directions, keyed
/// by GO id; relations by their OBO names.
struct Reference<'a> {
    out: HashMap<&'a str, Vec<(&'a str, &'a str)>>,
    inc: HashMap<&'a str, Vec<(&'a str, &'a str)>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Dir {
    Out,
    In,
    Both,
}

impl Dir {
    fn gql(self) -> &'static str {
        match self {
            Dir::Out => "OUTGOING",
            Dir::In => "INCOMING",
            Dir::Both => "BOTH",
        }
    }
}

impl<'a> Reference<'a> {
    fn new(go: &'a Go) -> Self {
        let (mut out, mut inc) = (HashMap::new(), HashMap::new());
        for (id, _) in &go.terms {
            out.insert(id.as_str(), vec![]);
            inc.insert(id.as_str(), vec![]);
        }
        for (c, r, p) in &go.edges {
            out.get_mut(c.as_str()).unwrap().push((r.as_str(), p.as_str()));
            inc.get_mut(p.as_str()).unwrap().push((r.as_str(), c.as_str()));
        }
        Reference { out, inc }
    }

    /// (relation, neighbour) steps from `u` in direction `dir`.
    fn steps<'s>(
        &'s self,
        u: &str,
        dir: Dir,
        rels: Option<&'s [&'s str]>,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 's {
        let out = if dir != Dir::In { &self.out[u][..] } else { &[] };
        let inc = if dir != Dir::Out { &self.inc[u][..] } else { &[] };
        out.iter().chain(inc).copied().filter(move |(r, _)| rels.is_none_or(|rs| rs.contains(r)))
    }

    /// Shortest distance from `start` to everything it reaches.
    fn bfs(&self, start: &'a str, dir: Dir, rels: Option<&[&str]>) -> HashMap<&'a str, u32> {
        self.bfs_within(start, dir, rels, None)
    }

    /// `bfs` that never leaves the nodes of `within`.
    fn bfs_within(
        &self,
        start: &'a str,
        dir: Dir,
        rels: Option<&[&str]>,
        within: Option<&HashMap<&str, u32>>,
    ) -> HashMap<&'a str, u32> {
        let mut dist = HashMap::from([(start, 0)]);
        let mut queue = VecDeque::from([start]);
        while let Some(u) = queue.pop_front() {
            let d = dist[u];
            for (_, v) in self.steps(u, dir, rels) {
                if within.is_some_and(|w| !w.contains_key(v)) {
                    continue;
                }
                dist.entry(v).or_insert_with(|| {
                    queue.push_back(v);
                    d + 1
                });
            }
        }
        dist
    }

    /// Kahn's algorithm: does the graph restricted to `rels` have a cycle?
    fn has_cycle(&self, rels: Option<&[&str]>) -> bool {
        let mut indeg: HashMap<&str, usize> = self.out.keys().map(|&k| (k, 0)).collect();
        for &u in self.out.keys() {
            for (_, v) in self.steps(u, Dir::Out, rels) {
                *indeg.get_mut(v).unwrap() += 1;
            }
        }
        let mut ready: Vec<&str> = indeg.iter().filter(|(_, &d)| d == 0).map(|(&k, _)| k).collect();
        let mut removed = 0;
        while let Some(u) = ready.pop() {
            removed += 1;
            for (_, v) in self.steps(u, Dir::Out, rels) {
                let d = indeg.get_mut(v).unwrap();
                *d -= 1;
                if *d == 0 {
                    ready.push(v);
                }
            }
        }
        removed != self.out.len()
    }
}

/// SplitMix64: a fixed-seed sample without depending on any crate's RNG.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

/// What a traversal must return: nodes by (depth, apiName); the edges
/// between them, restricted to `rels`, by (source, target, relation);
/// `truncated` false. `skip` leaves a node out (impact omits its start).
fn expected_traversal(
    reference: &Reference,
    dist: &HashMap<&str, u32>,
    rels: Option<&[&str]>,
    skip: Option<&str>,
) -> Value {
    let mut nodes: Vec<(u32, String)> =
        dist.iter().filter(|(&n, _)| Some(n) != skip).map(|(&n, &d)| (d, api(n))).collect();
    nodes.sort();
    let mut edges: Vec<(String, String, &str)> = vec![];
    for &child in dist.keys() {
        for &(r, parent) in &reference.out[child] {
            if rels.is_none_or(|rs| rs.contains(&r)) && dist.contains_key(parent) {
                edges.push((api(child), api(parent), label(r)));
            }
        }
    }
    edges.sort();
    json!({
        "nodes": nodes.iter().map(|(d, n)| json!({ "apiName": n, "depth": d })).collect::<Vec<_>>(),
        "edges": edges.iter().map(|(s, t, r)| json!({ "source": s, "target": t, "relation": r })).collect::<Vec<_>>(),
        "truncated": false,
    })
}

/// Equality with a short message (the values can hold 40,000 nodes).
fn same(what: &str, actual: &Value, expected: &Value) {
    if actual == expected {
        return;
    }
    for key in ["nodes", "edges", "truncated"] {
        let (a, e) = (&actual[key], &expected[key]);
        if a != e {
            let (a, e) = (a.as_array(), e.as_array());
            let (la, le) = (a.map_or(0, Vec::len), e.map_or(0, Vec::len));
            let first = (0..la.max(le)).find(|&i| a.and_then(|a| a.get(i)) != e.and_then(|e| e.get(i)));
            let at = |v: Option<&Vec<Value>>| first.and_then(|i| v.and_then(|v| v.get(i)).cloned());
            panic!(
                "{what}: {key} differ: {la} returned, {le} expected; first difference at {first:?}: \
                 returned {:?}, expected {:?}",
                at(a),
                at(e)
            );
        }
    }
    panic!("{what}: {actual} != {expected}");
}

/// Filters as GraphQL sees them and as the reference sees them.
const FILTERS: [(&str, Option<&[&str]>); 3] =
    [(r#"["extends"]"#, Some(&["is_a"])), (r#"["extends", "part_of"]"#, Some(&["is_a", "part_of"])), ("null", None)];

const TRAVERSAL_FIELDS: &str = "{ nodes { apiName depth } edges { source target relation } truncated }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gene_ontology_answers_match_a_naive_reference() {
    let t0 = std::time::Instant::now();
    let go = read_go();
    let reference = Reference::new(&go);
    let links = go.edges.iter().filter(|(_, r, _)| r != "is_a").count();

    // Import through the real command, then load the database afresh.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("go.json");
    std::fs::write(&file, serde_json::to_vec(&document(&go)).unwrap()).unwrap();
    let url = format!("sqlite://{}", dir.path().join("go.db").display());
    let db = DbArgs { database_url: url.clone() };
    ontograph::cli::import(ImportArgs { file, db, branch: "main".into(), quiet: true, format: None, absent: None })
        .await
        .unwrap();
    let app = TestApp::from_engine(
        Engine::open(store::connect(&url).await.unwrap(), EngineOptions::default()).await.unwrap(),
        &url,
    );

    // Everything arrived (this also builds the graph before any budget runs).
    let counts = app
        .ok(
            "{ branch { stats { objectTypes interfaces linkTypes edges }
                        objectTypes(first: 1) { totalCount } linkTypes(first: 1) { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        counts["branch"],
        json!({ "stats": { "objectTypes": go.terms.len(), "interfaces": 0, "linkTypes": links, "edges": go.edges.len() },
                "objectTypes": { "totalCount": go.terms.len() }, "linkTypes": { "totalCount": links } })
    );

    // The sample: the roots, the 20 biggest hubs, 60 leaves, 220 others.
    let has_is_a: HashSet<&str> = go.edges.iter().filter(|e| e.1 == "is_a").map(|e| e.0.as_str()).collect();
    let roots: Vec<&str> = go.terms.iter().map(|t| t.0.as_str()).filter(|t| !has_is_a.contains(t)).collect();
    let mut by_in_degree: Vec<(usize, &str)> = reference.inc.iter().map(|(&t, v)| (v.len(), t)).collect();
    by_in_degree.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let hubs: Vec<&str> = by_in_degree.iter().take(20).map(|&(_, t)| t).collect();
    let leaves: Vec<&str> = by_in_degree.iter().filter(|(d, _)| *d == 0).map(|&(_, t)| t).collect();
    let mut rng = Rng(20211215);
    let mut sample: Vec<&str> = roots.iter().chain(&hubs).copied().collect();
    sample.extend((0..60).map(|_| leaves[rng.below(leaves.len())]));
    sample.extend((0..220).map(|_| go.terms[rng.below(go.terms.len())].0.as_str()));
    let mut seen = HashSet::new();
    sample.retain(|t| seen.insert(*t));
    assert_eq!(roots.len(), 3, "GO has three namespaces: {roots:?}");
    assert!(sample.len() > 290, "sample of {}", sample.len());

    // The sample's object types came through intact.
    let names: HashMap<&str, &str> = go.terms.iter().map(|(i, n)| (i.as_str(), n.as_str())).collect();
    for chunk in sample.chunks(50) {
        let fields: String = chunk
            .iter()
            .enumerate()
            .map(|(i, t)| format!(r#"t{i}: objectType(apiName: "{}") {{ displayName extends }} "#, api(t)))
            .collect();
        let got = app.ok(&format!("{{ branch {{ {fields} }} }}"), json!({})).await;
        for (i, t) in chunk.iter().enumerate() {
            let mut ext: Vec<String> =
                reference.out[t].iter().filter(|(r, _)| *r == "is_a").map(|(_, p)| api(p)).collect();
            ext.sort();
            let mut got_ext: Vec<String> =
                serde_json::from_value(got["branch"][format!("t{i}")]["extends"].clone()).unwrap();
            got_ext.sort();
            assert_eq!(got["branch"][format!("t{i}")]["displayName"], names[t], "{t}");
            assert_eq!(got_ext, ext, "extends of {t}");
        }
    }

    // Ancestor closures (OUTGOING) under three relation filters.
    let mut largest_ancestry = 0;
    let mut traversals = 0;
    for chunk in sample.chunks(10) {
        let mut fields = String::new();
        for (i, t) in chunk.iter().enumerate() {
            for (k, (gql, _)) in FILTERS.iter().enumerate() {
                fields += &format!(
                    r#"t{i}_{k}: traverse(from: ["{}"], direction: OUTGOING, relations: {gql}, maxDepth: 64, limit: 100000) {TRAVERSAL_FIELDS} "#,
                    api(t)
                );
            }
        }
        let got = app.ok(&format!("{{ branch {{ {fields} }} }}"), json!({})).await;
        for (i, t) in chunk.iter().enumerate() {
            for (k, (gql, rels)) in FILTERS.iter().enumerate() {
                let dist = reference.bfs(t, Dir::Out, *rels);
                largest_ancestry = largest_ancestry.max(dist.len());
                let want = expected_traversal(&reference, &dist, *rels, None);
                same(&format!("traverse from {t} relations {gql}"), &got["branch"][format!("t{i}_{k}")], &want);
                traversals += 1;
            }
        }
    }

    // Descendant closures (impact, INCOMING) of the roots and hubs; edges
    // too where the closure is below 5,000 nodes.
    let mut closure_sizes = vec![];
    for t in roots.iter().chain(&hubs) {
        for (gql, rels) in FILTERS {
            let dist = reference.bfs(t, Dir::In, rels);
            let small = dist.len() < 5_000;
            let edges = if small { "edges { source target relation }" } else { "" };
            let q = format!(
                r#"{{ branch {{ impact(of: "{}", relations: {gql}, limit: 100000) {{ nodes {{ apiName depth }} {edges} truncated }} }} }}"#,
                api(t)
            );
            let got = app.ok(&q, json!({})).await["branch"]["impact"].clone();
            let mut want = expected_traversal(&reference, &dist, rels, Some(t));
            if !small {
                want.as_object_mut().unwrap().remove("edges");
            }
            same(&format!("impact of {t} relations {gql}"), &got, &want);
            closure_sizes.push(dist.len() - 1);
        }
    }
    closure_sizes.sort();
    let largest = *closure_sizes.last().unwrap();
    assert!(largest > 20_000, "the largest impact checked has {largest} nodes");
    assert!(closure_sizes.iter().filter(|&&n| n >= 1_000).count() >= 20, "sizes {closure_sizes:?}");

    // Point-to-point questions: an ancestor (true) or a random term (mostly
    // false) per sampled term, OUTGOING over all relations and over is_a;
    // and some random pairs in BOTH directions.
    // BOTH pairs lead to a few anchors, so the reference's whole-component
    // searches (one per anchor) stay few.
    let anchors: Vec<&str> = (0..6).map(|_| sample[rng.below(sample.len())]).collect();
    let mut around_anchor = HashMap::new();
    let mut outcomes = HashMap::new();
    let mut pairs = 0;
    for chunk in sample.chunks(20) {
        let mut asked = vec![];
        for &from in chunk {
            let (dir, rels) = match rng.below(3) {
                0 => (Dir::Out, Some(&["is_a"][..])),
                1 => (Dir::Out, None),
                _ => (Dir::Both, None),
            };
            let to = if dir == Dir::Both {
                anchors[rng.below(anchors.len())]
            } else if rng.below(2) == 0 {
                let mut ancestors: Vec<&str> = reference.bfs(from, Dir::Out, rels).into_keys().collect();
                ancestors.sort();
                ancestors[rng.below(ancestors.len())]
            } else {
                go.terms[rng.below(go.terms.len())].0.as_str()
            };
            asked.push((from, to, dir, rels));
        }
        let fields: String = asked
            .iter()
            .enumerate()
            .map(|(i, (from, to, dir, rels))| {
                let d = dir.gql();
                let r = if rels.is_some() { r#"["extends"]"# } else { "null" };
                let args = format!(r#"from: "{}", to: "{}", direction: {d}, relations: {r}"#, api(from), api(to));
                format!("p{i}: shortestPath({args}) {{ nodes length edges {{ relation }} }} r{i}: reachable({args}) ")
            })
            .collect();
        let got = app.ok(&format!("{{ branch {{ {fields} }} }}"), json!({})).await;
        for (i, &(from, to, dir, rels)) in asked.iter().enumerate() {
            let want = if dir == Dir::Both {
                let dist = around_anchor.entry(to).or_insert_with(|| reference.bfs(to, Dir::Both, None));
                reference_path(&reference, dist, from, to, dir, rels)
            } else {
                // Only nodes reachable from `from` can be on its path.
                let reach = reference.bfs(from, dir, rels);
                let dist = reference.bfs_within(to, Dir::In, rels, Some(&reach));
                reference_path(&reference, &dist, from, to, dir, rels)
            };
            let what = format!("shortestPath from {from} to {to} ({}, {rels:?})", dir.gql());
            assert_eq!(got["branch"][format!("p{i}")], want, "{what}");
            assert_eq!(got["branch"][format!("r{i}")], json!(!want.is_null()), "reachable: {what}");
            *outcomes.entry((dir.gql(), !want.is_null())).or_insert(0) += 1;
            pairs += 1;
        }
    }
    for case in [("OUTGOING", true), ("OUTGOING", false), ("BOTH", true)] {
        assert!(outcomes.get(&case).is_some_and(|&n| n >= 10), "too few cases of {case:?}: {outcomes:?}");
    }

    // GO is a DAG under is_a (and, in this release, under every relation).
    let cycles = app
        .ok(
            r#"{ branch { isA: cycles(relations: ["extends"]) { nodes } all: cycles(limit: 5) { nodes } } }"#,
            json!({}),
        )
        .await;
    assert!(!reference.has_cycle(Some(&["is_a"])));
    assert_eq!(cycles["branch"]["isA"], json!([]));
    assert_eq!(cycles["branch"]["all"].as_array().unwrap().is_empty(), !reference.has_cycle(None));

    eprintln!(
        "GO in {:?}: {} terms, {} edges; {traversals} traversals (largest ancestry {largest_ancestry}), {} impacts \
         (largest {largest}), {pairs} path pairs {outcomes:?}",
        t0.elapsed(),
        go.terms.len(),
        go.edges.len(),
        closure_sizes.len()
    );
}

/// The tie-broken shortest path, given `dist`, every node's distance to
/// `to` (BFS against the direction): from `from`, always the smallest
/// (apiName, relation) step that gets one closer. `null` when `to` is out
/// of reach.
fn reference_path(
    reference: &Reference,
    dist: &HashMap<&str, u32>,
    from: &str,
    to: &str,
    dir: Dir,
    rels: Option<&[&str]>,
) -> Value {
    let Some(&len) = dist.get(from) else {
        return Value::Null;
    };
    let (mut nodes, mut relations) = (vec![api(from)], vec![]);
    let mut at = from;
    while at != to {
        let mut next: Vec<(String, &str, &str)> = reference
            .steps(at, dir, rels)
            .filter(|(_, v)| dist.get(v) == Some(&(dist[at] - 1)))
            .map(|(r, v)| (api(v), label(r), v))
            .collect();
        next.sort();
        let (name, rel, v) = next.swap_remove(0);
        nodes.push(name);
        relations.push(json!({ "relation": rel }));
        at = v;
    }
    json!({ "nodes": nodes, "length": len, "edges": relations })
}
