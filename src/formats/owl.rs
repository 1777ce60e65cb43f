//! OWL in (RDF/XML or Turtle, detected from the content; parsed with
//! oxrdfxml / oxttl) and out (Turtle).
//!
//! The model side is the one `obo.rs` builds (docs/formats.md): an OWL
//! class is a term, an object property a relation (interface), the
//! `owl:Ontology` node the header. Annotations keep their OBO form, so a
//! file read as OBO and written as OWL reads back the same:
//!
//! - `owl:Class` → object type; `rdfs:label` → displayName;
//!   `obo:IAO_0000115` → description; `owl:deprecated true` → DEPRECATED;
//!   `rdfs:subClassOf` a named class → `extends`; `rdfs:subClassOf [ a
//!   owl:Restriction; owl:onProperty P; owl:someValuesFrom C ]` → link
//!   type P to C; `owl:equivalentClass [ owl:intersectionOf (G, (P some
//!   C)…) ]` → the `intersection_of` links. Other class expressions are
//!   not kept (counted in `Summary::dropped_axioms`).
//! - The id of a class: its `oboInOwl:id`, else the CURIE of an OBO PURL
//!   (`…/obo/GO_0008150` → `GO:0008150`), else the local name of an IRI
//!   in the ontology's own namespace, else the IRI.
//! - `owl:ObjectProperty` → interface (`oboInOwl:shorthand` names it when
//!   present); `owl:TransitiveProperty` → `is_transitive: true`;
//!   `rdfs:subPropertyOf` → `extends`.
//! - Annotations: OBO's synonyms (`oboInOwl:has…Synonym`, with
//!   `owl:Axiom` annotations for their xrefs and type), `hasDbXref`,
//!   `inSubset`, `rdfs:comment`, `hasOBONamespace`, `hasAlternativeId`,
//!   definition xrefs, `IAO_0100001` (replaced_by) and any other
//!   annotation property (as `property_value`) in the standard
//!   vocabulary; every other OBO clause as `oboInOwl:<tag>` with the OBO
//!   value text.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, Read, Write};
use std::rc::Rc;
use std::str::FromStr;
use std::sync::Arc;

use fastobo::ast::{Ident, Line, PropertyValue, QuotedString, SynonymScope, TermClause, TypedefClause, Xref};
use fastobo::parser::{Cache, FromPair};
use fastobo::syntax::{Lexer, Rule};
use oxrdf::{BlankNode, Literal, NamedNode, NamedOrBlankNode, Term, Triple};

use super::obo::{DIFFERENTIA, GENUS, HEADER};
use super::{ids, FormatError, Summary};
use crate::model::{validate, Annotations, Cardinality, Entity, Interface, LinkType, ObjectType, Ontology, Status};

const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const RDFS: &str = "http://www.w3.org/2000/01/rdf-schema#";
const OWL: &str = "http://www.w3.org/2002/07/owl#";
const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
const OIO: &str = "http://www.geneontology.org/formats/oboInOwl#";
const OBO: &str = ids::OBO_PURL;
const DEFINITION: &str = "http://purl.obolibrary.org/obo/IAO_0000115";
const REPLACED_BY: &str = "http://purl.obolibrary.org/obo/IAO_0100001";

const SCOPES: [(&str, &str); 4] = [
    ("EXACT", "hasExactSynonym"),
    ("BROAD", "hasBroadSynonym"),
    ("NARROW", "hasNarrowSynonym"),
    ("RELATED", "hasRelatedSynonym"),
];

/// Prefixes written in Turtle and used to shorten IRIs in `property_value`.
const PREFIXES: [(&str, &str); 9] = [
    ("rdf", RDF),
    ("rdfs", RDFS),
    ("owl", OWL),
    ("xsd", XSD),
    ("oboInOwl", OIO),
    ("obo", OBO),
    ("dc", "http://purl.org/dc/elements/1.1/"),
    ("dcterms", "http://purl.org/dc/terms/"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
];

fn iri(s: &str) -> NamedNode {
    NamedNode::new_unchecked(s)
}

fn v(local: &str, ns: &str) -> String {
    format!("{ns}{local}")
}

/// Counts bytes and newlines passing through, keeping the last 64 KiB, so
/// an RDF/XML error at a byte offset can be given a line.
#[derive(Default)]
struct Seen {
    consumed: u64,
    newlines: u64,
    recent: VecDeque<u8>,
}

struct Counted<R> {
    inner: R,
    seen: Rc<RefCell<Seen>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut seen = self.seen.borrow_mut();
        for &b in &buf[..n] {
            if seen.recent.len() == 1 << 16 {
                seen.recent.pop_front();
            }
            seen.recent.push_back(b);
        }
        seen.newlines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        seen.consumed += n as u64;
        Ok(n)
    }
}

impl Seen {
    /// The 1-based line of byte `offset`, when it is recent enough.
    fn line_of(&self, offset: u64) -> Option<u64> {
        let ahead = self.consumed.checked_sub(offset)?;
        if ahead > self.recent.len() as u64 {
            return None;
        }
        let skip = self.recent.len() - ahead as usize;
        let after = self.recent.iter().skip(skip).filter(|&&b| b == b'\n').count() as u64;
        Some(self.newlines - after + 1)
    }
}

/// Whether the content looks like RDF/XML rather than Turtle.
fn is_xml(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let rest = &head[start..];
    if rest.starts_with(b"<?") || rest.starts_with(b"<!") {
        return true;
    }
    // `<rdf:RDF …>` (an element) rather than `<http://…>` (a Turtle IRI).
    rest.first() == Some(&b'<')
        && rest[1..]
            .iter()
            .take_while(|b| !b.is_ascii_whitespace() && **b != b'>')
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'.'))
}

/// The IRI of an OBO id, as `write` spells it: a URL as itself, a CURIE
/// with a known prefix in that namespace, another CURIE as an OBO PURL, an
/// unprefixed id in the ontology's namespace (`base#id`).
fn iri_for_id(id: &str, base: &str) -> String {
    if id.contains("://") {
        return id.to_owned();
    }
    match id.split_once(':') {
        Some((p, l)) => match PREFIXES.iter().find(|(q, _)| *q == p && *q != "obo") {
            Some((_, ns)) => format!("{ns}{l}"),
            None => format!("{OBO}{p}_{l}"),
        },
        None => format!("{base}#{id}"),
    }
}

/// The OBO id of an IRI (the inverse of `iri_for_id` where it has one).
fn id_for_iri(iri: &str, base: &str) -> String {
    if let Some(c) = ids::curie_of_purl(iri) {
        return c;
    }
    if !base.is_empty() {
        for sep in ['#', '/'] {
            if let Some(local) = iri.strip_prefix(&format!("{base}{sep}")) {
                if !local.is_empty() && !local.contains(['/', '#', ':']) {
                    return local.to_owned();
                }
            }
        }
    }
    for (p, ns) in PREFIXES {
        if let Some(local) = iri.strip_prefix(ns) {
            if p != "obo"
                && !local.is_empty()
                && local.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return format!("{p}:{local}");
            }
        }
    }
    iri.to_owned()
}

type Subject = NamedOrBlankNode;

/// `owl:Axiom` annotations: (source IRI, property IRI, target) → the
/// annotations (property IRI, value).
type Axioms = HashMap<(String, String, String), Vec<(String, Term)>>;

/// Triples grouped by subject, in file order.
#[derive(Default)]
struct Graph {
    by_subject: HashMap<Subject, Vec<(NamedNode, Term)>>,
    order: Vec<Subject>,
}

impl Graph {
    fn add(&mut self, t: Triple) {
        let entry = self.by_subject.entry(t.subject.clone()).or_insert_with(|| {
            self.order.push(t.subject.clone());
            Vec::new()
        });
        entry.push((t.predicate, t.object));
    }

    fn objects<'a>(&'a self, s: &Subject, p: &str) -> impl Iterator<Item = &'a Term> + 'a {
        let p = p.to_owned();
        self.by_subject.get(s).into_iter().flatten().filter(move |(q, _)| q.as_str() == p).map(|(_, o)| o)
    }

    fn has_type(&self, s: &Subject, ty: &str) -> bool {
        self.objects(s, &v("type", RDF)).any(|o| matches!(o, Term::NamedNode(n) if n.as_str() == ty))
    }

    /// The members of an RDF list.
    fn list(&self, head: &Term) -> Vec<Term> {
        let mut out = Vec::new();
        let mut at = head.clone();
        let mut seen = HashSet::new();
        while let Term::BlankNode(b) = &at {
            if !seen.insert(b.clone()) {
                break;
            }
            let s = Subject::BlankNode(b.clone());
            match self.objects(&s, &v("first", RDF)).next() {
                Some(first) => out.push(first.clone()),
                None => break,
            }
            match self.objects(&s, &v("rest", RDF)).next() {
                Some(rest) => at = rest.clone(),
                None => break,
            }
        }
        out
    }

    /// `[ a owl:Restriction; owl:onProperty P; owl:someValuesFrom C ]` as (P, C).
    fn some(&self, t: &Term) -> Option<(String, String)> {
        let Term::BlankNode(b) = t else { return None };
        let s = Subject::BlankNode(b.clone());
        let p = named(self.objects(&s, &v("onProperty", OWL)).next()?)?;
        let c = named(self.objects(&s, &v("someValuesFrom", OWL)).next()?)?;
        Some((p.to_owned(), c.to_owned()))
    }
}

fn named(t: &Term) -> Option<&str> {
    match t {
        Term::NamedNode(n) => Some(n.as_str()),
        _ => None,
    }
}

fn literal(t: &Term) -> Option<&str> {
    match t {
        Term::Literal(l) => Some(l.value()),
        _ => None,
    }
}

/// Read an OWL file (RDF/XML or Turtle).
pub fn read(mut reader: impl BufRead, file: &str) -> Result<(Vec<Entity>, Summary), FormatError> {
    let xml = is_xml(reader.fill_buf().map_err(|e| FormatError::io(file, e))?);
    let mut g = Graph::default();
    if xml {
        let seen = Rc::new(RefCell::new(Seen::default()));
        let mut parser = oxrdfxml::RdfXmlParser::new().for_reader(Counted { inner: reader, seen: Rc::clone(&seen) });
        while let Some(t) = parser.next() {
            match t {
                Ok(t) => g.add(t),
                Err(oxrdfxml::RdfXmlParseError::Io(e)) => return Err(FormatError::io(file, e)),
                Err(e) => {
                    let offset = parser.buffer_position();
                    let message = format!("invalid RDF/XML (byte {offset}): {e}");
                    return Err(match seen.borrow().line_of(offset) {
                        Some(line) => FormatError::at(file, line as usize, None, message),
                        None => FormatError { file: file.to_owned(), line: None, column: None, message },
                    });
                }
            }
        }
    } else {
        for t in oxttl::TurtleParser::new().for_reader(reader) {
            match t {
                Ok(t) => g.add(t),
                Err(oxttl::TurtleParseError::Io(e)) => return Err(FormatError::io(file, e)),
                Err(oxttl::TurtleParseError::Syntax(e)) => {
                    let at = e.location().start;
                    return Err(FormatError::at(
                        file,
                        at.line as usize + 1,
                        Some(at.column as usize + 1),
                        format!("invalid Turtle: {}", e.message()),
                    ));
                }
            }
        }
    }
    Reader::new(g, file).run()
}

struct Reader {
    g: Graph,
    file: String,
    base: String,
    summary: Summary,
}

impl Reader {
    fn new(g: Graph, file: &str) -> Self {
        Reader { g, file: file.to_owned(), base: String::new(), summary: Summary::default() }
    }

    fn err(&self, message: String) -> FormatError {
        FormatError { file: self.file.clone(), line: None, column: None, message }
    }

    /// The OBO id of a class or relation IRI: its `oboInOwl:id`, else
    /// `id_for_iri`.
    fn id_of(&self, iri: &str) -> String {
        let s = Subject::NamedNode(NamedNode::new_unchecked(iri));
        match self.g.objects(&s, &v("id", OIO)).find_map(literal) {
            Some(id) => id.to_owned(),
            None => id_for_iri(iri, &self.base),
        }
    }

    fn relation_id_of(&self, iri: &str) -> String {
        let s = Subject::NamedNode(NamedNode::new_unchecked(iri));
        match self.g.objects(&s, &v("shorthand", OIO)).find_map(literal) {
            Some(short) => short.to_owned(),
            None => self.id_of(iri),
        }
    }

    /// An IRI as an OBO id in a `property_value`.
    fn compact(&self, iri: &str) -> String {
        id_for_iri(iri, &self.base)
    }

    fn run(mut self) -> Result<(Vec<Entity>, Summary), FormatError> {
        let subjects = std::mem::take(&mut self.g.order);
        let ontology = subjects
            .iter()
            .find(|s| matches!(s, Subject::NamedNode(_)) && self.g.has_type(s, &v("Ontology", OWL)))
            .cloned();
        if let Some(Subject::NamedNode(o)) = &ontology {
            self.base = o.as_str().trim_end_matches(".owl").to_owned();
        }
        let mut entities = Vec::new();
        // Axiom annotations: (source, property, target) → [(property, value)].
        let mut axioms: Axioms = HashMap::new();
        for s in &subjects {
            if matches!(s, Subject::BlankNode(_)) && self.g.has_type(s, &v("Axiom", OWL)) {
                let one = |p: &str| self.g.objects(s, p).next().cloned();
                let (Some(src), Some(prop), Some(tgt)) = (
                    one(&v("annotatedSource", OWL)),
                    one(&v("annotatedProperty", OWL)),
                    one(&v("annotatedTarget", OWL)),
                ) else {
                    continue;
                };
                let (Some(src), Some(prop)) = (named(&src), named(&prop)) else { continue };
                let key = (src.to_owned(), prop.to_owned(), term_key(&tgt));
                let anns = self.g.by_subject[s]
                    .iter()
                    .filter(|(p, _)| !p.as_str().starts_with(OWL) && !p.as_str().starts_with(RDF))
                    .map(|(p, o)| (p.as_str().to_owned(), o.clone()))
                    .collect();
                axioms.insert(key, anns);
            }
        }
        let mut nodes: HashMap<String, String> = HashMap::new();
        if let Some(o) = &ontology {
            entities.push(Entity::Interface(Arc::new(self.header(o)?)));
        }
        let mut relations = HashSet::new();
        for s in &subjects {
            let Subject::NamedNode(n) = s else { continue };
            if self.g.has_type(s, &v("ObjectProperty", OWL)) {
                relations.insert(n.as_str().to_owned());
            }
        }
        for s in &subjects {
            let Subject::NamedNode(n) = s else { continue };
            if self.g.has_type(s, &v("Class", OWL)) {
                let (o, links) = self.class(n.as_str(), &axioms)?;
                claim(&mut nodes, &o.api_name, n.as_str()).map_err(|m| self.err(m))?;
                entities.push(Entity::ObjectType(Arc::new(o)));
                entities.extend(links.into_iter().map(|l| Entity::LinkType(Arc::new(l))));
            } else if relations.contains(n.as_str()) {
                let i = self.property(n.as_str(), &relations, &axioms)?;
                claim(&mut nodes, &i.api_name, n.as_str()).map_err(|m| self.err(m))?;
                entities.push(Entity::Interface(Arc::new(i)));
            }
        }
        // References to classes the file does not declare.
        for e in &entities {
            for r in e.references() {
                if !nodes.contains_key(r.target) {
                    return Err(self.err(format!(
                        "{}: {}: {} is not declared in this file",
                        e.id(),
                        r.field,
                        r.target
                    )));
                }
            }
        }
        Ok((entities, self.summary))
    }

    fn header(&self, o: &Subject) -> Result<Interface, FormatError> {
        let Subject::NamedNode(n) = o else { unreachable!("ontology nodes are named") };
        let mut annotations = Annotations::new();
        let id = n.as_str().strip_prefix(OBO).map(|s| s.trim_end_matches(".owl").to_owned());
        for (p, obj) in &self.g.by_subject[o] {
            if let (Some(tag), Some(value)) = (p.as_str().strip_prefix(OIO), literal(obj)) {
                annotations.entry(tag.to_owned()).or_default().push(value.to_owned());
            }
        }
        let curie = match annotations.get("ontology").and_then(|v| v.first()) {
            Some(o) => Some(o.clone()),
            None => id.or_else(|| Some(n.as_str().to_owned())),
        };
        if !annotations.contains_key("ontology") {
            if let Some(c) = &curie {
                annotations.insert("ontology".into(), vec![c.clone()]);
            }
        }
        let i = Interface {
            api_name: HEADER.into(),
            display_name: "ontology header".into(),
            description: None,
            extends: vec![],
            properties: vec![],
            curie,
            annotations,
            version: 0,
        };
        validate::interface(&i).map_err(|e| self.err(format!("the ontology header: {e}")))?;
        Ok(i)
    }

    /// Annotation assertions of `s` other than those in `skip`, as OBO
    /// clauses.
    fn annotations(&mut self, s: &str, skip: &[String], axioms: &Axioms, typedef: bool) -> Annotations {
        let subject = Subject::NamedNode(iri(s));
        let mut out = Annotations::new();
        let mut push = |tag: &str, value: String| out.entry(tag.to_owned()).or_default().push(value);
        let order: &[&str] = if typedef { super::obo::TYPEDEF_ORDER } else { super::obo::TERM_ORDER };
        for (p, o) in &self.g.by_subject[&subject] {
            let p = p.as_str();
            if skip.iter().any(|k| k == p) || p.starts_with(RDF) || p.starts_with(OWL) {
                continue;
            }
            let ax = axioms.get(&(s.to_owned(), p.to_owned(), term_key(o)));
            if let Some(scope) = SCOPES.iter().find(|(_, local)| p == v(local, OIO)).map(|(s, _)| *s) {
                if let Some(text) = literal(o) {
                    let ty = ax
                        .into_iter()
                        .flatten()
                        .find(|(q, _)| q == &v("hasSynonymType", OIO))
                        .and_then(|(_, t)| named(t))
                        .map(|t| self.local_or_curie(t));
                    let anns: Vec<(String, Term)> = ax.cloned().unwrap_or_default();
                    let syn = synonym_text(text, scope, ty.as_deref(), &anns);
                    push("synonym", syn);
                    continue;
                }
            }
            let value = if p == v("hasDbXref", OIO) {
                literal(o).map(|x| ("xref", x.to_owned()))
            } else if p == v("inSubset", OIO) {
                named(o).map(|x| ("subset", self.local_or_curie(x)))
            } else if p == v("comment", RDFS) {
                literal(o).map(|x| ("comment", super::obo::unquoted(x)))
            } else if p == v("hasOBONamespace", OIO) {
                literal(o).map(|x| ("namespace", x.to_owned()))
            } else if p == v("hasAlternativeId", OIO) {
                literal(o).map(|x| ("alt_id", x.to_owned()))
            } else if p == REPLACED_BY {
                named(o).map(|x| ("replaced_by", self.id_of(x)))
            } else if p == v("shorthand", OIO) || p == v("id", OIO) {
                continue;
            } else if let Some(tag) = p.strip_prefix(OIO).filter(|t| order.contains(t)) {
                literal(o).map(|x| (tag, x.to_owned()))
            } else {
                let rel = self.compact(p);
                match o {
                    Term::Literal(l) => {
                        let dt = self.compact(l.datatype().as_str());
                        Some(("property_value", format!("{rel} {} {dt}", QuotedString::new(l.value().to_owned()))))
                    }
                    Term::NamedNode(n) => Some(("property_value", format!("{rel} {}", self.compact(n.as_str())))),
                    _ => None,
                }
            };
            match value {
                Some((tag, value)) => push(tag, value),
                None => self.summary.dropped_axioms += 1,
            }
        }
        out
    }

    /// A subset or synonym type IRI as OBO names it.
    fn local_or_curie(&self, iri: &str) -> String {
        id_for_iri(iri, &self.base)
    }

    fn definition(&self, s: &str, axioms: &Axioms) -> (Option<String>, Option<String>) {
        let subject = Subject::NamedNode(iri(s));
        let Some(def) = self.g.objects(&subject, DEFINITION).find(|o| literal(o).is_some()) else {
            return (None, None);
        };
        let anns = axioms.get(&(s.to_owned(), DEFINITION.to_owned(), term_key(def)));
        let rest = xref_list_text(anns.map_or(&[][..], Vec::as_slice));
        (literal(def).map(str::to_owned), (rest != "[]").then_some(rest))
    }

    fn class_name(&self, iri: &str) -> Result<String, String> {
        ids::node_name(&self.id_of(iri))
    }

    fn class(&mut self, s: &str, axioms: &Axioms) -> Result<(ObjectType, Vec<LinkType>), FormatError> {
        let id = self.id_of(s);
        let name = ids::node_name(&id).map_err(|m| self.err(m))?;
        let subject = Subject::NamedNode(iri(s));
        let label = self.g.objects(&subject, &v("label", RDFS)).find_map(literal).map(str::to_owned);
        let (description, def_rest) = self.definition(s, axioms);
        let deprecated = self.g.objects(&subject, &v("deprecated", OWL)).any(|o| literal(o) == Some("true"));
        let mut extends = Vec::new();
        let mut links: Vec<(String, String)> = Vec::new();
        for parent in self.g.objects(&subject, &v("subClassOf", RDFS)) {
            if let Some(p) = named(parent) {
                let p = self.class_name(p).map_err(|m| self.err(m))?;
                if !extends.contains(&p) {
                    extends.push(p);
                }
            } else if let Some((rel, c)) = self.g.some(parent) {
                let r = ids::relation_name(&self.relation_id_of(&rel)).map_err(|m| self.err(m))?;
                links.push((r, self.class_name(&c).map_err(|m| self.err(m))?));
            } else {
                self.summary.dropped_axioms += 1;
            }
        }
        for eq in self.g.objects(&subject, &v("equivalentClass", OWL)) {
            let Term::BlankNode(b) = eq else {
                self.summary.dropped_axioms += 1;
                continue;
            };
            let Some(list) = self.g.objects(&Subject::BlankNode(b.clone()), &v("intersectionOf", OWL)).next() else {
                self.summary.dropped_axioms += 1;
                continue;
            };
            for member in self.g.list(list) {
                if let Some(g) = named(&member) {
                    links.push((GENUS.to_owned(), self.class_name(g).map_err(|m| self.err(m))?));
                } else if let Some((rel, c)) = self.g.some(&member) {
                    let r = ids::relation_name(&self.relation_id_of(&rel)).map_err(|m| self.err(m))?;
                    links.push((format!("{DIFFERENTIA}{r}"), self.class_name(&c).map_err(|m| self.err(m))?));
                }
                self.summary.intersections += 1;
            }
        }
        let skip = [v("label", RDFS), DEFINITION.to_owned(), v("deprecated", OWL), v("subClassOf", RDFS)];
        let mut annotations = self.annotations(s, &skip, axioms, false);
        if let Some(rest) = def_rest {
            annotations.insert("def".into(), vec![rest]);
        }
        self.summary.terms += 1;
        self.summary.obsolete += usize::from(deprecated);
        self.summary.is_a += extends.len();
        let mut seen = HashSet::new();
        links.retain(|l| seen.insert(l.clone()));
        self.summary.relationships += links.iter().filter(|(r, _)| !r.starts_with(GENUS)).count();
        let o = ObjectType {
            api_name: name.clone(),
            display_name: label.unwrap_or_default(),
            description,
            status: if deprecated { Status::Deprecated } else { Status::Active },
            properties: vec![],
            extends,
            implements: vec![],
            curie: Some(id.clone()),
            annotations,
            version: 0,
        };
        validate::object_type(&o).map_err(|e| self.err(format!("class {s}: {e}")))?;
        let links = links
            .into_iter()
            .map(|(api_name, target)| LinkType {
                api_name,
                source: name.clone(),
                target,
                cardinality: Cardinality::ManyToMany,
                display_name: String::new(),
                description: None,
                status: Status::Active,
                version: 0,
            })
            .collect();
        Ok((o, links))
    }

    fn property(&mut self, s: &str, relations: &HashSet<String>, axioms: &Axioms) -> Result<Interface, FormatError> {
        let id = self.relation_id_of(s);
        let name = ids::relation_name(&id).map_err(|m| self.err(m))?;
        let subject = Subject::NamedNode(iri(s));
        let label = self.g.objects(&subject, &v("label", RDFS)).find_map(literal).map(str::to_owned);
        let (description, def_rest) = self.definition(s, axioms);
        let mut extends = Vec::new();
        for parent in self.g.objects(&subject, &v("subPropertyOf", RDFS)).filter_map(named) {
            if relations.contains(parent) {
                let p = ids::relation_name(&self.relation_id_of(parent)).map_err(|m| self.err(m))?;
                if !extends.contains(&p) {
                    extends.push(p);
                }
            }
        }
        let skip = [v("label", RDFS), DEFINITION.to_owned(), v("subPropertyOf", RDFS)];
        let mut annotations = self.annotations(s, &skip, axioms, true);
        if self.g.has_type(&subject, &v("TransitiveProperty", OWL)) {
            annotations.insert("is_transitive".into(), vec!["true".into()]);
        }
        if let Some(rest) = def_rest {
            annotations.insert("def".into(), vec![rest]);
        }
        self.summary.typedefs += 1;
        self.summary.typedef_is_a += extends.len();
        let i = Interface {
            api_name: name,
            display_name: label.unwrap_or_default(),
            description,
            extends,
            properties: vec![],
            curie: Some(id),
            annotations,
            version: 0,
        };
        validate::interface(&i).map_err(|e| self.err(format!("object property {s}: {e}")))?;
        Ok(i)
    }
}

fn claim(nodes: &mut HashMap<String, String>, name: &str, iri: &str) -> Result<(), String> {
    match nodes.insert(name.to_owned(), iri.to_owned()) {
        Some(other) if other != iri => Err(format!("{iri} and {other} both map to apiName {name}")),
        Some(_) => Err(format!("{iri} is declared twice")),
        None => Ok(()),
    }
}

fn term_key(t: &Term) -> String {
    t.to_string()
}

/// Write `o` as OWL in Turtle.
pub fn write(o: &Ontology, out: &mut impl Write) -> anyhow::Result<Summary> {
    let mut w = Writer::new(o);
    let mut ser = oxttl::TurtleSerializer::new();
    for (p, ns) in PREFIXES {
        ser = ser.with_prefix(p, ns)?;
    }
    let mut ser = ser.for_writer(out);
    w.header()?;
    for t in o.object_types_after(None) {
        w.class(t)?;
        for triple in w.triples.drain(..) {
            ser.serialize_triple(&triple)?;
        }
    }
    for i in o.interfaces_after(None).filter(|i| i.api_name != HEADER) {
        w.property(i)?;
    }
    for triple in w.triples.drain(..) {
        ser.serialize_triple(&triple)?;
    }
    ser.finish()?;
    Ok(w.summary)
}

struct Writer<'a> {
    o: &'a Ontology,
    base: String,
    triples: Vec<Triple>,
    blank: u64,
    summary: Summary,
}

impl<'a> Writer<'a> {
    fn new(o: &'a Ontology) -> Self {
        let ontology = o
            .interface(HEADER)
            .and_then(|h| h.annotations.get("ontology").and_then(|v| v.first()).cloned())
            .unwrap_or_else(|| "ontograph".into());
        let base = if ontology.contains("://") { ontology } else { format!("{OBO}{ontology}") };
        Writer { o, base, triples: Vec::new(), blank: 0, summary: Summary::default() }
    }

    fn add(&mut self, s: impl Into<Subject>, p: &str, o: impl Into<Term>) {
        self.triples.push(Triple::new(s, iri(p), o));
    }

    fn bnode(&mut self) -> BlankNode {
        self.blank += 1;
        BlankNode::new_unchecked(format!("b{}", self.blank))
    }

    /// The IRI of an OBO id.
    fn iri_of(&self, id: &str) -> NamedNode {
        iri(&iri_for_id(id, &self.base))
    }

    /// Whether the id comes back from its IRI as itself.
    fn round_trips(&self, id: &str) -> bool {
        id_for_iri(&iri_for_id(id, &self.base), &self.base) == id
    }

    fn term_iri(&self, api_name: &str) -> anyhow::Result<NamedNode> {
        let curie = self.o.object_type(api_name).and_then(|t| t.curie.clone());
        let id = curie.or_else(|| ids::node_id(api_name)).ok_or_else(|| no_id(api_name))?;
        Ok(self.iri_of(&id))
    }

    fn relation_iri(&self, api_name: &str) -> anyhow::Result<(NamedNode, String)> {
        let curie = self.o.interface(api_name).and_then(|i| i.curie.clone());
        let id = curie.or_else(|| ids::relation_id(api_name)).ok_or_else(|| no_id(api_name))?;
        Ok((self.iri_of(&id), id))
    }

    fn header(&mut self) -> anyhow::Result<()> {
        let s = iri(&format!("{}.owl", self.base));
        self.add(s.clone(), &v("type", RDF), iri(&v("Ontology", OWL)));
        if let Some(h) = self.o.interface(HEADER) {
            for (tag, values) in &h.annotations {
                for value in values {
                    self.add(s.clone(), &v(tag, OIO), Literal::new_simple_literal(value));
                }
            }
        }
        Ok(())
    }

    fn common(&mut self, s: &NamedNode, id: &str, display: &str, api_name: &str, description: Option<&str>) {
        self.add(s.clone(), &v("id", OIO), Literal::new_simple_literal(id));
        if display != api_name {
            self.add(s.clone(), &v("label", RDFS), Literal::new_simple_literal(display));
        }
        if let Some(d) = description {
            self.add(s.clone(), DEFINITION, Literal::new_simple_literal(d));
        }
    }

    /// An `owl:Axiom` annotating (s, p, o).
    fn axiom(&mut self, s: &NamedNode, p: &str, o: Term, anns: Vec<(String, Term)>) {
        if anns.is_empty() {
            return;
        }
        let b = self.bnode();
        self.add(b.clone(), &v("type", RDF), iri(&v("Axiom", OWL)));
        self.add(b.clone(), &v("annotatedSource", OWL), s.clone());
        self.add(b.clone(), &v("annotatedProperty", OWL), iri(p));
        self.add(b.clone(), &v("annotatedTarget", OWL), o);
        for (q, t) in anns {
            self.add(b.clone(), &q, t);
        }
    }

    fn xref_terms(xrefs: &fastobo::ast::XrefList) -> Option<Vec<(String, Term)>> {
        xrefs
            .iter()
            .map(|x| {
                x.description()
                    .is_none()
                    .then(|| (v("hasDbXref", OIO), Literal::new_simple_literal(x.id().to_string()).into()))
            })
            .collect()
    }

    /// One annotation value of tag `tag` on `s`, in the standard vocabulary
    /// when it maps, else as `oboInOwl:<tag>` with the OBO text.
    fn annotation(&mut self, s: &NamedNode, tag: &str, value: &str, typedef: bool) {
        let line = format!("{tag}: {value}\n");
        let clause = if typedef {
            parse_line::<TypedefClause>(Rule::TypedefClauseLine, &line)
                .map(|l| (term_of_typedef(l.as_inner()), l.qualifiers().is_some()))
        } else {
            parse_line::<TermClause>(Rule::TermClauseLine, &line)
                .map(|l| (Some(l.as_inner().clone()), l.qualifiers().is_some()))
        };
        let mapped = match clause {
            Some((Some(c), false)) => self.standard(s, &c, value),
            _ => false,
        };
        if !mapped {
            self.add(s.clone(), &v(tag, OIO), Literal::new_simple_literal(value));
        }
    }

    /// Write a clause in the standard vocabulary, when it has one and the
    /// reader turns what is written back into exactly `value` (the
    /// annotation's text); false otherwise, and nothing is written.
    fn standard(&mut self, s: &NamedNode, c: &TermClause, value: &str) -> bool {
        let lit = |x: &str| -> Term { Literal::new_simple_literal(x).into() };
        let (p, o, anns, back): (String, Term, Vec<(String, Term)>, String) = match c {
            TermClause::Synonym(syn) => {
                let Some(xrefs) = Self::xref_terms(syn.xrefs()) else { return false };
                let scope = syn.scope().to_string();
                let local = SCOPES.iter().find(|(sc, _)| *sc == scope).map(|(_, l)| *l).expect("four scopes");
                let text = syn.description().as_str();
                let mut anns = xrefs;
                let ty = syn.ty().map(|t| t.to_string());
                if let Some(ty) = &ty {
                    if !self.round_trips(ty) {
                        return false;
                    }
                    anns.push((v("hasSynonymType", OIO), self.iri_of(ty).into()));
                }
                let back = synonym_text(text, &scope, ty.as_deref(), &anns);
                (v(local, OIO), lit(text), anns, back)
            }
            TermClause::Xref(x) if x.description().is_none() => {
                let id = x.id().to_string();
                (v("hasDbXref", OIO), lit(&id), vec![], id)
            }
            TermClause::Subset(x) => {
                let id = x.to_string();
                let iri = self.iri_of(&id);
                (v("inSubset", OIO), iri.clone().into(), vec![], id_for_iri(iri.as_str(), &self.base))
            }
            TermClause::Comment(text) => {
                (v("comment", RDFS), lit(text.as_str()), vec![], super::obo::unquoted(text.as_str()))
            }
            TermClause::Namespace(ns) => {
                let ns = ns.to_string();
                (v("hasOBONamespace", OIO), lit(&ns), vec![], ns)
            }
            TermClause::AltId(id) => {
                let id = id.to_string();
                (v("hasAlternativeId", OIO), lit(&id), vec![], id)
            }
            TermClause::ReplacedBy(id) => {
                let id = id.to_string();
                let iri = self.iri_of(&id);
                (REPLACED_BY.to_owned(), iri.clone().into(), vec![], id_for_iri(iri.as_str(), &self.base))
            }
            TermClause::PropertyValue(pv) => match pv.as_ref() {
                PropertyValue::Resource(r) => {
                    let (rel, target) = (r.property().to_string(), r.target().to_string());
                    let (p, t) = (self.iri_of(&rel), self.iri_of(&target));
                    let back = format!("{} {}", id_for_iri(p.as_str(), &self.base), id_for_iri(t.as_str(), &self.base));
                    (p.into_string(), t.into(), vec![], back)
                }
                PropertyValue::Literal(l) => {
                    let (rel, dt) = (l.property().to_string(), l.datatype().to_string());
                    let (p, dt) = (self.iri_of(&rel), self.iri_of(&dt));
                    let back = format!(
                        "{} {} {}",
                        id_for_iri(p.as_str(), &self.base),
                        QuotedString::new(l.literal().as_str().to_owned()),
                        id_for_iri(dt.as_str(), &self.base)
                    );
                    (p.into_string(), Literal::new_typed_literal(l.literal().as_str(), dt).into(), vec![], back)
                }
            },
            _ => return false,
        };
        if back != value {
            return false;
        }
        self.add(s.clone(), &p, o.clone());
        self.axiom(s, &p, o, anns);
        true
    }

    fn annotations(&mut self, s: &NamedNode, a: &Annotations, typedef: bool) {
        for (tag, values) in a {
            if tag == "def" || (typedef && tag == "is_transitive") {
                continue;
            }
            for value in values {
                self.annotation(s, tag, value, typedef);
            }
        }
    }

    /// Definition xrefs as an axiom on the definition.
    fn def_axiom(&mut self, s: &NamedNode, description: Option<&str>, a: &Annotations) {
        let (Some(d), Some(rest)) = (description, a.get("def").and_then(|v| v.first())) else { return };
        let parsed = fastobo::ast::Definition::from_str(&format!("{} {rest}", QuotedString::new(d.to_owned())));
        match parsed.ok().and_then(|def| Self::xref_terms(def.xrefs())) {
            Some(anns) if xref_list_text(&anns) == *rest => {
                self.axiom(s, DEFINITION, Literal::new_simple_literal(d).into(), anns);
            }
            _ => self.add(s.clone(), &v("def", OIO), Literal::new_simple_literal(rest)),
        }
    }

    fn class(&mut self, t: &ObjectType) -> anyhow::Result<()> {
        let s = self.term_iri(&t.api_name)?;
        let id = t.curie.clone().or_else(|| ids::node_id(&t.api_name)).ok_or_else(|| no_id(&t.api_name))?;
        self.add(s.clone(), &v("type", RDF), iri(&v("Class", OWL)));
        self.common(&s, &id, &t.display_name, &t.api_name, t.description.as_deref());
        self.def_axiom(&s, t.description.as_deref(), &t.annotations);
        if t.status == Status::Deprecated {
            self.add(s.clone(), &v("deprecated", OWL), Literal::new_typed_literal("true", iri(&v("boolean", XSD))));
            self.summary.obsolete += 1;
        }
        for p in &t.extends {
            let p = self.term_iri(p)?;
            self.add(s.clone(), &v("subClassOf", RDFS), p);
            self.summary.is_a += 1;
        }
        let mut intersection: Vec<Term> = Vec::new();
        let links: Vec<Arc<LinkType>> = self
            .o
            .referrers(&t.api_name)
            .filter_map(|id| self.o.link_type(id))
            .filter(|l| l.source == t.api_name)
            .cloned()
            .collect();
        let mut differentiae = Vec::new();
        for l in links {
            let target = self.term_iri(&l.target)?;
            if l.api_name == GENUS {
                intersection.push(target.into());
            } else if let Some(r) = l.api_name.strip_prefix(DIFFERENTIA) {
                let (p, _) = self.relation_iri(r)?;
                let b = self.restriction(p, target);
                differentiae.push(Term::from(b));
            } else {
                let (p, _) = self.relation_iri(&l.api_name)?;
                let b = self.restriction(p, target);
                self.add(s.clone(), &v("subClassOf", RDFS), b);
                self.summary.relationships += 1;
            }
        }
        intersection.extend(differentiae);
        if !intersection.is_empty() {
            self.summary.intersections += intersection.len();
            let class = self.bnode();
            self.add(class.clone(), &v("type", RDF), iri(&v("Class", OWL)));
            let list = self.list(intersection);
            self.add(class.clone(), &v("intersectionOf", OWL), list);
            self.add(s.clone(), &v("equivalentClass", OWL), class);
        }
        self.annotations(&s, &t.annotations, false);
        self.summary.dropped_properties += t.properties.len() + t.implements.len();
        self.summary.terms += 1;
        Ok(())
    }

    fn restriction(&mut self, p: NamedNode, target: NamedNode) -> BlankNode {
        let b = self.bnode();
        self.add(b.clone(), &v("type", RDF), iri(&v("Restriction", OWL)));
        self.add(b.clone(), &v("onProperty", OWL), p);
        self.add(b.clone(), &v("someValuesFrom", OWL), target);
        b
    }

    fn list(&mut self, items: Vec<Term>) -> Term {
        let mut rest: Term = iri(&v("nil", RDF)).into();
        for item in items.into_iter().rev() {
            let b = self.bnode();
            self.add(b.clone(), &v("first", RDF), item);
            self.add(b.clone(), &v("rest", RDF), rest);
            rest = b.into();
        }
        rest
    }

    fn property(&mut self, i: &Interface) -> anyhow::Result<()> {
        let (s, id) = self.relation_iri(&i.api_name)?;
        self.add(s.clone(), &v("type", RDF), iri(&v("ObjectProperty", OWL)));
        if !id.contains(':') {
            self.add(s.clone(), &v("shorthand", OIO), Literal::new_simple_literal(&id));
        }
        if i.annotations.get("is_transitive").is_some_and(|v| v.iter().any(|x| x == "true")) {
            self.add(s.clone(), &v("type", RDF), iri(&v("TransitiveProperty", OWL)));
        }
        self.common(&s, &id, &i.display_name, &i.api_name, i.description.as_deref());
        self.def_axiom(&s, i.description.as_deref(), &i.annotations);
        for p in &i.extends {
            let (p, _) = self.relation_iri(p)?;
            self.add(s.clone(), &v("subPropertyOf", RDFS), p);
            self.summary.typedef_is_a += 1;
        }
        self.annotations(&s, &i.annotations, true);
        self.summary.dropped_properties += i.properties.len();
        self.summary.typedefs += 1;
        Ok(())
    }
}

/// The `[xrefs]` the reader builds from `hasDbXref` axiom annotations.
fn xref_list_text(anns: &[(String, Term)]) -> String {
    let xrefs: Vec<Xref> = anns
        .iter()
        .filter(|(q, _)| q == &v("hasDbXref", OIO))
        .filter_map(|(_, t)| literal(t))
        .filter_map(|x| Ident::from_str(x).ok().map(Xref::new))
        .collect();
    fastobo::ast::XrefList::new(xrefs).to_string()
}

/// The synonym the reader builds from an OWL synonym and its axiom
/// annotations (`hasDbXref` literals, `hasSynonymType`).
fn synonym_text(text: &str, scope: &str, ty: Option<&str>, anns: &[(String, Term)]) -> String {
    let xrefs: Vec<Xref> = anns
        .iter()
        .filter(|(q, _)| q == &v("hasDbXref", OIO))
        .filter_map(|(_, t)| literal(t))
        .filter_map(|x| Ident::from_str(x).ok().map(Xref::new))
        .collect();
    let scope = SynonymScope::from_str(scope).expect("a known scope");
    let desc = QuotedString::new(text.to_owned());
    let xrefs = fastobo::ast::XrefList::new(xrefs);
    match ty.and_then(|t| fastobo::ast::SynonymTypeIdent::from_str(t).ok()) {
        Some(ty) => fastobo::ast::Synonym::with_type_and_xrefs(desc, scope, ty, xrefs),
        None => fastobo::ast::Synonym::with_xrefs(desc, scope, xrefs),
    }
    .to_string()
}

/// One clause line (`tag: value\n`), or `None` when it does not parse whole.
fn parse_line<T>(rule: Rule, line: &str) -> Option<Line<T>>
where
    Line<T>: for<'i> FromPair<'i>,
{
    let pair = Lexer::tokenize(rule, line).ok()?.next()?;
    if pair.as_span().end() != line.len() {
        return None;
    }
    Line::<T>::from_pair(pair, &Cache::default()).ok()
}

/// The term clause with the same meaning as a typedef clause, for the
/// annotations both kinds share.
fn term_of_typedef(c: &TypedefClause) -> Option<TermClause> {
    Some(match c {
        TypedefClause::Synonym(s) => TermClause::Synonym(s.clone()),
        TypedefClause::Xref(x) => TermClause::Xref(x.clone()),
        TypedefClause::Subset(x) => TermClause::Subset(x.clone()),
        TypedefClause::Comment(x) => TermClause::Comment(x.clone()),
        TypedefClause::Namespace(x) => TermClause::Namespace(x.clone()),
        TypedefClause::AltId(x) => TermClause::AltId(x.clone()),
        TypedefClause::PropertyValue(x) => TermClause::PropertyValue(x.clone()),
        _ => return None,
    })
}

fn no_id(api_name: &str) -> anyhow::Error {
    anyhow::anyhow!("{api_name} has no curie and is not the apiName of any OBO id (docs/formats.md, \"Identifiers\")")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::obo;

    fn docs(o: &Ontology) -> Vec<serde_json::Value> {
        o.entities().map(|e| e.to_json()).collect()
    }

    #[test]
    fn obo_to_owl_and_back_is_the_same_ontology() {
        let (entities, _) = obo::read(obo::tests::SMALL.as_bytes(), "t.obo").unwrap();
        let o = Ontology::from_entities(entities);
        let mut ttl = Vec::new();
        let written = write(&o, &mut ttl).unwrap();
        let ttl = String::from_utf8(ttl).unwrap();
        assert!(ttl.contains("owl:someValuesFrom"), "{ttl}");
        let (again, read) = read(ttl.as_bytes(), "t.ttl").unwrap();
        assert_eq!(docs(&Ontology::from_entities(again)), docs(&o), "{ttl}");
        assert_eq!((read.terms, read.obsolete, read.is_a, read.relationships), (4, 1, 1, 1));
        assert_eq!((written.terms, written.typedefs, written.intersections), (4, 1, 2));
    }

    #[test]
    fn rdf_xml_with_named_classes_restrictions_and_labels() {
        let xml = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
         xmlns:owl="http://www.w3.org/2002/07/owl#"
         xmlns:obo="http://purl.obolibrary.org/obo/">
  <owl:Ontology rdf:about="http://purl.obolibrary.org/obo/x.owl"/>
  <owl:ObjectProperty rdf:about="http://purl.obolibrary.org/obo/BFO_0000050">
    <rdfs:label>part of</rdfs:label>
  </owl:ObjectProperty>
  <owl:Class rdf:about="http://purl.obolibrary.org/obo/X_1">
    <rdfs:label>whole</rdfs:label>
    <obo:IAO_0000115>A whole thing.</obo:IAO_0000115>
  </owl:Class>
  <owl:Class rdf:about="http://purl.obolibrary.org/obo/X_2">
    <rdfs:label>part</rdfs:label>
    <rdfs:subClassOf rdf:resource="http://purl.obolibrary.org/obo/X_1"/>
    <rdfs:subClassOf>
      <owl:Restriction>
        <owl:onProperty rdf:resource="http://purl.obolibrary.org/obo/BFO_0000050"/>
        <owl:someValuesFrom rdf:resource="http://purl.obolibrary.org/obo/X_1"/>
      </owl:Restriction>
    </rdfs:subClassOf>
    <owl:deprecated rdf:datatype="http://www.w3.org/2001/XMLSchema#boolean">true</owl:deprecated>
  </owl:Class>
</rdf:RDF>
"#;
        let (entities, summary) = read(xml.as_bytes(), "x.owl").unwrap();
        let o = Ontology::from_entities(entities);
        let part = o.object_type("X_2").unwrap();
        assert_eq!(
            (part.display_name.as_str(), part.status, part.extends.clone()),
            ("part", Status::Deprecated, vec!["X_1".to_owned()])
        );
        assert_eq!(o.object_type("X_1").unwrap().description.as_deref(), Some("A whole thing."));
        assert!(o.link_type("X_2.BFO__0000050.X_1").is_some());
        assert_eq!(o.interface("BFO__0000050").unwrap().curie.as_deref(), Some("BFO:0000050"));
        assert_eq!((summary.terms, summary.relationships, summary.typedefs), (2, 1, 1));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = read(
            "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n<http://x.org/a> a owl:Class ;\n  <http://x.org/b> \"x\n"
                .as_bytes(),
            "t.ttl",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("t.ttl:3:"), "{err}");
        let err = read("<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n<rdf:Description>\n</rdf:RDF>\n".as_bytes(), "t.owl")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.owl:4: invalid RDF/XML"), "{err}");
    }
}
