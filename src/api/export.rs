//! An EPCI's inventory for its own tools: `GET /api/v1/exports/{siren}/{layer}` with
//! `format=geojson` (CRS84, the default) or `format=csv` (the CNIG `;`-CSV: the standard's
//! columns, the geometry as GeoJSON text in Lambert-93 in `site_geomsurf`, `terr_geomsurf`
//! or `etab_geompoint`). Layers: `sites`, `terrains`, `etablissements`. Confidential fields
//! (buyers, prices, contacts) only for that EPCI's editors and admins (bearer token).

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::query::pairs;
use super::{ApiError, ApiResult, AppState};
use crate::crs::{self, Crs};
use crate::model::{Etablissement, Feature, Record, Site, Terrain};
use crate::read_model::{ReadModel, NONE};

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

/// The features of `layer` belonging to EPCI `e` (index in the EPCI layer).
fn rows<'a, R: Record>(
    features: &'a [Feature<R>],
    keep: impl Fn(usize) -> bool + 'a,
) -> impl Iterator<Item = &'a Feature<R>> + 'a {
    features
        .iter()
        .enumerate()
        .filter(move |(i, _)| keep(*i))
        .map(|(_, f)| f)
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

/// One CSV field of the `;`-CSV: quoted when it holds `;`, `"` or a line break.
fn csv_field(out: &mut String, v: &Value) {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.contains([';', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&text);
    }
}

fn write<'a, R: Record + 'a>(
    features: impl Iterator<Item = &'a Feature<R>>,
    csv: bool,
    confidential: bool,
    geometry_column: &str,
) -> ApiResult<(String, usize)> {
    let mut n = 0;
    if csv {
        // Optional fields are left out of a record's JSON when empty: the header is the
        // union of every row's fields, in order of appearance.
        let rows: Vec<(Map<String, Value>, &Feature<R>)> = features
            .map(|f| (props(&f.record, confidential), f))
            .collect();
        let mut header: Vec<&String> = Vec::new();
        for (p, _) in &rows {
            for k in p.keys() {
                if !header.contains(&k) {
                    header.push(k);
                }
            }
        }
        let mut out = String::new();
        for k in &header {
            out.push_str(k);
            out.push(';');
        }
        out.push_str(geometry_column);
        out.push('\n');
        for (p, f) in &rows {
            for c in &header {
                csv_field(&mut out, p.get(*c).unwrap_or(&Value::Null));
                out.push(';');
            }
            let g = serde_json::to_value(geojson::Geometry::from(&f.geometry))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            csv_field(&mut out, &Value::String(g.to_string()));
            out.push('\n');
            n += 1;
        }
        Ok((out, n))
    } else {
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
            n += 1;
        }
        Ok((
            json!({"type": "FeatureCollection", "features": feats}).to_string(),
            n,
        ))
    }
}

async fn export(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let (siren, layer) = path.into_inner();
    let q = pairs(req.query_string())?;
    let mut format = "geojson".to_string();
    for (k, v) in &q {
        match k.as_str() {
            "format" if v == "geojson" || v == "csv" => format = v.clone(),
            "format" => return Err(ApiError::param("format", "must be geojson or csv")),
            other => return Err(ApiError::param(other, "unknown parameter")),
        }
    }
    let confidential = privileged(&req, &state, &siren).await?;
    let snap = state.snapshot();
    let m: &ReadModel = &snap.model;
    let e = m
        .epci
        .index_of(&siren)
        .ok_or_else(|| ApiError::NotFound(format!("no EPCI `{siren}`")))? as u32;
    let csv = format == "csv";
    let (body, _) = match layer.as_str() {
        Site::COLLECTION => write(
            rows(m.sites.features(), |i| m.joins.site_epci[i] == e),
            csv,
            confidential,
            "site_geomsurf",
        )?,
        Terrain::COLLECTION => write(
            rows(m.terrains.features(), |i| {
                let s = m.joins.terrain_site[i];
                s != NONE && m.joins.site_epci[s as usize] == e
            }),
            csv,
            confidential,
            "terr_geomsurf",
        )?,
        Etablissement::COLLECTION => write(
            rows(m.etablissements.features(), |i| m.joins.etab_epci[i] == e),
            csv,
            confidential,
            "etab_geompoint",
        )?,
        other => {
            return Err(ApiError::NotFound(format!(
                "no export of `{other}`: sites, terrains or etablissements"
            )))
        }
    };
    let (ctype, ext) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/geo+json", "geojson")
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
