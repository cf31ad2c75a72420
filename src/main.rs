use std::process::ExitCode;

use clap::Parser;
use ecofoncier::cli::{Cli, Command};
use ecofoncier::source::embedded::default_data_dir;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            data,
            bind,
            workers,
        } => ecofoncier::startup::serve(data.unwrap_or_else(default_data_dir), bind, workers),
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
