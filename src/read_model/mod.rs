//! The in-memory read model: every layer with its records typed, its geometries stored once
//! in flat buffers and its R-tree ([`Layer`]), the tables, the key joins resolved to slots
//! and the plots' facts typed for the metrics. All reads and metrics use it; responses are
//! written from it on demand ([`served`]).
//!
//! Versions share what they did not change: layers and per-feature arrays are persistent
//! ([`pvec`], [`shapes`], [`spatial`]), and [`ReadModel::with_change`] makes the version
//! with one feature created, replaced or removed in time logarithmic in the layer (one
//! chunk of each array copied, the spatial index's small overlay updated).

pub mod fields;
pub mod layer;
pub mod names;
pub mod pvec;
pub mod regions;
pub mod rings;
pub mod served;
pub mod shapes;
pub mod spatial;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use geo::Area;

use crate::model::Dataset;
use crate::model::{
    Commune, CommuteFlow, Epci, Etablissement, Feature, LandTake, LocalCommercial, Pole, Record,
    Site, Str, Terrain, TerritoryClass, TiersLieu,
};

pub use layer::{FeatureRef, IdIndex, Layer};
pub use pvec::PVec;
pub use served::Collection;

/// Errors of the read model.
#[derive(Debug, thiserror::Error)]
pub enum ReadModelError {
    #[error("layer `{0}`: duplicate id `{1}`")]
    DuplicateId(&'static str, String),
    #[error("layer `{0}`: feature `{1}` has an empty geometry")]
    EmptyGeometry(&'static str, String),
}

pub type ReadModelResult<T> = Result<T, ReadModelError>;

/// What was loaded and how long it took.
#[derive(Clone, Debug)]
pub struct LoadReport {
    pub counts: Vec<(&'static str, usize)>,
    pub elapsed: Duration,
    /// The dataset's [`Dataset::audit_version`]: the highest audit row the load includes.
    pub audit_version: i64,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .counts
            .iter()
            .map(|(name, n)| format!("{n} {name}"))
            .collect();
        write!(
            f,
            "{} in {:.0} ms",
            parts.join(", "),
            self.elapsed.as_secs_f64() * 1e3
        )
    }
}

/// The whole read model. Layers and tables are shared (`Arc`): a model with one feature
/// changed ([`ReadModel::with_change`]) shares every other layer with its predecessor, and
/// within the changed layer every chunk but one.
#[derive(Clone)]
pub struct ReadModel {
    pub communes: Arc<Layer<Commune>>,
    pub epci: Arc<Layer<Epci>>,
    pub poles: Arc<Layer<Pole>>,
    pub sites: Arc<Layer<Site>>,
    pub terrains: Arc<Layer<Terrain>>,
    pub etablissements: Arc<Layer<Etablissement>>,
    pub locaux: Arc<Layer<LocalCommercial>>,
    pub tiers_lieux: Arc<Layer<TiersLieu>>,
    /// Home–work flows, sorted by residence then work commune code.
    pub flows: Arc<Vec<CommuteFlow>>,
    pub land_take: Arc<Vec<LandTake>>,
    pub attribution: Arc<str>,
    /// Commune and EPCI slots by code (the reference layers are not edited).
    pub commune_ids: IdIndex,
    pub epci_ids: IdIndex,
    /// Key joins resolved once at load (a slot of the other layer, [`NONE`] when the key
    /// is unknown), so that metrics never look a code up in their loops.
    pub joins: Joins,
    /// Each plot's attributes typed for the metrics, by slot.
    pub plot_facts: PVec<PlotFacts>,
    /// The regions the communes name, and each commune's and EPCI's.
    pub regions: Arc<regions::Regions>,
    /// The EPCIs' and communes' names folded for searching.
    pub names: Arc<names::Names>,
    /// Models built from one dataset share a lineage; its versions count the changes.
    pub lineage: u64,
    pub report: LoadReport,
}

/// Marks an unresolved join.
pub const NONE: u32 = u32::MAX;

/// Items grouped by an owner slot (compressed rows): owner `o`'s items are
/// `items[offsets[o]..offsets[o + 1]]`.
#[derive(Clone, Debug, Default)]
pub struct Grouped {
    pub offsets: Vec<u32>,
    pub items: Vec<u32>,
}

impl Grouped {
    /// Groups item `i` under `owner_of[i]` for `owners` owners (items whose owner is out
    /// of range are left out), each group in ascending item order.
    pub fn build(owner_of: &[u32], owners: usize) -> Grouped {
        let mut offsets = vec![0u32; owners + 1];
        for &o in owner_of {
            if (o as usize) < owners {
                offsets[o as usize + 1] += 1;
            }
        }
        for k in 1..offsets.len() {
            offsets[k] += offsets[k - 1];
        }
        let mut next = offsets.clone();
        let mut items = vec![0u32; offsets[owners] as usize];
        for (i, &o) in owner_of.iter().enumerate() {
            if (o as usize) < owners {
                items[next[o as usize] as usize] = i as u32;
                next[o as usize] += 1;
            }
        }
        Grouped { offsets, items }
    }

    /// The items of owner `o`.
    pub fn of(&self, o: usize) -> &[u32] {
        match (self.offsets.get(o), self.offsets.get(o + 1)) {
            (Some(&a), Some(&b)) => &self.items[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// Slots joining the layers and tables by their keys.
#[derive(Clone, Debug, Default)]
pub struct Joins {
    /// Commune → its EPCI.
    pub commune_epci: Arc<Vec<u32>>,
    /// Site → its EPCI (`site_epci_siren`).
    pub site_epci: PVec<u32>,
    /// Establishment → its EPCI (`epci_siren`).
    pub etab_epci: PVec<u32>,
    /// Premises → its commune (`comm_insee`).
    pub local_commune: PVec<u32>,
    /// Tiers-lieu → its commune (`comm_insee`).
    pub tl_commune: PVec<u32>,
    /// Flow → (residence commune, work commune, workers): the keys resolved and the count
    /// copied, so the commuting metrics read 12 bytes per flow.
    pub flow_communes: Arc<Vec<(u32, u32, u32)>>,
    /// Land-take row → its commune.
    pub land_take_commune: Arc<Vec<u32>>,
    /// Commune → its land-take rows, ascending: the rows of commune slot `c` are
    /// `rows[offsets[c]..offsets[c + 1]]` (rows naming no commune are left out).
    pub commune_land_take: Arc<Grouped>,
    /// Plot → the site its `site_id` names (the spatial check is the metrics' job).
    pub terrain_site: PVec<u32>,
}

/// A plot's attributes as the metrics read them, typed once at load: the CNIG text fields
/// (dates, code-list values) parsed to numbers, and its centroid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlotFacts {
    /// `terr_surf_brute`, ha.
    pub ha: f64,
    /// `terr_utile` is not `non`.
    pub useful: bool,
    /// Index of `terr_etat_occup` in [`crate::model::codes::EtatList`].
    pub etat: u8,
    /// Index of `terr_stade_comm` in [`crate::model::codes::StadeList`].
    pub stade: u8,
    /// `terr_activite_fin_date` as days since 1970 (`i64::MAX` when absent or unreadable).
    pub activite_fin: i64,
    /// `terr_inoccupe_date` as days since 1970 (`i64::MAX` when absent or unreadable).
    pub inoccupe: i64,
    /// Centroid (Lambert-93), NaN for an empty geometry.
    pub centroid: (f64, f64),
}

impl PlotFacts {
    pub fn of(t: &Terrain, shape: shapes::Shape<'_>) -> PlotFacts {
        use crate::model::codes::{CodeList, EtatList, StadeList};
        let days = |d: &Option<Str>| {
            d.as_deref()
                .and_then(|s| crate::date::Date::parse(s).ok())
                .map(|d| d.to_days())
                .unwrap_or(i64::MAX)
        };
        PlotFacts {
            ha: t.terr_surf_brute,
            useful: t.terr_utile.as_deref() != Some("non"),
            etat: EtatList::index(&t.terr_etat_occup) as u8,
            stade: StadeList::index(&t.terr_stade_comm) as u8,
            activite_fin: days(&t.terr_activite_fin_date),
            inoccupe: days(&t.terr_inoccupe_date),
            centroid: shape
                .centroid()
                .map(|c| (c.x, c.y))
                .unwrap_or((f64::NAN, f64::NAN)),
        }
    }
}

/// The slot of `code` in an id index, [`NONE`] when unknown.
fn slot_in(ids: &IdIndex, code: &str) -> u32 {
    ids.get(code).map(|&s| s as u32).unwrap_or(NONE)
}

impl Joins {
    fn site_epci_of(epci_ids: &IdIndex, s: &Site) -> u32 {
        slot_in(epci_ids, &s.site_epci_siren)
    }

    fn terrain_site_of(sites: &Layer<Site>, t: &Terrain) -> u32 {
        t.site_id
            .as_deref()
            .and_then(|id| sites.index_of(id))
            .map(|s| s as u32)
            .unwrap_or(NONE)
    }

    fn build(m: &ReadModel) -> Joins {
        use rayon::prelude::*;
        let per_slot = |n: usize, f: &(dyn Fn(usize) -> u32 + Sync)| {
            PVec::from_vec((0..n).into_par_iter().map(f).collect())
        };
        let site_ids = m.sites.id_index();
        let land_take_commune: Vec<u32> = m
            .land_take
            .iter()
            .map(|r| slot_in(&m.commune_ids, &r.code_insee))
            .collect();
        Joins {
            commune_epci: Arc::new(
                (0..m.communes.slots())
                    .map(|c| slot_in(&m.epci_ids, &m.communes.record(c).epci_siren))
                    .collect(),
            ),
            site_epci: per_slot(m.sites.slots(), &|s| {
                Self::site_epci_of(&m.epci_ids, m.sites.record(s))
            }),
            etab_epci: per_slot(m.etablissements.slots(), &|e| {
                slot_in(&m.epci_ids, &m.etablissements.record(e).epci_siren)
            }),
            local_commune: per_slot(m.locaux.slots(), &|l| {
                slot_in(&m.commune_ids, &m.locaux.record(l).comm_insee)
            }),
            tl_commune: per_slot(m.tiers_lieux.slots(), &|t| {
                slot_in(&m.commune_ids, &m.tiers_lieux.record(t).comm_insee)
            }),
            flow_communes: Arc::new(
                m.flows
                    .iter()
                    .map(|f| {
                        (
                            slot_in(&m.commune_ids, &f.commune_residence),
                            slot_in(&m.commune_ids, &f.commune_travail),
                            f.actifs,
                        )
                    })
                    .collect(),
            ),
            commune_land_take: Arc::new(Grouped::build(&land_take_commune, m.communes.slots())),
            land_take_commune: Arc::new(land_take_commune),
            terrain_site: per_slot(m.terrains.slots(), &|t| {
                m.terrains
                    .record(t)
                    .site_id
                    .as_deref()
                    .map(|id| slot_in(&site_ids, id))
                    .unwrap_or(NONE)
            }),
        }
    }
}

/// Square metres per hectare.
pub const M2_PER_HA: f64 = 10_000.0;

/// Numbers the lineages of models built in this process.
static LINEAGE: AtomicU64 = AtomicU64::new(1);

impl ReadModel {
    /// Indexes a dataset: derives the communes' and EPCIs' areas, densities and rural/urban
    /// classes, builds the layers (one thread a layer) and resolves the joins.
    pub fn build(mut data: Dataset) -> ReadModelResult<ReadModel> {
        let started = Instant::now();
        derive_territory(&mut data);
        data.flows.sort_by(|a, b| {
            (a.commune_residence.as_str(), a.commune_travail.as_str())
                .cmp(&(b.commune_residence.as_str(), b.commune_travail.as_str()))
        });
        let versions = std::mem::take(&mut data.versions);
        fn layer<R: Record>(
            features: Vec<Feature<R>>,
            versions: &rustc_hash::FxHashMap<String, i64>,
        ) -> ReadModelResult<Layer<R>> {
            if versions.is_empty() {
                return Layer::new(features);
            }
            Layer::with_versions(
                features
                    .into_iter()
                    .map(|f| {
                        let v = versions
                            .get(&format!("{}/{}", R::COLLECTION, f.record.id()))
                            .copied()
                            .unwrap_or(1);
                        (f, v as u32)
                    })
                    .collect(),
            )
        }
        let v = &versions;
        let (communes, epci, poles, sites, terrains, etabs, locaux, tl) = std::thread::scope(|s| {
            let c = s.spawn(|| layer(data.communes, v));
            let e = s.spawn(|| layer(data.epci, v));
            let p = s.spawn(|| layer(data.poles, v));
            let si = s.spawn(|| layer(data.sites, v));
            let t = s.spawn(|| layer(data.terrains, v));
            let et = s.spawn(|| layer(data.etablissements, v));
            let l = s.spawn(|| layer(data.locaux, v));
            let tl = layer(data.tiers_lieux, v);
            let j = "layer thread panicked";
            (
                c.join().expect(j),
                e.join().expect(j),
                p.join().expect(j),
                si.join().expect(j),
                t.join().expect(j),
                et.join().expect(j),
                l.join().expect(j),
                tl,
            )
        });
        let (communes, epci) = (communes?, epci?);
        let mut model = ReadModel {
            commune_ids: communes.id_index(),
            epci_ids: epci.id_index(),
            communes: Arc::new(communes),
            epci: Arc::new(epci),
            poles: Arc::new(poles?),
            sites: Arc::new(sites?),
            terrains: Arc::new(terrains?),
            etablissements: Arc::new(etabs?),
            locaux: Arc::new(locaux?),
            tiers_lieux: Arc::new(tl?),
            flows: Arc::new(data.flows),
            land_take: Arc::new(data.land_take),
            attribution: data.attribution.into(),
            joins: Joins::default(),
            plot_facts: PVec::default(),
            regions: Arc::default(),
            names: Arc::default(),
            lineage: LINEAGE.fetch_add(1, Ordering::Relaxed),
            report: LoadReport {
                counts: Vec::new(),
                elapsed: Duration::ZERO,
                audit_version: data.audit_version,
            },
        };
        let (joins, facts) = rayon::join(
            || Joins::build(&model),
            || {
                use rayon::prelude::*;
                (0..model.terrains.slots())
                    .into_par_iter()
                    .map(|t| PlotFacts::of(model.terrains.record(t), model.terrains.shape(t)))
                    .collect::<Vec<_>>()
            },
        );
        model.joins = joins;
        model.plot_facts = PVec::from_vec(facts);
        model.regions = Arc::new(regions::Regions::build(&model));
        model.names = Arc::new(names::Names::build(&model));
        model.count();
        model.report.elapsed = started.elapsed();
        Ok(model)
    }

    fn count(&mut self) {
        self.report.counts = vec![
            ("communes", self.communes.len()),
            ("EPCI", self.epci.len()),
            ("pôles", self.poles.len()),
            ("sites", self.sites.len()),
            ("terrains", self.terrains.len()),
            ("établissements", self.etablissements.len()),
            ("locaux commerciaux", self.locaux.len()),
            ("tiers-lieux", self.tiers_lieux.len()),
            ("flux domicile-travail", self.flows.len()),
            ("lignes de consommation ENAF", self.land_take.len()),
        ];
    }

    /// The version (ETag) of feature `id` of collection `collection` (0 when there is none).
    pub fn version(&self, collection: &str, id: &str) -> i64 {
        self.collection(collection)
            .and_then(|c| c.index_of(id).map(|s| c.version(s)))
            .unwrap_or(0)
    }

    /// This model with one feature of layer `R` created, replaced or removed, and what
    /// changed. Only the changed layer's chunks that hold the feature are copied; its joins
    /// and facts are resolved for it alone, and, for a site, for the plots that name it.
    pub fn with_change<R: InModel>(
        &self,
        change: Change<R>,
        version: i64,
    ) -> ReadModelResult<(ReadModel, Changed<R>)> {
        let mut next = self.clone();
        let layer = Arc::make_mut(R::layer_mut(&mut next));
        let changed = match change {
            Change::Upsert(f) => {
                let (slot, old) = layer.upsert(f, version as u32)?;
                Changed {
                    slot: Some(slot),
                    old,
                    live: true,
                }
            }
            Change::Remove(id) => match layer.remove(&id) {
                Some((slot, old)) => Changed {
                    slot: Some(slot),
                    old: Some(old),
                    live: false,
                },
                None => Changed {
                    slot: None,
                    old: None,
                    live: false,
                },
            },
        };
        if let Some(slot) = changed.slot {
            R::rejoin(&mut next, slot, changed.old.as_ref());
        }
        next.count();
        Ok((next, changed))
    }

    /// The live site plot `p` names by its `site_id`, if any: the join resolved at load
    /// while it holds, else looked up again (a site created or removed since).
    pub fn named_site(&self, p: usize) -> Option<usize> {
        let j = self.joins.terrain_site[p];
        if j != NONE && self.sites.is_live(j as usize) {
            return Some(j as usize);
        }
        let id = self.terrains.record(p).site_id?;
        self.sites.index_of(&id)
    }

    /// The served collections, in the order of the `/ogc/collections` document.
    pub fn collections(&self) -> [&dyn Collection; 8] {
        [
            &*self.epci,
            &*self.communes,
            &*self.poles,
            &*self.sites,
            &*self.terrains,
            &*self.etablissements,
            &*self.locaux,
            &*self.tiers_lieux,
        ]
    }

    /// A served collection by OGC collection id.
    pub fn collection(&self, id: &str) -> Option<&dyn Collection> {
        self.collections().into_iter().find(|c| c.about().id == id)
    }
}

/// What [`ReadModel::with_change`] did.
#[derive(Clone, Debug)]
pub struct Changed<R> {
    /// The feature's slot (`None`: a removal of a feature that was not there).
    pub slot: Option<usize>,
    /// The feature before the change, if there was one.
    pub old: Option<Feature<R>>,
    /// Whether the slot holds a feature after the change.
    pub live: bool,
}

/// A change to one feature of a layer.
#[derive(Clone, Debug)]
pub enum Change<R> {
    /// Creates the feature, or replaces the one of the same id.
    Upsert(Feature<R>),
    /// Removes the feature of this id.
    Remove(String),
}

/// A record type with its layer in the read model.
pub trait InModel: Record {
    fn layer(m: &ReadModel) -> &Arc<Layer<Self>>;
    fn layer_mut(m: &mut ReadModel) -> &mut Arc<Layer<Self>>;
    /// Resolves the joins and facts of slot `slot` after it changed (`old`: the feature it
    /// held before).
    fn rejoin(_m: &mut ReadModel, _slot: usize, _old: Option<&Feature<Self>>) {}
}

macro_rules! in_model {
    ($($t:ty => $field:ident;)*) => {
        $(impl InModel for $t {
            fn layer(m: &ReadModel) -> &Arc<Layer<Self>> {
                &m.$field
            }
            fn layer_mut(m: &mut ReadModel) -> &mut Arc<Layer<Self>> {
                &mut m.$field
            }
        })*
    };
}

in_model! {
    Commune => communes;
    Epci => epci;
    Pole => poles;
}

/// Sets `v[slot]`, appending when `slot` is the next one.
fn put<T: Clone>(v: &mut PVec<T>, slot: usize, value: T) {
    if slot == v.len() {
        v.push(value);
    } else {
        v.set(slot, value);
    }
}

impl InModel for Site {
    fn layer(m: &ReadModel) -> &Arc<Layer<Self>> {
        &m.sites
    }
    fn layer_mut(m: &mut ReadModel) -> &mut Arc<Layer<Self>> {
        &mut m.sites
    }
    /// The site's EPCI. Plots that name it keep their join: a join to a dead slot, or
    /// none, is looked up again by [`ReadModel::named_site`].
    fn rejoin(m: &mut ReadModel, slot: usize, _: Option<&Feature<Self>>) {
        let e = Joins::site_epci_of(&m.epci_ids, m.sites.record(slot));
        put(&mut m.joins.site_epci, slot, e);
    }
}

impl InModel for Terrain {
    fn layer(m: &ReadModel) -> &Arc<Layer<Self>> {
        &m.terrains
    }
    fn layer_mut(m: &mut ReadModel) -> &mut Arc<Layer<Self>> {
        &mut m.terrains
    }
    fn rejoin(m: &mut ReadModel, slot: usize, _: Option<&Feature<Self>>) {
        let j = Joins::terrain_site_of(&m.sites, m.terrains.record(slot));
        put(&mut m.joins.terrain_site, slot, j);
        let facts = PlotFacts::of(m.terrains.record(slot), m.terrains.shape(slot));
        put(&mut m.plot_facts, slot, facts);
    }
}

impl InModel for Etablissement {
    fn layer(m: &ReadModel) -> &Arc<Layer<Self>> {
        &m.etablissements
    }
    fn layer_mut(m: &mut ReadModel) -> &mut Arc<Layer<Self>> {
        &mut m.etablissements
    }
    fn rejoin(m: &mut ReadModel, slot: usize, _: Option<&Feature<Self>>) {
        let e = slot_in(&m.epci_ids, &m.etablissements.record(slot).epci_siren);
        put(&mut m.joins.etab_epci, slot, e);
    }
}

impl InModel for LocalCommercial {
    fn layer(m: &ReadModel) -> &Arc<Layer<Self>> {
        &m.locaux
    }
    fn layer_mut(m: &mut ReadModel) -> &mut Arc<Layer<Self>> {
        &mut m.locaux
    }
    fn rejoin(m: &mut ReadModel, slot: usize, _: Option<&Feature<Self>>) {
        let c = slot_in(&m.commune_ids, &m.locaux.record(slot).comm_insee);
        put(&mut m.joins.local_commune, slot, c);
    }
}

impl InModel for TiersLieu {
    fn layer(m: &ReadModel) -> &Arc<Layer<Self>> {
        &m.tiers_lieux
    }
    fn layer_mut(m: &mut ReadModel) -> &mut Arc<Layer<Self>> {
        &mut m.tiers_lieux
    }
    fn rejoin(m: &mut ReadModel, slot: usize, _: Option<&Feature<Self>>) {
        let c = slot_in(&m.commune_ids, &m.tiers_lieux.record(slot).comm_insee);
        put(&mut m.joins.tl_commune, slot, c);
    }
}

/// Fills the derived fields of communes and EPCIs: area (ha, planar in Lambert-93),
/// density (inhabitants/km²), EPCI name, regional population, urban share and class
/// ([`TerritoryClass::of_commune`], [`TerritoryClass::of_epci`]).
pub fn derive_territory(data: &mut Dataset) {
    let epci_names: HashMap<Str, Str> = data
        .epci
        .iter()
        .map(|e| (e.record.epci_siren, e.record.epci_nom))
        .collect();
    let mut pop: HashMap<Str, (u64, u64)> = HashMap::new();
    for c in &mut data.communes {
        let area_m2 = c.geometry.unsigned_area();
        let area_km2 = area_m2 / 1e6;
        let r = &mut c.record;
        r.surface_ha = (area_m2 / M2_PER_HA * 100.0).round() / 100.0;
        r.densite_hab_km2 = if area_km2 > 0.0 {
            (r.population as f64 / area_km2 * 10.0).round() / 10.0
        } else {
            0.0
        };
        r.classe = TerritoryClass::of_grid(r.grille_densite, r.population, area_km2);
        if let Some(n) = epci_names.get(&r.epci_siren) {
            r.epci_nom = *n;
        }
        let e = pop.entry(r.epci_siren).or_default();
        e.1 += r.population as u64;
        if r.classe == TerritoryClass::Urbain {
            e.0 += r.population as u64;
        }
    }
    for e in &mut data.epci {
        let area_m2 = e.geometry.unsigned_area();
        let r = &mut e.record;
        let (urban, total) = pop.get(&r.epci_siren).copied().unwrap_or_default();
        r.population_region = total;
        r.surface_ha = (area_m2 / M2_PER_HA * 100.0).round() / 100.0;
        r.densite_hab_km2 = if area_m2 > 0.0 {
            (total as f64 / (area_m2 / 1e6) * 10.0).round() / 10.0
        } else {
            0.0
        };
        r.part_population_urbaine = if total > 0 {
            (urban as f64 / total as f64 * 1000.0).round() / 1000.0
        } else {
            0.0
        };
        r.classe = TerritoryClass::of_epci(urban, total);
    }
}
