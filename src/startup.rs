//! Builds the read model and the HTTP server (zero2prod style: a listener in, a server out).

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};

use crate::api::{self, AppState};
use crate::metrics::Metrics;
use crate::read_model::ReadModel;
use crate::source::{EmbeddedSource, Source};
use crate::store::write::Role;
use crate::store::{self, PostgisSource};

/// Errors of startup.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("loading the data: {0}")]
    Source(#[from] crate::source::SourceError),
    #[error("indexing the data: {0}")]
    ReadModel(#[from] crate::read_model::ReadModelError),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("server: {0}")]
    Server(std::io::Error),
    #[error("PostGIS: {0}")]
    Store(crate::store::StoreError),
    #[error("PostGIS still unreachable after {0} s of trying (--connect-wait): {1}")]
    Unreachable(u64, String),
}

/// Loads a source and indexes it, printing what was loaded and how long it took.
pub async fn load<S: Source>(source: &S) -> Result<ReadModel, StartupError> {
    let started = Instant::now();
    let data = source.load().await?;
    let read = started.elapsed();
    let model = ReadModel::build(data)?;
    release_free_memory();
    tracing::info!(
        "loaded the read model from {}: read {:.0} ms, indexed {}",
        source.describe(),
        read.as_secs_f64() * 1e3,
        model.report
    );
    Ok(model)
}

/// How to serve: worker threads, the PostGIS store, the items' feature cache.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Worker threads (default: one per core).
    pub workers: Option<usize>,
    /// PostGIS (writes and followers), when the data lives there.
    pub database_url: Option<String>,
    /// Bytes of encoded features the items pages keep ([`api::FEATURE_CACHE_BYTES`]).
    pub feature_cache_bytes: usize,
    /// How long to keep trying to load from PostGIS at start when it is unreachable.
    pub connect_wait: std::time::Duration,
    /// When the served model began to load from PostGIS: the follower catches up on the
    /// writes committed since (default: when the server starts).
    pub loaded_at: Option<Instant>,
    /// Which origins may call the service from a browser.
    pub cors: api::cors::Cors,
    /// What shared caches may do with public answers.
    pub cache: api::encoding::CachePolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            workers: None,
            database_url: None,
            feature_cache_bytes: api::FEATURE_CACHE_BYTES,
            connect_wait: std::time::Duration::from_secs(60),
            loaded_at: None,
            cors: api::cors::Cors::default(),
            cache: api::encoding::CachePolicy::default(),
        }
    }
}

/// Gives the memory freed while loading back to the system: the layers are parsed into
/// temporary records and geometries, then copied into the model's compact buffers, and the
/// allocator would otherwise keep the freed pages for itself.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Starts the HTTP server on an already bound listener; computes the metrics first.
pub fn run(
    model: Arc<ReadModel>,
    listener: TcpListener,
    settings: Settings,
) -> Result<Server, StartupError> {
    let Settings {
        workers,
        database_url,
        feature_cache_bytes,
        loaded_at,
        cors,
        cache,
        ..
    } = settings;
    let started = Instant::now();
    let metrics = Arc::new(Metrics::compute(&model, crate::metrics::DEFAULT_YEAR));
    tracing::info!(
        "computed the metrics of {} EPCIs in {:.1} ms",
        metrics.indicators.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut state = AppState::new(model, metrics)
        .with_feature_cache(feature_cache_bytes)
        .with_edge(cors, cache);
    if let Some(url) = &database_url {
        state = state.with_store(store::write::Writer::new(url).map_err(StartupError::Store)?);
    }
    let following = Arc::new(store::follow::Following::default());
    if database_url.is_some() {
        state = state.with_following(Arc::clone(&following));
    }
    let state = web::Data::new(state);
    if let Some(url) = database_url {
        // Writes made by other instances reach this one through LISTEN/NOTIFY, and those
        // made since the load began through the audit table.
        actix_web::rt::spawn(store::follow::follow(
            url,
            Arc::clone(&state.publisher),
            following,
            loaded_at.unwrap_or(started),
        ));
    }
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            // HEAD is answered as GET; the HTTP layer sends the headers without the body.
            .wrap_fn(|mut req, srv| {
                use actix_web::dev::Service;
                if req.method() == actix_web::http::Method::HEAD {
                    req.head_mut().method = actix_web::http::Method::GET;
                }
                srv.call(req)
            })
            // Compression and caching headers on every answer, then cross-origin access.
            .wrap(actix_web::middleware::from_fn(api::encoding::encode))
            .wrap(actix_web::middleware::from_fn(api::cors::cors))
            // Outermost: every request gets its id, its log line and its count.
            .wrap(actix_web::middleware::from_fn(api::observe::observe))
            .configure(api::configure)
            .default_service(web::to(api::not_found))
    });
    if let Some(n) = workers {
        server = server.workers(n.max(1));
    }
    Ok(server.listen(listener).map_err(StartupError::Server)?.run())
}

/// Loads the read model from PostGIS, trying again while it cannot (PostGIS starting, a
/// network not up yet): after 1, 2, 4 … seconds, at most 15 s apart, for `wait` in all; then
/// the last error, said plainly.
async fn load_retrying(url: &str, wait: std::time::Duration) -> Result<ReadModel, StartupError> {
    let started = Instant::now();
    let mut delay = std::time::Duration::from_secs(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match load(&PostgisSource::new(url.to_string())).await {
            Ok(model) => return Ok(model),
            Err(StartupError::Source(e)) if started.elapsed() + delay <= wait => {
                tracing::warn!(
                    "PostGIS unreachable or not ready (attempt {attempt}: {e}); retrying in {} s",
                    delay.as_secs()
                );
                actix_web::rt::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(15));
            }
            Err(StartupError::Source(e)) => {
                return Err(StartupError::Unreachable(
                    started.elapsed().as_secs(),
                    e.to_string(),
                ))
            }
            Err(other) => return Err(other),
        }
    }
}

/// `ecofoncier serve`: loads the dataset (PostGIS at `database_url` when given, else the
/// embedded files of `data`) and serves it on `bind`.
pub fn serve(data: PathBuf, bind: SocketAddr, settings: Settings) -> Result<(), String> {
    actix_web::rt::System::new()
        .block_on(async move {
            let url = settings.database_url.clone().filter(|u| !u.is_empty());
            let loaded_at = Instant::now();
            let model = match &url {
                Some(url) => load_retrying(url, settings.connect_wait).await?,
                None => load(&EmbeddedSource::new(data)).await?,
            };
            let listener = TcpListener::bind(bind).map_err(|e| StartupError::Bind(bind, e))?;
            tracing::info!(
                "listening on http://{}",
                listener.local_addr().map_err(StartupError::Server)?
            );
            let settings = Settings {
                database_url: url,
                loaded_at: Some(loaded_at),
                ..settings
            };
            run(Arc::new(model), listener, settings)?
                .await
                .map_err(StartupError::Server)
        })
        .map_err(|e: StartupError| e.to_string())
}

/// `ecofoncier migrate`: applies the pending migrations.
pub fn migrate(database_url: &str) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async {
        let mut client = store::connect(database_url)
            .await
            .map_err(|e| e.to_string())?;
        let done = store::migrate::migrate(&mut client)
            .await
            .map_err(|e| e.to_string())?;
        if done.applied.is_empty() {
            println!(
                "schema up to date ({} migrations applied before)",
                done.already
            );
        } else {
            println!("applied {}", done.applied.join(", "));
        }
        Ok(())
    })
}

/// `ecofoncier import --embedded`: the whole embedded dataset into PostGIS.
pub fn import_embedded(database_url: &str, data: &std::path::Path) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async {
        let started = Instant::now();
        let dataset = EmbeddedSource::new(data)
            .load()
            .await
            .map_err(|e| e.to_string())?;
        let mut client = store::connect(database_url)
            .await
            .map_err(|e| e.to_string())?;
        let reports = store::import::import_dataset(&mut client, &dataset)
            .await
            .map_err(|e| e.to_string())?;
        for r in &reports {
            println!("{r}");
        }
        println!(
            "imported {} in {:.1} s",
            data.display(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    })
}

/// `ecofoncier token create`: prints a new bearer token once.
pub fn create_token(
    database_url: &str,
    role: &Role,
    label: Option<&str>,
    valid_for: Option<std::time::Duration>,
) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async {
        let client = store::connect(database_url)
            .await
            .map_err(|e| e.to_string())?;
        let token = store::write::create_token(&client, role, label, valid_for)
            .await
            .map_err(|e| e.to_string())?;
        println!("{token}");
        eprintln!("keep it: it is shown once; the database keeps only its hash");
        Ok(())
    })
}

/// `ecofoncier token list`: one line a token (id, role, EPCI, label, created, expires,
/// revoked), tab-separated, never a secret.
pub fn list_tokens(database_url: &str) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async {
        let client = store::connect(database_url)
            .await
            .map_err(|e| e.to_string())?;
        println!("id\trole\tepci\tlabel\tcreated\texpires\trevoked");
        for line in store::write::tokens::list_tokens(&client)
            .await
            .map_err(|e| e.to_string())?
        {
            println!("{line}");
        }
        Ok(())
    })
}

/// `ecofoncier token revoke ID`: every instance refuses the token from its next request.
pub fn revoke_token(database_url: &str, id: i64) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async {
        let client = store::connect(database_url)
            .await
            .map_err(|e| e.to_string())?;
        if store::write::tokens::revoke_token(&client, id)
            .await
            .map_err(|e| e.to_string())?
        {
            eprintln!("token {id} revoked");
            Ok(())
        } else {
            Err(format!(
                "no token {id} to revoke (unknown, or revoked already)"
            ))
        }
    })
}

/// One import of `ecofoncier import`. Jobs run in the order of this list: parents first
/// (the territory, then its density, the inventories, the places, the tables).
#[derive(Clone, Debug, PartialEq)]
pub enum ImportJob {
    /// IGN ADMIN EXPRESS communes and EPCIs, from one or more files read together.
    AdminExpress(Vec<PathBuf>),
    InseeDensity(PathBuf),
    /// A CNIG inventory: `;`-CSV (one table), GeoJSON or GeoPackage.
    Cnig(PathBuf),
    AnctMediation(PathBuf),
    InseeFlows(PathBuf),
    CeremaLandTake(PathBuf),
}

/// Runs one import job: one file, one transaction; rejected rows listed with their reason.
pub fn import(database_url: &str, job: &ImportJob) -> Result<(), String> {
    let path = match job {
        ImportJob::AdminExpress(files) => return import_admin_express(database_url, files),
        ImportJob::Cnig(path) => {
            let csv = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            if csv {
                return import_cnig_csv(database_url, path);
            }
            path
        }
        ImportJob::InseeDensity(path)
        | ImportJob::AnctMediation(path)
        | ImportJob::InseeFlows(path)
        | ImportJob::CeremaLandTake(path) => path,
    };
    let inventory = match job {
        ImportJob::Cnig(_) => Some(crate::formats::cnig::read_file(path)?),
        _ => None,
    };
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // INSEE files may come in Latin-1: names are not used, codes and counts are ASCII.
    let text = String::from_utf8_lossy(&bytes);
    actix_web::rt::System::new().block_on(async {
        let mut client = store::connect(database_url)
            .await
            .map_err(|e| e.to_string())?;
        let e = |e: store::StoreError| e.to_string();
        let reports = match job {
            ImportJob::AdminExpress(_) => unreachable!("imported above"),
            ImportJob::Cnig(_) => {
                let inv = inventory.expect("read above");
                store::import::import_inventory(&mut client, &inv)
                    .await
                    .map_err(e)?
            }
            ImportJob::InseeFlows(_) => {
                let (rows, rejected, notes) = crate::formats::open_data::insee_flows(&text)?;
                let mut r = store::import::import_flows(&mut client, &rows)
                    .await
                    .map_err(e)?;
                r.notes.extend(notes);
                vec![r.with_unreadable(rejected)]
            }
            ImportJob::InseeDensity(_) => {
                let (rows, rejected) = crate::formats::open_data::insee_density(&text)?;
                let r = store::import::import_density(&mut client, &rows)
                    .await
                    .map_err(e)?;
                vec![r.with_unreadable(rejected)]
            }
            ImportJob::AnctMediation(_) => {
                let (rows, rejected, skipped) = crate::formats::open_data::anct_mediation(&text)?;
                let r = store::import::import_mediation(&mut client, &rows)
                    .await
                    .map_err(e)?;
                println!("{skipped} places neither tiers-lieux nor France services: skipped");
                vec![r.with_unreadable(rejected)]
            }
            ImportJob::CeremaLandTake(_) => {
                let (rows, rejected) = crate::formats::open_data::cerema_land_take(&text)?;
                let r = store::import::import_land_take(&mut client, &rows)
                    .await
                    .map_err(e)?;
                vec![r.with_unreadable(rejected)]
            }
        };
        for mut report in reports {
            report.table = format!("{} ({})", report.table, path.display());
            println!("{report}");
        }
        Ok(())
    })
}

/// `ecofoncier import --cnig FILE.csv`: one table of the standard's `;`-CSV, read and copied
/// a record at a time (bounded memory), in one transaction.
fn import_cnig_csv(database_url: &str, path: &std::path::Path) -> Result<(), String> {
    let what = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{what}: {e}"))?;
    // About 400 bytes a row: enough for the progress bar.
    let rows_hint = file.metadata().map(|m| m.len() as usize / 400).unwrap_or(0);
    let input = std::io::BufReader::with_capacity(1 << 20, file);
    actix_web::rt::System::new().block_on(async {
        let mut client = store::connect(database_url)
            .await
            .map_err(|e| e.to_string())?;
        let reports = store::import::import_cnig_csv(&mut client, input, rows_hint)
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        for mut report in reports {
            report.table = format!("{} ({})", report.table, path.display());
            println!("{report}");
        }
        Ok(())
    })
}

/// `ecofoncier import --admin-express FILE…`: communes and EPCIs of any territory, all
/// files in one transaction.
pub fn import_admin_express(
    database_url: &str,
    files: &[std::path::PathBuf],
) -> Result<(), String> {
    let mut territory = crate::formats::admin_express::Territory::default();
    for f in files {
        crate::formats::admin_express::read(f, &mut territory)?;
    }
    actix_web::rt::System::new().block_on(async {
        let mut client = store::connect(database_url)
            .await
            .map_err(|e| e.to_string())?;
        let reports = store::import::import_territory(&mut client, &territory)
            .await
            .map_err(|e| e.to_string())?;
        for report in reports {
            println!("{report}");
        }
        Ok(())
    })
}
