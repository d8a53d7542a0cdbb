use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("the database was written by a newer Identity Inspector (schema {found}, this build knows {known})")]
    NewerSchema { found: i64, known: i64 },
    #[error("{0}")]
    ReadOnly(crate::ReadOnly),
    #[error(
        "the database has schema {found} and this build needs {known}; it cannot be upgraded in a read-only \
         data directory (copy the folder somewhere writable)"
    )]
    OlderSchemaReadOnly { found: i64, known: i64 },
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// A migration found the schema other than this build expects (edited by hand?).
    #[error("cannot upgrade the database: {0}")]
    Migration(String),
}
