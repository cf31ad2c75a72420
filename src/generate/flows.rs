//! Synthetic home–work commuting flows between communes: a doubly-ranked gravity model on the
//! real populations and distances, calibrated on three published figures.
//!
//! Model: employed residents `W_i = 0.40 · population_i` (Hauts-de-France: about 2.3 million
//! employed for 6 million inhabitants); attraction `A_j = population_j^1.15 + 2 · zone_jobs_j`
//! (jobs concentrate in towns and business zones), times `κ` for the residents' own commune
//! (people often work where they live); `T_ij = W_i · A_j · e^(−d_ij/β_i) / Σ_k A_k ·
//! e^(−d_ik/β_i)` over destinations within 60 km straight line, with `d` the commute distance
//! of [`commute_distance_km`] and `β_i` the decay of rural or of urban residents. Each origin
//! keeps its largest flows up to 97 % of its workers (at most 40 destinations), rescaled to
//! `W_i` and rounded by largest remainder.
//!
//! Calibration, each parameter by bisection in turn until the three hold together:
//! - `β_rural`: the median one-way distance of rural residents is 13 km (INSEE 2019, "Les
//!   déplacements domicile-travail");
//! - `κ`: 71 % of workers work outside their commune of residence (INSEE Hauts-de-France,
//!   2013);
//! - `β_urban`: 11.7 % of the Métropole Européenne de Lille's resident workers work outside
//!   it (INSEE 2014: 52,000 of 445,000), when the territory holds it (otherwise urban
//!   residents decay as rural ones).
//!
//! The share of workers leaving their EPCI then follows (about a third of French workers,
//! INSEE 2016); the calibration test prints it with the others.

use std::collections::HashMap;

use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::metrics::commute::{hist_median, BIN_KM};
use crate::model::territory::commute_distance_km;
use crate::model::{Commune, CommuteFlow, Str, TerritoryClass};
use crate::read_model::Layer;

/// Target median one-way distance of rural residents, km.
pub const RURAL_MEDIAN_KM: f64 = 13.0;
/// Target share of workers working outside their commune.
pub const LEAVE_COMMUNE: f64 = 0.71;
/// Target share of the Métropole Européenne de Lille's workers working outside it.
pub const MEL_LEAVE: f64 = 0.117;
/// SIREN of the Métropole Européenne de Lille.
pub const MEL: &str = "200093201";
const EMPLOYMENT_RATE: f64 = 0.40;
const MAX_STRAIGHT_KM: f64 = 60.0;

struct Pair {
    to: u32,
    km: f32,
    attraction: f32,
}

/// The model's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parameters {
    pub beta_rural_km: f64,
    pub beta_urban_km: f64,
    /// Attraction of one's own commune relative to another's.
    pub kappa: f64,
}

/// What the calibration reached on the flows kept.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Calibration {
    pub rural_median_km: f64,
    pub leave_commune: f64,
    /// Share of the MEL's workers working outside it (`None` without the MEL).
    pub mel_leave: Option<f64>,
    /// Share of all workers working outside their EPCI.
    pub leave_epci: f64,
}

struct Model<'a> {
    cs: Vec<&'a Commune>,
    workers: Vec<f64>,
    rural: Vec<bool>,
    in_mel: Vec<bool>,
    pairs: Vec<Vec<Pair>>,
}

impl Model<'_> {
    fn shares(&self, i: usize, p: &Parameters, out: &mut Vec<f64>) {
        let beta = if self.rural[i] {
            p.beta_rural_km
        } else {
            p.beta_urban_km
        };
        out.clear();
        out.extend(self.pairs[i].iter().map(|q| {
            let own = if q.to as usize == i { p.kappa } else { 1.0 };
            own * q.attraction as f64 * (-(q.km as f64) / beta).exp()
        }));
        let s: f64 = out.iter().sum();
        if s > 0.0 {
            out.iter_mut().for_each(|v| *v /= s);
        }
    }

    /// Per origin, in parallel, then summed in origin order (the same sums every run).
    fn per_origin<T: Send>(
        &self,
        p: &Parameters,
        keep: impl Fn(usize) -> bool + Sync,
        f: impl Fn(usize, &[f64]) -> T + Sync,
    ) -> Vec<T> {
        (0..self.cs.len())
            .into_par_iter()
            .filter(|&i| keep(i))
            .map_init(Vec::new, |s, i| {
                self.shares(i, p, s);
                f(i, s)
            })
            .collect()
    }

    /// Median one-way distance of rural residents.
    fn rural_median(&self, p: &Parameters) -> f64 {
        let hists = self.per_origin(
            p,
            |i| self.rural[i],
            |i, s| {
                let mut h = vec![0.0; (MAX_STRAIGHT_KM * 2.0 / BIN_KM) as usize];
                for (q, share) in self.pairs[i].iter().zip(s) {
                    let bin = ((q.km as f64 / BIN_KM) as usize).min(h.len() - 1);
                    h[bin] += self.workers[i] * share;
                }
                h
            },
        );
        let mut hist = vec![0.0; (MAX_STRAIGHT_KM * 2.0 / BIN_KM) as usize];
        for h in hists {
            for (a, b) in hist.iter_mut().zip(h) {
                *a += b;
            }
        }
        hist_median(&hist)
    }

    /// Share of the workers of the origins `keep` who work outside their commune, or,
    /// with `outside`, outside the set the destination test names.
    fn leave_share(
        &self,
        p: &Parameters,
        keep: impl Fn(usize) -> bool + Sync,
        outside: impl Fn(usize, usize) -> bool + Sync,
    ) -> f64 {
        let parts = self.per_origin(p, keep, |i, s| {
            let away: f64 = self.pairs[i]
                .iter()
                .zip(s)
                .filter(|(q, _)| outside(i, q.to as usize))
                .map(|(_, v)| v)
                .sum();
            (self.workers[i] * away, self.workers[i])
        });
        let (away, all) = parts
            .into_iter()
            .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        if all > 0.0 {
            away / all
        } else {
            0.0
        }
    }
}

/// Finds `x` in `lo..hi` where `f(x)` (increasing in `x`) reaches `target`.
fn bisect(mut lo: f64, mut hi: f64, target: f64, f: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..22 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Generates the flows; returns them, the calibrated parameters and what the kept flows
/// reach.
pub fn generate(
    communes: &Layer<Commune>,
    zone_jobs: &HashMap<Str, u32>,
) -> (Vec<CommuteFlow>, Parameters, Calibration) {
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
    let in_mel: Vec<bool> = cs.iter().map(|c| c.epci_siren == MEL).collect();

    // Destinations within 60 km, in commune order, found through an R-tree of town halls.
    let halls: RTree<GeomWithData<[f64; 2], u32>> = RTree::bulk_load(
        cs.iter()
            .enumerate()
            .map(|(j, c)| GeomWithData::new([c.mairie_x, c.mairie_y], j as u32))
            .collect(),
    );
    let max_m = MAX_STRAIGHT_KM * 1000.0;
    let pairs: Vec<Vec<Pair>> = cs
        .par_iter()
        .map(|a| {
            let mut js: Vec<u32> = halls
                .locate_within_distance([a.mairie_x, a.mairie_y], max_m * max_m)
                .map(|p| p.data)
                .collect();
            js.sort_unstable();
            js.into_iter()
                .map(|j| Pair {
                    to: j,
                    km: commute_distance_km(a, cs[j as usize]) as f32,
                    attraction: attraction[j as usize] as f32,
                })
                .collect()
        })
        .collect();
    let model = Model {
        cs,
        workers,
        rural,
        in_mel,
        pairs,
    };
    let has_mel = model.in_mel.iter().any(|&m| m);

    // Coordinate descent: each parameter by bisection, the others held, until the kept
    // flows reach the three figures.
    let mut p = Parameters {
        beta_rural_km: 20.0,
        beta_urban_km: 20.0,
        kappa: 1.0,
    };
    let mut targets = (RURAL_MEDIAN_KM, LEAVE_COMMUNE, MEL_LEAVE);
    let mut result = None;
    for _ in 0..6 {
        for _ in 0..3 {
            p.beta_rural_km = bisect(1.0, 120.0, targets.0, |b| {
                model.rural_median(&Parameters {
                    beta_rural_km: b,
                    ..p
                })
            });
            if !has_mel {
                p.beta_urban_km = p.beta_rural_km;
            } else {
                p.beta_urban_km = bisect(1.0, 400.0, targets.2, |b| {
                    model.leave_share(
                        &Parameters {
                            beta_urban_km: b,
                            ..p
                        },
                        |i| model.in_mel[i],
                        |_, j| !model.in_mel[j],
                    )
                });
            }
            // Leaving one's commune decreases with κ: bisect on its complement.
            p.kappa = bisect(0.01, 400.0, 1.0 - targets.1, |k| {
                1.0 - model.leave_share(&Parameters { kappa: k, ..p }, |_| true, |i, j| i != j)
            });
        }
        let (flows, reached) = keep_largest(&model, &p);
        let off = (
            RURAL_MEDIAN_KM - reached.rural_median_km,
            LEAVE_COMMUNE - reached.leave_commune,
            reached.mel_leave.map(|m| MEL_LEAVE - m).unwrap_or(0.0),
        );
        result = Some((flows, p, reached));
        if off.0.abs() < 0.1 && off.1.abs() < 0.005 && off.2.abs() < 0.005 {
            break;
        }
        // Truncation shortens the tails: aim the raw model past the figures by the shortfall.
        targets = (targets.0 + off.0, targets.1 + off.1, targets.2 + off.2);
    }
    result.expect("at least one round")
}

/// Rounds each origin's largest flows to integers; returns them and what they reach.
fn keep_largest(model: &Model, p: &Parameters) -> (Vec<CommuteFlow>, Calibration) {
    type Kept = (Vec<CommuteFlow>, Vec<f64>, (f64, f64, f64, f64, f64, f64));
    let epci_of = |i: usize| model.cs[i].epci_siren;
    let parts: Vec<Kept> = model.per_origin(
        p,
        |i| model.workers[i].round() >= 1.0 && !model.pairs[i].is_empty(),
        |i, s| {
            let ps = &model.pairs[i];
            let total = model.workers[i].round();
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
            let mut hist = vec![0.0; (MAX_STRAIGHT_KM * 2.0 / BIN_KM) as usize];
            // (workers, leaving the commune, leaving the EPCI, MEL workers, leaving the MEL)
            let mut sums = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
            for (&k, &n) in kept.iter().zip(&ints) {
                let j = ps[k].to as usize;
                let n = n as f64;
                if model.rural[i] {
                    let bin = ((ps[k].km as f64 / BIN_KM) as usize).min(hist.len() - 1);
                    hist[bin] += n;
                }
                sums.0 += n;
                if j != i {
                    sums.1 += n;
                }
                if epci_of(i).is_empty() || epci_of(j) != epci_of(i) {
                    sums.2 += n;
                }
                if model.in_mel[i] {
                    sums.3 += n;
                    if !model.in_mel[j] {
                        sums.4 += n;
                    }
                }
            }
            let mut rows: Vec<CommuteFlow> = kept
                .iter()
                .zip(ints)
                .filter(|(_, n)| *n > 0)
                .map(|(&k, n)| CommuteFlow {
                    commune_residence: model.cs[i].code_insee,
                    commune_travail: model.cs[ps[k].to as usize].code_insee,
                    actifs: n,
                })
                .collect();
            rows.sort_by_key(|a| a.commune_travail);
            (rows, hist, sums)
        },
    );
    let mut flows = Vec::new();
    let mut hist = vec![0.0; (MAX_STRAIGHT_KM * 2.0 / BIN_KM) as usize];
    let mut sums = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (rows, h, s) in parts {
        flows.extend(rows);
        for (a, b) in hist.iter_mut().zip(h) {
            *a += b;
        }
        sums = (
            sums.0 + s.0,
            sums.1 + s.1,
            sums.2 + s.2,
            sums.3 + s.3,
            sums.4 + s.4,
            sums.5,
        );
    }
    let share = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    (
        flows,
        Calibration {
            rural_median_km: hist_median(&hist),
            leave_commune: share(sums.1, sums.0),
            mel_leave: (sums.3 > 0.0).then(|| share(sums.4, sums.3)),
            leave_epci: share(sums.2, sums.0),
        },
    )
}
