//! Tiers-lieux coverage: the population living within reach of a tiers-lieu or a France
//! services site, and where new ones would reach the most people.
//!
//! A commune is covered when its town hall lies within `radius_km` (straight line,
//! Lambert-93) of a site offering the service asked (any site when none is asked); its
//! whole legal population then counts as covered. Coverage = covered population / population.

use std::collections::HashSet;

use rstar::primitives::GeomWithData;
use rstar::RTree;
use serde::Serialize;

use super::PerCode;
use crate::read_model::ReadModel;

type Pt = GeomWithData<[f64; 2], usize>;

/// Coverage of one commune (serialized with its names by [`CommuneCoverage::named`]).
#[derive(Clone, Debug, PartialEq)]
pub struct CommuneCoverage {
    /// Index in the commune layer (which is in INSEE code order).
    pub commune: usize,
    pub population: u32,
    pub couverte: bool,
    /// Straight-line distance from the town hall to the nearest site, km.
    pub distance_km: Option<f64>,
}

/// A commune's coverage with its code and names, as served.
#[derive(Serialize)]
pub struct NamedCoverage<'a> {
    pub code_insee: &'a str,
    pub nom: &'a str,
    pub epci_siren: &'a str,
    pub population: u32,
    pub couverte: bool,
    pub distance_km: Option<f64>,
}

impl CommuneCoverage {
    /// This commune's coverage with the commune's code and names from `model`.
    pub fn named<'a>(&self, model: &'a ReadModel) -> NamedCoverage<'a> {
        let c = &model.communes.get(self.commune).record;
        NamedCoverage {
            code_insee: &c.code_insee,
            nom: &c.nom,
            epci_siren: &c.epci_siren,
            population: self.population,
            couverte: self.couverte,
            distance_km: self.distance_km,
        }
    }
}

/// Coverage of a set of communes.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    pub population: u64,
    pub population_couverte: u64,
    pub taux_couverture_pct: f64,
    pub communes: u32,
    pub communes_couvertes: u32,
}

impl Totals {
    fn add(&mut self, c: &CommuneCoverage) {
        self.population += c.population as u64;
        self.communes += 1;
        if c.couverte {
            self.population_couverte += c.population as u64;
            self.communes_couvertes += 1;
        }
        self.finish();
    }

    fn finish(&mut self) {
        self.taux_couverture_pct = if self.population > 0 {
            (1000.0 * self.population_couverte as f64 / self.population as f64).round() / 10.0
        } else {
            0.0
        };
    }
}

/// Coverage of every commune, every EPCI and the region.
#[derive(Clone, Debug, PartialEq)]
pub struct Coverage {
    pub radius_km: f64,
    pub service: Option<String>,
    pub sites: usize,
    pub region: Totals,
    pub epci: PerCode<Totals>,
    pub communes: Vec<CommuneCoverage>,
}

/// Exact nearest-point distance by a sweep over points sorted by x: from the query's x,
/// walk outwards both ways and stop when the x gap alone exceeds the best distance. With a
/// few hundred sites spread over a region this visits a handful per query, fewer
/// operations than a general R-tree walk; `tests/metrics_fixtures.rs` checks it against a
/// scan.
struct NearestBySweep {
    pts: Vec<[f64; 2]>,
}

impl NearestBySweep {
    fn new(points: &[[f64; 2]]) -> Self {
        let mut pts = points.to_vec();
        pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
        NearestBySweep { pts }
    }

    /// Distance to the nearest point, `None` when there is none.
    fn distance(&self, x: f64, y: f64) -> Option<f64> {
        if self.pts.is_empty() {
            return None;
        }
        let start = self.pts.partition_point(|p| p[0] < x);
        let mut best = f64::INFINITY;
        let d2 = |p: &[f64; 2]| (p[0] - x) * (p[0] - x) + (p[1] - y) * (p[1] - y);
        for p in &self.pts[start..] {
            if (p[0] - x) * (p[0] - x) > best {
                break;
            }
            best = best.min(d2(p));
        }
        for p in self.pts[..start].iter().rev() {
            if (x - p[0]) * (x - p[0]) > best {
                break;
            }
            best = best.min(d2(p));
        }
        Some(best.sqrt())
    }
}

/// Town halls in an R-tree.
fn town_halls(model: &ReadModel) -> RTree<Pt> {
    RTree::bulk_load(
        model
            .communes
            .features()
            .iter()
            .enumerate()
            .map(|(i, c)| Pt::new([c.record.mairie_x, c.record.mairie_y], i))
            .collect(),
    )
}

/// Computes coverage for `radius_km` and optionally one service.
pub fn coverage(model: &ReadModel, radius_km: f64, service: Option<&str>) -> Coverage {
    let sites: Vec<[f64; 2]> = model
        .tiers_lieux
        .features()
        .iter()
        .filter(|t| service.is_none_or(|s| t.record.offers(s)))
        .filter_map(|t| match &t.geometry {
            geo::Geometry::Point(p) => Some([p.x(), p.y()]),
            _ => None,
        })
        .collect();
    let near = NearestBySweep::new(&sites);
    let r = radius_km * 1000.0;
    let mut out = Coverage {
        radius_km,
        service: service.map(str::to_string),
        sites: sites.len(),
        region: Totals::default(),
        epci: PerCode::new(model.epci.ids(), Vec::new()),
        communes: Vec::with_capacity(model.communes.len()),
    };
    let mut per_epci = vec![Totals::default(); model.epci.len()];
    for (ci, c) in model.communes.features().iter().enumerate() {
        let c = &c.record;
        let d = near.distance(c.mairie_x, c.mairie_y);
        let cc = CommuneCoverage {
            commune: ci,
            population: c.population,
            couverte: d.is_some_and(|d| d <= r),
            distance_km: d.map(|d| (d / 100.0).round() / 10.0),
        };
        out.region.add(&cc);
        if let Some(t) = per_epci.get_mut(model.joins.commune_epci[ci] as usize) {
            t.add(&cc);
        }
        out.communes.push(cc);
    }
    out.epci = PerCode::full(model.epci.ids(), per_epci);
    out
}

/// One suggested new site.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suggestion {
    pub rang: usize,
    pub code_insee: crate::model::Str,
    pub nom: crate::model::Str,
    pub epci_siren: crate::model::Str,
    /// Population newly covered by this site, given the ones before it.
    pub population_gagnee: u64,
    /// Regional coverage after adding it, %.
    pub taux_couverture_apres_pct: f64,
}

/// Greedy maximal coverage: among all town halls, pick `k` times the one whose circle of
/// `radius_km` covers the most population not yet covered (by existing sites or earlier
/// picks). The greedy choice is within 1 − 1/e of the best k-set (Nemhauser et al., 1978).
pub fn suggest(
    model: &ReadModel,
    k: usize,
    radius_km: f64,
    service: Option<&str>,
) -> Vec<Suggestion> {
    let base = coverage(model, radius_km, service);
    let halls = town_halls(model);
    let r2 = (radius_km * 1000.0).powi(2);
    let pops: Vec<u64> = model
        .communes
        .features()
        .iter()
        .map(|c| c.record.population as u64)
        .collect();
    let mut covered: Vec<bool> = base.communes.iter().map(|c| c.couverte).collect();
    // What each candidate would reach.
    let reach: Vec<Vec<usize>> = model
        .communes
        .features()
        .iter()
        .map(|c| {
            halls
                .locate_within_distance([c.record.mairie_x, c.record.mairie_y], r2)
                .map(|p| p.data)
                .collect()
        })
        .collect();
    let total: u64 = pops.iter().sum();
    let mut now: u64 = base.region.population_couverte;
    let mut picked = HashSet::new();
    let mut out = Vec::new();
    for rang in 1..=k {
        let best = reach
            .iter()
            .enumerate()
            .filter(|(i, _)| !picked.contains(i))
            .map(|(i, r)| {
                (
                    i,
                    r.iter()
                        .filter(|&&j| !covered[j])
                        .map(|&j| pops[j])
                        .sum::<u64>(),
                )
            })
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
        let Some((i, gain)) = best else { break };
        if gain == 0 {
            break;
        }
        picked.insert(i);
        for &j in &reach[i] {
            covered[j] = true;
        }
        now += gain;
        let c = &model.communes.get(i).record;
        out.push(Suggestion {
            rang,
            code_insee: c.code_insee,
            nom: c.nom,
            epci_siren: c.epci_siren,
            population_gagnee: gain,
            taux_couverture_apres_pct: (1000.0 * now as f64 / total as f64).round() / 10.0,
        });
    }
    out
}
