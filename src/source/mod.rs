//! Where the read model's data comes from. Every source yields one [`Dataset`] behind the
//! [`Source`] trait: the embedded files of `data/` now; PostGIS behind the same trait.

pub mod embedded;

use std::path::PathBuf;

pub use crate::model::Dataset;

pub use embedded::EmbeddedSource;

/// Errors of the sources.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: invalid GeoJSON: {message}")]
    GeoJson { path: PathBuf, message: String },
    #[error("{path}: feature {index}: {message}")]
    Feature {
        path: PathBuf,
        index: usize,
        message: String,
    },
    #[error("database: {0}")]
    Database(String),
    #[error("{path}: line {line}: {message}")]
    Csv {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

pub type SourceResult<T> = Result<T, SourceError>;

/// A loader of the whole dataset.
pub trait Source {
    /// What the source is, for the startup message.
    fn describe(&self) -> String;
    /// Loads every layer and table.
    fn load(&self) -> impl std::future::Future<Output = SourceResult<Dataset>> + Send;
}
