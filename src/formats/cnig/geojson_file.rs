//! A CNIG inventory as GeoJSON: a FeatureCollection whose properties are the standard's
//! fields. Each feature's table is told by its fields (`SIRET`, `terr_id`, `site_nom`,
//! `pole_nom`), so one file may hold several tables. Coordinates are CRS84 (RFC 7946) unless
//! the collection names EPSG:2154 in a `crs` member or its coordinates are plainly metres.

use geo::{BoundingRect, Geometry};
use serde_json::{Map, Value};

use super::{retype, table_of_fields, Inventory};
use crate::crs::{self, Crs};
use crate::model::checks::Rejected;

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

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = r#""site_id":"80024_SITE-ECO_00001","pole_id":"P","site_nom":"ZA","site_type":"zone d'activité économique","site_vocadomi":"industrielle","site_etat":"existant et actif","site_surf_brute":"3,5","site_surf_utile":3,"site_identif_date":"2024-01-01","site_actu_date":"2024-01-01","site_epci_nom":"CC","site_epci_siren":"200071223","site_comm_nom":"X","site_comm_insee":"80024","site_moa_type":"epci","site_uf_nbre":"15""#;

    #[test]
    fn tables_told_by_fields_and_coordinates_by_magnitude() {
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[
            {{"type":"Feature","properties":{{{SITE}}},"geometry":{{"type":"Polygon","coordinates":[[[2.2,49.9],[2.21,49.9],[2.21,49.91],[2.2,49.9]]]}}}},
            {{"type":"Feature","properties":{{"foo":1}},"geometry":null}},
            {{"type":"Feature","properties":{{"terr_id":"T","terr_surf_brute":"beaucoup"}},"geometry":null}}
            ]}}"#
        );
        let inv = read(&text).unwrap();
        assert_eq!(inv.sites.len(), 1);
        let s = &inv.sites[0];
        assert_eq!(s.record.site_surf_brute, 3.5, "text read as a number");
        assert_eq!(s.record.site_uf_nbre, Some(15));
        let x = geo::CoordsIter::coords_iter(&s.geometry).next().unwrap().x;
        assert!(
            (600_000.0..700_000.0).contains(&x),
            "CRS84 brought to Lambert-93: {x}"
        );
        assert_eq!(inv.unreadable.len(), 2);
        assert_eq!(inv.unreadable[0].0, "?");
        assert!(
            inv.unreadable[1].1.reason.starts_with("terr_surf_brute"),
            "{:?}",
            inv.unreadable
        );
        // Already in Lambert-93: kept as is.
        let l93 = text.replace(
            "[[[2.2,49.9],[2.21,49.9],[2.21,49.91],[2.2,49.9]]]",
            "[[[650000,6980000],[650100,6980000],[650100,6980100],[650000,6980000]]]",
        );
        let inv = read(&l93).unwrap();
        let x = geo::CoordsIter::coords_iter(&inv.sites[0].geometry)
            .next()
            .unwrap()
            .x;
        assert_eq!(x, 650_000.0);
    }
}
