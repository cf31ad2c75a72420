//! An EPCI's inventory for its own tools: `GET /api/v1/exports/{siren}/{layer}` with
//! `format=geojson` (CRS84, the default), `format=csv` (the CNIG `;`-CSV: exactly the
//! standard's columns in its order, the geometry as GeoJSON text in Lambert-93 in
//! `site_geomsurf`, `terr_geomsurf` or `etab_geompoint`) or `format=gpkg` (the standard's
//! GeoPackage template). Layers: `sites`, `terrains`, `etablissements`, and `inventaire`
//! (a GeoPackage of all four tables: its poles, sites, plots and establishments).
//! Confidential fields (buyers, prices, contacts) only for that EPCI's editors and admins
//! (bearer token).

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::query::Params;
use super::{ApiError, ApiResult, AppState};
use crate::crs::{self, Crs};
use crate::formats::cnig::{self, Table};
use crate::model::{Etablissement, Feature, Record, Site, Terrain};
use crate::read_model::{Layer, ReadModel, NONE};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/exports/{siren}/{layer}", web::get().to(export));
}

/// May the request's bearer see the confidential fields of EPCI `siren`?
async fn privileged(req: &HttpRequest, state: &AppState, siren: &str) -> ApiResult<bool> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (token, state.store.as_ref()) {
        (None, _) => Ok(false),
        (Some(_), None) => Err(ApiError::Unauthorized(
            "tokens exist only when the service runs on PostGIS".into(),
        )),
        (Some(t), Some(w)) => match w.authenticate(t.trim()).await {
            Ok(p) => Ok(p.may_edit(Some(siren))),
            Err(_) => Err(ApiError::Unauthorized("unknown or revoked token".into())),
        },
    }
}

/// The live features of `layer` whose slot `keep` accepts, owned.
fn rows<R: Record>(layer: &Layer<R>, keep: impl Fn(usize) -> bool) -> Vec<Feature<R>> {
    layer
        .live_slots()
        .filter(|&i| keep(i))
        .map(|i| layer.get(i).to_feature())
        .collect()
}

fn props<R: Record>(r: &R, confidential: bool) -> Map<String, Value> {
    let mut m = match serde_json::to_value(r) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if !confidential {
        for k in R::CONFIDENTIAL {
            m.remove(*k);
        }
    }
    m
}

/// The GeoPackage rows of `features`: their properties (without the confidential ones unless
/// `confidential`) and their geometry.
fn gpkg_rows<'a, R: Record>(
    features: &'a [Feature<R>],
    confidential: bool,
) -> cnig::gpkg::Rows<'a> {
    features
        .iter()
        .map(|f| (props(&f.record, confidential), &f.geometry))
        .collect()
}

fn write<R: Record>(
    features: &[Feature<R>],
    format: &str,
    confidential: bool,
    table: &'static Table,
) -> ApiResult<Vec<u8>> {
    match format {
        "csv" => Ok(cnig::csv::write(
            table,
            features
                .iter()
                .map(|f| (props(&f.record, confidential), &f.geometry)),
        )
        .into_bytes()),
        "gpkg" => cnig::gpkg::write(&[(table, gpkg_rows(features, confidential))])
            .map_err(ApiError::Internal),
        _ => {
            let mut feats = Vec::new();
            for f in features {
                let g = crs::geometry_from_l93(&f.geometry, Crs::Crs84)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                feats.push(json!({
                    "type": "Feature",
                    "id": f.record.id(),
                    "geometry": geojson::Geometry::from(&g),
                    "properties": props(&f.record, confidential),
                }));
            }
            Ok(json!({"type": "FeatureCollection", "features": feats})
                .to_string()
                .into_bytes())
        }
    }
}

async fn export(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let (siren, layer) = path.into_inner();
    let q = Params::parse(req.query_string(), &["format"])?;
    let mut format = q
        .one_of("format", &["geojson", "csv", "gpkg"], "geojson")?
        .to_string();
    let confidential = privileged(&req, &state, &siren).await?;
    let snap = state.snapshot();
    let m: &ReadModel = &snap.model;
    let e = m
        .epci
        .index_of(&siren)
        .ok_or_else(|| ApiError::NotFound(format!("no EPCI `{siren}`")))? as u32;
    if layer == "inventaire" {
        format = "gpkg".into();
    }
    let site_in = |i: usize| m.joins.site_epci[i] == e;
    let terrain_in = |i: usize| {
        let s = m.joins.terrain_site[i];
        s != NONE && site_in(s as usize)
    };
    let etab_in = |i: usize| m.joins.etab_epci[i] == e;
    let body = match layer.as_str() {
        Site::COLLECTION => write(&rows(&m.sites, site_in), &format, confidential, &cnig::SITE)?,
        Terrain::COLLECTION => write(
            &rows(&m.terrains, terrain_in),
            &format,
            confidential,
            &cnig::TERRAIN,
        )?,
        Etablissement::COLLECTION => write(
            &rows(&m.etablissements, etab_in),
            &format,
            confidential,
            &cnig::ETABLISSEMENT,
        )?,
        "inventaire" => {
            // The poles its sites belong to, then its sites, plots and establishments.
            let sites = rows(&m.sites, site_in);
            let poles: std::collections::BTreeSet<&str> =
                sites.iter().map(|s| s.record.pole_id.as_str()).collect();
            let pole_rows = rows(&m.poles, |p| {
                poles.contains(m.poles.record(p).pole_id.as_str())
            });
            let plots = rows(&m.terrains, terrain_in);
            let etabs = rows(&m.etablissements, etab_in);
            cnig::gpkg::write(&[
                (&cnig::POLE, gpkg_rows(&pole_rows, confidential)),
                (&cnig::SITE, gpkg_rows(&sites, confidential)),
                (&cnig::TERRAIN, gpkg_rows(&plots, confidential)),
                (&cnig::ETABLISSEMENT, gpkg_rows(&etabs, confidential)),
            ])
            .map_err(ApiError::Internal)?
        }
        other => {
            return Err(ApiError::NotFound(format!(
                "no export of `{other}`: sites, terrains, etablissements or inventaire"
            )))
        }
    };
    let (ctype, ext) = match format.as_str() {
        "csv" => ("text/csv; charset=utf-8", "csv"),
        "gpkg" => ("application/geopackage+sqlite3", "gpkg"),
        _ => ("application/geo+json", "geojson"),
    };
    Ok(HttpResponse::Ok()
        .content_type(ctype)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{siren}_{layer}.{ext}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body))
}
