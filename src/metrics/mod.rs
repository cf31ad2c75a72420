//! Decision metrics, all computed from the read model. Each metric has its own module with
//! its formula, unit and source in the doc comment of the function that computes it.
//!
//! [`Metrics::compute`] recomputes every indicator of the region from the raw layers
//! (spatial joins included); [`Metrics::replace_plot`] updates the occupancy figures of one
//! plot's site, EPCI and region incrementally.

pub mod commute;
pub mod coverage;
pub mod indicators;
pub mod land_take;
pub mod occupancy;
pub mod premises;
pub mod proposal;
pub mod search;
pub mod timeline;

use std::collections::HashMap;

use crate::model::Terrain;
use crate::read_model::ReadModel;

pub use indicators::EpciIndicators;

/// Default reference year of the legal vacancy test (1 January 2026).
pub const DEFAULT_YEAR: i32 = 2026;
/// Default tiers-lieux coverage radius, km.
pub const DEFAULT_COVERAGE_KM: f64 = 10.0;

/// What the zones of an EPCI hold.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ZoneCounts {
    pub sites: u32,
    pub etablissements: u32,
    pub emplois: u64,
}

/// Every indicator of the region, ready to serve.
#[derive(Clone, Debug)]
pub struct Metrics {
    pub year: i32,
    pub occupancy: occupancy::OccupancyIndex,
    pub zones_epci: HashMap<String, ZoneCounts>,
    pub zan_communes: HashMap<String, land_take::ZanBudget>,
    pub zan_epci: HashMap<String, land_take::ZanBudget>,
    pub zan_region: land_take::ZanBudget,
    pub commute: commute::CommuteTable,
    pub commute_epci: HashMap<String, commute::Baseline>,
    pub commute_region: commute::Baseline,
    pub coverage: coverage::Coverage,
    pub premises_communes: HashMap<String, premises::Premises>,
    pub premises_epci: HashMap<String, premises::Premises>,
    pub indicators: Vec<EpciIndicators>,
}

impl Metrics {
    /// Recomputes everything for reference year `year`. The two independent halves
    /// (zones and land take; commuting, coverage and premises) run on two threads.
    pub fn compute(model: &ReadModel, year: i32) -> Metrics {
        let ((occupancy, zones_epci, zan), (commute, baselines, coverage, prem)) =
            std::thread::scope(|s| {
                let a = s.spawn(|| {
                    let occupancy = occupancy::OccupancyIndex::compute(model, year);
                    let zones = zone_counts(model);
                    let zan = zan_all(model);
                    (occupancy, zones, zan)
                });
                let table = commute::CommuteTable::build(model);
                let baselines = commute::baselines(model, &table);
                let coverage = coverage::coverage(model, DEFAULT_COVERAGE_KM, None);
                let prem = premises::premises(model, year);
                let (occupancy, zones, zan) = a.join().expect("metrics thread panicked");
                ((occupancy, zones, zan), (table, baselines, coverage, prem))
            });
        let (zan_communes, zan_epci, zan_region) = zan;
        let mut m = Metrics {
            year,
            occupancy,
            zones_epci,
            zan_communes,
            zan_epci,
            zan_region,
            commute,
            commute_epci: baselines.0,
            commute_region: baselines.1,
            coverage,
            premises_communes: prem.0,
            premises_epci: prem.1,
            indicators: Vec::new(),
        };
        m.indicators = indicators::build(model, &m);
        m
    }

    /// Replaces plot `index` by `new` in the occupancy figures: its site, EPCI and region
    /// are updated by subtracting the old plot's contribution and adding the new one (O(1)),
    /// and the EPCI's row of the comparison table is refreshed.
    pub fn replace_plot(&mut self, model: &ReadModel, index: usize, new: &Terrain) {
        self.occupancy.replace_plot(model, index, new);
        if let Some(site) = self.occupancy.plot_site[index] {
            let e = model.joins.site_epci[site] as usize;
            let occ = self.occupancy.epci.get(e).cloned().unwrap_or_default();
            // Indicator rows are in the EPCI layer's order.
            if let Some(row) = self.indicators.get_mut(e) {
                row.surface_utile_ha = (occ.surf_utile_ha * 10.0).round() / 10.0;
                row.taux_occupation_pct = (occ.taux_occupation() * 1000.0).round() / 10.0;
                row.uf_nbre = occ.uf_nbre;
                row.uf_vacant_nbre = occ.uf_vacant_nbre;
                row.taux_vacance_legal = occ.taux_vacance();
                row.surface_en_vente_ha = (occ.surf_en_vente_ha * 10.0).round() / 10.0;
            }
        }
    }
}

fn zone_counts(model: &ReadModel) -> HashMap<String, ZoneCounts> {
    let mut per = vec![ZoneCounts::default(); model.epci.len()];
    for &e in &model.joins.site_epci {
        if let Some(z) = per.get_mut(e as usize) {
            z.sites += 1;
        }
    }
    for (f, &e) in model
        .etablissements
        .features()
        .iter()
        .zip(&model.joins.etab_epci)
    {
        if let Some(z) = per.get_mut(e as usize) {
            z.etablissements += 1;
            z.emplois += f.record.etab_emplois as u64;
        }
    }
    model
        .epci
        .features()
        .iter()
        .zip(per)
        .map(|(e, z)| (e.record.epci_siren.clone(), z))
        .collect()
}

type ZanAll = (
    HashMap<String, land_take::ZanBudget>,
    HashMap<String, land_take::ZanBudget>,
    land_take::ZanBudget,
);

/// ZAN budgets of every commune, every EPCI and the region: each commune's dense yearly
/// series from its rows, then sums of series and of communal allowances upwards.
fn zan_all(model: &ReadModel) -> ZanAll {
    use land_take::{budget_of, commune_allowance_m2, Series};
    let (mut first, mut last) = (i32::MAX, i32::MIN);
    for r in &model.land_take {
        first = first.min(r.annee);
        last = last.max(r.annee);
    }
    if first > last {
        return (
            HashMap::new(),
            HashMap::new(),
            land_take::ZanBudget::default(),
        );
    }
    let n = (last - first + 1) as usize;
    let mut communes = vec![Series::new(first, n); model.communes.len()];
    let mut has = vec![false; model.communes.len()];
    for (r, &c) in model.land_take.iter().zip(&model.joins.land_take_commune) {
        if let Some(s) = communes.get_mut(c as usize) {
            s.add_row(r);
            has[c as usize] = true;
        }
    }
    let mut epci = vec![(Series::new(first, n), 0.0); model.epci.len()];
    let mut region = (Series::new(first, n), 0.0);
    let mut out_communes = HashMap::new();
    for (ci, s) in communes.iter().enumerate() {
        if !has[ci] {
            continue;
        }
        let allowance = commune_allowance_m2(s);
        if let Some(e) = epci.get_mut(model.joins.commune_epci[ci] as usize) {
            e.0.add(s);
            e.1 += allowance;
        }
        region.0.add(s);
        region.1 += allowance;
        out_communes.insert(
            model.communes.get(ci).record.code_insee.clone(),
            budget_of(s, allowance),
        );
    }
    let out_epci = model
        .epci
        .features()
        .iter()
        .zip(&epci)
        .map(|(e, (s, a))| (e.record.epci_siren.clone(), budget_of(s, *a)))
        .collect();
    (out_communes, out_epci, budget_of(&region.0, region.1))
}
