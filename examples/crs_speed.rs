use std::time::Instant;

struct Lcc {
    e: f64,
    n: f64,
    af: f64,
    rho0: f64,
    lon0: f64,
    x0: f64,
    y0: f64,
    c: [f64; 4],
}
fn t_of(phi: f64, e: f64) -> f64 {
    let s = phi.sin();
    (std::f64::consts::FRAC_PI_4 - phi / 2.0).tan() / ((1.0 - e * s) / (1.0 + e * s)).powf(e / 2.0)
}
fn m_of(phi: f64, e: f64) -> f64 {
    let s = phi.sin();
    phi.cos() / (1.0 - e * e * s * s).sqrt()
}
impl Lcc {
    fn l93() -> Lcc {
        let a = 6_378_137.0_f64;
        let f = 1.0_f64 / 298.257222101;
        let e2 = f * (2.0 - f);
        let e = e2.sqrt();
        let (p1, p2, p0) = (49f64.to_radians(), 44f64.to_radians(), 46.5f64.to_radians());
        let (m1, m2) = (m_of(p1, e), m_of(p2, e));
        let (t1, t2, t0) = (t_of(p1, e), t_of(p2, e), t_of(p0, e));
        let n = (m1.ln() - m2.ln()) / (t1.ln() - t2.ln());
        let ff = m1 / (n * t1.powf(n));
        let af = a * ff;
        let rho0 = af * t0.powf(n);
        let (e4, e6, e8) = (e2 * e2, e2 * e2 * e2, e2 * e2 * e2 * e2);
        let c = [
            e2 / 2.0 + 5.0 * e4 / 24.0 + e6 / 12.0 + 13.0 * e8 / 360.0,
            7.0 * e4 / 48.0 + 29.0 * e6 / 240.0 + 811.0 * e8 / 11520.0,
            7.0 * e6 / 120.0 + 81.0 * e8 / 1120.0,
            4279.0 * e8 / 161280.0,
        ];
        Lcc {
            e,
            n,
            af,
            rho0,
            lon0: 3f64.to_radians(),
            x0: 700_000.0,
            y0: 6_600_000.0,
            c,
        }
    }
    fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let dx = x - self.x0;
        let dy = self.rho0 - (y - self.y0);
        let rho = dx.hypot(dy);
        let theta = dx.atan2(dy);
        let t = (rho / self.af).powf(1.0 / self.n);
        let chi = std::f64::consts::FRAC_PI_2 - 2.0 * t.atan();
        let (s2, c2) = (2.0 * chi).sin_cos();
        // Clenshaw-free: sin 4x = 2 s2 c2, sin 6x = s2(3-4 s2^2), sin 8x = 2 sin4 cos4
        let s4 = 2.0 * s2 * c2;
        let c4 = 1.0 - 2.0 * s2 * s2;
        let s6 = s2 * c4 + c2 * s4;
        let s8 = 2.0 * s4 * c4;
        let phi = chi + self.c[0] * s2 + self.c[1] * s4 + self.c[2] * s6 + self.c[3] * s8;
        let lon = self.lon0 + theta / self.n;
        (lon.to_degrees(), phi.to_degrees())
    }
    fn inverse_newton(&self, x: f64, y: f64) -> (f64, f64) {
        let (lon, lat) = self.inverse(x, y);
        let dx = x - self.x0;
        let dy = self.rho0 - (y - self.y0);
        let rho = dx.hypot(dy);
        let t = (rho / self.af).powf(1.0 / self.n);
        let mut phi = lat.to_radians();
        let e = self.e;
        // one Newton step on t_of(phi) = t (in log form)
        let s = phi.sin();
        let f = t_of(phi, e).ln() - t.ln();
        let d = -(1.0 - e * e) / ((1.0 - e * e * s * s) * phi.cos());
        phi -= f / d;
        (lon, phi.to_degrees())
    }
}
fn main() {
    let l = Lcc::l93();
    let mut maxd: f64 = 0.0;
    let mut maxn: f64 = 0.0;
    for i in 0..200 {
        for j in 0..200 {
            let x = 50_000.0 + i as f64 * 6_500.0;
            let y = 6_040_000.0 + j as f64 * 5_500.0;
            let (a, b) = ecofoncier::crs::l93_to_lonlat(x, y).unwrap();
            let (c, d) = l.inverse(x, y);
            let (e, f) = l.inverse_newton(x, y);
            maxd = maxd.max((a - c).abs()).max((b - d).abs());
            maxn = maxn.max((a - e).abs()).max((b - f).abs());
        }
    }
    let mut maxx: f64 = 0.0;
    for i in 0..200 {
        for j in 0..200 {
            let x = 50_000.0 + i as f64 * 6_500.0;
            let y = 6_040_000.0 + j as f64 * 5_500.0;
            let (_, d) = l.inverse(x, y);
            // exact: iterate Newton 5 times
            let dx = x - l.x0;
            let dy = l.rho0 - (y - l.y0);
            let t = (dx.hypot(dy) / l.af).powf(1.0 / l.n);
            let mut phi = d.to_radians();
            for _ in 0..5 {
                let s = phi.sin();
                let f = t_of(phi, l.e).ln() - t.ln();
                let dd = -(1.0 - l.e * l.e) / ((1.0 - l.e * l.e * s * s) * phi.cos());
                phi -= f / dd;
            }
            maxx = maxx.max((phi.to_degrees() - d).abs());
        }
    }
    println!("series vs exact {maxx:e} deg");
    println!(
        "max deg diff series {maxd:e} (~{:.3} mm), newton {maxn:e} (~{:.4} mm)",
        maxd * 111e6,
        maxn * 111e6
    );
    let n = 1_000_000;
    for pass in 0..2 {
        let t = Instant::now();
        let mut acc = 0.0;
        for i in 0..n {
            let x = 600_000.0 + (i % 1000) as f64 * 100.0;
            let y = 6_800_000.0 + (i / 1000) as f64 * 100.0;
            let (a, b) = ecofoncier::crs::l93_to_lonlat(x, y).unwrap();
            acc += a + b;
        }
        println!(
            "proj4rs inverse: {:.0} ns/pt ({acc})",
            t.elapsed().as_nanos() as f64 / n as f64
        );
        let t = Instant::now();
        let mut acc = 0.0;
        for i in 0..n {
            let x = 600_000.0 + (i % 1000) as f64 * 100.0;
            let y = 6_800_000.0 + (i / 1000) as f64 * 100.0;
            let (a, b) = if pass == 0 {
                l.inverse(x, y)
            } else {
                l.inverse_newton(x, y)
            };
            acc += a + b;
        }
        println!(
            "{} inverse: {:.0} ns/pt ({acc})",
            if pass == 0 { "series" } else { "newton" },
            t.elapsed().as_nanos() as f64 / n as f64
        );
    }
}
#[allow(dead_code)]
fn exact_check() {}
