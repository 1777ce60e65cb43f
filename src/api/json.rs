//! Responses as JSON bytes. The pipeline writes a response itself (not
//! through serde's `Value` serialization) so that two things can happen:
//! lists the renderer already wrote as JSON are spliced in as they are
//! (they travel in the response tree as `Value::Binary`, which no field of
//! this schema produces otherwise: `Splice`), and the response's size is
//! bounded (`--max-response-bytes`): list renderers charge a request-wide
//! budget before they build anything (`ResponseBudget`), and the writer
//! stops at the limit.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Response, Value};
use bytes::Bytes;

use crate::error::Error;

/// Request data: this response is written by [`write_response`], so
/// rendered lists may be spliced in as bytes.
#[derive(Clone, Copy)]
pub struct Splice;

impl Splice {
    /// A list already written as JSON, to splice into the response.
    pub fn value(json: Vec<u8>) -> Value {
        Value::Binary(Bytes::from(json))
    }
}

/// The response bytes a request may still produce (request data).
pub struct ResponseBudget {
    max: usize,
    used: AtomicUsize,
}

impl ResponseBudget {
    pub fn new(max: usize) -> Self {
        ResponseBudget { max, used: AtomicUsize::new(0) }
    }

    /// Bytes charged so far.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Take `bytes` from the budget, or `LIMIT_EXCEEDED`.
    pub fn charge(&self, bytes: usize) -> Result<(), Error> {
        let before = self.used.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > self.max {
            return Err(too_large(self.max));
        }
        Ok(())
    }
}

fn too_large(max: usize) -> Error {
    Error::LimitExceeded(format!("the response would be larger than {max} bytes (--max-response-bytes)"))
}

/// Writes JSON, refusing to grow past `max` bytes.
struct Writer {
    out: Vec<u8>,
    max: usize,
}

impl Writer {
    fn room(&self) -> Result<(), Error> {
        match self.out.len() > self.max {
            true => Err(too_large(self.max)),
            false => Ok(()),
        }
    }

    fn value(&mut self, v: &Value) -> Result<(), Error> {
        match v {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Boolean(b) => self.out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Number(n) => {
                let _ = write!(self.out, "{n}");
            }
            Value::String(s) => super::render::write_str(&mut self.out, s),
            Value::Enum(e) => super::render::write_str(&mut self.out, e.as_str()),
            // Written as JSON already (see the module doc).
            Value::Binary(json) => self.out.extend_from_slice(json),
            Value::List(items) => {
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.value(item)?;
                }
                self.out.push(b']');
                self.room()?;
            }
            Value::Object(fields) => {
                self.out.push(b'{');
                for (i, (k, item)) in fields.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    super::render::write_str(&mut self.out, k.as_str());
                    self.out.push(b':');
                    self.value(item)?;
                }
                self.out.push(b'}');
                self.room()?;
            }
        }
        Ok(())
    }

    fn serde(&mut self, v: &impl serde::Serialize) -> Result<(), Error> {
        serde_json::to_writer(&mut self.out, v).map_err(Error::internal)?;
        self.room()
    }
}

/// The response as sent: `data` when it ran (`with_data`), `errors` and
/// `extensions` when there are any; at most `max` bytes.
pub fn write_response(resp: &Response, with_data: bool, max: usize) -> Result<Bytes, Error> {
    let mut w = Writer { out: Vec::with_capacity(256), max };
    w.out.push(b'{');
    let mut first = true;
    let mut key = |w: &mut Writer, k: &[u8]| {
        if !std::mem::take(&mut first) {
            w.out.push(b',');
        }
        w.out.extend_from_slice(k);
    };
    if with_data {
        key(&mut w, b"\"data\":");
        w.value(&resp.data)?;
    }
    if !resp.errors.is_empty() {
        key(&mut w, b"\"errors\":");
        w.serde(&resp.errors)?;
    }
    if !resp.extensions.is_empty() {
        key(&mut w, b"\"extensions\":");
        w.out.push(b'{');
        for (i, (k, v)) in resp.extensions.iter().enumerate() {
            if i > 0 {
                w.out.push(b',');
            }
            super::render::write_str(&mut w.out, k);
            w.out.push(b':');
            w.value(v)?;
        }
        w.out.push(b'}');
    }
    w.out.push(b'}');
    w.room()?;
    Ok(Bytes::from(w.out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer gives what serde gives for every kind of value, splices
    /// pre-written JSON verbatim, and stops at its limit.
    #[test]
    fn written_as_serde_would_with_splices_and_a_limit() {
        let data = serde_json::json!({
            "a": [1, -2.5, true, null, "x\"y\\z\n\u{1}é"],
            "b": { "c": "OBJECT_TYPE", "d": [] },
            "weird key \"": 1
        });
        let mut resp = Response::new(Value::from_json(data.clone()).unwrap());
        resp.errors.push(async_graphql::ServerError::new("bad", None));
        let ours = write_response(&resp, true, 1 << 20).unwrap();
        let serde = serde_json::to_vec(&resp).unwrap();
        let (ours, serde): (serde_json::Value, serde_json::Value) =
            (serde_json::from_slice(&ours).unwrap(), serde_json::from_slice(&serde).unwrap());
        assert_eq!(ours, serde);
        let spliced = Value::List(vec![Splice::value(br#"[{"k":1}]"#.to_vec()), Value::Null]);
        let out = write_response(&Response::new(spliced), true, 1 << 20).unwrap();
        assert_eq!(&out[..], br#"{"data":[[{"k":1}],null]}"#);
        let big = Value::List(vec![Value::String("x".repeat(100)); 100]);
        let err = write_response(&Response::new(big), true, 1000).unwrap_err();
        assert_eq!(err.code(), Error::LIMIT_EXCEEDED);
        let without = write_response(&Response::from_errors(vec![]), false, 100).unwrap();
        assert_eq!(&without[..], b"{}");
        let budget = ResponseBudget::new(100);
        assert!(budget.charge(60).is_ok() && budget.charge(60).is_err());
    }
}
