//! The in-memory read model: every layer with its R-tree, the tables, and each layer's
//! features serialized once as CRS84 GeoJSON for serving. All reads and metrics use it.

pub mod layer;
pub mod rings;
pub mod served;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use geo::{Area, Geometry, Polygon};

use crate::model::{
    Commune, CommuteFlow, Epci, Etablissement, Feature, LandTake, LocalCommercial, Pole, Record,
    Site, Str, Terrain, TerritoryClass, TiersLieu,
};
use crate::source::Dataset;

pub use layer::{IdIndex, Layer};
pub use served::Served;

/// Errors of the read model.
#[derive(Debug, thiserror::Error)]
pub enum ReadModelError {
    #[error("layer `{0}`: duplicate id `{1}`")]
    DuplicateId(&'static str, String),
    #[error("layer `{0}`: feature `{1}` has an empty geometry")]
    EmptyGeometry(&'static str, String),
    #[error("layer `{0}`: feature `{1}`: {2}")]
    Serve(&'static str, String, String),
}

pub type ReadModelResult<T> = Result<T, ReadModelError>;

/// Geometry access and spatial queries of a layer, whatever its record type.
pub trait SpatialIndex: Send + Sync {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn geometry(&self, index: usize) -> &Geometry<f64>;
    /// Indices of the features whose geometry intersects `area` (Lambert-93), ascending.
    fn intersecting(&self, area: &Polygon<f64>) -> Vec<usize>;
}

impl<R: Record> SpatialIndex for Layer<R> {
    fn len(&self) -> usize {
        Layer::len(self)
    }
    fn geometry(&self, index: usize) -> &Geometry<f64> {
        &self.get(index).geometry
    }
    fn intersecting(&self, area: &Polygon<f64>) -> Vec<usize> {
        Layer::intersecting(self, area)
    }
}

/// What was loaded and how long it took.
#[derive(Clone, Debug)]
pub struct LoadReport {
    pub counts: Vec<(&'static str, usize)>,
    pub elapsed: Duration,
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

/// The whole read model. Layers and tables are shared (`Arc`): a model with one layer
/// changed ([`ReadModel::with_change`]) shares every other one with its predecessor.
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
    /// Each feature's version (its ETag) by `collection/id`, when not 1 (PostGIS counts
    /// the writes; the embedded files are version 1).
    pub versions: Arc<FxHashMap<String, i64>>,
    pub attribution: String,
    /// Key joins resolved once at load (index into the other layer, [`NONE`] when the key
    /// is unknown), so that metrics never hash a code in their loops.
    pub joins: Joins,
    /// Each plot's attributes typed for the metrics, in layer order.
    pub plot_facts: Vec<PlotFacts>,
    /// The sites' polygons prepared for point tests (the plot→site join).
    pub site_rings: rings::Rings,
    served: Vec<Arc<Served>>,
    pub report: LoadReport,
}

/// Marks an unresolved join.
pub const NONE: u32 = u32::MAX;

/// Indices joining the layers and tables by their keys.
#[derive(Clone, Debug, Default)]
pub struct Joins {
    /// Commune → its EPCI.
    pub commune_epci: Vec<u32>,
    /// Site → its EPCI (`site_epci_siren`).
    pub site_epci: Vec<u32>,
    /// Establishment → its EPCI (`epci_siren`).
    pub etab_epci: Vec<u32>,
    /// Premises → its commune (`comm_insee`).
    pub local_commune: Vec<u32>,
    /// Tiers-lieu → its commune (`comm_insee`).
    pub tl_commune: Vec<u32>,
    /// Flow → (residence commune, work commune, workers): the keys resolved and the count
    /// copied, so the commuting metrics read 12 bytes per flow.
    pub flow_communes: Vec<(u32, u32, u32)>,
    /// Land-take row → its commune.
    pub land_take_commune: Vec<u32>,
    /// Plot → the site its `site_id` names (the spatial check is the metrics' job).
    pub terrain_site: Vec<u32>,
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
    pub fn of(t: &Terrain, geometry: &Geometry<f64>) -> PlotFacts {
        use crate::model::codes::{CodeList, EtatList, StadeList};
        use geo::Centroid;
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
            centroid: geometry
                .centroid()
                .map(|c| (c.x(), c.y()))
                .unwrap_or((f64::NAN, f64::NAN)),
        }
    }
}

impl Joins {
    #[allow(clippy::too_many_arguments)]
    fn build(
        communes: &Layer<Commune>,
        epci: &Layer<Epci>,
        sites: &Layer<Site>,
        etabs: &Layer<Etablissement>,
        locaux: &Layer<LocalCommercial>,
        tl: &Layer<TiersLieu>,
        flows: &[CommuteFlow],
        land: &[LandTake],
        terrains: &Layer<Terrain>,
    ) -> Joins {
        let ix = |o: Option<usize>| o.map(|i| i as u32).unwrap_or(NONE);
        Joins {
            commune_epci: communes
                .features()
                .iter()
                .map(|c| ix(epci.index_of(&c.record.epci_siren)))
                .collect(),
            site_epci: sites
                .features()
                .iter()
                .map(|s| ix(epci.index_of(&s.record.site_epci_siren)))
                .collect(),
            etab_epci: etabs
                .features()
                .iter()
                .map(|e| ix(epci.index_of(&e.record.epci_siren)))
                .collect(),
            local_commune: locaux
                .features()
                .iter()
                .map(|l| ix(communes.index_of(&l.record.comm_insee)))
                .collect(),
            tl_commune: tl
                .features()
                .iter()
                .map(|t| ix(communes.index_of(&t.record.comm_insee)))
                .collect(),
            flow_communes: flows
                .iter()
                .map(|f| {
                    (
                        ix(communes.index_of(&f.commune_residence)),
                        ix(communes.index_of(&f.commune_travail)),
                        f.actifs,
                    )
                })
                .collect(),
            land_take_commune: land
                .iter()
                .map(|r| ix(communes.index_of(&r.code_insee)))
                .collect(),
            terrain_site: terrains
                .features()
                .iter()
                .map(|t| {
                    ix(t.record
                        .site_id
                        .as_deref()
                        .and_then(|id| sites.index_of(id)))
                })
                .collect(),
        }
    }
}

/// Square metres per hectare.
pub const M2_PER_HA: f64 = 10_000.0;

impl ReadModel {
    /// Indexes a dataset: derives the communes' and EPCIs' areas, densities and rural/urban
    /// classes, builds the R-trees and serializes every feature once for serving.
    pub fn build(mut data: Dataset) -> ReadModelResult<ReadModel> {
        let started = Instant::now();
        derive_territory(&mut data);
        data.flows.sort_by(|a, b| {
            (a.commune_residence.as_str(), a.commune_travail.as_str())
                .cmp(&(b.commune_residence.as_str(), b.commune_travail.as_str()))
        });
        let communes = Layer::new(data.communes)?;
        let epci = Layer::new(data.epci)?;
        let poles = Layer::new(data.poles)?;
        let sites = Layer::new(data.sites)?;
        let terrains = Layer::new(data.terrains)?;
        let etablissements = Layer::new(data.etablissements)?;
        let locaux = Layer::new(data.locaux)?;
        let tiers_lieux = Layer::new(data.tiers_lieux)?;

        let attribution = data.attribution;
        let served = std::thread::scope(|s| {
            let a = s.spawn(|| {
                Ok::<_, ReadModelError>(vec![
                    Served::build(&epci, &attribution)?,
                    Served::build(&communes, &attribution)?,
                    Served::build(&poles, &attribution)?,
                    Served::build(&sites, &attribution)?,
                ])
            });
            let b = s.spawn(|| {
                Ok::<_, ReadModelError>(vec![
                    Served::build(&terrains, &attribution)?,
                    Served::build(&etablissements, &attribution)?,
                    Served::build(&locaux, &attribution)?,
                    Served::build(&tiers_lieux, &attribution)?,
                ])
            });
            let mut all = a.join().expect("serializer thread panicked")?;
            all.extend(b.join().expect("serializer thread panicked")?);
            Ok::<_, ReadModelError>(all)
        })?;

        let versions = Arc::new(std::mem::take(&mut data.versions));
        let mut model = ReadModel {
            communes: Arc::new(communes),
            epci: Arc::new(epci),
            poles: Arc::new(poles),
            sites: Arc::new(sites),
            terrains: Arc::new(terrains),
            etablissements: Arc::new(etablissements),
            locaux: Arc::new(locaux),
            tiers_lieux: Arc::new(tiers_lieux),
            flows: Arc::new(data.flows),
            land_take: Arc::new(data.land_take),
            versions,
            attribution,
            joins: Joins::default(),
            plot_facts: Vec::new(),
            site_rings: rings::Rings::default(),
            served: served.into_iter().map(Arc::new).collect(),
            report: LoadReport {
                counts: Vec::new(),
                elapsed: Duration::ZERO,
            },
        };
        model.derive();
        model.report.elapsed = started.elapsed();
        Ok(model)
    }

    /// Recomputes what is derived from the layers: key joins, plot facts, site rings and
    /// the counts of the load report.
    fn derive(&mut self) {
        self.joins = Joins::build(
            &self.communes,
            &self.epci,
            &self.sites,
            &self.etablissements,
            &self.locaux,
            &self.tiers_lieux,
            &self.flows,
            &self.land_take,
            &self.terrains,
        );
        self.site_rings = rings::Rings::new(&self.sites);
        self.plot_facts = self
            .terrains
            .features()
            .iter()
            .map(|t| PlotFacts::of(&t.record, &t.geometry))
            .collect();
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

    /// The version (ETag) of feature `id` of collection `collection`.
    pub fn version(&self, collection: &str, id: &str) -> i64 {
        self.versions
            .get(&format!("{collection}/{id}"))
            .copied()
            .unwrap_or(1)
    }

    /// This model with one feature of layer `R` created, replaced or removed: that layer
    /// is re-indexed and re-serialized, the joins and derived facts recomputed; the other
    /// layers are shared.
    pub fn with_change<R: InModel>(
        &self,
        change: Change<R>,
        version: i64,
    ) -> ReadModelResult<ReadModel> {
        let mut features = R::layer(self).features().to_vec();
        let id = match &change {
            Change::Upsert(f) => f.record.id().to_string(),
            Change::Remove(id) => id.clone(),
        };
        let at = features.iter().position(|f| f.record.id() == id);
        match (change, at) {
            (Change::Upsert(f), Some(i)) => features[i] = f,
            (Change::Upsert(f), None) => features.push(f),
            (Change::Remove(_), Some(i)) => {
                features.remove(i);
            }
            (Change::Remove(_), None) => {}
        }
        let layer = Layer::new(features)?;
        let served = Served::build(&layer, &self.attribution)?;
        let mut next = self.clone();
        *R::layer_mut(&mut next) = Arc::new(layer);
        if let Some(s) = next.served.iter_mut().find(|s| s.id == R::COLLECTION) {
            *s = Arc::new(served);
        }
        let mut versions = (*self.versions).clone();
        versions.insert(format!("{}/{id}", R::COLLECTION), version);
        next.versions = Arc::new(versions);
        next.derive();
        Ok(next)
    }

    /// The served collections, in the order of the `/ogc/collections` document.
    pub fn collections(&self) -> &[Arc<Served>] {
        &self.served
    }

    /// A served collection and its spatial index, by OGC collection id.
    pub fn collection(&self, id: &str) -> Option<(&Served, &dyn SpatialIndex)> {
        let served = self.served.iter().find(|s| s.id == id)?;
        let index: &dyn SpatialIndex = match id {
            Commune::COLLECTION => &*self.communes,
            Epci::COLLECTION => &*self.epci,
            Pole::COLLECTION => &*self.poles,
            Site::COLLECTION => &*self.sites,
            Terrain::COLLECTION => &*self.terrains,
            Etablissement::COLLECTION => &*self.etablissements,
            LocalCommercial::COLLECTION => &*self.locaux,
            TiersLieu::COLLECTION => &*self.tiers_lieux,
            _ => return None,
        };
        Some((served, index))
    }
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
    Site => sites;
    Terrain => terrains;
    Etablissement => etablissements;
    LocalCommercial => locaux;
    TiersLieu => tiers_lieux;
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
