//! The standard's `;`-CSV: UTF-8, `;`-separated, double quotes around fields that hold `;`,
//! `"` or line breaks, one table per file, the geometry as GeoJSON text in Lambert-93
//! (`site_geomsurf`, `terr_geomsurf`, `etab_geompoint`); a pole's point may also be written
//! `lon, lat` in WGS84 (`pole_geompoint`, a Table Schema `geopoint`).

use geo::Geometry;
use serde_json::{Map, Value};

use super::{typed, Inventory, Table, TABLES};
use crate::crs::{self, Crs};
use crate::model::checks::Rejected;

/// Splits `text` into records of `;`-separated fields; quoted fields may span lines. Each
/// record comes with the line it starts on (1-based).
pub fn records(text: &str) -> Vec<(usize, Vec<String>)> {
    Records::new(text, ';').collect()
}

/// The records of a delimited text, one at a time (a country-scale file is not split into
/// fields all at once).
pub struct Records<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    sep: char,
    line: usize,
}

impl<'a> Records<'a> {
    pub fn new(text: &'a str, sep: char) -> Self {
        Records {
            chars: text.trim_start_matches('\u{feff}').chars().peekable(),
            sep,
            line: 1,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = (usize, Vec<String>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let start = self.line;
            let mut fields = Vec::new();
            let mut cur = String::new();
            let mut quoted = false;
            let mut any = false;
            while let Some(c) = self.chars.next() {
                any = true;
                match (c, quoted) {
                    ('"', true) if self.chars.peek() == Some(&'"') => {
                        cur.push('"');
                        self.chars.next();
                    }
                    ('"', true) => quoted = false,
                    ('"', false) if cur.is_empty() => quoted = true,
                    (c, false) if c == self.sep => fields.push(std::mem::take(&mut cur)),
                    ('\r', false) if self.chars.peek() == Some(&'\n') => {}
                    ('\n', false) => {
                        self.line += 1;
                        break;
                    }
                    (c, _) => {
                        if c == '\n' {
                            self.line += 1;
                        }
                        cur.push(c);
                    }
                }
            }
            if !any {
                return None;
            }
            fields.push(cur);
            if fields.len() == 1 && fields[0].is_empty() {
                continue; // a blank line
            }
            return Some((start, fields));
        }
    }
}

/// Parses a geometry cell: GeoJSON text in Lambert-93, or `lon, lat` in WGS84. Says when a
/// ring was not closed (it is closed by repeating its first position; no position is
/// changed or dropped).
pub fn geometry_cell(text: &str) -> Result<(Geometry<f64>, Option<String>), String> {
    let t = text.trim();
    if t.starts_with('{') {
        let json: Value = serde_json::from_str(t).map_err(|e| format!("not GeoJSON: {e}"))?;
        let note = unclosed_ring(&json).then(|| "a ring was not closed: closed".to_string());
        let g: geojson::Geometry = t.parse().map_err(|e| format!("not GeoJSON: {e}"))?;
        let g = Geometry::<f64>::try_from(&g).map_err(|e| e.to_string())?;
        return Ok((g, note));
    }
    let (a, b) = t
        .split_once(',')
        .ok_or_else(|| format!("« {t} » is neither GeoJSON nor `lon, lat`"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<f64>()
            .map_err(|_| format!("« {t} » is not `lon, lat`"))
    };
    let (lon, lat) = (parse(a)?, parse(b)?);
    Crs::Crs84.check(lon, lat).map_err(|e| e.to_string())?;
    let (x, y) = crs::lonlat_to_l93(lon, lat).map_err(|e| e.to_string())?;
    Ok((Geometry::Point(geo::Point::new(x, y)), None))
}

/// True when a ring of a GeoJSON (Multi)Polygon ends elsewhere than it starts.
fn unclosed_ring(g: &Value) -> bool {
    fn open(ring: &Value) -> bool {
        matches!(ring.as_array(), Some(r) if r.len() > 1 && r.first() != r.last())
    }
    let rings = |p: &Value| p.as_array().is_some_and(|rs| rs.iter().any(open));
    let coordinates = &g["coordinates"];
    match g["type"].as_str() {
        Some("Polygon") => rings(coordinates),
        Some("MultiPolygon") => coordinates
            .as_array()
            .is_some_and(|ps| ps.iter().any(rings)),
        _ => false,
    }
}

/// One row of a table of the standard, read: its properties (record field names) and its
/// Lambert-93 geometry, with the remarks made reading it.
pub struct Row {
    pub id: String,
    pub props: Map<String, Value>,
    pub geometry: Option<Geometry<f64>>,
    pub notes: Vec<String>,
}

/// The rows of one table of the standard's `;`-CSV, read a record at a time from `input`
/// (a country-scale file is never held whole): the table its header names, then each row
/// read, or the reason it could not be.
pub struct TableReader<R> {
    input: R,
    pub table: &'static Table,
    header: Vec<String>,
    line: usize,
    text: String,
}

impl<R: std::io::BufRead> TableReader<R> {
    /// Reads the header of `input`.
    pub fn new(mut input: R) -> Result<TableReader<R>, String> {
        let mut first = String::new();
        input
            .read_line(&mut first)
            .map_err(|e| format!("not UTF-8 text (the standard's files are UTF-8): {e}"))?;
        let (_, header) = Records::new(&first, ';').next().ok_or("empty file")?;
        let header: Vec<String> = header.into_iter().map(|h| h.trim().to_string()).collect();
        let table: &Table = TABLES
            .into_iter()
            .find(|t| header.iter().any(|h| h == t.geometry_csv))
            .ok_or(
                "no geometry column (site_geomsurf, terr_geomsurf, etab_geompoint or pole_geompoint)",
            )?;
        Ok(TableReader {
            input,
            table,
            header,
            line: 1,
            text: String::new(),
        })
    }

    /// The next record's text (quoted fields may span lines) and the line it starts on.
    fn record(&mut self) -> Result<Option<usize>, String> {
        self.text.clear();
        let start = self.line + 1;
        loop {
            let n = self
                .input
                .read_line(&mut self.text)
                .map_err(|e| format!("line {}: {e}", self.line + 1))?;
            if n == 0 {
                return Ok((!self.text.trim().is_empty()).then_some(start));
            }
            self.line += 1;
            // A record ends at a line break outside quotes: an even count of quotes so far.
            if self.text.bytes().filter(|&b| b == b'"').count() % 2 == 0 {
                if self.text.trim().is_empty() {
                    self.text.clear();
                    continue;
                }
                return Ok(Some(start));
            }
        }
    }
}

impl<R: std::io::BufRead> Iterator for TableReader<R> {
    /// A row read, or its line and the reason it could not be read.
    type Item = Result<Row, Rejected>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = match self.record() {
            Ok(Some(l)) => l,
            Ok(None) => return None,
            Err(reason) => {
                return Some(Err(Rejected {
                    id: format!("line {}", self.line),
                    reason,
                }))
            }
        };
        let id = format!("line {line}");
        let fields = Records::new(&self.text, ';')
            .next()
            .map(|(_, f)| f)
            .unwrap_or_default();
        if fields.len() != self.header.len() {
            return Some(Err(Rejected {
                id,
                reason: format!(
                    "{} fields where the header has {}",
                    fields.len(),
                    self.header.len()
                ),
            }));
        }
        let mut row = Row {
            id,
            props: Map::new(),
            geometry: None,
            notes: Vec::new(),
        };
        for (name, text) in self.header.iter().zip(&fields) {
            if name == self.table.geometry_csv {
                match geometry_cell(text) {
                    Ok((g, note)) => {
                        if let Some(n) = note {
                            row.notes.push(format!("{name}: {n}"));
                        }
                        row.geometry = Some(g);
                    }
                    Err(e) => {
                        return Some(Err(Rejected {
                            id: row.id,
                            reason: format!("{name}: {e}"),
                        }))
                    }
                }
                continue;
            }
            match typed(name, text) {
                Ok(Some(v)) => {
                    row.props.insert(name.clone(), v);
                }
                Ok(None) => {}
                Err(reason) => return Some(Err(Rejected { id: row.id, reason })),
            }
        }
        Some(Ok(row))
    }
}

/// Reads one table of the standard from its `;`-CSV.
pub fn read(text: &str) -> Result<Inventory, String> {
    let reader = TableReader::new(std::io::Cursor::new(text.as_bytes()))?;
    let table = reader.table;
    let mut inv = Inventory::default();
    for row in reader {
        match row {
            Err(r) => inv.unreadable.push((table.name, r)),
            Ok(row) => {
                for n in row.notes {
                    inv.note(table, row.id.clone(), n);
                }
                inv.push(table, row.id, row.props, row.geometry);
            }
        }
    }
    Ok(inv)
}

/// One field of the `;`-CSV: numbers as the shortest decimal that reads back the same,
/// quoted when it holds `;`, `"` or a line break.
pub fn write_field(out: &mut String, v: &Value) {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => f.to_string(),
            _ => n.to_string(),
        },
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

/// Writes rows of `table` in the standard's columns and order: `rows` are the records'
/// properties with their Lambert-93 geometry.
pub fn write<'a>(
    table: &Table,
    rows: impl Iterator<Item = (Map<String, Value>, &'a Geometry<f64>)>,
) -> String {
    let mut out = table.csv.join(";");
    out.push('\n');
    for (props, g) in rows {
        for (i, c) in table.csv.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            if *c == table.geometry_csv {
                let gj = geojson::Geometry::from(g);
                write_field(&mut out, &Value::String(gj.to_string()));
            } else {
                write_field(&mut out, props.get(*c).unwrap_or(&Value::Null));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_honour_quotes_across_lines() {
        let r = records("a;b\n\"x;1\";\"two\nlines\"\n\n\"q\"\"q\";\r\n");
        assert_eq!(r.len(), 3);
        assert_eq!(r[1], (2, vec!["x;1".to_string(), "two\nlines".to_string()]));
        assert_eq!(r[2], (5, vec!["q\"q".to_string(), String::new()]));
    }

    #[test]
    fn an_open_ring_is_closed_without_moving_a_position() {
        let (g, note) = geometry_cell(
            r#"{"type": "Polygon", "coordinates": [[[0,0],[10,0],[10,10],[0.007,0]]]}"#,
        )
        .unwrap();
        assert!(note.is_some());
        let Geometry::Polygon(p) = g else { panic!() };
        let xs: Vec<f64> = p.exterior().coords().map(|c| c.x).collect();
        assert_eq!(xs, vec![0.0, 10.0, 10.0, 0.007, 0.0]);
    }

    #[test]
    fn a_geopoint_is_lon_lat_in_wgs84() {
        let (g, _) = geometry_cell("2.3, 49.9").unwrap();
        let Geometry::Point(p) = g else { panic!() };
        assert!(p.x() > 600_000.0 && p.y() > 6_900_000.0, "{p:?}");
        assert!(geometry_cell("200, 49").is_err());
        assert!(geometry_cell("abc").is_err());
    }

    #[test]
    fn bad_rows_are_listed_with_their_line_and_field() {
        let text = "terr_id;site_id;terr_surf_brute;terr_identif_date;terr_actu_date;terr_maitrise_fonc;terr_stade_amngt;terr_stade_comm;terr_etat_occup;terr_usage;terr_geomsurf\n\
            T1;S1;1,5;2024-01-01;2024-01-01;commune;viabilisé et aménagé;en vente;vacant;bâti productif;\"{\"\"type\"\":\"\"Polygon\"\",\"\"coordinates\"\":[[[0,0],[1,0],[1,1],[0,0]]]}\"\n\
            T2;S1;beaucoup;2024-01-01;2024-01-01;commune;viabilisé et aménagé;en vente;vacant;bâti productif;\"{\"\"type\"\":\"\"Polygon\"\",\"\"coordinates\"\":[[[0,0],[1,0],[1,1],[0,0]]]}\"\n\
            T3;S1;1\n\
            ;S1;1;2024-01-01;2024-01-01;commune;viabilisé et aménagé;en vente;vacant;bâti productif;{}\n";
        let inv = read(text).unwrap();
        assert_eq!(inv.terrains.len(), 1);
        assert_eq!(inv.terrains[0].record.terr_surf_brute, 1.5);
        let reasons: Vec<String> = inv
            .unreadable
            .iter()
            .map(|(_, r)| format!("{}: {}", r.id, r.reason))
            .collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(
            reasons[0].starts_with("line 3: terr_surf_brute"),
            "{reasons:?}"
        );
        assert!(reasons[1].starts_with("line 4: 3 fields"), "{reasons:?}");
        assert!(
            reasons[2].starts_with("line 5: terr_geomsurf"),
            "{reasons:?}"
        );
    }
}
