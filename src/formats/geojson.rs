//! Writing GeoJSON and CSV: geometry with a fixed precision, features one per line.
//!
//! Written by hand rather than through a generic serializer so that output is compact, stable
//! byte for byte (the generator's files) and fast (features are serialized once at load).

use std::io::Write;

use geo::{Coord, Geometry, LineString, Polygon};

/// Decimal places: 7 for degrees (about 1 cm), 2 for metres.
#[derive(Clone, Copy, Debug)]
pub struct Precision(pub u8);

impl Precision {
    pub const DEGREES: Precision = Precision(7);
    pub const METRES: Precision = Precision(2);
}

const POW10: [f64; 10] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// Writes `v` rounded to `p` decimals, trailing zeros dropped (`731195.65`, `3`, `-0.5`):
/// the shortest text that reads back as the rounded value, as `Display` would print it,
/// written from the scaled integer without formatting machinery.
pub fn write_num(out: &mut Vec<u8>, v: f64, p: Precision) {
    let scale = POW10[p.0 as usize];
    let k = (v * scale).round();
    // Beyond 2^53 the scaled integer is not exact; `Display` handles those (and NaN).
    if k.is_nan() || k.abs() >= 9.0e15 {
        let r = k / scale;
        let r = if r == 0.0 { 0.0 } else { r };
        let _ = write!(out, "{r}");
        return;
    }
    let mut k = k as i64;
    if k < 0 {
        out.push(b'-');
        k = -k;
    }
    let unit = 10i64.pow(p.0 as u32);
    let (int, mut frac) = (k / unit, k % unit);
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(int).as_bytes());
    if frac != 0 {
        let mut digits = p.0 as usize;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        out.push(b'.');
        let text = buf.format(frac);
        out.extend(std::iter::repeat_n(b'0', digits - text.len()));
        out.extend_from_slice(text.as_bytes());
    }
}

fn write_coord(out: &mut Vec<u8>, c: &Coord<f64>, p: Precision) {
    out.push(b'[');
    write_num(out, c.x, p);
    out.push(b',');
    write_num(out, c.y, p);
    out.push(b']');
}

fn write_ring(out: &mut Vec<u8>, ring: &LineString<f64>, p: Precision) {
    out.push(b'[');
    for (i, c) in ring.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_coord(out, c, p);
    }
    out.push(b']');
}

fn write_polygon(out: &mut Vec<u8>, poly: &Polygon<f64>, p: Precision) {
    out.push(b'[');
    write_ring(out, poly.exterior(), p);
    for hole in poly.interiors() {
        out.push(b',');
        write_ring(out, hole, p);
    }
    out.push(b']');
}

/// Writes a GeoJSON geometry object.
pub fn write_geometry(out: &mut Vec<u8>, geom: &Geometry<f64>, p: Precision) {
    match geom {
        Geometry::Point(pt) => {
            out.extend_from_slice(br#"{"type":"Point","coordinates":"#);
            write_coord(out, &pt.0, p);
        }
        Geometry::MultiPoint(mp) => {
            out.extend_from_slice(br#"{"type":"MultiPoint","coordinates":["#);
            for (i, pt) in mp.0.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_coord(out, &pt.0, p);
            }
            out.push(b']');
        }
        Geometry::LineString(ls) => {
            out.extend_from_slice(br#"{"type":"LineString","coordinates":"#);
            write_ring(out, ls, p);
        }
        Geometry::MultiLineString(mls) => {
            out.extend_from_slice(br#"{"type":"MultiLineString","coordinates":["#);
            for (i, ls) in mls.0.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_ring(out, ls, p);
            }
            out.push(b']');
        }
        Geometry::Polygon(poly) => {
            out.extend_from_slice(br#"{"type":"Polygon","coordinates":"#);
            write_polygon(out, poly, p);
        }
        Geometry::MultiPolygon(mp) => {
            out.extend_from_slice(br#"{"type":"MultiPolygon","coordinates":["#);
            for (i, poly) in mp.0.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_polygon(out, poly, p);
            }
            out.push(b']');
        }
        Geometry::Rect(r) => return write_geometry(out, &Geometry::Polygon(r.to_polygon()), p),
        Geometry::Triangle(t) => return write_geometry(out, &Geometry::Polygon(t.to_polygon()), p),
        Geometry::Line(l) => {
            return write_geometry(
                out,
                &Geometry::LineString(LineString(vec![l.start, l.end])),
                p,
            )
        }
        Geometry::GeometryCollection(gc) => {
            out.extend_from_slice(br#"{"type":"GeometryCollection","geometries":["#);
            for (i, g) in gc.0.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_geometry(out, g, p);
            }
            out.push(b']');
        }
    }
    out.push(b'}');
}

/// Writes a GeoJSON Feature: `{"type":"Feature","id":…,"geometry":…,"properties":…}`;
/// returns the offset of the properties object in `out`.
pub fn write_feature(
    out: &mut Vec<u8>,
    id: &str,
    geom: &Geometry<f64>,
    properties: &serde_json::Map<String, serde_json::Value>,
    p: Precision,
) -> usize {
    write_feature_raw(
        out,
        id,
        geom,
        &serde_json::to_vec(properties).unwrap_or_default(),
        p,
    )
}

/// [`write_feature`] with the properties object already serialized.
pub fn write_feature_raw(
    out: &mut Vec<u8>,
    id: &str,
    geom: &Geometry<f64>,
    properties: &[u8],
    p: Precision,
) -> usize {
    out.extend_from_slice(br#"{"type":"Feature","id":"#);
    // Serializing a str or a map into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, id);
    out.extend_from_slice(br#","geometry":"#);
    write_geometry(out, geom, p);
    out.extend_from_slice(br#","properties":"#);
    let at = out.len();
    out.extend_from_slice(properties);
    out.push(b'}');
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn numbers_as_display_prints_them_rounded() {
        let display = |v: f64, p: u8| {
            let scale = 10f64.powi(p as i32);
            let r = (v * scale).round() / scale;
            format!("{}", if r == 0.0 { 0.0 } else { r })
        };
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for i in 0..200_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let unit = (rng >> 11) as f64 / (1u64 << 53) as f64;
            let v = match i % 4 {
                0 => unit * 1_300_000.0,
                1 => 6_000_000.0 + unit * 1_200_000.0,
                2 => unit * 20.0 - 10.0,
                _ => 40.0 + unit * 12.0,
            };
            for p in [Precision::DEGREES, Precision::METRES] {
                let mut out = Vec::new();
                write_num(&mut out, v, p);
                assert_eq!(String::from_utf8(out).unwrap(), display(v, p.0), "{v}");
            }
        }
        for (v, text) in [
            (3.0, "3"),
            (-0.000_000_01, "0"),
            (-0.5, "-0.5"),
            (0.000_000_1, "0.0000001"),
        ] {
            let mut out = Vec::new();
            write_num(&mut out, v, Precision::DEGREES);
            assert_eq!(String::from_utf8(out).unwrap(), text);
        }
    }

    #[test]
    fn polygon_is_valid_geojson_with_rounding() {
        let poly = polygon![(x: 1.234_567_891, y: 2.0), (x: 3.0, y: 2.0), (x: 3.0, y: 4.0)];
        let mut out = Vec::new();
        write_geometry(&mut out, &Geometry::Polygon(poly), Precision(2));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["type"], "Polygon");
        assert_eq!(v["coordinates"][0][0][0], 1.23);
        assert_eq!(v["coordinates"][0].as_array().unwrap().len(), 4);
    }
}
