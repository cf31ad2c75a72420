//! The seed's indicators over time, per EPCI and year, from the dates the inventory holds.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::date::Date;
use crate::model::codes;
use crate::read_model::{ReadModel, NONE};

use super::occupancy::OccupancyIndex;

/// First year of the series.
pub const FIRST_YEAR: i32 = 2015;

/// One year of an EPCI.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct YearRow {
    pub annee: i32,
    /// Establishments that settled in a zone that year, in a new building.
    pub implantations_za_neuf: u32,
    /// … in a rehabilitated building.
    pub implantations_za_rehabilitation: u32,
    /// Jobs of the establishments that settled that year.
    pub emplois_crees_za: u64,
    /// Useful zone hectares occupied at 31 December / useful hectares, %.
    pub taux_occupation_pct: f64,
    /// Firms that settled in centre-bourg premises that year.
    pub installations_locaux: u32,
    /// Tiers-lieux and France services visits, when reported.
    pub visites_tiers_lieux: Option<u64>,
    /// Procedures done in them, when reported.
    pub demarches_tiers_lieux: Option<u64>,
}

fn year_of(s: &str) -> Option<i32> {
    Date::parse(s).ok().map(|d| d.year)
}

/// The series of `siren` from 2015 to `last_year`.
///
/// Occupancy at 31 December of year Y, over today's useful plots: a plot counts as occupied
/// from its site's creation year, or from its first establishment's settlement year when it
/// is occupied today, until the year its last activity left (`terr_activite_fin_date`); a
/// plot `inoccupé` never counts. Settlements and jobs come from `etab_implantation_date`,
/// `etab_implantation_mode` and `etab_emplois`; premises from `local_installation_annee`;
/// visits and procedures from the tiers-lieux' yearly reports.
pub fn timeline(
    model: &ReadModel,
    occupancy: &OccupancyIndex,
    siren: &str,
    last_year: i32,
) -> Vec<YearRow> {
    let mut rows: BTreeMap<i32, YearRow> = (FIRST_YEAR..=last_year)
        .map(|y| {
            (
                y,
                YearRow {
                    annee: y,
                    ..Default::default()
                },
            )
        })
        .collect();
    let mut first_settled: HashMap<&str, i32> = HashMap::new();
    for e in model.etablissements.iter() {
        let r = &e.record;
        if r.epci_siren != siren {
            continue;
        }
        let Some(y) = year_of(r.implantation_date()) else {
            continue;
        };
        let f = first_settled.entry(r.terr_id.as_str()).or_insert(y);
        *f = (*f).min(y);
        if let Some(row) = rows.get_mut(&y) {
            if r.rehabilitation() {
                row.implantations_za_rehabilitation += 1;
            } else {
                row.implantations_za_neuf += 1;
            }
            row.emplois_crees_za += r.emplois() as u64;
        }
    }
    let mut useful = 0.0;
    let mut occupied: BTreeMap<i32, f64> = BTreeMap::new();
    let e = model.epci_ids.get(siren).map(|&e| e as u32).unwrap_or(NONE);
    let plots = model
        .sites
        .live_slots()
        .filter(|&s| model.joins.site_epci[s] == e)
        .flat_map(|s| occupancy.plots_of(s).map(move |p| (s, p)));
    for (si, p) in plots {
        let site = model.sites.record(si);
        let t = model.terrains.get(p);
        if t.record.terr_utile.as_deref() == Some("non") {
            continue;
        }
        let r = t.record;
        useful += r.terr_surf_brute;
        let created = site
            .site_creation_date
            .as_deref()
            .and_then(year_of)
            .unwrap_or(FIRST_YEAR);
        let (from, until) = match r.terr_etat_occup.as_str() {
            codes::INOCCUPE => continue,
            codes::OCCUPE => (
                first_settled
                    .get(r.terr_id.as_str())
                    .copied()
                    .unwrap_or(created),
                i32::MAX,
            ),
            _ => (
                created,
                r.terr_activite_fin_date
                    .as_deref()
                    .and_then(year_of)
                    .unwrap_or(i32::MIN),
            ),
        };
        for y in FIRST_YEAR..=last_year {
            if from <= y && y < until {
                *occupied.entry(y).or_default() += r.terr_surf_brute;
            }
        }
    }
    for l in model.locaux.iter() {
        if l.record.epci_siren == siren {
            if let Some(row) = l
                .record
                .local_installation_annee
                .and_then(|y| rows.get_mut(&y))
            {
                row.installations_locaux += 1;
            }
        }
    }
    for t in model.tiers_lieux.iter() {
        if t.record.epci_siren != siren {
            continue;
        }
        for a in &t.record.tl_activite {
            if let Some(row) = rows.get_mut(&a.annee) {
                *row.visites_tiers_lieux.get_or_insert(0) += a.visites as u64;
                *row.demarches_tiers_lieux.get_or_insert(0) += a.demarches as u64;
            }
        }
    }
    for (y, row) in rows.iter_mut() {
        let occ = occupied.get(y).copied().unwrap_or(0.0);
        row.taux_occupation_pct = if useful > 0.0 {
            (1000.0 * occ / useful).round() / 10.0
        } else {
            0.0
        };
    }
    rows.into_values().collect()
}
