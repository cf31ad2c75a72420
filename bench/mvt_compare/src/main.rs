//! Encodes the same features, already in tile coordinates, with ecofoncier's hand-written
//! MVT encoder and with geozero's (`ToMvt` + prost), and prints bytes and time of each: the
//! plots of the embedded dataset, in the z13 and z14 tiles that hold them.

use std::collections::BTreeMap;
use std::time::Instant;

use ecofoncier::crs::{l93_to_lonlat, lonlat_to_web_mercator};
use ecofoncier::read_model::ReadModel;
use ecofoncier::source::{embedded::default_data_dir, EmbeddedSource};
use ecofoncier::tiles::mvt::{LayerBuilder, TileGeometry, Value};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use geozero::mvt::{tile, Message, TagsBuilder, Tile, TileValue};
use geozero::ToMvt;

const EXTENT: u32 = 4096;
const HALF: f64 = 20_037_508.342_789_244;

/// One feature of a tile: its rings in tile coordinates and its properties.
struct Input {
    id: u64,
    rings: Vec<Vec<Vec<(i32, i32)>>>,
    props: Vec<(&'static str, String, f64)>,
}

fn main() {
    let data = EmbeddedSource::new(default_data_dir()).load_sync().unwrap();
    let m = ReadModel::build(data).unwrap();
    // Every plot in Web Mercator, grouped by the z13 and z14 tiles of its first vertex.
    let mut tiles: BTreeMap<(u8, u32, u32), Vec<Input>> = BTreeMap::new();
    for (k, t) in m.terrains.iter().enumerate() {
        let mp = match t.geometry() {
            geo::Geometry::MultiPolygon(mp) => mp,
            geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
            _ => continue,
        };
        let merc: Vec<Vec<Vec<(f64, f64)>>> =
            mp.0.iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|r| {
                            r.0.iter()
                                .map(|c| {
                                    let (lon, lat) = l93_to_lonlat(c.x, c.y).unwrap();
                                    lonlat_to_web_mercator(lon, lat)
                                })
                                .collect()
                        })
                        .collect()
                })
                .collect();
        let (x0, y0) = merc[0][0][0];
        for z in [13u8, 14] {
            let n = (1u32 << z) as f64;
            let size = 2.0 * HALF / n;
            let (tx, ty) = (((x0 + HALF) / size) as u32, ((HALF - y0) / size) as u32);
            let (left, top) = (-HALF + tx as f64 * size, HALF - ty as f64 * size);
            let to_tile = |&(x, y): &(f64, f64)| {
                (
                    ((x - left) / size * EXTENT as f64).round() as i32,
                    ((top - y) / size * EXTENT as f64).round() as i32,
                )
            };
            let rings = merc
                .iter()
                .map(|p| p.iter().map(|r| r.iter().map(to_tile).collect()).collect())
                .collect();
            let r = &t.record;
            tiles.entry((z, tx, ty)).or_default().push(Input {
                id: k as u64,
                rings,
                props: vec![
                    ("terr_id", r.terr_id.to_string(), 0.0),
                    ("terr_etat_occup", r.terr_etat_occup.to_string(), 0.0),
                    ("terr_surf_brute", String::new(), r.terr_surf_brute),
                ],
            });
        }
    }
    let features: usize = tiles.values().map(Vec::len).sum();
    println!(
        "{} tiles, {features} features (plots at z13 and z14)",
        tiles.len()
    );
    for round in 0..3 {
        let t = Instant::now();
        let hand: usize = tiles.values().map(|f| hand_tile(f).len()).sum();
        let hand_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let gz: usize = tiles.values().map(|f| geozero_tile(f).len()).sum();
        let gz_ms = t.elapsed().as_secs_f64() * 1e3;
        println!(
            "round {round}: hand-written {hand} bytes in {hand_ms:.1} ms; geozero {gz} bytes in {gz_ms:.1} ms"
        );
    }
}

fn hand_tile(features: &[Input]) -> Vec<u8> {
    let mut layer = LayerBuilder::new("terrains", EXTENT);
    for f in features {
        let props: Vec<(&str, Value)> = f
            .props
            .iter()
            .map(|(k, s, n)| {
                let v = if s.is_empty() {
                    Value::Double(*n)
                } else {
                    Value::String(s.clone())
                };
                (*k, v)
            })
            .collect();
        layer.add(Some(f.id), &TileGeometry::Polygons(f.rings.clone()), &props);
    }
    let mut out = Vec::new();
    layer.finish(&mut out);
    out
}

fn geozero_tile(features: &[Input]) -> Vec<u8> {
    let mut tags = TagsBuilder::new();
    let mut out = Vec::with_capacity(features.len());
    for f in features {
        let mp = MultiPolygon(
            f.rings
                .iter()
                .map(|p| {
                    let ring = |r: &Vec<(i32, i32)>| {
                        LineString(
                            r.iter()
                                .map(|&(x, y)| Coord {
                                    x: x as f64,
                                    y: y as f64,
                                })
                                .collect(),
                        )
                    };
                    Polygon::new(ring(&p[0]), p[1..].iter().map(ring).collect())
                })
                .collect(),
        );
        let mut feature = geo::Geometry::MultiPolygon(mp).to_mvt_unscaled().unwrap();
        feature.id = Some(f.id);
        for (k, s, n) in &f.props {
            let v = if s.is_empty() {
                TileValue::Double(*n)
            } else {
                TileValue::Str(s.clone())
            };
            let (ki, vi) = tags.insert_ref(k, v);
            feature.tags.extend([ki, vi]);
        }
        out.push(feature);
    }
    let (keys, values) = tags.into_tags();
    let layer = tile::Layer {
        version: 2,
        name: "terrains".into(),
        features: out,
        keys,
        values: values.into_iter().map(Into::into).collect(),
        extent: Some(EXTENT),
    };
    Tile {
        layers: vec![layer],
    }
    .encode_to_vec()
}
