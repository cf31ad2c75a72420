//! A layer as OGC API – Features serves it: public properties (confidential fields removed),
//! each feature pre-serialized as CRS84 GeoJSON, the collection's extent and queryable fields.

use std::collections::BTreeMap;

use geo::BoundingRect;
use serde_json::Value;

use crate::crs::{self, Crs};
use crate::format::{write_feature, Precision};
use crate::model::{Record, SYNTHETIC_SOURCE};

use super::{Layer, ReadModelError, ReadModelResult};

/// Title, description and provenance of a collection.
fn describe(id: &str) -> (&'static str, &'static str, bool) {
    match id {
        "epci" => (
            "EPCI",
            "Établissements publics de coopération intercommunale des Hauts-de-France (DGCL 2026), \
             contour = union des communes de la région, classe rurale/urbaine.",
            false,
        ),
        "communes" => (
            "Communes",
            "Communes des Hauts-de-France (COG INSEE 2026, contours IGN ADMIN EXPRESS simplifiés), \
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
    }
}

/// The JSON Schema type of a property value.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

/// A collection ready to serve.
#[derive(Debug)]
pub struct Served {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// True when the layer is made by `ecofoncier generate`.
    pub synthetic: bool,
    pub attribution: String,
    /// GeoJSON geometry type of the layer's features.
    pub geometry_type: &'static str,
    pub ids: Vec<String>,
    /// Offset of each feature's `properties` object in its serialized bytes: filters and
    /// other CRSs read the properties there instead of keeping a second copy.
    pub props_at: Vec<u32>,
    /// Each feature as a CRS84 GeoJSON Feature, serialized once.
    pub crs84: Vec<Box<[u8]>>,
    /// CRS84 extent [min lon, min lat, max lon, max lat].
    pub extent: [f64; 4],
    /// Queryable property names and their JSON types.
    pub fields: BTreeMap<String, &'static str>,
}

impl Served {
    pub fn build<R: Record>(layer: &Layer<R>, attribution: &str) -> ReadModelResult<Served> {
        let (title, description, synthetic) = describe(R::COLLECTION);
        let n = layer.len();
        let mut ids = Vec::with_capacity(n);
        let mut props_at = Vec::with_capacity(n);
        let mut crs84 = Vec::with_capacity(n);
        let mut fields = BTreeMap::new();
        let mut extent = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut geometry_type = "Geometry";
        let mut buf = Vec::with_capacity(4096);
        for f in layer.features() {
            let id = f.record.id().to_string();
            let err = |m: String| ReadModelError::Serve(R::COLLECTION, id.clone(), m);
            let mut props = match serde_json::to_value(&f.record) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(err("record is not an object".into())),
                Err(e) => return Err(err(e.to_string())),
            };
            for key in R::CONFIDENTIAL {
                props.remove(*key);
            }
            if synthetic {
                props
                    .entry("source_producteur")
                    .or_insert_with(|| Value::String(SYNTHETIC_SOURCE.into()));
            }
            for (k, v) in &props {
                fields.entry(k.clone()).or_insert_with(|| json_type(v));
            }
            let geom =
                crs::geometry_from_l93(&f.geometry, Crs::Crs84).map_err(|e| err(e.to_string()))?;
            if let Some(r) = geom.bounding_rect() {
                extent[0] = extent[0].min(r.min().x);
                extent[1] = extent[1].min(r.min().y);
                extent[2] = extent[2].max(r.max().x);
                extent[3] = extent[3].max(r.max().y);
            }
            geometry_type = geometry_type_name(&geom);
            buf.clear();
            let at = write_feature(&mut buf, &id, &geom, &props, Precision::DEGREES);
            crs84.push(buf.clone().into_boxed_slice());
            ids.push(id);
            props_at.push(at as u32);
        }
        if n == 0 {
            extent = [0.0; 4];
        }
        Ok(Served {
            id: R::COLLECTION,
            title,
            description,
            synthetic,
            attribution: attribution.to_string(),
            geometry_type,
            ids,
            props_at,
            crs84,
            extent,
            fields,
        })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// The serialized `properties` object of feature `i`.
    pub fn properties_json(&self, i: usize) -> &[u8] {
        let f = &self.crs84[i];
        // The feature object closes right after its properties.
        &f[self.props_at[i] as usize..f.len() - 1]
    }

    /// The value of top-level property `key` of feature `i`, read from its serialized bytes.
    pub fn property(&self, i: usize, key: &str) -> Option<Value> {
        let props = self.properties_json(i);
        let mut pat = serde_json::to_vec(key).ok()?;
        pat.push(b':');
        let pos = props.windows(pat.len()).position(|w| w == pat.as_slice())?;
        serde_json::Deserializer::from_slice(&props[pos + pat.len()..])
            .into_iter::<Value>()
            .next()?
            .ok()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

fn geometry_type_name(g: &geo::Geometry<f64>) -> &'static str {
    match g {
        geo::Geometry::Point(_) => "Point",
        geo::Geometry::MultiPoint(_) => "MultiPoint",
        geo::Geometry::LineString(_) | geo::Geometry::Line(_) => "LineString",
        geo::Geometry::MultiLineString(_) => "MultiLineString",
        geo::Geometry::Polygon(_) | geo::Geometry::Rect(_) | geo::Geometry::Triangle(_) => {
            "Polygon"
        }
        geo::Geometry::MultiPolygon(_) => "MultiPolygon",
        geo::Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}
