//! Vacant-plot search for EPCI economic developers: plots a firm could settle on, filtered
//! by territory, size, stages, the site's networks and vocation, sorted by distance.

use serde::Serialize;

use crate::model::{codes, Site, Terrain};
use crate::read_model::{ReadModel, NONE};

use super::occupancy::OccupancyIndex;

/// Occupation states a firm can settle on: not in use.
pub const AVAILABLE_STATES: [&str; 3] = [codes::VACANT, codes::INOCCUPE, codes::FRICHE];
/// [`AVAILABLE_STATES`] as indices in [`codes::TERR_ETAT_OCCUP`] (see
/// [`crate::read_model::PlotFacts::etat`]).
const AVAILABLE_INDICES: [u8; 3] = [
    codes::position(codes::TERR_ETAT_OCCUP, codes::VACANT) as u8,
    codes::position(codes::TERR_ETAT_OCCUP, codes::INOCCUPE) as u8,
    codes::position(codes::TERR_ETAT_OCCUP, codes::FRICHE) as u8,
];

/// Search criteria; `None` means no constraint.
#[derive(Clone, Debug, Default)]
pub struct Criteria {
    pub epci: Option<String>,
    /// Lambert-93 point and radius (m).
    pub near: Option<(f64, f64)>,
    pub radius_m: Option<f64>,
    pub min_ha: Option<f64>,
    pub max_ha: Option<f64>,
    pub stade_comm: Vec<String>,
    pub stade_amngt: Vec<String>,
    /// Networks the site must have (`fibre_optique`, `fret_ferroviaire`, …).
    pub reseau: Vec<String>,
    pub vocation: Vec<String>,
    pub limit: usize,
}

/// One result: the plot, its site, its distance.
#[derive(Clone, Debug)]
pub struct Hit {
    pub plot: usize,
    pub site: Option<usize>,
    /// Metres from `near` (0 inside), when a point was given.
    pub distance_m: Option<f64>,
}

/// True when the site has network `name` (`reseau_<name>` = oui, or `desserte_tc` for
/// `transport_commun`).
pub fn site_has(site: &Site, name: &str) -> bool {
    let v = match name {
        "eau_pluviale" => &site.reseau_eau_pluviale,
        "eau_potable" => &site.reseau_eau_potable,
        "assainissement" => &site.reseau_assainissement,
        "gaz" => &site.reseau_gaz,
        "electrique" => &site.reseau_electrique,
        "fibre_optique" => &site.reseau_fibre_optique,
        "fret_ferroviaire" => &site.reseau_fret_ferroviaire,
        "fluvial" => &site.reseau_fluvial,
        "transport_commun" => &site.desserte_tc,
        _ => return false,
    };
    v.as_deref() == Some("oui")
}

fn plot_matches(t: &Terrain, site: Option<&Site>, c: &Criteria) -> bool {
    if !AVAILABLE_STATES.contains(&t.terr_etat_occup.as_str())
        || t.terr_utile.as_deref() == Some("non")
    {
        return false;
    }
    if c.min_ha.is_some_and(|m| t.terr_surf_brute < m)
        || c.max_ha.is_some_and(|m| t.terr_surf_brute > m)
    {
        return false;
    }
    if !c.stade_comm.is_empty() && !c.stade_comm.iter().any(|s| *s == t.terr_stade_comm) {
        return false;
    }
    if !c.stade_amngt.is_empty() && !c.stade_amngt.iter().any(|s| *s == t.terr_stade_amngt) {
        return false;
    }
    let Some(site) = site else {
        return c.epci.is_none() && c.reseau.is_empty() && c.vocation.is_empty();
    };
    if c.epci.as_ref().is_some_and(|e| &site.site_epci_siren != e) {
        return false;
    }
    if !c.vocation.is_empty() && !c.vocation.iter().any(|v| *v == site.site_vocadomi) {
        return false;
    }
    c.reseau.iter().all(|n| site_has(site, n))
}

/// Runs the search. With `near`, walks the plots by increasing true distance through the
/// R-tree (nearest-neighbour iterator) and stops at the radius or the limit; without, scans
/// in id order.
pub fn search(model: &ReadModel, occupancy: &OccupancyIndex, c: &Criteria) -> (Vec<Hit>, usize) {
    let mut hits = Vec::new();
    let mut matched = 0;
    let site_of = |i: usize| {
        occupancy
            .plot_site
            .try_get(i)
            .filter(|&&s| s != NONE)
            .map(|&s| s as usize)
    };
    let mut consider = |i: usize, d: Option<f64>, hits: &mut Vec<Hit>| {
        // The plot's state and use first, from its typed facts.
        let f = &model.plot_facts[i];
        if !f.useful || !AVAILABLE_INDICES.contains(&f.etat) {
            return;
        }
        let s = site_of(i);
        let rec = model.terrains.record(i);
        if plot_matches(rec, s.map(|s| model.sites.record(s)), c) {
            matched += 1;
            if hits.len() < c.limit {
                hits.push(Hit {
                    plot: i,
                    site: s,
                    distance_m: d,
                });
            }
        }
    };
    match c.near {
        Some((x, y)) => {
            let max = c.radius_m.unwrap_or(f64::INFINITY);
            for (i, d) in model.terrains.nearest(x, y) {
                if d > max {
                    break;
                }
                consider(i, Some(d), &mut hits);
            }
        }
        None => {
            for i in model.terrains.live_slots() {
                consider(i, None, &mut hits);
            }
        }
    }
    (hits, matched)
}

/// Site fields returned with each hit: name, vocation and access.
#[derive(Clone, Debug, Serialize)]
pub struct SiteSummary<'a> {
    pub site_id: &'a str,
    pub site_nom: &'a str,
    pub site_vocadomi: &'a str,
    pub site_epci_siren: &'a str,
    pub site_epci_nom: &'a str,
    pub site_comm_nom: &'a str,
    pub desserte_route_nom: Option<&'a str>,
    pub autoroute_nom: Option<&'a str>,
    pub autoroute_echang_dist: Option<f64>,
    pub gare_nom: Option<&'a str>,
    pub gare_dist: Option<f64>,
    pub desserte_tc: Option<&'a str>,
}

impl<'a> SiteSummary<'a> {
    pub fn of(s: &'a Site) -> Self {
        SiteSummary {
            site_id: &s.site_id,
            site_nom: &s.site_nom,
            site_vocadomi: &s.site_vocadomi,
            site_epci_siren: &s.site_epci_siren,
            site_epci_nom: &s.site_epci_nom,
            site_comm_nom: &s.site_comm_nom,
            desserte_route_nom: s.desserte_route_nom.as_deref(),
            autoroute_nom: s.autoroute_nom.as_deref(),
            autoroute_echang_dist: s.autoroute_echang_dist,
            gare_nom: s.gare_nom.as_deref(),
            gare_dist: s.gare_dist,
            desserte_tc: s.desserte_tc.as_deref(),
        }
    }
}
