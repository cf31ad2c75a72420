//! Occupancy and the legal vacancy rate of business zones, per site, EPCI and region, kept
//! incrementally.
//!
//! Every figure is a sum over plots (unités foncières), so a plot's contribution can be taken
//! out and put back: changing one plot touches its EPCI and the region, in constant time
//! ([`OccupancyIndex::replace_plots`]). Rates are derived from the sums on read.

use std::collections::BTreeMap;
use std::sync::Arc;

use geo::{Contains, Coord, Point};
use rayon::prelude::*;
use serde::Serialize;

use crate::model::codes::{self, CodeList, EtatList, StadeList};
use crate::model::{Site, Str, Terrain};
use crate::read_model::pvec::CHUNK;
use crate::read_model::rings::shape_contains;
use crate::read_model::{Layer, PVec, PlotFacts, ReadModel, M2_PER_HA, NONE};

/// Additive occupancy figures of a set of plots. Surfaces in hectares.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Occupancy {
    /// Units (unités foncières) of the zone(s): `site_uf_nbre`.
    pub uf_nbre: u32,
    /// Units legally vacant at 1 January of the reference year: `site_uf_vacant_nbre`.
    pub uf_vacant_nbre: u32,
    /// Gross surface of the units, ha.
    pub surf_brute_ha: f64,
    /// Useful surface: units with `terr_utile = oui`, ha (`site_surf_utile`).
    pub surf_utile_ha: f64,
    /// Useful surface occupied (`terr_etat_occup = occupé`), ha.
    pub surf_occupee_ha: f64,
    /// Surface for sale now (`en vente`, `en vente avec contraintes`), ha.
    pub surf_en_vente_ha: f64,
    /// Units and hectares by `terr_etat_occup`.
    pub par_etat_occup: Breakdown<EtatList>,
    /// Units and hectares by `terr_stade_comm`.
    pub par_stade_comm: Breakdown<StadeList>,
}

/// Units and hectares by value of a code list; serialized as a map of the non-empty values.
/// A fixed array: figures for thousands of sites are made without allocating.
#[derive(Clone, Debug, PartialEq)]
pub struct Breakdown<L> {
    pub slots: [CountHa; codes::MAX_CODES],
    list: std::marker::PhantomData<L>,
}

impl<L: CodeList> Default for Breakdown<L> {
    fn default() -> Self {
        debug_assert!(L::size() <= codes::MAX_CODES);
        Breakdown {
            slots: [CountHa::default(); codes::MAX_CODES],
            list: std::marker::PhantomData,
        }
    }
}

impl<L: CodeList> Breakdown<L> {
    /// Units and hectares of one value.
    pub fn get(&self, value: &str) -> CountHa {
        self.slots[L::index(value)]
    }
}

impl<L: CodeList> Serialize for Breakdown<L> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        for (i, c) in self.slots.iter().enumerate().take(L::size()) {
            if c.nombre > 0 {
                m.serialize_entry(L::label(i), c)?;
            }
        }
        m.end()
    }
}

/// A count of units and their surface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct CountHa {
    pub nombre: u32,
    pub ha: f64,
}

impl Occupancy {
    /// The legal vacancy rate as the CNIG standard stores it (`site_taux_vacance`): an
    /// integer percentage, round(100 × vacant units / all units), L318-8-2 of the Code de
    /// l'urbanisme. The standard's example: 15 units, 2 vacant → 13.
    pub fn taux_vacance(&self) -> u32 {
        if self.uf_nbre == 0 {
            0
        } else {
            (100.0 * self.uf_vacant_nbre as f64 / self.uf_nbre as f64).round() as u32
        }
    }

    /// Occupancy by area: occupied useful hectares / useful hectares (0–1).
    pub fn taux_occupation(&self) -> f64 {
        if self.surf_utile_ha > 0.0 {
            self.surf_occupee_ha / self.surf_utile_ha
        } else {
            0.0
        }
    }

    /// Adds the figures of another set of plots `o` (a region's: the sum of its EPCIs').
    pub fn add(&mut self, o: &Occupancy) {
        self.uf_nbre += o.uf_nbre;
        self.uf_vacant_nbre += o.uf_vacant_nbre;
        self.surf_brute_ha += o.surf_brute_ha;
        self.surf_utile_ha += o.surf_utile_ha;
        self.surf_occupee_ha += o.surf_occupee_ha;
        self.surf_en_vente_ha += o.surf_en_vente_ha;
        for (a, b) in self
            .par_etat_occup
            .slots
            .iter_mut()
            .zip(&o.par_etat_occup.slots)
            .chain(
                self.par_stade_comm
                    .slots
                    .iter_mut()
                    .zip(&o.par_stade_comm.slots),
            )
        {
            a.nombre += b.nombre;
            a.ha += b.ha;
        }
    }

    fn apply(&mut self, p: &PlotFigures, sign: f64) {
        let s = sign as i64;
        let add = |v: &mut u32, d: u32| *v = (*v as i64 + s * d as i64).max(0) as u32;
        add(&mut self.uf_nbre, 1);
        add(&mut self.uf_vacant_nbre, p.legally_vacant as u32);
        self.surf_brute_ha += sign * p.ha;
        if p.useful {
            self.surf_utile_ha += sign * p.ha;
            if p.occupied {
                self.surf_occupee_ha += sign * p.ha;
            }
        }
        if p.for_sale {
            self.surf_en_vente_ha += sign * p.ha;
        }
        for e in [
            &mut self.par_etat_occup.slots[p.etat as usize],
            &mut self.par_stade_comm.slots[p.stade as usize],
        ] {
            add(&mut e.nombre, 1);
            e.ha += sign * p.ha;
        }
    }

    /// Adds the figures of another set of plots.
    pub fn merge(&mut self, o: &Occupancy) {
        self.uf_nbre += o.uf_nbre;
        self.uf_vacant_nbre += o.uf_vacant_nbre;
        self.surf_brute_ha += o.surf_brute_ha;
        self.surf_utile_ha += o.surf_utile_ha;
        self.surf_occupee_ha += o.surf_occupee_ha;
        self.surf_en_vente_ha += o.surf_en_vente_ha;
        let pairs = (self.par_etat_occup.slots.iter_mut()).zip(&o.par_etat_occup.slots);
        let more = (self.par_stade_comm.slots.iter_mut()).zip(&o.par_stade_comm.slots);
        for (a, b) in pairs.chain(more) {
            a.nombre += b.nombre;
            a.ha += b.ha;
        }
    }

    /// Rounds the surfaces to the m² for display (sums of many floats drift).
    pub fn rounded(&self) -> Occupancy {
        let r = |v: f64| (v * M2_PER_HA).round() / M2_PER_HA;
        let mut o = self.clone();
        o.surf_brute_ha = r(o.surf_brute_ha);
        o.surf_utile_ha = r(o.surf_utile_ha);
        o.surf_occupee_ha = r(o.surf_occupee_ha);
        o.surf_en_vente_ha = r(o.surf_en_vente_ha);
        for v in o
            .par_etat_occup
            .slots
            .iter_mut()
            .chain(o.par_stade_comm.slots.iter_mut())
        {
            v.ha = r(v.ha);
        }
        o
    }
}

const OCCUPE_I: u8 = codes::position(codes::TERR_ETAT_OCCUP, codes::OCCUPE) as u8;
const EN_VENTE_I: u8 = codes::position(codes::TERR_STADE_COMM, codes::EN_VENTE) as u8;
const EN_VENTE_CONTRAINTES_I: u8 =
    codes::position(codes::TERR_STADE_COMM, codes::EN_VENTE_CONTRAINTES) as u8;

/// What one plot adds to its zone's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotFigures {
    pub ha: f64,
    pub useful: bool,
    pub occupied: bool,
    pub legally_vacant: bool,
    pub for_sale: bool,
    /// Index of `terr_etat_occup` in [`EtatList`].
    pub etat: u8,
    /// Index of `terr_stade_comm` in [`StadeList`].
    pub stade: u8,
}

impl PlotFigures {
    /// A plot's figures for reference year `year`, from its typed facts (see [`PlotFacts`]):
    /// the test of [`Terrain::is_legally_vacant`] on dates parsed once.
    pub fn from_facts(f: &PlotFacts, year: i32) -> PlotFigures {
        let limit = crate::date::Date::jan1(year - 2).to_days();
        let occupied = f.etat == OCCUPE_I;
        PlotFigures {
            ha: f.ha,
            useful: f.useful,
            occupied,
            legally_vacant: !occupied && f.activite_fin <= limit && f.inoccupe <= limit,
            for_sale: f.stade == EN_VENTE_I || f.stade == EN_VENTE_CONTRAINTES_I,
            etat: f.etat,
            stade: f.stade,
        }
    }
}

pub use crate::read_model::rings::contains_point;

/// A plot whose `site_id` and geometry disagree.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mismatch {
    pub terr_id: Str,
    /// The site the attribute names (absent or unknown ids included).
    pub site_id_attribut: Option<Str>,
    /// The site whose outline contains the plot's centroid, if any.
    pub site_id_geometrie: Option<Str>,
}

/// The site a plot belongs to: its `site_id` when it names a known site, else the site
/// containing its centroid (R-tree). Reports a mismatch when the plot has a `site_id` that
/// names another site than the one containing it (or no known site).
pub fn assign_site(
    sites: &Layer<Site>,
    plot: &Terrain,
    centroid: Option<Coord<f64>>,
) -> (Option<usize>, Option<Mismatch>) {
    let by_attr = plot.site_id.as_deref().and_then(|id| sites.index_of(id));
    let Some(c) = centroid.map(Point) else {
        return (by_attr, None);
    };
    // The common case costs one point-in-polygon test: the named site holds the plot.
    if let Some(i) = by_attr {
        if sites.geometry(i).contains(&c) {
            return (Some(i), None);
        }
    }
    let by_geom = sites
        .at_point(c.x(), c.y())
        .into_iter()
        .find(|&i| sites.geometry(i).contains(&c));
    // Only an attribute can disagree: a plot without `site_id` is simply placed.
    let mismatch = (plot.site_id.is_some() && by_attr != by_geom).then(|| Mismatch {
        terr_id: plot.terr_id,
        site_id_attribut: plot.site_id,
        site_id_geometrie: by_geom.map(|i| sites.record(i).site_id),
    });
    (by_attr.or(by_geom), mismatch)
}

/// The site of live plot `p` of `model` and the mismatch it makes, if any: the named site
/// when it holds the plot's centroid (one point-in-ring test on the stored rings), else
/// [`assign_site`].
fn site_of(model: &ReadModel, p: usize) -> (Option<usize>, Option<Mismatch>) {
    let facts = &model.plot_facts[p];
    let named = model.joins.terrain_site[p];
    if named != NONE
        && model.sites.is_live(named as usize)
        && shape_contains(model.sites.shape(named as usize), facts.centroid)
    {
        return (Some(named as usize), None);
    }
    let c = facts.centroid;
    let centroid = (!c.0.is_nan()).then_some(Coord { x: c.0, y: c.1 });
    assign_site(&model.sites, model.terrains.record(p), centroid)
}

/// The id live plot `p` names when no live site has it.
fn orphan_of(model: &ReadModel, p: usize) -> Option<Str> {
    if !model.terrains.is_live(p) {
        return None;
    }
    let id = model.terrains.record(p).site_id?;
    model.named_site(p).is_none().then_some(id)
}

/// Occupancy of every EPCI and the region for one reference year, kept by plot so that a
/// change of a plot or a site moves only its own contributions.
///
/// Per plot: its site (the plot→site join, spatial test included). Per site: its plots.
/// Per EPCI and for the region: the sums of their sites' plots. A site's own figures are
/// summed from its plots when asked ([`OccupancyIndex::site`]).
#[derive(Clone, Debug)]
pub struct OccupancyIndex {
    pub year: i32,
    /// By EPCI slot.
    pub epci: PVec<Occupancy>,
    pub region: Occupancy,
    /// By plot slot: its site ([`NONE`]: none, or no plot in that slot).
    pub plot_site: PVec<u32>,
    /// By site slot: its plots, ascending.
    site_plots: PVec<Arc<[u32]>>,
    /// Plots whose `site_id` and geometry disagree, by plot slot.
    mismatches: Arc<BTreeMap<u32, Mismatch>>,
    /// Plots whose `site_id` names no site, by that id: a site created with it takes them.
    orphans: Arc<BTreeMap<Str, Vec<u32>>>,
}

/// One plot's share of the figures: its site, that site's EPCI and what it adds.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    pub site: u32,
    pub epci: u32,
    pub figures: PlotFigures,
}

impl OccupancyIndex {
    /// Computes everything from the plots (spatial join included), the plots split over
    /// every core.
    pub fn compute(model: &ReadModel, year: i32) -> OccupancyIndex {
        let ne = model.epci.slots();
        let n = model.terrains.slots();
        let chunks: Vec<std::ops::Range<usize>> = (0..n)
            .step_by(CHUNK)
            .map(|a| a..(a + CHUNK).min(n))
            .collect();
        // Each chunk: its plots' sites, mismatches and orphans; the sums by EPCI are folded
        // per worker thread (a vector of EPCIs a thread, not a chunk).
        type Part = (Vec<u32>, Vec<(u32, Mismatch)>, Vec<(Str, u32)>);
        type Sums = (Vec<Occupancy>, Occupancy);
        let place = |range: std::ops::Range<usize>, sums: &mut Sums| -> Part {
            let mut sites = Vec::with_capacity(range.len());
            let mut mism = Vec::new();
            let mut orphans = Vec::new();
            for p in range {
                if !model.terrains.is_live(p) {
                    sites.push(NONE);
                    continue;
                }
                let (site, m) = site_of(model, p);
                if let Some(m) = m {
                    mism.push((p as u32, m));
                }
                if let Some(id) = orphan_of(model, p) {
                    orphans.push((id, p as u32));
                }
                let site = site.map(|s| s as u32).unwrap_or(NONE);
                sites.push(site);
                if site == NONE {
                    continue;
                }
                let fig = PlotFigures::from_facts(&model.plot_facts[p], year);
                sums.1.apply(&fig, 1.0);
                if let Some(o) = sums
                    .0
                    .get_mut(model.joins.site_epci[site as usize] as usize)
                {
                    o.apply(&fig, 1.0);
                }
            }
            (sites, mism, orphans)
        };
        // A fixed number of blocks of chunks, each with its own sums by EPCI, added in
        // block order: bounded memory, the same figures every run on any number of cores.
        const BLOCKS: usize = 32;
        let per_block = chunks.len().div_ceil(BLOCKS).max(1);
        let blocks: Vec<(Vec<Part>, Sums)> = chunks
            .chunks(per_block)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|block| {
                let mut sums = (vec![Occupancy::default(); ne], Occupancy::default());
                let parts = block
                    .iter()
                    .map(|range| place(range.clone(), &mut sums))
                    .collect();
                (parts, sums)
            })
            .collect();
        let mut plot_site = Vec::with_capacity(n);
        let mut mismatches = BTreeMap::new();
        let mut orphans: BTreeMap<Str, Vec<u32>> = BTreeMap::new();
        let mut epci = vec![Occupancy::default(); ne];
        let mut region = Occupancy::default();
        for (parts, (e, r)) in blocks {
            for (sites, mism, orph) in parts {
                plot_site.extend(sites);
                mismatches.extend(mism);
                for (id, p) in orph {
                    orphans.entry(id).or_default().push(p);
                }
            }
            for (a, b) in epci.iter_mut().zip(&e) {
                a.merge(b);
            }
            region.merge(&r);
        }
        // Plots by site: a counting sort.
        let ns = model.sites.slots();
        let mut count = vec![0u32; ns];
        for &s in &plot_site {
            if s != NONE {
                count[s as usize] += 1;
            }
        }
        let mut groups: Vec<Vec<u32>> = count
            .iter()
            .map(|&c| Vec::with_capacity(c as usize))
            .collect();
        for (p, &s) in plot_site.iter().enumerate() {
            if s != NONE {
                groups[s as usize].push(p as u32);
            }
        }
        OccupancyIndex {
            year,
            epci: PVec::from_vec(epci),
            region,
            plot_site: PVec::from_vec(plot_site),
            site_plots: PVec::from_vec(groups.into_iter().map(Arc::from).collect()),
            mismatches: Arc::new(mismatches),
            orphans: Arc::new(orphans),
        }
    }

    /// The figures of region `r` (its index in the model's regions): the sum of its EPCIs'
    /// (each EPCI counted in the region where most of its population lives, so the
    /// regions add up to the EPCIs' total).
    pub fn of_region(&self, model: &ReadModel, r: usize) -> Occupancy {
        let mut sum = Occupancy::default();
        for e in model.regions.epcis(r) {
            sum.add(self.epci.get(e));
        }
        sum
    }

    /// The plots whose `site_id` is `id` while no site has that id.
    pub fn orphans_of(&self, id: Str) -> impl Iterator<Item = usize> + '_ {
        self.orphans
            .get(&id)
            .into_iter()
            .flat_map(|v| v.iter().map(|&p| p as usize))
    }

    /// The plots of site `site` (slots, ascending).
    pub fn plots_of(&self, site: usize) -> impl Iterator<Item = usize> + '_ {
        self.site_plots
            .try_get(site)
            .into_iter()
            .flat_map(|p| p.iter().map(|&p| p as usize))
    }

    /// The plots whose `site_id` and geometry disagree, in slot order.
    pub fn mismatches(&self) -> impl Iterator<Item = &Mismatch> + '_ {
        self.mismatches.values()
    }

    /// The figures of the EPCI with SIREN `siren`.
    pub fn of_epci(&self, model: &ReadModel, siren: &str) -> Option<&Occupancy> {
        model
            .epci_ids
            .get(siren)
            .and_then(|&i| self.epci.try_get(i))
    }

    /// A site's figures for the index's reference year.
    pub fn site(&self, model: &ReadModel, site: usize) -> Occupancy {
        self.site_for_year(model, site, self.year)
    }

    /// A site's figures for another reference year (its plots' dates re-tested).
    pub fn site_for_year(&self, model: &ReadModel, site: usize, year: i32) -> Occupancy {
        let mut o = Occupancy::default();
        for p in self.plots_of(site) {
            o.apply(&PlotFigures::from_facts(&model.plot_facts[p], year), 1.0);
        }
        o
    }

    /// What live plot `p` adds in `model`, as this index placed it.
    fn contribution(&self, model: &ReadModel, p: usize) -> Option<Contribution> {
        let site = *self.plot_site.try_get(p)?;
        if site == NONE || !model.terrains.is_live(p) {
            return None;
        }
        Some(Contribution {
            site,
            epci: model.joins.site_epci[site as usize],
            figures: PlotFigures::from_facts(&model.plot_facts[p], self.year),
        })
    }

    fn apply(&mut self, c: &Contribution, sign: f64) {
        self.region.apply(&c.figures, sign);
        if (c.epci as usize) < self.epci.len() {
            self.epci.get_mut(c.epci as usize).apply(&c.figures, sign);
        }
    }

    /// Re-places plots `plots` after a change from `old` to `new` (the models before and
    /// after): each one's old contribution is taken out of its EPCI and the region, its
    /// site found again in `new`, and its new contribution put in. Every figure is a sum
    /// over plots, so this equals a full recompute for any set of plots that holds every
    /// plot the change can move (see [`super::Metrics::update`]).
    pub fn replace_plots(&mut self, old: &ReadModel, new: &ReadModel, plots: &[usize]) {
        for &p in plots {
            if let Some(id) = orphan_of(old, p) {
                let o = Arc::make_mut(&mut self.orphans);
                if let Some(v) = o.get_mut(&id) {
                    v.retain(|&q| q as usize != p);
                    if v.is_empty() {
                        o.remove(&id);
                    }
                }
            }
            if let Some(id) = orphan_of(new, p) {
                let v = Arc::make_mut(&mut self.orphans).entry(id).or_default();
                let at = v.partition_point(|&q| q < p as u32);
                if v.get(at) != Some(&(p as u32)) {
                    v.insert(at, p as u32);
                }
            }
            if let Some(c) = self.contribution(old, p) {
                self.apply(&c, -1.0);
                let group = self.site_plots.get_mut(c.site as usize);
                *group = group.iter().copied().filter(|&q| q as usize != p).collect();
            }
            let (site, mismatch) = if new.terrains.is_live(p) {
                site_of(new, p)
            } else {
                (None, None)
            };
            let site = site.map(|s| s as u32).unwrap_or(NONE);
            if p < self.plot_site.len() {
                self.plot_site.set(p, site);
            } else {
                while self.plot_site.len() < p {
                    self.plot_site.push(NONE);
                }
                self.plot_site.push(site);
            }
            let mism = Arc::make_mut(&mut self.mismatches);
            match mismatch {
                Some(m) => {
                    mism.insert(p as u32, m);
                }
                None => {
                    mism.remove(&(p as u32));
                }
            }
            if site != NONE {
                while self.site_plots.len() <= site as usize {
                    self.site_plots.push(Arc::from(Vec::new()));
                }
                let group = self.site_plots.get_mut(site as usize);
                let mut g: Vec<u32> = group.to_vec();
                let at = g.partition_point(|&q| q < p as u32);
                g.insert(at, p as u32);
                *group = Arc::from(g);
            }
            if let Some(c) = self.contribution(new, p) {
                self.apply(&c, 1.0);
            }
        }
    }

    /// Site `site`'s EPCI changed from `from` to `to`: its plots' sums move.
    pub fn move_site(&mut self, model: &ReadModel, site: usize, from: u32, to: u32) {
        let plots: Vec<usize> = self.plots_of(site).collect();
        for p in plots {
            let figures = PlotFigures::from_facts(&model.plot_facts[p], self.year);
            for (e, sign) in [(from, -1.0), (to, 1.0)] {
                if (e as usize) < self.epci.len() {
                    self.epci.get_mut(e as usize).apply(&figures, sign);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cnig_worked_example_15_units_2_vacant_is_13() {
        let o = Occupancy {
            uf_nbre: 15,
            uf_vacant_nbre: 2,
            ..Default::default()
        };
        // 100 × 2 / 15 = 13.33… → 13.
        assert_eq!(o.taux_vacance(), 13);
        assert_eq!(Occupancy::default().taux_vacance(), 0);
    }
}
