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
}

/// Loads a source and indexes it, printing what was loaded and how long it took.
pub async fn load<S: Source>(source: &S) -> Result<ReadModel, StartupError> {
    let started = Instant::now();
    let data = source.load().await?;
    let read = started.elapsed();
    let model = ReadModel::build(data)?;
    println!(
        "loaded the read model from {}: read {:.0} ms, indexed {}",
        source.describe(),
        read.as_secs_f64() * 1e3,
        model.report
    );
    Ok(model)
}

/// Starts the HTTP server on an already bound listener; computes the metrics first.
pub fn run(
    model: Arc<ReadModel>,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<Server> {
    let started = Instant::now();
    let metrics = Arc::new(Metrics::compute(&model, crate::metrics::DEFAULT_YEAR));
    println!(
        "computed the metrics of {} EPCIs in {:.1} ms",
        metrics.indicators.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let state = web::Data::new(AppState::new(model, metrics));
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(api::configure)
            .default_service(web::to(api::not_found))
    });
    if let Some(n) = workers {
        server = server.workers(n.max(1));
    }
    Ok(server.listen(listener)?.run())
}

/// `ecofoncier serve`: loads the embedded dataset from `data` and serves it on `bind`.
pub fn serve(data: PathBuf, bind: SocketAddr, workers: Option<usize>) -> Result<(), String> {
    actix_web::rt::System::new()
        .block_on(async move {
            let model = Arc::new(load(&EmbeddedSource::new(data)).await?);
            let listener = TcpListener::bind(bind).map_err(|e| StartupError::Bind(bind, e))?;
            println!(
                "listening on http://{}",
                listener.local_addr().map_err(StartupError::Server)?
            );
            run(model, listener, workers)
                .map_err(StartupError::Server)?
                .await
                .map_err(StartupError::Server)
        })
        .map_err(|e: StartupError| e.to_string())
}
