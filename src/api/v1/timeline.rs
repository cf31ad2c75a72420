//! An EPCI's indicators over the years.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::territory;
use crate::api::http::ok;
use crate::api::query::{Kind, Params, Spec};
use crate::api::{ApiResult, AppState};
use crate::metrics::territory::Level;
use crate::metrics::timeline;

const TO: Spec = Spec::new(
    "to",
    Kind::Integer {
        min: timeline::FIRST_YEAR as i64,
        max: 2100,
    },
    "last year, default 2025",
);

/// The parameters of the timeline.
pub(crate) const PARAMS: [&Spec; 1] = [&TO];

pub(super) async fn timeline_of(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::checked(req.query_string(), &PARAMS)?;
    let siren = path.into_inner();
    let t = territory(&state, "epci", &siren, &[Level::Epci])?;
    let to = p.integer(&TO).map(|y| y as i32).unwrap_or(2025);
    Ok(ok(&json!({
        "epci_siren": siren,
        "epci_nom": t.name,
        "annees": timeline::timeline(&state.model, &state.metrics.occupancy, &siren, to),
    })))
}
