//! Centre-bourg commercial premises: count, vacancy and firms settled, per commune and EPCI.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::codes;
use crate::read_model::ReadModel;

/// Premises figures of a territory.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Premises {
    pub locaux: u32,
    pub vacants: u32,
    /// Vacant premises / premises, % (one decimal).
    pub taux_vacance_pct: f64,
    /// Occupied premises: firms settled.
    pub commerces_installes: u32,
    /// Firms that settled in the last five years (year ≥ reference year − 5).
    pub installations_5_ans: u32,
}

impl Premises {
    fn finish(&mut self) {
        self.taux_vacance_pct = if self.locaux > 0 {
            (1000.0 * self.vacants as f64 / self.locaux as f64).round() / 10.0
        } else {
            0.0
        };
    }
}

/// Per commune (INSEE code) and per EPCI (SIREN), for reference year `year`.
///
/// vacancy = premises with `local_etat = vacant` / premises; firms settled = occupied
/// premises; recent = occupied premises with `local_installation_annee ≥ year − 5`.
pub fn premises(
    model: &ReadModel,
    year: i32,
) -> (HashMap<String, Premises>, HashMap<String, Premises>) {
    let mut communes: HashMap<String, Premises> = HashMap::new();
    let mut epci: HashMap<String, Premises> = HashMap::new();
    for l in model.locaux.features() {
        let r = &l.record;
        for p in [
            communes.entry(r.comm_insee.clone()).or_default(),
            epci.entry(r.epci_siren.clone()).or_default(),
        ] {
            p.locaux += 1;
            if r.local_etat == codes::VACANT {
                p.vacants += 1;
            } else {
                p.commerces_installes += 1;
                if r.local_installation_annee.is_some_and(|y| y >= year - 5) {
                    p.installations_5_ans += 1;
                }
            }
        }
    }
    communes.values_mut().for_each(Premises::finish);
    epci.values_mut().for_each(Premises::finish);
    (communes, epci)
}
