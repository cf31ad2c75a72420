//! A layer's spatial index under edits: an R-tree bulk-loaded with the envelopes of the
//! features (a base, shared by every version built on it), the features whose base entry no
//! longer holds, and an overlay of the envelopes written since. A query asks the base,
//! drops what the overlay shadows and adds the overlay's own matches; an edit copies only
//! the overlay. When the overlay grows past [`SpatialIndex::compaction_due`] a new base is
//! built from every live envelope ([`SpatialIndex::compacted`]), off the write path.
//!
//! Entries hold an envelope and a feature number, nothing else: the geometry lives once,
//! in the layer's [`super::shapes::Shapes`]. Nearest-neighbour queries rank candidates by
//! envelope distance (a lower bound) and refine them with the true distance before
//! yielding them ([`Nearest`]).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::Arc;

use rstar::{Envelope as _, PointDistance, RTree, RTreeObject, AABB};
use rustc_hash::FxHashSet;

/// An envelope `[min x, min y, max x, max y]`.
pub type Envelope = [f64; 4];

/// An R-tree entry: a feature's envelope and number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    pub envelope: AABB<[f64; 2]>,
    pub slot: u32,
}

impl Entry {
    pub fn new(e: Envelope, slot: u32) -> Entry {
        Entry {
            envelope: AABB::from_corners([e[0], e[1]], [e[2], e[3]]),
            slot,
        }
    }
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PointDistance for Entry {
    /// Squared distance to the envelope: a lower bound of the distance to the geometry.
    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        self.envelope.distance_2(point)
    }
}

/// The spatial index of one version of a layer.
#[derive(Clone, Debug, Default)]
pub struct SpatialIndex {
    base: Arc<RTree<Entry>>,
    /// Features whose base entry is outdated (moved or removed since the base was built).
    shadowed: Arc<FxHashSet<u32>>,
    /// The current envelopes of the features written since the base was built.
    overlay: Arc<Vec<Entry>>,
}

impl SpatialIndex {
    /// A base over `entries` (sort-tile-recursive bulk load).
    pub fn new(entries: Vec<Entry>) -> SpatialIndex {
        SpatialIndex {
            base: Arc::new(RTree::bulk_load(entries)),
            shadowed: Default::default(),
            overlay: Default::default(),
        }
    }

    /// Feature `slot` now has envelope `envelope` (`None`: it was removed).
    pub fn update(&mut self, slot: u32, envelope: Option<Envelope>) {
        Arc::make_mut(&mut self.shadowed).insert(slot);
        let overlay = Arc::make_mut(&mut self.overlay);
        overlay.retain(|e| e.slot != slot);
        if let Some(e) = envelope {
            overlay.push(Entry::new(e, slot));
        }
    }

    /// Entries written since the base.
    pub fn overlay_len(&self) -> usize {
        self.overlay.len()
    }

    /// Whether the overlay is large enough that queries would gain from a new base
    /// (more than 4,096 entries, or 1/64 of the base).
    pub fn compaction_due(&self) -> bool {
        self.overlay.len() > 4_096.max(self.base.size() / 64)
    }

    /// A new base built from `live` (every live feature's entry at some version).
    pub fn compacted(live: Vec<Entry>) -> SpatialIndex {
        SpatialIndex::new(live)
    }

    /// `base`'s R-tree (built from an earlier version of the layer) with this index's
    /// changes since that version: of the features this index shadows, those for which
    /// `changed(slot)` is true keep their overlay entry (or their removal); the others are
    /// in the new base as they are now.
    pub fn rebased(&self, base: &SpatialIndex, changed: impl Fn(u32) -> bool) -> SpatialIndex {
        let shadowed: FxHashSet<u32> = self
            .shadowed
            .iter()
            .copied()
            .filter(|&s| changed(s))
            .collect();
        let overlay: Vec<Entry> = self
            .overlay
            .iter()
            .copied()
            .filter(|e| shadowed.contains(&e.slot))
            .collect();
        SpatialIndex {
            base: Arc::clone(&base.base),
            shadowed: Arc::new(shadowed),
            overlay: Arc::new(overlay),
        }
    }

    /// The slots this index shadows (changed since its base was built).
    pub fn shadowed(&self) -> impl Iterator<Item = u32> + '_ {
        self.shadowed.iter().copied()
    }

    /// The entries of the features whose envelope intersects `query`, unordered.
    pub fn intersecting(&self, query: &AABB<[f64; 2]>) -> impl Iterator<Item = u32> + '_ {
        let query = *query;
        let shadowed = &self.shadowed;
        self.base
            .locate_in_envelope_intersecting(&query)
            .filter(move |e| shadowed.is_empty() || !shadowed.contains(&e.slot))
            .chain(
                self.overlay
                    .iter()
                    .filter(move |e| e.envelope.intersects(&query)),
            )
            .map(|e| e.slot)
    }

    /// Features by increasing true distance from `point`: `distance(slot)` gives the true
    /// distance (metres, 0 inside) of a candidate whose envelope comes next.
    pub fn nearest<'a, F: Fn(u32) -> f64 + 'a>(
        &'a self,
        point: [f64; 2],
        distance: F,
    ) -> Nearest<'a, F> {
        let mut overlay: Vec<(f64, u32)> = self
            .overlay
            .iter()
            .map(|e| (e.envelope.distance_2(&point), e.slot))
            .collect();
        overlay.sort_by(|a, b| b.0.total_cmp(&a.0));
        Nearest {
            base: (Box::new(self.base.nearest_neighbor_iter_with_distance_2(&point))
                as Box<dyn Iterator<Item = (&'a Entry, f64)> + 'a>)
                .peekable(),
            shadowed: &self.shadowed,
            overlay,
            pending: BinaryHeap::new(),
            distance,
        }
    }
}

/// A candidate ranked by its true distance.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Ranked(f64, u32);

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

type BaseIter<'a> = std::iter::Peekable<Box<dyn Iterator<Item = (&'a Entry, f64)> + 'a>>;

/// The incremental nearest-neighbour walk of [`SpatialIndex::nearest`]: envelopes come out
/// of the base and the overlay by increasing distance; a candidate is yielded once no
/// unseen envelope can be nearer than its true distance.
pub struct Nearest<'a, F> {
    base: BaseIter<'a>,
    shadowed: &'a FxHashSet<u32>,
    /// Overlay candidates, farthest first (popped from the end).
    overlay: Vec<(f64, u32)>,
    pending: BinaryHeap<Reverse<Ranked>>,
    distance: F,
}

impl<F: Fn(u32) -> f64> Nearest<'_, F> {
    /// The squared envelope distance of the next unseen candidate.
    fn next_bound(&mut self) -> Option<f64> {
        while let Some((e, _)) = self.base.peek() {
            if self.shadowed.contains(&e.slot) {
                self.base.next();
            } else {
                break;
            }
        }
        let b = self.base.peek().map(|(_, d2)| *d2);
        let o = self.overlay.last().map(|(d2, _)| *d2);
        match (b, o) {
            (Some(b), Some(o)) => Some(b.min(o)),
            (b, o) => b.or(o),
        }
    }

    fn pull(&mut self) {
        let b = self.base.peek().map(|(_, d2)| *d2);
        let o = self.overlay.last().map(|(d2, _)| *d2);
        let slot = match (b, o) {
            (Some(b), Some(o)) if o < b => self.overlay.pop().map(|x| x.1),
            (None, Some(_)) => self.overlay.pop().map(|x| x.1),
            _ => self.base.next().map(|(e, _)| e.slot),
        };
        if let Some(s) = slot {
            let d = (self.distance)(s);
            self.pending.push(Reverse(Ranked(d, s)));
        }
    }
}

impl<F: Fn(u32) -> f64> Iterator for Nearest<'_, F> {
    /// (feature number, true distance).
    type Item = (u32, f64);
    fn next(&mut self) -> Option<(u32, f64)> {
        loop {
            let bound = self.next_bound();
            match (self.pending.peek(), bound) {
                (Some(Reverse(Ranked(d, _))), Some(b)) if d * d <= b => {}
                (Some(_), None) => {}
                (_, Some(_)) => {
                    self.pull();
                    continue;
                }
                (None, None) => return None,
            }
            return self.pending.pop().map(|Reverse(Ranked(d, s))| (s, d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_shadows_base_and_nearest_is_exact() {
        // Unit squares on a line; features are their squares, true distance to the square.
        let sq = |i: u32| [i as f64 * 10.0, 0.0, i as f64 * 10.0 + 1.0, 1.0];
        let mut idx = SpatialIndex::new((0..100).map(|i| Entry::new(sq(i), i)).collect());
        let mut where_: Vec<Option<Envelope>> = (0..100).map(|i| Some(sq(i))).collect();
        // Move 3 far away, remove 4, add 100 near the origin.
        idx.update(3, Some([500.0, 500.0, 501.0, 501.0]));
        where_[3] = Some([500.0, 500.0, 501.0, 501.0]);
        idx.update(4, None);
        where_[4] = None;
        idx.update(100, Some([2.0, 2.0, 3.0, 3.0]));
        where_.push(Some([2.0, 2.0, 3.0, 3.0]));
        let q = AABB::from_corners([15.0, -1.0], [45.0, 2.0]);
        let mut hits: Vec<u32> = idx.intersecting(&q).collect();
        hits.sort();
        assert_eq!(hits, vec![2]);
        let near_origin = AABB::from_corners([0.0, 0.0], [2.5, 2.5]);
        let mut hits: Vec<u32> = idx.intersecting(&near_origin).collect();
        hits.sort();
        assert_eq!(hits, vec![0, 100]);
        let dist = |s: u32, p: [f64; 2]| {
            where_[s as usize]
                .map(|e| {
                    let dx = (e[0] - p[0]).max(p[0] - e[2]).max(0.0);
                    let dy = (e[1] - p[1]).max(p[1] - e[3]).max(0.0);
                    dx.hypot(dy)
                })
                .unwrap_or(f64::INFINITY)
        };
        let p = [33.0, 0.5];
        let got: Vec<(u32, f64)> = idx.nearest(p, |s| dist(s, p)).collect();
        let mut want: Vec<(u32, f64)> = (0..101u32)
            .filter(|&s| where_[s as usize].is_some())
            .map(|s| (s, dist(s, p)))
            .collect();
        want.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        assert_eq!(got, want);
    }
}
