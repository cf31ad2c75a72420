//! Sobriety check of a proposed new zone, before any land is consumed: how big it is, where
//! it falls, what it overlaps, how much of the ZAN allowance it would take, what land is
//! already available nearby, and the commuting effect of the jobs it would bring.

use std::collections::BTreeMap;

use geo::{Area, BooleanOps, BoundingRect, Centroid, Distance, Euclidean, Geometry, MultiPolygon};
use rstar::AABB;
use serde::Serialize;

use crate::read_model::{ReadModel, M2_PER_HA};

use super::commute::{self, Scenario, ScenarioResult};
use super::search::AVAILABLE_STATES;
use super::Metrics;
use crate::model::codes;

/// Default search radius for land already available, km.
pub const DEFAULT_RADIUS_KM: f64 = 15.0;
/// Catchment and take-up of the commuting effect of the proposal's jobs.
pub const COMMUTE_RADIUS_KM: f64 = 30.0;
pub const COMMUTE_TAKE_UP: f64 = 0.3;

/// A validated proposal, in Lambert-93.
#[derive(Clone, Debug)]
pub struct Proposal {
    pub area: MultiPolygon<f64>,
    pub jobs: Option<u32>,
    pub vocation: Option<String>,
    pub radius_km: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Share {
    pub code: crate::model::Str,
    pub nom: crate::model::Str,
    pub surface_ha: f64,
    /// Share of the proposal's area, %.
    pub part_pct: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct EpciShare {
    pub epci_siren: crate::model::Str,
    pub epci_nom: crate::model::Str,
    pub surface_ha: f64,
    pub part_pct: f64,
    /// Remaining ZAN allowance of the EPCI, ha.
    pub reste_zan_ha: f64,
    /// Share of that remaining allowance the proposal would consume, % (∞ when none is left).
    pub part_reste_zan_pct: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Overlap {
    pub site_id: crate::model::Str,
    pub site_nom: crate::model::Str,
    pub surface_ha: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct NearbyPlot {
    pub terr_id: crate::model::Str,
    pub site_id: Option<crate::model::Str>,
    pub terr_surf_brute: f64,
    pub terr_etat_occup: crate::model::Str,
    pub terr_stade_comm: crate::model::Str,
    pub distance_km: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub surface_ha: f64,
    pub communes: Vec<Share>,
    pub epci: Vec<EpciShare>,
    pub chevauchements: Vec<Overlap>,
    pub surface_chevauchee_ha: f64,
    pub rayon_km: f64,
    /// Plots not in use or for sale within the radius.
    pub terrains_disponibles: usize,
    pub surface_disponible_ha: f64,
    /// Available hectares / proposal hectares.
    pub ratio_disponible: f64,
    /// The 20 nearest available plots.
    pub terrains_proches: Vec<NearbyPlot>,
    pub navettes: Option<ScenarioResult>,
    pub constats: Vec<String>,
}

fn ha(m2: f64) -> f64 {
    (m2 / M2_PER_HA * 100.0).round() / 100.0
}

/// A number written the French way: decimal comma, thousands grouped by a narrow no-break
/// space (`540 110`, `2,3`).
///
/// ```
/// use ecofoncier::metrics::proposal::fr;
/// assert_eq!(fr(540_110.0, 0), "540\u{202f}110");
/// assert_eq!(fr(-2.26, 1), "-2,3");
/// assert_eq!(fr(-0.04, 1), "0,0"); // no negative zero
/// ```
pub fn fr(v: f64, decimals: usize) -> String {
    let mut s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].bytes().all(|b| b == b'0' || b == b'.') {
        s.remove(0);
    }
    let (int, dec) = s.split_once('.').unwrap_or((&s, ""));
    let (sign, digits) = int.split_at(usize::from(int.starts_with('-')));
    let mut out = String::from(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if !dec.is_empty() {
        out.push(',');
        out.push_str(dec);
    }
    out
}

/// Runs the check.
///
/// - area: planar area in Lambert-93 (m² → ha);
/// - communes and EPCIs: area of the intersection with each commune (R-tree candidates,
///   exact polygon intersection), share = intersection / proposal; EPCIs sum their communes;
/// - ZAN: share of each EPCI's remaining 2021–2030 allowance ([`super::land_take`]) =
///   area in the EPCI / remaining;
/// - overlap: intersection with existing sites;
/// - available land: plots `vacant`, `inoccupé` or `friche`, or `en vente` (with or without
///   constraints), useful, whose distance to the proposal is at most `radius_km` and, when
///   the proposal names a vocation, whose site welcomes it ([`crate::model::Site::welcomes`]);
///   ratio = their hectares / the proposal's;
/// - commuting: the new-jobs scenario at the proposal's centroid (30 km, 30 % take-up).
pub fn check(model: &ReadModel, metrics: &Metrics, p: &Proposal) -> CheckResult {
    let total_m2 = p.area.unsigned_area();
    let env = p
        .area
        .bounding_rect()
        .map(|r| AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]));

    let mut communes = Vec::new();
    let mut by_epci: BTreeMap<crate::model::Str, f64> = BTreeMap::new();
    let mut overlaps = Vec::new();
    let mut overlap_m2 = 0.0;
    if let Some(env) = env {
        let mut cands: Vec<usize> = model.communes.in_envelope(&env).collect();
        cands.sort_unstable();
        for i in cands {
            let c = model.communes.get(i);
            let inter = p
                .area
                .intersection(&c.shape.to_multipolygon())
                .unsigned_area();
            if inter > 0.0 {
                communes.push(Share {
                    code: c.record.code_insee,
                    nom: c.record.nom,
                    surface_ha: ha(inter),
                    part_pct: (1000.0 * inter / total_m2).round() / 10.0,
                });
                *by_epci.entry(c.record.epci_siren).or_default() += inter;
            }
        }
        let mut sites: Vec<usize> = model.sites.in_envelope(&env).collect();
        sites.sort_unstable();
        for i in sites {
            let s = model.sites.get(i);
            let inter = p
                .area
                .intersection(&s.shape.to_multipolygon())
                .unsigned_area();
            if inter > 0.0 {
                overlap_m2 += inter;
                overlaps.push(Overlap {
                    site_id: s.record.site_id,
                    site_nom: s.record.site_nom,
                    surface_ha: ha(inter),
                });
            }
        }
    }
    let epci: Vec<EpciShare> = by_epci
        .into_iter()
        .map(|(siren, m2)| {
            let name = model
                .epci
                .by_id(&siren)
                .map(|e| e.record.epci_nom)
                .unwrap_or_default();
            let reste = metrics
                .zan_epci
                .get(&siren)
                .map(|b| b.reste_ha)
                .unwrap_or(0.0);
            EpciShare {
                epci_siren: siren,
                epci_nom: name,
                surface_ha: ha(m2),
                part_pct: (1000.0 * m2 / total_m2).round() / 10.0,
                reste_zan_ha: reste,
                part_reste_zan_pct: (reste > 0.0).then(|| (1000.0 * ha(m2) / reste).round() / 10.0),
            }
        })
        .collect();

    // Available land within the radius.
    let r = p.radius_km * 1000.0;
    let area = Geometry::MultiPolygon(p.area.clone());
    let mut nearby: Vec<(f64, usize)> = Vec::new();
    if let Some(env) = env {
        let search = AABB::from_corners(
            [env.lower()[0] - r, env.lower()[1] - r],
            [env.upper()[0] + r, env.upper()[1] + r],
        );
        for i in model.terrains.in_envelope(&search) {
            let t = model.terrains.get(i);
            let rec = &t.record;
            let available = AVAILABLE_STATES.contains(&rec.terr_etat_occup.as_str())
                || matches!(
                    rec.terr_stade_comm.as_str(),
                    codes::EN_VENTE | codes::EN_VENTE_CONTRAINTES
                );
            if !available
                || rec.terr_utile.as_deref() == Some("non")
                || rec.terr_etat_occup == codes::OCCUPE
            {
                continue;
            }
            if let Some(v) = &p.vocation {
                if !model
                    .named_site(i)
                    .is_some_and(|s| model.sites.record(s).welcomes(v))
                {
                    continue;
                }
            }
            let d = Euclidean.distance(&t.geometry(), &area);
            if d <= r {
                nearby.push((d, i));
            }
        }
    }
    nearby.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let avail_ha: f64 = nearby
        .iter()
        .map(|&(_, i)| model.terrains.get(i).record.terr_surf_brute)
        .sum();
    let total_ha = total_m2 / M2_PER_HA;
    let ratio = if total_ha > 0.0 {
        avail_ha / total_ha
    } else {
        0.0
    };
    let terrains_proches = nearby
        .iter()
        .take(20)
        .map(|&(d, i)| {
            let t = &model.terrains.get(i).record;
            NearbyPlot {
                terr_id: t.terr_id,
                site_id: t.site_id,
                terr_surf_brute: t.terr_surf_brute,
                terr_etat_occup: t.terr_etat_occup,
                terr_stade_comm: t.terr_stade_comm,
                distance_km: (d / 100.0).round() / 10.0,
            }
        })
        .collect();

    let navettes = p.jobs.filter(|&j| j > 0).and_then(|jobs| {
        let c = p.area.centroid()?;
        Some(commute::scenario(
            model,
            &metrics.commute,
            &Scenario {
                x: c.x(),
                y: c.y(),
                jobs,
                radius_km: COMMUTE_RADIUS_KM,
                take_up: COMMUTE_TAKE_UP,
            },
        ))
    });

    let mut constats = Vec::new();
    constats.push(format!("La zone proposée couvre {} ha.", fr(total_ha, 1)));
    let sites_of = p
        .vocation
        .as_ref()
        .map(|v| format!(", dans des sites qui accueillent la vocation « {v} »"))
        .unwrap_or_default();
    if ratio >= 1.0 {
        constats.push(format!(
            "{} fois la surface demandée est déjà disponible à moins de {} km ({} ha sur {} terrains vacants, inoccupés, en friche ou en vente{sites_of}).",
            fr(ratio, 1),
            fr(p.radius_km, 0),
            fr(avail_ha, 1),
            nearby.len()
        ));
    } else {
        constats.push(format!(
            "Seuls {} ha sont disponibles à moins de {} km{sites_of}, soit {} % de la surface demandée.",
            fr(avail_ha, 1),
            fr(p.radius_km, 0),
            fr(ratio * 100.0, 0)
        ));
    }
    for e in &epci {
        if metrics.zan_epci.get(&e.epci_siren).is_none() {
            constats.push(format!(
                "Aucune consommation d'espaces n'est connue pour {} : sa part de l'enveloppe ZAN n'est pas calculée.",
                e.epci_nom
            ));
            continue;
        }
        match e.part_reste_zan_pct {
            Some(pct) => constats.push(format!(
                "Elle consommerait {} % de l'enveloppe ZAN restante de {} ({} ha restants sur 2021-2030).",
                fr(pct, 1),
                e.epci_nom,
                fr(e.reste_zan_ha, 1)
            )),
            None => constats.push(format!(
                "{} a déjà épuisé son enveloppe ZAN 2021-2030.",
                e.epci_nom
            )),
        }
    }
    if overlap_m2 > 0.0 {
        constats.push(format!(
            "Elle chevauche {} site(s) économique(s) existant(s) sur {} ha.",
            overlaps.len(),
            fr(overlap_m2 / M2_PER_HA, 1)
        ));
    }
    if let Some(n) = &navettes {
        constats.push(format!(
            "Les {} emplois prévus éviteraient environ {} km de trajets domicile-travail par an ({} t CO₂e).",
            n.emplois,
            fr(n.km_an_economises, 0),
            fr(n.co2_t_an_evites, 1)
        ));
    }

    CheckResult {
        surface_ha: ha(total_m2),
        communes,
        epci,
        chevauchements: overlaps,
        surface_chevauchee_ha: ha(overlap_m2),
        rayon_km: p.radius_km,
        terrains_disponibles: nearby.len(),
        surface_disponible_ha: (avail_ha * 100.0).round() / 100.0,
        ratio_disponible: (ratio * 100.0).round() / 100.0,
        terrains_proches,
        navettes,
        constats,
    }
}

#[cfg(test)]
mod fr_tests {
    #[test]
    fn french_numbers() {
        assert_eq!(super::fr(2.345, 1), "2,3");
        assert_eq!(super::fr(540110.0, 0), "540\u{202f}110");
        assert_eq!(super::fr(-1234567.891, 2), "-1\u{202f}234\u{202f}567,89");
        assert_eq!(super::fr(999.0, 0), "999");
        assert_eq!(super::fr(0.0, 1), "0,0");
    }
}
