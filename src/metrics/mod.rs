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

use serde::Serialize;

use crate::model::Terrain;
use crate::read_model::{IdIndex, ReadModel};

pub use indicators::EpciIndicators;

/// Default reference year of the legal vacancy test (1 January 2026).
pub const DEFAULT_YEAR: i32 = 2026;
/// Default tiers-lieux coverage radius, km.
pub const DEFAULT_COVERAGE_KM: f64 = 10.0;

/// Figures of the features of one layer (communes or EPCIs), in the layer's order, looked up
/// by code (INSEE code, SIREN) through the layer's own id map: computing them allocates no
/// key. A feature without figures (e.g. a commune without land-take rows) holds `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct PerCode<T> {
    ids: IdIndex,
    values: Vec<Option<T>>,
}

impl<T> PerCode<T> {
    /// `values[i]` belongs to the layer's feature `i`.
    pub fn new(ids: IdIndex, values: Vec<Option<T>>) -> Self {
        PerCode { ids, values }
    }

    /// Every feature has figures.
    pub fn full(ids: IdIndex, values: Vec<T>) -> Self {
        PerCode::new(ids, values.into_iter().map(Some).collect())
    }

    /// The figures of the feature with code `code`.
    pub fn get(&self, code: &str) -> Option<&T> {
        self.ids.get(code).and_then(|&i| self.at(i))
    }

    /// The figures of the layer's feature `index`.
    pub fn at(&self, index: usize) -> Option<&T> {
        self.values.get(index).and_then(Option::as_ref)
    }

    pub fn at_mut(&mut self, index: usize) -> Option<&mut T> {
        self.values.get_mut(index).and_then(Option::as_mut)
    }

    /// The figures present, in the layer's order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.values.iter().flatten()
    }
}

impl<T> std::ops::Index<&str> for PerCode<T> {
    type Output = T;
    /// Panics when `code` has no figures.
    fn index(&self, code: &str) -> &T {
        self.get(code)
            .unwrap_or_else(|| panic!("no figures for {code}"))
    }
}

/// A map from code to figures, in code order.
impl<T: Serialize> Serialize for PerCode<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&str, &T)> = self
            .ids
            .iter()
            .filter_map(|(code, &i)| self.at(i).map(|v| (code.as_str(), v)))
            .collect();
        entries.sort_unstable_by_key(|e| e.0);
        s.collect_map(entries)
    }
}

/// What the zones of an EPCI hold (sites, establishments and their jobs).
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
    pub zones_epci: PerCode<ZoneCounts>,
    pub zan_communes: PerCode<land_take::ZanBudget>,
    pub zan_epci: PerCode<land_take::ZanBudget>,
    pub zan_region: land_take::ZanBudget,
    pub commute: commute::CommuteTable,
    pub commute_epci: PerCode<commute::Baseline>,
    pub commute_region: commute::Baseline,
    pub coverage: coverage::Coverage,
    pub premises_communes: PerCode<premises::Premises>,
    pub premises_epci: PerCode<premises::Premises>,
    pub indicators: Vec<EpciIndicators>,
}

impl Metrics {
    /// Recomputes everything for reference year `year`, on two threads of about equal
    /// work: zones (occupancy with the plot→site join, zone counts) and land take on the
    /// calling thread, which then keeps what it allocated; commuting, coverage and premises
    /// on a second one.
    pub fn compute(model: &ReadModel, year: i32) -> Metrics {
        let ((occupancy, zones_epci, zan), (commute, baselines, coverage, prem)) =
            std::thread::scope(|s| {
                let b = s.spawn(|| {
                    let table = commute::CommuteTable::build(model);
                    let baselines = commute::baselines(model, &table);
                    let coverage = coverage::coverage(model, DEFAULT_COVERAGE_KM, None);
                    let prem = premises::premises(model, year);
                    (table, baselines, coverage, prem)
                });
                let occupancy = occupancy::OccupancyIndex::compute(model, year);
                let zones = zone_counts(model);
                let zan = zan_all(model);
                let rest = b.join().expect("metrics thread panicked");
                ((occupancy, zones, zan), rest)
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

pub fn zone_counts(model: &ReadModel) -> PerCode<ZoneCounts> {
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
            z.emplois += f.record.emplois() as u64;
        }
    }
    PerCode::full(model.epci.ids(), per)
}

pub type ZanAll = (
    PerCode<land_take::ZanBudget>,
    PerCode<land_take::ZanBudget>,
    land_take::ZanBudget,
);

/// ZAN budgets of every commune, every EPCI and the region: each commune's dense yearly
/// series from its rows (one buffer for all communes), then sums of series and of communal
/// allowances upwards.
pub fn zan_all(model: &ReadModel) -> ZanAll {
    use land_take::{add_row, add_years, budget_of, commune_allowance_m2, Series, Year};
    let (mut first, mut last) = (i32::MAX, i32::MIN);
    for r in model.land_take.iter() {
        first = first.min(r.annee);
        last = last.max(r.annee);
    }
    let nc = model.communes.len();
    if first > last {
        return (
            PerCode::new(model.communes.ids(), vec![None; nc]),
            PerCode::new(model.epci.ids(), vec![None; model.epci.len()]),
            land_take::ZanBudget::default(),
        );
    }
    let n = (last - first + 1) as usize;
    let mut flat: Vec<Year> = vec![[0.0; land_take::DESTINATIONS]; nc * n];
    let mut has = vec![false; nc];
    for (r, &c) in model.land_take.iter().zip(&model.joins.land_take_commune) {
        let c = c as usize;
        if c < nc {
            add_row(first, &mut flat[c * n..(c + 1) * n], r);
            has[c] = true;
        }
    }
    let ne = model.epci.len();
    let mut epci_flat: Vec<Year> = vec![[0.0; land_take::DESTINATIONS]; ne * n];
    let mut epci_allowance = vec![0.0; ne];
    let mut region = (Series::new(first, n), 0.0);
    let mut out_communes = Vec::with_capacity(nc);
    for (ci, values) in flat.chunks_exact(n).enumerate() {
        if !has[ci] {
            out_communes.push(None);
            continue;
        }
        let s = Series { first, values };
        let allowance = commune_allowance_m2(&s);
        let e = model.joins.commune_epci[ci] as usize;
        if e < ne {
            add_years(&mut epci_flat[e * n..(e + 1) * n], values);
            epci_allowance[e] += allowance;
        }
        region.0.add(&s);
        region.1 += allowance;
        out_communes.push(Some(budget_of(&s, allowance)));
    }
    let out_epci = epci_flat
        .chunks_exact(n)
        .zip(&epci_allowance)
        .map(|(values, &a)| budget_of(&Series { first, values }, a))
        .collect();
    (
        PerCode::new(model.communes.ids(), out_communes),
        PerCode::full(model.epci.ids(), out_epci),
        budget_of(&region.0, region.1),
    )
}
