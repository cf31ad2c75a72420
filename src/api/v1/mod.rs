//! Decision metrics under `/api/v1`, one module a resource: occupancy and legal vacancy,
//! vacant-plot search, land take and ZAN, the sobriety check of a proposed zone, commuting,
//! tiers-lieux coverage, centre-bourg premises, the EPCI indicators with the inter-EPCI
//! comparison, and the indicators over time.

mod commute;
pub(crate) mod finder;
pub(crate) mod indicators;
mod land_take;
mod occupancy;
mod premises;
mod proposals;
pub(crate) mod search;
pub(crate) mod tiers_lieux;
pub(crate) mod timeline;
pub(crate) mod workbooks;

use actix_web::web;

use super::problem::{ApiError, ApiResult};
use super::query::{Kind, Params, Spec};
use crate::metrics::territory::{Level, Territory};
use crate::publish::Snapshot;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/sites/{site_id}/occupancy",
        web::get().to(occupancy::site_occupancy),
    )
    .route(
        "/api/v1/occupancy/{level}/{code}",
        web::get().to(occupancy::territory_occupancy),
    )
    .route(
        "/api/v1/terrains/search",
        web::get().to(search::search_plots),
    )
    .route(
        "/api/v1/land-take/{level}/{code}",
        web::get().to(land_take::land_take_of),
    )
    .route(
        "/api/v1/proposals/check",
        web::post().to(proposals::check_proposal),
    )
    .route(
        "/api/v1/commute/{level}/{code}",
        web::get().to(commute::commute_baseline),
    )
    .route(
        "/api/v1/scenarios/commute",
        web::post().to(commute::commute_scenario),
    )
    .route(
        "/api/v1/tiers-lieux/coverage",
        web::get().to(tiers_lieux::tl_coverage),
    )
    .route(
        "/api/v1/tiers-lieux/suggest",
        web::get().to(tiers_lieux::tl_suggest),
    )
    .route(
        "/api/v1/premises/{level}/{code}",
        web::get().to(premises::premises_of),
    )
    .route(
        "/api/v1/indicators",
        web::get().to(indicators::indicators_all),
    )
    .route(
        "/api/v1/indicators/epci/{siren}",
        web::get().to(indicators::indicators_sheet),
    )
    .route("/api/v1/compare", web::get().to(indicators::compare))
    .route("/api/v1/epci/search", web::get().to(finder::epci_search))
    .route(
        "/api/v1/timeline/epci/{siren}",
        web::get().to(timeline::timeline_of),
    );
}

/// The territory at `level` with `code`, one of `allowed`: 400 naming `level` for another
/// level, 404 when the model has no such territory.
fn territory(state: &Snapshot, level: &str, code: &str, allowed: &[Level]) -> ApiResult<Territory> {
    let lv = Level::parse(level).ok_or_else(|| {
        ApiError::param(
            "level",
            format!("`{level}` is not one of commune, epci, region, country"),
        )
    })?;
    if !allowed.contains(&lv) {
        return Err(ApiError::param(
            "level",
            format!("`{level}` is not available here"),
        ));
    }
    Territory::find(&state.model, lv, code)
        .ok_or_else(|| ApiError::NotFound(format!("no {level} `{code}`")))
}

/// The reference year of the legal vacancy test.
pub(crate) const YEAR: Spec = Spec::new(
    "year",
    Kind::Integer {
        min: 2000,
        max: 2100,
    },
    "Reference year of the legal vacancy test (1 January), default 2026",
);

/// The `year` parameter, or the year the metrics were computed for.
fn year(p: &Params, state: &Snapshot) -> i32 {
    p.integer(&YEAR)
        .map(|y| y as i32)
        .unwrap_or(state.metrics.year)
}
