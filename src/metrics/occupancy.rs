//! Occupancy and the legal vacancy rate of business zones, per site, EPCI and region, kept
//! incrementally.
//!
//! Every figure is a sum over plots (unités foncières), so a plot's contribution can be taken
//! out and put back: changing one plot touches its site, that site's EPCI and the region, in
//! constant time ([`OccupancyIndex::replace_plot`]). Rates are derived from the sums on read.

use geo::{Centroid, Contains};
use serde::Serialize;

use crate::model::codes::{self, CodeList, EtatList, StadeList};
use crate::model::{Feature, Site, Terrain};
use crate::read_model::{Layer, PlotFacts, ReadModel, M2_PER_HA, NONE};

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
    pub terr_id: crate::model::Str,
    /// The site the attribute names (absent or unknown ids included).
    pub site_id_attribut: Option<crate::model::Str>,
    /// The site whose outline contains the plot's centroid, if any.
    pub site_id_geometrie: Option<crate::model::Str>,
}

/// The site a plot belongs to: its `site_id` when it names a known site, else the site
/// containing its centroid (R-tree). Reports a mismatch when the plot has a `site_id` that
/// names another site than the one containing it (or no known site).
pub fn assign_site(
    sites: &Layer<Site>,
    plot: &Feature<Terrain>,
) -> (Option<usize>, Option<Mismatch>) {
    let by_attr = plot
        .record
        .site_id
        .as_deref()
        .and_then(|id| sites.index_of(id));
    let Some(c) = plot.geometry.centroid() else {
        return (by_attr, None);
    };
    // The common case costs one point-in-polygon test: the named site holds the plot.
    if let Some(i) = by_attr {
        if sites.get(i).geometry.contains(&c) {
            return (Some(i), None);
        }
    }
    let by_geom = sites
        .at_point(c.x(), c.y())
        .into_iter()
        .find(|&i| sites.get(i).geometry.contains(&c));
    // Only an attribute can disagree: a plot without `site_id` is simply placed.
    let mismatch = (plot.record.site_id.is_some() && by_attr != by_geom).then(|| Mismatch {
        terr_id: plot.record.terr_id,
        site_id_attribut: plot.record.site_id,
        site_id_geometrie: by_geom.map(|i| sites.get(i).record.site_id),
    });
    (by_attr.or(by_geom), mismatch)
}

/// Occupancy of every site, EPCI and the region for one reference year.
#[derive(Clone, Debug)]
pub struct OccupancyIndex {
    pub year: i32,
    pub sites: Vec<Occupancy>,
    /// By EPCI, in the EPCI layer's order.
    pub epci: Vec<Occupancy>,
    pub region: Occupancy,
    /// For each plot (layer order), its site index.
    pub plot_site: Vec<Option<usize>>,
    /// The plots of site `s` are `site_plots[site_start[s]..site_start[s + 1]]`.
    site_start: Vec<u32>,
    site_plots: Vec<u32>,
    /// For each plot, what it adds.
    plot_figures: Vec<PlotFigures>,
    pub mismatches: Vec<Mismatch>,
}

impl OccupancyIndex {
    /// Computes everything from the plots (spatial join included).
    pub fn compute(model: &ReadModel, year: i32) -> OccupancyIndex {
        let mut idx = Self::compute_range(model, year, 0..model.terrains.len());
        idx.index_site_plots();
        idx
    }

    /// The figures of plots `range` only.
    fn compute_range(
        model: &ReadModel,
        year: i32,
        range: std::ops::Range<usize>,
    ) -> OccupancyIndex {
        let mut idx = OccupancyIndex {
            year,
            sites: vec![Occupancy::default(); model.sites.len()],
            epci: vec![Occupancy::default(); model.epci.len()],
            region: Occupancy::default(),
            plot_site: Vec::with_capacity(range.len()),
            site_start: Vec::new(),
            site_plots: Vec::new(),
            plot_figures: Vec::with_capacity(range.len()),
            mismatches: Vec::new(),
        };
        let plots = &model.terrains.features()[range.clone()];
        for (i, plot) in range.zip(plots) {
            let facts = &model.plot_facts[i];
            // The common case costs one point-in-ring test: the named site holds the plot.
            let named = model.joins.terrain_site[i];
            let (site, mismatch) =
                if named != NONE && model.site_rings.contains(named as usize, facts.centroid) {
                    (Some(named as usize), None)
                } else {
                    assign_site(&model.sites, plot)
                };
            idx.mismatches.extend(mismatch);
            let fig = PlotFigures::from_facts(facts, year);
            if let Some(s) = site {
                idx.sites[s].apply(&fig, 1.0);
            }
            idx.plot_site.push(site);
            idx.plot_figures.push(fig);
        }
        // Sites roll up into their EPCI and the region (sums of sums).
        for (s, o) in idx.sites.iter().enumerate() {
            if let Some(e) = idx.epci.get_mut(model.joins.site_epci[s] as usize) {
                e.merge(o);
            }
            idx.region.merge(o);
        }
        idx
    }

    /// Groups the plots by site (a counting sort: two passes, two allocations).
    fn index_site_plots(&mut self) {
        let mut start = vec![0u32; self.sites.len() + 1];
        for s in self.plot_site.iter().flatten() {
            start[s + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut next = start.clone();
        let mut plots = vec![0u32; start[self.sites.len()] as usize];
        for (p, s) in self.plot_site.iter().enumerate() {
            if let Some(s) = *s {
                plots[next[s] as usize] = p as u32;
                next[s] += 1;
            }
        }
        self.site_start = start;
        self.site_plots = plots;
    }

    /// The plots of site `site` (layer indices, ascending).
    pub fn plots_of(&self, site: usize) -> impl Iterator<Item = usize> + '_ {
        let (a, b) = (self.site_start[site], self.site_start[site + 1]);
        self.site_plots[a as usize..b as usize]
            .iter()
            .map(|&p| p as usize)
    }

    fn add(&mut self, model: &ReadModel, site: usize, fig: &PlotFigures, sign: f64) {
        self.sites[site].apply(fig, sign);
        if let Some(e) = self.epci.get_mut(model.joins.site_epci[site] as usize) {
            e.apply(fig, sign);
        }
        self.region.apply(fig, sign);
    }

    /// The figures of the EPCI with SIREN `siren`.
    pub fn of_epci(&self, model: &ReadModel, siren: &str) -> Option<&Occupancy> {
        model.epci.index_of(siren).and_then(|i| self.epci.get(i))
    }

    /// A site's figures for another reference year (its plots' dates re-tested).
    pub fn site_for_year(&self, model: &ReadModel, site: usize, year: i32) -> Occupancy {
        let mut o = Occupancy::default();
        for p in self.plots_of(site) {
            o.apply(&PlotFigures::from_facts(&model.plot_facts[p], year), 1.0);
        }
        o
    }

    /// Replaces plot `index`'s record by `new` and updates its site, the site's EPCI and the
    /// region: the old figures are subtracted and the new ones added (O(1), no rescan).
    pub fn replace_plot(&mut self, model: &ReadModel, index: usize, new: &Terrain) {
        let facts = PlotFacts::of(new, &model.terrains.get(index).geometry);
        let fig = PlotFigures::from_facts(&facts, self.year);
        if let Some(site) = self.plot_site[index] {
            let old = self.plot_figures[index].clone();
            self.add(model, site, &old, -1.0);
            self.add(model, site, &fig, 1.0);
        }
        self.plot_figures[index] = fig;
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
