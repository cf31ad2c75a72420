//! An EPCI's indicators over the years.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::territory;
use crate::api::http::ok;
use crate::api::query::Params;
use crate::api::{ApiResult, AppState};
use crate::metrics::territory::Level;
use crate::metrics::timeline;

pub(super) async fn timeline_of(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::parse(req.query_string(), &["to"])?;
    let siren = path.into_inner();
    let t = territory(&state, "epci", &siren, &[Level::Epci])?;
    let to = p
        .int("to", timeline::FIRST_YEAR as i64, 2100)?
        .map(|y| y as i32)
        .unwrap_or(2025);
    Ok(ok(&json!({
        "epci_siren": siren,
        "epci_nom": t.name,
        "annees": timeline::timeline(&state.model, &state.metrics.occupancy, &siren, to),
    })))
}
