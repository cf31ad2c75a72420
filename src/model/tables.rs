//! Non-spatial tables: home–work commuting flows and yearly land take per commune.

use serde::{Deserialize, Serialize};

use super::Str;

/// Home–work flow between two communes (INSEE "mobilités professionnelles" shape):
/// `actifs` employed residents of `commune_residence` working in `commune_travail`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CommuteFlow {
    pub commune_residence: Str,
    pub commune_travail: Str,
    pub actifs: u32,
}

impl CommuteFlow {
    pub const FILE: &'static str = "navettes.csv";
    pub const HEADER: &'static str = "commune_residence;commune_travail;actifs";
}

/// Natural, agricultural and forest land (ENAF) consumed in one commune during one year
/// (1 January `annee` → 1 January `annee + 1`), m² by destination, as the Cerema land-take
/// files split it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
pub struct LandTake {
    pub code_insee: Str,
    pub annee: i32,
    pub activite_m2: f64,
    pub habitat_m2: f64,
    pub mixte_m2: f64,
    pub route_m2: f64,
    pub ferroviaire_m2: f64,
    pub inconnu_m2: f64,
}

impl LandTake {
    pub const FILE: &'static str = "consommation_enaf.csv";
    pub const HEADER: &'static str =
        "code_insee;annee;activite_m2;habitat_m2;mixte_m2;route_m2;ferroviaire_m2;inconnu_m2";

    /// All destinations, m².
    pub fn total_m2(&self) -> f64 {
        self.activite_m2
            + self.habitat_m2
            + self.mixte_m2
            + self.route_m2
            + self.ferroviaire_m2
            + self.inconnu_m2
    }
}
