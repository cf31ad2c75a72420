//! The inter-EPCI comparison: one row of indicators per EPCI, medians of the rural and the
//! urban EPCIs, and similar territories.

use serde::Serialize;

use crate::model::TerritoryClass;
use crate::read_model::ReadModel;

use super::Metrics;

/// One EPCI's indicators (the columns of the comparison table and of its CSV export).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EpciIndicators {
    pub epci_siren: crate::model::Str,
    pub epci_nom: crate::model::Str,
    pub epci_type: crate::model::Str,
    pub classe: String,
    pub population: u64,
    pub surface_ha: f64,
    pub densite_hab_km2: f64,
    pub sites: u32,
    pub surface_zae_ha: f64,
    pub surface_utile_ha: f64,
    pub taux_occupation_pct: f64,
    pub uf_nbre: u32,
    pub uf_vacant_nbre: u32,
    pub taux_vacance_legal: u32,
    pub surface_en_vente_ha: f64,
    pub etablissements_za: u32,
    pub emplois_za: u64,
    pub zan_reference_ha: f64,
    pub zan_enveloppe_ha: f64,
    pub zan_consomme_ha: f64,
    pub zan_reste_ha: f64,
    pub zan_part_consommee_pct: f64,
    pub zan_projection_pct: f64,
    pub zan_part_activite_pct: f64,
    pub actifs_residents: u64,
    pub emplois: u64,
    pub emplois_pour_100_actifs: f64,
    pub distance_mediane_km: f64,
    pub part_travaillant_hors_epci_pct: f64,
    pub km_jour_aller_retour: f64,
    pub tiers_lieux: u32,
    pub france_services: u32,
    pub couverture_tiers_lieux_pct: f64,
    pub locaux_commerciaux: u32,
    pub taux_vacance_locaux_pct: f64,
    pub commerces_installes: u32,
}

/// Every column of [`EpciIndicators`]: field, French label, unit ("" for none), in the
/// struct's order (the spreadsheet exports' headers).
pub const COLUMNS: &[(&str, &str, &str)] = &[
    ("epci_siren", "SIREN", ""),
    ("epci_nom", "Intercommunalité", ""),
    ("epci_type", "Type", ""),
    ("classe", "Classe (rural / urbain)", ""),
    ("population", "Population", "hab."),
    ("surface_ha", "Superficie", "ha"),
    ("densite_hab_km2", "Densité", "hab./km²"),
    ("sites", "Sites économiques", "nombre"),
    ("surface_zae_ha", "Surface des ZAE", "ha"),
    ("surface_utile_ha", "Surface utile des ZAE", "ha"),
    ("taux_occupation_pct", "Taux d'occupation des ZAE", "%"),
    ("uf_nbre", "Unités foncières", "nombre"),
    ("uf_vacant_nbre", "Unités foncières vacantes", "nombre"),
    ("taux_vacance_legal", "Taux de vacance (légal)", "%"),
    ("surface_en_vente_ha", "Surface en vente", "ha"),
    ("etablissements_za", "Établissements en zone", "nombre"),
    ("emplois_za", "Emplois en zone", "nombre"),
    (
        "zan_reference_ha",
        "Consommation de référence 2011-2020",
        "ha",
    ),
    ("zan_enveloppe_ha", "Enveloppe ZAN 2021-2030", "ha"),
    ("zan_consomme_ha", "Consommé depuis 2021", "ha"),
    ("zan_reste_ha", "Reste de l'enveloppe", "ha"),
    (
        "zan_part_consommee_pct",
        "Part de l'enveloppe consommée",
        "%",
    ),
    (
        "zan_projection_pct",
        "Projection 2031 (part de l'enveloppe)",
        "%",
    ),
    (
        "zan_part_activite_pct",
        "Part de l'activité dans la consommation",
        "%",
    ),
    ("actifs_residents", "Actifs résidents", "nombre"),
    ("emplois", "Emplois", "nombre"),
    (
        "emplois_pour_100_actifs",
        "Emplois pour 100 actifs",
        "nombre",
    ),
    (
        "distance_mediane_km",
        "Distance domicile-travail médiane",
        "km",
    ),
    (
        "part_travaillant_hors_epci_pct",
        "Actifs travaillant hors de l'EPCI",
        "%",
    ),
    (
        "km_jour_aller_retour",
        "Distance parcourue par jour (aller-retour)",
        "km",
    ),
    ("tiers_lieux", "Tiers-lieux", "nombre"),
    ("france_services", "France services", "nombre"),
    (
        "couverture_tiers_lieux_pct",
        "Population à portée d'un tiers-lieu",
        "%",
    ),
    (
        "locaux_commerciaux",
        "Locaux commerciaux de centre-bourg",
        "nombre",
    ),
    (
        "taux_vacance_locaux_pct",
        "Vacance des commerces de centre-bourg",
        "%",
    ),
    ("commerces_installes", "Commerces installés", "nombre"),
];

/// A column's header: its label and its unit in brackets.
///
/// ```
/// use ecofoncier::metrics::indicators::header;
/// assert_eq!(header("surface_zae_ha"), "Surface des ZAE (ha)");
/// ```
pub fn header(field: &str) -> String {
    match COLUMNS.iter().find(|(f, _, _)| *f == field) {
        Some((_, l, "")) => (*l).to_string(),
        Some((_, l, u)) => format!("{l} ({u})"),
        None => field.to_string(),
    }
}

/// The numeric columns, for medians (name, getter).
type Getter = fn(&EpciIndicators) -> f64;
pub const NUMERIC: &[(&str, Getter)] = &[
    ("population", |e| e.population as f64),
    ("densite_hab_km2", |e| e.densite_hab_km2),
    ("sites", |e| e.sites as f64),
    ("surface_zae_ha", |e| e.surface_zae_ha),
    ("taux_occupation_pct", |e| e.taux_occupation_pct),
    ("taux_vacance_legal", |e| e.taux_vacance_legal as f64),
    ("surface_en_vente_ha", |e| e.surface_en_vente_ha),
    ("emplois_za", |e| e.emplois_za as f64),
    ("zan_part_consommee_pct", |e| e.zan_part_consommee_pct),
    ("zan_projection_pct", |e| e.zan_projection_pct),
    ("zan_part_activite_pct", |e| e.zan_part_activite_pct),
    ("emplois_pour_100_actifs", |e| e.emplois_pour_100_actifs),
    ("distance_mediane_km", |e| e.distance_mediane_km),
    ("part_travaillant_hors_epci_pct", |e| {
        e.part_travaillant_hors_epci_pct
    }),
    ("couverture_tiers_lieux_pct", |e| {
        e.couverture_tiers_lieux_pct
    }),
    ("taux_vacance_locaux_pct", |e| e.taux_vacance_locaux_pct),
];

fn r1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Builds every EPCI's row from the metrics already computed.
pub fn build(model: &ReadModel, m: &Metrics) -> Vec<EpciIndicators> {
    (0..model.epci.slots()).map(|e| row(model, m, e)).collect()
}

/// The row of the EPCI in slot `e`.
pub fn row(model: &ReadModel, m: &Metrics, e: usize) -> EpciIndicators {
    let r = model.epci.record(e);
    let occ = m.occupancy.epci.try_get(e).cloned().unwrap_or_default();
    let zan = m.zan_epci.at(e).cloned().unwrap_or_default();
    let com = m.commute_epci.at(e).cloned().unwrap_or_default();
    let cov = m.coverage.epci.at(e).cloned().unwrap_or_default();
    let prem = m.premises_epci.at(e).cloned().unwrap_or_default();
    let zones = m.zones_epci.at(e).copied().unwrap_or_default();
    let (tl, fs) = m.services_epci.get(e).copied().unwrap_or_default();
    EpciIndicators {
        epci_siren: r.epci_siren,
        epci_nom: r.epci_nom,
        epci_type: r.epci_type,
        classe: r.classe.as_str().to_string(),
        population: r.population_region,
        surface_ha: r.surface_ha,
        densite_hab_km2: r.densite_hab_km2,
        sites: zones.sites,
        surface_zae_ha: r1(occ.surf_brute_ha),
        surface_utile_ha: r1(occ.surf_utile_ha),
        taux_occupation_pct: r1(occ.taux_occupation() * 100.0),
        uf_nbre: occ.uf_nbre,
        uf_vacant_nbre: occ.uf_vacant_nbre,
        taux_vacance_legal: occ.taux_vacance(),
        surface_en_vente_ha: r1(occ.surf_en_vente_ha),
        etablissements_za: zones.etablissements,
        emplois_za: zones.emplois,
        zan_reference_ha: zan.reference_ha,
        zan_enveloppe_ha: zan.enveloppe_ha,
        zan_consomme_ha: zan.consomme_depuis_2021_ha,
        zan_reste_ha: zan.reste_ha,
        zan_part_consommee_pct: zan.part_consommee_pct,
        zan_projection_pct: zan.projection_pct,
        zan_part_activite_pct: zan.part_activite_pct,
        actifs_residents: com.actifs_residents,
        emplois: com.emplois,
        emplois_pour_100_actifs: com.emplois_pour_100_actifs,
        distance_mediane_km: com.distance_mediane_km,
        part_travaillant_hors_epci_pct: com.part_travaillant_hors_territoire_pct,
        km_jour_aller_retour: com.km_jour_aller_retour,
        tiers_lieux: tl,
        france_services: fs,
        couverture_tiers_lieux_pct: cov.taux_couverture_pct,
        locaux_commerciaux: prem.locaux,
        taux_vacance_locaux_pct: prem.taux_vacance_pct,
        commerces_installes: prem.commerces_installes,
    }
}

/// Median of a list (mean of the two middle values for an even count).
///
/// ```
/// use ecofoncier::metrics::indicators::median;
/// assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
/// assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
/// assert_eq!(median(vec![]), 0.0);
/// ```
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Medians of every numeric column over the EPCIs of one class.
pub fn medians<'a>(
    rows: impl IntoIterator<Item = &'a EpciIndicators>,
    class: TerritoryClass,
) -> serde_json::Map<String, serde_json::Value> {
    let sel: Vec<&EpciIndicators> = rows
        .into_iter()
        .filter(|r| r.classe == class.as_str())
        .collect();
    let mut out = serde_json::Map::new();
    out.insert("epci".into(), serde_json::json!(sel.len()));
    for (name, get) in NUMERIC {
        out.insert(
            (*name).into(),
            serde_json::json!(r1(median(sel.iter().map(|r| get(r)).collect()))),
        );
    }
    out
}

/// A territory similar to another (see [`similar`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Similar {
    pub epci_siren: crate::model::Str,
    pub epci_nom: crate::model::Str,
    pub population: u64,
    /// Its region (INSEE COG code and name; empty when its communes name none).
    pub region: crate::model::Str,
    pub region_nom: crate::model::Str,
    /// How far its profile is from the EPCI's: |ln p/p₀| + |ln d/d₀| + |ln j/j₀| over
    /// population p, density d (inhabitants/km²) and jobs per 100 resident workers j,
    /// each floored at 1 (0: the same profile).
    pub ecart_profil: f64,
    /// Between the two EPCIs' centroids, km (Lambert-93).
    pub distance_km: f64,
}

/// The `n` territories most similar to EPCI `siren` among every EPCI loaded, whatever its
/// region: the same class (rural or urban), then the nearest profile (population, density,
/// jobs per worker; [`Similar::ecart_profil`]), then the nearest.
pub fn similar(model: &ReadModel, rows: &[EpciIndicators], siren: &str, n: usize) -> Vec<Similar> {
    let Some((me_slot, me)) = rows.iter().enumerate().find(|(_, r)| r.epci_siren == siren) else {
        return Vec::new();
    };
    let centre = |slot: usize| {
        (slot < model.epci.slots())
            .then(|| model.epci.get(slot).shape.centroid())
            .flatten()
            .map(geo::Point)
    };
    let Some(c0) = centre(me_slot) else {
        return Vec::new();
    };
    let ln = |v: f64| v.max(1.0).ln();
    let gap = |r: &EpciIndicators| {
        (ln(r.population as f64) - ln(me.population as f64)).abs()
            + (ln(r.densite_hab_km2) - ln(me.densite_hab_km2)).abs()
            + (ln(r.emplois_pour_100_actifs) - ln(me.emplois_pour_100_actifs)).abs()
    };
    // The profile gap of every EPCI of the class; the distance (a centroid each) only for
    // those that may rank: gaps up to the n-th, ties included.
    let mut gaps: Vec<(f64, usize)> = rows
        .iter()
        .enumerate()
        .filter(|(slot, r)| *slot != me_slot && r.classe == me.classe)
        .map(|(slot, r)| (gap(r), slot))
        .collect();
    gaps.sort_by(|a, b| a.0.total_cmp(&b.0));
    let cut = gaps.get(n.saturating_sub(1)).map_or(f64::INFINITY, |g| g.0);
    let mut others: Vec<(f64, f64, usize)> = gaps
        .into_iter()
        .take_while(|(g, _)| *g <= cut)
        .filter_map(|(g, slot)| {
            let c = centre(slot)?;
            Some((g, (c.x() - c0.x()).hypot(c.y() - c0.y()) / 1000.0, slot))
        })
        .collect();
    others.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    others
        .into_iter()
        .take(n)
        .map(|(g, d, slot)| {
            let r = &rows[slot];
            let region = model
                .regions
                .epci
                .get(slot)
                .and_then(|&i| model.regions.list.get(i as usize));
            Similar {
                epci_siren: r.epci_siren,
                epci_nom: r.epci_nom,
                population: r.population,
                region: region.map(|x| x.code).unwrap_or_default(),
                region_nom: region.map(|x| x.name).unwrap_or_default(),
                ecart_profil: (g * 1000.0).round() / 1000.0,
                distance_km: r1(d),
            }
        })
        .collect()
}

/// The rows as `;`-separated CSV, a header line first, in struct field order.
pub fn to_csv(rows: &[EpciIndicators]) -> String {
    let mut out = String::new();
    for (k, r) in rows.iter().enumerate() {
        let v = serde_json::to_value(r).unwrap_or_default();
        let Some(obj) = v.as_object() else { continue };
        if k == 0 {
            out.push_str(&obj.keys().cloned().collect::<Vec<_>>().join(";"));
            out.push('\n');
        }
        let cells: Vec<String> = obj
            .values()
            .map(|v| match v {
                serde_json::Value::String(s) => s.replace(';', ","),
                other => other.to_string(),
            })
            .collect();
        out.push_str(&cells.join(";"));
        out.push('\n');
    }
    out
}
