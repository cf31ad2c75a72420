//! Loads the embedded dataset and recomputes every metric a few times, for profilers
//! (`valgrind --tool=callgrind --toggle-collect='*Metrics*compute*'`), timing the parts.
use std::time::Instant;

use ecofoncier::metrics::occupancy::{assign_site, OccupancyIndex, PlotFigures};
use ecofoncier::metrics::{Metrics, DEFAULT_YEAR};
use ecofoncier::read_model::ReadModel;
use ecofoncier::source::{embedded::default_data_dir, EmbeddedSource};

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let data = EmbeddedSource::new(default_data_dir())
        .load_sync()
        .expect("dataset");
    let model = ReadModel::build(data).expect("read model");
    for _ in 0..3 {
        let t = Instant::now();
        let m = Metrics::compute(&model, DEFAULT_YEAR);
        let all = ms(t);
        let t = Instant::now();
        let n = model
            .terrains
            .live_slots()
            .filter(|&p| {
                let c = model.terrains.shape(p).centroid();
                assign_site(&model.sites, model.terrains.record(p), c)
                    .0
                    .is_some()
            })
            .count();
        let join = ms(t);
        let t = Instant::now();
        let v = model
            .plot_facts
            .iter()
            .filter(|p| PlotFigures::from_facts(p, DEFAULT_YEAR).legally_vacant)
            .count();
        let figures = ms(t);
        let t = Instant::now();
        let o = OccupancyIndex::compute(&model, DEFAULT_YEAR);
        let occ = ms(t);
        let t = Instant::now();
        let table = ecofoncier::metrics::commute::CommuteTable::build(&model);
        let _ = ecofoncier::metrics::commute::baselines(&model, &table);
        let commute = ms(t);
        let t = Instant::now();
        let _ = ecofoncier::metrics::coverage::coverage(&model, 10.0, None);
        let coverage = ms(t);
        let t = Instant::now();
        let _ = ecofoncier::metrics::premises::premises(&model, DEFAULT_YEAR);
        let premises = ms(t);
        println!("commute {commute:.1} ms, coverage {coverage:.1} ms, premises {premises:.1} ms");
        println!(
            "{} EPCIs: all {all:.1} ms; plot→site join {join:.1} ms ({n}); plot figures {figures:.1} ms ({v}); occupancy {occ:.1} ms ({})",
            m.indicators.len(),
            o.region.uf_nbre
        );
    }
}
