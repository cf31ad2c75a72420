//! Loads the embedded dataset and recomputes every metric a few times, for profilers
//! (`valgrind --tool=callgrind --toggle-collect='*Metrics*compute*'`).
use ecofoncier::metrics::{Metrics, DEFAULT_YEAR};
use ecofoncier::read_model::ReadModel;
use ecofoncier::source::{embedded::default_data_dir, EmbeddedSource};

fn main() {
    let data = EmbeddedSource::new(default_data_dir())
        .load_sync()
        .expect("dataset");
    let model = ReadModel::build(data).expect("read model");
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let m = Metrics::compute(&model, DEFAULT_YEAR);
        println!(
            "{} EPCIs in {:.1} ms",
            m.indicators.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}
