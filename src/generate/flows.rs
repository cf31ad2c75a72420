//! Synthetic home–work commuting flows between communes: a doubly-ranked gravity model on the
//! real populations and distances, calibrated so that the median one-way distance of rural
//! residents is 13 km (INSEE 2019, "Les déplacements domicile-travail").
//!
//! Model: employed residents `W_i = 0.40 · population_i` (Hauts-de-France: about 2.3 million
//! employed for 6 million inhabitants); attraction `A_j = population_j^1.15 + 2 · zone_jobs_j`
//! (jobs concentrate in towns and business zones); `T_ij = W_i · A_j · e^(−d_ij/β) /
//! Σ_k A_k · e^(−d_ik/β)` over destinations within 60 km straight line, with `d` the commute
//! distance of [`commute_distance_km`]. Each origin keeps its largest flows up to 97 % of its
//! workers (at most 40 destinations), rescaled to `W_i` and rounded by largest remainder.
//! `β` is found by bisection so that the median of the kept flows hits the target.

use std::collections::HashMap;

use crate::metrics::commute::{hist_median, BIN_KM};
use crate::model::territory::commute_distance_km;
use crate::model::{Commune, CommuteFlow, TerritoryClass};
use crate::read_model::Layer;

/// Target median one-way distance of rural residents, km.
pub const RURAL_MEDIAN_KM: f64 = 13.0;
const EMPLOYMENT_RATE: f64 = 0.40;
const MAX_STRAIGHT_KM: f64 = 60.0;

struct Pair {
    to: u32,
    km: f32,
    attraction: f32,
}

fn shares(pairs: &[Pair], beta: f64, out: &mut Vec<f64>) {
    out.clear();
    out.extend(
        pairs
            .iter()
            .map(|p| p.attraction as f64 * (-(p.km as f64) / beta).exp()),
    );
    let s: f64 = out.iter().sum();
    if s > 0.0 {
        out.iter_mut().for_each(|v| *v /= s);
    }
}

/// Median one-way distance of rural residents for a given β.
fn rural_median(pairs: &[Vec<Pair>], workers: &[f64], rural: &[bool], beta: f64) -> f64 {
    let mut hist = vec![0.0; (MAX_STRAIGHT_KM * 2.0 / BIN_KM) as usize];
    let mut s = Vec::new();
    for (i, ps) in pairs.iter().enumerate() {
        if !rural[i] {
            continue;
        }
        shares(ps, beta, &mut s);
        for (p, share) in ps.iter().zip(&s) {
            let bin = ((p.km as f64 / BIN_KM) as usize).min(hist.len() - 1);
            hist[bin] += workers[i] * share;
        }
    }
    hist_median(&hist)
}

/// Generates the flows; returns them and the calibrated β (km).
pub fn generate(
    communes: &Layer<Commune>,
    zone_jobs: &HashMap<crate::model::Str, u32>,
) -> (Vec<CommuteFlow>, f64) {
    let cs: Vec<&Commune> = communes.records().collect();
    let workers: Vec<f64> = cs
        .iter()
        .map(|c| c.population as f64 * EMPLOYMENT_RATE)
        .collect();
    let attraction: Vec<f64> = cs
        .iter()
        .map(|c| {
            (c.population as f64).powf(1.15)
                + 2.0 * *zone_jobs.get(&c.code_insee).unwrap_or(&0) as f64
        })
        .collect();
    let rural: Vec<bool> = cs
        .iter()
        .map(|c| c.classe == TerritoryClass::Rural)
        .collect();

    let max_m = MAX_STRAIGHT_KM * 1000.0;
    let pairs: Vec<Vec<Pair>> = cs
        .iter()
        .map(|a| {
            (0..cs.len())
                .filter(|&j| {
                    (cs[j].mairie_x - a.mairie_x).hypot(cs[j].mairie_y - a.mairie_y) <= max_m
                })
                .map(|j| Pair {
                    to: j as u32,
                    km: commute_distance_km(a, cs[j]) as f32,
                    attraction: attraction[j] as f32,
                })
                .collect()
        })
        .collect();

    // Bisection on β (the median grows with β), then keep the largest flows; truncation
    // shortens the tail, so the target is raised by the shortfall until the kept flows'
    // median is within 0.1 km of the goal.
    let mut target = RURAL_MEDIAN_KM;
    let mut result = (Vec::new(), 0.0);
    for _ in 0..6 {
        let (mut lo, mut hi) = (1.0_f64, 80.0_f64);
        for _ in 0..24 {
            let mid = 0.5 * (lo + hi);
            if rural_median(&pairs, &workers, &rural, mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let beta = 0.5 * (lo + hi);
        let (flows, realized) = keep_largest(&cs, &pairs, &workers, &rural, beta);
        result = (flows, beta);
        if (realized - RURAL_MEDIAN_KM).abs() < 0.1 {
            break;
        }
        target += RURAL_MEDIAN_KM - realized;
    }
    result
}

/// Rounds each origin's largest flows to integers; returns them and the rural median of
/// what was kept.
fn keep_largest(
    cs: &[&Commune],
    pairs: &[Vec<Pair>],
    workers: &[f64],
    rural: &[bool],
    beta: f64,
) -> (Vec<CommuteFlow>, f64) {
    let mut hist = vec![0.0; (MAX_STRAIGHT_KM * 2.0 / BIN_KM) as usize];
    let mut flows = Vec::new();
    let mut s = Vec::new();
    for (i, ps) in pairs.iter().enumerate() {
        let total = workers[i].round();
        if total < 1.0 || ps.is_empty() {
            continue;
        }
        shares(ps, beta, &mut s);
        let mut order: Vec<usize> = (0..ps.len()).collect();
        order.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(ps[a].to.cmp(&ps[b].to)));
        let mut kept = Vec::new();
        let mut covered = 0.0;
        for &k in order.iter().take(40) {
            kept.push(k);
            covered += s[k];
            if covered >= 0.97 {
                break;
            }
        }
        // Largest-remainder rounding of the kept shares to the integer worker count.
        let raw: Vec<f64> = kept.iter().map(|&k| s[k] / covered * total).collect();
        let mut ints: Vec<u32> = raw.iter().map(|v| v.floor() as u32).collect();
        let mut rest = total as i64 - ints.iter().map(|&v| v as i64).sum::<i64>();
        let mut by_rem: Vec<usize> = (0..raw.len()).collect();
        by_rem.sort_by(|&a, &b| {
            (raw[b] - raw[b].floor())
                .total_cmp(&(raw[a] - raw[a].floor()))
                .then(a.cmp(&b))
        });
        for &k in &by_rem {
            if rest <= 0 {
                break;
            }
            ints[k] += 1;
            rest -= 1;
        }
        if rural[i] {
            for (&k, &n) in kept.iter().zip(&ints) {
                let bin = ((ps[k].km as f64 / BIN_KM) as usize).min(hist.len() - 1);
                hist[bin] += n as f64;
            }
        }
        let mut rows: Vec<CommuteFlow> = kept
            .iter()
            .zip(ints)
            .filter(|(_, n)| *n > 0)
            .map(|(&k, n)| CommuteFlow {
                commune_residence: cs[i].code_insee,
                commune_travail: cs[ps[k].to as usize].code_insee,
                actifs: n,
            })
            .collect();
        rows.sort_by_key(|a| a.commune_travail);
        flows.extend(rows);
    }
    (flows, hist_median(&hist))
}
