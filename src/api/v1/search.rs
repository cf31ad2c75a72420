//! The search for vacant plots that fit a firm.

use actix_web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::api::query::{Kind, Params, Spec};
use crate::api::{ApiError, ApiResult, AppState};
use crate::crs::{self, Crs};
use crate::metrics::search::{self, Criteria, SiteSummary};
use crate::model::codes;

/// Parses `lon,lat` (CRS84) into Lambert-93.
fn parse_point(param: &str, v: &str) -> ApiResult<(f64, f64)> {
    let nums: Vec<f64> = v
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::param(param, format!("`{v}` is not `lon,lat`")))?;
    let [lon, lat] = nums[..] else {
        return Err(ApiError::param(param, format!("`{v}` is not `lon,lat`")));
    };
    crs::to_l93(Crs::Crs84, lon, lat).map_err(|e| ApiError::param(param, e.to_string()))
}

const EPCI: Spec = Spec::new("epci", Kind::Siren, "EPCI SIREN");
const NEAR: Spec = Spec::new("near", Kind::LonLat, "lon,lat (CRS84)");
const RADIUS_KM: Spec = Spec::new(
    "radius_km",
    Kind::Number {
        min: 0.0,
        max: 500.0,
    },
    "search radius around `near`, km",
);
const MIN_HA: Spec = Spec::new(
    "min_ha",
    Kind::Number { min: 0.0, max: 1e6 },
    "minimum plot surface, ha",
);
const MAX_HA: Spec = Spec::new(
    "max_ha",
    Kind::Number { min: 0.0, max: 1e6 },
    "maximum plot surface, ha",
);
const STADE_COMM: Spec = Spec::new(
    "stade_comm",
    Kind::ListOf(codes::TERR_STADE_COMM),
    "comma-separated terr_stade_comm values",
);
const STADE_AMNGT: Spec = Spec::new(
    "stade_amngt",
    Kind::ListOf(codes::TERR_STADE_AMNGT),
    "comma-separated terr_stade_amngt values",
);
const RESEAU: Spec = Spec::new(
    "reseau",
    Kind::ListOf(codes::NETWORKS),
    "networks the site must have, comma-separated",
);
const VOCATION: Spec = Spec::new(
    "vocation",
    Kind::ListOf(codes::SITE_VOCADOMI),
    "comma-separated site_vocadomi values",
);
const LIMIT: Spec = Spec::new(
    "limit",
    Kind::Integer { min: 1, max: 1000 },
    "plots returned at most, default 50",
);

/// The parameters of the search.
pub(crate) const PARAMS: [&Spec; 10] = [
    &EPCI,
    &NEAR,
    &RADIUS_KM,
    &MIN_HA,
    &MAX_HA,
    &STADE_COMM,
    &STADE_AMNGT,
    &RESEAU,
    &VOCATION,
    &LIMIT,
];

pub(super) async fn search_plots(
    req: HttpRequest,
    state: actix_web::web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::checked(req.query_string(), &PARAMS)?;
    let m = &state.model;
    let epci = p.get("epci").map(str::to_string);
    if let Some(e) = &epci {
        if m.epci.by_id(e).is_none() {
            return Err(ApiError::NotFound(format!(
                "epci: no EPCI with SIREN `{e}`"
            )));
        }
    }
    let near = p.get("near").map(|v| parse_point("near", v)).transpose()?;
    let radius_km = p.float(&RADIUS_KM);
    if radius_km.is_some() && near.is_none() {
        return Err(ApiError::param("radius_km", "needs `near=lon,lat`"));
    }
    let (min_ha, max_ha) = (p.float(&MIN_HA), p.float(&MAX_HA));
    if let (Some(a), Some(b)) = (min_ha, max_ha) {
        if a > b {
            return Err(ApiError::param("min_ha", format!("{a} exceeds max_ha {b}")));
        }
    }
    let c = Criteria {
        epci,
        near,
        radius_m: radius_km.map(|r| r * 1000.0),
        min_ha,
        max_ha,
        stade_comm: p.values(&STADE_COMM),
        stade_amngt: p.values(&STADE_AMNGT),
        reseau: p.values(&RESEAU),
        vocation: p.values(&VOCATION),
        limit: p.integer(&LIMIT).unwrap_or(50) as usize,
    };
    let (hits, matched) = search::search(m, &state.metrics.occupancy, &c);
    let mut out = Vec::with_capacity(hits.len() * 800);
    out.extend_from_slice(br#"{"type":"FeatureCollection","numberMatched":"#);
    out.extend_from_slice(matched.to_string().as_bytes());
    out.extend_from_slice(br#","numberReturned":"#);
    out.extend_from_slice(hits.len().to_string().as_bytes());
    out.extend_from_slice(br#","features":["#);
    for (k, h) in hits.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        let t = m.terrains.get(h.plot);
        let r = t.record;
        let props = json!({
            "terr_id": r.terr_id,
            "terr_surf_brute": r.terr_surf_brute,
            "terr_etat_occup": r.terr_etat_occup,
            "terr_stade_comm": r.terr_stade_comm,
            "terr_stade_amngt": r.terr_stade_amngt,
            "terr_cle_en_main": r.terr_cle_en_main,
            "distance_km": h.distance_m.map(|d| (d / 10.0).round() / 100.0),
            "site": h.site.map(|s| SiteSummary::of(m.sites.record(s))),
        });
        out.extend_from_slice(br#"{"type":"Feature","id":"#);
        out.extend_from_slice(Value::String(r.terr_id.to_string()).to_string().as_bytes());
        out.extend_from_slice(br#","geometry":"#);
        crate::read_model::served::write_geometry_in(&mut out, t.shape, Crs::Crs84);
        out.extend_from_slice(br#","properties":"#);
        out.extend_from_slice(props.to_string().as_bytes());
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .body(out))
}
