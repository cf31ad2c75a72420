//! Synthetic yearly land take (ENAF consumption) per commune, 2011–2023, by destination.
//!
//! Calibration on DREAL Hauts-de-France figures: about 1,630 ha a year for the region, of
//! which about 600 ha for economic activity; a decline of about 2.5 % a year over the period.
//! Each commune's expected consumption grows with its area and population (w = area_km²^0.6
//! · (population + 200)^0.4); communes with business zones take more for activity; small
//! communes have years without any consumption. The totals are scaled exactly to the
//! regional figures, so the committed table matches them to the m².

use std::collections::HashMap;

use crate::model::{Commune, LandTake};
use crate::read_model::Layer;

use super::rng::Rng;

/// First and last year (1 January `y` → 1 January `y + 1`).
pub const FIRST_YEAR: i32 = 2011;
pub const LAST_YEAR: i32 = 2023;
/// Regional mean, m² per year, all destinations.
pub const REGION_TOTAL_M2: f64 = 1_630.0 * 10_000.0;
/// Regional mean, m² per year, economic activity.
pub const REGION_ACTIVITY_M2: f64 = 600.0 * 10_000.0;

/// Shares of the non-activity destinations: housing, mixed, roads, rail, unknown.
const OTHER_SHARES: [f64; 5] = [0.72, 0.05, 0.16, 0.01, 0.06];

/// The yearly land take of `communes`; `scale` is the territory's population over the
/// Hauts-de-France one the totals were calibrated on.
pub fn generate(
    seed: u64,
    communes: &Layer<Commune>,
    zone_area_ha: &HashMap<crate::model::Str, f64>,
    scale: f64,
) -> Vec<LandTake> {
    let mut rng = Rng::fork(seed, "land-take");
    let years = (FIRST_YEAR..=LAST_YEAR).collect::<Vec<_>>();
    let mut rows = Vec::with_capacity(communes.len() * years.len());
    for c in communes.iter() {
        let r = &c.record;
        let w = (r.surface_ha / 100.0).max(0.1).powf(0.6) * (r.population as f64 + 200.0).powf(0.4);
        let zones = zone_area_ha.get(&r.code_insee).copied().unwrap_or(0.0);
        let activity_weight = 0.15 + zones.sqrt() * 0.6;
        let zero_year = if r.population < 500 { 0.35 } else { 0.08 };
        for &y in &years {
            let trend = 1.0 - 0.025 * (y - 2017) as f64;
            if rng.chance(zero_year) {
                rows.push(LandTake {
                    code_insee: r.code_insee,
                    annee: y,
                    ..Default::default()
                });
                continue;
            }
            let base = w * trend * rng.lognormal(1.0, 0.7);
            let act = if rng.chance(0.5) {
                base * activity_weight * rng.lognormal(1.0, 0.8)
            } else {
                0.0
            };
            let mut other = [0.0; 5];
            for (o, s) in other.iter_mut().zip(OTHER_SHARES) {
                *o = base * s * rng.lognormal(1.0, 0.5);
            }
            let [hab, mix, rou, fer, inc] = other;
            rows.push(LandTake::new(
                r.code_insee,
                y,
                [act, hab, mix, rou, fer, inc],
            ));
        }
    }
    // Scale activity and the other destinations separately to the regional yearly means.
    let n_years = years.len() as f64;
    let act_sum: f64 = rows.iter().map(|r| r.activite_m2).sum();
    let other_sum: f64 = rows.iter().map(|r| r.total_m2() - r.activite_m2).sum();
    let ka = REGION_ACTIVITY_M2 * scale * n_years / act_sum;
    let ko = (REGION_TOTAL_M2 - REGION_ACTIVITY_M2) * scale * n_years / other_sum;
    for r in &mut rows {
        for (k, v) in r.m2_mut().into_iter().enumerate() {
            *v = (*v * if k == 0 { ka } else { ko }).round();
        }
    }
    rows
}
