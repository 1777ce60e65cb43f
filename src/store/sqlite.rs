//! SQLite store: the embedded default. WAL journal with `synchronous=FULL`,
//! so an acknowledged commit survives a crash of the process or the host.
//! The SQL is shared (`sql.rs`); here are the connection and the dialect.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{SqliteConnection, SqlitePool};

use super::sql::{implement_store, Dialect};
use super::sql_access::implement_access;
use super::{db_error, NewCommit};
use crate::error::{Error, Result};

const SQLITE: Dialect = Dialect {
    // Stored as TEXT.
    body: "body",
    body_param_cast: "",
    // No row locks: a write transaction locks the whole database.
    lock_selected_rows: "",
    begin_write: "BEGIN IMMEDIATE",
    // 8,000 parameters per statement, under a quarter of the limit (4,095 rows would fit).
    insert_chunk: 1000,
    // SQLITE_MAX_VARIABLE_NUMBER's default since SQLite 3.32 (the bundled SQLite is 3.46).
    max_params: 32766,
};

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::bad_input("database-url", e.to_string()))?
            .create_if_missing(true)
            .journal_mode(if in_memory { SqliteJournalMode::Memory } else { SqliteJournalMode::Wal })
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        // An in-memory database lives as long as its one connection.
        let pool_opts = if in_memory {
            SqlitePoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(8)
        };
        let pool = pool_opts.connect_with(opts).await.map_err(|e| db_error("connect", e))?;
        sqlx::migrate!("schema/migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| Error::internal(anyhow::Error::new(e).context("sqlite migrations")))?;
        Ok(SqliteStore { pool })
    }
}

impl SqliteStore {
    /// A commit's entity rows: SQLite's bulk path is the prepared
    /// multi-row INSERT itself (in one transaction, no round trips).
    async fn write_rows(conn: &mut SqliteConnection, c: &NewCommit<'_>, version: i64, what: &str) -> Result<()> {
        Self::insert_rows(conn, c, version, what).await
    }
}

implement_store!(SqliteStore, SqliteConnection, SQLITE);
implement_access!(SqliteStore, SQLITE);
