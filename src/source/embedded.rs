//! The embedded dataset: GeoJSON layers (Lambert-93) and `;`-CSV tables in a folder,
//! `data/` of the crate by default. Also writes that format (used by `ecofoncier generate`).
//!
//! A file may be stored gzip-compressed with a `.gz` suffix (the generated layers are: they
//! are large and compress tenfold); the loader takes `NAME` or else `NAME.gz`.

use std::fs;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::formats::geojson::{write_feature, Precision};
use crate::model::{CommuteFlow, Feature, LandTake, Record, Str, DESTINATIONS};

use super::{Dataset, Source, SourceError, SourceResult};

/// The crate's own `data/` folder, where the committed dataset lives.
pub fn default_data_dir() -> PathBuf {
    let compiled = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data"));
    if compiled.join("communes.geojson").exists() {
        compiled
    } else {
        PathBuf::from("data")
    }
}

/// Loads the layers from GeoJSON files and the tables from `;`-CSV files of a folder.
#[derive(Clone, Debug)]
pub struct EmbeddedSource {
    pub dir: PathBuf,
}

impl EmbeddedSource {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        EmbeddedSource { dir: dir.into() }
    }

    /// Loads everything, the files read in parallel (the largest first).
    pub fn load_sync(&self) -> SourceResult<Dataset> {
        let d = &self.dir;
        let (((etabs, terrains), (locaux, flows)), ((land, sites), (communes, rest))) = rayon::join(
            || {
                rayon::join(
                    || rayon::join(|| read_layer(d), || read_layer(d)),
                    || rayon::join(|| read_layer(d), || read_flows(d)),
                )
            },
            || {
                rayon::join(
                    || rayon::join(|| read_land_take(d), || read_layer(d)),
                    || {
                        rayon::join(
                            || read_layer(d),
                            || {
                                (
                                    read_layer(d).map(|l| l.0),
                                    read_layer(d).map(|l| l.0),
                                    read_layer(d).map(|l| l.0),
                                )
                            },
                        )
                    },
                )
            },
        );
        let (communes, attribution) = communes?;
        let (epci, poles, tiers_lieux) = rest;
        Ok(Dataset {
            versions: Default::default(),
            audit_version: 0,
            communes,
            epci: epci?,
            poles: poles?,
            sites: sites?.0,
            terrains: terrains?.0,
            etablissements: etabs?.0,
            locaux: locaux?.0,
            tiers_lieux: tiers_lieux?,
            flows: flows?,
            land_take: land?,
            attribution,
        })
    }
}

impl Source for EmbeddedSource {
    fn describe(&self) -> String {
        format!("embedded dataset in {}", self.dir.display())
    }

    async fn load(&self) -> SourceResult<Dataset> {
        self.load_sync()
    }
}

#[derive(Deserialize)]
#[serde(bound = "R: Record")]
struct RawCollection<R> {
    #[serde(default)]
    attribution: Option<String>,
    features: Vec<RawFeature<R>>,
}

/// A feature deserialized straight into its record type (no intermediate JSON value).
#[derive(Deserialize)]
#[serde(bound = "R: Record")]
struct RawFeature<R> {
    geometry: Option<geojson::Geometry>,
    properties: R,
}

fn read(path: &Path) -> SourceResult<Vec<u8>> {
    fs::read(path).map_err(|source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads `dir/name`, or else `dir/name.gz` decompressed; returns the path read and the bytes.
pub fn read_data_file(dir: &Path, name: &str) -> SourceResult<(PathBuf, Vec<u8>)> {
    let plain = dir.join(name);
    if plain.exists() {
        return Ok((plain.clone(), read(&plain)?));
    }
    let gz = dir.join(format!("{name}.gz"));
    let compressed = read(&gz)?;
    let mut bytes = Vec::with_capacity(compressed.len() * 10);
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut bytes)
        .map_err(|source| SourceError::Io {
            path: gz.clone(),
            source,
        })?;
    Ok((gz, bytes))
}

/// Opens `dir/name`, or else `dir/name.gz` decompressing as it is read.
fn open_data_file(dir: &Path, name: &str) -> SourceResult<(PathBuf, Box<dyn BufRead + Send>)> {
    let plain = dir.join(name);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SourceError::Io { path, source }
    };
    if plain.exists() {
        let f = fs::File::open(&plain).map_err(io(&plain))?;
        return Ok((
            plain,
            Box::new(std::io::BufReader::with_capacity(1 << 20, f)),
        ));
    }
    let gz = dir.join(format!("{name}.gz"));
    let f = fs::File::open(&gz).map_err(io(&gz))?;
    let inflate = flate2::read::GzDecoder::new(std::io::BufReader::with_capacity(1 << 20, f));
    Ok((
        gz,
        Box::new(std::io::BufReader::with_capacity(1 << 20, inflate)),
    ))
}

/// Reads the GeoJSON file of layer `R` in `dir`; returns its features and attribution.
///
/// A file written one feature a line (as `ecofoncier generate` writes them) is parsed a
/// line at a time while it is decompressed, so a national layer never sits whole in
/// memory as text; any other GeoJSON file is parsed whole.
pub fn read_layer<R: Record>(dir: &Path) -> SourceResult<(Vec<Feature<R>>, String)> {
    let (path, mut reader) = open_data_file(dir, R::FILE)?;
    let io = |source| SourceError::Io {
        path: path.clone(),
        source,
    };
    let mut head = Vec::new();
    reader.read_until(b'\n', &mut head).map_err(io)?;
    if !head.ends_with(b"\"features\":[\n") {
        reader.read_to_end(&mut head).map_err(io)?;
        return parse_layer(&head, &path);
    }
    // The collection's members before its features, closed to read the attribution.
    head.truncate(head.len() - 1);
    head.extend_from_slice(b"]}");
    let attribution = parse_layer::<R>(&head, &path)?.1;
    let mut out = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io)? == 0 {
            break;
        }
        let mut l = line.as_slice();
        while let [rest @ .., b'\n' | b'\r' | b','] = l {
            l = rest;
        }
        if l == b"]}" || l.is_empty() {
            continue;
        }
        let index = out.len();
        let err = |message: String| SourceError::Feature {
            path: path.clone(),
            index,
            message,
        };
        let f: RawFeature<R> = serde_json::from_slice(l).map_err(|e| err(e.to_string()))?;
        let geometry = f.geometry.ok_or_else(|| err("no geometry".into()))?;
        let geometry = geo::Geometry::<f64>::try_from(&geometry).map_err(|e| err(e.to_string()))?;
        out.push(Feature {
            geometry,
            record: f.properties,
        });
    }
    Ok((out, attribution))
}

/// Parses a GeoJSON FeatureCollection (Lambert-93) into typed features.
pub fn parse_layer<R: Record>(
    bytes: &[u8],
    path: &Path,
) -> SourceResult<(Vec<Feature<R>>, String)> {
    let raw: RawCollection<R> =
        serde_json::from_slice(bytes).map_err(|e| SourceError::GeoJson {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let mut out = Vec::with_capacity(raw.features.len());
    for (index, f) in raw.features.into_iter().enumerate() {
        let err = |message: String| SourceError::Feature {
            path: path.to_path_buf(),
            index,
            message,
        };
        let geometry = f.geometry.ok_or_else(|| err("no geometry".into()))?;
        let geometry = geo::Geometry::<f64>::try_from(&geometry).map_err(|e| err(e.to_string()))?;
        out.push(Feature {
            geometry,
            record: f.properties,
        });
    }
    Ok((out, raw.attribution.unwrap_or_default()))
}

/// Writes layer `R` as a gzip-compressed GeoJSON FeatureCollection in Lambert-93
/// (`NAME.gz`), one feature per line. `note` goes to the collection's `source` member
/// (e.g. "données synthétiques …").
pub fn write_layer<R: Record>(dir: &Path, features: &[Feature<R>], note: &str) -> SourceResult<()> {
    let path = dir.join(format!("{}.gz", R::FILE));
    let mut out = Vec::with_capacity(features.len() * 512);
    out.extend_from_slice(br#"{"type":"FeatureCollection","name":"#);
    let _ = serde_json::to_writer(&mut out, R::COLLECTION);
    out.extend_from_slice(
        br#","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::2154"}},"source":"#,
    );
    let _ = serde_json::to_writer(&mut out, note);
    out.extend_from_slice(b",\"features\":[\n");
    for (i, f) in features.iter().enumerate() {
        let props = match serde_json::to_value(&f.record) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        write_feature(
            &mut out,
            f.record.id(),
            &f.geometry,
            &props,
            Precision::METRES,
        );
        if i + 1 < features.len() {
            out.push(b',');
        }
        out.push(b'\n');
    }
    out.extend_from_slice(b"]}\n");
    write_file(&path, &out)
}

/// Writes a layer of the real geography (`NAME.gz`): a GeoJSON FeatureCollection in
/// Lambert-93 with its `attribution`, one feature per line.
pub fn write_geography<R: Record>(
    dir: &Path,
    features: &[Feature<R>],
    attribution: &str,
) -> SourceResult<()> {
    let path = dir.join(format!("{}.gz", R::FILE));
    let mut out = Vec::with_capacity(features.len() * 2048);
    out.extend_from_slice(br#"{"type":"FeatureCollection","name":"#);
    let _ = serde_json::to_writer(&mut out, R::COLLECTION);
    out.extend_from_slice(
        br#","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::2154"}},"attribution":"#,
    );
    let _ = serde_json::to_writer(&mut out, attribution);
    out.extend_from_slice(b",\"features\":[\n");
    for (i, f) in features.iter().enumerate() {
        let props = match serde_json::to_value(&f.record) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        write_feature(&mut out, f.record.id(), &f.geometry, &props, Precision(1));
        if i + 1 < features.len() {
            out.push(b',');
        }
        out.push(b'\n');
    }
    out.extend_from_slice(b"]}\n");
    write_file(&path, &out)
}

/// Writes `bytes` gzip-compressed (header without timestamp or name: the output depends
/// only on the bytes).
fn write_file(path: &Path, bytes: &[u8]) -> SourceResult<()> {
    let io = |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    };
    fs::write(path, gzip(bytes)).map_err(io)
}

/// `bytes` as a gzip member (RFC 1952) deflated by miniz_oxide at level 9, with no time
/// stamp or name. miniz_oxide is called directly rather than through flate2, whose backend
/// depends on the features other crates enable (zlib-rs compresses to other bytes): the
/// committed dataset stays byte for byte what `generate` writes.
///
/// ```
/// # use std::io::Read;
/// let gz = ecofoncier::source::embedded::gzip(b"ecofoncier");
/// let mut back = String::new();
/// flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut back).unwrap();
/// assert_eq!(back, "ecofoncier");
/// ```
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    // ID1 ID2, deflate, no flags, no time stamp, "slowest algorithm" (XFL 2), unknown OS.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(bytes, 9));
    out.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}

/// A CSV data row: its line number and its cells.
type CsvRow = (usize, Vec<String>);

fn csv_rows(dir: &Path, name: &str, header: &str) -> SourceResult<(PathBuf, Vec<CsvRow>)> {
    let (path, bytes) = read_data_file(dir, name)?;
    let path = path.as_path();
    let text = String::from_utf8(bytes).map_err(|e| SourceError::Csv {
        path: path.to_path_buf(),
        line: 0,
        message: e.to_string(),
    })?;
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim_end() == header => {}
        other => {
            return Err(SourceError::Csv {
                path: path.to_path_buf(),
                line: 1,
                message: format!(
                    "expected header `{header}`, found `{}`",
                    other.map(|(_, h)| h).unwrap_or("")
                ),
            })
        }
    }
    let n = header.split(';').count();
    let mut rows = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<String> = line.split(';').map(str::to_string).collect();
        if cells.len() != n {
            return Err(SourceError::Csv {
                path: path.to_path_buf(),
                line: i + 1,
                message: format!("expected {n} fields, found {}", cells.len()),
            });
        }
        rows.push((i + 1, cells));
    }
    Ok((path.to_path_buf(), rows))
}

fn parse_cell<T: std::str::FromStr>(
    path: &Path,
    line: usize,
    name: &str,
    v: &str,
) -> SourceResult<T>
where
    T::Err: std::fmt::Display,
{
    v.parse().map_err(|e: T::Err| SourceError::Csv {
        path: path.to_path_buf(),
        line,
        message: format!("field `{name}`: `{v}`: {e}"),
    })
}

/// Reads the commuting flows table of `dir`.
pub fn read_flows(dir: &Path) -> SourceResult<Vec<CommuteFlow>> {
    let (path, rows) = csv_rows(dir, CommuteFlow::FILE, CommuteFlow::HEADER)?;
    let path = path.as_path();
    rows.into_iter()
        .map(|(line, c)| {
            Ok(CommuteFlow {
                actifs: parse_cell(path, line, "actifs", &c[2])?,
                commune_residence: Str::new(&c[0]),
                commune_travail: Str::new(&c[1]),
            })
        })
        .collect()
}

/// Reads the land-take table of `dir`.
pub fn read_land_take(dir: &Path) -> SourceResult<Vec<LandTake>> {
    let (path, rows) = csv_rows(dir, LandTake::FILE, LandTake::HEADER)?;
    let path = path.as_path();
    rows.into_iter()
        .map(|(line, c)| {
            let mut m2 = [0.0; 6];
            for (k, (v, d)) in m2.iter_mut().zip(DESTINATIONS).enumerate() {
                *v = parse_cell::<f64>(path, line, d.column, &c[2 + k])?;
            }
            let annee = parse_cell(path, line, "annee", &c[1])?;
            Ok(LandTake::new(Str::new(&c[0]), annee, m2))
        })
        .collect()
}

/// Writes the commuting flows table.
pub fn write_flows(dir: &Path, flows: &[CommuteFlow]) -> SourceResult<()> {
    let mut out = Vec::with_capacity(flows.len() * 24);
    let _ = writeln!(out, "{}", CommuteFlow::HEADER);
    for f in flows {
        let _ = writeln!(
            out,
            "{};{};{}",
            f.commune_residence, f.commune_travail, f.actifs
        );
    }
    write_file(&dir.join(format!("{}.gz", CommuteFlow::FILE)), &out)
}

/// Writes the land-take table (m² rounded to the unit).
pub fn write_land_take(dir: &Path, rows: &[LandTake]) -> SourceResult<()> {
    let mut out = Vec::with_capacity(rows.len() * 48);
    let _ = writeln!(out, "{}", LandTake::HEADER);
    for r in rows {
        let _ = write!(out, "{};{}", r.code_insee, r.annee);
        for v in r.m2() {
            let _ = write!(out, ";{}", v.round());
        }
        out.push(b'\n');
    }
    write_file(&dir.join(format!("{}.gz", LandTake::FILE)), &out)
}
