//! One layer of the read model: records sorted by id, their Lambert-93 geometries, an id map
//! and an R-tree for envelope, intersection and nearest queries.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use geo::{BoundingRect, Distance, Euclidean, Geometry, Intersects, Point, Polygon};
use rstar::{PointDistance, RTree, RTreeObject, AABB};

use crate::model::{Feature, Record};

use super::{ReadModelError, ReadModelResult};

/// An R-tree entry: a feature's geometry (Lambert-93) and its index in the layer.
#[derive(Clone, Debug)]
pub struct Indexed {
    pub index: usize,
    envelope: AABB<[f64; 2]>,
    geometry: Geometry<f64>,
}

impl RTreeObject for Indexed {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PointDistance for Indexed {
    /// Squared Euclidean distance from the point to the geometry itself (0 inside a polygon),
    /// so that nearest-neighbour queries rank by true distance, not by envelope.
    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        let d = Euclidean.distance(&Point::new(point[0], point[1]), &self.geometry);
        d * d
    }
}

/// Envelope of a geometry as an R-tree AABB; `None` for an empty geometry.
pub fn envelope_of(geometry: &Geometry<f64>) -> Option<AABB<[f64; 2]>> {
    geometry
        .bounding_rect()
        .map(|r| AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]))
}

/// A layer's id → index map, shared with the figures computed per feature (see
/// `metrics::PerCode`), so they are looked up by code without copying any code.
pub type IdIndex = Arc<FxHashMap<String, usize>>;

/// A typed layer of the read model.
#[derive(Debug)]
pub struct Layer<R> {
    features: Vec<Feature<R>>,
    by_id: IdIndex,
    tree: RTree<Indexed>,
}

impl<R: Record> Layer<R> {
    /// Builds the layer: sorts by id (the paging order), rejects duplicate ids and empty
    /// geometries, bulk-loads the R-tree.
    pub fn new(mut features: Vec<Feature<R>>) -> ReadModelResult<Self> {
        features.sort_by(|a, b| a.record.id().cmp(b.record.id()));
        let mut by_id = FxHashMap::with_capacity_and_hasher(features.len(), Default::default());
        let mut entries = Vec::with_capacity(features.len());
        for (index, f) in features.iter().enumerate() {
            let id = f.record.id();
            if by_id.insert(id.to_string(), index).is_some() {
                return Err(ReadModelError::DuplicateId(R::COLLECTION, id.to_string()));
            }
            let envelope = envelope_of(&f.geometry)
                .ok_or_else(|| ReadModelError::EmptyGeometry(R::COLLECTION, id.to_string()))?;
            entries.push(Indexed {
                index,
                envelope,
                geometry: f.geometry.clone(),
            });
        }
        Ok(Layer {
            features,
            by_id: Arc::new(by_id),
            tree: RTree::bulk_load(entries),
        })
    }

    pub fn len(&self) -> usize {
        self.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    pub fn features(&self) -> &[Feature<R>] {
        &self.features
    }

    pub fn get(&self, index: usize) -> &Feature<R> {
        &self.features[index]
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The shared id → index map.
    pub fn ids(&self) -> IdIndex {
        Arc::clone(&self.by_id)
    }

    pub fn by_id(&self, id: &str) -> Option<&Feature<R>> {
        self.index_of(id).map(|i| &self.features[i])
    }

    /// Indices of the features whose envelope intersects `envelope`, unordered.
    pub fn in_envelope(&self, envelope: &AABB<[f64; 2]>) -> impl Iterator<Item = usize> + '_ {
        self.tree
            .locate_in_envelope_intersecting(envelope)
            .map(|e| e.index)
    }

    /// Indices of the features whose geometry intersects `area`, ascending (id order).
    pub fn intersecting(&self, area: &Polygon<f64>) -> Vec<usize> {
        let Some(envelope) = envelope_of(&Geometry::Polygon(area.clone())) else {
            return Vec::new();
        };
        let mut hits: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&envelope)
            .filter(|e| e.geometry.intersects(area))
            .map(|e| e.index)
            .collect();
        hits.sort_unstable();
        hits
    }

    /// Indices of the features containing or touching the point (distance 0).
    pub fn at_point(&self, x: f64, y: f64) -> Vec<usize> {
        let p = Point::new(x, y);
        let mut hits: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_point([x, y]))
            .filter(|e| e.geometry.intersects(&p))
            .map(|e| e.index)
            .collect();
        hits.sort_unstable();
        hits
    }

    /// Features by increasing true distance (metres) from the point.
    pub fn nearest(&self, x: f64, y: f64) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.tree
            .nearest_neighbor_iter_with_distance_2(&[x, y])
            .map(|(e, d2)| (e.index, d2.sqrt()))
    }
}
