//! `COPY … FROM STDIN` in PostgreSQL's text format: rows of tab-separated fields, `\N` for
//! NULL, backslash escapes; geometries as hex EWKB with the Lambert-93 SRID. The rows come
//! from the records' own serde serialization, in the order of the table's columns.

use geo::Geometry;
use geozero::{CoordDimensions, ToWkb};
use serde_json::Value;
use tokio_postgres::GenericClient;

use super::{StoreError, StoreResult, SRID};

/// A column of a table, as `information_schema` describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    /// `udt_name`: `text`, `int4`, `float8`, `jsonb`, `geometry`, `date_cnig`'s base…
    pub udt: String,
}

impl Column {
    /// The column's name quoted for SQL.
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.name.replace('"', "\"\""))
    }
}

/// The columns of `table` in order, without the bookkeeping `version` column.
pub async fn columns<C: GenericClient>(client: &C, table: &str) -> StoreResult<Vec<Column>> {
    let rows = client
        .query(
            "SELECT column_name::text, udt_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1
             ORDER BY ordinal_position",
            &[&table],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Column {
            name: r.get(0),
            udt: r.get(1),
        })
        .filter(|c| c.name != "version")
        .collect())
}

/// Appends `s` escaped for the text format.
fn escape_into(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends one row: the values of `props` in the order of `columns`, the geometry (hex EWKB)
/// for the `geometry` column. Missing and null values are NULL.
pub fn write_row(
    out: &mut Vec<u8>,
    table: &'static str,
    id: &str,
    columns: &[Column],
    props: &serde_json::Map<String, Value>,
    geometry: Option<&Geometry<f64>>,
) -> StoreResult<()> {
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        if c.udt == "geometry" {
            let g = geometry.ok_or_else(|| StoreError::Row {
                table,
                id: id.into(),
                message: "no geometry".into(),
            })?;
            let wkb =
                g.to_ewkb(CoordDimensions::xy(), Some(SRID))
                    .map_err(|e| StoreError::Row {
                        table,
                        id: id.into(),
                        message: format!("geometry: {e}"),
                    })?;
            out.reserve(wkb.len() * 2);
            for b in wkb {
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
            continue;
        }
        match props.get(&c.name) {
            None | Some(Value::Null) => out.extend_from_slice(b"\\N"),
            Some(Value::String(s)) => escape_into(out, s),
            Some(Value::Bool(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Some(Value::Number(n)) => out.extend_from_slice(n.to_string().as_bytes()),
            Some(v @ (Value::Array(_) | Value::Object(_))) => escape_into(out, &v.to_string()),
        }
    }
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_escapes_and_nulls() {
        let cols = ["a", "b", "c", "d"].map(|n| Column {
            name: n.into(),
            udt: "text".into(),
        });
        let props = serde_json::json!({"a": "x\ty\\z\nw", "b": null, "d": [1, 2]});
        let mut out = Vec::new();
        write_row(&mut out, "t", "1", &cols, props.as_object().unwrap(), None).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "x\\ty\\\\z\\nw\t\\N\t\\N\t[1,2]\n"
        );
    }

    #[test]
    fn geometry_is_hex_ewkb_in_lambert_93() {
        let cols = [Column {
            name: "geom".into(),
            udt: "geometry".into(),
        }];
        let mut out = Vec::new();
        let g = Geometry::Point(geo::Point::new(10.0, -20.0));
        write_row(&mut out, "t", "1", &cols, &Default::default(), Some(&g)).unwrap();
        // Little endian, point with SRID flag (0x20000001), SRID 2154 (0x086a), x, y.
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "01010000206a080000000000000000244000000000000034c0\n"
        );
    }
}
