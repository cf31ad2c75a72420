//! Criterion benchmarks of the decision metrics on the embedded dataset: the full regional
//! recompute from the raw layers (spatial joins included) and its parts, the publication of
//! one plot's change (what a write runs after its commit), and the sobriety check of a proposed zone (in process; the HTTP
//! figure is in bench/proposal.sh).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ecofoncier::metrics::{self, commute, coverage, occupancy, premises, proposal, Metrics};
use ecofoncier::model::codes;
use ecofoncier::publish::Publisher;
use ecofoncier::read_model::{Change, ReadModel};
use ecofoncier::source::{embedded::default_data_dir, EmbeddedSource};
use geo::{LineString, MultiPolygon, Polygon};

fn model() -> ReadModel {
    let data = EmbeddedSource::new(default_data_dir())
        .load_sync()
        .expect("dataset");
    ReadModel::build(data).expect("read model")
}

fn bench(c: &mut Criterion) {
    let m = model();
    let year = metrics::DEFAULT_YEAR;
    let mut g = c.benchmark_group("recompute");
    g.sample_size(20);
    g.bench_function("all indicators, whole region", |b| {
        b.iter(|| black_box(Metrics::compute(&m, year)))
    });
    g.bench_function("occupancy (plot→site join)", |b| {
        b.iter(|| black_box(occupancy::OccupancyIndex::compute(&m, year)))
    });
    g.bench_function("commute table", |b| {
        b.iter(|| black_box(commute::CommuteTable::build(&m)))
    });
    let table = commute::CommuteTable::build(&m);
    g.bench_function("commute baselines", |b| {
        b.iter(|| black_box(commute::baselines(&m, &table)))
    });
    g.bench_function("tiers-lieux coverage", |b| {
        b.iter(|| black_box(coverage::coverage(&m, 10.0, None)))
    });
    g.bench_function("premises", |b| {
        b.iter(|| black_box(premises::premises(&m, year)))
    });
    g.finish();

    // What a write publishes: the next model, the metrics moved, the tiles dropped.
    let publisher = std::sync::Arc::new(Publisher::new(
        std::sync::Arc::new(m.clone()),
        std::sync::Arc::new(Metrics::compute(&m, year)),
    ));
    let i = m
        .terrains
        .iter()
        .find(|t| t.record.terr_etat_occup == codes::OCCUPE)
        .expect("an occupied plot")
        .slot;
    let original = m.terrains.get(i).to_feature();
    let mut vacant = original.clone();
    vacant.record.terr_etat_occup = codes::VACANT.into();
    vacant.record.terr_activite_fin_date = Some("2020-03-01".into());
    vacant.record.terr_inoccupe_date = Some("2020-03-01".into());
    let mut flip = false;
    let mut version = 1;
    c.bench_function(
        "incremental: one plot changes (model, metrics, tiles)",
        |b| {
            b.iter(|| {
                flip = !flip;
                version += 1;
                let f = if flip { &vacant } else { &original };
                black_box(
                    publisher
                        .apply(Change::Upsert(f.clone()), version, 0)
                        .unwrap(),
                )
            })
        },
    );

    // A 20 ha square west of Amiens.
    let (x, y) = ecofoncier::crs::lonlat_to_l93(2.22, 49.9).unwrap();
    let s = (200_000.0f64).sqrt();
    let area = MultiPolygon(vec![Polygon::new(
        LineString::from(vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)]),
        vec![],
    )]);
    let p = proposal::Proposal {
        area,
        jobs: Some(150),
        vocation: None,
        radius_km: proposal::DEFAULT_RADIUS_KM,
    };
    let metrics = Metrics::compute(&m, year);
    c.bench_function("sobriety check of a 20 ha zone (in process)", |b| {
        b.iter(|| black_box(proposal::check(&m, &metrics, &p)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
