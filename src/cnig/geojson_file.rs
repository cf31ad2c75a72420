//! A CNIG inventory as GeoJSON: a FeatureCollection whose properties are the standard's
//! fields. Each feature's table is told by its fields (`SIRET`, `terr_id`, `site_nom`,
//! `pole_nom`), so one file may hold several tables. Coordinates are CRS84 (RFC 7946) unless
//! the collection names EPSG:2154 in a `crs` member or its coordinates are plainly metres.

use geo::{BoundingRect, Geometry};
use serde_json::{Map, Value};

use super::{retype, table_of_fields, Inventory};
use crate::crs::{self, Crs};
use crate::store::import::Rejected;

/// True when the collection is in Lambert-93.
fn lambert93(fc: &geojson::FeatureCollection, first: Option<&Geometry<f64>>) -> bool {
    let named = fc
        .foreign_members
        .as_ref()
        .and_then(|m| m.get("crs"))
        .map(|c| c.to_string())
        .is_some_and(|c| c.contains("2154"));
    let metres = first
        .and_then(|g| g.bounding_rect())
        .is_some_and(|r| r.max().x.abs() > 360.0 || r.max().y.abs() > 360.0);
    named || metres
}

/// Reads the features of a FeatureCollection.
pub fn read(text: &str) -> Result<Inventory, String> {
    let fc: geojson::FeatureCollection = text
        .parse::<geojson::GeoJson>()
        .map_err(|e| format!("not GeoJSON: {e}"))
        .and_then(|g| {
            geojson::FeatureCollection::try_from(g).map_err(|_| "not a FeatureCollection".into())
        })?;
    let geometries: Vec<Option<Result<Geometry<f64>, String>>> = fc
        .features
        .iter()
        .map(|f| {
            f.geometry
                .as_ref()
                .map(|g| Geometry::<f64>::try_from(g).map_err(|e| e.to_string()))
        })
        .collect();
    let first = geometries.iter().flatten().flatten().next();
    let l93 = lambert93(&fc, first);
    let mut inv = Inventory::default();
    for (i, (f, g)) in fc.features.iter().zip(geometries).enumerate() {
        let props = f.properties.clone().unwrap_or_default();
        let Some(table) = table_of_fields(props.keys().map(String::as_str)) else {
            inv.unreadable.push((
                "?",
                Rejected {
                    id: format!("feature {i}"),
                    reason: "no table of the standard has these fields".into(),
                },
            ));
            continue;
        };
        let row = props
            .get(table.csv[0])
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("feature {i}"));
        let mut typed = Map::new();
        let mut problem = None;
        for (k, v) in props {
            match retype(&k, v) {
                Ok(Some(v)) => {
                    typed.insert(k, v);
                }
                Ok(None) => {}
                Err(e) => problem = Some(e),
            }
        }
        let geometry = match g {
            None => None,
            Some(Err(e)) => {
                problem = Some(format!("geometry: {e}"));
                None
            }
            Some(Ok(g)) if l93 => Some(g),
            Some(Ok(g)) => match crs::geometry_to_l93(&g, Crs::Crs84) {
                Ok(g) => Some(g),
                Err(e) => {
                    problem = Some(format!("geometry: {e}"));
                    None
                }
            },
        };
        match problem {
            Some(reason) => inv
                .unreadable
                .push((table.name, Rejected { id: row, reason })),
            None => inv.push(table, row, typed, geometry),
        }
    }
    Ok(inv)
}
