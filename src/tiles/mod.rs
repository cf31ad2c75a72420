//! Vector tiles (Mapbox Vector Tile 2.1) of the read model's layers for MapLibre:
//! `/tiles/{layer}/{z}/{x}/{y}` in the Web Mercator tile grid (XYZ, y down), TileJSON 3.0
//! at `/tiles/{layer}`.
//!
//! A tile is a query of the layer's own R-tree (Lambert-93) with the tile's envelope, the
//! features' coordinates projected to Web Mercator as they are read from the layer's flat
//! buffers, a quantization to the 4096-unit tile grid and the encoding: no projected copy
//! of the data is kept. Encoded tiles are cached across versions of the data, and a write
//! drops only the tiles its feature touches. Confidential fields are never in a tile: each
//! layer lists the few public fields it carries.

pub mod mvt;
pub mod overview;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use geo::{Centroid, Coord, Geometry, LineString, MapCoords, MultiPolygon, Polygon, Simplify};
use rstar::AABB;

use crate::crs::{self, Crs, Lambert93};
use crate::model::Record;
use crate::read_model::fields;
use crate::read_model::shapes::Kind;
use crate::read_model::{Layer, ReadModel};
use mvt::{LayerBuilder, TileGeometry, Value};

/// Half the Web Mercator world width, metres.
pub const WORLD: f64 = 20_037_508.342_789_244;
/// Tile coordinate units across a tile.
pub const EXTENT: u32 = 4096;
/// Units of buffer around a tile (features just outside are kept, for seamless rendering).
const BUFFER: f64 = 64.0;
/// Deepest zoom served.
pub const MAX_ZOOM: u8 = 22;
/// Tiles kept per snapshot before the cache stops growing.
const CACHE_LIMIT: usize = 200_000;

/// Tile units under which a polygon's outline is simplified (Ramer–Douglas–Peucker on the
/// tile grid: half a pixel on a 512-pixel tile, so the tolerance on the ground halves
/// at each zoom and low-zoom tiles carry a few vertices an outline).
pub const SIMPLIFY_UNITS: f64 = 4.0;
/// Side of the cells, in tile units, in which points are grouped below a layer's
/// [`TileLayer::cluster_below`] zoom (32 pixels on a 512-pixel tile). The cells are aligned
/// on the world's grid at each zoom, so a cluster is the same whichever tile draws it.
pub const CLUSTER_UNITS: i64 = 256;

/// A served layer: its id, the zoom from which it is drawn, and its public tile fields.
#[derive(Debug)]
pub struct TileLayer {
    pub id: &'static str,
    pub min_zoom: u8,
    pub fields: &'static [(&'static str, &'static str)],
    pub description: &'static str,
    /// Below this zoom a polygon is drawn as one point at its centroid, with the same
    /// fields (a symbol the map sizes and colours): 0 for never.
    pub points_below: u8,
    /// Below this zoom points are grouped by [`CLUSTER_UNITS`] cell: one point a cell, at
    /// the mean of its members, with `nombre` (the members) and the fields on which every
    /// member agrees (a lone point keeps all its fields): 0 for never.
    pub cluster_below: u8,
}

/// Every tiled layer, in the order of [`Tiles`]' slots.
pub const LAYERS: [TileLayer; 7] = [
    TileLayer {
        id: "epci",
        min_zoom: 0,
        fields: &[
            ("epci_siren", "String"),
            ("epci_nom", "String"),
            ("epci_type", "String"),
            ("classe", "String"),
        ],
        description: "EPCI (rural ou urbain)",
        points_below: 0,
        cluster_below: 0,
    },
    TileLayer {
        id: "communes",
        min_zoom: 6,
        fields: &[
            ("code_insee", "String"),
            ("nom", "String"),
            ("population", "Number"),
            ("classe", "String"),
        ],
        description: "Communes",
        points_below: 0,
        cluster_below: 0,
    },
    TileLayer {
        id: "sites",
        min_zoom: 7,
        fields: &[
            ("site_id", "String"),
            ("site_nom", "String"),
            ("site_type", "String"),
            ("site_vocadomi", "String"),
            ("site_etat", "String"),
            ("site_taux_vacance", "Number"),
            ("site_surf_brute", "Number"),
        ],
        description: "Sites économiques (ZAE)",
        points_below: 10,
        cluster_below: 0,
    },
    TileLayer {
        id: "terrains",
        min_zoom: 11,
        fields: &[
            ("terr_id", "String"),
            ("site_id", "String"),
            ("terr_etat_occup", "String"),
            ("terr_stade_comm", "String"),
            ("terr_surf_brute", "Number"),
        ],
        description: "Unités foncières par état d'occupation",
        points_below: 0,
        cluster_below: 0,
    },
    TileLayer {
        id: "etablissements",
        min_zoom: 11,
        fields: &[
            ("SIRET", "String"),
            ("etab_nom", "String"),
            ("etab_activite_libelle", "String"),
            ("etab_effectif_libelle", "String"),
        ],
        description: "Établissements",
        points_below: 0,
        cluster_below: 0,
    },
    TileLayer {
        id: "locaux-commerciaux",
        min_zoom: 10,
        fields: &[
            ("local_id", "String"),
            ("comm_nom", "String"),
            ("local_etat", "String"),
            ("local_activite_libelle", "String"),
        ],
        description: "Locaux commerciaux de centre-bourg",
        points_below: 0,
        cluster_below: 0,
    },
    TileLayer {
        id: "tiers-lieux",
        min_zoom: 6,
        fields: &[
            ("tl_id", "String"),
            ("tl_nom", "String"),
            ("tl_type", "String"),
            ("tl_services", "String"),
        ],
        description: "Tiers-lieux et France services",
        points_below: 0,
        cluster_below: 10,
    },
];

/// The layer named `id`, with its slot.
pub fn layer(id: &str) -> Option<(usize, &'static TileLayer)> {
    LAYERS.iter().enumerate().find(|(_, l)| l.id == id)
}

/// Tiles kept across versions of the data: a write drops only the tiles its feature's old
/// and new envelopes touch ([`Tiles::invalidate`]), whatever the zoom.
#[derive(Default)]
pub struct Tiles {
    cache: RwLock<Cache>,
    overview: Mutex<Option<(u64, Arc<Option<overview::Overview>>)>>,
}

#[derive(Default)]
struct Cache {
    /// The version of the data the cached tiles agree with: a tile built from an older
    /// version is not kept (it may miss a change invalidated meanwhile).
    generation: u64,
    tiles: HashMap<(u8, u8, u32, u32), Tile>,
}

/// An encoded tile and its ETag (empty bytes: no feature).
#[derive(Clone, Debug)]
pub struct Tile {
    pub bytes: bytes::Bytes,
    pub etag: String,
}

/// Why a tile request is refused.
#[derive(Debug, PartialEq)]
pub enum TileError {
    UnknownLayer(String),
    /// A zoom beyond the grid's.
    OutOfRange(String),
    /// A column or row past the edge of the grid at that zoom: no such tile.
    NoSuchTile(String),
}

/// Lambert-93 → Web Mercator.
fn to_mercator(x: f64, y: f64) -> (f64, f64) {
    let (lon, lat) = Lambert93::get().inverse(x, y);
    crs::lonlat_to_web_mercator(lon, lat)
}

/// The Lambert-93 envelope of a Web Mercator rectangle: its outline, densified (16 points
/// an edge) and projected, widened by a metre.
fn l93_envelope(b: [f64; 4]) -> Option<AABB<[f64; 2]>> {
    let mut e = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for k in 0..=16 {
        let t = k as f64 / 16.0;
        let (x, y) = (b[0] + (b[2] - b[0]) * t, b[1] + (b[3] - b[1]) * t);
        for (mx, my) in [(x, b[1]), (x, b[3]), (b[0], y), (b[2], y)] {
            let Ok((a, c)) = crs::to_l93(Crs::WebMercator, mx, my) else {
                continue;
            };
            e = [e[0].min(a), e[1].min(c), e[2].max(a), e[3].max(c)];
        }
    }
    e[0].is_finite()
        .then(|| AABB::from_corners([e[0] - 1.0, e[1] - 1.0], [e[2] + 1.0, e[3] + 1.0]))
}

/// The Web Mercator envelope of a Lambert-93 one: its outline, densified and projected.
fn mercator_envelope(e: [f64; 4]) -> [f64; 4] {
    let mut m = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for k in 0..=8 {
        let t = k as f64 / 8.0;
        let (x, y) = (e[0] + (e[2] - e[0]) * t, e[1] + (e[3] - e[1]) * t);
        for (a, b) in [(x, e[1]), (x, e[3]), (e[0], y), (e[2], y)] {
            let (mx, my) = to_mercator(a, b);
            m = [m[0].min(mx), m[1].min(my), m[2].max(mx), m[3].max(my)];
        }
    }
    m
}

impl Tiles {
    /// The PNG overview of the EPCIs ([`overview::render`]), made once per model lineage
    /// (the EPCIs are not edited).
    pub fn overview(&self, m: &ReadModel) -> Arc<Option<overview::Overview>> {
        let mut o = self.overview.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((lineage, img)) = o.as_ref() {
            if *lineage == m.lineage {
                return Arc::clone(img);
            }
        }
        let slots: Vec<usize> = m.epci.live_slots().collect();
        let geometries: Vec<Geometry<f64>> = slots
            .iter()
            .map(|&s| {
                m.epci.geometry(s).map_coords(|c| {
                    let (x, y) = to_mercator(c.x, c.y);
                    geo::Coord { x, y }
                })
            })
            .collect();
        let img = Arc::new(overview::render(&geometries, |i| {
            m.epci.record(slots[i]).classe == crate::model::TerritoryClass::Rural
        }));
        *o = Some((m.lineage, Arc::clone(&img)));
        img
    }

    /// Tile `z/x/y` of layer `id` of `m`, version `generation` of the data: cached, or
    /// built and cached.
    pub fn tile(
        &self,
        m: &ReadModel,
        generation: u64,
        id: &str,
        z: u8,
        x: u32,
        y: u32,
    ) -> Result<Tile, TileError> {
        let (slot, l) = layer(id).ok_or_else(|| TileError::UnknownLayer(id.to_string()))?;
        if z > MAX_ZOOM {
            return Err(TileError::OutOfRange(format!("z: at most {MAX_ZOOM}")));
        }
        let n = 1u32 << z;
        if x >= n || y >= n {
            return Err(TileError::NoSuchTile(format!(
                "no tile {z}/{x}/{y}: x and y are below 2^z = {n}"
            )));
        }
        let key = (slot as u8, z, x, y);
        if let Some(t) = self
            .cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .tiles
            .get(&key)
        {
            return Ok(t.clone());
        }
        let bytes = if z < l.min_zoom {
            Vec::new()
        } else {
            match slot {
                0 => encode(&m.epci, l, z, x, y),
                1 => encode(&m.communes, l, z, x, y),
                2 => encode(&m.sites, l, z, x, y),
                3 => encode(&m.terrains, l, z, x, y),
                4 => encode(&m.etablissements, l, z, x, y),
                5 => encode(&m.locaux, l, z, x, y),
                _ => encode(&m.tiers_lieux, l, z, x, y),
            }
        };
        let tile = Tile {
            etag: crate::etag_of(&bytes),
            bytes: bytes::Bytes::from(bytes),
        };
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.generation == generation && cache.tiles.len() < CACHE_LIMIT {
            cache.tiles.insert(key, tile.clone());
        }
        Ok(tile)
    }

    /// Version `generation` of the data changed features of layer `collection` within the
    /// Lambert-93 envelopes `envelopes` (a feature's old and new ones): every cached tile of
    /// that layer they touch is dropped, at every zoom, and tiles built from older versions
    /// will not be kept. Call it before publishing the version.
    pub fn invalidate(&self, generation: u64, collection: &str, envelopes: &[[f64; 4]]) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        cache.generation = generation;
        let Some((slot, _)) = layer(collection) else {
            return;
        };
        for e in envelopes {
            let b = mercator_envelope(*e);
            for z in 0..=MAX_ZOOM {
                let size = 2.0 * WORLD / (1u64 << z) as f64;
                // Features within the tile buffer of a neighbour are drawn there too.
                let pad = size * BUFFER / EXTENT as f64;
                let n = (1u64 << z) as f64;
                let col = |v: f64| (((v + WORLD) / size).floor().clamp(0.0, n - 1.0)) as u32;
                let row = |v: f64| (((WORLD - v) / size).floor().clamp(0.0, n - 1.0)) as u32;
                let (x0, x1) = (col(b[0] - pad), col(b[2] + pad));
                let (y0, y1) = (row(b[3] + pad), row(b[1] - pad));
                let count = (x1 - x0 + 1) as u64 * (y1 - y0 + 1) as u64;
                if count > cache.tiles.len() as u64 {
                    cache.tiles.retain(|&(s, tz, tx, ty), _| {
                        !(s as usize == slot
                            && tz == z
                            && (x0..=x1).contains(&tx)
                            && (y0..=y1).contains(&ty))
                    });
                } else {
                    for tx in x0..=x1 {
                        for ty in y0..=y1 {
                            cache.tiles.remove(&(slot as u8, z, tx, ty));
                        }
                    }
                }
            }
        }
    }

    /// Drops every cached tile (a whole new model).
    pub fn clear(&self, generation: u64) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        cache.generation = generation;
        cache.tiles.clear();
    }

    /// Tiles in the cache.
    pub fn cached(&self) -> usize {
        self.cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .tiles
            .len()
    }
}

/// The tile's bounds in Web Mercator metres: (min x, max y, size).
pub fn tile_bounds(z: u8, x: u32, y: u32) -> (f64, f64, f64) {
    let size = 2.0 * WORLD / (1u64 << z) as f64;
    (-WORLD + x as f64 * size, WORLD - y as f64 * size, size)
}

/// Encodes tile `z/x/y` of `layer`: the features whose Web Mercator envelope meets the
/// tile and its buffer, projected as they are read from the layer's Lambert-93 buffers,
/// with the tile layer's public fields. Polygons are simplified on the tile grid
/// ([`SIMPLIFY_UNITS`]), drawn as their centroid below [`TileLayer::points_below`], and
/// points grouped below [`TileLayer::cluster_below`].
fn encode<R: Record>(layer: &Layer<R>, l: &TileLayer, z: u8, x: u32, y: u32) -> Vec<u8> {
    let (min_x, max_y, size) = tile_bounds(z, x, y);
    let scale = EXTENT as f64 / size;
    let margin = BUFFER / scale;
    let query = [
        min_x - margin,
        max_y - size - margin,
        min_x + size + margin,
        max_y + margin,
    ];
    let Some(env) = l93_envelope(query) else {
        return Vec::new();
    };
    let mut hits: Vec<usize> = layer.in_envelope(&env).collect();
    if hits.is_empty() {
        return Vec::new();
    }
    hits.sort_unstable();
    let names: Vec<&str> = l.fields.iter().map(|(k, _)| *k).collect();
    let props = |i: usize| -> Vec<(&'static str, Value)> {
        fields::pick(layer.record(i), &names)
            .into_iter()
            .filter_map(|(k, v)| Some((k, tile_value(v)?)))
            .collect()
    };
    let clustered = z < l.cluster_below;
    let mut out = LayerBuilder::new(l.id, EXTENT);
    let mut clusters: BTreeMap<(i64, i64), Vec<Member>> = BTreeMap::new();
    let mut coords: Vec<(f64, f64)> = Vec::new();
    for i in hits {
        let shape = layer.shape(i);
        // The feature in the tile's float coordinates (y down), and its envelope there.
        coords.clear();
        let mut e = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for c in shape.coords() {
            let (mx, my) = to_mercator(c.x, c.y);
            e = [e[0].min(mx), e[1].min(my), e[2].max(mx), e[3].max(my)];
            coords.push(((mx - min_x) * scale, (max_y - my) * scale));
        }
        if e[2] < query[0] || e[0] > query[2] || e[3] < query[1] || e[1] > query[3] {
            continue;
        }
        let round = |&(tx, ty): &(f64, f64)| round_point(tx, ty);
        let tg = match shape.kind {
            Kind::Point | Kind::MultiPoint if clustered => {
                // Only the cells of this tile: a neighbour draws its own whole cells.
                for &(tx, ty) in coords.iter().filter(|(tx, ty)| {
                    (0.0..EXTENT as f64).contains(tx) && (0.0..EXTENT as f64).contains(ty)
                }) {
                    let cell = (tx as i64 / CLUSTER_UNITS, ty as i64 / CLUSTER_UNITS);
                    clusters.entry(cell).or_default().push((tx, ty, i));
                }
                continue;
            }
            Kind::Point | Kind::MultiPoint => {
                TileGeometry::Points(coords.iter().map(round).collect())
            }
            Kind::Polygon | Kind::MultiPolygon => {
                let mut at = 0;
                let polygons: MultiPolygon<f64> = shape
                    .parts()
                    .map(|p| {
                        let mut rings = p.rings().map(|r| {
                            let ring: LineString<f64> = coords[at..at + r.len()]
                                .iter()
                                .map(|&(tx, ty)| Coord { x: tx, y: ty })
                                .collect();
                            at += r.len();
                            ring
                        });
                        let exterior = rings.next().unwrap_or_else(|| LineString::new(vec![]));
                        Polygon::new(exterior, rings.collect())
                    })
                    .collect();
                if z < l.points_below {
                    let Some(c) = polygons.centroid() else {
                        continue;
                    };
                    TileGeometry::Points(vec![round(&(c.x(), c.y()))])
                } else {
                    let simple = polygons.simplify(SIMPLIFY_UNITS);
                    let ring =
                        |r: &LineString<f64>| r.0.iter().map(|c| round(&(c.x, c.y))).collect();
                    TileGeometry::Polygons(
                        simple
                            .iter()
                            .map(|p| {
                                std::iter::once(ring(p.exterior()))
                                    .chain(p.interiors().iter().map(ring))
                                    .collect()
                            })
                            .collect(),
                    )
                }
            }
            Kind::LineString | Kind::MultiLineString => continue,
        };
        out.add(Some(i as u64), &tg, &props(i));
    }
    for members in clusters.values() {
        let n = members.len();
        let (sx, sy) = members
            .iter()
            .fold((0.0, 0.0), |(sx, sy), &(tx, ty, _)| (sx + tx, sy + ty));
        let at = TileGeometry::Points(vec![round_point(sx / n as f64, sy / n as f64)]);
        let first = members[0].2;
        if n == 1 {
            out.add(Some(first as u64), &at, &props(first));
            continue;
        }
        // The fields on which every member agrees, and the count.
        let mut common = props(first);
        for &(_, _, i) in &members[1..] {
            let other = props(i);
            common.retain(|kv| other.contains(kv));
        }
        common.push(("nombre", Value::Uint(n as u64)));
        out.add(Some(first as u64), &at, &common);
    }
    if out.is_empty() {
        return Vec::new();
    }
    let mut tile = Vec::new();
    out.finish(&mut tile);
    tile
}

/// A point of a cluster cell: its tile position and its feature's slot.
type Member = (f64, f64, usize);

fn round_point(tx: f64, ty: f64) -> (i32, i32) {
    (tx.round() as i32, ty.round() as i32)
}

/// A field's JSON value as a tile value (`None` for nulls, arrays and objects).
fn tile_value(v: serde_json::Value) -> Option<Value> {
    Some(match v {
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(u) => Value::Uint(u),
            None => Value::Double(n.as_f64()?),
        },
        serde_json::Value::Bool(b) => Value::Bool(b),
        _ => return None,
    })
}

/// The TileJSON 3.0 document of a layer.
pub fn tilejson(l: &TileLayer, base: &str, bounds: [f64; 4]) -> serde_json::Value {
    let fields: serde_json::Map<String, serde_json::Value> = l
        .fields
        .iter()
        .map(|(k, t)| (k.to_string(), serde_json::Value::String(t.to_string())))
        .collect();
    serde_json::json!({
        "tilejson": "3.0.0",
        "name": l.id,
        "description": l.description,
        "tiles": [format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}", l.id)],
        "minzoom": l.min_zoom,
        "maxzoom": MAX_ZOOM,
        "bounds": bounds,
        "attribution": "IGN ADMIN EXPRESS, INSEE; couches économiques synthétiques (ecofoncier)",
        "vector_layers": [{ "id": l.id, "fields": fields, "minzoom": l.min_zoom, "maxzoom": MAX_ZOOM }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_grid() {
        assert_eq!(tile_bounds(0, 0, 0), (-WORLD, WORLD, 2.0 * WORLD));
        let (x, y, s) = tile_bounds(1, 1, 1);
        assert_eq!((x, y, s), (0.0, 0.0, WORLD));
        assert!(layer("terrains").is_some() && layer("nope").is_none());
        // Confidential fields are never among a layer's tile fields.
        for l in &LAYERS {
            for (f, _) in l.fields {
                assert!(!crate::model::Terrain::CONFIDENTIAL.contains(f), "{f}");
                assert!(
                    !crate::model::Etablissement::CONFIDENTIAL.contains(f),
                    "{f}"
                );
            }
        }
    }
}
