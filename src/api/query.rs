//! Query parameters of OGC API – Features, parsed at the edge: the handlers only see valid
//! values. Every rejection names the parameter.

use geo::{Coord, LineString, Polygon};

use crate::cql2;
use crate::crs::{self, Crs};
use crate::read_model::Collection;

use super::problem::{ApiError, ApiResult};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 10_000;

/// Raw `key=value` pairs of a query string, percent-decoded, in order.
pub fn pairs(query: &str) -> ApiResult<Vec<(String, String)>> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .map_err(|e| ApiError::param("query", format!("malformed query string: {e}")))
}

/// One query parameter of an endpoint, declared once: the handler reads and checks it
/// through this declaration and the OpenAPI document describes it from the same one, so the
/// two cannot disagree.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub description: &'static str,
}

/// What a parameter's value may be.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Integer {
        min: i64,
        max: i64,
    },
    Number {
        min: f64,
        max: f64,
    },
    Text,
    /// One of these values.
    OneOf(&'static [&'static str]),
    /// A comma-separated list of these values.
    ListOf(&'static [&'static str]),
    /// A SIREN: nine digits.
    Siren,
    /// A comma-separated list of 1 to `max` SIRENs.
    Sirens {
        max: usize,
    },
    /// A point, `lon,lat` in CRS84 (decimal degrees).
    LonLat,
}

/// A SIREN: nine ASCII digits.
pub fn is_siren(v: &str) -> bool {
    v.len() == 9 && v.bytes().all(|b| b.is_ascii_digit())
}

/// The pattern of [`Kind::LonLat`]: longitude within ±180, latitude within ±90.
const LON_LAT: &str =
    r"^-?(180(\.0+)?|(1[0-7][0-9]|[0-9]{1,2})(\.[0-9]+)?),-?(90(\.0+)?|[0-8]?[0-9](\.[0-9]+)?)$";

impl Spec {
    pub const fn new(name: &'static str, kind: Kind, description: &'static str) -> Spec {
        Spec {
            name,
            kind,
            required: false,
            description,
        }
    }

    /// The same parameter, required.
    pub const fn required(self) -> Spec {
        Spec {
            required: true,
            ..self
        }
    }

    /// The parameter object of the OpenAPI 3.0 document.
    pub fn openapi(&self) -> serde_json::Value {
        use serde_json::json;
        let (schema, style) = match self.kind {
            Kind::Integer { min, max } => (
                json!({ "type": "integer", "minimum": min, "maximum": max }),
                None,
            ),
            Kind::Number { min, max } => (
                json!({ "type": "number", "minimum": min, "maximum": max }),
                None,
            ),
            Kind::Text => (json!({ "type": "string" }), None),
            Kind::OneOf(values) => (json!({ "type": "string", "enum": values }), None),
            Kind::ListOf(values) => (
                json!({ "type": "array", "minItems": 1, "items": { "type": "string", "enum": values } }),
                Some("form"),
            ),
            Kind::Siren => (json!({ "type": "string", "pattern": "^[0-9]{9}$" }), None),
            Kind::Sirens { max } => (
                json!({ "type": "array", "minItems": 1, "maxItems": max,
                        "items": { "type": "string", "pattern": "^[0-9]{9}$" } }),
                Some("form"),
            ),
            Kind::LonLat => (json!({ "type": "string", "pattern": LON_LAT }), None),
        };
        let mut p = json!({
            "name": self.name, "in": "query", "required": self.required,
            "description": self.description, "schema": schema,
        });
        if let Some(style) = style {
            p["style"] = json!(style);
            p["explode"] = json!(false);
        }
        p
    }
}

/// Query parameters, each given at most once: the one parser of the OGC routes and of
/// `/api/v1`. Values are read by name, and numbers and lists checked, so that every rejection
/// names its parameter.
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The parameters of `query`, each given once, all of them among `allowed`.
    pub fn parse(query: &str, allowed: &[&str]) -> ApiResult<Params> {
        let p = Params::any(query)?;
        if let Some((k, _)) = p.0.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            let takes = if allowed.is_empty() {
                "this endpoint takes none".to_string()
            } else {
                format!("this endpoint takes {}", allowed.join(", "))
            };
            return Err(ApiError::param(k, format!("unknown parameter; {takes}")));
        }
        Ok(p)
    }

    /// The parameters of `query` against the endpoint's declarations: each given once, none
    /// other, the required ones present, every value of its kind.
    pub fn checked(query: &str, specs: &[&Spec]) -> ApiResult<Params> {
        let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
        let p = Params::parse(query, &names)?;
        for s in specs {
            match (p.get(s.name), s.kind) {
                (None, _) if s.required => {
                    return Err(ApiError::param(
                        s.name,
                        format!("required: {}", s.description),
                    ))
                }
                (None, _) | (Some(_), Kind::Text) => {}
                (Some(v), Kind::Integer { min, max }) => {
                    number(s.name, v, min, max, "an integer")?;
                }
                (Some(v), Kind::Number { min, max }) => {
                    number(s.name, v, min, max, "a number")?;
                }
                (Some(_), Kind::OneOf(values)) => {
                    p.one_of(s.name, values, "")?;
                }
                (Some(_), Kind::ListOf(values)) => {
                    p.list(s.name, values)?;
                }
                (Some(v), Kind::Siren) if !is_siren(v) => {
                    return Err(ApiError::param(
                        s.name,
                        format!("`{v}` is not a SIREN (nine digits)"),
                    ));
                }
                (Some(v), Kind::Sirens { max }) => {
                    let n = v.split(',').count();
                    if n > max || v.split(',').any(|c| !is_siren(c.trim())) {
                        return Err(ApiError::param(
                            s.name,
                            format!("give 1 to {max} SIRENs (nine digits), comma-separated"),
                        ));
                    }
                }
                (Some(_), Kind::Siren | Kind::LonLat) => {}
            }
        }
        Ok(p)
    }

    /// The value of an integer parameter, checked by [`Params::checked`].
    pub fn integer(&self, s: &Spec) -> Option<i64> {
        self.get(s.name).and_then(|v| v.parse().ok())
    }

    /// The value of a number parameter, checked by [`Params::checked`].
    pub fn float(&self, s: &Spec) -> Option<f64> {
        self.get(s.name).and_then(|v| v.parse().ok())
    }

    /// The values of a list parameter, checked by [`Params::checked`].
    pub fn values(&self, s: &Spec) -> Vec<String> {
        match s.kind {
            Kind::ListOf(values) => self.list(s.name, values).unwrap_or_default(),
            _ => self
                .get(s.name)
                .map(|v| vec![v.to_string()])
                .unwrap_or_default(),
        }
    }

    /// The parameters of `query`, each given once; which names are allowed is the caller's.
    pub fn any(query: &str) -> ApiResult<Params> {
        let raw = pairs(query)?;
        for (i, (k, _)) in raw.iter().enumerate() {
            if raw[..i].iter().any(|(a, _)| a == k) {
                return Err(ApiError::param(k, "given more than once"));
            }
        }
        Ok(Params(raw))
    }

    /// Every `(name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether `k` was given.
    pub fn has(&self, k: &str) -> bool {
        self.get(k).is_some()
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }

    /// A comma-separated list whose values must belong to `allowed`. A value that itself
    /// holds a comma (`vendu, commercialisation achevée`) is read whole: at each place the
    /// longest allowed value followed by a comma or the end is taken.
    pub fn list(&self, k: &str, allowed: &[&str]) -> ApiResult<Vec<String>> {
        let Some(v) = self.get(k) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut rest = v.trim_start();
        while !rest.is_empty() {
            let whole = allowed
                .iter()
                .filter(|a| {
                    rest.strip_prefix(**a).is_some_and(|r| {
                        r.trim_start().is_empty() || r.trim_start().starts_with(',')
                    })
                })
                .max_by_key(|a| a.len());
            let (item, after) = match whole {
                Some(a) => (*a, &rest[a.len()..]),
                None => {
                    let end = rest.find(',').unwrap_or(rest.len());
                    let x = rest[..end].trim();
                    if !x.is_empty() {
                        return Err(ApiError::param(
                            k,
                            format!("`{x}` is not one of: {}", allowed.join(", ")),
                        ));
                    }
                    ("", &rest[end..])
                }
            };
            if !item.is_empty() {
                out.push(item.to_string());
            }
            let after = after.trim_start();
            rest = after.strip_prefix(',').unwrap_or(after).trim_start();
        }
        if out.is_empty() {
            // `reseau=` filters on nothing: say so rather than drop the filter.
            return Err(ApiError::param(
                k,
                format!("give at least one of: {}", allowed.join(", ")),
            ));
        }
        Ok(out)
    }

    /// One of `allowed`, or `default` when absent.
    pub fn one_of<'a>(&'a self, k: &str, allowed: &[&str], default: &'a str) -> ApiResult<&'a str> {
        match self.get(k) {
            None => Ok(default),
            Some(v) if allowed.contains(&v) => Ok(v),
            Some(v) => Err(ApiError::param(
                k,
                format!("`{v}` is not one of {}", allowed.join(", ")),
            )),
        }
    }
}

/// `v`, the value of parameter `k`, as a number in `min..=max`.
fn number<T>(k: &str, v: &str, min: T, max: T, what: &str) -> ApiResult<T>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let x: T = v
        .parse()
        .map_err(|_| ApiError::param(k, format!("`{v}` is not {what}")))?;
    if !(min..=max).contains(&x) {
        return Err(ApiError::param(k, format!("{x} is outside {min}..={max}")));
    }
    Ok(x)
}

/// A bounding box in Lambert-93: the exact rectangle for a Lambert-93 bbox, or the bbox's
/// outline densified (16 points an edge) and projected, for a geographic or Web Mercator one.
#[derive(Clone, Debug)]
pub struct BboxFilter {
    pub area: Polygon<f64>,
}

/// The parsed query of `/items`.
#[derive(Clone, Debug)]
pub struct ItemsQuery {
    pub limit: usize,
    pub offset: usize,
    pub bbox: Option<BboxFilter>,
    pub crs: Crs,
    /// Equality filters on properties.
    pub filters: Vec<(String, String)>,
    /// The CQL2 filter (`filter`), bound to the collection.
    pub filter: Option<cql2::Filter>,
    /// Sort keys (`sortby`): property and whether descending.
    pub sortby: Vec<(String, bool)>,
    /// The properties to return (`properties`), when selected.
    pub properties: Option<Vec<String>>,
}

/// Checks the `f` parameter: JSON (the default) or HTML ([`super::html::wanted`] reads it).
fn check_format(v: &str) -> ApiResult<()> {
    match v {
        "json" | "geojson" | "application/json" | "application/geo+json" | "html" | "text/html" => {
            Ok(())
        }
        other => Err(ApiError::param(
            "f",
            format!("unsupported format `{other}`: use `json` or `html`"),
        )),
    }
}

fn parse_usize(key: &str, v: &str, min: usize, max: usize) -> ApiResult<usize> {
    number(key, v, min, max, "a non-negative integer")
}

fn parse_crs(key: &str, v: &str) -> ApiResult<Crs> {
    Crs::parse(v).map_err(|e| ApiError::param(key, e.to_string()))
}

/// Parses `bbox` (4 numbers, or 6 with heights, which are ignored) in `crs` axis order.
fn parse_bbox(v: &str, bbox_crs: Crs) -> ApiResult<BboxFilter> {
    let nums: Vec<f64> = v
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::param("bbox", format!("`{v}` is not a list of numbers")))?;
    let (a0, b0, a1, b1) = match nums[..] {
        [a0, b0, a1, b1] => (a0, b0, a1, b1),
        [a0, b0, _, a1, b1, _] => (a0, b0, a1, b1),
        _ => {
            return Err(ApiError::param(
                "bbox",
                format!("expected 4 or 6 numbers, got {}", nums.len()),
            ))
        }
    };
    if nums.iter().any(|n| !n.is_finite()) {
        return Err(ApiError::param("bbox", "numbers must be finite"));
    }
    for (a, b) in [(a0, b0), (a1, b1)] {
        bbox_crs
            .check(a, b)
            .map_err(|e| ApiError::param("bbox", e.to_string()))?;
    }
    if a0 > a1 || b0 > b1 {
        return Err(ApiError::param(
            "bbox",
            "lower corner must not exceed upper corner (min before max on each axis)",
        ));
    }
    let ring: Vec<Coord<f64>> = if bbox_crs == Crs::Lambert93 {
        vec![(a0, b0), (a1, b0), (a1, b1), (a0, b1), (a0, b0)]
            .into_iter()
            .map(|(x, y)| Coord { x, y })
            .collect()
    } else {
        let corners = [(a0, b0), (a1, b0), (a1, b1), (a0, b1), (a0, b0)];
        let mut pts = Vec::with_capacity(65);
        for w in corners.windows(2) {
            let ((sa, sb), (ea, eb)) = (w[0], w[1]);
            for k in 0..16 {
                let t = k as f64 / 16.0;
                pts.push((sa + (ea - sa) * t, sb + (eb - sb) * t));
            }
        }
        pts.push(corners[0]);
        pts.into_iter()
            .map(|(a, b)| {
                crs::to_l93(bbox_crs, a, b)
                    .map(|(x, y)| Coord { x, y })
                    .map_err(|e| ApiError::param("bbox", e.to_string()))
            })
            .collect::<ApiResult<_>>()?
    };
    Ok(BboxFilter {
        area: Polygon::new(LineString(ring), vec![]),
    })
}

/// Parses the query of `/collections/{id}/items` against the collection's properties.
pub fn items_query(params: &Params, served: &dyn Collection) -> ApiResult<ItemsQuery> {
    let mut q = ItemsQuery {
        limit: DEFAULT_LIMIT,
        offset: 0,
        bbox: None,
        crs: Crs::Crs84,
        filters: Vec::new(),
        filter: None,
        sortby: Vec::new(),
        properties: None,
    };
    let mut bbox_raw = None;
    let mut bbox_crs = Crs::Crs84;
    let mut filter_crs = Crs::Crs84;
    for (k, v) in params.iter() {
        match k {
            "limit" => q.limit = parse_usize(k, v, 1, MAX_LIMIT)?,
            "offset" => q.offset = parse_usize(k, v, 0, usize::MAX)?,
            "bbox" => bbox_raw = Some(v),
            "bbox-crs" => bbox_crs = parse_crs(k, v)?,
            "crs" => q.crs = parse_crs(k, v)?,
            "f" => check_format(v)?,
            // No collection has a temporal extent: `datetime` selects nothing out.
            "datetime" => {}
            "filter" => {}
            "filter-lang" => {
                if v != "cql2-text" {
                    return Err(ApiError::param(
                        k,
                        format!("`{v}` is not supported: use cql2-text"),
                    ));
                }
            }
            "filter-crs" => filter_crs = parse_crs(k, v)?,
            "sortby" => q.sortby = sort_keys(v, served)?,
            "properties" => q.properties = Some(property_names(v, served)?),
            name if served.fields().contains_key(name) => q.filters.push((k.into(), v.into())),
            other => {
                return Err(ApiError::param(
                    other,
                    format!(
                        "unknown parameter; use limit, offset, bbox, bbox-crs, crs, f, datetime, \
                         filter, filter-lang, filter-crs, sortby, properties or a property of \
                         `{}`",
                        served.about().id
                    ),
                ))
            }
        }
    }
    match params.get("filter") {
        Some(text) => {
            let lookup = |name: &str| {
                if served.confidential().contains(&name) {
                    cql2::Property::Confidential
                } else {
                    served
                        .fields()
                        .get(name)
                        .map_or(cql2::Property::Unknown, |t| cql2::Property::Field(t))
                }
            };
            let bound = cql2::parse(text)
                .and_then(|e| cql2::bind(text, e, &lookup, filter_crs))
                .map_err(|e| ApiError::param("filter", e.to_string()))?;
            q.filter = Some(bound);
        }
        None => {
            for k in ["filter-lang", "filter-crs"] {
                if params.has(k) {
                    return Err(ApiError::param(k, "given without filter"));
                }
            }
        }
    }
    if let Some(b) = bbox_raw {
        q.bbox = Some(parse_bbox(b, bbox_crs)?);
    } else if params.has("bbox-crs") {
        return Err(ApiError::param("bbox-crs", "given without bbox"));
    }
    Ok(q)
}

/// A public property of `served` named in parameter `param`, or a 400 saying why not.
fn public_property(param: &str, name: &str, served: &dyn Collection) -> ApiResult<String> {
    if served.confidential().contains(&name) {
        return Err(ApiError::param(param, format!("`{name}` is confidential")));
    }
    if !served.fields().contains_key(name) {
        return Err(ApiError::param(
            param,
            format!(
                "unknown property `{name}`; see /ogc/collections/{}/queryables",
                served.about().id
            ),
        ));
    }
    Ok(name.to_string())
}

/// `sortby`: comma-separated properties, each optionally prefixed `+` (ascending, the
/// default) or `-` (descending).
fn sort_keys(v: &str, served: &dyn Collection) -> ApiResult<Vec<(String, bool)>> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for part in v.split(',').map(str::trim) {
        let (name, desc) = match part.strip_prefix('-') {
            Some(n) => (n, true),
            None => (part.strip_prefix('+').unwrap_or(part), false),
        };
        let name = public_property("sortby", name.trim(), served)?;
        if out.iter().any(|(n, _)| *n == name) {
            return Err(ApiError::param("sortby", format!("`{name}` given twice")));
        }
        out.push((name, desc));
    }
    Ok(out)
}

/// `properties`: the comma-separated public properties to return (none when empty).
fn property_names(v: &str, served: &dyn Collection) -> ApiResult<Vec<String>> {
    v.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| public_property("properties", n, served))
        .collect()
}

/// Parses the query of `/collections/{id}/items/{featureId}`: only `crs` and `f`.
pub fn item_query(params: &Params) -> ApiResult<(Crs, Option<String>)> {
    let mut crs = Crs::Crs84;
    let mut datetime = None;
    for (k, v) in params.iter() {
        match k {
            "crs" => crs = parse_crs(k, v)?,
            "f" => check_format(v)?,
            "datetime" => datetime = Some(instant(v)?),
            other => {
                return Err(ApiError::param(
                    other,
                    "unknown parameter; use crs, datetime or f",
                ))
            }
        }
    }
    Ok((crs, datetime))
}

/// An instant for `datetime` on one feature: RFC 3339 (`2026-03-01T12:00:00Z`,
/// `…+01:00`) or a date (its midnight, UTC).
pub fn instant(v: &str) -> ApiResult<String> {
    let bad = || {
        ApiError::param(
            "datetime",
            "must be one instant, RFC 3339 (2026-03-01T12:00:00Z) or a date (2026-03-01)",
        )
    };
    let b = v.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let date = b.len() >= 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10);
    if !date || crate::date::Date::parse(&v[..10]).is_err() {
        return Err(bad());
    }
    if b.len() == 10 {
        return Ok(format!("{v}T00:00:00Z"));
    }
    let time = b.len() >= 20
        && (b[10] == b'T' || b[10] == b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let rest = &v[19..];
    let rest = rest
        .strip_prefix('.')
        .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()))
        .unwrap_or(rest);
    let zone = rest == "Z"
        || rest == "z"
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':'
            && rest[1..3]
                .bytes()
                .chain(rest[4..6].bytes())
                .all(|c| c.is_ascii_digit()));
    if time && zone {
        Ok(v.to_string())
    } else {
        Err(bad())
    }
}

/// Parses a query that takes only `f` (landing page, conformance, collections).
pub fn plain_query(params: &Params) -> ApiResult<()> {
    for (k, v) in params.iter() {
        match k {
            "f" => check_format(v)?,
            other => return Err(ApiError::param(other, "unknown parameter; use f")),
        }
    }
    Ok(())
}

/// True when a property value equals the filter text: strings exactly, numbers numerically,
/// booleans as `true`/`false`.
pub fn matches(value: Option<&serde_json::Value>, wanted: &str) -> bool {
    use serde_json::Value;
    match value {
        Some(Value::String(s)) => s == wanted,
        Some(Value::Number(n)) => match (n.as_f64(), wanted.parse::<f64>()) {
            (Some(a), Ok(b)) => a == b,
            _ => false,
        },
        Some(Value::Bool(b)) => wanted == if *b { "true" } else { "false" },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn a_listed_value_may_hold_a_comma() {
        let allowed = ["en vente", "vendu, commercialisation achevée", "vendu"];
        let p = Params::any("l=vendu%2C%20commercialisation%20achev%C3%A9e%2Cen%20vente,vendu")
            .unwrap();
        assert_eq!(
            p.list("l", &allowed).unwrap(),
            ["vendu, commercialisation achevée", "en vente", "vendu"]
        );
        let p = Params::any("l=vendu,,%20en%20vente%20").unwrap();
        assert_eq!(p.list("l", &allowed).unwrap(), ["vendu", "en vente"]);
        let p = Params::any("l=vendu,loué").unwrap();
        assert!(p.list("l", &allowed).is_err());
    }
}
