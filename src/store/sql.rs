//! The store's SQL, written once for both databases. Placeholders are
//! `$N` throughout (SQLite reads `$N` as parameter N too); what the
//! databases disagree on is a [`Dialect`], one constant per backend.
//!
//! Why a macro: `implement_store!` expands the one `Store` impl body for
//! each backend's concrete pool type. A generic impl over `sqlx::Database`
//! would need a `where` clause naming every bound and decoded type's
//! `Type`/`Encode`/`Decode` for that database, plus executor and argument
//! bounds, growing with each method; expanded per backend, each impl
//! type-checks as if written by hand. A new method is its SQL written once,
//! here; a new difference between the databases is a new `Dialect` field.

/// What the two databases' SQL differs in.
pub(super) struct Dialect {
    /// The `body` column as selected, for `EntityRowRaw` to decode as text
    /// (PostgreSQL stores jsonb, which sqlx does not decode as a `String`).
    pub body: &'static str,
    /// Written right after the `body` parameter of the insert: sqlx binds
    /// it as text, which PostgreSQL does not assign to jsonb uncast.
    pub body_param_cast: &'static str,
    /// Ends the select of a branch's forks in `delete_branch`: where the
    /// database has row locks, the forks found stay locked until the
    /// deletion commits.
    pub lock_selected_rows: &'static str,
    /// Starts a transaction that will write. SQLite's `BEGIN IMMEDIATE`
    /// takes the write lock at once: a deferred transaction that reads
    /// first and writes later fails with SQLITE_BUSY (no waiting) when
    /// another writer committed in between.
    pub begin_write: &'static str,
    /// Rows per multi-row INSERT into `entity_versions`; progress is
    /// reported once per chunk.
    pub insert_chunk: usize,
    /// The most bind parameters the database accepts in one statement.
    pub max_params: usize,
}

/// Bind parameters per row of the `entity_versions` INSERT: one per column.
pub(super) const ENTITY_VERSION_PARAMS: usize = 8;

/// `impl Store for $store` from the shared SQL, with the `Dialect` constant
/// `$dialect` filling in the differences. `$store` has a field
/// `pool: sqlx::Pool<DB>` (`$conn` is DB's connection) and an inherent
/// `write_rows` (its bulk path for a commit's entity rows; `insert_rows`,
/// defined here, is the portable one).
macro_rules! implement_store {
    ($store:ty, $conn:ty, $dialect:ident) => {
        // A block of its own, so the impl brings its imports with it.
        const _: () = {
            use async_trait::async_trait;
            use futures::TryStreamExt;
            use sqlx::QueryBuilder;

            use $crate::error::{Error, Result};
            use $crate::store::records::{
                assemble, fields_json, key_chunks, push_latest, ChangeRow, CommitRow, EntityRowRaw, KeyRow,
            };
            use $crate::store::sql::ENTITY_VERSION_PARAMS;
            use $crate::store::sql_access::insert_audit;
            use $crate::store::{
                db_error, AuditEntry, BranchRecord, CommitRecord, EntityKey, EntityRow, MergeRecord, NewBranch,
                NewCommit, Store,
            };

            assert!(
                $dialect.insert_chunk * ENTITY_VERSION_PARAMS <= $dialect.max_params,
                "an entity_versions INSERT chunk exceeds the bind parameter limit"
            );

            impl $store {
                /// The commit's entity rows by multi-row INSERTs, one
                /// prepared statement per chunk size (so every full chunk
                /// reuses one), in the caller's transaction.
                async fn insert_rows(conn: &mut $conn, c: &NewCommit<'_>, version: i64, what: &str) -> Result<()> {
                    // Rows arrive in batches (rendered elsewhere for a big
                    // commit) and are written in chunks of one prepared
                    // multi-row INSERT each.
                    let mut rows = c.rows.open()?;
                    let mut written = 0usize;
                    while let Some(batch) = rows.next().await? {
                        for chunk in batch.chunks($dialect.insert_chunk) {
                            let Some(changes) = c.changes.get(written..written + chunk.len()) else {
                                return Err(Error::internal(anyhow::anyhow!("{what}: more rows than changes")));
                            };
                            let fields: Vec<String> = changes.iter().map(|ch| fields_json(&ch.fields)).collect();
                            // ENTITY_VERSION_PARAMS binds per row, one per column.
                            let mut qb = QueryBuilder::new(
                                "INSERT INTO entity_versions
                                 (branch, kind, id, commit_version, version, body, change, fields) ",
                            );
                            let each = chunk.iter().zip(changes).zip(&fields);
                            qb.push_values(each, |mut b, ((row, change), fields)| {
                                b.push_bind(c.branch)
                                    .push_bind(row.kind.as_str())
                                    .push_bind(&row.id)
                                    .push_bind(version)
                                    .push_bind(row.version)
                                    .push_bind(&row.body)
                                    .push_unseparated($dialect.body_param_cast)
                                    .push_bind(change.change.as_str())
                                    .push_bind(fields.as_str());
                            });
                            qb.build().execute(&mut *conn).await.map_err(|e| db_error(&what, e))?;
                            written += chunk.len();
                            if let Some(p) = c.progress {
                                p(written as u64);
                            }
                        }
                    }
                    if written != c.changes.len() {
                        return Err(Error::internal(anyhow::anyhow!("{what}: rows and changes differ in length")));
                    }
                    Ok(())
                }
            }

            #[async_trait]
            impl Store for $store {
                async fn branches(&self) -> Result<Vec<BranchRecord>> {
                    sqlx::query_as("SELECT * FROM branches ORDER BY name")
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| db_error("branches", e))
                }

                async fn branch(&self, name: &str) -> Result<Option<BranchRecord>> {
                    sqlx::query_as("SELECT * FROM branches WHERE name = $1")
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|e| db_error(&format!("branch {name}"), e))
                }

                async fn create_branch(&self, b: &NewBranch) -> Result<BranchRecord> {
                    sqlx::query_as(
                        "INSERT INTO branches (name, parent, forked_at, head, protected, created_at)
                         VALUES ($1, $2, $3, 0, FALSE, $4) RETURNING *",
                    )
                    .bind(&b.name)
                    .bind(&b.parent)
                    .bind(b.forked_at)
                    .bind(b.created_at)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| db_error(&format!("branch {}", b.name), e))
                }

                async fn own_rows(&self, branch: &str, upto: i64) -> Result<Vec<EntityRow>> {
                    let sql = format!(
                        "SELECT kind, id, version, {} FROM entity_versions
                         WHERE branch = $1 AND commit_version <= $2 ORDER BY kind, id, commit_version",
                        $dialect.body
                    );
                    let mut stream = sqlx::query_as::<_, EntityRowRaw>(&sql).bind(branch).bind(upto).fetch(&self.pool);
                    let mut out = Vec::new();
                    while let Some(r) = stream.try_next().await.map_err(|e| db_error("entity_versions", e))? {
                        push_latest(&mut out, r.try_into()?);
                    }
                    Ok(out)
                }

                async fn rows_at(&self, branch: &str, upto: i64, keys: &[EntityKey]) -> Result<Vec<EntityRow>> {
                    let mut out = Vec::new();
                    for (kind, ids) in key_chunks(keys) {
                        let mut qb = QueryBuilder::new(format!(
                            "SELECT kind, id, version, {} FROM entity_versions WHERE branch = ",
                            $dialect.body
                        ));
                        qb.push_bind(branch).push(" AND kind = ").push_bind(kind.as_str());
                        qb.push(" AND commit_version <= ").push_bind(upto).push(" AND id IN (");
                        let mut list = qb.separated(", ");
                        for id in ids {
                            list.push_bind(id.as_str());
                        }
                        qb.push(") ORDER BY id, commit_version");
                        let rows: Vec<EntityRowRaw> = qb
                            .build_query_as()
                            .fetch_all(&self.pool)
                            .await
                            .map_err(|e| db_error("entity_versions", e))?;
                        for r in rows {
                            push_latest(&mut out, r.try_into()?);
                        }
                    }
                    Ok(out)
                }

                async fn touched(&self, branch: &str, after: i64, upto: i64) -> Result<Vec<EntityKey>> {
                    let rows: Vec<KeyRow> = sqlx::query_as(
                        "SELECT DISTINCT kind, id FROM entity_versions
                         WHERE branch = $1 AND commit_version > $2 AND commit_version <= $3 ORDER BY kind, id",
                    )
                    .bind(branch)
                    .bind(after)
                    .bind(upto)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| db_error("entity_versions", e))?;
                    rows.into_iter().map(KeyRow::key).collect()
                }

                async fn merges(&self) -> Result<Vec<MergeRecord>> {
                    sqlx::query_as(
                        "SELECT seq, target, target_version, source, source_version FROM merges ORDER BY seq",
                    )
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| db_error("merges", e))
                }

                async fn append_commit(&self, c: &NewCommit<'_>) -> Result<CommitRecord> {
                    let what = format!("commit on {}", c.branch);
                    let mut tx = self.pool.begin_with($dialect.begin_write).await.map_err(|e| db_error(&what, e))?;
                    // The optimistic-lock check and the write in one
                    // transaction. The first statement is a write, so SQLite
                    // takes the write lock now and PostgreSQL row-locks the
                    // branch: concurrent committers on one branch serialize
                    // and the loser sees the moved head.
                    let moved = sqlx::query("UPDATE branches SET head = head + 1 WHERE name = $1 AND head = $2")
                        .bind(c.branch)
                        .bind(c.expected_head)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| db_error(&what, e))?;
                    if moved.rows_affected() != 1 {
                        let actual: Option<i64> = sqlx::query_scalar("SELECT head FROM branches WHERE name = $1")
                            .bind(c.branch)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(|e| db_error(&what, e))?;
                        return Err(match actual {
                            None => Error::NotFound(format!("branch {}", c.branch)),
                            Some(actual) => Error::VersionConflict {
                                what: format!("branch {}", c.branch),
                                expected: c.expected_head,
                                actual,
                            },
                        });
                    }
                    let version = c.expected_head + 1;
                    sqlx::query(
                        "INSERT INTO commits (branch, version, author, message, created_at, change_count)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(c.branch)
                    .bind(version)
                    .bind(c.author)
                    .bind(c.message)
                    .bind(c.timestamp)
                    .bind(c.changes.len() as i64)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error(&what, e))?;
                    Self::write_rows(&mut *tx, c, version, &what).await?;
                    if let Some(m) = c.merge {
                        sqlx::query(
                            "INSERT INTO merges (target, target_version, source, source_version)
                             VALUES ($1, $2, $3, $4)",
                        )
                        .bind(c.branch)
                        .bind(version)
                        .bind(m.source)
                        .bind(m.source_version)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| db_error(&what, e))?;
                    }
                    if let Some(a) = c.audit {
                        insert_audit!(&mut *tx, a)?;
                    }
                    tx.commit().await.map_err(|e| db_error(&what, e))?;
                    Ok(c.record())
                }

                async fn commits(&self, branch: &str, before: Option<i64>, limit: i64) -> Result<Vec<CommitRecord>> {
                    let commits: Vec<CommitRow> = sqlx::query_as(
                        "SELECT branch, version, author, message, created_at FROM commits
                         WHERE branch = $1 AND version < $2 ORDER BY version DESC LIMIT $3",
                    )
                    .bind(branch)
                    .bind(before.unwrap_or(i64::MAX))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| db_error("commits", e))?;
                    let (Some(newest), Some(oldest)) = (commits.first(), commits.last()) else { return Ok(vec![]) };
                    let changes: Vec<ChangeRow> = sqlx::query_as(
                        "SELECT commit_version, kind, id, change, fields FROM entity_versions
                         WHERE branch = $1 AND commit_version BETWEEN $2 AND $3",
                    )
                    .bind(branch)
                    .bind(oldest.version)
                    .bind(newest.version)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| db_error("commits", e))?;
                    assemble(commits, changes)
                }

                async fn set_protected(&self, branch: &str, protected: bool, audit: Option<&AuditEntry>) -> Result<()> {
                    let mut tx =
                        self.pool.begin_with($dialect.begin_write).await.map_err(|e| db_error("branches", e))?;
                    let r = sqlx::query("UPDATE branches SET protected = $1 WHERE name = $2")
                        .bind(protected)
                        .bind(branch)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| db_error("branches", e))?;
                    if r.rows_affected() == 0 {
                        return Err(Error::NotFound(format!("branch {branch}")));
                    }
                    if let Some(a) = audit {
                        insert_audit!(&mut *tx, a)?;
                    }
                    tx.commit().await.map_err(|e| db_error("branches", e))
                }

                async fn delete_branch(&self, branch: &str, audit: Option<&AuditEntry>) -> Result<()> {
                    let mut tx =
                        self.pool.begin_with($dialect.begin_write).await.map_err(|e| db_error("branches", e))?;
                    let forks = format!(
                        "SELECT name FROM branches WHERE parent = $1 ORDER BY name{}",
                        $dialect.lock_selected_rows
                    );
                    let children: Vec<String> = sqlx::query_scalar(&forks)
                        .bind(branch)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(|e| db_error("branches", e))?;
                    if !children.is_empty() {
                        return Err(Error::InUse { id: format!("branch {branch}"), dependents: children });
                    }
                    for sql in [
                        "DELETE FROM merges WHERE target = $1 OR source = $1",
                        "DELETE FROM checkpoint_chunks WHERE branch = $1",
                        "DELETE FROM checkpoints WHERE branch = $1",
                        "DELETE FROM entity_versions WHERE branch = $1",
                        "DELETE FROM commits WHERE branch = $1",
                        "DELETE FROM branches WHERE name = $1",
                    ] {
                        sqlx::query(sql).bind(branch).execute(&mut *tx).await.map_err(|e| db_error("branches", e))?;
                    }
                    if let Some(a) = audit {
                        insert_audit!(&mut *tx, a)?;
                    }
                    tx.commit().await.map_err(|e| db_error("branches", e))
                }

                async fn put_checkpoint(&self, cp: &$crate::store::NewCheckpoint<'_>) -> Result<bool> {
                    let what = format!("checkpoint of {}", cp.branch);
                    let mut tx = self.pool.begin_with($dialect.begin_write).await.map_err(|e| db_error(&what, e))?;
                    let newer: Option<i64> =
                        sqlx::query_scalar("SELECT MAX(version) FROM checkpoints WHERE branch = $1")
                            .bind(cp.branch)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(|e| db_error(&what, e))?;
                    if newer.is_some_and(|v| v >= cp.version) {
                        return Ok(false);
                    }
                    for sql in
                        ["DELETE FROM checkpoint_chunks WHERE branch = $1", "DELETE FROM checkpoints WHERE branch = $1"]
                    {
                        sqlx::query(sql).bind(cp.branch).execute(&mut *tx).await.map_err(|e| db_error(&what, e))?;
                    }
                    let chunks: Vec<&[u8]> = cp.data.chunks($crate::store::CHECKPOINT_CHUNK).collect();
                    sqlx::query(
                        "INSERT INTO checkpoints (branch, version, entities, bytes, chunks, digest, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(cp.branch)
                    .bind(cp.version)
                    .bind(cp.entities)
                    .bind(cp.data.len() as i64)
                    .bind(chunks.len() as i64)
                    .bind(&cp.digest)
                    .bind(cp.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error(&what, e))?;
                    for (seq, data) in chunks.into_iter().enumerate() {
                        sqlx::query(
                            "INSERT INTO checkpoint_chunks (branch, version, seq, data) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(cp.branch)
                        .bind(cp.version)
                        .bind(seq as i64)
                        .bind(data)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| db_error(&what, e))?;
                    }
                    tx.commit().await.map_err(|e| db_error(&what, e))?;
                    Ok(true)
                }

                async fn checkpoint(&self, branch: &str) -> Result<Option<$crate::store::Checkpoint>> {
                    let what = format!("checkpoint of {branch}");
                    // One transaction, so the record and its chunks are of one checkpoint.
                    let mut tx = self.pool.begin().await.map_err(|e| db_error(&what, e))?;
                    let found: Option<$crate::store::Checkpoint> =
                        sqlx::query_as("SELECT * FROM checkpoints WHERE branch = $1 ORDER BY version DESC LIMIT 1")
                            .bind(branch)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(|e| db_error(&what, e))?;
                    let Some(mut cp) = found else { return Ok(None) };
                    let mut chunks = sqlx::query_scalar::<_, Vec<u8>>(
                        "SELECT data FROM checkpoint_chunks WHERE branch = $1 AND version = $2 ORDER BY seq",
                    )
                    .bind(branch)
                    .bind(cp.version)
                    .fetch(&mut *tx);
                    let mut data = Vec::with_capacity(usize::try_from(cp.bytes).unwrap_or(0).min(256 << 20));
                    while let Some(chunk) = chunks.try_next().await.map_err(|e| db_error(&what, e))? {
                        data.extend_from_slice(&chunk);
                    }
                    drop(chunks);
                    tx.commit().await.map_err(|e| db_error(&what, e))?;
                    cp.data = data;
                    Ok(Some(cp))
                }

                async fn ping(&self) -> Result<()> {
                    sqlx::query("SELECT 1").execute(&self.pool).await.map_err(|e| db_error("ping", e))?;
                    Ok(())
                }
            }
        };
    };
}

pub(super) use implement_store;
