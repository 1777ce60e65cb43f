//! OBO (1.4, and 1.2 as GO writes it) in and out, parsed with `fastobo`.
//!
//! Reading streams the file frame by frame (one `[Term]` or `[Typedef]`
//! stanza in memory at a time) and keeps the line of every reference, so
//! every error names a line: syntax errors also a column. The mapping
//! (docs/formats.md has the table):
//!
//! - `[Term]` → object type: apiName `ids::node_name(id)`, `curie` the id,
//!   displayName `name`, description the text of `def`, `DEPRECATED` for
//!   `is_obsolete: true`, `extends` the `is_a` parents; `relationship: R T`
//!   → link type `ids::relation_name(R)` to `T`; `intersection_of: G` →
//!   link type `intersection_of` to `G`, `intersection_of: R T` → link
//!   type `intersection_of__` + `relation_name(R)` to `T`.
//! - `[Typedef]` → interface named `ids::relation_name(id)` (the relation
//!   vocabulary: name, def, `is_a` as `extends`, `is_transitive` and the
//!   rest as annotations); no object type implements it.
//! - The header → the interface `ontology_header__`, one annotation per
//!   header tag.
//! - Every other clause → an annotation named by its tag, the value as
//!   OBO writes it after `tag: ` (qualifiers `{…}` included, `! comments`
//!   dropped); the `def` annotation holds what follows the definition's
//!   text (`[xrefs]`, qualifiers). Qualifiers on `name`, `is_a`,
//!   `relationship`, `intersection_of` and `is_obsolete` are not kept
//!   (counted in `Summary::dropped_qualifiers`).
//!
//! Writing does the reverse, a frame at a time, and parses every frame it
//! writes back with fastobo first, so it never writes a file it could not
//! read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, Write};
use std::str::FromStr;
use std::sync::Arc;

use fastobo::ast::{EntityFrame, HeaderClause, QualifierList, TermClause, TypedefClause};
use fastobo::error::SyntaxError;

use super::{ids, FormatError, Summary};
use crate::model::{
    validate, Annotations, Cardinality, Entity, Interface, LinkType, NodeRef, ObjectType, Ontology, Status,
};

/// The interface that holds the ontology header.
pub const HEADER: &str = "ontology_header__";
/// Link type apiName of an `intersection_of` genus.
pub const GENUS: &str = "intersection_of";
/// Prefix of the link type apiName of an `intersection_of` differentia.
pub const DIFFERENTIA: &str = "intersection_of__";

/// Lines of a stream with their 1-based numbers.
struct Lines<R> {
    reader: R,
    number: usize,
    buf: Vec<u8>,
    file: String,
}

impl<R: BufRead> Lines<R> {
    fn next(&mut self) -> Result<Option<String>, FormatError> {
        self.buf.clear();
        let n = self.reader.read_until(b'\n', &mut self.buf).map_err(|e| FormatError::io(&self.file, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.number += 1;
        let mut line = String::from_utf8(std::mem::take(&mut self.buf))
            .map_err(|e| FormatError::at(&self.file, self.number, None, format!("not UTF-8: {e}")))?;
        if !line.ends_with('\n') {
            line.push('\n');
        }
        Ok(Some(line))
    }
}

/// A reference to check once every stanza is read.
struct Pending {
    line: usize,
    from: String,
    tag: &'static str,
    to: String,
    relation: bool,
}

struct Reader {
    file: String,
    entities: Vec<Entity>,
    /// apiName → (line, id) of every node so far.
    nodes: HashMap<String, (usize, String)>,
    terms: HashSet<String>,
    typedefs: HashSet<String>,
    pending: Vec<Pending>,
    summary: Summary,
}

/// Read an OBO document. `file` names it in error messages.
pub fn read(reader: impl BufRead, file: &str) -> Result<(Vec<Entity>, Summary), FormatError> {
    let mut lines = Lines { reader, number: 0, buf: Vec::new(), file: file.to_owned() };
    let mut r = Reader {
        file: file.to_owned(),
        entities: Vec::new(),
        nodes: HashMap::new(),
        terms: HashSet::new(),
        typedefs: HashSet::new(),
        pending: Vec::new(),
        summary: Summary::default(),
    };
    let mut header = Annotations::new();
    let mut ontology = None;
    let mut frame: Vec<(usize, String)> = Vec::new();
    while let Some(line) = lines.next()? {
        let t = line.trim_start();
        if t.starts_with('[') {
            frame.push((lines.number, line));
            break;
        }
        if t.trim_end().is_empty() || t.starts_with('!') {
            continue;
        }
        let clause = HeaderClause::from_str(line.trim_end_matches(['\n', '\r']))
            .map_err(|e| syntax(file, e, |_| lines.number, "header clause"))?;
        if let HeaderClause::Ontology(o) = &clause {
            ontology = Some(o.as_str().to_owned());
        }
        let (tag, _) = split_tag(&clause.to_string());
        header.entry(tag).or_default().push(raw_value(&line, None));
    }
    if !header.is_empty() {
        let curie = ontology.filter(|o| validate::curie("curie", Some(o)).is_ok());
        let header = Interface {
            api_name: HEADER.into(),
            display_name: "ontology header".into(),
            description: None,
            extends: vec![],
            properties: vec![],
            curie,
            annotations: header,
            version: 0,
        };
        r.check(&Entity::Interface(Arc::new(header.clone())), 1, "the header")?;
        r.nodes.insert(HEADER.into(), (1, "the header".into()));
        r.entities.push(Entity::Interface(Arc::new(header)));
    }
    while let Some(line) = lines.next()? {
        if line.trim_start().starts_with('[') {
            r.frame(std::mem::take(&mut frame))?;
        }
        frame.push((lines.number, line));
    }
    if !frame.is_empty() {
        r.frame(frame)?;
    }
    r.finish()
}

/// `tag: value` → (tag, value).
fn split_tag(clause: &str) -> (String, String) {
    let clause = clause.trim_end_matches('\n');
    match clause.split_once(": ") {
        Some((t, v)) => (t.to_owned(), v.to_owned()),
        None => (clause.trim_end_matches(':').to_owned(), String::new()),
    }
}

/// A fastobo syntax error as file:line:column; `line_of` maps the line
/// within the parsed text to the file's.
fn syntax(file: &str, e: SyntaxError, line_of: impl Fn(usize) -> usize, what: &str) -> FormatError {
    use fastobo::syntax::pest::error::LineColLocation;
    match e {
        SyntaxError::ParserError { error } => {
            let (l, c) = match error.line_col {
                LineColLocation::Pos(p) | LineColLocation::Span(p, _) => p,
            };
            FormatError::at(file, line_of(l), Some(c), format!("invalid {what}: {}", error.variant.message()))
        }
        other => FormatError::at(file, line_of(1), None, format!("invalid {what}: {other}")),
    }
}

/// The value of a clause as the file writes it: the line after `tag:`,
/// trimmed, without its trailing `! comment`.
fn raw_value(line: &str, comment: Option<&fastobo::ast::Comment>) -> String {
    let value = line.trim().split_once(':').map_or("", |(_, v)| v).trim();
    match comment {
        Some(c) => match value.strip_suffix(c.to_string().as_str()) {
            Some(v) => v.trim_end().to_owned(),
            None => value.rsplit_once(" !").map_or(value, |(v, _)| v).trim_end().to_owned(),
        },
        None => value.to_owned(),
    }
}

/// What follows the quoted string a value starts with (a definition's
/// `[xrefs]` and qualifiers).
fn after_quoted(value: &str) -> Option<String> {
    let b = value.as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(value[i + 1..].trim().to_owned()),
            _ => i += 1,
        }
    }
    None
}

fn with_qualifiers(mut value: String, qualifiers: Option<&QualifierList>) -> String {
    if let Some(q) = qualifiers {
        value.truncate(value.trim_end().len());
        value.push(' ');
        value.push_str(&q.to_string());
    }
    value
}

/// `xref: EC 2.7.1.190` (GO 2021-12-15, line 195244) has an unescaped
/// space in its id, which OBO 1.4 does not allow: escape it (`EC\ 2.7.1.190`)
/// when that makes the line parse. Whether the line was repaired.
fn repair_xref(line: &mut String) -> bool {
    use fastobo::syntax::{Lexer, Rule};
    let t = line.trim_start();
    let Some(value) = t.strip_prefix("xref:") else { return false };
    let value = value.trim();
    if value.contains(['"', '{', '!', '\\']) {
        return false;
    }
    let fixed = format!("xref: {}\n", value.replace(' ', "\\ "));
    let ok = Lexer::tokenize(Rule::TermClauseLine, &fixed)
        .is_ok_and(|mut p| p.next().is_some_and(|p| p.as_span().end() == fixed.len()));
    if ok {
        *line = fixed;
    }
    ok
}

/// The first clause line of a frame that does not parse on its own, as
/// (index in `frame`, column, message): a precise place for an error the
/// whole-frame parse reports at the frame's end.
fn bad_line(frame: &[(usize, String)], typedef: bool) -> Option<(usize, usize, String)> {
    use fastobo::syntax::{Lexer, Rule};
    let rule = if typedef { Rule::TypedefClauseLine } else { Rule::TermClauseLine };
    let mut seen_id = false;
    for (k, (_, line)) in frame.iter().enumerate().skip(1) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('!') {
            continue;
        }
        if !seen_id {
            seen_id = true;
            continue;
        }
        match Lexer::tokenize(rule, line) {
            Err(e) => {
                let c = match e.line_col {
                    fastobo::syntax::pest::error::LineColLocation::Pos((_, c))
                    | fastobo::syntax::pest::error::LineColLocation::Span((_, c), _) => c,
                };
                return Some((k, c, e.variant.message().into_owned()));
            }
            Ok(mut pairs) => {
                let end = pairs.next().map_or(0, |p| p.as_span().end());
                if end < line.len() {
                    return Some((k, end + 1, "unexpected text".into()));
                }
            }
        }
    }
    None
}

impl Reader {
    fn frame(&mut self, mut frame: Vec<(usize, String)>) -> Result<(), FormatError> {
        let start = frame[0].0;
        let typedef = frame[0].1.trim_start().starts_with("[Typedef]");
        let parsed = loop {
            let text: String = frame.iter().map(|(_, l)| l.as_str()).collect();
            match EntityFrame::from_str(&text) {
                Ok(parsed) => break parsed,
                Err(e) => match bad_line(&frame, typedef) {
                    Some((k, _, _)) if repair_xref(&mut frame[k].1) => {
                        self.summary.repaired.push(frame[k].0);
                    }
                    Some((k, c, m)) => {
                        return Err(FormatError::at(&self.file, frame[k].0, Some(c), format!("invalid clause: {m}")))
                    }
                    None => {
                        let line_of = |l: usize| frame.get(l.saturating_sub(1)).map_or(start, |(n, _)| *n);
                        return Err(syntax(&self.file, e, line_of, "stanza"));
                    }
                },
            }
        };
        // Line of the k-th clause after `id:` (blank and `!` lines skipped).
        let clause_lines: Vec<(usize, &str)> = frame
            .iter()
            .skip(1)
            .filter(|(_, l)| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('!')
            })
            .map(|(n, l)| (*n, l.as_str()))
            .collect();
        let at = |k: usize| clause_lines.get(k + 1).map_or(start, |&(n, _)| n);
        let raw = |k: usize| clause_lines.get(k + 1).map_or("", |&(_, l)| l);
        match parsed {
            EntityFrame::Term(t) => self.term(&t, start, at, raw),
            EntityFrame::Typedef(t) => self.typedef(&t, start, at, raw),
            EntityFrame::Instance(_) => {
                Err(FormatError::at(&self.file, start, None, "[Instance] stanzas are not supported".into()))
            }
        }
    }

    fn err(&self, line: usize, message: String) -> FormatError {
        FormatError::at(&self.file, line, None, message)
    }

    /// Register a node's apiName; two ids on one apiName are an error.
    fn claim(&mut self, name: &str, id: &str, line: usize) -> Result<(), FormatError> {
        if let Some((first, other)) = self.nodes.get(name) {
            let message = if other == id {
                format!("duplicate id {id} (first defined on line {first})")
            } else {
                format!("id {id} maps to apiName {name}, as {other} on line {first} does")
            };
            return Err(self.err(line, message));
        }
        self.nodes.insert(name.to_owned(), (line, id.to_owned()));
        Ok(())
    }

    fn check(&self, e: &Entity, line: usize, what: &str) -> Result<(), FormatError> {
        let checked = match e {
            Entity::ObjectType(o) => validate::object_type(o),
            Entity::Interface(i) => validate::interface(i),
            Entity::LinkType(l) => validate::link_type(l),
        };
        checked.map_err(|err| self.err(line, format!("{what}: {err}")))
    }

    fn term<'r>(
        &mut self,
        t: &fastobo::ast::TermFrame,
        start: usize,
        at: impl Fn(usize) -> usize,
        raw: impl Fn(usize) -> &'r str,
    ) -> Result<(), FormatError> {
        let id = t.id().as_inner().to_string();
        let name = ids::node_name(&id).map_err(|m| self.err(start + 1, m))?;
        self.claim(&name, &id, start)?;
        self.terms.insert(id.clone());
        self.summary.terms += 1;
        let mut o = ObjectType {
            api_name: name.clone(),
            display_name: String::new(),
            description: None,
            status: Status::Active,
            properties: vec![],
            extends: vec![],
            implements: vec![],
            curie: Some(id.clone()),
            annotations: Annotations::new(),
            version: 0,
        };
        let mut links: Vec<(String, String, usize)> = Vec::new();
        for (k, line) in t.clauses().iter().enumerate() {
            let q = line.qualifiers();
            let field = |dropped: &mut usize| *dropped += usize::from(q.is_some());
            match line.as_inner() {
                TermClause::Name(n) => {
                    field(&mut self.summary.dropped_qualifiers);
                    o.display_name = n.as_str().to_owned();
                }
                TermClause::Def(d) => {
                    o.description = Some(d.text().as_str().to_owned());
                    let rest = after_quoted(&raw_value(raw(k), line.comment()))
                        .unwrap_or_else(|| with_qualifiers(d.xrefs().to_string(), q));
                    if rest != "[]" {
                        o.annotations.entry("def".into()).or_default().push(rest);
                    }
                }
                TermClause::IsObsolete(b) => {
                    field(&mut self.summary.dropped_qualifiers);
                    if *b {
                        o.status = Status::Deprecated;
                        self.summary.obsolete += 1;
                    }
                }
                TermClause::IsA(parent) => {
                    field(&mut self.summary.dropped_qualifiers);
                    let p = parent.to_string();
                    let pn = ids::node_name(&p).map_err(|m| self.err(at(k), m))?;
                    if !o.extends.contains(&pn) {
                        o.extends.push(pn);
                        self.summary.is_a += 1;
                    }
                    self.pending.push(Pending { line: at(k), from: id.clone(), tag: "is_a", to: p, relation: false });
                }
                TermClause::Relationship(rel, target) => {
                    field(&mut self.summary.dropped_qualifiers);
                    let r = ids::relation_name(&rel.to_string()).map_err(|m| self.err(at(k), m))?;
                    self.link(&id, "relationship", r, target.to_string(), at(k), &mut links)?;
                    self.summary.relationships += 1;
                }
                TermClause::IntersectionOf(rel, target) => {
                    field(&mut self.summary.dropped_qualifiers);
                    let r = match rel {
                        None => GENUS.to_owned(),
                        Some(rel) => {
                            let r = ids::relation_name(&rel.to_string()).map_err(|m| self.err(at(k), m))?;
                            format!("{DIFFERENTIA}{r}")
                        }
                    };
                    self.link(&id, "intersection_of", r, target.to_string(), at(k), &mut links)?;
                    self.summary.intersections += 1;
                }
                other => {
                    let (tag, _) = split_tag(&other.to_string());
                    o.annotations.entry(tag).or_default().push(raw_value(raw(k), line.comment()));
                }
            }
        }
        let e = Entity::ObjectType(Arc::new(o));
        self.check(&e, start, &format!("term {id}"))?;
        self.entities.push(e);
        for (api_name, target, line) in links {
            let l = LinkType {
                api_name,
                source: name.clone(),
                target,
                cardinality: Cardinality::ManyToMany,
                display_name: String::new(),
                description: None,
                status: Status::Active,
                version: 0,
            };
            let e = Entity::LinkType(Arc::new(l));
            self.check(&e, line, &format!("term {id}"))?;
            self.entities.push(e);
        }
        Ok(())
    }

    /// A link from term `id` (once per relation and target).
    fn link(
        &mut self,
        id: &str,
        tag: &'static str,
        api_name: String,
        target: String,
        line: usize,
        links: &mut Vec<(String, String, usize)>,
    ) -> Result<(), FormatError> {
        let t = ids::node_name(&target).map_err(|m| self.err(line, m))?;
        self.pending.push(Pending { line, from: id.to_owned(), tag, to: target, relation: false });
        if !links.iter().any(|(a, b, _)| *a == api_name && *b == t) {
            links.push((api_name, t, line));
        }
        Ok(())
    }

    fn typedef<'r>(
        &mut self,
        t: &fastobo::ast::TypedefFrame,
        start: usize,
        at: impl Fn(usize) -> usize,
        raw: impl Fn(usize) -> &'r str,
    ) -> Result<(), FormatError> {
        let id = t.id().as_inner().to_string();
        let name = ids::relation_name(&id).map_err(|m| self.err(start + 1, m))?;
        self.claim(&name, &id, start)?;
        self.typedefs.insert(id.clone());
        self.summary.typedefs += 1;
        let mut i = Interface {
            api_name: name,
            display_name: String::new(),
            description: None,
            extends: vec![],
            properties: vec![],
            curie: Some(id.clone()),
            annotations: Annotations::new(),
            version: 0,
        };
        for (k, line) in t.clauses().iter().enumerate() {
            let q = line.qualifiers();
            match line.as_inner() {
                TypedefClause::Name(n) => {
                    self.summary.dropped_qualifiers += usize::from(q.is_some());
                    i.display_name = n.as_str().to_owned();
                }
                TypedefClause::Def(d) => {
                    i.description = Some(d.text().as_str().to_owned());
                    let rest = after_quoted(&raw_value(raw(k), line.comment()))
                        .unwrap_or_else(|| with_qualifiers(d.xrefs().to_string(), q));
                    if rest != "[]" {
                        i.annotations.entry("def".into()).or_default().push(rest);
                    }
                }
                TypedefClause::IsA(parent) => {
                    self.summary.dropped_qualifiers += usize::from(q.is_some());
                    let p = parent.to_string();
                    let pn = ids::relation_name(&p).map_err(|m| self.err(at(k), m))?;
                    if !i.extends.contains(&pn) {
                        i.extends.push(pn);
                        self.summary.typedef_is_a += 1;
                    }
                    self.pending.push(Pending { line: at(k), from: id.clone(), tag: "is_a", to: p, relation: true });
                }
                other => {
                    let (tag, _) = split_tag(&other.to_string());
                    i.annotations.entry(tag).or_default().push(raw_value(raw(k), line.comment()));
                }
            }
        }
        let e = Entity::Interface(Arc::new(i));
        self.check(&e, start, &format!("typedef {id}"))?;
        self.entities.push(e);
        Ok(())
    }

    fn finish(self) -> Result<(Vec<Entity>, Summary), FormatError> {
        for p in &self.pending {
            let (known, kind) = if p.relation { (&self.typedefs, "[Typedef]") } else { (&self.terms, "[Term]") };
            if !known.contains(&p.to) {
                return Err(
                    self.err(p.line, format!("{} {} {}: no {kind} with id {} in this file", p.from, p.tag, p.to, p.to))
                );
            }
        }
        Ok((self.entities, self.summary))
    }
}

/// Tags in the order OBO 1.4 writes them (fastobo's clause order).
const HEADER_ORDER: &[&str] = &[
    "format-version",
    "data-version",
    "date",
    "saved-by",
    "auto-generated-by",
    "import",
    "subsetdef",
    "synonymtypedef",
    "default-namespace",
    "namespace-id-rule",
    "idspace",
    "treat-xrefs-as-equivalent",
    "treat-xrefs-as-genus-differentia",
    "treat-xrefs-as-reverse-genus-differentia",
    "treat-xrefs-as-relationship",
    "treat-xrefs-as-is_a",
    "treat-xrefs-as-has-subclass",
    "property_value",
    "remark",
    "ontology",
    "owl-axioms",
];

/// Term clause tags in OBO 1.4 order.
pub const TERM_ORDER: &[&str] = &[
    "is_anonymous",
    "name",
    "namespace",
    "alt_id",
    "def",
    "comment",
    "subset",
    "synonym",
    "xref",
    "builtin",
    "property_value",
    "is_a",
    "intersection_of",
    "union_of",
    "equivalent_to",
    "disjoint_from",
    "relationship",
    "created_by",
    "creation_date",
    "is_obsolete",
    "replaced_by",
    "consider",
];

/// Typedef clause tags in OBO 1.4 order.
pub const TYPEDEF_ORDER: &[&str] = &[
    "is_anonymous",
    "name",
    "namespace",
    "alt_id",
    "def",
    "comment",
    "subset",
    "synonym",
    "xref",
    "property_value",
    "domain",
    "range",
    "builtin",
    "holds_over_chain",
    "is_anti_symmetric",
    "is_cyclic",
    "is_reflexive",
    "is_symmetric",
    "is_asymmetric",
    "is_transitive",
    "is_functional",
    "is_inverse_functional",
    "is_a",
    "intersection_of",
    "union_of",
    "equivalent_to",
    "disjoint_from",
    "inverse_of",
    "transitive_over",
    "equivalent_to_chain",
    "disjoint_over",
    "relationship",
    "is_obsolete",
    "replaced_by",
    "consider",
    "created_by",
    "creation_date",
    "expand_assertion_to",
    "expand_expression_to",
    "is_metadata_tag",
    "is_class_level",
];

/// An OBO quoted string.
fn quoted(s: &str) -> String {
    fastobo::ast::QuotedString::new(s.to_owned()).to_string()
}

/// An OBO unquoted string: `\\`, newlines, `!` and `{` escaped, nothing else
/// (fastobo also escapes `"`, which OBO files do not).
pub(crate) fn unquoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '!' => out.push_str("\\!"),
            '{' => out.push_str("\\{"),
            c => out.push(c),
        }
    }
    out
}

/// The id a node is written with: its curie, else the id its apiName is
/// the image of.
fn node_id(api_name: &str, curie: Option<&str>, relation: bool) -> Result<String, String> {
    if let Some(c) = curie {
        return Ok(c.to_owned());
    }
    let id = if relation { ids::relation_id(api_name) } else { ids::node_id(api_name) };
    id.ok_or_else(|| {
        format!("{api_name} has no curie and is not the apiName of any OBO id (docs/formats.md, \"Identifiers\")")
    })
}

/// Lines of one frame, each `tag: value` in `order`; annotations whose
/// names are not tags of the frame become `property_value`s.
struct FrameText {
    by_tag: BTreeMap<&'static str, Vec<String>>,
    extra: Vec<String>,
}

impl FrameText {
    fn new() -> Self {
        FrameText { by_tag: BTreeMap::new(), extra: Vec::new() }
    }

    fn push(&mut self, order: &[&'static str], tag: &str, value: String) {
        match order.iter().find(|t| **t == tag) {
            Some(t) => self.by_tag.entry(t).or_default().push(value),
            None => self.extra.push(format!("property_value: {tag} {} xsd:string", quoted(&value))),
        }
    }

    fn annotations(&mut self, order: &[&'static str], a: &Annotations, skip: &[&str]) {
        for (tag, values) in a {
            if skip.contains(&tag.as_str()) {
                continue;
            }
            for v in values {
                self.push(order, tag, v.clone());
            }
        }
    }

    fn render(self, kind: &str, id: &str, order: &[&'static str]) -> String {
        let mut out = format!("[{kind}]\nid: {id}\n");
        for tag in order {
            for v in self.by_tag.get(tag).into_iter().flatten() {
                if v.is_empty() {
                    out.push_str(&format!("{tag}:\n"));
                } else {
                    out.push_str(&format!("{tag}: {v}\n"));
                }
            }
        }
        for line in self.extra {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// Write `o` as an OBO document.
pub fn write(o: &Ontology, out: &mut impl Write) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let check = |text: &str, what: &str| -> anyhow::Result<()> {
        EntityFrame::from_str(text).map(|_| ()).map_err(|e| anyhow::anyhow!("{what} would not be valid OBO: {e}"))
    };
    // Header.
    let mut header = String::new();
    match o.interface(HEADER) {
        Some(h) => {
            for tag in HEADER_ORDER {
                for v in h.annotations.get(*tag).into_iter().flatten() {
                    header.push_str(&format!("{tag}: {v}\n"));
                }
            }
            for (tag, values) in &h.annotations {
                if !HEADER_ORDER.contains(&tag.as_str()) {
                    for v in values {
                        header.push_str(&format!("{tag}: {v}\n"));
                    }
                }
            }
        }
        None => header.push_str("format-version: 1.4\n"),
    }
    for line in header.lines() {
        HeaderClause::from_str(line).map_err(|e| anyhow::anyhow!("header line {line:?} is not valid OBO: {e}"))?;
    }
    out.write_all(header.as_bytes())?;
    let name_of = |api_name: &str| -> String {
        match o.node(api_name) {
            Some(NodeRef::ObjectType(t)) => t.display_name.clone(),
            Some(NodeRef::Interface(i)) => i.display_name.clone(),
            None => api_name.to_owned(),
        }
    };
    let term_id = |api_name: &str| -> anyhow::Result<String> {
        let curie = o.object_type(api_name).and_then(|t| t.curie.as_deref());
        node_id(api_name, curie, false).map_err(anyhow::Error::msg)
    };
    let relation_id = |api_name: &str| -> anyhow::Result<String> {
        let curie = o.interface(api_name).and_then(|i| i.curie.as_deref());
        node_id(api_name, curie, true).map_err(anyhow::Error::msg)
    };
    let comment = |s: &str| s.replace('\n', " ");
    for t in o.object_types_after(None) {
        let id = term_id(&t.api_name)?;
        let mut f = FrameText::new();
        f.annotations(TERM_ORDER, &t.annotations, &["def"]);
        if t.display_name != t.api_name || t.api_name == id {
            f.push(TERM_ORDER, "name", unquoted(&t.display_name));
        }
        if let Some(d) = &t.description {
            let rest = t.annotations.get("def").and_then(|v| v.first()).cloned().unwrap_or_else(|| "[]".into());
            f.push(TERM_ORDER, "def", format!("{} {rest}", quoted(d)));
        }
        for p in &t.extends {
            f.push(TERM_ORDER, "is_a", format!("{} ! {}", term_id(p)?, comment(&name_of(p))));
            summary.is_a += 1;
        }
        let mut genus = Vec::new();
        let mut differentiae = Vec::new();
        for l in o.referrers(&t.api_name).filter_map(|id| o.link_type(id)).filter(|l| l.source == t.api_name) {
            let target = format!("{} ! {}", term_id(&l.target)?, comment(&name_of(&l.target)));
            if l.api_name == GENUS {
                genus.push(target);
                summary.intersections += 1;
            } else if let Some(r) = l.api_name.strip_prefix(DIFFERENTIA) {
                differentiae.push(format!("{} {target}", relation_id(r)?));
                summary.intersections += 1;
            } else {
                f.push(TERM_ORDER, "relationship", format!("{} {target}", relation_id(&l.api_name)?));
                summary.relationships += 1;
            }
        }
        for v in genus.into_iter().chain(differentiae) {
            f.push(TERM_ORDER, "intersection_of", v);
        }
        if t.status == Status::Deprecated {
            f.push(TERM_ORDER, "is_obsolete", "true".into());
            summary.obsolete += 1;
        }
        summary.dropped_properties += t.properties.len() + t.implements.len();
        let text = f.render("Term", &id, TERM_ORDER);
        check(&text, &format!("term {}", t.api_name))?;
        out.write_all(b"\n")?;
        out.write_all(text.as_bytes())?;
        summary.terms += 1;
    }
    for i in o.interfaces_after(None).filter(|i| i.api_name != HEADER) {
        let id = relation_id(&i.api_name)?;
        let mut f = FrameText::new();
        f.annotations(TYPEDEF_ORDER, &i.annotations, &["def"]);
        if i.display_name != i.api_name || i.api_name == id {
            f.push(TYPEDEF_ORDER, "name", unquoted(&i.display_name));
        }
        if let Some(d) = &i.description {
            let rest = i.annotations.get("def").and_then(|v| v.first()).cloned().unwrap_or_else(|| "[]".into());
            f.push(TYPEDEF_ORDER, "def", format!("{} {rest}", quoted(d)));
        }
        for p in &i.extends {
            f.push(TYPEDEF_ORDER, "is_a", format!("{} ! {}", relation_id(p)?, comment(&name_of(p))));
            summary.typedef_is_a += 1;
        }
        summary.dropped_properties += i.properties.len();
        let text = f.render("Typedef", &id, TYPEDEF_ORDER);
        check(&text, &format!("typedef {}", i.api_name))?;
        out.write_all(b"\n")?;
        out.write_all(text.as_bytes())?;
        summary.typedefs += 1;
    }
    out.write_all(b"\n")?;
    Ok(summary)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn read_str(text: &str) -> Result<(Vec<Entity>, Summary), FormatError> {
        read(text.as_bytes(), "t.obo")
    }

    pub(crate) const SMALL: &str = "format-version: 1.2\nontology: t\nsubsetdef: s1 \"a subset\"\n\n\
        [Term]\nid: T:0000001\nname: root\ndef: \"The root.\" [PMID:1, T:x \"y\"]\n\n\
        [Term]\nid: T:0000002\nname: child\nsubset: s1\nsynonym: \"kid\" EXACT []\nsynonym: \"bairn\" NARROW syst [PMID:2]\nxref: Wikipedia:Child\nproperty_value: IAO:0000589 \"child (T)\" xsd:string\nis_a: T:0000001 ! root\n\
        relationship: part_of T:0000001 ! root\ncomment: see {source=\"x\"}\n\n\
        [Term]\nid: T:0000003\nname: def'd\nintersection_of: T:0000002 ! child\nintersection_of: part_of T:0000001\n\n\
        [Term]\nid: T:0000004\nname: gone\nis_obsolete: true\nreplaced_by: T:0000002\n\n\
        [Typedef]\nid: part_of\nname: part of\nxref: BFO:0000050\nis_transitive: true\n";

    #[test]
    fn small_document_maps_as_documented() {
        let (entities, summary) = read_str(SMALL).unwrap();
        let doc: Vec<serde_json::Value> = entities.iter().map(|e| e.to_json()).collect();
        assert_eq!(
            serde_json::Value::Array(doc),
            serde_json::json!([
                { "apiName": "ontology_header__", "displayName": "ontology header", "extends": [], "properties": [],
                  "curie": "t",
                  "annotations": { "format-version": ["1.2"], "ontology": ["t"], "subsetdef": ["s1 \"a subset\""] } },
                { "apiName": "T_0000001", "displayName": "root", "description": "The root.", "status": "ACTIVE",
                  "properties": [], "extends": [], "implements": [], "curie": "T:0000001",
                  "annotations": { "def": ["[PMID:1, T:x \"y\"]"] } },
                { "apiName": "T_0000002", "displayName": "child", "status": "ACTIVE", "properties": [],
                  "extends": ["T_0000001"], "implements": [], "curie": "T:0000002",
                  "annotations": { "comment": ["see {source=\"x\"}"], "property_value": ["IAO:0000589 \"child (T)\" xsd:string"],
                    "subset": ["s1"], "synonym": ["\"kid\" EXACT []", "\"bairn\" NARROW syst [PMID:2]"],
                    "xref": ["Wikipedia:Child"] } },
                { "apiName": "part_of", "source": "T_0000002", "target": "T_0000001", "cardinality": "MANY_TO_MANY",
                  "displayName": "", "status": "ACTIVE" },
                { "apiName": "T_0000003", "displayName": "def'd", "status": "ACTIVE", "properties": [],
                  "extends": [], "implements": [], "curie": "T:0000003" },
                { "apiName": "intersection_of", "source": "T_0000003", "target": "T_0000002",
                  "cardinality": "MANY_TO_MANY", "displayName": "", "status": "ACTIVE" },
                { "apiName": "intersection_of__part_of", "source": "T_0000003", "target": "T_0000001",
                  "cardinality": "MANY_TO_MANY", "displayName": "", "status": "ACTIVE" },
                { "apiName": "T_0000004", "displayName": "gone", "status": "DEPRECATED", "properties": [],
                  "extends": [], "implements": [], "curie": "T:0000004",
                  "annotations": { "replaced_by": ["T:0000002"] } },
                { "apiName": "part_of", "displayName": "part of", "extends": [], "properties": [], "curie": "part_of",
                  "annotations": { "is_transitive": ["true"], "xref": ["BFO:0000050"] } },
            ])
        );
        assert_eq!(
            (summary.terms, summary.obsolete, summary.typedefs, summary.is_a, summary.relationships),
            (4, 1, 1, 1, 1)
        );
        assert_eq!(summary.intersections, 2);
    }

    #[test]
    fn write_then_read_gives_the_same_entities() {
        let (entities, _) = read_str(SMALL).unwrap();
        let o = Ontology::from_entities(entities.clone());
        let mut out = Vec::new();
        write(&o, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("is_a: T:0000001 ! root\n"), "{text}");
        assert!(text.contains("intersection_of: T:0000002 ! child\nintersection_of: part_of T:0000001 ! root\n"));
        let (again, _) = read_str(&text).unwrap();
        let o2 = Ontology::from_entities(again);
        let docs = |o: &Ontology| o.entities().map(|e| e.to_json()).collect::<Vec<_>>();
        assert_eq!(docs(&o2), docs(&o));
    }

    #[test]
    fn errors_name_the_line() {
        let err = |text: &str| read_str(text).unwrap_err().to_string();
        assert_eq!(
            err("format-version: 1.2\n\n[Term]\nid: A:1\nname: a\ndef: \"cut off here"),
            "t.obo:6:6: invalid clause: expected QuotedString"
        );
        assert_eq!(
            err("[Term]\nid: A:1\n\n[Term]\nid: A:2\nis_a: A:3 ! nowhere\n"),
            "t.obo:6: A:2 is_a A:3: no [Term] with id A:3 in this file"
        );
        assert_eq!(err("[Term]\nid: A:1\n\n[Term]\nid: A:1\n"), "t.obo:4: duplicate id A:1 (first defined on line 1)");
        assert_eq!(err("[Term]\nid: A:1\nis_a: A:1\n"), "t.obo:1: term A:1: extends[0]: A_1 cannot reference itself");
        assert_eq!(err("[Instance]\nid: i\ninstance_of: A:1\n"), "t.obo:1: [Instance] stanzas are not supported");
        assert_eq!(err("format-version 1.2\n"), "t.obo:1:1: invalid header clause: expected HeaderClause");
        assert_eq!(err("[Term]\nid: A:1\nxref: A \"b\" c\n"), "t.obo:3:13: invalid clause: expected EOL");
    }

    #[test]
    fn an_xref_with_an_unescaped_space_is_repaired() {
        let (entities, summary) = read_str("[Term]\nid: A:1\nxref: EC 2.7.1.190\n").unwrap();
        assert_eq!(summary.repaired, vec![3]);
        let Entity::ObjectType(o) = &entities[0] else { panic!() };
        assert_eq!(o.annotations["xref"], vec!["EC\\ 2.7.1.190".to_owned()]);
    }
}
