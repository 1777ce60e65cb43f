//! PostgreSQL store, for production. The SQL is shared (`sql.rs`); here
//! are the connection and the dialect.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use super::db_error;
use super::sql::{implement_store, Dialect};
use super::sql_access::implement_access;
use crate::error::{Error, Result};

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

implement_store!(PgStore, POSTGRES);
implement_access!(PgStore, POSTGRES);
