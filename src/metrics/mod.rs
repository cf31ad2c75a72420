//! Decision metrics, all computed from the read model. Each metric has its own module with
//! its formula, unit and source in the doc comment of the function that computes it.
//!
//! [`Metrics::compute`] recomputes every indicator from the raw layers (spatial joins
//! included), over every core; [`Metrics::update`] follows one feature's change by moving
//! only the figures it adds to.

pub mod commute;
pub mod coverage;
pub mod finder;
pub mod indicators;
pub mod land_take;
pub mod occupancy;
pub mod premises;
pub mod proposal;
pub mod search;
pub mod territory;
pub mod timeline;

use std::sync::Arc;

use serde::Serialize;

use crate::model::TiersLieu;
use crate::read_model::{IdIndex, ReadModel, NONE};

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

    /// The figures of feature `index`, present or not, to set.
    pub fn slot_mut(&mut self, index: usize) -> &mut Option<T> {
        &mut self.values[index]
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

/// Every indicator, ready to serve. Clones share everything (`Arc`s and persistent
/// vectors): [`Metrics::update`] copies only what a change touches.
#[derive(Clone, Debug)]
pub struct Metrics {
    pub year: i32,
    pub occupancy: occupancy::OccupancyIndex,
    pub zones_epci: PerCode<ZoneCounts>,
    pub zan_communes: Arc<PerCode<land_take::ZanBudget>>,
    pub zan_epci: Arc<PerCode<land_take::ZanBudget>>,
    /// By region, in the order of the model's regions.
    pub zan_regions: Arc<Vec<land_take::ZanBudget>>,
    /// Of the whole dataset.
    pub zan_region: land_take::ZanBudget,
    pub commute: Arc<commute::CommuteTable>,
    pub commute_epci: Arc<PerCode<commute::Baseline>>,
    /// By region, in the order of the model's regions.
    pub commute_regions: Arc<Vec<commute::Baseline>>,
    /// Of the whole dataset.
    pub commute_region: commute::Baseline,
    pub coverage: Arc<coverage::Coverage>,
    pub premises_communes: Arc<PerCode<premises::Premises>>,
    pub premises_epci: PerCode<premises::Premises>,
    /// Tiers-lieux and France services sites by EPCI slot.
    pub services_epci: Vec<(u32, u32)>,
    /// The comparison table: one row per EPCI slot.
    pub indicators: Arc<Vec<EpciIndicators>>,
}

/// Which feature changed, by layer and slot (for [`Metrics::update`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touched {
    Site(usize),
    Terrain(usize),
    Etablissement(usize),
    LocalCommercial(usize),
    TiersLieu(usize),
    /// A layer no metric reads (pôles).
    Nothing,
}

impl Metrics {
    /// Recomputes everything for reference year `year`, each part on its own task and the
    /// plot→site join split over every core (rayon's pool).
    pub fn compute(model: &ReadModel, year: i32) -> Metrics {
        let ((occupancy, zones_epci), ((zan, (commute, baselines)), (coverage, (prem, services)))) =
            rayon::join(
                || {
                    rayon::join(
                        || occupancy::OccupancyIndex::compute(model, year),
                        || zone_counts(model),
                    )
                },
                || {
                    rayon::join(
                        || {
                            rayon::join(
                                || zan_all(model),
                                || {
                                    let table = commute::CommuteTable::build(model);
                                    let baselines = commute::baselines(model, &table);
                                    (table, baselines)
                                },
                            )
                        },
                        || {
                            rayon::join(
                                || coverage::coverage(model, DEFAULT_COVERAGE_KM, None),
                                || (premises::premises(model, year), services_epci(model)),
                            )
                        },
                    )
                },
            );
        let (zan_communes, zan_epci, zan_regions, zan_region) = zan;
        let mut m = Metrics {
            year,
            occupancy,
            zones_epci,
            zan_communes: Arc::new(zan_communes),
            zan_epci: Arc::new(zan_epci),
            zan_regions: Arc::new(zan_regions),
            zan_region,
            commute: Arc::new(commute),
            commute_epci: Arc::new(baselines.0),
            commute_regions: Arc::new(baselines.1),
            commute_region: baselines.2,
            coverage: Arc::new(coverage),
            premises_communes: Arc::new(prem.0),
            premises_epci: prem.1,
            services_epci: services,
            indicators: Arc::default(),
        };
        m.indicators = Arc::new(indicators::build(model, &m));
        m
    }

    /// The metrics of `new`, the model `old` with one feature changed (`touched`), from
    /// these metrics of `old`: every figure the feature adds to is moved by the difference
    /// (every figure is a sum over features; rates are derived on read), and the rows of
    /// the comparison table of the EPCIs it belonged to, before or after, are rebuilt. The
    /// result equals [`Metrics::compute`] on `new` (`tests/incremental.rs` checks it on
    /// random edits).
    ///
    /// - a plot: its site found again, its figures moved between EPCIs;
    /// - a site: the plots it held, those in its new outline and those naming it are placed
    ///   again; its zone count moves between EPCIs;
    /// - an establishment: zone counts and jobs; premises: their commune's and EPCI's
    ///   figures; a tiers-lieu: coverage ([`coverage::Coverage::replace_site`]) and the
    ///   EPCI's count of sites.
    pub fn update(&self, old: &ReadModel, new: &ReadModel, touched: Touched) -> Metrics {
        let mut m = self.clone();
        let mut epcis: Vec<u32> = Vec::new();
        match touched {
            Touched::Terrain(p) => {
                for (model, idx) in [(old, &self.occupancy), (new, &self.occupancy)] {
                    if let Some(&s) = idx.plot_site.try_get(p) {
                        if s != NONE {
                            epcis.push(model.joins.site_epci[s as usize]);
                        }
                    }
                }
                m.occupancy.replace_plots(old, new, &[p]);
                if let Some(&s) = m.occupancy.plot_site.try_get(p) {
                    if s != NONE {
                        epcis.push(new.joins.site_epci[s as usize]);
                    }
                }
            }
            Touched::Site(s) => {
                let mut plots: Vec<usize> = self.occupancy.plots_of(s).collect();
                if new.sites.is_live(s) {
                    let e = new.sites.envelope(s);
                    let env = rstar::AABB::from_corners([e[0], e[1]], [e[2], e[3]]);
                    plots.extend(new.terrains.in_envelope(&env));
                    let id = new.sites.record(s).site_id;
                    plots.extend(self.occupancy.orphans_of(id));
                }
                plots.sort_unstable();
                plots.dedup();
                for (model, sign) in [(old, -1i64), (new, 1)] {
                    if !model.sites.is_live(s) {
                        continue;
                    }
                    let e = model.joins.site_epci[s];
                    epcis.push(e);
                    if let Some(z) = m.zones_epci.at_mut(e as usize) {
                        z.sites = (z.sites as i64 + sign) as u32;
                    }
                }
                for p in &plots {
                    if let Some(&ps) = self.occupancy.plot_site.try_get(*p) {
                        if ps != NONE {
                            epcis.push(old.joins.site_epci[ps as usize]);
                        }
                    }
                }
                // The EPCI of a kept site may change: its plots' sums follow it first.
                if old.sites.is_live(s) && new.sites.is_live(s) {
                    let (from, to) = (old.joins.site_epci[s], new.joins.site_epci[s]);
                    if from != to {
                        m.occupancy.move_site(old, s, from, to);
                    }
                }
                m.occupancy
                    .replace_plots(&Self::with_site_joins(old, new, s), new, &plots);
                for &p in &plots {
                    if let Some(&ps) = m.occupancy.plot_site.try_get(p) {
                        if ps != NONE {
                            epcis.push(new.joins.site_epci[ps as usize]);
                        }
                    }
                }
            }
            Touched::Etablissement(e) => {
                for (model, sign) in [(old, -1i64), (new, 1)] {
                    if !model.etablissements.is_live(e) {
                        continue;
                    }
                    let epci = model.joins.etab_epci[e];
                    epcis.push(epci);
                    if let Some(z) = m.zones_epci.at_mut(epci as usize) {
                        z.etablissements = (z.etablissements as i64 + sign) as u32;
                        let jobs = model.etablissements.record(e).emplois() as i64;
                        z.emplois = (z.emplois as i64 + sign * jobs) as u64;
                    }
                }
            }
            Touched::LocalCommercial(l) => {
                premises::replace(
                    Arc::make_mut(&mut m.premises_communes),
                    &mut m.premises_epci,
                    old,
                    new,
                    l,
                    self.year,
                );
                for model in [old, new] {
                    if model.locaux.is_live(l) {
                        let c = model.joins.local_commune[l] as usize;
                        if let Some(&e) = model.joins.commune_epci.get(c) {
                            epcis.push(e);
                        }
                    }
                }
            }
            Touched::TiersLieu(t) => {
                let cov = Arc::make_mut(&mut m.coverage);
                let old_cov: Vec<bool> = cov.communes.iter().map(|c| c.couverte).collect();
                cov.replace_site(old, new, t);
                for (ci, c) in cov.communes.iter().enumerate() {
                    if c.couverte != old_cov[ci] {
                        epcis.push(new.joins.commune_epci[ci]);
                    }
                }
                for (model, sign) in [(old, -1i64), (new, 1)] {
                    if !model.tiers_lieux.is_live(t) {
                        continue;
                    }
                    let e = model
                        .epci_ids
                        .get(model.tiers_lieux.record(t).epci_siren.as_str())
                        .copied()
                        .unwrap_or(usize::MAX);
                    epcis.push(e as u32);
                    if let Some(c) = m.services_epci.get_mut(e) {
                        if model.tiers_lieux.record(t).tl_type == TiersLieu::FRANCE_SERVICES {
                            c.1 = (c.1 as i64 + sign) as u32;
                        } else {
                            c.0 = (c.0 as i64 + sign) as u32;
                        }
                    }
                }
            }
            Touched::Nothing => {}
        }
        epcis.sort_unstable();
        epcis.dedup();
        let fresh: Vec<(usize, EpciIndicators)> = epcis
            .into_iter()
            .map(|e| e as usize)
            .filter(|&e| e < m.indicators.len())
            .map(|e| (e, indicators::row(new, &m, e)))
            .collect();
        let rows = Arc::make_mut(&mut m.indicators);
        for (e, row) in fresh {
            rows[e] = row;
        }
        m
    }

    /// `old` with site `s`'s EPCI join as in `new`: the plots' old contributions are taken
    /// out where [`occupancy::OccupancyIndex::move_site`] already moved them.
    fn with_site_joins(old: &ReadModel, new: &ReadModel, s: usize) -> ReadModel {
        let mut m = old.clone();
        if old.sites.is_live(s) && new.sites.is_live(s) {
            m.joins.site_epci.set(s, new.joins.site_epci[s]);
        }
        m
    }
}

/// Tiers-lieux and France services sites by EPCI slot (by the site's `epci_siren`).
pub fn services_epci(model: &ReadModel) -> Vec<(u32, u32)> {
    let mut out = vec![(0, 0); model.epci.slots()];
    for t in model.tiers_lieux.iter() {
        if let Some(c) = model
            .epci_ids
            .get(t.record.epci_siren.as_str())
            .and_then(|&e| out.get_mut(e))
        {
            if t.record.tl_type == TiersLieu::FRANCE_SERVICES {
                c.1 += 1;
            } else {
                c.0 += 1;
            }
        }
    }
    out
}

pub fn zone_counts(model: &ReadModel) -> PerCode<ZoneCounts> {
    let mut per = vec![ZoneCounts::default(); model.epci.len()];
    for s in model.sites.live_slots() {
        if let Some(z) = per.get_mut(model.joins.site_epci[s] as usize) {
            z.sites += 1;
        }
    }
    for f in model.etablissements.iter() {
        if let Some(z) = per.get_mut(model.joins.etab_epci[f.slot] as usize) {
            z.etablissements += 1;
            z.emplois += f.record.emplois() as u64;
        }
    }
    PerCode::full(model.epci_ids.clone(), per)
}

pub type ZanAll = (
    PerCode<land_take::ZanBudget>,
    PerCode<land_take::ZanBudget>,
    Vec<land_take::ZanBudget>,
    land_take::ZanBudget,
);

/// ZAN budgets of every commune, every EPCI, every region (by index in the model's
/// regions) and the whole dataset: each commune's dense yearly series from its rows (one
/// buffer for all communes), then sums of series and of communal allowances upwards.
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
            PerCode::new(model.commune_ids.clone(), vec![None; nc]),
            PerCode::new(model.epci_ids.clone(), vec![None; model.epci.len()]),
            vec![land_take::ZanBudget::default(); model.regions.list.len()],
            land_take::ZanBudget::default(),
        );
    }
    let n = (last - first + 1) as usize;
    let mut flat: Vec<Year> = vec![[0.0; land_take::DESTINATIONS]; nc * n];
    let mut has = vec![false; nc];
    for (r, &c) in model
        .land_take
        .iter()
        .zip(model.joins.land_take_commune.iter())
    {
        let c = c as usize;
        if c < nc {
            add_row(first, &mut flat[c * n..(c + 1) * n], r);
            has[c] = true;
        }
    }
    let ne = model.epci.len();
    let mut epci_flat: Vec<Year> = vec![[0.0; land_take::DESTINATIONS]; ne * n];
    let mut epci_allowance = vec![0.0; ne];
    let nr = model.regions.list.len();
    let mut region_flat: Vec<Year> = vec![[0.0; land_take::DESTINATIONS]; nr * n];
    let mut region_allowance = vec![0.0; nr];
    let mut whole = (Series::new(first, n), 0.0);
    let mut out_communes = Vec::with_capacity(nc);
    for (ci, values) in flat.chunks_exact(n).enumerate() {
        let s = Series { first, values };
        // A commune without a recorded consumption still has the communal guarantee.
        let allowance = if has[ci] {
            commune_allowance_m2(&s)
        } else {
            land_take::COMMUNAL_GUARANTEE_M2
        };
        let e = model.joins.commune_epci[ci] as usize;
        if e < ne {
            add_years(&mut epci_flat[e * n..(e + 1) * n], values);
            epci_allowance[e] += allowance;
        }
        let r = model.regions.commune[ci] as usize;
        if r < nr {
            add_years(&mut region_flat[r * n..(r + 1) * n], values);
            region_allowance[r] += allowance;
        }
        whole.0.add(&s);
        whole.1 += allowance;
        out_communes.push(Some(budget_of(&s, allowance)));
    }
    let sums = |flat: &[Year], allowances: &[f64]| -> Vec<land_take::ZanBudget> {
        flat.chunks_exact(n)
            .zip(allowances)
            .map(|(values, &a)| budget_of(&Series { first, values }, a))
            .collect()
    };
    (
        PerCode::new(model.commune_ids.clone(), out_communes),
        PerCode::full(model.epci_ids.clone(), sums(&epci_flat, &epci_allowance)),
        sums(&region_flat, &region_allowance),
        budget_of(&whole.0, whole.1),
    )
}
