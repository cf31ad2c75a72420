//! Renders the EPCI overview of the embedded dataset (the web map's first paint) and prints
//! its size and the time taken, median of 20: the figures of the PNG encoder in
//! BENCHMARKS.md.
//!
//! `cargo run --release --example overview_png`

use std::time::Instant;

use ecofoncier::read_model::ReadModel;
use ecofoncier::source::{embedded::default_data_dir, EmbeddedSource};
use ecofoncier::tiles::overview;

fn main() {
    let data = EmbeddedSource::new(default_data_dir()).load_sync().unwrap();
    let m = ReadModel::build(data).unwrap();
    let geometries: Vec<_> = m.epci.iter().map(|e| e.geometry()).collect();
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let o = overview::render(&geometries, |i| i % 2 == 0).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        bytes = o.png.len();
    }
    times.sort_by(f64::total_cmp);
    println!("overview: {bytes} bytes, median {:.1} ms", times[10]);
}
