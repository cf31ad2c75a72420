//! Land take (Cerema) and the ZAN budget of a commune, an EPCI or the region.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::territory;
use crate::api::http::ok;
use crate::api::query::Params;
use crate::api::{ApiResult, AppState};
use crate::metrics::land_take;
use crate::metrics::territory::Level;

pub(super) async fn land_take_of(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(req.query_string(), &[])?;
    let (level, code) = path.into_inner();
    let t = territory(&state, &level, &code, &Level::ALL)?;
    let rows = t.land_take(&state.model);
    let mm = &state.metrics;
    let zan = t
        .figure(
            Some(&mm.zan_communes),
            &mm.zan_epci,
            |r| mm.zan_regions.get(r).cloned(),
            || mm.zan_region.clone(),
        )
        .unwrap_or_else(|| land_take::budget(rows.iter().copied()));
    Ok(ok(&json!({
        "niveau": t.level.as_str(), "code": t.code, "nom": t.name,
        "annees": land_take::yearly(rows.iter().copied()),
        "zan": zan,
        "methode": land_take::METHOD,
    })))
}
