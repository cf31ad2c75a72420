//! Polygons prepared for point-in-polygon tests.

use geo::Geometry;

use super::Layer;
use crate::model::Record;

/// Whether point (x, y) is inside `ring` (ray crossing; boundary points may fall either way).
fn ring_contains(pts: &[geo::Coord<f64>], x: f64, y: f64) -> bool {
    let n = pts.len();
    if n < 3 {
        return false;
    }
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (pts[i], pts[j]);
        if (a.y > y) != (b.y > y) && x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Point in (multi)polygon by ray crossing: inside an exterior ring and none of its holes.
/// Boundary points may fall either way: callers fall back on [`assign_site`] when it says no.
pub fn contains_point(g: &Geometry<f64>, (x, y): (f64, f64)) -> bool {
    let poly = |p: &geo::Polygon<f64>| {
        ring_contains(&p.exterior().0, x, y)
            && !p.interiors().iter().any(|h| ring_contains(&h.0, x, y))
    };
    match g {
        Geometry::Polygon(p) => poly(p),
        Geometry::MultiPolygon(mp) => mp.0.iter().any(poly),
        _ => false,
    }
}

/// The rings of every polygon of a layer copied into one buffer, a prepared form for point
/// tests: testing thousands of plots against their sites reads contiguous memory instead of
/// chasing each site's geometry. Built with the read model, like the R-trees.
#[derive(Clone, Debug, Default)]
pub struct Rings {
    pts: Vec<geo::Coord<f64>>,
    /// (first point, end point, is an exterior ring): a polygon is an exterior ring followed
    /// by its holes.
    rings: Vec<(u32, u32, bool)>,
    /// The rings of site `s` are `rings[site_start[s]..site_start[s + 1]]`.
    site_start: Vec<u32>,
}

impl Rings {
    pub fn new<R: Record>(layer: &Layer<R>) -> Rings {
        let mut r = Rings {
            pts: Vec::new(),
            rings: Vec::new(),
            site_start: Vec::with_capacity(layer.len() + 1),
        };
        let push = |r: &mut Rings, ring: &geo::LineString<f64>, exterior: bool| {
            let start = r.pts.len() as u32;
            r.pts.extend_from_slice(&ring.0);
            r.rings.push((start, r.pts.len() as u32, exterior));
        };
        let polygon = |r: &mut Rings, p: &geo::Polygon<f64>| {
            push(r, p.exterior(), true);
            for h in p.interiors() {
                push(r, h, false);
            }
        };
        for f in layer.features() {
            r.site_start.push(r.rings.len() as u32);
            match &f.geometry {
                Geometry::Polygon(p) => polygon(&mut r, p),
                Geometry::MultiPolygon(mp) => mp.0.iter().for_each(|p| polygon(&mut r, p)),
                _ => {}
            }
        }
        r.site_start.push(r.rings.len() as u32);
        r
    }

    /// [`contains_point`] on feature `site`'s copied rings.
    pub fn contains(&self, site: usize, (x, y): (f64, f64)) -> bool {
        let rings = &self.rings[self.site_start[site] as usize..self.site_start[site + 1] as usize];
        // Per polygon: inside its exterior and outside each of its holes.
        let mut inside_polygon = false;
        for &(a, b, exterior) in rings {
            if exterior {
                if inside_polygon {
                    return true;
                }
                inside_polygon = ring_contains(&self.pts[a as usize..b as usize], x, y);
            } else if inside_polygon && ring_contains(&self.pts[a as usize..b as usize], x, y) {
                inside_polygon = false;
            }
        }
        inside_polygon
    }
}

#[cfg(test)]
mod tests {
    use geo::{Contains, Coord, LineString, MultiPolygon, Point, Polygon};
    use proptest::prelude::*;

    use super::*;
    use crate::model::{Feature, Pole};

    fn square(x0: f64, y0: f64, side: f64) -> LineString<f64> {
        LineString::from(vec![
            (x0, y0),
            (x0 + side, y0),
            (x0 + side, y0 + side),
            (x0, y0 + side),
            (x0, y0),
        ])
    }

    /// A layer of one square with a hole, and one multipolygon of two parts, the second
    /// one with a hole.
    fn shapes() -> Vec<Geometry<f64>> {
        vec![
            Geometry::Polygon(Polygon::new(
                square(0.0, 0.0, 100.0),
                vec![square(20.0, 20.0, 30.0)],
            )),
            Geometry::MultiPolygon(MultiPolygon(vec![
                Polygon::new(square(200.0, 0.0, 50.0), vec![]),
                Polygon::new(square(300.0, 0.0, 80.0), vec![square(310.0, 10.0, 20.0)]),
            ])),
        ]
    }

    fn pole(i: usize) -> Pole {
        serde_json::from_value(serde_json::json!({
            "pole_id": format!("P{i}"), "pole_nom": "", "pole_vocadomi": "", "pole_identif_date": "2026-01-01", "pole_surface": 0.0
        }))
        .unwrap()
    }

    proptest! {
        /// The prepared rings answer as `geo` does, holes and parts included.
        #[test]
        fn rings_agree_with_geo(x in -10.0f64..400.0, y in -10.0f64..110.0) {
            let features: Vec<Feature<Pole>> = shapes()
                .into_iter()
                .enumerate()
                .map(|(i, g)| Feature { record: pole(i), geometry: g })
                .collect();
            let layer = Layer::new(features).unwrap();
            let rings = Rings::new(&layer);
            for (i, f) in layer.features().iter().enumerate() {
                let expected = f.geometry.contains(&Point(Coord { x, y }));
                prop_assert_eq!(rings.contains(i, (x, y)), expected);
                prop_assert_eq!(contains_point(&f.geometry, (x, y)), expected);
            }
        }
    }
}
