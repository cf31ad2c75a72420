//! Commuting: the baseline of an EPCI or the region, and the scenario of new jobs.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::territory;
use crate::api::http::{json_body, ok, read_body};
use crate::api::query::Params;
use crate::api::{ApiError, ApiResult, AppState};
use crate::crs::{self, Crs};
use crate::metrics::commute::{self, Scenario};
use crate::metrics::territory::Level;

pub(super) async fn commute_baseline(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(req.query_string(), &[])?;
    let (level, code) = path.into_inner();
    let t = territory(&state, &level, &code, &Level::WIDE)?;
    let mm = &state.metrics;
    let b = t
        .figure(
            None,
            &mm.commute_epci,
            |r| mm.commute_regions.get(r).cloned(),
            || mm.commute_region.clone(),
        )
        .unwrap_or_default();
    Ok(ok(
        &json!({ "niveau": t.level.as_str(), "code": t.code, "nom": t.name, "navettes": b }),
    ))
}

/// The body of a commuting scenario: `jobs` at a site (`site_id`) or a point (`point`,
/// `[lon, lat]` in CRS84), with the search radius and the take-up share.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioBody {
    jobs: u32,
    site_id: Option<String>,
    point: Option<[f64; 2]>,
    radius_km: Option<f64>,
    take_up: Option<f64>,
}

pub(super) async fn commute_scenario(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(req.query_string(), &[])?;
    let body: ScenarioBody = json_body(&read_body(payload).await?)?;
    let bad = |f: &str, m: &str| ApiError::BadBody {
        field: f.into(),
        message: m.into(),
    };
    if !(1..=100_000).contains(&body.jobs) {
        return Err(bad("jobs", "must be an integer in 1..=100000"));
    }
    let m = &state.model;
    let (x, y) = match (&body.site_id, body.point) {
        (Some(id), None) => {
            let s = m
                .sites
                .by_id(id)
                .ok_or_else(|| ApiError::NotFound(format!("no site `{id}`")))?;
            let c = s
                .shape
                .centroid()
                .ok_or_else(|| bad("site_id", "empty site"))?;
            (c.x, c.y)
        }
        (None, Some([lon, lat])) => {
            crs::to_l93(Crs::Crs84, lon, lat).map_err(|e| bad("point", &e.to_string()))?
        }
        _ => return Err(bad("site_id", "give either `site_id` or `point`")),
    };
    if m.communes.at_point(x, y).is_empty() {
        let field = if body.site_id.is_some() {
            "site_id"
        } else {
            "point"
        };
        return Err(bad(field, "outside every commune of the territory"));
    }
    let radius_km = body.radius_km.unwrap_or(30.0);
    if !(1.0..=150.0).contains(&radius_km) {
        return Err(bad("radius_km", "must be a number in 1..=150"));
    }
    let take_up = body.take_up.unwrap_or(0.3);
    if !(take_up > 0.0 && take_up <= 1.0) {
        return Err(bad("take_up", "must be a number in (0, 1]"));
    }
    let r = commute::scenario(
        m,
        &state.metrics.commute,
        &Scenario {
            x,
            y,
            jobs: body.jobs,
            radius_km,
            take_up,
        },
    );
    Ok(ok(&r))
}
