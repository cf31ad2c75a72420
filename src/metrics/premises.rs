//! Centre-bourg commercial premises: count, vacancy and firms settled, per commune and EPCI.

use serde::Serialize;

use super::PerCode;
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
    /// The sum of several territories' figures, its rate recomputed.
    pub fn total<'a>(parts: impl Iterator<Item = &'a Premises>) -> Premises {
        let mut t = Premises::default();
        for p in parts {
            t.locaux += p.locaux;
            t.vacants += p.vacants;
            t.commerces_installes += p.commerces_installes;
            t.installations_5_ans += p.installations_5_ans;
        }
        t.finish();
        t
    }

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
pub fn premises(model: &ReadModel, year: i32) -> (PerCode<Premises>, PerCode<Premises>) {
    let mut per_commune = vec![Premises::default(); model.communes.len()];
    let mut per_epci = vec![Premises::default(); model.epci.len()];
    for (l, &ci) in model
        .locaux
        .features()
        .iter()
        .zip(&model.joins.local_commune)
    {
        let r = &l.record;
        let Some(c) = per_commune.get_mut(ci as usize) else {
            continue;
        };
        let ei = model.joins.commune_epci[ci as usize] as usize;
        let vacant = r.local_etat == codes::VACANT;
        let recent = !vacant && r.local_installation_annee.is_some_and(|y| y >= year - 5);
        let bump = |p: &mut Premises| {
            p.locaux += 1;
            if vacant {
                p.vacants += 1;
            } else {
                p.commerces_installes += 1;
                p.installations_5_ans += recent as u32;
            }
        };
        bump(c);
        if let Some(p) = per_epci.get_mut(ei) {
            bump(p);
        }
    }
    per_commune.iter_mut().for_each(Premises::finish);
    per_epci.iter_mut().for_each(Premises::finish);
    (
        PerCode::new(
            model.communes.ids(),
            per_commune
                .into_iter()
                .map(|p| (p.locaux > 0).then_some(p))
                .collect(),
        ),
        PerCode::full(model.epci.ids(), per_epci),
    )
}
