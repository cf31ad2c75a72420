//! PostGIS, the system of record behind the read model: the schema and its migrations,
//! bulk imports by `COPY`, and loading the read model's dataset back.
//!
//! Tables carry the CNIG field names, so a row read with `to_jsonb()` deserializes into the
//! model's records as a GeoJSON feature's properties do; geometries travel as (E)WKB through
//! geozero. Every feature table has a `version` column: the feature's ETag.

pub mod binary;
pub mod copy;
pub mod follow;
pub mod import;
pub mod migrate;
pub mod source;
pub mod write;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use crate::model::{
    Commune, Epci, Etablissement, LocalCommercial, Pole, Record, Site, Terrain, TiersLieu,
};

pub use source::PostgisSource;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {}", db_message(.0))]
    Db(#[from] tokio_postgres::Error),
    #[error("DATABASE_URL: {0}")]
    Config(String),
    #[error("connection pool: {0}")]
    Pool(String),
    #[error("migration {0}: {1}")]
    Migration(String, String),
    #[error("table {table}, row {id}: {message}")]
    Row {
        table: &'static str,
        id: String,
        message: String,
    },
}

/// The server's own message when there is one (`db error` alone says nothing).
fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => match d.detail() {
            Some(detail) => format!("{} ({detail})", d.message()),
            None => d.message().to_string(),
        },
        None => e.to_string(),
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Pool(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Spatial reference of every stored geometry: Lambert-93.
pub const SRID: i32 = crate::crs::LAMBERT93_EPSG;

/// A record kept in a PostGIS table of the same field names.
pub trait Stored: Record {
    /// The table (the CNIG GeoPackage template's name for the standard's layers).
    const TABLE: &'static str;
    /// The key column, quoted when needed.
    const KEY: &'static str;
}

macro_rules! stored {
    ($($t:ty => $table:literal, $key:literal;)*) => {
        $(impl Stored for $t {
            const TABLE: &'static str = $table;
            const KEY: &'static str = $key;
        })*
    };
}

stored! {
    Epci => "epci", "epci_siren";
    Commune => "commune", "code_insee";
    Pole => "pole_eco", "pole_id";
    Site => "site_eco", "site_id";
    Terrain => "terrain_eco", "terr_id";
    Etablissement => "etablissement", "\"SIRET\"";
    LocalCommercial => "local_commercial", "local_id";
    TiersLieu => "tiers_lieu", "tl_id";
}

/// A connection pool on `url` (a libpq connection string or `postgres://` URL).
pub fn pool(url: &str, size: usize) -> StoreResult<Pool> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| StoreError::Config(e.to_string()))?;
    // A database that is down must fail a write quickly (503), not hang it.
    config.connect_timeout(std::time::Duration::from_secs(3));
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(std::time::Duration::from_secs(5)))
        .create_timeout(Some(std::time::Duration::from_secs(3)))
        .recycle_timeout(Some(std::time::Duration::from_secs(3)))
        .build()
        .map_err(|e| StoreError::Pool(e.to_string()))
}

/// One connection on `url`, its driver task spawned on the current runtime.
pub async fn connect(url: &str) -> StoreResult<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "database connection closed");
        }
    });
    Ok(client)
}
