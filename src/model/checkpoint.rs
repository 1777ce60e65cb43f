//! A state as compact bytes: what a checkpoint holds (docs/ARCHITECTURE.md,
//! "Checkpoints"). Loading a large branch from its entity rows costs a
//! database scan and a JSON parse per entity; a checkpoint is one byte
//! string read in a few large chunks and decoded without parsing text.
//!
//! Layout (all integers LEB128 varints, strings length-prefixed UTF-8):
//! `MAGIC`, the total entity count (so a checkpoint cut at a section
//! boundary is refused), then sections, each `entity count, byte length,
//! entities`, so sections decode on several threads. An entity is its kind byte, its
//! version and its fields in declaration order; optional strings carry a
//! presence byte, enums a byte. Nothing here checks integrity beyond the
//! format: the engine keeps a digest beside the bytes.

use std::sync::Arc;

use super::ontology::{Entity, Ontology};
use super::types::{Annotations, Cardinality, DataType, Interface, LinkType, ObjectType, Property, Status};

/// The format's name and revision; a different one is not read.
const MAGIC: &[u8; 8] = b"OGCKPT01";
/// Entities per section: enough to amortize the header, small enough
/// that two threads split the work evenly.
const SECTION: usize = 65_536;

/// Why bytes are not a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a readable checkpoint: {0}")]
pub struct Unreadable(&'static str);

/// The bytes of every entity of `ontology`.
pub fn encode(ontology: &Ontology) -> Vec<u8> {
    encode_in_sections(ontology, SECTION)
}

fn encode_in_sections(ontology: &Ontology, per_section: usize) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    uint(&mut out, ontology.entity_count() as u64);
    let mut section = Vec::new();
    let mut count = 0usize;
    let flush = |out: &mut Vec<u8>, section: &mut Vec<u8>, count: &mut usize| {
        uint(out, *count as u64);
        uint(out, section.len() as u64);
        out.append(section);
        *count = 0;
    };
    for e in ontology.entities() {
        entity(&mut section, &e);
        count += 1;
        if count == per_section {
            flush(&mut out, &mut section, &mut count);
        }
    }
    if count > 0 {
        flush(&mut out, &mut section, &mut count);
    }
    out
}

/// The state `encode` wrote, decoded on `threads` threads.
pub fn decode(bytes: &[u8], threads: usize) -> Result<Ontology, Unreadable> {
    let mut r = Reader(bytes.strip_prefix(MAGIC.as_slice()).ok_or(Unreadable("unknown format"))?);
    let total = r.uint()?;
    let mut sections = Vec::new();
    while !r.0.is_empty() {
        let count = r.uint()? as usize;
        let len = r.uint()? as usize;
        if len > r.0.len() || count > len {
            return Err(Unreadable("a section runs past the end"));
        }
        let (body, rest) = r.0.split_at(len);
        sections.push((count, body));
        r.0 = rest;
    }
    if sections.iter().map(|s| s.0 as u64).sum::<u64>() != total {
        return Err(Unreadable("sections missing or added"));
    }
    let threads = threads.clamp(1, sections.len().max(1));
    let per = sections.len().div_ceil(threads).max(1);
    let decode_part = |part: &[(usize, &[u8])]| -> Result<Vec<Entity>, Unreadable> {
        let mut out = Vec::with_capacity(part.iter().map(|s| s.0).sum());
        for &(n, body) in part {
            out.extend(section(n, body)?);
        }
        Ok(out)
    };
    let decoded: Vec<Result<Vec<Entity>, Unreadable>> = std::thread::scope(|scope| {
        let handles: Vec<_> = sections.chunks(per).map(|part| scope.spawn(move || decode_part(part))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    let mut entities = Vec::with_capacity(sections.iter().map(|s| s.0).sum());
    for part in decoded {
        entities.extend(part?);
    }
    Ok(Ontology::from_entities(entities))
}

fn section(count: usize, body: &[u8]) -> Result<Vec<Entity>, Unreadable> {
    let mut r = Reader(body);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        out.push(r.entity()?);
    }
    if !r.0.is_empty() {
        return Err(Unreadable("a section holds more than it counts"));
    }
    Ok(out)
}

fn uint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn text(out: &mut Vec<u8>, s: &str) {
    uint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn opt_text(out: &mut Vec<u8>, s: &Option<String>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            text(out, s);
        }
    }
}

fn texts(out: &mut Vec<u8>, xs: &[String]) {
    uint(out, xs.len() as u64);
    xs.iter().for_each(|x| text(out, x));
}

fn annotations(out: &mut Vec<u8>, a: &Annotations) {
    uint(out, a.len() as u64);
    for (name, values) in a {
        text(out, name);
        texts(out, values);
    }
}

fn properties(out: &mut Vec<u8>, ps: &[Property]) {
    uint(out, ps.len() as u64);
    for p in ps {
        text(out, &p.api_name);
        opt_text(out, &p.display_name);
        out.push(p.data_type as u8);
        opt_text(out, &p.target);
        out.push(p.required as u8 | (p.unique as u8) << 1 | (p.array as u8) << 2);
        opt_text(out, &p.description);
    }
}

fn entity(out: &mut Vec<u8>, e: &Entity) {
    match e {
        Entity::ObjectType(o) => {
            out.push(0);
            uint(out, o.version as u64);
            text(out, &o.api_name);
            text(out, &o.display_name);
            opt_text(out, &o.description);
            out.push(o.status as u8);
            properties(out, &o.properties);
            texts(out, &o.extends);
            texts(out, &o.implements);
            opt_text(out, &o.curie);
            annotations(out, &o.annotations);
        }
        Entity::Interface(i) => {
            out.push(1);
            uint(out, i.version as u64);
            text(out, &i.api_name);
            text(out, &i.display_name);
            opt_text(out, &i.description);
            texts(out, &i.extends);
            properties(out, &i.properties);
            opt_text(out, &i.curie);
            annotations(out, &i.annotations);
        }
        Entity::LinkType(l) => {
            out.push(2);
            uint(out, l.version as u64);
            text(out, &l.api_name);
            text(out, &l.source);
            text(out, &l.target);
            out.push(l.cardinality as u8);
            text(out, &l.display_name);
            opt_text(out, &l.description);
            out.push(l.status as u8);
        }
    }
}

struct Reader<'a>(&'a [u8]);

const SHORT: Unreadable = Unreadable("ends in the middle of an entity");

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, Unreadable> {
        let (&b, rest) = self.0.split_first().ok_or(SHORT)?;
        self.0 = rest;
        Ok(b)
    }

    fn uint(&mut self) -> Result<u64, Unreadable> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(Unreadable("a number is too long"))
    }

    fn len(&mut self) -> Result<usize, Unreadable> {
        let n = self.uint()? as usize;
        // Every counted item takes at least one byte: a corrupt count
        // cannot make a reader allocate more than what is left.
        if n > self.0.len() {
            return Err(SHORT);
        }
        Ok(n)
    }

    fn text(&mut self) -> Result<String, Unreadable> {
        let n = self.len()?;
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8(s.to_vec()).map_err(|_| Unreadable("a name is not UTF-8"))
    }

    fn opt_text(&mut self) -> Result<Option<String>, Unreadable> {
        match self.byte()? {
            0 => Ok(None),
            1 => self.text().map(Some),
            _ => Err(Unreadable("a presence byte is neither 0 nor 1")),
        }
    }

    fn texts(&mut self) -> Result<Vec<String>, Unreadable> {
        let n = self.len()?;
        (0..n).map(|_| self.text()).collect()
    }

    fn annotations(&mut self) -> Result<Annotations, Unreadable> {
        let n = self.len()?;
        (0..n).map(|_| Ok((self.text()?, self.texts()?))).collect()
    }

    fn status(&mut self) -> Result<Status, Unreadable> {
        const ALL: [Status; 3] = [Status::Active, Status::Experimental, Status::Deprecated];
        ALL.get(self.byte()? as usize).copied().ok_or(Unreadable("unknown status"))
    }

    fn properties(&mut self) -> Result<Vec<Property>, Unreadable> {
        use DataType::*;
        const TYPES: [DataType; 8] = [String, Integer, Decimal, Boolean, Date, Datetime, Json, Reference];
        let n = self.len()?;
        (0..n)
            .map(|_| {
                let api_name = self.text()?;
                let display_name = self.opt_text()?;
                let data_type = *TYPES.get(self.byte()? as usize).ok_or(Unreadable("unknown data type"))?;
                let target = self.opt_text()?;
                let flags = self.byte()?;
                let description = self.opt_text()?;
                Ok(Property {
                    api_name,
                    display_name,
                    data_type,
                    target,
                    required: flags & 1 != 0,
                    unique: flags & 2 != 0,
                    array: flags & 4 != 0,
                    description,
                })
            })
            .collect()
    }

    fn entity(&mut self) -> Result<Entity, Unreadable> {
        let kind = self.byte()?;
        let version = self.uint()? as i64;
        Ok(match kind {
            0 => Entity::ObjectType(Arc::new(ObjectType {
                api_name: self.text()?,
                display_name: self.text()?,
                description: self.opt_text()?,
                status: self.status()?,
                properties: self.properties()?,
                extends: self.texts()?,
                implements: self.texts()?,
                curie: self.opt_text()?,
                annotations: self.annotations()?,
                version,
            })),
            1 => Entity::Interface(Arc::new(Interface {
                api_name: self.text()?,
                display_name: self.text()?,
                description: self.opt_text()?,
                extends: self.texts()?,
                properties: self.properties()?,
                curie: self.opt_text()?,
                annotations: self.annotations()?,
                version,
            })),
            2 => {
                const CARDINALITIES: [Cardinality; 4] =
                    [Cardinality::OneToOne, Cardinality::OneToMany, Cardinality::ManyToOne, Cardinality::ManyToMany];
                let (api_name, source, target) = (self.text()?, self.text()?, self.text()?);
                let cardinality = *CARDINALITIES.get(self.byte()? as usize).ok_or(Unreadable("unknown cardinality"))?;
                Entity::LinkType(Arc::new(LinkType {
                    api_name,
                    source,
                    target,
                    cardinality,
                    display_name: self.text()?,
                    description: self.opt_text()?,
                    status: self.status()?,
                    version,
                }))
            }
            _ => return Err(Unreadable("unknown entity kind")),
        })
    }
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;
