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

    /// A row from its surfaces by destination, m², in the order of [`DESTINATIONS`].
    pub fn new(code_insee: Str, annee: i32, m2: [f64; 6]) -> LandTake {
        let [activite_m2, habitat_m2, mixte_m2, route_m2, ferroviaire_m2, inconnu_m2] = m2;
        LandTake {
            code_insee,
            annee,
            activite_m2,
            habitat_m2,
            mixte_m2,
            route_m2,
            ferroviaire_m2,
            inconnu_m2,
        }
    }

    /// The surfaces by destination, m², in the order of [`DESTINATIONS`].
    pub fn m2(&self) -> [f64; 6] {
        [
            self.activite_m2,
            self.habitat_m2,
            self.mixte_m2,
            self.route_m2,
            self.ferroviaire_m2,
            self.inconnu_m2,
        ]
    }

    /// The surfaces by destination, to change in place, in the order of [`DESTINATIONS`].
    pub fn m2_mut(&mut self) -> [&mut f64; 6] {
        [
            &mut self.activite_m2,
            &mut self.habitat_m2,
            &mut self.mixte_m2,
            &mut self.route_m2,
            &mut self.ferroviaire_m2,
            &mut self.inconnu_m2,
        ]
    }

    /// All destinations, m².
    pub fn total_m2(&self) -> f64 {
        self.m2().iter().sum()
    }
}

/// A destination of land take: its column in the project's tables and its code in the
/// Cerema files (`artYY<code>ZZ`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Destination {
    pub column: &'static str,
    pub cerema: &'static str,
}

/// The six destinations of land take (Cerema, "fichiers fonciers"): activity, housing, mixed,
/// roads, railways, unknown. Every table, file and figure lists them in this order.
pub const DESTINATIONS: [Destination; 6] = [
    Destination {
        column: "activite_m2",
        cerema: "act",
    },
    Destination {
        column: "habitat_m2",
        cerema: "hab",
    },
    Destination {
        column: "mixte_m2",
        cerema: "mix",
    },
    Destination {
        column: "route_m2",
        cerema: "rou",
    },
    Destination {
        column: "ferroviaire_m2",
        cerema: "fer",
    },
    Destination {
        column: "inconnu_m2",
        cerema: "inc",
    },
];

#[cfg(test)]
mod tests {
    use super::{LandTake, DESTINATIONS};

    #[test]
    fn header_and_destinations_agree() {
        let columns: Vec<&str> = DESTINATIONS.iter().map(|d| d.column).collect();
        assert_eq!(
            LandTake::HEADER,
            format!("code_insee;annee;{}", columns.join(";"))
        );
        let r = LandTake::new("59350".into(), 2020, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!((r.habitat_m2, r.inconnu_m2, r.total_m2()), (2.0, 6.0, 21.0));
        let json = serde_json::to_value(&r).unwrap();
        for (d, v) in DESTINATIONS.iter().zip(r.m2()) {
            assert_eq!(json[d.column], v, "{}", d.column);
        }
    }
}
