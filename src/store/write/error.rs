//! Why a write did not happen.

use crate::store::StoreError;

/// Why a write did not happen. Nothing was written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("a bearer token is required (Authorization: Bearer …)")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("If-Match is required: send the feature's ETag to avoid overwriting a newer version")]
    PreconditionRequired,
    #[error("the feature changed since this ETag: its version is now {current}; read it again")]
    Stale { current: i64 },
    #[error("{0}")]
    NoneMatched(String),
    #[error("too many wrong secrets for this token: retry in {retry_after} s")]
    Throttled { retry_after: u64 },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("the database is unavailable ({0}); reads go on from memory, retry the write later")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<tokio_postgres::Error> for WriteError {
    fn from(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error() {
            let code = db.code().code();
            if code.starts_with("23") {
                return WriteError::Invalid {
                    field: db.column().unwrap_or("feature").to_string(),
                    message: db.message().to_string(),
                };
            }
            if code.starts_with("08") || code.starts_with("57") {
                return WriteError::Unavailable(db.message().to_string());
            }
            return WriteError::Internal(db.message().to_string());
        }
        WriteError::Unavailable(e.to_string())
    }
}

impl From<deadpool_postgres::PoolError> for WriteError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        WriteError::Unavailable(e.to_string())
    }
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(e) => e.into(),
            StoreError::Pool(m) | StoreError::Config(m) => WriteError::Unavailable(m),
            other => WriteError::Internal(other.to_string()),
        }
    }
}

pub type WriteResult<T> = Result<T, WriteError>;
