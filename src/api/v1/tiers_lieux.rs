//! Tiers-lieux: how far the population is covered, and where new ones would cover most.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::api::http::ok;
use crate::api::query::Params;
use crate::api::{ApiError, ApiResult, AppState};
use crate::metrics::coverage;
use crate::metrics::territory::Level;
use crate::model::codes;

fn service_param(p: &Params) -> ApiResult<Option<String>> {
    Ok(p.list("service", codes::SERVICES)?.into_iter().next())
}

pub(super) async fn tl_coverage(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::parse(req.query_string(), &["radius_km", "service", "level"])?;
    let radius = p
        .f64("radius_km", 0.5, 100.0)?
        .unwrap_or(crate::metrics::DEFAULT_COVERAGE_KM);
    let service = service_param(&p)?;
    let level = p.get("level").unwrap_or("epci");
    if Level::parse(level).is_none() {
        return Err(ApiError::param("level", "must be region, epci or commune"));
    }
    let recomputed;
    let cov = if service.is_none() && radius == state.metrics.coverage.radius_km {
        &state.metrics.coverage
    } else {
        recomputed = coverage::coverage(&state.model, radius, service.as_deref());
        &recomputed
    };
    let mut under: Vec<&coverage::CommuneCoverage> =
        cov.communes.iter().filter(|c| !c.couverte).collect();
    // Commune indices follow INSEE codes.
    under.sort_by(|a, b| {
        b.population
            .cmp(&a.population)
            .then(a.commune.cmp(&b.commune))
    });
    let epci: Vec<Value> = state
        .model
        .epci
        .iter()
        .map(|e| {
            let t = cov.epci.get(&e.record.epci_siren).cloned().unwrap_or_default();
            json!({ "epci_siren": e.record.epci_siren, "epci_nom": e.record.epci_nom, "classe": e.record.classe, "couverture": t })
        })
        .collect();
    let mut doc = json!({
        "rayon_km": radius,
        "service": service,
        "sites": cov.sites,
        "region": cov.region,
        "communes_mal_desservies": under.iter().take(50).map(|c| c.named(&state.model)).collect::<Vec<_>>(),
    });
    if level != "region" {
        doc["epci"] = json!(epci);
    }
    if level == "commune" {
        doc["communes"] = json!(cov
            .communes
            .iter()
            .map(|c| c.named(&state.model))
            .collect::<Vec<_>>());
    }
    Ok(ok(&doc))
}

pub(super) async fn tl_suggest(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::parse(req.query_string(), &["k", "radius_km", "service"])?;
    let k = p.int("k", 1, 50)?.unwrap_or(5) as usize;
    let radius = p
        .f64("radius_km", 0.5, 100.0)?
        .unwrap_or(crate::metrics::DEFAULT_COVERAGE_KM);
    let service = service_param(&p)?;
    let s = coverage::suggest(&state.model, k, radius, service.as_deref());
    Ok(ok(&json!({
        "k": k, "rayon_km": radius, "service": service,
        "methode": coverage::SUGGEST_METHOD,
        "suggestions": s,
    })))
}
