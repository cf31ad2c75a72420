//! Tiers-lieux: how far the population is covered, and where new ones would cover most.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::api::http::ok;
use crate::api::query::{Kind, Params, Spec};
use crate::api::{ApiResult, AppState};
use crate::metrics::coverage;
use crate::model::codes;

const RADIUS_KM: Spec = Spec::new(
    "radius_km",
    Kind::Number {
        min: 0.5,
        max: 100.0,
    },
    "coverage radius around a site, km, default 10",
);
const SERVICE: Spec = Spec::new("service", Kind::OneOf(codes::SERVICES), "one service only");
const LEVEL: Spec = Spec::new(
    "level",
    Kind::OneOf(&["region", "epci", "commune"]),
    "detail: region, epci (default) or commune",
);
const K: Spec = Spec::new(
    "k",
    Kind::Integer { min: 1, max: 50 },
    "town halls suggested, default 5",
);

/// The parameters of the coverage.
pub(crate) const COVERAGE: [&Spec; 3] = [&RADIUS_KM, &SERVICE, &LEVEL];
/// The parameters of the suggestions.
pub(crate) const SUGGEST: [&Spec; 3] = [&K, &RADIUS_KM, &SERVICE];

pub(super) async fn tl_coverage(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::checked(req.query_string(), &COVERAGE)?;
    let radius = p
        .float(&RADIUS_KM)
        .unwrap_or(crate::metrics::DEFAULT_COVERAGE_KM);
    let service = p.get(SERVICE.name).map(str::to_string);
    let level = p.get(LEVEL.name).unwrap_or("epci");
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
        "regions": cov
            .of_regions(&state.model.regions)
            .into_iter()
            .zip(&state.model.regions.list)
            .map(|(t, r)| json!({ "code": r.code, "nom": r.name, "couverture": t }))
            .collect::<Vec<_>>(),
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
    let p = Params::checked(req.query_string(), &SUGGEST)?;
    let k = p.integer(&K).unwrap_or(5) as usize;
    let radius = p
        .float(&RADIUS_KM)
        .unwrap_or(crate::metrics::DEFAULT_COVERAGE_KM);
    let service = p.get(SERVICE.name).map(str::to_string);
    let s = coverage::suggest(&state.model, k, radius, service.as_deref());
    Ok(ok(&json!({
        "k": k, "rayon_km": radius, "service": service,
        "methode": coverage::SUGGEST_METHOD,
        "suggestions": s,
    })))
}
