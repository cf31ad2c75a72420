//! proj4rs against PROJ's `cs2cs` (Debian `proj-bin`): within 1 mm over a grid of points
//! covering Hauts-de-France, in both directions.

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
