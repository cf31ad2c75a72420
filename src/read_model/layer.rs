//! One layer of the read model: typed records, their geometries stored once and flat, their
//! envelopes, versions (ETags) and an R-tree, all in persistent chunks so that a version of
//! the layer with one feature created, replaced or removed shares everything else with the
//! version before ([`Layer::upsert`], [`Layer::remove`]).
//!
//! A feature is known by its *slot*, its position in the layer: slots are stable across
//! versions (a removed feature leaves a dead slot; a created one takes a new slot at the
//! end), so figures kept per slot by the metrics stay valid through edits. Slots of a layer
//! built from a dataset follow the id order, which is the paging order.

use std::sync::Arc;

use geo::{Coord, Geometry, Intersects, Point, Polygon};
use rstar::AABB;
use rustc_hash::FxHashMap;

use crate::model::{Feature, Record, Str};

use super::fields::{find_fields, FieldsCell};
use super::pvec::PVec;
use super::rings::{ring_contains, shape_contains};
use super::shapes::{Shape, Shapes};
use super::spatial::{Entry, Envelope, SpatialIndex};
use super::{ReadModelError, ReadModelResult};

/// Envelope of a geometry as an R-tree AABB; `None` for an empty geometry.
pub fn envelope_of(geometry: &Geometry<f64>) -> Option<AABB<[f64; 2]>> {
    use geo::BoundingRect;
    geometry
        .bounding_rect()
        .map(|r| AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]))
}

/// A layer's id → slot map for lookups by code (communes, EPCIs), shared with the figures
/// computed per feature (see `metrics::PerCode`).
pub type IdIndex = Arc<FxHashMap<Str, usize>>;

/// A feature of a layer, borrowed.
#[derive(Debug)]
pub struct FeatureRef<'a, R> {
    pub slot: usize,
    pub record: &'a R,
    pub shape: Shape<'a>,
}

impl<R> Clone for FeatureRef<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for FeatureRef<'_, R> {}

impl<R: Clone> FeatureRef<'_, R> {
    /// The geometry as a `geo` geometry (allocated).
    pub fn geometry(&self) -> Geometry<f64> {
        self.shape.to_geometry()
    }

    /// An owned copy of the feature.
    pub fn to_feature(&self) -> Feature<R> {
        Feature {
            geometry: self.geometry(),
            record: self.record.clone(),
        }
    }
}

/// A typed layer of the read model.
#[derive(Clone, Debug)]
pub struct Layer<R> {
    records: PVec<R>,
    shapes: Shapes,
    envelopes: PVec<Envelope>,
    live: PVec<bool>,
    /// Each feature's version (its ETag): PostGIS counts the writes, files are version 1.
    versions: PVec<u32>,
    live_count: usize,
    /// Dead slots, ascending (features removed since the layer was built).
    dead: Arc<Vec<u32>>,
    /// The slots of the features the layer was built with, in id order.
    by_id: Arc<Vec<u32>>,
    /// Slots of the features created since (their ids are not in `by_id`).
    added: Arc<FxHashMap<Str, u32>>,
    tree: SpatialIndex,
    /// Queryable fields, found on first use and kept by later versions.
    fields: FieldsCell,
}

fn envelope_array(g: &Geometry<f64>) -> Option<Envelope> {
    envelope_of(g).map(|e| [e.lower()[0], e.lower()[1], e.upper()[0], e.upper()[1]])
}

impl<R: Record> Layer<R> {
    /// Builds the layer: sorts by id (the paging order), rejects duplicate ids and empty
    /// geometries, bulk-loads the R-tree.
    pub fn new(features: Vec<Feature<R>>) -> ReadModelResult<Self> {
        Self::with_versions(features.into_iter().map(|f| (f, 1)).collect())
    }

    /// [`Layer::new`] with each feature's version.
    pub fn with_versions(mut features: Vec<(Feature<R>, u32)>) -> ReadModelResult<Self> {
        features.sort_by(|a, b| a.0.record.id().cmp(b.0.record.id()));
        for w in features.windows(2) {
            if w[0].0.record.id() == w[1].0.record.id() {
                return Err(ReadModelError::DuplicateId(
                    R::COLLECTION,
                    w[0].0.record.id().to_string(),
                ));
            }
        }
        let n = features.len();
        let mut envelopes = Vec::with_capacity(n);
        let mut entries = Vec::with_capacity(n);
        let mut shapes = Shapes::default();
        for (slot, (f, _)) in features.iter().enumerate() {
            let empty = || ReadModelError::EmptyGeometry(R::COLLECTION, f.record.id().to_string());
            let e = envelope_array(&f.geometry).ok_or_else(empty)?;
            shapes.push(&f.geometry).map_err(|_| empty())?;
            envelopes.push(e);
            entries.push(Entry::new(e, slot as u32));
        }
        let versions = features.iter().map(|(_, v)| *v).collect();
        let records = features.into_iter().map(|(f, _)| f.record).collect();
        Ok(Layer {
            records: PVec::from_vec(records),
            shapes,
            envelopes: PVec::from_vec(envelopes),
            live: PVec::filled(true, n),
            versions: PVec::from_vec(versions),
            live_count: n,
            dead: Default::default(),
            by_id: Arc::new((0..n as u32).collect()),
            added: Default::default(),
            tree: SpatialIndex::new(entries),
            fields: FieldsCell::default(),
        })
    }

    /// The cell of the layer's queryable fields.
    pub fn fields_cell(&self) -> &FieldsCell {
        &self.fields
    }

    /// Widens the known fields with those of `record`, when they were found already.
    fn note_fields(&mut self, record: &R) {
        if let Some(known) = self.fields.get() {
            let mut mine = find_fields(std::iter::once(record));
            for k in R::CONFIDENTIAL {
                mine.remove(*k);
            }
            if mine.keys().any(|k| !known.contains_key(k)) {
                let mut all = known.clone();
                all.extend(mine);
                self.fields = FieldsCell::with(all);
            }
        }
    }

    /// Live features.
    pub fn len(&self) -> usize {
        self.live_count
    }

    pub fn is_empty(&self) -> bool {
        self.live_count == 0
    }

    /// Slots, live or dead: the length of arrays kept per slot.
    pub fn slots(&self) -> usize {
        self.records.len()
    }

    /// Whether slot `slot` holds a feature.
    pub fn is_live(&self, slot: usize) -> bool {
        slot < self.live.len() && *self.live.get(slot)
    }

    /// The record in slot `slot` (live or not).
    #[inline]
    pub fn record(&self, slot: usize) -> &R {
        self.records.get(slot)
    }

    /// The geometry in slot `slot`.
    #[inline]
    pub fn shape(&self, slot: usize) -> Shape<'_> {
        self.shapes.get(slot)
    }

    /// The geometry in slot `slot` as a `geo` geometry (allocated).
    pub fn geometry(&self, slot: usize) -> Geometry<f64> {
        self.shapes.get(slot).to_geometry()
    }

    /// The envelope `[min x, min y, max x, max y]` of slot `slot`.
    pub fn envelope(&self, slot: usize) -> Envelope {
        *self.envelopes.get(slot)
    }

    /// The version (ETag) of slot `slot`.
    pub fn version(&self, slot: usize) -> i64 {
        *self.versions.get(slot) as i64
    }

    /// The feature in slot `slot`.
    pub fn get(&self, slot: usize) -> FeatureRef<'_, R> {
        FeatureRef {
            slot,
            record: self.records.get(slot),
            shape: self.shapes.get(slot),
        }
    }

    /// The live features, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = FeatureRef<'_, R>> + '_ {
        self.live_slots().map(move |s| self.get(s))
    }

    /// The live slots, ascending.
    pub fn live_slots(&self) -> impl Iterator<Item = usize> + '_ {
        let dead = &self.dead;
        let all = 0..self.slots();
        let mut next_dead = 0;
        all.filter(move |&s| {
            if next_dead < dead.len() && dead[next_dead] as usize == s {
                next_dead += 1;
                false
            } else {
                true
            }
        })
    }

    /// The live slot of rank `k` (the k-th live feature in slot order, from 0).
    pub fn nth_live(&self, k: usize) -> Option<usize> {
        if k >= self.live_count {
            return None;
        }
        // Each dead slot at or before the answer pushes it one further.
        let mut s = k;
        for &d in self.dead.iter() {
            if d as usize <= s {
                s += 1;
            } else {
                break;
            }
        }
        Some(s)
    }

    /// The records of the live features, in slot order.
    pub fn records(&self) -> impl Iterator<Item = &R> + '_ {
        self.live_slots().map(move |s| self.records.get(s))
    }

    /// The slot of feature `id`, if it is live.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        if let Some(&s) = self.added.get(id) {
            return Some(s as usize);
        }
        let by_id = &self.by_id;
        let i = by_id
            .binary_search_by(|&s| self.records.get(s as usize).id().cmp(id))
            .ok()?;
        let s = by_id[i] as usize;
        self.is_live(s).then_some(s)
    }

    /// Feature `id`, if it is live.
    pub fn by_id(&self, id: &str) -> Option<FeatureRef<'_, R>> {
        self.index_of(id).map(|s| self.get(s))
    }

    /// An id → slot map of the live features (for small reference layers).
    pub fn id_index(&self) -> IdIndex {
        Arc::new(
            self.live_slots()
                .map(|s| (Str::new(self.records.get(s).id()), s))
                .collect(),
        )
    }

    /// The live slots whose envelope intersects `envelope`, unordered.
    pub fn in_envelope(&self, envelope: &AABB<[f64; 2]>) -> impl Iterator<Item = usize> + '_ {
        self.tree.intersecting(envelope).map(|s| s as usize)
    }

    /// Slots of the features whose geometry intersects `area`, ascending.
    pub fn intersecting(&self, area: &Polygon<f64>) -> Vec<usize> {
        let Some(envelope) = envelope_of(&Geometry::Polygon(area.clone())) else {
            return Vec::new();
        };
        // A feature with a vertex strictly inside a hole-free area meets it: most features a
        // bbox finds are decided so, without making a `geo` geometry.
        let ext = &area.exterior().0;
        let simple = area.interiors().is_empty();
        let mut hits: Vec<usize> = self
            .in_envelope(&envelope)
            .filter(|&s| {
                let shape = self.shape(s);
                let c = shape.first();
                (simple && ring_contains(ext, c.x, c.y)) || shape.to_geometry().intersects(area)
            })
            .collect();
        hits.sort_unstable();
        hits
    }

    /// Slots of the features containing or touching the point, ascending.
    pub fn at_point(&self, x: f64, y: f64) -> Vec<usize> {
        let p = Point::new(x, y);
        let mut hits: Vec<usize> = self
            .in_envelope(&AABB::from_point([x, y]))
            .filter(|&s| {
                let sh = self.shape(s);
                shape_contains(sh, (x, y)) || sh.to_geometry().intersects(&p)
            })
            .collect();
        hits.sort_unstable();
        hits
    }

    /// Live features by increasing true distance (metres, 0 inside) from the point.
    pub fn nearest(&self, x: f64, y: f64) -> impl Iterator<Item = (usize, f64)> + '_ {
        let p = Coord { x, y };
        self.tree
            .nearest([x, y], move |s| distance(self.shape(s as usize), p))
            .map(|(s, d)| (s as usize, d))
    }

    /// The union of the live features' envelopes.
    pub fn extent(&self) -> Option<Envelope> {
        let mut e = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for s in self.live_slots() {
            let f = self.envelope(s);
            e = [
                e[0].min(f[0]),
                e[1].min(f[1]),
                e[2].max(f[2]),
                e[3].max(f[3]),
            ];
        }
        e[0].is_finite().then_some(e)
    }

    /// Creates feature `f`, or replaces the feature of the same id; returns its slot and,
    /// for a replacement, the feature it replaced. Every array is copied one chunk at most.
    pub fn upsert(
        &mut self,
        f: Feature<R>,
        version: u32,
    ) -> ReadModelResult<(usize, Option<Feature<R>>)> {
        let id = f.record.id().to_string();
        let empty = || ReadModelError::EmptyGeometry(R::COLLECTION, id.clone());
        let env = envelope_array(&f.geometry).ok_or_else(empty)?;
        self.note_fields(&f.record);
        match self.index_of(&id) {
            Some(slot) => {
                let old = self.get(slot).to_feature();
                self.shapes.set(slot, &f.geometry).map_err(|_| empty())?;
                self.records.set(slot, f.record);
                self.envelopes.set(slot, env);
                self.versions.set(slot, version);
                self.tree.update(slot as u32, Some(env));
                Ok((slot, Some(old)))
            }
            None => {
                let slot = self.slots();
                self.shapes.push(&f.geometry).map_err(|_| empty())?;
                self.records.push(f.record);
                self.envelopes.push(env);
                self.versions.push(version);
                self.live.push(true);
                self.live_count += 1;
                Arc::make_mut(&mut self.added).insert(Str::new(&id), slot as u32);
                self.tree.update(slot as u32, Some(env));
                Ok((slot, None))
            }
        }
    }

    /// Removes feature `id`; returns its slot and the feature, `None` when there is none.
    pub fn remove(&mut self, id: &str) -> Option<(usize, Feature<R>)> {
        let slot = self.index_of(id)?;
        let old = self.get(slot).to_feature();
        self.live.set(slot, false);
        self.live_count -= 1;
        let dead = Arc::make_mut(&mut self.dead);
        let at = dead.partition_point(|&d| (d as usize) < slot);
        dead.insert(at, slot as u32);
        Arc::make_mut(&mut self.added).remove(id);
        self.tree.update(slot as u32, None);
        Some((slot, old))
    }

    /// Coordinates stored (for memory reports).
    pub fn shapes_coords(&self) -> usize {
        self.shapes.coordinate_count()
    }

    /// Whether the spatial index's overlay calls for a new base ([`Layer::compaction`]).
    pub fn compaction_due(&self) -> bool {
        self.tree.compaction_due()
    }

    /// Entries in the spatial index's overlay.
    pub fn overlay_len(&self) -> usize {
        self.tree.overlay_len()
    }

    /// A new base for this layer's spatial index and id index, built from every live
    /// feature (the slow part of a compaction, off the write path: O(n log n)).
    pub fn compaction(&self) -> Compaction {
        let tree = SpatialIndex::compacted(
            self.live_slots()
                .map(|s| Entry::new(self.envelope(s), s as u32))
                .collect(),
        );
        let mut by_id: Vec<u32> = self.live_slots().map(|s| s as u32).collect();
        by_id.sort_by(|&a, &b| {
            self.records
                .get(a as usize)
                .id()
                .cmp(self.records.get(b as usize).id())
        });
        Compaction {
            tree,
            by_id: Arc::new(by_id),
            slots: self.slots(),
            live: self.live.clone(),
            envelopes: self.envelopes.clone(),
        }
    }

    /// This layer on the new base `c` (made from an earlier version of it): the changes
    /// since that version stay in the overlay, all the others are in the base. O(overlay).
    pub fn compacted(&self, c: &Compaction) -> Layer<R> {
        let mut next = self.clone();
        next.tree = self.tree.rebased(&c.tree, |s| {
            let s = s as usize;
            s >= c.slots
                || *c.live.get(s) != self.is_live(s)
                || (self.is_live(s) && *c.envelopes.get(s) != self.envelope(s))
        });
        next.by_id = Arc::clone(&c.by_id);
        next.added = Arc::new(
            self.added
                .iter()
                .filter(|(_, &s)| s as usize >= c.slots)
                .map(|(k, &s)| (*k, s))
                .collect(),
        );
        next
    }
}

/// A layer's spatial and id indexes rebuilt at one version ([`Layer::compaction`]).
pub struct Compaction {
    tree: SpatialIndex,
    by_id: Arc<Vec<u32>>,
    /// Slots, liveness and envelopes at that version.
    slots: usize,
    live: PVec<bool>,
    envelopes: PVec<Envelope>,
}

/// Distance from `p` to a stored geometry (0 inside a polygon).
pub fn distance(shape: Shape<'_>, p: Coord<f64>) -> f64 {
    use super::shapes::Kind;
    if matches!(shape.kind, Kind::Point | Kind::MultiPoint) {
        return shape
            .coords()
            .iter()
            .map(|c| (c.x - p.x).hypot(c.y - p.y))
            .fold(f64::INFINITY, f64::min);
    }
    if shape_contains(shape, (p.x, p.y)) {
        return 0.0;
    }
    let mut best = f64::INFINITY;
    for part in shape.parts() {
        for ring in part.rings() {
            for w in ring.windows(2) {
                best = best.min(segment_distance(p, w[0], w[1]));
            }
        }
    }
    best
}

fn segment_distance(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (a.x + t * dx - p.x).hypot(a.y + t * dy - p.y)
}
