//! Centre-bourg commercial premises: count, vacancy and firms settled, per commune and EPCI.

use serde::Serialize;

use super::PerCode;
use crate::model::{codes, LocalCommercial};
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

    /// The figures of region `r` (its index in the model's regions): the sum of its
    /// communes' in `communes`.
    pub fn of_region(model: &ReadModel, communes: &PerCode<Premises>, r: usize) -> Premises {
        Premises::total(model.regions.communes(r).filter_map(|c| communes.at(c)))
    }

    fn finish(&mut self) {
        self.taux_vacance_pct = if self.locaux > 0 {
            (1000.0 * self.vacants as f64 / self.locaux as f64).round() / 10.0
        } else {
            0.0
        };
    }
}

/// What one premises adds: (vacant, recently settled).
fn figures(r: &LocalCommercial, year: i32) -> (bool, bool) {
    let vacant = r.local_etat == codes::VACANT;
    let recent = !vacant && r.local_installation_annee.is_some_and(|y| y >= year - 5);
    (vacant, recent)
}

impl Premises {
    /// Adds (`sign` 1) or takes out (−1) one premises, then derives the rate again.
    fn apply(&mut self, (vacant, recent): (bool, bool), sign: i64) {
        let add = |v: &mut u32, d: bool| *v = (*v as i64 + sign * d as i64).max(0) as u32;
        add(&mut self.locaux, true);
        add(&mut self.vacants, vacant);
        add(&mut self.commerces_installes, !vacant);
        add(&mut self.installations_5_ans, recent);
        self.finish();
    }
}

/// Per commune (INSEE code) and per EPCI (SIREN), for reference year `year`.
///
/// vacancy = premises with `local_etat = vacant` / premises; firms settled = occupied
/// premises; recent = occupied premises with `local_installation_annee ≥ year − 5`.
pub fn premises(model: &ReadModel, year: i32) -> (PerCode<Premises>, PerCode<Premises>) {
    let mut per_commune = vec![Premises::default(); model.communes.slots()];
    let mut per_epci = vec![Premises::default(); model.epci.slots()];
    for l in model.locaux.iter() {
        let ci = model.joins.local_commune[l.slot] as usize;
        let Some(c) = per_commune.get_mut(ci) else {
            continue;
        };
        let f = figures(l.record, year);
        c.apply(f, 1);
        if let Some(p) = per_epci.get_mut(model.joins.commune_epci[ci] as usize) {
            p.apply(f, 1);
        }
    }
    (
        PerCode::new(
            model.commune_ids.clone(),
            per_commune
                .into_iter()
                .map(|p| (p.locaux > 0).then_some(p))
                .collect(),
        ),
        PerCode::full(model.epci_ids.clone(), per_epci),
    )
}

/// Moves premises `slot` from its state in `old` to its state in `new` in the per-commune
/// and per-EPCI figures.
pub fn replace(
    communes: &mut PerCode<Premises>,
    epci: &mut PerCode<Premises>,
    old: &ReadModel,
    new: &ReadModel,
    slot: usize,
    year: i32,
) {
    for (m, sign) in [(old, -1), (new, 1)] {
        if !m.locaux.is_live(slot) {
            continue;
        }
        let ci = m.joins.local_commune[slot] as usize;
        if ci >= m.communes.slots() {
            continue;
        }
        let f = figures(m.locaux.record(slot), year);
        let c = communes.slot_mut(ci);
        c.get_or_insert_with(Premises::default).apply(f, sign);
        if c.as_ref().is_some_and(|p| p.locaux == 0) {
            *c = None;
        }
        if let Some(p) = epci.at_mut(m.joins.commune_epci[ci] as usize) {
            p.apply(f, sign);
        }
    }
}
