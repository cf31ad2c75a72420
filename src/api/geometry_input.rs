//! A proposed zone as a client sends it: GeoJSON, checked at the edge so that the metrics
//! only ever see a valid polygon inside the region, in Lambert-93.
//!
//! Body: `{"geometry": <Polygon|MultiPolygon>, "crs": "CRS84"|"EPSG:2154"|<URI>,
//! "emplois": n, "vocation": "…", "radius_km": r}`, or a GeoJSON Feature whose properties
//! carry the same members.

use geo::{Area, Coord, LineString, MultiPolygon, Polygon, Validation};
use serde_json::Value;

use crate::crs::{self, Crs};
use crate::model::codes;
use crate::read_model::ReadModel;

use super::problem::{ApiError, ApiResult};

/// Most vertices a proposal may have.
pub const MAX_VERTICES: usize = 10_000;

/// What the check needs from the body.
#[derive(Clone, Debug)]
pub struct ProposalInput {
    pub area: MultiPolygon<f64>,
    pub jobs: Option<u32>,
    pub vocation: Option<String>,
    pub radius_km: Option<f64>,
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadBody {
        field: field.to_string(),
        message: message.into(),
    }
}

fn ring(v: &Value, field: &str, crs: Crs, count: &mut usize) -> ApiResult<LineString<f64>> {
    let pts = v
        .as_array()
        .ok_or_else(|| bad(field, "a ring must be an array of positions"))?;
    if pts.is_empty() {
        return Err(bad(field, "empty ring"));
    }
    let mut coords = Vec::with_capacity(pts.len());
    for (i, p) in pts.iter().enumerate() {
        *count += 1;
        if *count > MAX_VERTICES {
            return Err(bad(
                field,
                format!("too many vertices (more than {MAX_VERTICES})"),
            ));
        }
        let a = p
            .as_array()
            .filter(|a| a.len() == 2 || a.len() == 3)
            .and_then(|a| Some((a[0].as_f64()?, a[1].as_f64()?)))
            .ok_or_else(|| {
                bad(
                    &format!("{field}[{i}]"),
                    "a position must be [x, y] numbers",
                )
            })?;
        let (x, y) =
            crs::to_l93(crs, a.0, a.1).map_err(|e| bad(&format!("{field}[{i}]"), e.to_string()))?;
        coords.push(Coord { x, y });
    }
    if pts.len() < 4 {
        return Err(bad(
            field,
            format!("a ring needs at least 4 positions, got {}", pts.len()),
        ));
    }
    if pts.first() != pts.last() {
        return Err(bad(
            field,
            "ring is not closed: its first and last positions differ",
        ));
    }
    Ok(LineString(coords))
}

fn polygon(v: &Value, field: &str, crs: Crs, count: &mut usize) -> ApiResult<Polygon<f64>> {
    let rings = v
        .as_array()
        .ok_or_else(|| bad(field, "a polygon must be an array of rings"))?;
    if rings.is_empty() {
        return Err(bad(field, "empty polygon"));
    }
    let mut rs = Vec::with_capacity(rings.len());
    for (i, r) in rings.iter().enumerate() {
        rs.push(ring(r, &format!("{field}[{i}]"), crs, count)?);
    }
    let exterior = rs.remove(0);
    Ok(Polygon::new(exterior, rs))
}

/// Parses and validates a proposal body.
pub fn parse_proposal(body: &[u8], model: &ReadModel) -> ApiResult<ProposalInput> {
    if body.is_empty() {
        return Err(bad("body", "empty body: send a GeoJSON polygon"));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| bad("body", format!("not JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| bad("body", "must be a JSON object"))?;
    // A Feature carries the options in its properties.
    let (geometry, opts) = match obj.get("type").and_then(Value::as_str) {
        Some("Feature") => (
            obj.get("geometry"),
            obj.get("properties")
                .and_then(Value::as_object)
                .unwrap_or(obj),
        ),
        Some("Polygon") | Some("MultiPolygon") => (Some(&v), obj),
        _ => (obj.get("geometry"), obj),
    };
    let geometry = geometry
        .filter(|g| !g.is_null())
        .ok_or_else(|| bad("geometry", "required: a GeoJSON Polygon or MultiPolygon"))?;
    let crs = match opts.get("crs").or_else(|| obj.get("crs")) {
        None => Crs::Crs84,
        Some(Value::String(s)) => Crs::parse(s).map_err(|e| bad("crs", e.to_string()))?,
        Some(_) => return Err(bad("crs", "must be a CRS URI string")),
    };
    if !matches!(crs, Crs::Crs84 | Crs::Lambert93) {
        return Err(bad("crs", "use CRS84 (default) or EPSG:2154"));
    }
    let typ = geometry.get("type").and_then(Value::as_str).unwrap_or("");
    let coords = geometry
        .get("coordinates")
        .ok_or_else(|| bad("geometry.coordinates", "required"))?;
    if coords.as_array().is_some_and(|a| a.is_empty()) {
        return Err(bad("geometry.coordinates", "empty geometry"));
    }
    let mut count = 0;
    let area = match typ {
        "Polygon" => MultiPolygon(vec![polygon(
            coords,
            "geometry.coordinates",
            crs,
            &mut count,
        )?]),
        "MultiPolygon" => {
            let polys = coords
                .as_array()
                .ok_or_else(|| bad("geometry.coordinates", "must be an array of polygons"))?;
            let mut out = Vec::with_capacity(polys.len());
            for (i, p) in polys.iter().enumerate() {
                out.push(polygon(
                    p,
                    &format!("geometry.coordinates[{i}]"),
                    crs,
                    &mut count,
                )?);
            }
            MultiPolygon(out)
        }
        other => {
            return Err(bad(
                "geometry.type",
                format!("`{other}` is not Polygon or MultiPolygon"),
            ))
        }
    };
    if let Err(e) = area.check_validation() {
        return Err(bad("geometry", format!("invalid polygon: {e}")));
    }
    if area.unsigned_area() < 1.0 {
        return Err(bad("geometry", "the polygon has no area (under 1 m²)"));
    }
    // Inside the region: it must meet at least one commune.
    let inside = area
        .0
        .iter()
        .any(|p| !model.communes.intersecting(p).is_empty());
    if !inside {
        return Err(bad(
            "geometry",
            "outside the data: it meets no commune loaded",
        ));
    }
    let jobs = match opts.get("emplois").or_else(|| opts.get("jobs")) {
        None | Some(Value::Null) => None,
        Some(j) => Some(
            j.as_u64()
                .filter(|&j| j <= 100_000)
                .ok_or_else(|| bad("emplois", "must be an integer in 0..=100000"))?
                as u32,
        ),
    };
    let vocation = match opts.get("vocation") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if codes::in_list(codes::SITE_VOCADOMI, s) => Some(s.clone()),
        Some(_) => {
            return Err(bad(
                "vocation",
                format!("must be one of: {}", codes::SITE_VOCADOMI.join(", ")),
            ))
        }
    };
    let radius_km = match opts.get("radius_km") {
        None | Some(Value::Null) => None,
        Some(r) => Some(
            r.as_f64()
                .filter(|r| *r > 0.0 && *r <= 100.0)
                .ok_or_else(|| bad("radius_km", "must be a number in (0, 100]"))?,
        ),
    };
    Ok(ProposalInput {
        area,
        jobs,
        vocation,
        radius_km,
    })
}
