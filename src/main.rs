use std::process::ExitCode;

use clap::Parser;
use ecofoncier::cli::{Cli, Command, TokenAction};
use ecofoncier::source::embedded::default_data_dir;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs on stderr; a command's own output (a token, an import's report) stays on stdout.
    ecofoncier::telemetry::init_logs(match &cli.command {
        Command::Serve { log_format, .. } => *log_format,
        _ => ecofoncier::telemetry::LogFormat::Text,
    });
    let result = match cli.command {
        Command::Serve {
            data,
            bind,
            workers,
            feature_cache_mb,
            cors_origins,
            cors_write_origins,
            cache_max_age,
            database_url,
            connect_wait,
            ..
        } => ecofoncier::api::cors::Cors::parse(&cors_origins, &cors_write_origins)
            .map_err(|e| format!("--cors-origins / --cors-write-origins: {e}"))
            .and_then(|cors| {
                ecofoncier::startup::serve(
                    data.unwrap_or_else(default_data_dir),
                    bind,
                    ecofoncier::startup::Settings {
                        workers,
                        database_url,
                        feature_cache_bytes: feature_cache_mb << 20,
                        connect_wait: std::time::Duration::from_secs(connect_wait),
                        loaded_at: None,
                        cors,
                        cache: ecofoncier::api::encoding::CachePolicy {
                            max_age: cache_max_age,
                        },
                    },
                )
            }),
        Command::Token { action } => match action {
            TokenAction::Create {
                database_url,
                role,
                epci,
                label,
                expires,
            } => role.with_epci(epci).and_then(|role| {
                ecofoncier::startup::create_token(
                    &database_url,
                    &role,
                    label.as_deref(),
                    expires.map(|d| d.0),
                )
            }),
            TokenAction::List { database_url } => ecofoncier::startup::list_tokens(&database_url),
            TokenAction::Revoke { database_url, id } => {
                ecofoncier::startup::revoke_token(&database_url, id)
            }
        },
        Command::Migrate { database_url } => ecofoncier::startup::migrate(&database_url),
        Command::Import {
            database_url,
            embedded,
            data,
            insee_flows,
            cerema_land_take,
            cnig,
            admin_express,
            insee_density,
            anct_mediation,
        } => {
            use ecofoncier::startup::ImportJob;
            // Parents first: the territory, then its density, the inventories, the places.
            let mut jobs: Vec<ImportJob> = Vec::new();
            if !admin_express.is_empty() {
                jobs.push(ImportJob::AdminExpress(admin_express));
            }
            jobs.extend(insee_density.map(ImportJob::InseeDensity));
            jobs.extend(cnig.into_iter().map(ImportJob::Cnig));
            jobs.extend(anct_mediation.map(ImportJob::AnctMediation));
            jobs.extend(insee_flows.map(ImportJob::InseeFlows));
            jobs.extend(cerema_land_take.map(ImportJob::CeremaLandTake));
            if embedded {
                ecofoncier::startup::import_embedded(
                    &database_url,
                    &data.unwrap_or_else(default_data_dir),
                )
            } else if jobs.is_empty() {
                Err(
                    "nothing to import: say --embedded, --cnig FILE, --admin-express FILE, \
                     --insee-density FILE, --anct-mediation FILE, --insee-flows FILE or \
                     --cerema-land-take FILE"
                        .to_string(),
                )
            } else {
                jobs.iter()
                    .try_for_each(|job| ecofoncier::startup::import(&database_url, job))
            }
        }
        Command::Generate {
            seed,
            data,
            out,
            territory,
            registry,
            zones_scale,
        } => {
            let data = data.unwrap_or_else(default_data_dir);
            let out = out.unwrap_or_else(|| data.clone());
            let started = std::time::Instant::now();
            let done = match territory {
                Some(t) => {
                    let t = ecofoncier::generate::geography::Territory::parse(&t);
                    ecofoncier::generate::generate_territory(&t, &registry, &out, seed, zones_scale)
                        .map(|(g, s)| {
                            println!(
                                "geography of {}: {} communes, {} EPCIs ({} communes without \
                                 a boundary in the package)",
                                g.name,
                                g.communes.len(),
                                g.epci.len(),
                                g.missing.len()
                            );
                            s
                        })
                }
                None => ecofoncier::generate::generate(&data, &out, seed, zones_scale),
            };
            done.map(|s| {
                let parts: Vec<String> = s.counts.iter().map(|(n, c)| format!("{c} {n}")).collect();
                let c = &s.calibration;
                println!(
                    "generated (seed {}) in {:.1} s: {}",
                    s.seed,
                    started.elapsed().as_secs_f64(),
                    parts.join(", ")
                );
                println!(
                    "commuting: decay {:.2} km rural, {:.2} km urban, own commune ×{:.2}; \
                     rural median {:.1} km, {:.1} % leave their commune, {:.1} % their EPCI{}",
                    s.commute.beta_rural_km,
                    s.commute.beta_urban_km,
                    s.commute.kappa,
                    c.rural_median_km,
                    100.0 * c.leave_commune,
                    100.0 * c.leave_epci,
                    c.mel_leave
                        .map(|m| format!(", {:.1} % of the MEL's leave it", 100.0 * m))
                        .unwrap_or_default()
                );
            })
            .map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
