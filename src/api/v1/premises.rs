//! Centre-bourg commercial premises of a commune, an EPCI or the region.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::territory;
use crate::api::http::ok;
use crate::api::query::Params;
use crate::api::{ApiResult, AppState};
use crate::metrics::premises::Premises;
use crate::metrics::territory::Level;

pub(super) async fn premises_of(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(req.query_string(), &[])?;
    let (level, code) = path.into_inner();
    let t = territory(&state, &level, &code, &Level::ALL)?;
    let mm = &state.metrics;
    let figures = t
        .figure(
            Some(&mm.premises_communes),
            &mm.premises_epci,
            |r| Some(Premises::of_region(&state.model, &mm.premises_communes, r)),
            || Premises::total(mm.premises_epci.values()),
        )
        .unwrap_or_default();
    Ok(ok(
        &json!({ "niveau": t.level.as_str(), "code": t.code, "nom": t.name, "locaux": figures }),
    ))
}
