//! The sobriety check of a proposed zone, before land is consumed.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::geometry_input::parse_proposal;
use crate::api::http::{ok, read_body};
use crate::api::query::Params;
use crate::api::{ApiResult, AppState};
use crate::metrics::proposal::{self, Proposal};

pub(super) async fn check_proposal(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(req.query_string(), &[])?;
    let body = read_body(payload).await?;
    let input = parse_proposal(&body, &state.model)?;
    let p = Proposal {
        area: input.area,
        jobs: input.jobs,
        vocation: input.vocation,
        radius_km: input.radius_km.unwrap_or(proposal::DEFAULT_RADIUS_KM),
    };
    Ok(ok(&proposal::check(&state.model, &state.metrics, &p)))
}
