//! The spreadsheet exports (`format=xlsx`) of the meeting table and of an EPCI sheet: the
//! same figures as the JSON answers, laid out for a spreadsheet ([`crate::formats::xlsx`]),
//! with a last sheet naming the sources and what is synthetic.

use actix_web::HttpResponse;
use serde_json::{Map, Value};

use crate::api::{ApiError, ApiResult};
use crate::formats::xlsx::{workbook, Cell, Sheet};
use crate::metrics::indicators::{header, EpciIndicators, COLUMNS};

/// The media type of `.xlsx` files.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Where the figures come from, and which are synthetic (the last sheet of every export).
fn sources(perimetre: &str, version: i64) -> Sheet {
    let row = |a: &str, b: &str| vec![Cell::Text(a.into()), Cell::Text(b.into())];
    Sheet {
        name: "Sources".into(),
        title: "Sources et avertissement".into(),
        header: vec!["Sujet".into(), "Source".into()],
        rows: vec![
            row(
                "Avertissement",
                "DONNÉES SYNTHÉTIQUES DE DÉMONSTRATION : zones d'activités, terrains, établissements, \
                 commerces de centre-bourg, tiers-lieux, navettes domicile-travail et consommation \
                 d'espaces sont générés par ecofoncier ; ils ne décrivent pas le territoire réel.",
            ),
            row(
                "Population, superficie, communes et EPCI",
                "INSEE (populations légales, code officiel géographique), IGN ADMIN EXPRESS",
            ),
            row(
                "Zones, terrains, établissements",
                "Données synthétiques au modèle du standard CNIG « Sites économiques »",
            ),
            row(
                "Consommation d'espaces (ZAN)",
                "Données synthétiques au format du Cerema (fichiers fonciers) ; enveloppe 2021-2030 = moitié de 2011-2020 (loi Climat et Résilience)",
            ),
            row(
                "Navettes domicile-travail",
                "Données synthétiques au format INSEE (mobilités professionnelles)",
            ),
            row(
                "Tiers-lieux et France services",
                "Données synthétiques au format ANCT ; couverture : population des communes dont la mairie est à moins de 10 km",
            ),
            row("Périmètre des médianes", perimetre),
            row(
                "Version des données",
                &format!("historique n° {version} (snapshot_version de /health)"),
            ),
            row("Exporté le", &crate::date::now_rfc3339()[..10]),
        ],
    }
}

/// The rows of `rows` as objects (their JSON form, so the export shows the API's figures).
fn objects(rows: &[EpciIndicators]) -> Vec<Map<String, Value>> {
    rows.iter()
        .filter_map(|r| match serde_json::to_value(r) {
            Ok(Value::Object(o)) => Some(o),
            _ => None,
        })
        .collect()
}

/// The meeting table: one row per EPCI compared, then the rural and urban medians (named
/// with how many EPCIs and which scope), one column per indicator with its unit.
pub fn comparison(
    rows: &[EpciIndicators],
    medians: [(&str, &Map<String, Value>); 2],
    perimetre: &str,
    version: i64,
) -> ApiResult<HttpResponse> {
    let mut table: Vec<Vec<Cell>> = Vec::new();
    for o in objects(rows) {
        table.push(COLUMNS.iter().map(|(f, _, _)| cell(&o, f)).collect());
    }
    for (label, m) in medians {
        let n = m.get("epci").and_then(Value::as_u64).unwrap_or(0);
        table.push(
            COLUMNS
                .iter()
                .map(|(f, _, _)| match *f {
                    "epci_nom" => Cell::Text(format!("{label} ({n} EPCI, {perimetre})")),
                    _ => cell(m, f),
                })
                .collect(),
        );
    }
    let mut header_row: Vec<String> = COLUMNS.iter().map(|(f, _, _)| header(f)).collect();
    // The name first, so it stays in view.
    header_row.swap(0, 1);
    for r in &mut table {
        r.swap(0, 1);
    }
    let sheet = Sheet {
        name: "Comparaison".into(),
        title: format!(
            "Comparaison des intercommunalités et médianes des EPCI ruraux et urbains (périmètre : {perimetre}) – données synthétiques de démonstration sauf population"
        ),
        header: header_row,
        rows: table,
    };
    respond(
        &[sheet, sources(perimetre, version)],
        "comparaison-epci.xlsx",
    )
}

/// An EPCI's sheet (the JSON answer of `/api/v1/indicators/epci/{siren}`): its indicators
/// one per row, its yearly land take, its similar territories.
pub fn epci_sheet(sheet: &Value, version: i64) -> ApiResult<HttpResponse> {
    let name = sheet["epci_nom"].as_str().unwrap_or_default();
    let empty = Map::new();
    let ind = sheet["indicateurs"].as_object().unwrap_or(&empty);
    let indicators = Sheet {
        name: "Indicateurs".into(),
        title: format!(
            "{name} – indicateurs (données synthétiques de démonstration sauf population)"
        ),
        header: vec!["Indicateur".into(), "Valeur".into(), "Unité".into()],
        rows: COLUMNS
            .iter()
            .map(|(f, l, u)| {
                vec![
                    Cell::Text((*l).into()),
                    cell(ind, f),
                    Cell::Text((*u).into()),
                ]
            })
            .collect(),
    };
    const DESTINATIONS: [(&str, &str); 7] = [
        ("total_m2", "Total"),
        ("activite_m2", "Activité"),
        ("habitat_m2", "Habitat"),
        ("mixte_m2", "Mixte"),
        ("route_m2", "Routes"),
        ("ferroviaire_m2", "Fer"),
        ("inconnu_m2", "Inconnue"),
    ];
    let years = sheet["consommation_annuelle"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let land_take = Sheet {
        name: "Consommation".into(),
        title: format!(
            "{name} – consommation d'espaces par année et destination (données synthétiques)"
        ),
        header: std::iter::once("Année".to_string())
            .chain(DESTINATIONS.iter().map(|(_, l)| format!("{l} (ha)")))
            .collect(),
        rows: years
            .iter()
            .map(|y| {
                std::iter::once(Cell::from(&y["annee"]))
                    .chain(DESTINATIONS.iter().map(|(k, _)| match y[k].as_f64() {
                        Some(m2) => Cell::Number(m2 / 1e4),
                        None => Cell::Empty,
                    }))
                    .collect()
            })
            .collect(),
    };
    let similar = Sheet {
        name: "Territoires comparables".into(),
        title: format!(
            "Territoires au profil proche de {name} (population, densité, emplois par actif)"
        ),
        header: vec![
            "Intercommunalité".into(),
            "SIREN".into(),
            "Région".into(),
            "Population (hab.)".into(),
            "Écart de profil".into(),
            "Distance (km)".into(),
        ],
        rows: sheet["territoires_similaires"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| {
                        [
                            "epci_nom",
                            "epci_siren",
                            "region_nom",
                            "population",
                            "ecart_profil",
                            "distance_km",
                        ]
                        .iter()
                        .map(|k| Cell::from(&t[*k]))
                        .collect()
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    let file = format!(
        "fiche-epci-{}.xlsx",
        sheet["epci_siren"].as_str().unwrap_or_default()
    );
    respond(
        &[indicators, land_take, similar, sources("–", version)],
        &file,
    )
}

fn cell(o: &Map<String, Value>, field: &str) -> Cell {
    o.get(field).map_or(Cell::Empty, Cell::from)
}

fn respond(sheets: &[Sheet], file: &str) -> ApiResult<HttpResponse> {
    let bytes = workbook(sheets)
        .map_err(|e| ApiError::Internal(format!("the spreadsheet could not be written: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{file}\""),
        ))
        .body(bytes))
}
