//! Times the full recompute of every metric on a data folder (median of several runs) and
//! its parts, and what a write publishes (the next model and the metrics moved), in
//! process. `cargo run --release --example recompute -- DIR [RUNS]`.
use std::time::Instant;

use ecofoncier::metrics::{commute, coverage, occupancy, premises, Metrics, DEFAULT_YEAR};
use ecofoncier::read_model::{Change, ReadModel};
use ecofoncier::source::EmbeddedSource;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dir = std::env::args().nth(1).expect("a data folder");
    let runs: usize = std::env::args()
        .nth(2)
        .and_then(|r| r.parse().ok())
        .unwrap_or(9);
    let t = Instant::now();
    let data = EmbeddedSource::new(&dir).load_sync().expect("dataset");
    let read = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let m = ReadModel::build(data).expect("read model");
    let index = t.elapsed().as_secs_f64() * 1e3;
    let time = |f: &dyn Fn()| {
        median(
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect(),
        )
    };
    let all = time(&|| {
        std::hint::black_box(Metrics::compute(&m, DEFAULT_YEAR));
    });
    let occ = time(&|| {
        std::hint::black_box(occupancy::OccupancyIndex::compute(&m, DEFAULT_YEAR));
    });
    let com = time(&|| {
        let t = commute::CommuteTable::build(&m);
        std::hint::black_box(commute::baselines(&m, &t));
    });
    let cov = time(&|| {
        std::hint::black_box(coverage::coverage(&m, 10.0, None));
    });
    let zan = time(&|| {
        std::hint::black_box(ecofoncier::metrics::zan_all(&m));
    });
    let prem = time(&|| {
        std::hint::black_box(premises::premises(&m, DEFAULT_YEAR));
    });
    println!(
        "{} plots, {} establishments, {} flows on {} threads: read {read:.0} ms, index {index:.0} ms; \
         full recompute median {all:.1} ms (occupancy with the plot→site join {occ:.1}, commuting \
         {com:.1}, coverage {cov:.1}, land take {zan:.1}, premises {prem:.1})",
        m.terrains.len(),
        m.etablissements.len(),
        m.flows.len(),
        rayon::current_num_threads()
    );
    // What a write publishes after its commit: one plot flips state.
    let x = Metrics::compute(&m, DEFAULT_YEAR);
    let mut lat = Vec::new();
    let mut model = m.clone();
    let mut metrics = x;
    for k in 0..200 {
        let s = model
            .terrains
            .nth_live((k * 7_919) % model.terrains.len())
            .unwrap();
        let mut f = model.terrains.get(s).to_feature();
        f.record.terr_etat_occup = if k % 2 == 0 { "vacant" } else { "occupé" }.into();
        let t = Instant::now();
        let (next, changed) = model.with_change(Change::Upsert(f), 2).unwrap();
        let y = metrics.update(
            &model,
            &next,
            ecofoncier::metrics::Touched::Terrain(changed.slot.unwrap()),
        );
        lat.push(t.elapsed().as_secs_f64() * 1e6);
        model = next;
        metrics = y;
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "one plot's change published in process: p50 {:.0} µs, p99 {:.0} µs",
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100]
    );
}
