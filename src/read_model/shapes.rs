//! Geometry stored once, flat: each chunk of [`CHUNK`] features keeps its coordinates in
//! one buffer with the ends of its rings, parts and features beside it. The R-trees keep
//! only envelopes and feature numbers, and the metrics, the tiles and the GeoJSON writer
//! read rings straight from these buffers ([`Shape`]); a `geo` geometry is made only where
//! an algorithm of `geo` needs one ([`Shape::to_geometry`]).
//!
//! Chunks are shared between read-model versions like [`super::pvec::PVec`]'s: replacing a
//! feature's geometry copies one chunk.

use std::sync::Arc;

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

use super::pvec::{CHUNK, CHUNK_BITS};

/// The GeoJSON type of a stored geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Point,
    MultiPoint,
    LineString,
    MultiLineString,
    Polygon,
    MultiPolygon,
}

impl Kind {
    pub fn geojson_type(self) -> &'static str {
        match self {
            Kind::Point => "Point",
            Kind::MultiPoint => "MultiPoint",
            Kind::LineString => "LineString",
            Kind::MultiLineString => "MultiLineString",
            Kind::Polygon => "Polygon",
            Kind::MultiPolygon => "MultiPolygon",
        }
    }
}

/// Why a geometry cannot be stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapeError {
    #[error("empty geometry")]
    Empty,
    #[error("geometry collections are not stored")]
    Collection,
}

/// The flat geometry of up to [`CHUNK`] features.
#[derive(Clone, Debug, Default)]
struct Chunk {
    coords: Vec<Coord<f64>>,
    /// End (exclusive) of each ring in `coords`.
    rings: Vec<u32>,
    /// End of each part (polygon, or the one sequence of a point or line) in `rings`.
    parts: Vec<u32>,
    /// End of each feature in `parts`.
    features: Vec<u32>,
    kinds: Vec<Kind>,
}

impl Chunk {
    fn start(v: &[u32], i: usize) -> u32 {
        if i == 0 {
            0
        } else {
            v[i - 1]
        }
    }

    /// Appends `g`'s rings, parts and feature.
    fn push(&mut self, g: &Geometry<f64>) -> Result<(), ShapeError> {
        let mut kind_parts: Vec<Vec<&[Coord<f64>]>> = Vec::new();
        let one: Vec<Coord<f64>>;
        let kind = match g {
            Geometry::Point(p) => {
                one = vec![p.0];
                kind_parts.push(vec![&one]);
                Kind::Point
            }
            Geometry::MultiPoint(mp) => {
                one = mp.0.iter().map(|p| p.0).collect();
                kind_parts.push(vec![&one]);
                Kind::MultiPoint
            }
            Geometry::LineString(l) => {
                kind_parts.push(vec![&l.0]);
                Kind::LineString
            }
            Geometry::MultiLineString(m) => {
                kind_parts.push(m.0.iter().map(|l| l.0.as_slice()).collect());
                Kind::MultiLineString
            }
            Geometry::Polygon(p) => {
                kind_parts.push(polygon_rings(p));
                Kind::Polygon
            }
            Geometry::MultiPolygon(m) => {
                for p in &m.0 {
                    kind_parts.push(polygon_rings(p));
                }
                Kind::MultiPolygon
            }
            Geometry::Rect(r) => return self.push(&Geometry::Polygon(r.to_polygon())),
            Geometry::Triangle(t) => return self.push(&Geometry::Polygon(t.to_polygon())),
            Geometry::Line(l) => {
                return self.push(&Geometry::LineString(LineString(vec![l.start, l.end])))
            }
            Geometry::GeometryCollection(_) => return Err(ShapeError::Collection),
        };
        if kind_parts.iter().all(|p| p.iter().all(|r| r.is_empty())) {
            return Err(ShapeError::Empty);
        }
        for part in kind_parts {
            for ring in part {
                self.coords.extend_from_slice(ring);
                self.rings.push(self.coords.len() as u32);
            }
            self.parts.push(self.rings.len() as u32);
        }
        self.features.push(self.parts.len() as u32);
        self.kinds.push(kind);
        Ok(())
    }

    /// Feature `j` replaced by `g`: the chunk rebuilt around it.
    fn replaced(&self, j: usize, g: &Geometry<f64>) -> Result<Chunk, ShapeError> {
        let mut mid = Chunk::default();
        mid.push(g)?;
        let (pa, pb) = (
            Chunk::start(&self.features, j) as usize,
            self.features[j] as usize,
        );
        let (ra, rb) = (
            Chunk::start(&self.parts, pa) as usize,
            Chunk::start(&self.parts, pb) as usize,
        );
        let (ca, cb) = (
            Chunk::start(&self.rings, ra) as usize,
            Chunk::start(&self.rings, rb) as usize,
        );
        let dc = mid.coords.len() as i64 - (cb - ca) as i64;
        let dr = mid.rings.len() as i64 - (rb - ra) as i64;
        let dp = mid.parts.len() as i64 - (pb - pa) as i64;
        let shift = |v: u32, d: i64| (v as i64 + d) as u32;
        let mut out = Chunk {
            coords: Vec::with_capacity((self.coords.len() as i64 + dc) as usize),
            rings: Vec::with_capacity((self.rings.len() as i64 + dr) as usize),
            parts: Vec::with_capacity((self.parts.len() as i64 + dp) as usize),
            features: Vec::with_capacity(self.features.len()),
            kinds: self.kinds.clone(),
        };
        out.coords.extend_from_slice(&self.coords[..ca]);
        out.coords.extend_from_slice(&mid.coords);
        out.coords.extend_from_slice(&self.coords[cb..]);
        out.rings.extend_from_slice(&self.rings[..ra]);
        out.rings.extend(mid.rings.iter().map(|&e| e + ca as u32));
        out.rings
            .extend(self.rings[rb..].iter().map(|&e| shift(e, dc)));
        out.parts.extend_from_slice(&self.parts[..pa]);
        out.parts.extend(mid.parts.iter().map(|&e| e + ra as u32));
        out.parts
            .extend(self.parts[pb..].iter().map(|&e| shift(e, dr)));
        out.features.extend_from_slice(&self.features[..j]);
        out.features.push(pa as u32 + mid.parts.len() as u32);
        out.features
            .extend(self.features[j + 1..].iter().map(|&e| shift(e, dp)));
        out.kinds[j] = mid.kinds[0];
        Ok(out)
    }
}

fn polygon_rings(p: &Polygon<f64>) -> Vec<&[Coord<f64>]> {
    std::iter::once(p.exterior())
        .chain(p.interiors())
        .map(|r| r.0.as_slice())
        .collect()
}

/// The geometries of a layer, by feature number.
#[derive(Clone, Debug, Default)]
pub struct Shapes {
    chunks: Vec<Arc<Chunk>>,
    len: usize,
}

impl Shapes {
    /// Stores `geometries` in order.
    pub fn new<'a>(
        geometries: impl IntoIterator<Item = &'a Geometry<f64>>,
    ) -> Result<Shapes, (usize, ShapeError)> {
        let mut s = Shapes::default();
        for (i, g) in geometries.into_iter().enumerate() {
            s.push(g).map_err(|e| (i, e))?;
        }
        Ok(s)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a geometry.
    pub fn push(&mut self, g: &Geometry<f64>) -> Result<(), ShapeError> {
        if self.len.is_multiple_of(CHUNK) {
            let mut c = Chunk::default();
            c.push(g)?;
            self.chunks.push(Arc::new(c));
        } else {
            let last = self.chunks.last_mut().expect("a partial chunk");
            // `Chunk::push` checks the geometry before it changes anything.
            Arc::make_mut(last).push(g)?;
        }
        self.len += 1;
        Ok(())
    }

    /// Replaces geometry `i` (its chunk copied).
    pub fn set(&mut self, i: usize, g: &Geometry<f64>) -> Result<(), ShapeError> {
        assert!(i < self.len, "shape {i} out of {}", self.len);
        let c = &mut self.chunks[i >> CHUNK_BITS];
        *c = Arc::new(c.replaced(i & (CHUNK - 1), g)?);
        Ok(())
    }

    /// Geometry `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Shape<'_> {
        let chunk = &self.chunks[i >> CHUNK_BITS];
        let j = i & (CHUNK - 1);
        Shape {
            kind: chunk.kinds[j],
            chunk,
            parts: (Chunk::start(&chunk.features, j), chunk.features[j]),
        }
    }

    /// Coordinates stored (for memory reports).
    pub fn coordinate_count(&self) -> usize {
        self.chunks.iter().map(|c| c.coords.len()).sum()
    }
}

/// One stored geometry, borrowed from its chunk.
#[derive(Clone, Copy, Debug)]
pub struct Shape<'a> {
    pub kind: Kind,
    chunk: &'a Chunk,
    /// First and end part.
    parts: (u32, u32),
}

/// One part of a shape: a polygon (outer ring, then holes), or the one coordinate sequence
/// of a point, multipoint or line.
#[derive(Clone, Copy, Debug)]
pub struct Part<'a> {
    chunk: &'a Chunk,
    /// First and end ring.
    rings: (u32, u32),
}

impl<'a> Part<'a> {
    /// The rings of the part (a polygon's exterior first).
    pub fn rings(self) -> impl ExactSizeIterator<Item = &'a [Coord<f64>]> + 'a {
        let c = self.chunk;
        (self.rings.0..self.rings.1).map(move |r| {
            let a = Chunk::start(&c.rings, r as usize) as usize;
            &c.coords[a..c.rings[r as usize] as usize]
        })
    }

    /// The first ring (a polygon's exterior).
    pub fn exterior(self) -> &'a [Coord<f64>] {
        self.rings().next().unwrap_or(&[])
    }
}

impl<'a> Shape<'a> {
    /// The parts (polygons of a multipolygon; one part otherwise).
    pub fn parts(self) -> impl ExactSizeIterator<Item = Part<'a>> + 'a {
        let c = self.chunk;
        (self.parts.0..self.parts.1).map(move |p| Part {
            chunk: c,
            rings: (Chunk::start(&c.parts, p as usize), c.parts[p as usize]),
        })
    }

    /// Every coordinate, ring after ring.
    pub fn coords(self) -> &'a [Coord<f64>] {
        let c = self.chunk;
        let r0 = Chunk::start(&c.parts, self.parts.0 as usize) as usize;
        let r1 = Chunk::start(&c.parts, self.parts.1 as usize) as usize;
        let a = Chunk::start(&c.rings, r0) as usize;
        let b = Chunk::start(&c.rings, r1) as usize;
        &c.coords[a..b]
    }

    /// The point of a point geometry (else the first coordinate).
    pub fn first(self) -> Coord<f64> {
        self.coords()[0]
    }

    /// Envelope `[min x, min y, max x, max y]`.
    pub fn envelope(self) -> [f64; 4] {
        let mut e = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for c in self.coords() {
            e[0] = e[0].min(c.x);
            e[1] = e[1].min(c.y);
            e[2] = e[2].max(c.x);
            e[3] = e[3].max(c.y);
        }
        e
    }

    /// The `geo` geometry (allocated).
    pub fn to_geometry(self) -> Geometry<f64> {
        let line = |r: &[Coord<f64>]| LineString(r.to_vec());
        let polygon = |p: Part| {
            let mut rings = p.rings();
            let ext = rings.next().map(line).unwrap_or_else(|| LineString(vec![]));
            Polygon::new(ext, rings.map(line).collect())
        };
        match self.kind {
            Kind::Point => Geometry::Point(Point(self.first())),
            Kind::MultiPoint => Geometry::MultiPoint(MultiPoint(
                self.coords().iter().map(|&c| Point(c)).collect(),
            )),
            Kind::LineString => Geometry::LineString(line(self.coords())),
            Kind::MultiLineString => Geometry::MultiLineString(MultiLineString(
                self.parts().flat_map(|p| p.rings()).map(line).collect(),
            )),
            Kind::Polygon => Geometry::Polygon(
                self.parts()
                    .next()
                    .map(polygon)
                    .unwrap_or_else(|| Polygon::new(LineString(vec![]), vec![])),
            ),
            Kind::MultiPolygon => {
                Geometry::MultiPolygon(MultiPolygon(self.parts().map(polygon).collect()))
            }
        }
    }

    /// The centroid, as `geo` computes it: area-weighted over the polygons (holes taken
    /// out), the mean of the points of a (multi)point; `None` when empty.
    pub fn centroid(self) -> Option<Coord<f64>> {
        use geo::Centroid;
        match self.kind {
            Kind::Point => return Some(self.first()),
            Kind::MultiPoint => {
                let cs = self.coords();
                let n = cs.len() as f64;
                let (x, y) = cs.iter().fold((0.0, 0.0), |a, c| (a.0 + c.x, a.1 + c.y));
                return (n > 0.0).then(|| Coord { x: x / n, y: y / n });
            }
            Kind::LineString | Kind::MultiLineString => {
                return self.to_geometry().centroid().map(|p| p.0)
            }
            Kind::Polygon | Kind::MultiPolygon => {}
        }
        // Each ring's signed area and first moments by the shoelace formula, taken about the
        // shape's first vertex to keep Lambert-93's large coordinates from eating precision.
        let o = *self.coords().first()?;
        let (mut area, mut mx, mut my) = (0.0, 0.0, 0.0);
        for part in self.parts() {
            for (k, ring) in part.rings().enumerate() {
                let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
                for w in ring.windows(2) {
                    let (x0, y0, x1, y1) = (w[0].x - o.x, w[0].y - o.y, w[1].x - o.x, w[1].y - o.y);
                    let cross = x0 * y1 - x1 * y0;
                    a += cross;
                    cx += (x0 + x1) * cross;
                    cy += (y0 + y1) * cross;
                }
                if a == 0.0 {
                    continue;
                }
                // The exterior adds, holes take away, whatever their winding.
                let sign = if k == 0 { 1.0 } else { -1.0 } * a.signum();
                area += sign * a / 2.0;
                mx += sign * cx / 6.0;
                my += sign * cy / 6.0;
            }
        }
        if area == 0.0 {
            return self.to_geometry().centroid().map(|p| p.0);
        }
        Some(Coord {
            x: o.x + mx / area,
            y: o.y + my / area,
        })
    }

    /// The polygons of a polygonal shape (none for points and lines).
    pub fn to_multipolygon(self) -> MultiPolygon<f64> {
        match self.to_geometry() {
            Geometry::Polygon(p) => MultiPolygon(vec![p]),
            Geometry::MultiPolygon(m) => m,
            _ => MultiPolygon(vec![]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{point, polygon};

    #[test]
    fn stores_and_replaces_every_kind() {
        let square = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.), (x: 0., y: 0.)];
        let holed = Polygon::new(
            square.exterior().clone(),
            vec![LineString::from(vec![
                (1., 1.),
                (2., 1.),
                (2., 2.),
                (1., 1.),
            ])],
        );
        let geoms: Vec<Geometry<f64>> = vec![
            Geometry::Point(point!(x: 5., y: 6.)),
            Geometry::Polygon(holed.clone()),
            Geometry::MultiPolygon(MultiPolygon(vec![square.clone(), holed.clone()])),
            Geometry::MultiPoint(MultiPoint(vec![point!(x: 1., y: 2.), point!(x: 3., y: 4.)])),
        ];
        let mut all: Vec<Geometry<f64>> = (0..CHUNK + 10).map(|i| geoms[i % 4].clone()).collect();
        let mut s = Shapes::new(&all).unwrap();
        for (i, g) in all.iter().enumerate() {
            assert_eq!(&s.get(i).to_geometry(), g, "{i}");
        }
        assert_eq!(s.get(0).envelope(), [5., 6., 5., 6.]);
        assert_eq!(s.get(1).parts().next().unwrap().rings().len(), 2);
        // Replacing grows and shrinks the chunk; the features after it move.
        let before = s.clone();
        s.set(1, &geoms[2]).unwrap();
        s.set(2, &geoms[0]).unwrap();
        all[1] = geoms[2].clone();
        all[2] = geoms[0].clone();
        for (i, g) in all.iter().enumerate() {
            assert_eq!(&s.get(i).to_geometry(), g, "{i}");
        }
        assert_eq!(before.get(1).to_geometry(), geoms[1]);
        assert!(Arc::ptr_eq(&before.chunks[1], &s.chunks[1]));
        assert_eq!(
            s.push(&Geometry::Polygon(Polygon::new(LineString(vec![]), vec![]))),
            Err(ShapeError::Empty)
        );
        assert_eq!(s.len(), CHUNK + 10);
    }

    #[test]
    fn centroids_as_geo() {
        use geo::Centroid;
        let ring = |pts: &[(f64, f64)]| LineString::from(pts.to_vec());
        let geoms = vec![
            Geometry::Polygon(Polygon::new(
                ring(&[
                    (700_000., 6_900_000.),
                    (700_090., 6_900_010.),
                    (700_100., 6_900_100.),
                    (699_990., 6_900_080.),
                    (700_000., 6_900_000.),
                ]),
                vec![ring(&[
                    (700_020., 6_900_020.),
                    (700_020., 6_900_040.),
                    (700_040., 6_900_040.),
                    (700_020., 6_900_020.),
                ])],
            )),
            Geometry::MultiPolygon(MultiPolygon(vec![
                Polygon::new(ring(&[(0., 0.), (10., 0.), (10., 10.), (0., 0.)]), vec![]),
                Polygon::new(
                    ring(&[(20., 0.), (20., 30.), (50., 30.), (20., 0.)]),
                    vec![],
                ),
            ])),
            Geometry::MultiPoint(MultiPoint(vec![point!(x: 1., y: 2.), point!(x: 3., y: 8.)])),
        ];
        let s = Shapes::new(&geoms).unwrap();
        for (i, g) in geoms.iter().enumerate() {
            let want = g.centroid().unwrap().0;
            let got = s.get(i).centroid().unwrap();
            assert!(
                (want.x - got.x).abs() < 1e-6 && (want.y - got.y).abs() < 1e-6,
                "{i}: {want:?} {got:?}"
            );
        }
    }
}
