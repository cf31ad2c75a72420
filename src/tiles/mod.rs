//! Vector tiles (Mapbox Vector Tile 2.1) of the read model's layers for MapLibre:
//! `/tiles/{layer}/{z}/{x}/{y}` in the Web Mercator tile grid (XYZ, y down), TileJSON 3.0
//! at `/tiles/{layer}`.
//!
//! Each layer's geometries are projected to Web Mercator once per snapshot (on the first
//! tile asked of it) and indexed by an R-tree of their envelopes; a tile is an envelope
//! query, a quantization to the 4096-unit tile grid and the encoding. Encoded tiles are
//! kept per snapshot, so a tile is built once until the data changes. Confidential fields
//! are never in a tile: each layer lists the few public fields it carries.

pub mod mvt;
pub mod overview;

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use geo::{BoundingRect, Geometry};
use rstar::{primitives::GeomWithData, primitives::Rectangle, RTree, AABB};

use crate::crs::{self, Crs};
use crate::model::{Feature, Record};
use crate::read_model::ReadModel;
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

/// A served layer: its id, the zoom from which it is drawn, and its public tile fields.
#[derive(Debug)]
pub struct TileLayer {
    pub id: &'static str,
    pub min_zoom: u8,
    pub fields: &'static [(&'static str, &'static str)],
    pub description: &'static str,
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
    },
];

/// The layer named `id`, with its slot.
pub fn layer(id: &str) -> Option<(usize, &'static TileLayer)> {
    LAYERS.iter().enumerate().find(|(_, l)| l.id == id)
}

/// A layer in Web Mercator with its index and public tile fields.
struct Projected {
    geometries: Vec<Geometry<f64>>,
    props: Vec<Vec<(&'static str, Value)>>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
}

/// The tiles of one snapshot: projected layers (built on first use) and encoded tiles.
#[derive(Default)]
pub struct Tiles {
    projected: [OnceLock<Projected>; 7],
    overview: OnceLock<Option<overview::Overview>>,
    cache: RwLock<HashMap<(u8, u8, u32, u32), Tile>>,
}

/// An encoded tile and its ETag (empty bytes: no feature).
#[derive(Clone, Debug)]
pub struct Tile {
    pub bytes: bytes::Bytes,
    pub etag: String,
}

fn project<R: Record>(
    features: &[Feature<R>],
    fields: &'static [(&'static str, &'static str)],
) -> Projected {
    let mut geometries = Vec::with_capacity(features.len());
    let mut props = Vec::with_capacity(features.len());
    let mut entries = Vec::with_capacity(features.len());
    for f in features {
        let Ok(g) = crs::geometry_from_l93(&f.geometry, Crs::WebMercator) else {
            continue;
        };
        let Some(r) = g.bounding_rect() else {
            continue;
        };
        let json = serde_json::to_value(&f.record).unwrap_or_default();
        let p = fields
            .iter()
            .filter_map(|(k, _)| {
                let v = match json.get(*k)? {
                    serde_json::Value::String(s) => Value::String(s.clone()),
                    serde_json::Value::Number(n) => match n.as_u64() {
                        Some(u) => Value::Uint(u),
                        None => Value::Double(n.as_f64()?),
                    },
                    serde_json::Value::Bool(b) => Value::Bool(*b),
                    _ => return None,
                };
                Some((*k, v))
            })
            .collect();
        entries.push(GeomWithData::new(
            Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
            geometries.len() as u32,
        ));
        geometries.push(g);
        props.push(p);
    }
    Projected {
        geometries,
        props,
        tree: RTree::bulk_load(entries),
    }
}

/// Why a tile request is refused.
#[derive(Debug, PartialEq)]
pub enum TileError {
    UnknownLayer(String),
    OutOfRange(String),
}

impl Tiles {
    /// The PNG overview of the EPCIs ([`overview::render`]), made once per snapshot.
    pub fn overview(&self, m: &ReadModel) -> Option<&overview::Overview> {
        self.overview
            .get_or_init(|| {
                let p = self.projected(0, m);
                overview::render(&p.geometries, |i| {
                    p.props[i]
                        .iter()
                        .any(|(k, v)| *k == "classe" && *v == Value::String("rural".into()))
                })
            })
            .as_ref()
    }

    fn projected(&self, slot: usize, m: &ReadModel) -> &Projected {
        self.projected[slot].get_or_init(|| {
            let fields = LAYERS[slot].fields;
            match slot {
                0 => project(m.epci.features(), fields),
                1 => project(m.communes.features(), fields),
                2 => project(m.sites.features(), fields),
                3 => project(m.terrains.features(), fields),
                4 => project(m.etablissements.features(), fields),
                5 => project(m.locaux.features(), fields),
                _ => project(m.tiers_lieux.features(), fields),
            }
        })
    }

    /// Tile `z/x/y` of layer `id`: cached, or built and cached.
    pub fn tile(&self, m: &ReadModel, id: &str, z: u8, x: u32, y: u32) -> Result<Tile, TileError> {
        let (slot, l) = layer(id).ok_or_else(|| TileError::UnknownLayer(id.to_string()))?;
        if z > MAX_ZOOM {
            return Err(TileError::OutOfRange(format!("z: at most {MAX_ZOOM}")));
        }
        let n = 1u32 << z;
        if x >= n || y >= n {
            return Err(TileError::OutOfRange(format!("x and y: below 2^z = {n}")));
        }
        let key = (slot as u8, z, x, y);
        if let Some(t) = self
            .cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(t.clone());
        }
        let bytes = if z < l.min_zoom {
            Vec::new()
        } else {
            encode(self.projected(slot, m), l.id, z, x, y)
        };
        let tile = Tile {
            etag: crate::etag_of(&bytes),
            bytes: bytes::Bytes::from(bytes),
        };
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.len() < CACHE_LIMIT {
            cache.insert(key, tile.clone());
        }
        Ok(tile)
    }
}

/// The tile's bounds in Web Mercator metres: (min x, max y, size).
pub fn tile_bounds(z: u8, x: u32, y: u32) -> (f64, f64, f64) {
    let size = 2.0 * WORLD / (1u64 << z) as f64;
    (-WORLD + x as f64 * size, WORLD - y as f64 * size, size)
}

fn encode(p: &Projected, name: &str, z: u8, x: u32, y: u32) -> Vec<u8> {
    let (min_x, max_y, size) = tile_bounds(z, x, y);
    let scale = EXTENT as f64 / size;
    let margin = BUFFER / scale;
    let query = AABB::from_corners(
        [min_x - margin, max_y - size - margin],
        [min_x + size + margin, max_y + margin],
    );
    let mut hits: Vec<u32> = p
        .tree
        .locate_in_envelope_intersecting(&query)
        .map(|e| e.data)
        .collect();
    if hits.is_empty() {
        return Vec::new();
    }
    hits.sort_unstable();
    let to_tile = |c: &geo::Coord<f64>| {
        (
            ((c.x - min_x) * scale).round() as i32,
            ((max_y - c.y) * scale).round() as i32,
        )
    };
    let mut layer = LayerBuilder::new(name, EXTENT);
    for i in hits {
        let g = &p.geometries[i as usize];
        let tg = match g {
            Geometry::Point(pt) => TileGeometry::Points(vec![to_tile(&pt.0)]),
            Geometry::MultiPoint(mp) => {
                TileGeometry::Points(mp.iter().map(|pt| to_tile(&pt.0)).collect())
            }
            Geometry::Polygon(poly) => TileGeometry::Polygons(vec![rings(poly, &to_tile)]),
            Geometry::MultiPolygon(mp) => {
                TileGeometry::Polygons(mp.iter().map(|poly| rings(poly, &to_tile)).collect())
            }
            _ => continue,
        };
        layer.add(Some(i as u64), &tg, &p.props[i as usize]);
    }
    if layer.is_empty() {
        return Vec::new();
    }
    let mut tile = Vec::new();
    layer.finish(&mut tile);
    tile
}

fn rings(
    poly: &geo::Polygon<f64>,
    to_tile: &impl Fn(&geo::Coord<f64>) -> (i32, i32),
) -> Vec<Vec<(i32, i32)>> {
    std::iter::once(poly.exterior())
        .chain(poly.interiors())
        .map(|r| r.coords().map(to_tile).collect())
        .collect()
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
