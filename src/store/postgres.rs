//! PostgreSQL store, for production. The SQL is shared (`sql.rs`); here
//! are the connection and the dialect.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool};

use super::records::fields_json;
use super::sql::{implement_store, Dialect};
use super::sql_access::implement_access;
use super::{db_error, EntityRow, NewCommit};
use crate::error::{Error, Result};
use crate::model::EntityChange;

const POSTGRES: Dialect = Dialect {
    // Stored as jsonb.
    body: "body::text AS body",
    body_param_cast: "::jsonb",
    lock_selected_rows: " FOR UPDATE",
    begin_write: "BEGIN",
    // 16,000 parameters per statement, under a quarter of the limit (8,191 rows would fit).
    insert_chunk: 2000,
    // The wire protocol counts a statement's parameters in an unsigned 16-bit field.
    max_params: 65535,
};

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| db_error("connect", e))?;
        sqlx::migrate!("schema/migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| Error::internal(anyhow::Error::new(e).context("postgres migrations")))?;
        Ok(PgStore { pool })
    }
}

impl PgStore {
    /// A commit's entity rows. More than one INSERT chunk goes by `COPY …
    /// FROM STDIN` (text format), streamed as the rows arrive: one
    /// statement, no bind parameters, no per-chunk round trip. A smaller
    /// commit is one INSERT, which costs one round trip where COPY costs two.
    async fn write_rows(conn: &mut PgConnection, c: &NewCommit<'_>, version: i64, what: &str) -> Result<()> {
        if c.changes.len() <= POSTGRES.insert_chunk {
            return Self::insert_rows(conn, c, version, what).await;
        }
        let mut rows = c.rows.open()?;
        let mut copy = conn
            .copy_in_raw(
                "COPY entity_versions (branch, kind, id, commit_version, version, body, change, fields) FROM STDIN",
            )
            .await
            .map_err(|e| db_error(what, e))?;
        let mut written = 0usize;
        let mut buf = Vec::with_capacity(COPY_BUFFER + (COPY_BUFFER >> 2));
        let streamed: Result<()> = async {
            while let Some(batch) = rows.next().await? {
                for row in batch.iter() {
                    let Some(change) = c.changes.get(written) else {
                        return Err(Error::internal(anyhow::anyhow!("{what}: more rows than changes")));
                    };
                    copy_line(&mut buf, c.branch, version, row, change);
                    written += 1;
                    if buf.len() >= COPY_BUFFER {
                        copy.send(std::mem::take(&mut buf)).await.map_err(|e| db_error(what, e))?;
                        buf.reserve(COPY_BUFFER + (COPY_BUFFER >> 2));
                        if let Some(p) = c.progress {
                            p(written as u64);
                        }
                    }
                }
            }
            if written != c.changes.len() {
                return Err(Error::internal(anyhow::anyhow!("{what}: rows and changes differ in length")));
            }
            if !buf.is_empty() {
                copy.send(buf).await.map_err(|e| db_error(what, e))?;
            }
            Ok(())
        }
        .await;
        match streamed {
            Ok(()) => {
                copy.finish().await.map_err(|e| db_error(what, e))?;
                if let Some(p) = c.progress {
                    p(written as u64);
                }
                Ok(())
            }
            // The connection must leave COPY mode; the transaction then rolls back.
            Err(e) => {
                let _ = copy.abort("the commit was refused").await;
                Err(e)
            }
        }
    }
}

/// Bytes of COPY data sent at a time.
const COPY_BUFFER: usize = 1 << 20;

/// One `entity_versions` row in COPY's text format: tab-separated, `\N`
/// for NULL.
fn copy_line(buf: &mut Vec<u8>, branch: &str, version: i64, row: &EntityRow, change: &EntityChange) {
    copy_text(buf, branch);
    buf.push(b'\t');
    copy_text(buf, row.kind.as_str());
    buf.push(b'\t');
    copy_text(buf, &row.id);
    buf.extend_from_slice(format!("\t{version}\t{}\t", row.version).as_bytes());
    match &row.body {
        Some(body) => copy_text(buf, body),
        None => buf.extend_from_slice(b"\\N"),
    }
    buf.push(b'\t');
    copy_text(buf, change.change.as_str());
    buf.push(b'\t');
    copy_text(buf, &fields_json(&change.fields));
    buf.push(b'\n');
}

/// A text value as COPY reads it: backslash, tab, newline and carriage
/// return escaped (JSON bodies hold backslashes of their own).
fn copy_text(buf: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => buf.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangeKind, EntityKind};

    #[test]
    fn a_copy_line_escapes_what_copy_would_read_as_structure() {
        let row = EntityRow {
            kind: EntityKind::ObjectType,
            id: "A".into(),
            version: 3,
            body: Some("{\"d\":\"a\\\\b\\n\tc\r\"}".into()),
        };
        let change = EntityChange {
            entity_kind: EntityKind::ObjectType,
            id: "A".into(),
            change: ChangeKind::Added,
            fields: vec!["name".into()],
        };
        let mut buf = Vec::new();
        copy_line(&mut buf, "main", 7, &row, &change);
        let deleted = EntityRow { body: None, ..row };
        copy_line(&mut buf, "main", 7, &deleted, &change);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "main\tOBJECT_TYPE\tA\t7\t3\t{\"d\":\"a\\\\\\\\b\\\\n\\tc\\r\"}\tADDED\t[\"name\"]\n\
             main\tOBJECT_TYPE\tA\t7\t3\t\\N\tADDED\t[\"name\"]\n"
        );
    }
}

implement_store!(PgStore, PgConnection, POSTGRES);
implement_access!(PgStore, POSTGRES);
