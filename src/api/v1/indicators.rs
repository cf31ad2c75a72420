//! The indicators of every EPCI, one EPCI's sheet, and the inter-EPCI comparison.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::territory;
use crate::api::http::ok;
use crate::api::query::{Kind, Params, Spec};
use crate::api::{ApiError, ApiResult, AppState};
use crate::metrics::territory::Level;
use crate::metrics::{indicators, land_take};
use crate::model::TerritoryClass;

const LEVEL: Spec = Spec::new("level", Kind::OneOf(&["epci"]), "epci (the one level)");
const FORMAT: Spec = Spec::new(
    "format",
    Kind::OneOf(&["json", "csv"]),
    "json (default) or csv (a ;-separated file)",
);
const EPCIS: Spec = Spec::new(
    "epci",
    Kind::Sirens { max: 20 },
    "comma-separated SIREN codes (1–20)",
)
.required();

/// The parameters of the indicators of every EPCI.
pub(crate) const ALL: [&Spec; 2] = [&LEVEL, &FORMAT];
/// The parameters of the comparison.
pub(crate) const COMPARE: [&Spec; 2] = [&EPCIS, &FORMAT];

pub(super) async fn indicators_all(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::checked(req.query_string(), &ALL)?;
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
    Params::parse(req.query_string(), &[])?;
    let siren = path.into_inner();
    let t = territory(&state, "epci", &siren, &[Level::Epci])?;
    let mm = &state.metrics;
    let m = &state.model;
    let row = mm.indicators.iter().find(|r| r.epci_siren == siren);
    let rows = t.land_take(m);
    let similar: Vec<Value> = indicators::similar(m, &mm.indicators, &siren, 5)
        .into_iter()
        .map(|(s, n, pop, d)| json!({ "epci_siren": s, "epci_nom": n, "population": pop, "distance_km": d }))
        .collect();
    Ok(ok(&json!({
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
    })))
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
    for id in &ids {
        let r = state
            .metrics
            .indicators
            .iter()
            .find(|r| r.epci_siren == *id)
            .ok_or_else(|| ApiError::NotFound(format!("epci: no EPCI with SIREN `{id}`")))?;
        rows.push(r.clone());
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
    Ok(ok(&json!({
        "epci": rows,
        "medianes": {
            "rural": indicators::medians(&state.metrics.indicators, TerritoryClass::Rural),
            "urbain": indicators::medians(&state.metrics.indicators, TerritoryClass::Urbain),
        },
    })))
}
