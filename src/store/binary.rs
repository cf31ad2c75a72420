//! Reading tables fast: `COPY (SELECT …) TO STDOUT (FORMAT binary)` of typed columns and
//! WKB geometries, each table on its own connection, the rows decoded straight into the
//! model's records through serde (no JSON text in between), the tables decoded in parallel.
//!
//! The binary format (PostgreSQL's documentation, "COPY", "Binary Format"): an 11-byte
//! signature, flags and a header extension; then per row a field count (i16) and per field
//! a length (i32, −1 for NULL) and that many bytes in the type's binary send format: text as
//! UTF-8, `int2`/`int4`/`int8` and `float8` big-endian, `bool` one byte, `bytea` raw (the
//! geometries, `ST_AsBinary`). Lists and `jsonb` columns are selected as JSON text.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};

use super::copy::Column;

/// How a selected column is sent and decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int2,
    Int4,
    Int8,
    Float8,
    Bool,
    /// JSON text (arrays, `jsonb`).
    Json,
    /// The geometry, `ST_AsBinary`.
    Wkb,
}

impl Kind {
    /// The kind a column of type `udt` is read as, and the expression that selects it.
    pub fn of(c: &Column) -> (Kind, String) {
        let q = c.quoted();
        match c.udt.as_str() {
            "int2" => (Kind::Int2, q),
            "int4" => (Kind::Int4, q),
            "int8" => (Kind::Int8, q),
            "float8" => (Kind::Float8, q),
            "bool" => (Kind::Bool, q),
            "geometry" => (Kind::Wkb, format!("ST_AsBinary({q})")),
            "jsonb" | "json" => (Kind::Json, format!("{q}::text")),
            u if u.starts_with('_') => (Kind::Json, format!("array_to_json({q})::text")),
            _ => (Kind::Text, format!("{q}::text")),
        }
    }
}

/// Why a COPY stream could not be read.
#[derive(Debug)]
pub struct BinaryError(pub String);

impl fmt::Display for BinaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BinaryError {}

impl de::Error for BinaryError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        BinaryError(msg.to_string())
    }
}

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// The rows of a binary COPY stream, one slice of fields at a time.
pub struct Rows<'a> {
    bytes: &'a [u8],
    at: usize,
    fields: usize,
}

impl<'a> Rows<'a> {
    /// Checks the header of `bytes`, a stream of rows of `fields` fields.
    pub fn new(bytes: &'a [u8], fields: usize) -> Result<Rows<'a>, BinaryError> {
        if bytes.len() < 19 || &bytes[..11] != SIGNATURE {
            return Err(BinaryError("not a binary COPY stream".into()));
        }
        let ext = u32::from_be_bytes(bytes[15..19].try_into().expect("4 bytes")) as usize;
        Ok(Rows {
            bytes,
            at: 19 + ext,
            fields,
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], BinaryError> {
        let s = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or_else(|| BinaryError("truncated COPY stream".into()))?;
        self.at += n;
        Ok(s)
    }

    /// The next row's fields into `out` (`None` for NULL); `false` at the end.
    pub fn next_row(&mut self, out: &mut Vec<Option<&'a [u8]>>) -> Result<bool, BinaryError> {
        out.clear();
        let n = i16::from_be_bytes(self.take(2)?.try_into().expect("2 bytes"));
        if n == -1 {
            return Ok(false);
        }
        if n as usize != self.fields {
            return Err(BinaryError(format!(
                "a row of {n} fields where {} were selected",
                self.fields
            )));
        }
        for _ in 0..n {
            let len = i32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes"));
            out.push(if len < 0 {
                None
            } else {
                Some(self.take(len as usize)?)
            });
        }
        Ok(true)
    }
}

/// One cell, deserialized by its column's kind.
struct Cell<'a> {
    kind: Kind,
    bytes: Option<&'a [u8]>,
}

fn be<const N: usize>(b: &[u8]) -> Result<[u8; N], BinaryError> {
    b.try_into()
        .map_err(|_| BinaryError(format!("a {N}-byte value of {} bytes", b.len())))
}

impl<'de> Deserializer<'de> for Cell<'de> {
    type Error = BinaryError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, BinaryError> {
        let Some(b) = self.bytes else {
            return v.visit_none();
        };
        match self.kind {
            Kind::Text => v.visit_borrowed_str(
                std::str::from_utf8(b).map_err(|e| BinaryError(e.to_string()))?,
            ),
            Kind::Int2 => v.visit_i64(i16::from_be_bytes(be(b)?) as i64),
            Kind::Int4 => v.visit_i64(i32::from_be_bytes(be(b)?) as i64),
            Kind::Int8 => v.visit_i64(i64::from_be_bytes(be(b)?)),
            Kind::Float8 => v.visit_f64(f64::from_be_bytes(be(b)?)),
            Kind::Bool => v.visit_bool(b.first() == Some(&1)),
            Kind::Json => serde_json::Deserializer::from_slice(b)
                .deserialize_any(v)
                .map_err(|e| BinaryError(e.to_string())),
            Kind::Wkb => v.visit_borrowed_bytes(b),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, BinaryError> {
        match self.bytes {
            None => v.visit_none(),
            Some(_) => v.visit_some(self),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// A row as a map from column names to cells, for a record's `Deserialize`.
struct Row<'a, 'r> {
    names: &'r [String],
    kinds: &'r [Kind],
    cells: &'r [Option<&'a [u8]>],
    at: usize,
}

impl<'de> MapAccess<'de> for Row<'de, '_> {
    type Error = BinaryError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, BinaryError> {
        // NULL cells are left out, as an absent JSON member: defaults and `None` apply.
        while self.at < self.names.len() && self.cells[self.at].is_none() {
            self.at += 1;
        }
        if self.at >= self.names.len() {
            return Ok(None);
        }
        let name: &str = &self.names[self.at];
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, BinaryError> {
        let cell = Cell {
            kind: self.kinds[self.at],
            bytes: self.cells[self.at],
        };
        self.at += 1;
        seed.deserialize(cell)
    }
}

/// Deserializes a record from a row's cells (the geometry and bookkeeping columns are the
/// caller's: leave them out of `names`, or the record ignores them).
pub fn record<'de, R: serde::Deserialize<'de>>(
    names: &[String],
    kinds: &[Kind],
    cells: &[Option<&'de [u8]>],
) -> Result<R, BinaryError> {
    struct Whole<'a, 'r>(Row<'a, 'r>);
    impl<'de> Deserializer<'de> for Whole<'de, '_> {
        type Error = BinaryError;
        fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, BinaryError> {
            v.visit_map(self.0)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map struct enum identifier ignored_any
        }
    }
    R::deserialize(Whole(Row {
        names,
        kinds,
        cells,
        at: 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream of rows built by hand as PostgreSQL sends it.
    fn stream(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        for r in rows {
            out.extend_from_slice(&(r.len() as i16).to_be_bytes());
            for c in r {
                match c {
                    None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(b) => {
                        out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                        out.extend_from_slice(b);
                    }
                }
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct R {
        name: crate::model::Str,
        n: u32,
        x: f64,
        #[serde(default)]
        opt: Option<i32>,
        list: Vec<String>,
    }

    #[test]
    fn rows_to_records() {
        let bytes = stream(&[
            vec![
                Some(b"Amiens".to_vec()),
                Some(7i32.to_be_bytes().to_vec()),
                Some(2.5f64.to_be_bytes().to_vec()),
                None,
                Some(br#"["a","b"]"#.to_vec()),
            ],
            vec![
                Some("é".as_bytes().to_vec()),
                Some(0i32.to_be_bytes().to_vec()),
                Some((-1.0f64).to_be_bytes().to_vec()),
                Some(3i32.to_be_bytes().to_vec()),
                Some(b"[]".to_vec()),
            ],
        ]);
        let names: Vec<String> = ["name", "n", "x", "opt", "list"].map(String::from).to_vec();
        let kinds = [Kind::Text, Kind::Int4, Kind::Float8, Kind::Int4, Kind::Json];
        let mut rows = Rows::new(&bytes, 5).unwrap();
        let mut cells = Vec::new();
        let mut got: Vec<R> = Vec::new();
        while rows.next_row(&mut cells).unwrap() {
            got.push(record(&names, &kinds, &cells).unwrap());
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "Amiens");
        assert_eq!((got[0].n, got[0].x, got[0].opt), (7, 2.5, None));
        assert_eq!(got[0].list, vec!["a", "b"]);
        assert_eq!((got[1].name.as_str(), got[1].opt), ("é", Some(3)));
        assert!(Rows::new(b"nope", 1).is_err());
    }
}
