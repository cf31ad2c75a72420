//! Property tests: what the R-tree answers equals a brute-force scan, in-process and over
//! HTTP, for bboxes in CRS84 and in Lambert-93.

mod common;

use common::{get, model};
use ecofoncier::crs::{self, Crs};
use ecofoncier::read_model::Collection;
use geo::{Coord, Intersects, LineString, Polygon};
use proptest::prelude::*;

/// Brute force: every feature of the collection whose geometry intersects `area`.
fn brute(index: &dyn Collection, area: &Polygon<f64>) -> Vec<usize> {
    index
        .live_slots()
        .filter(|&i| index.geometry(i).intersects(area))
        .collect()
}

fn l93_rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    Polygon::new(
        LineString(vec![
            Coord { x: x0, y: y0 },
            Coord { x: x1, y: y0 },
            Coord { x: x1, y: y1 },
            Coord { x: x0, y: y1 },
            Coord { x: x0, y: y0 },
        ]),
        vec![],
    )
}

/// Ids served for a bbox query, all pages.
fn served_ids(collection: &str, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut offset = 0;
    loop {
        let doc = get(&format!(
            "/ogc/collections/{collection}/items?{query}&limit=10000&offset={offset}"
        ))
        .json();
        let feats = doc["features"].as_array().expect("features");
        ids.extend(feats.iter().map(|f| f["id"].as_str().unwrap().to_string()));
        offset += feats.len();
        if feats.is_empty() || offset as u64 >= doc["numberMatched"].as_u64().unwrap() {
            break;
        }
    }
    ids
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// In-process: the R-tree query equals the scan for every layer.
    #[test]
    fn rtree_equals_brute_force(
        x in 600_000.0f64..760_000.0, y in 6_880_000.0f64..7_110_000.0,
        w in 10.0f64..30_000.0, h in 10.0f64..30_000.0,
    ) {
        let area = l93_rect(x, y, x + w, y + h);
        let m = model();
        for index in m.collections() {
            prop_assert_eq!(index.intersecting(&area), brute(index, &area), "{}", index.about().id);
        }
    }

    /// Over HTTP: a CRS84 bbox returns exactly the scan over its projected outline.
    #[test]
    fn http_crs84_bbox_equals_brute_force(
        lon in 1.6f64..4.2, lat in 49.0f64..51.0, dw in 0.002f64..0.15, dh in 0.002f64..0.1,
    ) {
        let (lon1, lat1) = (lon + dw, lat + dh);
        let m = model();
        for id in ["terrains", "etablissements", "sites", "communes"] {
            let served = served_ids(id, &format!("bbox={lon},{lat},{lon1},{lat1}"));
            // The same outline the service builds: 16 points an edge, projected.
            let corners = [(lon, lat), (lon1, lat), (lon1, lat1), (lon, lat1), (lon, lat)];
            let mut ring = Vec::new();
            for w in corners.windows(2) {
                for k in 0..16 {
                    let t = k as f64 / 16.0;
                    let (a, b) = (w[0].0 + (w[1].0 - w[0].0) * t, w[0].1 + (w[1].1 - w[0].1) * t);
                    let (x, y) = crs::to_l93(Crs::Crs84, a, b).unwrap();
                    ring.push(Coord { x, y });
                }
            }
            ring.push(ring[0]);
            let area = Polygon::new(LineString(ring), vec![]);
            let index = m.collection(id).unwrap();
            let expected: Vec<String> = brute(index, &area).into_iter().map(|i| index.id(i).to_string()).collect();
            prop_assert_eq!(served, expected, "{}", id);
        }
    }

    /// Over HTTP: a Lambert-93 bbox returns exactly the scan over that rectangle.
    #[test]
    fn http_lambert93_bbox_equals_brute_force(
        x in 600_000.0f64..760_000.0, y in 6_880_000.0f64..7_110_000.0,
        w in 50.0f64..8_000.0, h in 50.0f64..8_000.0,
    ) {
        let m = model();
        let area = l93_rect(x, y, x + w, y + h);
        let q = format!(
            "bbox={x},{y},{},{}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2154",
            x + w,
            y + h
        );
        for id in ["terrains", "locaux-commerciaux"] {
            let index = m.collection(id).unwrap();
            let expected: Vec<String> = brute(index, &area).into_iter().map(|i| index.id(i).to_string()).collect();
            prop_assert_eq!(served_ids(id, &q), expected, "{}", id);
        }
    }
}

/// Nearest-neighbour answers equal a sort of every feature by its true distance.
#[test]
fn nearest_equals_sorted_brute_force() {
    use geo::{Distance, Euclidean, Point};
    let m = model();
    for (x, y) in [
        (652_000.0, 6_862_000.0),
        (700_500.0, 7_050_000.0),
        (610_000.0, 6_950_000.0),
    ] {
        let got: Vec<(usize, f64)> = m.sites.nearest(x, y).take(25).collect();
        let mut all: Vec<(usize, f64)> = m
            .sites
            .iter()
            .enumerate()
            .map(|(i, f)| (i, Euclidean.distance(&Point::new(x, y), &f.geometry())))
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1));
        for (g, e) in got.iter().zip(&all) {
            assert!(
                (g.1 - e.1).abs() < 1e-6,
                "distance order differs: {g:?} vs {e:?}"
            );
        }
    }
}
