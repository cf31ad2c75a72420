//! Home–work commuting: baseline per EPCI from the flows, and the scenario of new jobs opening
//! at a site.
//!
//! Distances are [`commute_distance_km`]: Lambert-93 straight line between town halls × the
//! 1.3 detour factor (a road-distance matrix can replace it). A year has
//! [`WORKING_DAYS`] commuting days; emissions use [`CO2_G_PER_KM`].

use serde::Serialize;

use super::PerCode;
use crate::model::territory::{commute_distance_km, DETOUR_FACTOR};
use crate::read_model::{ReadModel, NONE};

/// Commuting days a year (5 days a week, 47 working weeks: 235, less about 15 days of
/// remote work, sickness and training; the usual French figure for such estimates).
pub const WORKING_DAYS: f64 = 220.0;
/// Greenhouse-gas emissions of home–work travel, all modes: 124 g CO₂e per passenger-km
/// (INSEE Hauts-de-France, "Les émissions de CO₂ des déplacements domicile-travail").
pub const CO2_G_PER_KM: f64 = 124.0;
/// A new job is never nearer than this, km (the trip from the town hall to the zone).
pub const MIN_TRIP_KM: f64 = 1.0;

/// Baseline commuting figures of a territory's residents.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Baseline {
    /// Employed residents (sum of flows leaving the territory's communes).
    pub actifs_residents: u64,
    /// Jobs held (sum of flows arriving in the territory's communes).
    pub emplois: u64,
    /// Jobs per 100 resident workers.
    pub emplois_pour_100_actifs: f64,
    /// One-way km travelled a working day by all resident workers.
    pub km_jour_aller: f64,
    /// Return km a working day (2 × one-way).
    pub km_jour_aller_retour: f64,
    /// Median one-way distance of resident workers, km.
    pub distance_mediane_km: f64,
    /// Mean one-way distance, km.
    pub distance_moyenne_km: f64,
    /// Share of resident workers working outside the territory, %.
    pub part_travaillant_hors_territoire_pct: f64,
}

/// One flow: (residence commune index, work commune index, workers, one-way km).
pub type Flow = (u32, u32, u32, f64);

/// The flows with commune indices and distances, resolved once, grouped by residence
/// commune.
#[derive(Clone, Debug, Default)]
pub struct CommuteTable {
    /// The flows, grouped by residence commune (in commune order).
    pub flows: Vec<Flow>,
    /// The flows of residence commune `c` are `flows[origin_start[c]..origin_start[c + 1]]`.
    origin_start: Vec<u32>,
}

impl CommuteTable {
    pub fn build(model: &ReadModel) -> CommuteTable {
        // Town halls and intra-commune distances in flat arrays: the loop below touches
        // nothing else.
        // Communes are a reference layer: every slot is live.
        let communes = &model.communes;
        let halls: Vec<(f64, f64)> = communes
            .records()
            .map(|c| (c.mairie_x, c.mairie_y))
            .collect();
        let intra: Vec<f64> = communes
            .records()
            .map(|c| commute_distance_km(c, c))
            .collect();
        // The read model keeps the flows sorted by residence commune code, which is the
        // commune layer's order: pushing them in order groups them by residence commune.
        let mut start = vec![0u32; communes.slots() + 1];
        let mut flows = Vec::with_capacity(model.joins.flow_communes.len());
        let scale = DETOUR_FACTOR / 1000.0;
        for &(a, b, n) in model.joins.flow_communes.iter() {
            if a == NONE || b == NONE {
                continue;
            }
            let d = if a == b {
                intra[a as usize]
            } else {
                let (pa, pb) = (halls[a as usize], halls[b as usize]);
                let (dx, dy) = (pa.0 - pb.0, pa.1 - pb.1);
                (dx * dx + dy * dy).sqrt() * scale
            };
            debug_assert!(flows.last().is_none_or(|f: &Flow| f.0 <= a));
            start[a as usize + 1] += 1;
            flows.push((a, b, n, d));
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        CommuteTable {
            flows,
            origin_start: start,
        }
    }

    /// The flows leaving commune `c` (by commune index).
    pub fn from_origin(&self, c: usize) -> &[Flow] {
        match (self.origin_start.get(c), self.origin_start.get(c + 1)) {
            (Some(&a), Some(&b)) => &self.flows[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// Width of the distance histogram bins used for medians, km.
pub const BIN_KM: f64 = 0.1;
const BINS: usize = 2_000;

struct Acc {
    w: u64,
    j: u64,
    outside: u64,
    km: f64,
    /// Workers by one-way distance, in 0.1 km bins (medians without sorting).
    hist: Vec<u32>,
}

impl Default for Acc {
    fn default() -> Self {
        Acc {
            w: 0,
            j: 0,
            outside: 0,
            km: 0.0,
            hist: vec![0; BINS],
        }
    }
}

/// Median of a histogram of [`BIN_KM`] bins (weights by distance), at the bin's centre;
/// 0 for an empty histogram.
///
/// ```
/// use ecofoncier::metrics::commute::hist_median;
/// // 3 workers at 0–0.1 km, 1 at 0.1–0.2 km, 4 at 0.2–0.3 km: the 4th of 8 is in bin 1.
/// assert!((hist_median(&[3u32, 1, 4]) - 0.15).abs() < 1e-9);
/// assert_eq!(hist_median::<u32>(&[]), 0.0);
/// ```
pub fn hist_median<T: Copy + Into<f64>>(hist: &[T]) -> f64 {
    let total: f64 = hist.iter().map(|&h| h.into()).sum();
    let mut acc = 0.0;
    for (i, &h) in hist.iter().enumerate() {
        acc += h.into();
        if total > 0.0 && acc * 2.0 >= total {
            return (i as f64 + 0.5) * BIN_KM;
        }
    }
    0.0
}

fn bin(d: f64) -> usize {
    ((d / BIN_KM) as usize).min(BINS - 1)
}

impl Acc {
    fn finish(self) -> Baseline {
        let r1 = |v: f64| (v * 10.0).round() / 10.0;
        let w = self.w;
        Baseline {
            actifs_residents: w,
            emplois: self.j,
            emplois_pour_100_actifs: if w > 0 {
                r1(100.0 * self.j as f64 / w as f64)
            } else {
                0.0
            },
            km_jour_aller: self.km.round(),
            km_jour_aller_retour: (2.0 * self.km).round(),
            distance_mediane_km: r1(hist_median(&self.hist)),
            distance_moyenne_km: if w > 0 { r1(self.km / w as f64) } else { 0.0 },
            part_travaillant_hors_territoire_pct: if w > 0 {
                r1(100.0 * self.outside as f64 / w as f64)
            } else {
                0.0
            },
        }
    }
}

/// The baseline of every EPCI, every region (in the order of the model's regions) and the
/// whole dataset, in one pass over the flows.
///
/// For a territory: resident workers W = Σ flows leaving its communes; jobs J = Σ flows
/// arriving in them; jobs per 100 workers = 100 J / W; one-way km a day = Σ actifs × d;
/// return = 2 ×; median (to 0.1 km) and mean of d weighted by actifs; share working outside = flows
/// from its communes to communes outside it / W.
pub fn baselines(
    model: &ReadModel,
    table: &CommuteTable,
) -> (PerCode<Baseline>, Vec<Baseline>, Baseline) {
    let epci_of = &model.joins.commune_epci;
    let region_of = &model.regions.commune;
    let mut per: Vec<Acc> = (0..model.epci.len()).map(|_| Acc::default()).collect();
    let mut regions: Vec<Acc> = (0..model.regions.list.len())
        .map(|_| Acc::default())
        .collect();
    let mut whole = Acc::default();
    for &(a, b, n, d) in &table.flows {
        let (ea, eb) = (epci_of[a as usize] as usize, epci_of[b as usize] as usize);
        let n64 = n as u64;
        let bin = bin(d);
        for (acc, from, to) in [
            (&mut per, ea, eb),
            (
                &mut regions,
                region_of[a as usize] as usize,
                region_of[b as usize] as usize,
            ),
        ] {
            if let Some(acc_to) = acc.get_mut(to) {
                acc_to.j += n64;
            }
            if let Some(acc_from) = acc.get_mut(from) {
                acc_from.w += n64;
                if from != to {
                    acc_from.outside += n64;
                }
                acc_from.km += d * n as f64;
                acc_from.hist[bin] += n;
            }
        }
        whole.w += n64;
        whole.j += n64;
        whole.km += d * n as f64;
        whole.hist[bin] += n;
    }
    (
        PerCode::full(
            model.epci_ids.clone(),
            per.into_iter().map(Acc::finish).collect(),
        ),
        regions.into_iter().map(Acc::finish).collect(),
        whole.finish(),
    )
}

/// Parameters of a new-jobs scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Where the jobs open (Lambert-93).
    pub x: f64,
    pub y: f64,
    /// Jobs opening.
    pub jobs: u32,
    /// Catchment: communes whose town hall is within this straight-line radius, km.
    pub radius_km: f64,
    /// Share of eligible workers who would take a nearer job (0–1).
    pub take_up: f64,
}

/// What a commune's residents gain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CommuneGain {
    pub code_insee: crate::model::Str,
    pub nom: crate::model::Str,
    pub actifs: u32,
    pub km_jour_economises: f64,
}

/// The scenario's effect.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioResult {
    pub emplois: u32,
    pub emplois_pourvus: u32,
    pub km_jour_economises: f64,
    pub km_an_economises: f64,
    pub co2_t_an_evites: f64,
    pub communes: Vec<CommuneGain>,
    pub methode: String,
}

/// Who would take the new jobs, and the travel saved.
///
/// Method: the communes whose town hall lies within `radius_km` of the site, nearest first;
/// in each, the resident workers who now commute farther than the site (d_now > d_site,
/// d_site = straight line × 1.3, at least 1 km), longest commutes first; a share `take_up`
/// of them would take a job there, until the jobs are filled. Each saves 2 × (d_now −
/// d_site) km a working day; a year has 220 working days; 124 g CO₂e/km.
pub fn scenario(model: &ReadModel, table: &CommuteTable, s: &Scenario) -> ScenarioResult {
    let radius_m = s.radius_km * 1000.0;
    let mut near: Vec<(usize, f64)> = model
        .communes
        .iter()
        .enumerate()
        .map(|(i, c)| (i, (c.record.mairie_x - s.x).hypot(c.record.mairie_y - s.y)))
        .filter(|(_, d)| *d <= radius_m)
        .collect();
    near.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut left = s.jobs as f64;
    let mut km_day = 0.0;
    let mut gains = Vec::new();
    for (i, d_m) in near {
        if left <= 0.0 {
            break;
        }
        let c = &model.communes.get(i).record;
        let d_site = (d_m / 1000.0 * DETOUR_FACTOR).max(MIN_TRIP_KM);
        let mut taken = 0.0;
        let mut saved = 0.0;
        // Longest current commutes first (sorted here: only the catchment's communes).
        let mut flows: Vec<(f64, u32)> = table
            .from_origin(i)
            .iter()
            .map(|&(_, _, n, d)| (d, n))
            .collect();
        flows.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(y.1.cmp(&x.1)));
        for (d_now, n) in flows {
            if d_now <= d_site || left <= 0.0 {
                break;
            }
            let k = (n as f64 * s.take_up).min(left);
            taken += k;
            left -= k;
            saved += k * 2.0 * (d_now - d_site);
        }
        if taken > 0.0 {
            km_day += saved;
            gains.push(CommuneGain {
                code_insee: c.code_insee,
                nom: c.nom,
                actifs: taken.round() as u32,
                km_jour_economises: saved.round(),
            });
        }
    }
    gains.sort_by(|a, b| b.km_jour_economises.total_cmp(&a.km_jour_economises));
    gains.truncate(10);
    let filled = (s.jobs as f64 - left.max(0.0)).round() as u32;
    let km_year = km_day * WORKING_DAYS;
    ScenarioResult {
        emplois: s.jobs,
        emplois_pourvus: filled,
        km_jour_economises: km_day.round(),
        km_an_economises: km_year.round(),
        co2_t_an_evites: (km_year * CO2_G_PER_KM / 1e6 * 10.0).round() / 10.0,
        communes: gains,
        methode: format!(
            "Actifs des communes à moins de {} km (les plus proches d'abord) qui travaillent \
             aujourd'hui plus loin que le site, trajets les plus longs d'abord, {} % d'entre eux \
             prenant un emploi ; distance = ligne droite entre mairies × {DETOUR_FACTOR} ; \
             {WORKING_DAYS} jours travaillés par an ; {CO2_G_PER_KM} g CO₂e/km (INSEE \
             Hauts-de-France, tous modes).",
            s.radius_km,
            (s.take_up * 100.0).round()
        ),
    }
}
