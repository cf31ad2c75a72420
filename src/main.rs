use std::process::ExitCode;

use clap::Parser;
use ecofoncier::cli::{Cli, Command, TokenAction};
use ecofoncier::source::embedded::default_data_dir;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            data,
            bind,
            workers,
            database_url,
        } => ecofoncier::startup::serve(
            data.unwrap_or_else(default_data_dir),
            database_url,
            bind,
            workers,
        ),
        Command::Token {
            action:
                TokenAction::Create {
                    database_url,
                    role,
                    epci,
                    label,
                },
        } => ecofoncier::startup::create_token(
            &database_url,
            &role,
            epci.as_deref(),
            label.as_deref(),
        ),
        Command::Migrate { database_url } => ecofoncier::startup::migrate(&database_url),
        Command::Import {
            database_url,
            embedded,
            data,
            insee_flows,
            cerema_land_take,
        } => {
            if embedded {
                ecofoncier::startup::import_embedded(
                    &database_url,
                    &data.unwrap_or_else(default_data_dir),
                )
            } else if let Some(f) = insee_flows {
                ecofoncier::startup::import_file(&database_url, "insee-flows", &f)
            } else if let Some(f) = cerema_land_take {
                ecofoncier::startup::import_file(&database_url, "cerema-land-take", &f)
            } else {
                Err(
                    "nothing to import: say --embedded, --insee-flows FILE or --cerema-land-take FILE"
                        .to_string(),
                )
            }
        }
        Command::Generate { seed, data, out } => {
            let data = data.unwrap_or_else(default_data_dir);
            let out = out.unwrap_or_else(|| data.clone());
            ecofoncier::generate::generate(&data, &out, seed)
                .map(|s| {
                    let parts: Vec<String> =
                        s.counts.iter().map(|(n, c)| format!("{c} {n}")).collect();
                    println!(
                        "generated (seed {}): {}; commuting decay β = {:.2} km",
                        s.seed,
                        parts.join(", "),
                        s.commute_beta_km
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
