//! proj4rs against PROJ's `cs2cs` (Debian `proj-bin`): within 1 mm over a grid of points
//! covering Hauts-de-France, in both directions; and what the API serves and reads over
//! HTTP in CRS84, EPSG:4326 (latitude first) and EPSG:3857 against `cs2cs` too.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use ecofoncier::crs::{l93_to_lonlat, lonlat_to_l93};

/// Runs `cs2cs` on lines of input; returns its output lines as numbers.
fn cs2cs(args: &[&str], input: &str) -> Vec<Vec<f64>> {
    let mut child = Command::new("cs2cs")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cs2cs (Debian proj-bin) runs; .ci/run installs it");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().map(|t| t.parse().unwrap()).collect())
        .collect()
}

/// Metres per degree, for expressing angular differences as ground distance.
const M_PER_DEG_LAT: f64 = 111_200.0;

#[test]
fn forward_and_inverse_agree_with_cs2cs_within_1_mm() {
    // 21 × 21 grid over 1.3°E–4.4°E, 48.8°N–51.1°N.
    let mut pts = Vec::new();
    for i in 0..=20 {
        for j in 0..=20 {
            pts.push((1.3 + 3.1 * i as f64 / 20.0, 48.8 + 2.3 * j as f64 / 20.0));
        }
    }
    // Forward: EPSG:4326 (lat lon order for cs2cs) → EPSG:2154.
    let input: String = pts
        .iter()
        .map(|(lon, lat)| format!("{lat} {lon}\n"))
        .collect();
    let expected = cs2cs(&["-f", "%.6f", "EPSG:4326", "EPSG:2154"], &input);
    assert_eq!(expected.len(), pts.len());
    let mut worst_fwd: f64 = 0.0;
    let mut l93 = Vec::new();
    for ((lon, lat), e) in pts.iter().zip(&expected) {
        let (x, y) = lonlat_to_l93(*lon, *lat).unwrap();
        let d = (x - e[0]).hypot(y - e[1]);
        worst_fwd = worst_fwd.max(d);
        l93.push((e[0], e[1]));
    }
    // Inverse: EPSG:2154 → EPSG:4326 (lat lon).
    let input: String = l93.iter().map(|(x, y)| format!("{x} {y}\n")).collect();
    let expected = cs2cs(&["-f", "%.10f", "EPSG:2154", "EPSG:4326"], &input);
    let mut worst_inv: f64 = 0.0;
    for ((x, y), e) in l93.iter().zip(&expected) {
        let (lon, lat) = l93_to_lonlat(*x, *y).unwrap();
        let dlat = (lat - e[0]) * M_PER_DEG_LAT;
        let dlon = (lon - e[1]) * M_PER_DEG_LAT * lat.to_radians().cos();
        worst_inv = worst_inv.max(dlat.hypot(dlon));
    }
    println!(
        "proj4rs vs cs2cs over {} points: forward worst {:.6} m, inverse worst {:.6} m",
        pts.len(),
        worst_fwd,
        worst_inv
    );
    assert!(worst_fwd <= 0.001, "forward differs by {worst_fwd} m");
    assert!(worst_inv <= 0.001, "inverse differs by {worst_inv} m");
}

/// The farthest a served point lies from cs2cs's, by `metres`.
fn worst(
    served: &[(f64, f64)],
    expected: &[Vec<f64>],
    metres: impl Fn((f64, f64), &[f64]) -> f64,
) -> f64 {
    assert_eq!(served.len(), expected.len());
    served
        .iter()
        .zip(expected)
        .map(|(s, e)| metres(*s, e))
        .fold(0.0_f64, f64::max)
}

/// Every vertex of a feature's outer rings, in the order the API writes them.
fn served_vertices(doc: &serde_json::Value) -> Vec<(f64, f64)> {
    let polygons = doc["geometry"]["coordinates"].as_array().unwrap();
    polygons
        .iter()
        .flat_map(|p| p[0].as_array().unwrap().iter())
        .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
        .collect()
}

/// Over HTTP, the sites' geometry in CRS84 (lon, lat), EPSG:4326 (lat, lon: the axis order
/// of its definition) and EPSG:3857 (x, y) agrees with `cs2cs` applied to the stored
/// Lambert-93 vertices, within the precision served (7 decimals of a degree, 2 of a
/// metre); then a box sent in each of them selects the same sites.
#[test]
fn served_crs_and_axis_order_agree_with_cs2cs_over_http() {
    let m = common::model();
    let sites: Vec<_> = m.sites.iter().take(40).collect();
    let stored: Vec<(f64, f64)> = sites
        .iter()
        .flat_map(|s| match s.geometry() {
            geo::Geometry::MultiPolygon(mp) => {
                mp.0.iter()
                    .flat_map(|p| {
                        p.exterior()
                            .0
                            .iter()
                            .map(|c| (c.x, c.y))
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            }
            g => panic!("a site is a multipolygon, not {g:?}"),
        })
        .collect();
    let input: String = stored.iter().map(|(x, y)| format!("{x} {y}\n")).collect();
    // cs2cs writes EPSG:4326 as lat lon, OGC:CRS84 as lon lat, EPSG:3857 as x y.
    let lat_lon = cs2cs(&["-f", "%.10f", "EPSG:2154", "EPSG:4326"], &input);
    let lon_lat = cs2cs(&["-f", "%.10f", "EPSG:2154", "OGC:CRS84"], &input);
    let mercator = cs2cs(&["-f", "%.4f", "EPSG:2154", "EPSG:3857"], &input);
    let served = |crs: &str| -> Vec<(f64, f64)> {
        sites
            .iter()
            .flat_map(|s| {
                let r = common::get(&format!(
                    "/ogc/collections/sites/items/{}?crs=http://www.opengis.net/def/crs/{crs}",
                    s.record.site_id
                ));
                assert_eq!(r.status, 200);
                assert_eq!(
                    r.header("content-crs"),
                    Some(format!("<http://www.opengis.net/def/crs/{crs}>").as_str())
                );
                served_vertices(&r.json())
            })
            .collect()
    };
    // Degrees as ground metres: in EPSG:4326 the first axis is the latitude, in CRS84 the
    // longitude.
    let ground = |dlat: f64, dlon: f64, lat: f64| {
        (dlat * M_PER_DEG_LAT).hypot(dlon * M_PER_DEG_LAT * lat.to_radians().cos())
    };
    let lat_first = |s: (f64, f64), e: &[f64]| ground(s.0 - e[0], s.1 - e[1], e[0]);
    let lon_first = |s: (f64, f64), e: &[f64]| ground(s.1 - e[1], s.0 - e[0], e[1]);
    let plane = |s: (f64, f64), e: &[f64]| (s.0 - e[0]).hypot(s.1 - e[1]);
    let w4326 = worst(&served("EPSG/0/4326"), &lat_lon, lat_first);
    let w84 = worst(&served("OGC/1.3/CRS84"), &lon_lat, lon_first);
    let w3857 = worst(&served("EPSG/0/3857"), &mercator, plane);
    println!(
        "{} vertices of {} sites against cs2cs: EPSG:4326 {w4326:.4} m, CRS84 {w84:.4} m, \
         EPSG:3857 {w3857:.4} (its units)",
        stored.len(),
        sites.len()
    );
    assert!(w4326 <= 0.01, "EPSG:4326 differs by {w4326} m");
    assert!(w84 <= 0.01, "CRS84 differs by {w84} m");
    assert!(w3857 <= 0.01, "EPSG:3857 differs by {w3857}");

    // One box, sent in each CRS (Web Mercator keeps a lon/lat box a box), selects the same
    // sites; a box sent in 4326 with lon first selects none.
    let (w, s, e, n) = (3.0, 49.3, 3.6, 49.9);
    let corners = cs2cs(
        &["-f", "%.4f", "OGC:CRS84", "EPSG:3857"],
        &format!("{w} {s}\n{e} {n}\n"),
    );
    let matched = |query: &str| {
        common::get(&format!("/ogc/collections/sites/items?limit=1&{query}")).json()
            ["numberMatched"]
            .as_u64()
            .unwrap()
    };
    let crs84 = matched(&format!("bbox={w},{s},{e},{n}"));
    let uri = "http://www.opengis.net/def/crs/EPSG/0";
    assert!(crs84 > 0, "the box holds sites");
    assert_eq!(
        matched(&format!("bbox={s},{w},{n},{e}&bbox-crs={uri}/4326")),
        crs84
    );
    assert_eq!(
        matched(&format!(
            "bbox={},{},{},{}&bbox-crs={uri}/3857",
            corners[0][0], corners[0][1], corners[1][0], corners[1][1]
        )),
        crs84
    );
    assert_eq!(
        matched(&format!("bbox={w},{s},{e},{n}&bbox-crs={uri}/4326")),
        0,
        "lon, lat read as lat, lon falls outside France"
    );
    println!("a box of {crs84} sites selects the same in CRS84, EPSG:4326 and EPSG:3857");
}
