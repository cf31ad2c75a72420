//! The standard's GeoPackage (OGC GeoPackage 1.2, an SQLite file): tables `pole_eco`
//! (POINT), `site_eco` (MULTIPOLYGON), `terrain_eco` (POLYGON) and `etablissement`
//! (MULTIPOINT) in EPSG:2154, with the template's columns in the template's order.
//!
//! Written files hold the template's tables and columns, then, after them, the fields the
//! template lacks (`site_geompoint`, `terr_url_cartofriches` and the project's own fields),
//! so that reading a written file gives the same records back. QGIS and GDAL open them.

use std::path::Path;

use geo::{BoundingRect, Geometry, MultiPoint, MultiPolygon};
use geozero::{wkb::GpkgWkb, CoordDimensions, ToGeo, ToWkb};
use rusqlite::{types::ValueRef, Connection, OpenFlags};
use serde_json::{Map, Value};

use super::{column_of_field, field_of_column, number, retype, Inventory, Table, NUMERIC, TABLES};
use crate::crs::{self, Crs};
use crate::model::checks::Rejected;

/// EPSG:2154 as the GeoPackage's `gpkg_spatial_ref_sys` holds it (OGC WKT 1).
const LAMBERT93_WKT: &str = concat!(
    r#"PROJCS["RGF93 v1 / Lambert-93",GEOGCS["RGF93 v1",DATUM["Reseau_Geodesique_Francais_1993_v1","#,
    r#"SPHEROID["GRS 1980",6378137,298.257222101,AUTHORITY["EPSG","7019"]],AUTHORITY["EPSG","6171"]],"#,
    r#"PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,"#,
    r#"AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4171"]],PROJECTION["Lambert_Conformal_Conic_2SP"],"#,
    r#"PARAMETER["latitude_of_origin",46.5],PARAMETER["central_meridian",3],"#,
    r#"PARAMETER["standard_parallel_1",49],PARAMETER["standard_parallel_2",44],"#,
    r#"PARAMETER["false_easting",700000],PARAMETER["false_northing",6600000],"#,
    r#"UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],"#,
    r#"AUTHORITY["EPSG","2154"]]"#
);

const WGS84_WKT: &str = concat!(
    r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,"#,
    r#"AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,"#,
    r#"AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],"#,
    r#"AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#
);

/// The GeoPackage's core tables (GeoPackage 1.2, §1.1.2, §1.1.3, §2.1.5).
const CORE: &str = r#"
PRAGMA application_id = 1196444487;
PRAGMA user_version = 10200;
CREATE TABLE gpkg_spatial_ref_sys (
    srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
    organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
    table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
    description TEXT DEFAULT '',
    last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
    CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
    table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
    srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
    CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
    CONSTRAINT uk_gc_table_name UNIQUE (table_name),
    CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
"#;

fn sql_err(e: rusqlite::Error) -> String {
    format!("GeoPackage: {e}")
}

/// The template's geometry type for a feature's geometry.
fn as_template(g: &Geometry<f64>, kind: &str) -> Geometry<f64> {
    match (kind, g) {
        ("MULTIPOLYGON", Geometry::Polygon(p)) => {
            Geometry::MultiPolygon(MultiPolygon(vec![p.clone()]))
        }
        ("POLYGON", Geometry::MultiPolygon(m)) if m.0.len() == 1 => {
            Geometry::Polygon(m.0[0].clone())
        }
        ("MULTIPOINT", Geometry::Point(p)) => Geometry::MultiPoint(MultiPoint(vec![*p])),
        _ => g.clone(),
    }
}

/// Rows of one table to write: the records' properties (record field names) and their
/// Lambert-93 geometries.
pub type Rows<'a> = Vec<(Map<String, Value>, &'a Geometry<f64>)>;

/// A GeoPackage holding `tables` (each with its rows), as bytes.
pub fn write(tables: &[(&Table, Rows<'_>)]) -> Result<Vec<u8>, String> {
    let mut db = Connection::open_in_memory().map_err(sql_err)?;
    db.execute_batch(CORE).map_err(sql_err)?;
    let tx = db.transaction().map_err(sql_err)?;
    {
        let mut srs = tx
            .prepare("INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .map_err(sql_err)?;
        let undefined = "undefined";
        for (name, id, org, def, desc) in [
            (
                "Undefined Cartesian SRS",
                -1,
                "NONE",
                undefined,
                "undefined Cartesian coordinate reference system",
            ),
            (
                "Undefined geographic SRS",
                0,
                "NONE",
                undefined,
                "undefined geographic coordinate reference system",
            ),
            (
                "WGS 84 geodetic",
                4326,
                "EPSG",
                WGS84_WKT,
                "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
            ),
            (
                "RGF93 v1 / Lambert-93",
                2154,
                "EPSG",
                LAMBERT93_WKT,
                "Lambert-93, metres",
            ),
        ] {
            srs.execute(rusqlite::params![name, id, org, id, def, desc])
                .map_err(sql_err)?;
        }
    }
    for (table, rows) in tables {
        write_table(&tx, table, rows)?;
    }
    tx.commit().map_err(sql_err)?;
    let data = db.serialize("main").map_err(sql_err)?;
    Ok(data.to_vec())
}

fn write_table(
    tx: &rusqlite::Transaction<'_>,
    table: &Table,
    rows: &Rows<'_>,
) -> Result<(), String> {
    // The template's columns, then the record fields it lacks, in order of appearance.
    let mut columns: Vec<(String, &str)> = table
        .gpkg
        .iter()
        .map(|(c, t)| (c.to_string(), *t))
        .collect();
    for (props, _) in rows {
        for k in props.keys() {
            let c = column_of_field(k);
            if k == "champs_hors_liste" || columns.iter().any(|(n, _)| n == c) {
                continue;
            }
            let kind = if NUMERIC.contains(&k.as_str()) {
                "REAL"
            } else {
                "TEXT"
            };
            columns.push((c.to_string(), kind));
        }
    }
    let q = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let defs: Vec<String> = columns
        .iter()
        .map(|(c, t)| format!("{} {t}", q(c)))
        .collect();
    tx.execute_batch(&format!(
        "CREATE TABLE {name} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom {kind}, {defs});",
        name = q(table.name),
        kind = table.gpkg_geometry,
        defs = defs.join(", ")
    ))
    .map_err(sql_err)?;
    let names: Vec<String> = columns.iter().map(|(c, _)| q(c)).collect();
    let marks: Vec<String> = (0..=columns.len()).map(|i| format!("?{}", i + 1)).collect();
    let mut insert = tx
        .prepare(&format!(
            "INSERT INTO {} (geom, {}) VALUES ({})",
            q(table.name),
            names.join(", "),
            marks.join(", ")
        ))
        .map_err(sql_err)?;
    let mut extent: Option<geo::Rect<f64>> = None;
    for (props, g) in rows {
        let g = as_template(g, table.gpkg_geometry);
        let rect = g.bounding_rect();
        let env = rect
            .map(|r| vec![r.min().x, r.max().x, r.min().y, r.max().y])
            .unwrap_or_default();
        if let Some(r) = rect {
            extent = Some(match extent {
                None => r,
                Some(e) => geo::Rect::new(
                    (e.min().x.min(r.min().x), e.min().y.min(r.min().y)),
                    (e.max().x.max(r.max().x), e.max().y.max(r.max().y)),
                ),
            });
        }
        let blob = g
            .to_gpkg_wkb(CoordDimensions::xy(), Some(crs::LAMBERT93_EPSG), env)
            .map_err(|e| format!("geometry: {e}"))?;
        let mut values: Vec<rusqlite::types::Value> = vec![rusqlite::types::Value::Blob(blob)];
        for (c, _) in &columns {
            values.push(match props.get(field_of_column(c)) {
                None | Some(Value::Null) => rusqlite::types::Value::Null,
                Some(Value::String(s)) => rusqlite::types::Value::Text(s.clone()),
                Some(Value::Number(n)) => match n.as_i64() {
                    Some(i) => rusqlite::types::Value::Integer(i),
                    None => rusqlite::types::Value::Real(n.as_f64().unwrap_or(f64::NAN)),
                },
                Some(Value::Bool(b)) => rusqlite::types::Value::Integer(*b as i64),
                Some(other) => rusqlite::types::Value::Text(other.to_string()),
            });
        }
        insert
            .execute(rusqlite::params_from_iter(values))
            .map_err(sql_err)?;
    }
    let (min_x, min_y, max_x, max_y) = match extent {
        Some(e) => (
            Some(e.min().x),
            Some(e.min().y),
            Some(e.max().x),
            Some(e.max().y),
        ),
        None => (None, None, None, None),
    };
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, max_y, srs_id)
         VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, 2154)",
        rusqlite::params![table.name, min_x, min_y, max_x, max_y],
    )
    .map_err(sql_err)?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, 2154, 0, 0)",
        rusqlite::params![table.name, table.gpkg_geometry],
    )
    .map_err(sql_err)?;
    Ok(())
}

/// One feature read from a GeoPackage table: its attribute columns as JSON (column names as
/// the file writes them) and its geometry in Lambert-93, or why it could not be read.
pub type RawFeature = Result<(Map<String, Value>, Geometry<f64>), (Map<String, Value>, String)>;

/// Reads the feature tables `wanted` (by name, any case) of the GeoPackage at `path`;
/// geometries in EPSG:4326 are brought to Lambert-93. Tables absent are left out.
pub fn read_tables(path: &Path, wanted: &[&str]) -> Result<Vec<(String, Vec<RawFeature>)>, String> {
    let db =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql_err)?;
    let layers: Vec<(String, String, i64)> = db
        .prepare("SELECT table_name, column_name, srs_id FROM gpkg_geometry_columns")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| format!("not a GeoPackage ({e})"))?;
    let mut out = Vec::new();
    for w in wanted {
        let Some((name, geom, srs)) = layers.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(w))
        else {
            continue;
        };
        let crs = match srs {
            2154 => None,
            4326 => Some(Crs::Crs84),
            other => {
                return Err(format!(
                    "table {name}: spatial reference {other} (expected 2154, Lambert-93, or 4326)"
                ))
            }
        };
        let mut stmt = db
            .prepare(&format!("SELECT * FROM \"{}\"", name.replace('"', "\"\"")))
            .map_err(sql_err)?;
        let cols: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let mut rows = stmt.query([]).map_err(sql_err)?;
        let mut features = Vec::new();
        while let Some(r) = rows.next().map_err(sql_err)? {
            let mut props = Map::new();
            let mut geometry = Err(format!("{geom}: no geometry"));
            for (i, c) in cols.iter().enumerate() {
                let v = r.get_ref(i).map_err(sql_err)?;
                if c.eq_ignore_ascii_case(geom) {
                    if let ValueRef::Blob(b) = v {
                        geometry = GpkgWkb(b)
                            .to_geo()
                            .map_err(|e| e.to_string())
                            .and_then(|g| match crs {
                                Some(crs) => {
                                    crs::geometry_to_l93(&g, crs).map_err(|e| e.to_string())
                                }
                                None => Ok(g),
                            })
                            .map_err(|e| format!("{c}: {e}"));
                    }
                    continue;
                }
                let value = match v {
                    ValueRef::Null | ValueRef::Blob(_) => continue,
                    ValueRef::Integer(i) => Value::from(i),
                    ValueRef::Real(f) => number(f),
                    ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                };
                props.insert(c.clone(), value);
            }
            features.push(match geometry {
                Ok(g) => Ok((props, g)),
                Err(e) => Err((props, e)),
            });
        }
        out.push((name.clone(), features));
    }
    Ok(out)
}

/// Reads the standard's tables found in the GeoPackage at `path` (others are ignored).
pub fn read(path: &Path) -> Result<Inventory, String> {
    let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    let mut inv = Inventory::default();
    for (name, features) in read_tables(path, &names)? {
        let table = TABLES
            .into_iter()
            .find(|t| t.name.eq_ignore_ascii_case(&name))
            .expect("a wanted table");
        for (n, f) in features.into_iter().enumerate() {
            let (raw, geometry) = match f {
                Ok((raw, g)) => (raw, Ok(g)),
                Err((raw, e)) => (raw, Err(e)),
            };
            let mut props = Map::new();
            let mut problem = geometry.as_ref().err().cloned();
            for (c, v) in raw {
                if c == "fid" {
                    continue;
                }
                let field = field_of_column(&c).to_string();
                match retype(&field, v) {
                    Ok(Some(v)) => {
                        props.insert(field, v);
                    }
                    Ok(None) => {}
                    Err(e) => problem = Some(e),
                }
            }
            let row = props
                .get(table.csv[0])
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{name} row {}", n + 1));
            match problem {
                Some(reason) => inv
                    .unreadable
                    .push((table.name, Rejected { id: row, reason })),
                None => inv.push(table, row, props, geometry.ok()),
            }
        }
    }
    Ok(inv)
}
