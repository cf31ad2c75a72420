//! The indicators of every EPCI, one EPCI's sheet, and the inter-EPCI comparison.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::territory;
use crate::api::http::ok;
use crate::api::query::{Kind, Params, Spec};
use crate::api::{ApiError, ApiResult, AppState};
use crate::metrics::territory::Level;
use crate::metrics::{indicators, land_take};
use crate::model::TerritoryClass;
use crate::read_model::NONE;

const LEVEL: Spec = Spec::new("level", Kind::OneOf(&["epci"]), "epci (the one level)");
const FORMAT: Spec = Spec::new(
    "format",
    Kind::OneOf(&["json", "csv", "xlsx"]),
    "json (default), csv (a ;-separated file) or xlsx (a spreadsheet: typed numbers, units in the headers, a sheet of sources)",
);
const SHEET_FORMAT: Spec = Spec::new(
    "format",
    Kind::OneOf(&["json", "xlsx"]),
    "json (default) or xlsx (a spreadsheet: indicators, yearly land take, similar territories, sources)",
);
const EPCIS: Spec = Spec::new(
    "epci",
    Kind::Sirens { max: 20 },
    "comma-separated SIREN codes (1–20)",
)
.required();

const SCOPE: Spec = Spec::new(
    "scope",
    Kind::OneOf(&["region", "country"]),
    "the EPCIs the medians are taken over: region (default: those of the compared EPCIs' regions) or country (every EPCI loaded)",
);

/// The parameters of the indicators of every EPCI.
pub(crate) const ALL: [&Spec; 2] = [&LEVEL, &FORMAT];
/// The parameters of an EPCI's sheet.
pub(crate) const SHEET: [&Spec; 1] = [&SHEET_FORMAT];
/// The parameters of the comparison.
pub(crate) const COMPARE: [&Spec; 3] = [&EPCIS, &FORMAT, &SCOPE];

pub(super) async fn indicators_all(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::checked(req.query_string(), &ALL)?;
    if p.get(FORMAT.name) == Some("xlsx") {
        let all = &state.metrics.indicators;
        return super::workbooks::comparison(
            all,
            [
                (
                    "Médiane rurale",
                    &indicators::medians(all.iter(), TerritoryClass::Rural),
                ),
                (
                    "Médiane urbaine",
                    &indicators::medians(all.iter(), TerritoryClass::Urbain),
                ),
            ],
            &state.model.regions.label(),
            state.audit_version,
        );
    }
    if p.get(FORMAT.name) == Some("csv") {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                "attachment; filename=\"indicateurs-epci.csv\"",
            ))
            .body(indicators::to_csv(&state.metrics.indicators)));
    }
    Ok(ok(&*state.metrics.indicators))
}

pub(super) async fn indicators_sheet(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::checked(req.query_string(), &SHEET)?;
    let siren = path.into_inner();
    let t = territory(&state, "epci", &siren, &[Level::Epci])?;
    let mm = &state.metrics;
    let m = &state.model;
    let row = mm.indicators.iter().find(|r| r.epci_siren == siren);
    let rows = t.land_take(m);
    let similar = indicators::similar(m, &mm.indicators, &siren, 5);
    let sheet = json!({
        "epci_siren": siren,
        "epci_nom": t.name,
        "indicateurs": row,
        "occupation": mm.occupancy.of_epci(m, &siren).map(|o| o.rounded()),
        "zan": mm.zan_epci.get(&siren),
        "consommation_annuelle": land_take::yearly(rows.into_iter()),
        "navettes": mm.commute_epci.get(&siren),
        "couverture_tiers_lieux": mm.coverage.epci.get(&siren),
        "locaux_commerciaux": mm.premises_epci.get(&siren),
        "territoires_similaires": similar,
    });
    if p.get(SHEET_FORMAT.name) == Some("xlsx") {
        return super::workbooks::epci_sheet(&sheet, state.audit_version);
    }
    Ok(ok(&sheet))
}

pub(super) async fn compare(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::checked(req.query_string(), &COMPARE)?;
    let list = p.get(EPCIS.name).unwrap_or_default();
    let ids: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() || ids.len() > 20 {
        return Err(ApiError::param("epci", "give 1 to 20 SIREN codes"));
    }
    let mut rows = Vec::new();
    let mut regions: Vec<u32> = Vec::new();
    for id in &ids {
        let (slot, row) = state
            .metrics
            .indicators
            .iter()
            .enumerate()
            .find(|(_, r)| r.epci_siren == *id)
            .ok_or_else(|| ApiError::NotFound(format!("epci: no EPCI with SIREN `{id}`")))?;
        rows.push(row.clone());
        let r = state.model.regions.epci.get(slot).copied().unwrap_or(NONE);
        if r != NONE && !regions.contains(&r) {
            regions.push(r);
        }
    }
    if p.get(FORMAT.name) == Some("csv") {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                "attachment; filename=\"comparaison-epci.csv\"",
            ))
            .body(indicators::to_csv(&rows)));
    }
    // The medians' scope: the compared EPCIs' regions, or every EPCI loaded.
    let all = &state.metrics.indicators;
    let by_region = p.get(SCOPE.name) != Some("country") && !regions.is_empty();
    regions.sort_unstable();
    let listed: Vec<&crate::read_model::regions::Region> = regions
        .iter()
        .map(|&r| &state.model.regions.list[r as usize])
        .collect();
    let scope: Vec<&indicators::EpciIndicators> = if by_region {
        all.iter()
            .enumerate()
            .filter(|(slot, _)| {
                state
                    .model
                    .regions
                    .epci
                    .get(*slot)
                    .is_some_and(|r| regions.contains(r))
            })
            .map(|(_, row)| row)
            .collect()
    } else {
        all.iter().collect()
    };
    let label = if by_region {
        crate::read_model::regions::joined(listed.iter().map(|r| r.name.as_str()))
    } else {
        state.model.regions.label()
    };
    let rural = indicators::medians(scope.iter().copied(), TerritoryClass::Rural);
    let urbain = indicators::medians(scope.iter().copied(), TerritoryClass::Urbain);
    if p.get(FORMAT.name) == Some("xlsx") {
        return super::workbooks::comparison(
            &rows,
            [("Médiane rurale", &rural), ("Médiane urbaine", &urbain)],
            &label,
            state.audit_version,
        );
    }
    Ok(ok(&json!({
        "epci": rows,
        "medianes": {
            "rural": rural,
            "urbain": urbain,
        },
        "perimetre": {
            "portee": if by_region { "region" } else { "country" },
            "regions": listed.iter().map(|r| json!({ "code": r.code, "nom": r.name })).collect::<Vec<_>>(),
            "libelle": label,
        },
    })))
}
