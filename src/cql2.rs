//! CQL2 Text (OGC 21-065r2), the filter language of OGC API – Features Part 3: parsed into an
//! expression, bound to a collection's queryable properties (types checked, confidential
//! fields refused, geometry literals taken to Lambert-93), then evaluated feature by feature
//! on the read model's typed values.
//!
//! Supported: comparisons (`=`, `<>`, `<`, `<=`, `>`, `>=`), `AND`, `OR`, `NOT`, `LIKE` (`%`,
//! `_`, `\` escapes), `IN`, `BETWEEN`, `IS [NOT] NULL`, `CASEI` and `ACCENTI`, `DATE('…')`
//! and `TIMESTAMP('…')`, and the spatial functions `S_INTERSECTS`, `S_WITHIN`, `S_CONTAINS`,
//! `S_DISJOINT`, `S_EQUALS`, `S_TOUCHES`, `S_OVERLAPS`, `S_CROSSES` on WKT geometries
//! (`POINT`, `LINESTRING`, `POLYGON`, their `MULTI` forms, `GEOMETRYCOLLECTION`) and `BBOX`.
//! Logic is three-valued: a comparison with a missing value is unknown, and only features for
//! which the whole filter is true are selected. Keywords are case-insensitive; a property
//! whose name is a keyword is written between double quotes.
//!
//! ```
//! use ecofoncier::cql2::{parse, Expr};
//! let e = parse("terr_etat_occup = 'vacant' AND terr_surf_brute >= 2").unwrap();
//! assert!(matches!(e, Expr::And(ref v) if v.len() == 2));
//! let err = parse("terr_surf_brute >> 2").unwrap_err();
//! assert_eq!(err.position, 18);
//! ```

use std::cmp::Ordering;

use geo::{
    BoundingRect, Coord, Geometry, GeometryCollection, Intersects, LineString, MultiLineString,
    MultiPoint, MultiPolygon, Point, Polygon, Rect, Relate,
};
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use crate::crs::{self, Crs};

/// A syntax or binding error, at a 1-based character position of the filter text.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    pub position: usize,
    pub message: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at position {}: {}", self.position, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn holds(self, o: Ordering) -> bool {
        match self {
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
        }
    }
}

/// A spatial function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpatialOp {
    Intersects,
    Within,
    Contains,
    Disjoint,
    Equals,
    Touches,
    Overlaps,
    Crosses,
}

impl SpatialOp {
    fn named(name: &str) -> Option<SpatialOp> {
        Some(match name {
            "S_INTERSECTS" => SpatialOp::Intersects,
            "S_WITHIN" => SpatialOp::Within,
            "S_CONTAINS" => SpatialOp::Contains,
            "S_DISJOINT" => SpatialOp::Disjoint,
            "S_EQUALS" => SpatialOp::Equals,
            "S_TOUCHES" => SpatialOp::Touches,
            "S_OVERLAPS" => SpatialOp::Overlaps,
            "S_CROSSES" => SpatialOp::Crosses,
            _ => return None,
        })
    }

    fn holds(self, a: &Geometry<f64>, b: &Geometry<f64>) -> bool {
        match self {
            SpatialOp::Intersects => a.intersects(b),
            SpatialOp::Disjoint => !a.intersects(b),
            op => {
                let m = a.relate(b);
                match op {
                    SpatialOp::Within => m.is_within(),
                    SpatialOp::Contains => m.is_contains(),
                    SpatialOp::Equals => m.is_equal_topo(),
                    SpatialOp::Touches => m.is_touches(),
                    SpatialOp::Overlaps => m.is_overlaps(),
                    _ => m.is_crosses(),
                }
            }
        }
    }
}

/// A value in an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// A property, by name, with its position in the text; bound to an index by [`bind`].
    Property {
        name: String,
        at: usize,
    },
    /// A bound property: its index in [`Filter::keys`] and whether it holds dates.
    Slot {
        index: usize,
        date: bool,
    },
    Text(String),
    Number(f64),
    Bool(bool),
    /// `DATE('…')` or `TIMESTAMP('…')`, normalized so that instants sort as text
    /// (`YYYY-MM-DDTHH:MM:SS.fffffffff`, UTC).
    Instant(String),
    Casei(Box<Scalar>),
    Accenti(Box<Scalar>),
}

/// One side of a spatial function.
#[derive(Clone, Debug, PartialEq)]
pub enum Spatial {
    /// The feature's geometry (a property of geometry type).
    Geometry,
    /// A literal, in the filter's CRS until bound, then in Lambert-93.
    Literal(Geometry<f64>),
}

/// A CQL2 boolean expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Bool(bool),
    Compare {
        left: Scalar,
        op: Op,
        right: Scalar,
    },
    Like {
        value: Scalar,
        pattern: Scalar,
    },
    Between {
        value: Scalar,
        low: Scalar,
        high: Scalar,
    },
    In {
        value: Scalar,
        list: Vec<Scalar>,
    },
    IsNull(Scalar),
    Spatial {
        op: SpatialOp,
        left: Spatial,
        right: Spatial,
        /// Where the function's name starts (for binding errors).
        at: usize,
    },
}

// ---------------------------------------------------------------------------------------
// Lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Text(String),
    Number(f64),
    Open,
    Close,
    Comma,
    Cmp(Op),
    End,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    /// Byte offset.
    at: usize,
}

fn position(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].chars().count() + 1
}

fn lex(text: &str) -> Result<Vec<Token>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |at: usize, m: String| Error {
        position: position(text, at),
        message: m,
    };
    while i < b.len() {
        let c = b[i];
        let at = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => {
                i += 1;
                out.push(Token { tok: Tok::Open, at });
            }
            b')' => {
                i += 1;
                out.push(Token {
                    tok: Tok::Close,
                    at,
                });
            }
            b',' => {
                i += 1;
                out.push(Token {
                    tok: Tok::Comma,
                    at,
                });
            }
            b'=' => {
                i += 1;
                out.push(Token {
                    tok: Tok::Cmp(Op::Eq),
                    at,
                });
            }
            b'<' | b'>' => {
                let next = b.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    (b'<', Some(b'>')) => (Op::Ne, 2),
                    (b'<', Some(b'=')) => (Op::Le, 2),
                    (b'>', Some(b'=')) => (Op::Ge, 2),
                    (b'<', _) => (Op::Lt, 1),
                    _ => (Op::Gt, 1),
                };
                i += len;
                out.push(Token {
                    tok: Tok::Cmp(op),
                    at,
                });
            }
            b'\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match text[i..].find('\'') {
                        None => return Err(err(at, "unterminated string (a ' is missing)".into())),
                        Some(k) => {
                            s.push_str(&text[i..i + k]);
                            i += k + 1;
                            if b.get(i) == Some(&b'\'') {
                                s.push('\'');
                                i += 1;
                            } else {
                                break;
                            }
                        }
                    }
                }
                out.push(Token {
                    tok: Tok::Text(s),
                    at,
                });
            }
            b'"' => {
                let Some(k) = text[i + 1..].find('"') else {
                    return Err(err(at, "unterminated quoted property name".into()));
                };
                let name = text[i + 1..i + 1 + k].to_string();
                i += k + 2;
                out.push(Token {
                    tok: Tok::Quoted(name),
                    at,
                });
            }
            b'0'..=b'9' | b'.' | b'-' | b'+' => {
                let start = i;
                if c == b'-' || c == b'+' {
                    i += 1;
                }
                let digits = |i: &mut usize| {
                    let s = *i;
                    while *i < b.len() && b[*i].is_ascii_digit() {
                        *i += 1;
                    }
                    *i > s
                };
                let mut any = digits(&mut i);
                if b.get(i) == Some(&b'.') {
                    i += 1;
                    any |= digits(&mut i);
                }
                if !any {
                    return Err(err(start, format!("unexpected `{}`", c as char)));
                }
                if matches!(b.get(i), Some(b'e' | b'E')) {
                    let save = i;
                    i += 1;
                    if matches!(b.get(i), Some(b'+' | b'-')) {
                        i += 1;
                    }
                    if !digits(&mut i) {
                        i = save;
                    }
                }
                let n: f64 = text[start..i]
                    .parse()
                    .map_err(|_| err(start, format!("`{}` is not a number", &text[start..i])))?;
                out.push(Token {
                    tok: Tok::Number(n),
                    at: start,
                });
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                for (k, ch) in text[i..].char_indices() {
                    if ch.is_alphanumeric() || ch == '_' || ch == ':' || ch == '.' {
                        i = start + k + ch.len_utf8();
                    } else {
                        break;
                    }
                }
                if i == start {
                    let ch = text[i..].chars().next().unwrap_or('?');
                    return Err(err(start, format!("unexpected `{ch}`")));
                }
                out.push(Token {
                    tok: Tok::Word(text[start..i].to_string()),
                    at: start,
                });
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(err(at, format!("unexpected `{ch}`")));
            }
        }
    }
    out.push(Token {
        tok: Tok::End,
        at: text.len(),
    });
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Parser

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    k: usize,
}

/// Words that cannot name a property unless quoted.
const RESERVED: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "BETWEEN",
    "IN",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "DATE",
    "TIMESTAMP",
    "CASEI",
    "ACCENTI",
];

/// Parses a CQL2 Text filter.
pub fn parse(text: &str) -> Result<Expr> {
    let mut p = Parser {
        text,
        tokens: lex(text)?,
        k: 0,
    };
    if p.peek().tok == Tok::End {
        return Err(p.error_here("empty filter"));
    }
    let e = p.expr()?;
    match &p.peek().tok {
        Tok::End => Ok(e),
        _ => Err(p.error_here(&format!(
            "unexpected {} after a complete expression (AND or OR expected)",
            p.describe()
        ))),
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.k]
    }

    fn next(&mut self) -> Token {
        let t = self.tokens[self.k].clone();
        if self.k + 1 < self.tokens.len() {
            self.k += 1;
        }
        t
    }

    fn error_at(&self, at: usize, m: &str) -> Error {
        Error {
            position: position(self.text, at),
            message: m.to_string(),
        }
    }

    fn error_here(&self, m: &str) -> Error {
        self.error_at(self.peek().at, m)
    }

    fn describe(&self) -> String {
        match &self.peek().tok {
            Tok::End => "end of the filter".into(),
            Tok::Word(w) => format!("`{w}`"),
            Tok::Quoted(w) => format!("`\"{w}\"`"),
            Tok::Text(s) => format!("string '{s}'"),
            Tok::Number(n) => format!("number {n}"),
            Tok::Open => "`(`".into(),
            Tok::Close => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Cmp(_) => "a comparison operator".into(),
        }
    }

    /// Whether the next token is keyword `kw` (case-insensitive); consumes it if so.
    fn eat(&mut self, kw: &str) -> bool {
        if matches!(&self.peek().tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw)) {
            self.next();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<()> {
        if self.peek().tok == tok {
            self.next();
            Ok(())
        } else {
            Err(self.error_here(&format!("{what} expected, found {}", self.describe())))
        }
    }

    fn expr(&mut self) -> Result<Expr> {
        let mut terms = vec![self.term()?];
        while self.eat("OR") {
            terms.push(self.term()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().unwrap_or(Expr::Bool(false))
        } else {
            Expr::Or(terms)
        })
    }

    fn term(&mut self) -> Result<Expr> {
        let mut factors = vec![self.factor()?];
        while self.eat("AND") {
            factors.push(self.factor()?);
        }
        Ok(if factors.len() == 1 {
            factors.pop().unwrap_or(Expr::Bool(true))
        } else {
            Expr::And(factors)
        })
    }

    fn factor(&mut self) -> Result<Expr> {
        if self.eat("NOT") {
            return Ok(Expr::Not(Box::new(self.factor()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Open => {
                self.next();
                let e = self.expr()?;
                self.expect(Tok::Close, "`)`")?;
                Ok(e)
            }
            Tok::Word(w) => {
                let up = w.to_ascii_uppercase();
                if let Some(op) = SpatialOp::named(&up) {
                    self.next();
                    self.expect(Tok::Open, &format!("`(` after {up}"))?;
                    let left = self.spatial_arg()?;
                    self.expect(Tok::Comma, "`,` between the two geometries")?;
                    let right = self.spatial_arg()?;
                    self.expect(Tok::Close, "`)`")?;
                    return Ok(Expr::Spatial {
                        op,
                        left,
                        right,
                        at: t.at,
                    });
                }
                let function = ["S_", "T_", "A_"].iter().any(|p| up.starts_with(p));
                if function
                    && matches!(self.tokens.get(self.k + 1).map(|t| &t.tok), Some(Tok::Open))
                {
                    return Err(self.error_here(&format!(
                        "unsupported function `{w}`; spatial functions: S_INTERSECTS, \
                         S_WITHIN, S_CONTAINS, S_DISJOINT, S_EQUALS, S_TOUCHES, S_OVERLAPS, \
                         S_CROSSES"
                    )));
                }
                self.predicate()
            }
            _ => self.predicate(),
        }
    }

    fn predicate(&mut self) -> Result<Expr> {
        let left = self.scalar()?;
        let negated = self.eat("NOT");
        let t = self.peek().clone();
        let e = match &t.tok {
            Tok::Cmp(op) if !negated => {
                self.next();
                let right = self.scalar()?;
                Expr::Compare {
                    left,
                    op: *op,
                    right,
                }
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("LIKE") => {
                self.next();
                let pattern = self.scalar()?;
                Expr::Like {
                    value: left,
                    pattern,
                }
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("BETWEEN") => {
                self.next();
                let low = self.scalar()?;
                if !self.eat("AND") {
                    return Err(self.error_here(&format!(
                        "AND expected in BETWEEN … AND …, found {}",
                        self.describe()
                    )));
                }
                let high = self.scalar()?;
                Expr::Between {
                    value: left,
                    low,
                    high,
                }
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("IN") => {
                self.next();
                self.expect(Tok::Open, "`(` after IN")?;
                let mut list = vec![self.scalar()?];
                while self.peek().tok == Tok::Comma {
                    self.next();
                    list.push(self.scalar()?);
                }
                self.expect(Tok::Close, "`,` or `)` in the IN list")?;
                Expr::In { value: left, list }
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("IS") && !negated => {
                self.next();
                let not = self.eat("NOT");
                if !self.eat("NULL") {
                    return Err(self.error_here(&format!(
                        "NULL expected after IS, found {}",
                        self.describe()
                    )));
                }
                let e = Expr::IsNull(left);
                return Ok(if not { Expr::Not(Box::new(e)) } else { e });
            }
            _ if !negated => {
                if let Scalar::Bool(b) = left {
                    return Ok(Expr::Bool(b));
                }
                return Err(self.error_here(&format!(
                    "a comparison (=, <>, <, <=, >, >=, LIKE, BETWEEN, IN, IS NULL) expected, \
                     found {}",
                    self.describe()
                )));
            }
            _ => {
                return Err(self.error_here(&format!(
                    "LIKE, BETWEEN or IN expected after NOT, found {}",
                    self.describe()
                )))
            }
        };
        Ok(if negated { Expr::Not(Box::new(e)) } else { e })
    }

    fn scalar(&mut self) -> Result<Scalar> {
        let t = self.next();
        match t.tok {
            Tok::Text(s) => Ok(Scalar::Text(s)),
            Tok::Number(n) => Ok(Scalar::Number(n)),
            Tok::Quoted(name) => Ok(Scalar::Property { name, at: t.at }),
            Tok::Word(w) => {
                let up = w.to_ascii_uppercase();
                match up.as_str() {
                    "TRUE" => Ok(Scalar::Bool(true)),
                    "FALSE" => Ok(Scalar::Bool(false)),
                    "DATE" | "TIMESTAMP" => {
                        self.expect(Tok::Open, &format!("`(` after {up}"))?;
                        let at = self.peek().at;
                        let Tok::Text(s) = self.next().tok else {
                            return Err(self.error_at(at, &format!("a quoted {} expected", up.to_lowercase())));
                        };
                        let v = if up == "DATE" { date(&s) } else { timestamp(&s) };
                        let v = v.ok_or_else(|| {
                            self.error_at(
                                at,
                                &if up == "DATE" {
                                    format!("'{s}' is not a date (YYYY-MM-DD)")
                                } else {
                                    format!("'{s}' is not a UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)")
                                },
                            )
                        })?;
                        self.expect(Tok::Close, "`)`")?;
                        Ok(Scalar::Instant(v))
                    }
                    "CASEI" | "ACCENTI" => {
                        self.expect(Tok::Open, &format!("`(` after {up}"))?;
                        let inner = self.scalar()?;
                        self.expect(Tok::Close, "`)`")?;
                        Ok(if up == "CASEI" {
                            Scalar::Casei(Box::new(inner))
                        } else {
                            Scalar::Accenti(Box::new(inner))
                        })
                    }
                    _ if RESERVED.contains(&up.as_str()) => Err(self.error_at(
                        t.at,
                        &format!("a value or a property expected, found keyword `{w}` (quote a property of that name: \"{w}\")"),
                    )),
                    _ => Ok(Scalar::Property { name: w, at: t.at }),
                }
            }
            _ => {
                self.k -= 1;
                Err(self.error_here(&format!(
                    "a value or a property expected, found {}",
                    self.describe()
                )))
            }
        }
    }

    fn spatial_arg(&mut self) -> Result<Spatial> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Quoted(name) => {
                self.next();
                self.property_geometry(name, t.at)
            }
            Tok::Word(w) => {
                let up = w.to_ascii_uppercase();
                match up.as_str() {
                    "POINT" | "LINESTRING" | "POLYGON" | "MULTIPOINT" | "MULTILINESTRING"
                    | "MULTIPOLYGON" | "GEOMETRYCOLLECTION" | "BBOX" | "ENVELOPE" => {
                        Ok(Spatial::Literal(self.geometry()?))
                    }
                    _ => {
                        self.next();
                        self.property_geometry(w, t.at)
                    }
                }
            }
            _ => Err(self.error_here(&format!(
                "a geometry (WKT or BBOX) or a geometry property expected, found {}",
                self.describe()
            ))),
        }
    }

    /// A property used as a geometry; the name is checked when bound.
    fn property_geometry(&self, name: &str, at: usize) -> Result<Spatial> {
        if name == GEOMETRY {
            Ok(Spatial::Geometry)
        } else {
            Err(self.error_at(
                at,
                &format!("`{name}` is not a geometry property (use `{GEOMETRY}`)"),
            ))
        }
    }

    fn number(&mut self) -> Result<f64> {
        match self.peek().tok {
            Tok::Number(n) => {
                self.next();
                Ok(n)
            }
            _ => Err(self.error_here(&format!("a coordinate expected, found {}", self.describe()))),
        }
    }

    fn coord(&mut self) -> Result<Coord<f64>> {
        let x = self.number()?;
        let y = self.number()?;
        // A third (height) or fourth (measure) ordinate is read and left out.
        while matches!(self.peek().tok, Tok::Number(_)) {
            self.next();
        }
        Ok(Coord { x, y })
    }

    fn coords(&mut self) -> Result<Vec<Coord<f64>>> {
        self.expect(Tok::Open, "`(`")?;
        let mut v = vec![self.coord()?];
        while self.peek().tok == Tok::Comma {
            self.next();
            v.push(self.coord()?);
        }
        self.expect(Tok::Close, "`,` or `)`")?;
        Ok(v)
    }

    fn rings(&mut self) -> Result<Polygon<f64>> {
        self.expect(Tok::Open, "`(`")?;
        let mut rings = Vec::new();
        loop {
            let at = self.peek().at;
            let r = self.coords()?;
            if r.len() < 4 || r.first() != r.last() {
                return Err(self.error_at(
                    at,
                    "a polygon ring needs at least four positions, the last equal to the first",
                ));
            }
            rings.push(LineString(r));
            if self.peek().tok != Tok::Comma {
                break;
            }
            self.next();
        }
        self.expect(Tok::Close, "`,` or `)`")?;
        let exterior = rings.remove(0);
        Ok(Polygon::new(exterior, rings))
    }

    /// A list of `(part)`, for the MULTI forms.
    fn parts<T>(&mut self, mut part: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        self.expect(Tok::Open, "`(`")?;
        let mut v = vec![part(self)?];
        while self.peek().tok == Tok::Comma {
            self.next();
            v.push(part(self)?);
        }
        self.expect(Tok::Close, "`,` or `)`")?;
        Ok(v)
    }

    fn geometry(&mut self) -> Result<Geometry<f64>> {
        let t = self.next();
        let Tok::Word(w) = &t.tok else {
            return Err(self.error_at(t.at, "a geometry expected"));
        };
        let up = w.to_ascii_uppercase();
        // `POINT Z (…)`: the dimension marker is read and its ordinates left out.
        if matches!(&self.peek().tok, Tok::Word(d) if ["Z", "M", "ZM"].contains(&d.to_ascii_uppercase().as_str()))
        {
            self.next();
        }
        Ok(match up.as_str() {
            "POINT" => {
                self.expect(Tok::Open, "`(`")?;
                let c = self.coord()?;
                self.expect(Tok::Close, "`)`")?;
                Geometry::Point(Point(c))
            }
            "LINESTRING" => {
                let at = self.peek().at;
                let c = self.coords()?;
                if c.len() < 2 {
                    return Err(self.error_at(at, "a line needs at least two positions"));
                }
                Geometry::LineString(LineString(c))
            }
            "POLYGON" => Geometry::Polygon(self.rings()?),
            "MULTIPOINT" => Geometry::MultiPoint(MultiPoint(self.parts(|p| {
                if p.peek().tok == Tok::Open {
                    p.next();
                    let c = p.coord()?;
                    p.expect(Tok::Close, "`)`")?;
                    Ok(Point(c))
                } else {
                    Ok(Point(p.coord()?))
                }
            })?)),
            "MULTILINESTRING" => Geometry::MultiLineString(MultiLineString(
                self.parts(|p| p.coords().map(LineString))?,
            )),
            "MULTIPOLYGON" => Geometry::MultiPolygon(MultiPolygon(self.parts(|p| p.rings())?)),
            "GEOMETRYCOLLECTION" => {
                Geometry::GeometryCollection(GeometryCollection(self.parts(|p| p.geometry())?))
            }
            _ => {
                // BBOX(minx, miny, maxx, maxy), or with heights (six numbers).
                self.expect(Tok::Open, "`(`")?;
                let mut n = vec![self.number()?];
                while self.peek().tok == Tok::Comma {
                    self.next();
                    n.push(self.number()?);
                }
                self.expect(Tok::Close, "`)`")?;
                let (a0, b0, a1, b1) = match n[..] {
                    [a0, b0, a1, b1] => (a0, b0, a1, b1),
                    [a0, b0, _, a1, b1, _] => (a0, b0, a1, b1),
                    _ => return Err(self.error_at(t.at, "BBOX takes four or six numbers")),
                };
                if a0 > a1 || b0 > b1 {
                    return Err(self.error_at(t.at, "BBOX: the lower corner exceeds the upper one"));
                }
                Geometry::Polygon(Rect::new((a0, b0), (a1, b1)).to_polygon())
            }
        })
    }
}

/// The name of the features' geometry in filters and queryables.
pub const GEOMETRY: &str = "geometry";

/// `YYYY-MM-DD` as an instant.
fn date(s: &str) -> Option<String> {
    crate::date::Date::parse(s).ok()?;
    (s.len() == 10).then(|| format!("{s}T00:00:00.000000000"))
}

/// `YYYY-MM-DDTHH:MM:SS[.f]Z` as an instant.
fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 20 || !(b[10] == b'T' || b[10] == b't') {
        return None;
    }
    date(&s[..10])?;
    let clock = &s[11..19];
    let cb = clock.as_bytes();
    let ok = cb[2] == b':'
        && cb[5] == b':'
        && [0, 1, 3, 4, 6, 7].iter().all(|&k| cb[k].is_ascii_digit());
    let rest = &s[19..];
    let (frac, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            (&r[..n], &r[n..])
        }
        None => ("", rest),
    };
    if !ok || !(zone == "Z" || zone == "z" || zone == "+00:00") || frac.len() > 9 {
        return None;
    }
    Some(format!("{}T{clock}.{frac:0<9}", &s[..10]))
}

// ---------------------------------------------------------------------------------------
// Binding

/// What a collection says of a property name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Property {
    /// A public property of this JSON type (`string`, `number`, `integer`, `boolean`, …).
    Field(&'static str),
    Confidential,
    Unknown,
}

/// A filter bound to a collection: the properties it reads, in order, and the expression
/// over them.
#[derive(Clone, Debug)]
pub struct Filter {
    pub keys: Vec<String>,
    pub expr: Expr,
}

/// The type of a scalar, for checking comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Type {
    Number,
    Text,
    /// A date-holding text property: compares with text and with instants.
    DateText,
    Instant,
    Bool,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::Number => "a number",
            Type::Text | Type::DateText => "a string",
            Type::Instant => "a date or timestamp",
            Type::Bool => "a boolean",
        }
    }

    fn compatible(self, o: Type) -> bool {
        use Type::*;
        self == o
            || matches!(
                (self, o),
                (DateText, Text) | (Text, DateText) | (DateText, Instant) | (Instant, DateText)
            )
    }
}

/// Whether a property of this name holds dates (`…_date`), by the standard's naming.
pub fn is_date_name(name: &str) -> bool {
    name.ends_with("_date") || name.starts_with("date_")
}

struct Binder<'a> {
    text: &'a str,
    lookup: &'a dyn Fn(&str) -> Property,
    crs: Crs,
    keys: Vec<String>,
}

/// Binds `expr` (parsed from `text`) to a collection: `lookup` tells each property name's
/// kind; literal geometries are read in `crs` and taken to Lambert-93. Unknown and
/// confidential properties, comparisons of unlike types and misplaced geometries are errors
/// at their position.
pub fn bind(text: &str, expr: Expr, lookup: &dyn Fn(&str) -> Property, crs: Crs) -> Result<Filter> {
    let mut b = Binder {
        text,
        lookup,
        crs,
        keys: Vec::new(),
    };
    let expr = b.expr(expr)?;
    Ok(Filter { keys: b.keys, expr })
}

impl Binder<'_> {
    fn err(&self, at: usize, m: String) -> Error {
        Error {
            position: position(self.text, at),
            message: m,
        }
    }

    fn expr(&mut self, e: Expr) -> Result<Expr> {
        Ok(match e {
            Expr::And(v) => Expr::And(v.into_iter().map(|e| self.expr(e)).collect::<Result<_>>()?),
            Expr::Or(v) => Expr::Or(v.into_iter().map(|e| self.expr(e)).collect::<Result<_>>()?),
            Expr::Not(e) => Expr::Not(Box::new(self.expr(*e)?)),
            Expr::Bool(b) => Expr::Bool(b),
            Expr::Compare { left, op, right } => {
                let at = first_at(&left);
                let (left, lt) = self.scalar(left)?;
                let (right, rt) = self.scalar(right)?;
                self.check(at, lt, rt)?;
                Expr::Compare { left, op, right }
            }
            Expr::Like { value, pattern } => {
                let at = first_at(&value);
                let (value, vt) = self.scalar(value)?;
                let (pattern, pt) = self.scalar(pattern)?;
                for t in [vt, pt] {
                    if !matches!(t, Some(Type::Text | Type::DateText) | None) {
                        return Err(self.err(
                            at,
                            format!("LIKE compares strings, not {}", t.map_or("", |t| t.name())),
                        ));
                    }
                }
                Expr::Like { value, pattern }
            }
            Expr::Between { value, low, high } => {
                let at = first_at(&value);
                let (value, vt) = self.scalar(value)?;
                let (low, lt) = self.scalar(low)?;
                let (high, ht) = self.scalar(high)?;
                if let Some(t) = vt.or(lt).or(ht) {
                    if !matches!(t, Type::Number | Type::Instant | Type::DateText) {
                        return Err(self.err(
                            at,
                            format!("BETWEEN takes numbers or dates, not {}", t.name()),
                        ));
                    }
                }
                self.check(at, vt, lt)?;
                self.check(at, vt, ht)?;
                Expr::Between { value, low, high }
            }
            Expr::In { value, list } => {
                let at = first_at(&value);
                let (value, vt) = self.scalar(value)?;
                let mut out = Vec::with_capacity(list.len());
                for s in list {
                    let (s, st) = self.scalar(s)?;
                    self.check(at, vt, st)?;
                    out.push(s);
                }
                Expr::In { value, list: out }
            }
            Expr::IsNull(s) => Expr::IsNull(self.scalar(s)?.0),
            Expr::Spatial {
                op,
                left,
                right,
                at,
            } => {
                // Two literals are allowed by the grammar: constant for every feature.
                Expr::Spatial {
                    op,
                    left: self.spatial(left, at)?,
                    right: self.spatial(right, at)?,
                    at,
                }
            }
        })
    }

    fn check(&self, at: usize, a: Option<Type>, b: Option<Type>) -> Result<()> {
        match (a, b) {
            (Some(a), Some(b)) if !a.compatible(b) => Err(self.err(
                at,
                format!("{} cannot be compared with {}", a.name(), b.name()),
            )),
            _ => Ok(()),
        }
    }

    fn spatial(&self, s: Spatial, at: usize) -> Result<Spatial> {
        Ok(match s {
            Spatial::Geometry => Spatial::Geometry,
            Spatial::Literal(g) => {
                Spatial::Literal(to_l93(&g, self.crs).map_err(|m| self.err(at, m))?)
            }
        })
    }

    /// The bound scalar and its type (`None` for a boolean or unknown-typed property).
    fn scalar(&mut self, s: Scalar) -> Result<(Scalar, Option<Type>)> {
        Ok(match s {
            Scalar::Property { name, at } => {
                let ty = match (self.lookup)(&name) {
                    Property::Unknown if name == GEOMETRY => {
                        return Err(self.err(
                            at,
                            format!(
                            "`{GEOMETRY}` can only be used in a spatial function (S_INTERSECTS, …)"
                        ),
                        ))
                    }
                    Property::Unknown => {
                        return Err(self.err(
                            at,
                            format!("unknown property `{name}` (see the collection's queryables)"),
                        ))
                    }
                    Property::Confidential => {
                        return Err(self.err(
                            at,
                            format!("`{name}` is confidential and cannot be filtered on"),
                        ))
                    }
                    Property::Field(t) => match t {
                        "number" | "integer" => Type::Number,
                        "boolean" => Type::Bool,
                        "string" if is_date_name(&name) => Type::DateText,
                        "string" => Type::Text,
                        other => {
                            return Err(
                                self.err(at, format!("`{name}` is {other}: it cannot be compared"))
                            )
                        }
                    },
                };
                let index = match self.keys.iter().position(|k| *k == name) {
                    Some(i) => i,
                    None => {
                        self.keys.push(name.clone());
                        self.keys.len() - 1
                    }
                };
                (
                    Scalar::Slot {
                        index,
                        date: ty == Type::DateText,
                    },
                    Some(ty),
                )
            }
            Scalar::Text(_) => (s, Some(Type::Text)),
            Scalar::Number(_) => (s, Some(Type::Number)),
            Scalar::Bool(_) => (s, Some(Type::Bool)),
            Scalar::Instant(_) => (s, Some(Type::Instant)),
            Scalar::Casei(inner) => {
                let (inner, t) = self.scalar(*inner)?;
                (Scalar::Casei(Box::new(inner)), t)
            }
            Scalar::Accenti(inner) => {
                let (inner, t) = self.scalar(*inner)?;
                (Scalar::Accenti(Box::new(inner)), t)
            }
            Scalar::Slot { .. } => (s, None),
        })
    }
}

fn first_at(s: &Scalar) -> usize {
    match s {
        Scalar::Property { at, .. } => *at,
        Scalar::Casei(i) | Scalar::Accenti(i) => first_at(i),
        _ => 0,
    }
}

/// A literal geometry in `crs`, in Lambert-93; geographic edges are cut into pieces of at
/// most 0.05° first, so that the straight Lambert-93 edge follows the one the client drew.
fn to_l93(g: &Geometry<f64>, crs: Crs) -> std::result::Result<Geometry<f64>, String> {
    use geo::MapCoords;
    let g = if matches!(crs, Crs::Crs84 | Crs::Epsg4326) {
        densify(g)
    } else {
        g.clone()
    };
    g.try_map_coords(|c| {
        crs::to_l93(crs, c.x, c.y)
            .map(|(x, y)| Coord { x, y })
            .map_err(|e| format!("a geometry position is outside its CRS: {e}"))
    })
}

fn densify(g: &Geometry<f64>) -> Geometry<f64> {
    fn line(l: &LineString<f64>) -> LineString<f64> {
        let mut out = Vec::with_capacity(l.0.len());
        for w in l.0.windows(2) {
            let (a, b) = (w[0], w[1]);
            let len = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
            let n = ((len / 0.05).ceil() as usize).clamp(1, 64);
            for k in 0..n {
                let t = k as f64 / n as f64;
                out.push(Coord {
                    x: a.x + (b.x - a.x) * t,
                    y: a.y + (b.y - a.y) * t,
                });
            }
        }
        if let Some(l) = l.0.last() {
            out.push(*l);
        }
        LineString(out)
    }
    fn poly(p: &Polygon<f64>) -> Polygon<f64> {
        Polygon::new(line(p.exterior()), p.interiors().iter().map(line).collect())
    }
    match g {
        Geometry::LineString(l) => Geometry::LineString(line(l)),
        Geometry::Polygon(p) => Geometry::Polygon(poly(p)),
        Geometry::MultiLineString(m) => {
            Geometry::MultiLineString(MultiLineString(m.0.iter().map(line).collect()))
        }
        Geometry::MultiPolygon(m) => {
            Geometry::MultiPolygon(MultiPolygon(m.0.iter().map(poly).collect()))
        }
        Geometry::GeometryCollection(c) => {
            Geometry::GeometryCollection(GeometryCollection(c.0.iter().map(densify).collect()))
        }
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation

/// A value during evaluation (text borrowed from the feature or the filter when it can be).
#[derive(Clone, Debug, PartialEq)]
enum V<'a> {
    Number(f64),
    Text(std::borrow::Cow<'a, str>),
    Bool(bool),
    Instant(&'a str),
}

impl V<'_> {
    fn cmp(&self, o: &V<'_>) -> Option<Ordering> {
        match (self, o) {
            (V::Number(a), V::Number(b)) => a.partial_cmp(b),
            (V::Text(a), V::Text(b)) => Some(a.cmp(b)),
            (V::Instant(a), V::Instant(b)) => Some(a.cmp(b)),
            (V::Bool(a), V::Bool(b)) => Some(a.cmp(b)),
            (V::Text(a), V::Instant(b)) => Some(date(a).or_else(|| timestamp(a))?.as_str().cmp(b)),
            (V::Instant(a), V::Text(b)) => {
                Some((*a).cmp(date(b).or_else(|| timestamp(b))?.as_str()))
            }
            _ => None,
        }
    }
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn strip_accents(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect()
}

/// A feature as the evaluator sees it: the values of [`Filter::keys`] and, on demand, its
/// Lambert-93 geometry.
pub struct Feature<'a> {
    pub values: &'a [Option<Value>],
    pub geometry: &'a mut dyn FnMut() -> Geometry<f64>,
    cached: Option<Geometry<f64>>,
}

impl<'a> Feature<'a> {
    pub fn new(
        values: &'a [Option<Value>],
        geometry: &'a mut dyn FnMut() -> Geometry<f64>,
    ) -> Feature<'a> {
        Feature {
            values,
            geometry,
            cached: None,
        }
    }

    fn geometry(&mut self) -> &Geometry<f64> {
        if self.cached.is_none() {
            self.cached = Some((self.geometry)());
        }
        self.cached.as_ref().expect("set above")
    }
}

impl Filter {
    /// Whether the filter is true for `f` (unknown counts as false).
    pub fn matches(&self, f: &mut Feature<'_>) -> bool {
        eval(&self.expr, f) == Some(true)
    }

    /// A Lambert-93 rectangle every selected feature's geometry meets, when the filter's
    /// spatial part gives one: the R-tree then proposes the candidates.
    pub fn envelope(&self) -> Option<Rect<f64>> {
        envelope(&self.expr)
    }

    /// Whether the filter reads the features' geometry.
    pub fn is_spatial(&self) -> bool {
        spatial(&self.expr)
    }
}

fn spatial(e: &Expr) -> bool {
    match e {
        Expr::And(v) | Expr::Or(v) => v.iter().any(spatial),
        Expr::Not(e) => spatial(e),
        Expr::Spatial { .. } => true,
        _ => false,
    }
}

fn envelope(e: &Expr) -> Option<Rect<f64>> {
    match e {
        Expr::Spatial {
            op, left, right, ..
        } if *op != SpatialOp::Disjoint => match (left, right) {
            (Spatial::Geometry, Spatial::Literal(g)) | (Spatial::Literal(g), Spatial::Geometry) => {
                g.bounding_rect()
            }
            _ => None,
        },
        Expr::And(v) => v.iter().filter_map(envelope).min_by(|a, b| {
            (a.width() * a.height())
                .partial_cmp(&(b.width() * b.height()))
                .unwrap_or(Ordering::Equal)
        }),
        Expr::Or(v) => {
            let mut out: Option<Rect<f64>> = None;
            for e in v {
                let r = envelope(e)?;
                out = Some(match out {
                    None => r,
                    Some(o) => Rect::new(
                        (o.min().x.min(r.min().x), o.min().y.min(r.min().y)),
                        (o.max().x.max(r.max().x), o.max().y.max(r.max().y)),
                    ),
                });
            }
            out
        }
        _ => None,
    }
}

fn value<'a>(s: &'a Scalar, f: &'a Feature<'_>) -> Option<V<'a>> {
    use std::borrow::Cow;
    Some(match s {
        Scalar::Slot { index, .. } => match f.values.get(*index)?.as_ref()? {
            Value::Number(n) => V::Number(n.as_f64()?),
            // A date-holding text compares with instants through `V::cmp`.
            Value::String(t) => V::Text(Cow::Borrowed(t)),
            Value::Bool(b) => V::Bool(*b),
            _ => return None,
        },
        Scalar::Text(t) => V::Text(Cow::Borrowed(t)),
        Scalar::Number(n) => V::Number(*n),
        Scalar::Bool(b) => V::Bool(*b),
        Scalar::Instant(t) => V::Instant(t),
        Scalar::Casei(i) => match value(i, f)? {
            V::Text(t) => V::Text(Cow::Owned(lower(&t))),
            v => v,
        },
        Scalar::Accenti(i) => match value(i, f)? {
            V::Text(t) => V::Text(Cow::Owned(strip_accents(&t))),
            v => v,
        },
        Scalar::Property { .. } => return None,
    })
}

fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn eval(e: &Expr, f: &mut Feature<'_>) -> Option<bool> {
    match e {
        Expr::And(v) => {
            let mut acc = Some(true);
            for e in v {
                acc = and(acc, eval(e, f));
                if acc == Some(false) {
                    break;
                }
            }
            acc
        }
        Expr::Or(v) => {
            let mut acc = Some(false);
            for e in v {
                acc = match (acc, eval(e, f)) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                };
                if acc == Some(true) {
                    break;
                }
            }
            acc
        }
        Expr::Not(e) => eval(e, f).map(|b| !b),
        Expr::Bool(b) => Some(*b),
        Expr::Compare { left, op, right } => {
            let o = value(left, f)?.cmp(&value(right, f)?)?;
            Some(op.holds(o))
        }
        Expr::Like { value: v, pattern } => {
            let (V::Text(t), V::Text(p)) = (value(v, f)?, value(pattern, f)?) else {
                return None;
            };
            Some(like(&t, &p))
        }
        Expr::Between {
            value: v,
            low,
            high,
        } => {
            let x = value(v, f)?;
            let lo = x.cmp(&value(low, f)?)?;
            let hi = x.cmp(&value(high, f)?)?;
            Some(lo != Ordering::Less && hi != Ordering::Greater)
        }
        Expr::In { value: v, list } => {
            let x = value(v, f)?;
            let mut unknown = false;
            for s in list {
                match value(s, f).and_then(|y| x.cmp(&y)) {
                    Some(Ordering::Equal) => return Some(true),
                    Some(_) => {}
                    None => unknown = true,
                }
            }
            if unknown {
                None
            } else {
                Some(false)
            }
        }
        Expr::IsNull(s) => Some(value(s, f).is_none()),
        Expr::Spatial {
            op, left, right, ..
        } => {
            let l = match left {
                Spatial::Geometry => f.geometry().clone(),
                Spatial::Literal(g) => g.clone(),
            };
            let r = match right {
                Spatial::Geometry => f.geometry(),
                Spatial::Literal(g) => g,
            };
            Some(op.holds(&l, r))
        }
    }
}

/// Whether `text` matches the LIKE `pattern`: `%` any run of characters, `_` one character,
/// `\` makes the next character literal.
///
/// ```
/// use ecofoncier::cql2::like;
/// assert!(like("Zone de la Vallée", "Zone%Vall_e"));
/// assert!(like("100%", "100\\%"));
/// assert!(!like("1000", "100\\%"));
/// ```
pub fn like(text: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Any,
        One,
        Char(char),
    }
    let mut pat = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        pat.push(match c {
            '%' => P::Any,
            '_' => P::One,
            '\\' => P::Char(it.next().unwrap_or('\\')),
            c => P::Char(c),
        });
    }
    let t: Vec<char> = text.chars().collect();
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < t.len() {
        match pat.get(j) {
            Some(P::Any) => {
                star = Some((j, i));
                j += 1;
            }
            Some(P::One) => {
                i += 1;
                j += 1;
            }
            Some(P::Char(c)) if *c == t[i] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((sj, si)) => {
                    j = sj + 1;
                    i = si + 1;
                    star = Some((sj, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[j..].iter().all(|p| *p == P::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Property {
        match name {
            "n" => Property::Field("number"),
            "s" => Property::Field("string"),
            "b" => Property::Field("boolean"),
            "d_date" => Property::Field("string"),
            "secret" => Property::Confidential,
            _ => Property::Unknown,
        }
    }

    fn filter(text: &str) -> Result<Filter> {
        bind(text, parse(text)?, &lookup, Crs::Lambert93)
    }

    fn eval_on(text: &str, values: &[Option<Value>]) -> bool {
        let f = filter(text).unwrap();
        let vals: Vec<Option<Value>> = f
            .keys
            .iter()
            .map(|k| {
                let i = ["n", "s", "b", "d_date"]
                    .iter()
                    .position(|x| x == k)
                    .unwrap();
                values[i].clone()
            })
            .collect();
        let mut g = || Geometry::Point(Point::new(600_010.0, 6_000_010.0));
        f.matches(&mut Feature::new(&vals, &mut g))
    }

    #[test]
    fn operators_and_three_valued_logic() {
        use serde_json::json;
        let row = [
            Some(json!(3.5)),
            Some(json!("Zone d'Activités")),
            Some(json!(true)),
            Some(json!("2021-06-01")),
        ];
        let empty = [None, None, None, None];
        for (f, want) in [
            ("n > 3 AND n <= 3.5", true),
            ("n <> 3.5 OR s = 'Zone d''Activités'", true),
            ("NOT n BETWEEN 1 AND 3", true),
            ("n IN (1, 2, 3.5)", true),
            ("n NOT IN (1, 2)", true),
            ("s LIKE 'Zone d%'", true),
            ("s NOT LIKE '%zone%'", true),
            ("CASEI(s) LIKE CASEI('%ZONE%')", true),
            (
                "ACCENTI(CASEI(s)) = ACCENTI(CASEI('zone d''activites'))",
                true,
            ),
            ("b = TRUE AND b <> false", true),
            (
                "d_date >= DATE('2021-01-01') AND d_date < TIMESTAMP('2021-06-01T00:00:01Z')",
                true,
            ),
            ("d_date = '2021-06-01'", true),
            ("s IS NOT NULL AND NOT (n IS NULL)", true),
            ("S_INTERSECTS(geometry, BBOX(600000, 6000000, 600020, 6000020))", true),
            (
                "S_WITHIN(geometry, POLYGON((600000 6000000, 600020 6000000, 600020 6000020, 600000 6000020, 600000 6000000)))",
                true,
            ),
            ("S_DISJOINT(geometry, POINT(600001 6000001))", true),
            ("S_INTERSECTS(geometry, MULTIPOINT((600001 6000001), (600010 6000010)))", true),
            ("TRUE", true),
            ("(n < 0 OR n > 100)", false),
        ] {
            assert_eq!(eval_on(f, &row), want, "{f}");
        }
        // A missing value makes a comparison unknown, and NOT unknown is unknown.
        for f in [
            "n > 3",
            "NOT n > 3",
            "n IN (1)",
            "NOT s LIKE 'x'",
            "n < 0 OR n >= 0",
        ] {
            assert!(!eval_on(f, &empty), "{f}");
        }
        assert!(eval_on("n IS NULL AND s IS NULL", &empty));
        assert!(eval_on("n > 1 OR TRUE", &empty));
    }

    #[test]
    fn errors_name_their_position() {
        for (f, pos, words) in [
            ("n >> 2", 4, "value or a property"),
            ("n = 'x", 5, "unterminated"),
            ("unknown = 1", 1, "unknown property `unknown`"),
            ("n = 1 AND secret = 'x'", 11, "confidential"),
            ("n = 'text'", 1, "cannot be compared"),
            ("n = 1 n = 2", 7, "AND or OR"),
            ("s LIKE 3", 1, "LIKE compares strings"),
            (
                "S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))",
                32,
                "four positions",
            ),
            ("S_INTERSECTS(s, POINT(0 0))", 14, "not a geometry property"),
            ("d_date > DATE('2021-13-01')", 15, "not a date"),
            ("n BETWEEN 1 2", 13, "AND expected"),
            ("", 1, "empty"),
            ("geometry = 1", 1, "spatial function"),
            ("S_FOO(geometry, POINT(0 0))", 1, "unsupported function"),
            ("é = 1", 1, "unknown property `é`"),
        ] {
            let e = filter(f).unwrap_err();
            assert_eq!(e.position, pos, "{f}: {e}");
            assert!(e.message.contains(words), "{f}: {e}");
        }
    }

    #[test]
    fn spatial_parts_give_the_candidates_envelope() {
        let f = filter("n > 1 AND S_INTERSECTS(geometry, BBOX(600000, 6000000, 600010, 6000005))")
            .unwrap();
        let r = f.envelope().unwrap();
        assert_eq!((r.min().x, r.max().y), (600_000.0, 6_000_005.0));
        assert!(
            filter("n > 1 OR S_INTERSECTS(geometry, BBOX(600000, 6000000, 600001, 6000001))")
                .unwrap()
                .envelope()
                .is_none()
        );
        assert!(
            filter("S_DISJOINT(geometry, BBOX(600000, 6000000, 600001, 6000001))")
                .unwrap()
                .envelope()
                .is_none()
        );
    }

    #[test]
    fn geographic_literals_are_projected() {
        let text = "S_INTERSECTS(geometry, POINT(2.35 48.85))";
        let f = bind(text, parse(text).unwrap(), &lookup, Crs::Crs84).unwrap();
        let r = f.envelope().unwrap();
        // Paris in Lambert-93.
        assert!((r.min().x - 652_000.0).abs() < 2_000.0, "{r:?}");
        assert!((r.min().y - 6_862_000.0).abs() < 2_000.0, "{r:?}");
    }
}
