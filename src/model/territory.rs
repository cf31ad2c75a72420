//! Communes and EPCIs (real 2026 geography) and their rural/urban class.

use serde::{Deserialize, Serialize};

use super::{Record, Str};

/// Rural or urban, as the INSEE 3-level density grid groups its 7 levels: urban = levels 1–4
/// (grands centres urbains, centres urbains intermédiaires, ceintures urbaines, petites
/// villes), rural = levels 5–7 (bourgs ruraux, rural à habitat dispersé et très dispersé).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum TerritoryClass {
    Urbain,
    Rural,
}

impl TerritoryClass {
    pub fn as_str(self) -> &'static str {
        match self {
            TerritoryClass::Urbain => "urbain",
            TerritoryClass::Rural => "rural",
        }
    }

    /// Density above which a commune counts as urban (inhabitants per km²).
    pub const URBAN_DENSITY: f64 = 250.0;
    /// Population above which a commune counts as urban whatever its density.
    pub const URBAN_POPULATION: u32 = 5_000;

    /// The class of a commune, approximating the INSEE communal density grid from what the
    /// project has: urban when the commune's density is at least 250 inhabitants/km² or its
    /// population at least 5,000 (the INSEE grid is built from 1 km² cells: 250/km² sits
    /// between its "intermediate" cell threshold of 300 and the looser urban belts, and a
    /// 5,000-inhabitant town is at least a "petite ville"); rural otherwise.
    /// Agreement with the official 2024 grid is measured by `tests/rural_urban.rs`.
    pub fn of_commune(population: u32, area_km2: f64) -> TerritoryClass {
        let density = if area_km2 > 0.0 {
            population as f64 / area_km2
        } else {
            0.0
        };
        if density >= Self::URBAN_DENSITY || population >= Self::URBAN_POPULATION {
            TerritoryClass::Urbain
        } else {
            TerritoryClass::Rural
        }
    }

    /// The class of a commune from the INSEE 7-level density grid: urban for levels 1–4,
    /// rural for 5–7 (the INSEE 3-level grouping); the estimate [`Self::of_commune`] when
    /// the level is unknown.
    pub fn of_grid(level: Option<u8>, population: u32, area_km2: f64) -> TerritoryClass {
        match level {
            Some(1..=4) => TerritoryClass::Urbain,
            Some(5..=7) => TerritoryClass::Rural,
            _ => Self::of_commune(population, area_km2),
        }
    }

    /// The class of an EPCI: where most of its population lives. Urban when at least half of
    /// its inhabitants in the region live in urban communes, rural otherwise.
    pub fn of_epci(urban_population: u64, population: u64) -> TerritoryClass {
        if population > 0 && 2 * urban_population >= population {
            TerritoryClass::Urbain
        } else {
            TerritoryClass::Rural
        }
    }
}

/// The regions of the INSEE COG 2026: code and name (the registry package
/// `@etalab/decoupage-administratif` 6.0.0, `regions.json`, lists the same).
pub const REGIONS: [(&str, &str); 18] = [
    ("01", "Guadeloupe"),
    ("02", "Martinique"),
    ("03", "Guyane"),
    ("04", "La Réunion"),
    ("06", "Mayotte"),
    ("11", "Île-de-France"),
    ("24", "Centre-Val de Loire"),
    ("27", "Bourgogne-Franche-Comté"),
    ("28", "Normandie"),
    ("32", "Hauts-de-France"),
    ("44", "Grand Est"),
    ("52", "Pays de la Loire"),
    ("53", "Bretagne"),
    ("75", "Nouvelle-Aquitaine"),
    ("76", "Occitanie"),
    ("84", "Auvergne-Rhône-Alpes"),
    ("93", "Provence-Alpes-Côte d'Azur"),
    ("94", "Corse"),
];

/// The name of region `code` (INSEE COG), if it is one.
pub fn region_name(code: &str) -> Option<&'static str> {
    REGIONS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// A commune (INSEE COG 2026, IGN ADMIN EXPRESS boundary).
///
/// Stored fields: `code_insee`, `nom`, `dep`, `reg` (its region's INSEE COG code, empty
/// when the source gave none), `population` (legal municipal population), `epci_siren`,
/// town hall `mairie_x`/`mairie_y` (Lambert-93 metres). Derived at load: `epci_nom`,
/// `surface_ha`, `densite_hab_km2`, `classe`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Commune {
    pub code_insee: Str,
    pub nom: Str,
    pub dep: Str,
    #[serde(default, skip_serializing_if = "crate::model::is_empty")]
    pub reg: Str,
    pub population: u32,
    pub epci_siren: Str,
    pub mairie_x: f64,
    pub mairie_y: f64,
    /// The INSEE communal density grid level, 1 to 7, when imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grille_densite: Option<u8>,
    #[serde(default, skip_serializing_if = "crate::model::is_empty")]
    pub epci_nom: Str,
    #[serde(default)]
    pub surface_ha: f64,
    #[serde(default)]
    pub densite_hab_km2: f64,
    #[serde(default = "rural")]
    pub classe: TerritoryClass,
}

fn rural() -> TerritoryClass {
    TerritoryClass::Rural
}

impl Record for Commune {
    const COLLECTION: &'static str = "communes";
    const FILE: &'static str = "communes.geojson";
    fn id(&self) -> &str {
        &self.code_insee
    }
}

/// An EPCI (DGCL 2026): CC, CA, CU or métropole. Its polygon is the union of its communes in
/// the region. Derived at load: `population_region`, `surface_ha`, `densite_hab_km2`,
/// `part_population_urbaine` (share of its regional population living in urban communes),
/// `classe`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Epci {
    pub epci_siren: Str,
    pub epci_nom: Str,
    pub epci_type: Str,
    #[serde(default)]
    pub mode_financement: Option<Str>,
    /// Legal municipal population of all members, in the region or not.
    pub population_totale: u64,
    pub n_membres_total: u32,
    pub n_membres_region: u32,
    #[serde(default)]
    pub population_region: u64,
    #[serde(default)]
    pub surface_ha: f64,
    #[serde(default)]
    pub densite_hab_km2: f64,
    #[serde(default)]
    pub part_population_urbaine: f64,
    #[serde(default = "rural")]
    pub classe: TerritoryClass,
}

impl Record for Epci {
    const COLLECTION: &'static str = "epci";
    const FILE: &'static str = "epci.geojson";
    fn id(&self) -> &str {
        &self.epci_siren
    }
}

/// Ratio of road distance to straight-line distance between two communes (the usual French
/// figure for rural and peri-urban trips, 1.2–1.4; 1.3 is used throughout).
pub const DETOUR_FACTOR: f64 = 1.3;

/// One-way home–work distance between two communes, km: the straight line between their
/// town halls in Lambert-93 times [`DETOUR_FACTOR`]. Within one commune: the mean distance
/// between two points of a disc of the commune's area, 128/(45π)·R ≈ 0.905·R with
/// R = √(area/π), times the same factor.
pub fn commute_distance_km(from: &Commune, to: &Commune) -> f64 {
    let straight_m = if from.code_insee == to.code_insee {
        let r = (from.surface_ha * 10_000.0 / std::f64::consts::PI).sqrt();
        128.0 / (45.0 * std::f64::consts::PI) * r
    } else {
        (from.mairie_x - to.mairie_x).hypot(from.mairie_y - to.mairie_y)
    };
    straight_m / 1000.0 * DETOUR_FACTOR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commune_rule() {
        assert_eq!(TerritoryClass::of_commune(300, 10.0), TerritoryClass::Rural);
        assert_eq!(
            TerritoryClass::of_commune(2_500, 10.0),
            TerritoryClass::Urbain
        );
        assert_eq!(
            TerritoryClass::of_commune(6_000, 100.0),
            TerritoryClass::Urbain
        );
        assert_eq!(TerritoryClass::of_commune(10, 0.0), TerritoryClass::Rural);
    }

    #[test]
    fn epci_rule_is_majority_of_population() {
        assert_eq!(TerritoryClass::of_epci(50, 100), TerritoryClass::Urbain);
        assert_eq!(TerritoryClass::of_epci(49, 100), TerritoryClass::Rural);
        assert_eq!(TerritoryClass::of_epci(0, 0), TerritoryClass::Rural);
    }
}
