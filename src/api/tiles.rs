//! `/tiles/{layer}` (TileJSON 3.0) and `/tiles/{layer}/{z}/{x}/{y}` (Mapbox Vector Tile):
//! the read model's layers for MapLibre. An empty tile is `204`; every tile has an ETag and
//! `If-None-Match` gets `304`.

use actix_web::{http::header, web, HttpRequest, HttpResponse};

use super::http::base_url;
use super::{ApiError, ApiResult, AppState};
use crate::tiles::{self, TileError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/tiles/{layer}", web::get().to(tilejson))
        .route("/tiles/{layer}/{z}/{x}/{y}", web::get().to(tile));
}

/// The media type of a Mapbox Vector Tile.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";

async fn tilejson(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let (_, l) = tiles::layer(&id).ok_or_else(|| unknown(&id))?;
    let snap = state.snapshot();
    let bounds = snap
        .model
        .epci
        .extent()
        .and_then(|r| {
            let (w, s) = crate::crs::l93_to_lonlat(r[0], r[1]).ok()?;
            let (e, n) = crate::crs::l93_to_lonlat(r[2], r[3]).ok()?;
            Some([w, s, e, n])
        })
        .unwrap_or([-180.0, -85.0511, 180.0, 85.0511]);
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(tiles::tilejson(l, &base_url(&req), bounds).to_string()))
}

fn unknown(id: &str) -> ApiError {
    let ids: Vec<&str> = tiles::LAYERS.iter().map(|l| l.id).collect();
    ApiError::NotFound(format!("no tiled layer `{id}`: {}", ids.join(", ")))
}

async fn tile(
    req: HttpRequest,
    path: web::Path<(String, String, String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let (id, z, x, y) = path.into_inner();
    let num = |name: &str, v: &str| {
        v.trim_end_matches(".pbf")
            .trim_end_matches(".mvt")
            .parse::<u32>()
            .map_err(|_| ApiError::param(name, "must be a non-negative integer"))
    };
    let z = num("z", &z)?;
    let (x, y) = (num("x", &x)?, num("y", &y)?);
    let z = u8::try_from(z).map_err(|_| ApiError::param("z", "at most 22"))?;
    let snap = state.snapshot();
    let t = state
        .publisher
        .tiles
        .tile(&snap.model, snap.generation, &id, z, x, y)
        .map_err(|e| match e {
            TileError::UnknownLayer(id) => unknown(&id),
            TileError::OutOfRange(m) => ApiError::param("z", m),
            TileError::NoSuchTile(m) => ApiError::NotFound(m),
        })?;
    let fresh = super::not_modified(&req, &t.etag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else if t.bytes.is_empty() {
        HttpResponse::NoContent()
    } else {
        HttpResponse::Ok()
    };
    // Cache-Control and cross-origin headers come from the edge (`encoding`, `cors`).
    res.insert_header((header::ETAG, t.etag.clone()));
    if fresh || t.bytes.is_empty() {
        return Ok(res.finish());
    }
    Ok(res.content_type(MVT).body(t.bytes))
}
