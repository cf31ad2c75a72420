//! IGN ADMIN EXPRESS (COG edition): layers `COMMUNE` (`INSEE_COM`, `NOM`, `INSEE_DEP`,
//! `POPULATION`, `SIREN_EPCI`, …) and `EPCI` (`CODE_SIREN`, `NOM`, `NATURE`), as GeoPackage
//! (tables `commune` and `epci`) or GeoJSON (one layer a file, told by its fields), so that
//! any territory can be loaded. Geometry in Lambert-93, or CRS84 brought to it.
//!
//! A commune's town-hall point is taken as a point inside its polygon (ADMIN EXPRESS keeps
//! chefs-lieux in another layer). An EPCI's population and member counts are summed from
//! the communes stored after the import ([`crate::store::import::import_territory`]).

use std::path::Path;

use geo::{BoundingRect, Geometry, InteriorPoint};
use serde_json::{Map, Value};

use crate::crs::{self, Crs};
use crate::model::checks::Rejected;
use crate::model::{Commune, Epci, Feature, TerritoryClass};

/// An INSEE commune code: five characters, Corsica's `2A`/`2B` included.
pub fn is_insee_code(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() == 5
        && b[0].is_ascii_digit()
        && (b[1].is_ascii_digit() || b[1] == b'A' || b[1] == b'B')
        && b[2..].iter().all(u8::is_ascii_digit)
}

/// What the files held.
#[derive(Debug, Default)]
pub struct Territory {
    pub communes: Vec<Feature<Commune>>,
    pub epci: Vec<Feature<Epci>>,
    pub rejected: Vec<Rejected>,
}

/// The short EPCI type of an ADMIN EXPRESS `NATURE`.
fn epci_type(nature: &str) -> String {
    let n = nature.to_lowercase();
    if n.starts_with("communauté de communes") {
        "CC".into()
    } else if n.starts_with("communauté d'agglomération")
        || n.starts_with("communauté d’agglomération")
    {
        "CA".into()
    } else if n.starts_with("communauté urbaine") {
        "CU".into()
    } else if n.starts_with("métropole") {
        "METRO".into()
    } else {
        nature.to_string()
    }
}

fn text(p: &Map<String, Value>, k: &str) -> Option<String> {
    match p.get(k).or_else(|| p.get(&k.to_lowercase()))? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Territory {
    /// Adds one feature, a commune or an EPCI as its fields say.
    fn push(&mut self, p: &Map<String, Value>, g: Geometry<f64>, row: String) {
        let reject = |reason: String| Rejected {
            id: row.clone(),
            reason,
        };
        if let Some(code) = text(p, "INSEE_COM") {
            if !is_insee_code(&code) {
                self.rejected
                    .push(reject(format!("INSEE_COM: `{code}` is not an INSEE code")));
                return;
            }
            let population = match text(p, "POPULATION").map(|s| s.parse::<u32>()) {
                None => 0,
                Some(Ok(n)) => n,
                Some(Err(_)) => {
                    self.rejected.push(reject("POPULATION: not a count".into()));
                    return;
                }
            };
            let Some(inside) = g.interior_point() else {
                self.rejected.push(reject("empty geometry".into()));
                return;
            };
            let epci = text(p, "SIREN_EPCI")
                .filter(|s| s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit()))
                .unwrap_or_default();
            let dep = text(p, "INSEE_DEP").unwrap_or_else(|| code[..2].to_string());
            let reg = text(p, "INSEE_REG").unwrap_or_default();
            if !reg.is_empty() && crate::model::territory::region_name(&reg).is_none() {
                self.rejected
                    .push(reject(format!("INSEE_REG: `{reg}` is not a region code")));
                return;
            }
            self.communes.push(Feature {
                geometry: g,
                record: Commune {
                    nom: text(p, "NOM").unwrap_or_else(|| code.clone()).into(),
                    code_insee: code.into(),
                    dep: dep.into(),
                    reg: reg.into(),
                    population,
                    epci_siren: epci.into(),
                    mairie_x: inside.x(),
                    mairie_y: inside.y(),
                    grille_densite: None,
                    epci_nom: String::new().into(),
                    surface_ha: 0.0,
                    densite_hab_km2: 0.0,
                    classe: TerritoryClass::Rural,
                },
            });
        } else if let Some(siren) = text(p, "CODE_SIREN") {
            if siren.len() != 9 || !siren.bytes().all(|b| b.is_ascii_digit()) {
                self.rejected
                    .push(reject(format!("CODE_SIREN: `{siren}` is not a SIREN")));
                return;
            }
            self.epci.push(Feature {
                geometry: g,
                record: Epci {
                    epci_nom: text(p, "NOM").unwrap_or_else(|| siren.clone()).into(),
                    epci_siren: siren.into(),
                    epci_type: epci_type(&text(p, "NATURE").unwrap_or_default()).into(),
                    mode_financement: None,
                    population_totale: 0,
                    n_membres_total: 0,
                    n_membres_region: 0,
                    population_region: 0,
                    surface_ha: 0.0,
                    densite_hab_km2: 0.0,
                    part_population_urbaine: 0.0,
                    classe: TerritoryClass::Rural,
                },
            });
        } else {
            self.rejected.push(reject(
                "neither INSEE_COM (COMMUNE) nor CODE_SIREN (EPCI)".into(),
            ));
        }
    }
}

/// Reads an ADMIN EXPRESS file: `.gpkg` (tables `commune` and `epci`) or `.geojson`.
pub fn read(path: &Path, into: &mut Territory) -> Result<(), String> {
    let what = path.display();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "gpkg" {
        let tables = super::cnig::gpkg::read_tables(path, &["commune", "epci"])
            .map_err(|e| format!("{what}: {e}"))?;
        if tables.is_empty() {
            return Err(format!("{what}: no table commune or epci"));
        }
        for (name, features) in tables {
            for (i, f) in features.into_iter().enumerate() {
                let row = format!("{name} row {}", i + 1);
                match f {
                    Ok((p, g)) => into.push(&p, g, row),
                    Err((_, e)) => into.rejected.push(Rejected { id: row, reason: e }),
                }
            }
        }
        return Ok(());
    }
    let body = std::fs::read_to_string(path).map_err(|e| format!("{what}: {e}"))?;
    let fc = body
        .parse::<geojson::GeoJson>()
        .ok()
        .and_then(|g| geojson::FeatureCollection::try_from(g).ok())
        .ok_or_else(|| format!("{what}: not a GeoJSON FeatureCollection"))?;
    for (i, f) in fc.features.iter().enumerate() {
        let row = format!("feature {i}");
        let p = f.properties.clone().unwrap_or_default();
        let g = f
            .geometry
            .as_ref()
            .ok_or("no geometry".to_string())
            .and_then(|g| Geometry::<f64>::try_from(g).map_err(|e| e.to_string()))
            .and_then(|g| {
                // ADMIN EXPRESS GeoJSON comes in either system: metres mean Lambert-93.
                let metres = g.bounding_rect().is_some_and(|r| r.max().x.abs() > 360.0);
                if metres {
                    Ok(g)
                } else {
                    crs::geometry_to_l93(&g, Crs::Crs84).map_err(|e| e.to_string())
                }
            });
        match g {
            Ok(g) => into.push(&p, g, row),
            Err(e) => into.rejected.push(Rejected {
                id: row,
                reason: format!("geometry: {e}"),
            }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communes_and_epci_from_geojson_fields() {
        let dir = std::env::temp_dir().join(format!("ae-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let square = |x: f64, y: f64| {
            format!("{{\"type\":\"Polygon\",\"coordinates\":[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]}}", x + 1000.0, x + 1000.0, y + 1000.0, y + 1000.0)
        };
        let file = dir.join("commune.geojson");
        std::fs::write(
            &file,
            format!(
                r#"{{"type":"FeatureCollection","features":[
                {{"type":"Feature","properties":{{"INSEE_COM":"80253","NOM":"Doullens","INSEE_DEP":"80","INSEE_REG":"32","POPULATION":6020,"SIREN_EPCI":"200070993"}},"geometry":{}}},
                {{"type":"Feature","properties":{{"INSEE_COM":"8025","NOM":"X"}},"geometry":{}}},
                {{"type":"Feature","properties":{{"INSEE_COM":"80254","NOM":"Y","INSEE_REG":"99"}},"geometry":{}}},
                {{"type":"Feature","properties":{{"CODE_SIREN":"200070993","NOM":"CC du Doullennais","NATURE":"Communauté de communes"}},"geometry":{}}}
                ]}}"#,
                square(640_000.0, 6_995_000.0),
                square(650_000.0, 6_995_000.0),
                square(660_000.0, 6_995_000.0),
                square(640_000.0, 6_995_000.0)
            ),
        )
        .unwrap();
        let mut t = Territory::default();
        read(&file, &mut t).unwrap();
        assert_eq!(t.communes.len(), 1);
        let c = &t.communes[0].record;
        assert_eq!(
            (
                c.code_insee.as_str(),
                c.reg.as_str(),
                c.population,
                c.epci_siren.as_str()
            ),
            ("80253", "32", 6020, "200070993")
        );
        assert!(
            (640_000.0..641_000.0).contains(&c.mairie_x),
            "the town hall point is inside"
        );
        assert_eq!(t.epci.len(), 1);
        assert_eq!(t.epci[0].record.epci_type, "CC");
        assert_eq!(t.rejected.len(), 2);
        assert!(t.rejected[0].reason.starts_with("INSEE_COM"));
        assert!(t.rejected[1].reason.starts_with("INSEE_REG: `99`"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
