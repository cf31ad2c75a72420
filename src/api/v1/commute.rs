//! Commuting: the baseline of an EPCI or the region, and the scenario of new jobs.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::territory;
use crate::api::http::{ok, read_body};
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
    let t = territory(&state, &level, &code, &[Level::Epci, Level::Region])?;
    let mm = &state.metrics;
    let b = t
        .figure(None, &mm.commute_epci, || mm.commute_region.clone())
        .unwrap_or_default();
    Ok(ok(
        &json!({ "niveau": t.level.as_str(), "code": t.code, "nom": t.name, "navettes": b }),
    ))
}

pub(super) async fn commute_scenario(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(req.query_string(), &[])?;
    let body = read_body(payload).await?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| ApiError::BadBody {
        field: "body".into(),
        message: format!("not JSON: {e}"),
    })?;
    let bad = |f: &str, m: &str| ApiError::BadBody {
        field: f.into(),
        message: m.into(),
    };
    let jobs = v
        .get("jobs")
        .ok_or_else(|| bad("jobs", "required"))?
        .as_u64()
        .filter(|&j| (1..=100_000).contains(&j))
        .ok_or_else(|| bad("jobs", "must be an integer in 1..=100000"))? as u32;
    let m = &state.model;
    let (x, y) = match (v.get("site_id"), v.get("point")) {
        (Some(id), None) => {
            let id = id
                .as_str()
                .ok_or_else(|| bad("site_id", "must be a string"))?;
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
        (None, Some(pt)) => {
            let a = pt
                .as_array()
                .filter(|a| a.len() == 2)
                .and_then(|a| Some((a[0].as_f64()?, a[1].as_f64()?)))
                .ok_or_else(|| bad("point", "must be [lon, lat] (CRS84)"))?;
            crs::to_l93(Crs::Crs84, a.0, a.1).map_err(|e| bad("point", &e.to_string()))?
        }
        _ => return Err(bad("site_id", "give either `site_id` or `point`")),
    };
    let radius_km = match v.get("radius_km") {
        None => 30.0,
        Some(r) => r
            .as_f64()
            .filter(|r| (1.0..=150.0).contains(r))
            .ok_or_else(|| bad("radius_km", "must be a number in 1..=150"))?,
    };
    let take_up = match v.get("take_up") {
        None => 0.3,
        Some(t) => t
            .as_f64()
            .filter(|t| *t > 0.0 && *t <= 1.0)
            .ok_or_else(|| bad("take_up", "must be a number in (0, 1]"))?,
    };
    let r = commute::scenario(
        m,
        &state.metrics.commute,
        &Scenario {
            x,
            y,
            jobs,
            radius_km,
            take_up,
        },
    );
    Ok(ok(&r))
}
