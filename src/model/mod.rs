//! Domain types on the CNIG "Sites économiques" standard (v2024-10, schema 1.0.1).
//!
//! Field names are the standard's French names, as EPCIs know them. Fields the standard does
//! not have but the metrics need are named in the same style and listed in each type's doc.
//! Geometry is kept beside the attributes in [`Feature`], always in Lambert-93 (EPSG:2154).

pub mod checks;
pub mod codes;
pub mod interned;
pub mod inventory;
pub mod services;
pub mod tables;
pub mod territory;

use geo::Geometry;
use serde::{de::DeserializeOwned, Serialize};

pub use interned::Str;
pub use inventory::{Etablissement, Pole, Site, Terrain};
pub use services::{LocalCommercial, TiersLieu};
pub use tables::{CommuteFlow, LandTake, DESTINATIONS};
pub use territory::{Commune, Epci, TerritoryClass};

/// The value every synthetic record carries in `source_producteur`.
pub const SYNTHETIC_SOURCE: &str = "données synthétiques ecofoncier";

/// A record of one layer: its attributes, serialized with the standard's field names.
pub trait Record: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The OGC API collection id.
    const COLLECTION: &'static str;
    /// The layer's file in the data folder.
    const FILE: &'static str;
    /// Fields that are personal or confidential (RGPD, CNIG §3.4): never served publicly.
    const CONFIDENTIAL: &'static [&'static str] = &[];
    /// Stable identifier, unique in the layer.
    fn id(&self) -> &str;
}

/// A record with its Lambert-93 geometry.
#[derive(Clone, Debug)]
pub struct Feature<R> {
    pub geometry: Geometry<f64>,
    pub record: R,
}

/// Deserializes a JSON `null` (a NULL column) as the type's default, like an absent field.
pub fn null_as_empty<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `oui`/`non` fields of the standard.
pub fn oui_non(b: bool) -> Str {
    Str::new(if b { "oui" } else { "non" })
}

/// True when a CNIG `oui`/`non` field says `oui`.
pub fn is_oui(value: &Option<Str>) -> bool {
    value.as_deref() == Some("oui")
}

/// True for the empty string (`skip_serializing_if` of text fields).
pub fn is_empty(s: &Str) -> bool {
    s.is_empty()
}

/// Every layer and table, as loaded, before indexing.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub communes: Vec<Feature<Commune>>,
    pub epci: Vec<Feature<Epci>>,
    pub poles: Vec<Feature<Pole>>,
    pub sites: Vec<Feature<Site>>,
    pub terrains: Vec<Feature<Terrain>>,
    pub etablissements: Vec<Feature<Etablissement>>,
    pub locaux: Vec<Feature<LocalCommercial>>,
    pub tiers_lieux: Vec<Feature<TiersLieu>>,
    pub flows: Vec<CommuteFlow>,
    pub land_take: Vec<LandTake>,
    /// Attribution of the real geography.
    pub attribution: String,
    /// Feature versions (ETags) by `collection/id` where not 1: PostGIS counts writes.
    pub versions: rustc_hash::FxHashMap<String, i64>,
    /// The highest audit row (`historique.id`) committed when the load began: the data
    /// holds every write up to it (0 when the data does not come from PostGIS).
    pub audit_version: i64,
}
