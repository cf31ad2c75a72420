//! Coordinate reference systems: Lambert-93 (EPSG:2154) inside, CRS84 at the edge.
//!
//! Transforms use `proj4rs` (pure Rust PROJ.4). Lambert-93 is RGF93 on GRS80, whose datum is
//! taken as identical to WGS84 (null Helmert shift), as PROJ does for EPSG:4326 → EPSG:2154.
//! Web Mercator (EPSG:3857) is the spherical formula, computed here directly.

use std::sync::OnceLock;

use geo::{Coord, Geometry, MapCoords};
use proj4rs::proj::Proj;

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

/// Lambert-93 (x, y metres) → WGS84 (longitude, latitude degrees).
pub fn l93_to_lonlat(x: f64, y: f64) -> CrsResult<(f64, f64)> {
    Crs::Lambert93.check(x, y)?;
    let p = projs();
    let mut pt = (x, y, 0.0);
    proj4rs::transform::transform(&p.lambert93, &p.wgs84, &mut pt)
        .map_err(|e| CrsError::Projection(x, y, e.to_string()))?;
    Ok((pt.0.to_degrees(), pt.1.to_degrees()))
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

fn lonlat_to_web_mercator(lon: f64, lat: f64) -> (f64, f64) {
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
