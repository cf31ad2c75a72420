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

/// A reader of delimited text (the `csv` crate) as the standard and the INSEE files are
/// written: no header row of its own, rows of any length (checked by the caller, who names
/// the line), blank lines skipped.
fn reader<R: std::io::Read>(input: R, sep: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(sep)
        .has_headers(false)
        .flexible(true)
        .from_reader(input)
}

/// The records of a delimited text, one at a time (a country-scale file is not split into
/// fields all at once), each with the line it starts on.
pub struct Records<'a> {
    inner: csv::StringRecordsIntoIter<Breaks<&'a [u8]>>,
}

impl<'a> Records<'a> {
    pub fn new(text: &'a str, sep: char) -> Self {
        let text = text.trim_start_matches('\u{feff}').as_bytes();
        let sep = u8::try_from(sep).expect("an ASCII separator");
        Records {
            inner: reader(Breaks::new(text), sep).into_records(),
        }
    }
}

impl Iterator for Records<'_> {
    type Item = (usize, Vec<String>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // The text is a `str`: a record can fail only on I/O, which a slice has none of.
            let record = self.inner.next()?.ok()?;
            let at = record.position().map_or(0, |p| p.byte());
            let line = self.inner.reader_mut().get_mut().line_at(at);
            if record.len() == 1 && record[0].is_empty() {
                continue; // a blank line
            }
            return Some((line, record.iter().map(str::to_string).collect()));
        }
    }
}

/// A reader that notes where its line-break bytes (CR, LF) are, so that a record's byte
/// offset gives its line (only the breaks not yet asked about are kept: what the CSV reader
/// reads ahead). The `csv` crate's own line numbers leave out blank lines and the LF of a
/// CRLF, and a record's offset may point at the line breaks before it; so lines are counted
/// here, from the first byte after those breaks.
struct Breaks<R> {
    inner: R,
    offset: u64,
    /// Offsets of CR and LF bytes not yet passed, each with whether it is an LF.
    pending: std::collections::VecDeque<(u64, bool)>,
    passed: usize,
}

impl<R> Breaks<R> {
    fn new(inner: R) -> Self {
        Breaks {
            inner,
            offset: 0,
            pending: std::collections::VecDeque::new(),
            passed: 0,
        }
    }

    /// The line (1-based) of byte `at` (`at` at least the previous one).
    fn line_at(&mut self, mut at: u64) -> usize {
        while let Some(&(b, lf)) = self.pending.front() {
            if b > at {
                break;
            }
            if b == at {
                at += 1; // a break the record's offset points at: the record is after it
            }
            self.pending.pop_front();
            self.passed += lf as usize;
        }
        self.passed + 1
    }
}

impl<R: std::io::Read> std::io::Read for Breaks<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let base = self.offset;
        self.pending.extend(
            memchr::memchr2_iter(b'\n', b'\r', &buf[..n])
                .map(|i| (base + i as u64, buf[i] == b'\n')),
        );
        self.offset += n as u64;
        Ok(n)
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
    input: csv::Reader<Breaks<R>>,
    pub table: &'static Table,
    header: Vec<String>,
    record: csv::ByteRecord,
    /// Set after an error of the input: nothing more is read.
    failed: bool,
}

impl<R: std::io::Read> TableReader<R> {
    /// Reads the header of `input`.
    pub fn new(input: R) -> Result<TableReader<R>, String> {
        let mut input = reader(Breaks::new(input), b';');
        let mut first = csv::StringRecord::new();
        let read = input
            .read_record(&mut first)
            .map_err(|e| format!("not UTF-8 text (the standard's files are UTF-8): {e}"))?;
        if !read {
            return Err("empty file".into());
        }
        let header: Vec<String> = first
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
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
            record: csv::ByteRecord::new(),
            failed: false,
        })
    }

    /// The row of the record just read, or why it cannot be one.
    fn row(&self, id: String) -> Result<Row, Rejected> {
        let reject = |reason: String| Rejected {
            id: id.clone(),
            reason,
        };
        if self.record.len() != self.header.len() {
            return Err(reject(format!(
                "{} fields where the header has {}",
                self.record.len(),
                self.header.len()
            )));
        }
        let mut row = Row {
            id: id.clone(),
            props: Map::new(),
            geometry: None,
            notes: Vec::new(),
        };
        for (name, bytes) in self.header.iter().zip(self.record.iter()) {
            let text = std::str::from_utf8(bytes).map_err(|e| {
                reject(format!(
                    "{name}: not UTF-8 text (the standard's files are UTF-8): {e}"
                ))
            })?;
            if name == self.table.geometry_csv {
                let (g, note) = geometry_cell(text).map_err(|e| reject(format!("{name}: {e}")))?;
                if let Some(n) = note {
                    row.notes.push(format!("{name}: {n}"));
                }
                row.geometry = Some(g);
                continue;
            }
            if let Some(v) = typed(name, text).map_err(reject)? {
                row.props.insert(name.clone(), v);
            }
        }
        Ok(row)
    }
}

impl<R: std::io::Read> Iterator for TableReader<R> {
    /// A row read, or its line and the reason it could not be read.
    type Item = Result<Row, Rejected>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed {
            let read = self.input.read_byte_record(&mut self.record);
            let at = self.record.position().map_or(0, |p| p.byte());
            match read {
                Ok(false) => return None,
                Err(e) => {
                    // An I/O error ends the file: say where, then stop.
                    let at = e.position().map_or(at, |p| p.byte());
                    let line = self.input.get_mut().line_at(at);
                    self.failed = true;
                    return Some(Err(Rejected {
                        id: format!("line {line}"),
                        reason: e.to_string(),
                    }));
                }
                Ok(true) if self.record.len() == 1 && self.record[0].is_empty() => continue,
                Ok(true) => {
                    let line = self.input.get_mut().line_at(at);
                    return Some(self.row(format!("line {line}")));
                }
            }
        }
        None
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

    #[test]
    fn records_lines_quotes_and_blank_lines() {
        let text = "\u{feff}a;b\r\n\"x;1\";\"two\nlines\"\n\n\"say \"\"hi\"\"\";\n";
        let r = records(text);
        assert_eq!(
            r,
            vec![
                (1, vec!["a".to_string(), "b".to_string()]),
                (2, vec!["x;1".to_string(), "two\nlines".to_string()]),
                (5, vec!["say \"hi\"".to_string(), String::new()]),
            ]
        );
    }

    #[test]
    fn table_reader_names_the_line_of_each_rejection() {
        let text = "\u{feff}etab_geompoint;SIRET;etab_actif\n\
                    \"{\"\"type\"\":\"\"Point\"\",\"\"coordinates\"\":[700000,7000000]}\";1;oui\n\
                    \n\
                    \"2.3, 49.9\";2\n\
                    nowhere;3;oui\n\
                    \"2.3, 49.9\";4;oui\n";
        let reader = TableReader::new(text.as_bytes()).unwrap();
        assert_eq!(reader.table.name, "etablissement");
        let rows: Vec<_> = reader.collect();
        assert_eq!(rows.len(), 4);
        assert!(rows[0].is_ok() && rows[3].is_ok());
        let e = rows[1].as_ref().err().unwrap();
        assert_eq!(e.id, "line 4");
        assert!(
            e.reason.contains("2 fields where the header has 3"),
            "{}",
            e.reason
        );
        let e = rows[2].as_ref().err().unwrap();
        assert_eq!(e.id, "line 5");
        assert!(e.reason.starts_with("etab_geompoint:"), "{}", e.reason);
        let bad = b"etab_geompoint;SIRET\n\"2.3, 49.9\";\xff\n";
        let rows: Vec<_> = TableReader::new(&bad[..]).unwrap().collect();
        let e = rows[0].as_ref().err().unwrap();
        assert!(e.id == "line 2" && e.reason.contains("UTF-8"), "{e:?}");
    }
}
