//! Point-in-polygon tests by ray crossing, on `geo` polygons and on stored shapes.

use geo::Geometry;

use super::shapes::{Kind, Shape};

/// Whether point (x, y) is inside `ring` (ray crossing; boundary points may fall either way).
pub fn ring_contains(pts: &[geo::Coord<f64>], x: f64, y: f64) -> bool {
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
/// Boundary points may fall either way: callers fall back on [`crate::metrics::occupancy::assign_site`] when it says no.
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

/// [`contains_point`] on a stored shape, reading its rings where they lie (the layer's
/// flat coordinate buffer): the plot→site join tests thousands of plots this way without
/// making a `geo` polygon.
pub fn shape_contains(shape: Shape<'_>, (x, y): (f64, f64)) -> bool {
    if !matches!(shape.kind, Kind::Polygon | Kind::MultiPolygon) {
        return false;
    }
    shape.parts().any(|p| {
        let mut rings = p.rings();
        rings.next().is_some_and(|ext| ring_contains(ext, x, y))
            && !rings.any(|hole| ring_contains(hole, x, y))
    })
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
        /// Stored shapes answer as `geo` does, holes and parts included.
        #[test]
        fn shapes_agree_with_geo(x in -10.0f64..400.0, y in -10.0f64..110.0) {
            let features: Vec<Feature<Pole>> = shapes()
                .into_iter()
                .enumerate()
                .map(|(i, g)| Feature { record: pole(i), geometry: g })
                .collect();
            let layer = crate::read_model::Layer::new(features).unwrap();
            for f in layer.iter() {
                let g = f.geometry();
                let expected = g.contains(&Point(Coord { x, y }));
                prop_assert_eq!(shape_contains(f.shape, (x, y)), expected);
                prop_assert_eq!(contains_point(&g, (x, y)), expected);
            }
        }
    }
}
