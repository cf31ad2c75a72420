//! A layer as OGC API – Features serves it, whatever its record type ([`Collection`]):
//! title and provenance, queryable fields, extent, and each feature written on demand as a
//! GeoJSON Feature from its typed record and its stored geometry (public fields only).
//! Nothing is serialized ahead: a write changes one record and the next response shows it.

use std::sync::Arc;

use geo::{Coord, Geometry, Polygon};
use serde_json::Value;

use crate::crs::{Crs, Lambert93};
use crate::formats::geojson::{write_num, Precision};
use crate::model::{Record, SYNTHETIC_SOURCE};

use super::fields::{self, Fields};
use super::layer::Layer;
use super::shapes::{Kind, Part, Shape};

/// Title, description and provenance of a collection.
#[derive(Clone, Copy, Debug)]
pub struct About {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// True when the layer is made by `ecofoncier generate`.
    pub synthetic: bool,
}

/// The description of collection `id`.
pub fn about(id: &'static str) -> About {
    let (title, description, synthetic) = match id {
        "epci" => (
            "EPCI",
            "Établissements publics de coopération intercommunale (DGCL 2026), contour = union \
             de leurs communes chargées, classe rurale/urbaine.",
            false,
        ),
        "communes" => (
            "Communes",
            "Communes (COG INSEE 2026, contours IGN ADMIN EXPRESS simplifiés), région, \
             population légale, mairie, densité et classe rurale/urbaine.",
            false,
        ),
        "poles" => (
            "Pôles économiques",
            "POLE-ECO du standard CNIG Sites économiques. Données synthétiques ecofoncier.",
            true,
        ),
        "sites" => (
            "Sites économiques (ZAE)",
            "SITE-ECO du standard CNIG Sites économiques : zones d'activités et zones \
             commerciales. Données synthétiques ecofoncier.",
            true,
        ),
        "terrains" => (
            "Terrains (unités foncières)",
            "TERRAIN-ECO du standard CNIG Sites économiques, sans les champs confidentiels. \
             Données synthétiques ecofoncier.",
            true,
        ),
        "etablissements" => (
            "Établissements",
            "ETABLISSEMENT du standard CNIG Sites économiques, sans les contacts. \
             Données synthétiques ecofoncier.",
            true,
        ),
        "locaux-commerciaux" => (
            "Locaux commerciaux de centre-bourg",
            "Locaux commerciaux autour des mairies, occupés ou vacants. Données synthétiques \
             ecofoncier.",
            true,
        ),
        "tiers-lieux" => (
            "Tiers-lieux et France services",
            "Tiers-lieux multiservices et espaces France services, services offerts, horaires et \
             activité annuelle. Données synthétiques ecofoncier.",
            true,
        ),
        _ => ("", "", false),
    };
    About {
        id,
        title,
        description,
        synthetic,
    }
}

/// A served layer, whatever its record type.
pub trait Collection: Send + Sync {
    fn about(&self) -> About;
    /// GeoJSON geometry type of the layer's features.
    fn geometry_type(&self) -> &'static str;
    /// Live features.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The live slot of rank `k`.
    fn nth_live(&self, k: usize) -> Option<usize>;
    fn index_of(&self, id: &str) -> Option<usize>;
    fn id(&self, slot: usize) -> &str;
    /// The feature's version (its ETag).
    fn version(&self, slot: usize) -> i64;
    /// Slots of the features whose geometry intersects `area` (Lambert-93), ascending.
    fn intersecting(&self, area: &Polygon<f64>) -> Vec<usize>;
    /// The geometry of feature `slot` (Lambert-93).
    fn geometry(&self, slot: usize) -> Geometry<f64>;
    /// The live slots, ascending.
    fn live_slots(&self) -> Box<dyn Iterator<Item = usize> + '_>;
    /// Queryable property names and their JSON types.
    fn fields(&self) -> &Fields;
    /// CRS84 extent `[min lon, min lat, max lon, max lat]`.
    fn extent(&self) -> [f64; 4];
    /// The value of public property `key` of feature `slot`.
    fn property(&self, slot: usize, key: &str) -> Option<Value>;
    /// The values of public properties `keys` of feature `slot`, read in one pass.
    fn values(&self, slot: usize, keys: &[&str]) -> Vec<Option<Value>> {
        keys.iter().map(|k| self.property(slot, k)).collect()
    }
    /// The plan to read properties `keys` of many features ([`Collection::values_with`]).
    fn pick_plan(&self, keys: &[&str]) -> fields::PickPlan;
    /// The values of the plan's keys of feature `slot` into `out`, as
    /// [`Collection::values`] gives them, without comparing field names.
    fn values_with(&self, slot: usize, plan: &fields::PickPlan, out: &mut Vec<Option<Value>>);
    /// The fields never served (owners, buyers, prices, contacts).
    fn confidential(&self) -> &'static [&'static str];
    /// Writes feature `slot` as a GeoJSON Feature in `crs` (public fields only).
    fn write_feature(&self, out: &mut Vec<u8>, slot: usize, crs: Crs) {
        self.write_feature_keeping(out, slot, crs, None)
    }
    /// [`Collection::write_feature`] with only the properties named in `keep`, when given.
    fn write_feature_keeping(
        &self,
        out: &mut Vec<u8>,
        slot: usize,
        crs: Crs,
        keep: Option<&[&str]>,
    );
}

/// A record of no field, to plan picks on an empty layer.
#[derive(serde::Serialize)]
struct NoFields {}

/// Writes a stored geometry as GeoJSON in `crs`.
pub fn write_geometry_in(out: &mut Vec<u8>, shape: super::shapes::Shape<'_>, crs: Crs) {
    match crs {
        Crs::Crs84 => {
            let l = Lambert93::get();
            write_shape(out, shape, |x, y| l.inverse(x, y), Precision::DEGREES)
        }
        Crs::Epsg4326 => {
            let l = Lambert93::get();
            write_shape(
                out,
                shape,
                |x, y| {
                    let (lon, lat) = l.inverse(x, y);
                    (lat, lon)
                },
                Precision::DEGREES,
            )
        }
        Crs::Lambert93 => write_shape(out, shape, |x, y| (x, y), Precision::METRES),
        Crs::WebMercator => write_shape(
            out,
            shape,
            |x, y| crate::crs::from_l93(Crs::WebMercator, x, y).unwrap_or((f64::NAN, f64::NAN)),
            Precision::METRES,
        ),
    }
}

impl<R: Record> Collection for Layer<R> {
    fn about(&self) -> About {
        about(R::COLLECTION)
    }

    fn geometry_type(&self) -> &'static str {
        self.live_slots()
            .next()
            .map(|s| self.shape(s).kind.geojson_type())
            .unwrap_or(Kind::Point.geojson_type())
    }

    fn len(&self) -> usize {
        Layer::len(self)
    }

    fn nth_live(&self, k: usize) -> Option<usize> {
        Layer::nth_live(self, k)
    }

    fn index_of(&self, id: &str) -> Option<usize> {
        Layer::index_of(self, id)
    }

    fn id(&self, slot: usize) -> &str {
        self.record(slot).id()
    }

    fn version(&self, slot: usize) -> i64 {
        Layer::version(self, slot)
    }

    fn intersecting(&self, area: &Polygon<f64>) -> Vec<usize> {
        Layer::intersecting(self, area)
    }

    fn geometry(&self, slot: usize) -> Geometry<f64> {
        Layer::geometry(self, slot)
    }

    fn live_slots(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        Box::new(Layer::live_slots(self))
    }

    fn fields(&self) -> &Fields {
        self.fields_cell().get_or_init(|| {
            let mut f = fields::find_fields(self.records());
            for k in R::CONFIDENTIAL {
                f.remove(*k);
            }
            if about(R::COLLECTION).synthetic {
                f.entry("source_producteur".into()).or_insert("string");
            }
            f
        })
    }

    fn extent(&self) -> [f64; 4] {
        let Some(e) = Layer::extent(self) else {
            return [0.0; 4];
        };
        // The Lambert-93 envelope's outline, densified, in CRS84: the conic projection bends
        // its edges, and the outline encloses every feature.
        let l = Lambert93::get();
        let mut out = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        const K: usize = 32;
        for i in 0..=K {
            let t = i as f64 / K as f64;
            let (x, y) = (e[0] + (e[2] - e[0]) * t, e[1] + (e[3] - e[1]) * t);
            for (a, b) in [(x, e[1]), (x, e[3]), (e[0], y), (e[2], y)] {
                let (lon, lat) = l.inverse(a, b);
                out = [
                    out[0].min(lon),
                    out[1].min(lat),
                    out[2].max(lon),
                    out[3].max(lat),
                ];
            }
        }
        out
    }

    fn property(&self, slot: usize, key: &str) -> Option<Value> {
        if R::CONFIDENTIAL.contains(&key) {
            return None;
        }
        let r = self.record(slot);
        match fields::field(r, key) {
            None if key == "source_producteur" && about(R::COLLECTION).synthetic => {
                Some(Value::String(SYNTHETIC_SOURCE.into()))
            }
            v => v,
        }
    }

    fn values(&self, slot: usize, keys: &[&str]) -> Vec<Option<Value>> {
        let mut out = Vec::with_capacity(keys.len());
        self.values_with(slot, &self.pick_plan(keys), &mut out);
        out
    }

    fn confidential(&self) -> &'static [&'static str] {
        R::CONFIDENTIAL
    }

    fn pick_plan(&self, keys: &[&str]) -> fields::PickPlan {
        // Confidential keys are planned as absent.
        let public: Vec<&str> = keys
            .iter()
            .map(|k| if R::CONFIDENTIAL.contains(k) { "" } else { *k })
            .collect();
        match self.live_slots().next() {
            Some(s) => fields::PickPlan::new(self.record(s), &public),
            None => fields::PickPlan::new(&NoFields {}, &public),
        }
    }

    fn values_with(&self, slot: usize, plan: &fields::PickPlan, out: &mut Vec<Option<Value>>) {
        fields::pick_planned(self.record(slot), plan, out);
        if about(R::COLLECTION).synthetic {
            for (k, v) in plan.keys().iter().zip(out.iter_mut()) {
                if k == "source_producteur" && v.is_none() {
                    *v = Some(Value::String(SYNTHETIC_SOURCE.into()));
                }
            }
        }
    }

    fn write_feature_keeping(
        &self,
        out: &mut Vec<u8>,
        slot: usize,
        crs: Crs,
        keep: Option<&[&str]>,
    ) {
        let r = self.record(slot);
        out.extend_from_slice(br#"{"type":"Feature","id":"#);
        fields::write_str(out, r.id());
        out.extend_from_slice(br#","geometry":"#);
        write_geometry_in(out, self.shape(slot), crs);
        out.extend_from_slice(br#","properties":"#);
        let fallback = about(R::COLLECTION)
            .synthetic
            .then_some(("source_producteur", SYNTHETIC_SOURCE));
        // Records are structs: writing one cannot fail.
        let _ = fields::write_object_keeping(out, r, R::CONFIDENTIAL, fallback, keep);
        out.push(b'}');
    }
}

/// Key of an encoded feature: model lineage, collection, slot and version, so that an
/// edited feature (a new version) or a reloaded model (a new lineage) never meets an old
/// encoding.
type CacheKey = (u64, u8, u32, u32);

struct CacheShard {
    map: rustc_hash::FxHashMap<CacheKey, Arc<[u8]>>,
    /// Keys in insertion order: the oldest go first when the shard is full.
    order: std::collections::VecDeque<CacheKey>,
    bytes: usize,
}

/// CRS84 GeoJSON features kept once written, up to a byte budget: a cache in front of the
/// on-demand writer for the features asked again and again (a map's visible area, a
/// popular page), not a copy of the model. First in, first out.
pub struct FeatureCache {
    shards: Vec<std::sync::Mutex<CacheShard>>,
    /// Bytes a shard may hold.
    budget: usize,
}

impl FeatureCache {
    const SHARDS: usize = 16;

    /// A cache of at most `bytes` bytes of encoded features (0: no cache).
    pub fn new(bytes: usize) -> FeatureCache {
        FeatureCache {
            shards: (0..Self::SHARDS)
                .map(|_| {
                    std::sync::Mutex::new(CacheShard {
                        map: Default::default(),
                        order: Default::default(),
                        bytes: 0,
                    })
                })
                .collect(),
            budget: bytes / Self::SHARDS,
        }
    }

    fn shard(&self, k: &CacheKey) -> &std::sync::Mutex<CacheShard> {
        let h = (k.2 as usize).wrapping_mul(0x9E37_79B9) ^ k.1 as usize;
        &self.shards[(h >> 7) % Self::SHARDS]
    }

    /// Appends feature `slot` of collection `c` (number `index` in the model's list) as CRS84
    /// GeoJSON to `out`, from the cache or written and kept.
    pub fn write(
        &self,
        out: &mut Vec<u8>,
        lineage: u64,
        index: u8,
        c: &dyn Collection,
        slot: usize,
    ) {
        if self.budget == 0 {
            return c.write_feature(out, slot, Crs::Crs84);
        }
        let key = (lineage, index, slot as u32, c.version(slot) as u32);
        let shard = self.shard(&key);
        let hit = shard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .get(&key)
            .cloned();
        if let Some(bytes) = hit {
            out.extend_from_slice(&bytes);
            return;
        }
        let start = out.len();
        c.write_feature(out, slot, Crs::Crs84);
        let bytes: Arc<[u8]> = Arc::from(&out[start..]);
        let mut s = shard.lock().unwrap_or_else(|e| e.into_inner());
        if bytes.len() > self.budget || s.map.contains_key(&key) {
            return;
        }
        s.bytes += bytes.len();
        s.map.insert(key, bytes);
        s.order.push_back(key);
        while s.bytes > self.budget {
            let Some(old) = s.order.pop_front() else {
                break;
            };
            if let Some(b) = s.map.remove(&old) {
                s.bytes -= b.len();
            }
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).bytes)
            .sum()
    }
}

/// Writes a stored geometry as a GeoJSON geometry object, each coordinate passed through
/// `project` (Lambert-93 → the output CRS) as it is written.
fn write_shape(
    out: &mut Vec<u8>,
    shape: Shape<'_>,
    project: impl Fn(f64, f64) -> (f64, f64),
    p: Precision,
) {
    let coord = |out: &mut Vec<u8>, c: &Coord<f64>| {
        let (x, y) = project(c.x, c.y);
        out.push(b'[');
        write_num(out, x, p);
        out.push(b',');
        write_num(out, y, p);
        out.push(b']');
    };
    let seq = |out: &mut Vec<u8>, cs: &[Coord<f64>]| {
        out.push(b'[');
        for (i, c) in cs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            coord(out, c);
        }
        out.push(b']');
    };
    let rings = |out: &mut Vec<u8>, part: Part<'_>| {
        out.push(b'[');
        for (i, r) in part.rings().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            seq(out, r);
        }
        out.push(b']');
    };
    out.extend_from_slice(br#"{"type":""#);
    out.extend_from_slice(shape.kind.geojson_type().as_bytes());
    out.extend_from_slice(br#"","coordinates":"#);
    match shape.kind {
        Kind::Point => coord(out, &shape.first()),
        Kind::MultiPoint | Kind::LineString => seq(out, shape.coords()),
        Kind::MultiLineString | Kind::Polygon => {
            if let Some(part) = shape.parts().next() {
                rings(out, part)
            } else {
                out.extend_from_slice(b"[]")
            }
        }
        Kind::MultiPolygon => {
            out.push(b'[');
            for (i, part) in shape.parts().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                rings(out, part);
            }
            out.push(b']');
        }
    }
    out.push(b'}');
}
