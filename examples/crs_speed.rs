//! Speed of the Lambert-93 inverse: the written-out one against proj4rs.
use std::time::Instant;

fn main() {
    let n = 2_000_000;
    let l = ecofoncier::crs::Lambert93::get();
    for _ in 0..2 {
        let t = Instant::now();
        let mut acc = 0.0;
        for i in 0..n {
            let x = 600_000.0 + (i % 1000) as f64 * 100.0;
            let y = 6_800_000.0 + (i / 1000) as f64 * 100.0;
            let (a, b) = ecofoncier::crs::l93_to_lonlat_proj4rs(x, y).unwrap();
            acc += a + b;
        }
        let p = t.elapsed().as_nanos() as f64 / n as f64;
        let t = Instant::now();
        for i in 0..n {
            let x = 600_000.0 + (i % 1000) as f64 * 100.0;
            let y = 6_800_000.0 + (i / 1000) as f64 * 100.0;
            let (a, b) = l.inverse(x, y);
            acc -= a + b;
        }
        let w = t.elapsed().as_nanos() as f64 / n as f64;
        println!("proj4rs {p:.0} ns/point, written out {w:.0} ns/point ({acc:.3e})");
    }
}
