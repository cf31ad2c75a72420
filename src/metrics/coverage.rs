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

use std::sync::Arc;

use super::PerCode;
use crate::model::Commune;
use crate::read_model::shapes::Kind;
use crate::read_model::ReadModel;

/// How [`suggest`] chooses, in the users' words (served beside its suggestions).
pub const SUGGEST_METHOD: &str =
    "Couverture maximale gloutonne : parmi les mairies, on retient tour à tour celle qui couvre le plus d'habitants non encore couverts.";

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
    /// The nearest site (its slot in the tiers-lieux layer) and its distance in metres.
    pub nearest: Option<(u32, f64)>,
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
        self.apply(c, 1);
    }

    /// Adds (`sign` 1) or takes out (−1) one commune.
    fn apply(&mut self, c: &CommuneCoverage, sign: i64) {
        let pop = c.population as i64 * sign;
        self.population = (self.population as i64 + pop) as u64;
        self.communes = (self.communes as i64 + sign) as u32;
        if c.couverte {
            self.population_couverte = (self.population_couverte as i64 + pop) as u64;
            self.communes_couvertes = (self.communes_couvertes as i64 + sign) as u32;
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
    pub communes: Arc<Vec<CommuneCoverage>>,
}

/// Exact nearest-point distance by a sweep over points sorted by x: from the query's x,
/// walk outwards both ways and stop when the x gap alone exceeds the best distance. With a
/// few hundred sites spread over a region this visits a handful per query, fewer
/// operations than a general R-tree walk; `tests/metrics_fixtures.rs` checks it against a
/// scan.
struct NearestBySweep {
    /// (x, y, slot), by x.
    pts: Vec<(f64, f64, u32)>,
}

impl NearestBySweep {
    fn new(mut pts: Vec<(f64, f64, u32)>) -> Self {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
        NearestBySweep { pts }
    }

    /// The nearest point (its slot; the lowest slot among equally near ones) and its
    /// distance, `None` when there is none.
    fn nearest(&self, x: f64, y: f64) -> Option<(u32, f64)> {
        if self.pts.is_empty() {
            return None;
        }
        let start = self.pts.partition_point(|p| p.0 < x);
        let mut best = (f64::INFINITY, u32::MAX);
        let d2 = |p: &(f64, f64, u32)| (p.0 - x) * (p.0 - x) + (p.1 - y) * (p.1 - y);
        let see = |best: &mut (f64, u32), p: &(f64, f64, u32)| {
            let d = d2(p);
            if d < best.0 || (d == best.0 && p.2 < best.1) {
                *best = (d, p.2);
            }
        };
        for p in &self.pts[start..] {
            if (p.0 - x) * (p.0 - x) > best.0 {
                break;
            }
            see(&mut best, p);
        }
        for p in self.pts[..start].iter().rev() {
            if (x - p.0) * (x - p.0) > best.0 {
                break;
            }
            see(&mut best, p);
        }
        Some((best.1, best.0.sqrt()))
    }
}

/// Town halls in an R-tree.
fn town_halls(model: &ReadModel) -> RTree<Pt> {
    RTree::bulk_load(
        model
            .communes
            .iter()
            .enumerate()
            .map(|(i, c)| Pt::new([c.record.mairie_x, c.record.mairie_y], i))
            .collect(),
    )
}

/// The sites counted: points of the tiers-lieux layer offering `service` (any when none).
fn sites_of(model: &ReadModel, service: Option<&str>) -> NearestBySweep {
    NearestBySweep::new(
        model
            .tiers_lieux
            .iter()
            .filter(|t| service.is_none_or(|s| t.record.offers(s)))
            .filter(|t| t.shape.kind == Kind::Point)
            .map(|t| {
                let p = t.shape.first();
                (p.x, p.y, t.slot as u32)
            })
            .collect(),
    )
}

/// A commune's coverage from its nearest site.
fn commune_coverage(
    ci: usize,
    c: &Commune,
    nearest: Option<(u32, f64)>,
    r: f64,
) -> CommuneCoverage {
    let d = nearest.map(|n| n.1);
    CommuneCoverage {
        commune: ci,
        population: c.population,
        couverte: d.is_some_and(|d| d <= r),
        distance_km: d.map(|d| (d / 100.0).round() / 10.0),
        nearest,
    }
}

/// Computes coverage for `radius_km` and optionally one service.
pub fn coverage(model: &ReadModel, radius_km: f64, service: Option<&str>) -> Coverage {
    let near = sites_of(model, service);
    let r = radius_km * 1000.0;
    let mut out = Coverage {
        radius_km,
        service: service.map(str::to_string),
        sites: near.pts.len(),
        region: Totals::default(),
        epci: PerCode::new(model.epci_ids.clone(), Vec::new()),
        communes: Arc::new(Vec::with_capacity(model.communes.len())),
    };
    let mut per_epci = vec![Totals::default(); model.epci.slots()];
    let mut communes = Vec::with_capacity(model.communes.slots());
    for (ci, c) in model.communes.records().enumerate() {
        let cc = commune_coverage(ci, c, near.nearest(c.mairie_x, c.mairie_y), r);
        out.region.add(&cc);
        if let Some(t) = per_epci.get_mut(model.joins.commune_epci[ci] as usize) {
            t.add(&cc);
        }
        communes.push(cc);
    }
    out.communes = Arc::new(communes);
    out.epci = PerCode::full(model.epci_ids.clone(), per_epci);
    out
}

impl Coverage {
    /// The totals of each region of `regions` (in the order of its list): the sums over
    /// the communes of each, so they add up to [`Coverage::region`] (the whole dataset)
    /// when every commune names its region. One pass over the communes.
    pub fn of_regions(&self, regions: &crate::read_model::regions::Regions) -> Vec<Totals> {
        let mut out = vec![Totals::default(); regions.list.len()];
        for (ci, c) in self.communes.iter().enumerate() {
            if let Some(t) = regions
                .commune
                .get(ci)
                .and_then(|&r| out.get_mut(r as usize))
            {
                t.add(c);
            }
        }
        out
    }

    /// Follows a change of tiers-lieu `slot` from `old` to `new` (the models before and
    /// after): the communes whose nearest site it was, and those it is now nearer to than
    /// their nearest, find their nearest site again; their EPCIs' and the region's totals
    /// move by the difference. The same as [`coverage`] on `new`, in one pass over the
    /// communes and no more site searches than communes affected.
    pub fn replace_site(&mut self, old: &ReadModel, new: &ReadModel, slot: usize) {
        let service = self.service.clone();
        let point = |m: &ReadModel| {
            (m.tiers_lieux.is_live(slot)
                && m.tiers_lieux.shape(slot).kind == Kind::Point
                && service
                    .as_deref()
                    .is_none_or(|s| m.tiers_lieux.record(slot).offers(s)))
            .then(|| m.tiers_lieux.shape(slot).first())
        };
        let (before, after) = (point(old), point(new));
        if before.is_none() && after.is_none() {
            return;
        }
        let near = sites_of(new, service.as_deref());
        self.sites = near.pts.len();
        let r = self.radius_km * 1000.0;
        let communes = Arc::make_mut(&mut self.communes);
        for (ci, cc) in communes.iter_mut().enumerate() {
            let c = new.communes.record(ci);
            let was_nearest = cc.nearest.is_some_and(|n| n.0 as usize == slot);
            let nearer = after.is_some_and(|p| {
                let d = (p.x - c.mairie_x).hypot(p.y - c.mairie_y);
                cc.nearest.is_none_or(|n| d <= n.1)
            });
            if !was_nearest && !nearer {
                continue;
            }
            let next = commune_coverage(ci, c, near.nearest(c.mairie_x, c.mairie_y), r);
            if next != *cc {
                self.region.apply(cc, -1);
                self.region.apply(&next, 1);
                if let Some(t) = self.epci.at_mut(new.joins.commune_epci[ci] as usize) {
                    t.apply(cc, -1);
                    t.apply(&next, 1);
                }
                *cc = next;
            }
        }
    }
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
        .iter()
        .map(|c| c.record.population as u64)
        .collect();
    let mut covered: Vec<bool> = base.communes.iter().map(|c| c.couverte).collect();
    // What each candidate would reach.
    let reach: Vec<Vec<usize>> = model
        .communes
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
