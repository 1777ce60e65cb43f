//! The SQL of `Access` (tokens, audit log), written once for both
//! databases like `sql.rs` (see there why a macro).

/// The one audit INSERT, also used inside other transactions (an admin
/// action and its audit event commit together).
pub(super) const INSERT_AUDIT: &str = "INSERT INTO audit (at, principal, action, target, outcome, request_id, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Runs [`INSERT_AUDIT`] for `$entry` on `$executor`.
macro_rules! insert_audit {
    ($executor:expr, $entry:expr) => {{
        let e: &$crate::store::AuditEntry = $entry;
        sqlx::query($crate::store::sql_access::INSERT_AUDIT)
            .bind(e.at)
            .bind(&e.principal)
            .bind(&e.action)
            .bind(&e.target)
            .bind(&e.outcome)
            .bind(&e.request_id)
            .bind(&e.detail)
            .execute($executor)
            .await
            .map_err(|err| $crate::store::db_error("audit", err))
    }};
}

/// `impl Access for $store` from the shared SQL, with the `Dialect`
/// constant `$dialect`.
macro_rules! implement_access {
    ($store:ty, $dialect:ident) => {
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};

            use $crate::error::{Error, Result};
            use $crate::store::sql_access::insert_audit;
            use $crate::store::{db_error, Access, AuditEntry, AuditQuery, AuditRecord, NewToken, TokenRecord};

            #[derive(sqlx::FromRow)]
            struct TokenRow {
                id: String,
                name: String,
                secret_hash: String,
                role: String,
                branches: String,
                created_at: DateTime<Utc>,
                created_by: Option<String>,
                expires_at: Option<DateTime<Utc>>,
                revoked_at: Option<DateTime<Utc>>,
            }

            impl TryFrom<TokenRow> for TokenRecord {
                type Error = Error;
                fn try_from(r: TokenRow) -> Result<Self> {
                    let branches = serde_json::from_str(&r.branches)
                        .map_err(|_| Error::internal(anyhow::anyhow!("token {}: unreadable branches", r.name)))?;
                    Ok(TokenRecord {
                        id: r.id,
                        name: r.name,
                        secret_hash: r.secret_hash,
                        role: r.role,
                        branches,
                        created_at: r.created_at,
                        created_by: r.created_by,
                        expires_at: r.expires_at,
                        revoked_at: r.revoked_at,
                    })
                }
            }

            #[derive(sqlx::FromRow)]
            struct AuditRow {
                seq: i64,
                at: DateTime<Utc>,
                principal: String,
                action: String,
                target: Option<String>,
                outcome: String,
                request_id: Option<String>,
                detail: Option<String>,
            }

            const TOKEN_COLUMNS: &str =
                "id, name, secret_hash, role, branches, created_at, created_by, expires_at, revoked_at";

            #[async_trait]
            impl Access for $store {
                async fn tokens(&self) -> Result<Vec<TokenRecord>> {
                    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id");
                    let rows: Vec<TokenRow> =
                        sqlx::query_as(&sql).fetch_all(&self.pool).await.map_err(|e| db_error("tokens", e))?;
                    rows.into_iter().map(TryInto::try_into).collect()
                }

                async fn create_token(&self, t: &NewToken, audit: &AuditEntry) -> Result<TokenRecord> {
                    let what = format!("token {}", t.name);
                    let mut tx = self.pool.begin_with($dialect.begin_write).await.map_err(|e| db_error(&what, e))?;
                    let branches = serde_json::Value::from(t.branches.clone()).to_string();
                    let sql = format!(
                        "INSERT INTO tokens (id, name, secret_hash, role, branches, created_at, created_by, expires_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {TOKEN_COLUMNS}"
                    );
                    let row: TokenRow = sqlx::query_as(&sql)
                        .bind(&t.id)
                        .bind(&t.name)
                        .bind(&t.secret_hash)
                        .bind(&t.role)
                        .bind(branches)
                        .bind(t.created_at)
                        .bind(&t.created_by)
                        .bind(t.expires_at)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| db_error(&what, e))?;
                    insert_audit!(&mut *tx, audit)?;
                    tx.commit().await.map_err(|e| db_error(&what, e))?;
                    row.try_into()
                }

                async fn revoke_token(&self, name: &str, at: DateTime<Utc>, audit: &AuditEntry) -> Result<TokenRecord> {
                    let what = format!("token {name}");
                    let mut tx = self.pool.begin_with($dialect.begin_write).await.map_err(|e| db_error(&what, e))?;
                    let sql = format!(
                        "UPDATE tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL
                         RETURNING {TOKEN_COLUMNS}"
                    );
                    let row: Option<TokenRow> = sqlx::query_as(&sql)
                        .bind(at)
                        .bind(name)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(|e| db_error(&what, e))?;
                    let Some(row) = row else { return Err(Error::NotFound(what)) };
                    insert_audit!(&mut *tx, audit)?;
                    tx.commit().await.map_err(|e| db_error(&what, e))?;
                    row.try_into()
                }

                async fn append_audit(&self, entries: &[AuditEntry]) -> Result<()> {
                    let mut tx = self.pool.begin_with($dialect.begin_write).await.map_err(|e| db_error("audit", e))?;
                    for e in entries {
                        insert_audit!(&mut *tx, e)?;
                    }
                    tx.commit().await.map_err(|e| db_error("audit", e))
                }

                async fn audit_log(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
                    let rows: Vec<AuditRow> = sqlx::query_as(
                        "SELECT seq, at, principal, action, target, outcome, request_id, detail FROM audit
                         WHERE seq < $1 AND ($2 IS NULL OR principal = $2) AND ($3 IS NULL OR action = $3)
                         ORDER BY seq DESC LIMIT $4",
                    )
                    .bind(q.before.unwrap_or(i64::MAX))
                    .bind(&q.principal)
                    .bind(&q.action)
                    .bind(q.limit)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| db_error("audit", e))?;
                    Ok(rows
                        .into_iter()
                        .map(|r| AuditRecord {
                            seq: r.seq,
                            entry: AuditEntry {
                                at: r.at,
                                principal: r.principal,
                                action: r.action,
                                target: r.target,
                                outcome: r.outcome,
                                request_id: r.request_id,
                                detail: r.detail,
                            },
                        })
                        .collect())
                }
            }
        };
    };
}

pub(super) use {implement_access, insert_audit};
