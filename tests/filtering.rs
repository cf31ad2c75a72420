//! OGC API – Features Part 3 (CQL2 Text filters, queryables), `sortby` and `properties`
//! against the running binary, checked with a brute-force scan of the read model.

mod common;

use std::sync::OnceLock;

use common::{get, model};
use geo::{Geometry, Intersects, Rect};
use proptest::prelude::*;
use serde_json::Value;

/// A plot as the brute force sees it: id, public properties, Lambert-93 geometry.
struct Plot {
    id: String,
    props: serde_json::Map<String, Value>,
    geometry: Geometry<f64>,
}

fn plots() -> &'static Vec<Plot> {
    static P: OnceLock<Vec<Plot>> = OnceLock::new();
    P.get_or_init(|| {
        let c = model().collection("terrains").unwrap();
        c.live_slots()
            .map(|s| {
                let mut out = Vec::new();
                c.write_feature(&mut out, s, ecofoncier::crs::Crs::Crs84);
                let f: Value = serde_json::from_slice(&out).unwrap();
                Plot {
                    id: f["id"].as_str().unwrap().to_string(),
                    props: f["properties"].as_object().unwrap().clone(),
                    geometry: c.geometry(s),
                }
            })
            .collect()
    })
}

fn items(query: &[(&str, &str)]) -> common::Response {
    let qs = serde_urlencoded::to_string(query).unwrap();
    get(&format!("/ogc/collections/terrains/items?{qs}"))
}

/// The ids a filter selects, sorted, with `numberMatched`.
fn served_ids(filter: &str, extra: &[(&str, &str)]) -> (u64, Vec<String>) {
    let mut q = vec![
        ("filter", filter),
        ("filter-lang", "cql2-text"),
        ("limit", "10000"),
        ("sortby", "terr_id"),
        ("properties", "terr_id"),
    ];
    q.extend_from_slice(extra);
    let r = items(&q);
    assert_eq!(
        r.status,
        200,
        "{filter}: {}",
        String::from_utf8_lossy(&r.body)
    );
    let doc = r.json();
    let ids = doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    (doc["numberMatched"].as_u64().unwrap(), ids)
}

// -----------------------------------------------------------------------------------------
// The brute force: its own filter type, written as CQL2 text and evaluated on each plot.

#[derive(Clone, Debug)]
enum Lit {
    Num(f64),
    Text(String),
    Date(String),
}

impl Lit {
    fn cql(&self) -> String {
        match self {
            Lit::Num(n) => format!("{n}"),
            Lit::Text(t) => format!("'{}'", t.replace('\'', "''")),
            Lit::Date(d) => format!("DATE('{d}')"),
        }
    }
}

#[derive(Clone, Debug)]
enum F {
    Cmp(&'static str, &'static str, Lit),
    In(&'static str, Vec<Lit>),
    Between(&'static str, f64, f64),
    Like(&'static str, String),
    IsNull(&'static str),
    Not(Box<F>),
    And(Box<F>, Box<F>),
    Or(Box<F>, Box<F>),
    /// A Lambert-93 rectangle (`filter-crs` EPSG:2154).
    Bbox(f64, f64, f64, f64),
}

impl F {
    fn cql(&self) -> String {
        match self {
            F::Cmp(p, op, l) => format!("{p} {op} {}", l.cql()),
            F::In(p, v) => format!(
                "{p} IN ({})",
                v.iter().map(Lit::cql).collect::<Vec<_>>().join(", ")
            ),
            F::Between(p, a, b) => format!("{p} BETWEEN {a} AND {b}"),
            F::Like(p, pat) => format!("{p} LIKE '{pat}'"),
            F::IsNull(p) => format!("{p} IS NULL"),
            F::Not(f) => format!("NOT ({})", f.cql()),
            F::And(a, b) => format!("({}) AND ({})", a.cql(), b.cql()),
            F::Or(a, b) => format!("({}) or ({})", a.cql(), b.cql()),
            F::Bbox(a, b, c, d) => {
                format!("S_INTERSECTS(geometry, BBOX({a}, {b}, {c}, {d}))")
            }
        }
    }

    /// Three-valued: `None` when a value it compares is missing.
    fn eval(&self, p: &Plot) -> Option<bool> {
        let cmp = |prop: &str, l: &Lit| -> Option<std::cmp::Ordering> {
            let v = p.props.get(prop)?;
            match (v, l) {
                (Value::Number(n), Lit::Num(x)) => n.as_f64()?.partial_cmp(x),
                (Value::String(s), Lit::Text(t)) | (Value::String(s), Lit::Date(t)) => {
                    Some(s.as_str().cmp(t.as_str()))
                }
                _ => None,
            }
        };
        match self {
            F::Cmp(prop, op, l) => {
                let o = cmp(prop, l)?;
                Some(match *op {
                    "=" => o.is_eq(),
                    "<>" => o.is_ne(),
                    "<" => o.is_lt(),
                    "<=" => o.is_le(),
                    ">" => o.is_gt(),
                    _ => o.is_ge(),
                })
            }
            F::In(prop, v) => {
                let mut out = Some(false);
                for l in v {
                    match cmp(prop, l) {
                        Some(o) if o.is_eq() => return Some(true),
                        Some(_) => {}
                        None => out = None,
                    }
                }
                out
            }
            F::Between(prop, a, b) => {
                let x = p.props.get(*prop)?.as_f64()?;
                Some(*a <= x && x <= *b)
            }
            F::Like(prop, pat) => {
                let s = p.props.get(*prop)?.as_str()?;
                Some(like(s, pat))
            }
            F::IsNull(prop) => Some(p.props.get(*prop).is_none_or(Value::is_null)),
            F::Not(f) => f.eval(p).map(|b| !b),
            F::And(a, b) => match (a.eval(p), b.eval(p)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            F::Or(a, b) => match (a.eval(p), b.eval(p)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            F::Bbox(a, b, c, d) => Some(Rect::new((*a, *b), (*c, *d)).intersects(&p.geometry)),
        }
    }
}

/// LIKE by regular recursion (the server uses an iterative matcher).
fn like(s: &str, pat: &str) -> bool {
    fn go(s: &[char], p: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('%') => (0..=s.len()).any(|k| go(&s[k..], &p[1..])),
            Some('_') => !s.is_empty() && go(&s[1..], &p[1..]),
            Some(c) => s.first() == Some(c) && go(&s[1..], &p[1..]),
        }
    }
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = pat.chars().collect();
    go(&s, &p)
}

fn brute(f: &F) -> Vec<String> {
    let mut ids: Vec<String> = plots()
        .iter()
        .filter(|p| f.eval(p) == Some(true))
        .map(|p| p.id.clone())
        .collect();
    ids.sort();
    ids
}

fn distinct(prop: &str) -> Vec<String> {
    let mut v: Vec<String> = plots()
        .iter()
        .filter_map(|p| p.props.get(prop)?.as_str().map(String::from))
        .collect();
    v.sort();
    v.dedup();
    v
}

fn leaf() -> impl Strategy<Value = F> {
    let states = distinct("terr_etat_occup");
    let stages = distinct("terr_stade_comm");
    let state = proptest::sample::select(states);
    let op = proptest::sample::select(vec!["=", "<>", "<", "<=", ">", ">="]);
    let date = (2005..2027i32, 1..13u32).prop_map(|(y, m)| format!("{y}-{m:02}-01"));
    // Hauts-de-France in Lambert-93.
    let bbox = (
        600_000.0..760_000.0f64,
        6_900_000.0..7_110_000.0f64,
        1_000.0..40_000.0f64,
    )
        .prop_map(|(x, y, w)| F::Bbox(x.round(), y.round(), (x + w).round(), (y + w).round()));
    prop_oneof![
        (op.clone(), 0.0..6.0f64).prop_map(|(o, x)| F::Cmp(
            "terr_surf_brute",
            o,
            Lit::Num((x * 100.0).round() / 100.0)
        )),
        (op.clone(), state.clone()).prop_map(|(o, s)| F::Cmp("terr_etat_occup", o, Lit::Text(s))),
        (op, date.clone()).prop_map(|(o, d)| F::Cmp("terr_inoccupe_date", o, Lit::Date(d))),
        proptest::sample::subsequence(stages, 1..3)
            .prop_map(|v| F::In("terr_stade_comm", v.into_iter().map(Lit::Text).collect())),
        (0.0..3.0f64, 0.0..3.0f64).prop_map(|(a, w)| F::Between(
            "terr_surf_brute",
            (a * 10.0).round() / 10.0,
            ((a + w) * 10.0).round() / 10.0
        )),
        state.prop_map(|s| {
            let head: String = s.chars().take(2).collect();
            F::Like("terr_etat_occup", format!("{head}%"))
        }),
        proptest::sample::select(vec!["terr_inoccupe_date", "terr_cle_en_main", "site_id"])
            .prop_map(F::IsNull),
        bbox,
    ]
}

fn filter() -> impl Strategy<Value = F> {
    leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| F::Not(Box::new(f))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| F::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| F::Or(Box::new(a), Box::new(b))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any generated filter selects what a scan of every plot selects: count and, page by
    /// page in `terr_id` order, the ids.
    #[test]
    fn filters_select_what_a_scan_selects(f in filter()) {
        let want = brute(&f);
        let text = f.cql();
        let (matched, ids) = served_ids(&text, &[("filter-crs", "http://www.opengis.net/def/crs/EPSG/0/2154")]);
        prop_assert_eq!(matched as usize, want.len(), "{}", text);
        prop_assert_eq!(&ids[..], &want[..want.len().min(10_000)], "{}", text);
    }
}

#[test]
fn written_examples_match_the_scan() {
    let vacant_big = F::And(
        Box::new(F::Cmp("terr_etat_occup", "=", Lit::Text("vacant".into()))),
        Box::new(F::Cmp("terr_surf_brute", ">", Lit::Num(2.0))),
    );
    let (n, ids) = served_ids("terr_etat_occup = 'vacant' AND terr_surf_brute > 2", &[]);
    let want = brute(&vacant_big);
    assert!(!want.is_empty());
    assert_eq!((n as usize, ids), (want.len(), want));

    // Keywords in any case, quoted property names, NOT forms and dates.
    for (text, f) in [
        (
            "\"terr_etat_occup\" not in ('occupé') and not terr_surf_brute between 0 and 1",
            F::And(
                Box::new(F::Not(Box::new(F::In(
                    "terr_etat_occup",
                    vec![Lit::Text("occupé".into())],
                )))),
                Box::new(F::Not(Box::new(F::Between("terr_surf_brute", 0.0, 1.0)))),
            ),
        ),
        (
            "terr_inoccupe_date < DATE('2022-01-01') OR terr_inoccupe_date IS NULL",
            F::Or(
                Box::new(F::Cmp(
                    "terr_inoccupe_date",
                    "<",
                    Lit::Date("2022-01-01".into()),
                )),
                Box::new(F::IsNull("terr_inoccupe_date")),
            ),
        ),
    ] {
        let (n, ids) = served_ids(text, &[]);
        let want = brute(&f);
        assert_eq!(n as usize, want.len(), "{text}");
        assert_eq!(ids, want[..want.len().min(10_000)], "{text}");
    }
}

/// A CRS84 polygon (the default `filter-crs`) selects the plots its Lambert-93 image meets,
/// found through the R-tree, and `S_WITHIN` only those inside.
#[test]
fn spatial_filters_in_crs84() {
    let ring = "3.03 50.62, 3.13 50.62, 3.13 50.69, 3.03 50.69, 3.03 50.62";
    let (n, _) = served_ids(&format!("S_INTERSECTS(geometry, POLYGON(({ring})))"), &[]);
    let bbox = items(&[("bbox", "3.03,50.62,3.13,50.69"), ("limit", "1")]).json();
    let by_bbox = bbox["numberMatched"].as_u64().unwrap();
    // The bbox parameter and the polygon both cover that rectangle in CRS84.
    assert!(
        n > 500 && n.abs_diff(by_bbox) <= by_bbox / 50,
        "{n} vs {by_bbox}"
    );
    let (within, _) = served_ids(&format!("S_WITHIN(geometry, POLYGON(({ring})))"), &[]);
    assert!(within > 0 && within < n, "{within} within, {n} meeting");
    let (disjoint, _) = served_ids(&format!("S_DISJOINT(geometry, POLYGON(({ring})))"), &[]);
    assert_eq!(disjoint + n, plots().len() as u64);
    // The same rectangle given in EPSG:4326 (latitude first).
    let (n4326, _) = served_ids(
        "S_INTERSECTS(geometry, BBOX(50.62, 3.03, 50.69, 3.13))",
        &[("filter-crs", "http://www.opengis.net/def/crs/EPSG/0/4326")],
    );
    assert_eq!(n4326, n);
}

#[test]
fn errors_name_the_filter_and_the_position() {
    for (filter, position, words) in [
        ("terr_surf_brute >> 2", 18, "value or a property"),
        ("colour = 'red'", 1, "unknown property `colour`"),
        (
            "terr_etat_occup = 'vacant' AND terr_acquereur = 'x'",
            32,
            "confidential",
        ),
        ("terr_vente_montant > 0", 1, "confidential"),
        ("terr_surf_brute = 'grand'", 1, "cannot be compared"),
        ("terr_etat_occup = 'vacant", 19, "unterminated"),
        (
            "S_INTERSECTS(geometry, POLYGON((3 50, 4 50)))",
            32,
            "four positions",
        ),
    ] {
        let r = items(&[("filter", filter)]);
        assert_eq!(r.status, 400, "{filter}");
        let p = r.json();
        assert_eq!(p["parameter"], "filter", "{filter}: {p}");
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("at position {position}:")) && detail.contains(words),
            "{filter}: {detail}"
        );
    }
    for (query, param) in [
        (
            vec![
                ("filter", "terr_surf_brute > 1"),
                ("filter-lang", "cql2-json"),
            ],
            "filter-lang",
        ),
        (
            vec![("filter-crs", "http://www.opengis.net/def/crs/EPSG/0/2154")],
            "filter-crs",
        ),
        (
            vec![
                ("filter", "terr_surf_brute > 1"),
                ("filter-crs", "EPSG:27572"),
            ],
            "filter-crs",
        ),
        (vec![("sortby", "-terr_acquereur")], "sortby"),
        (vec![("sortby", "colour")], "sortby"),
        (vec![("properties", "terr_id,terr_m2_prix")], "properties"),
    ] {
        let r = items(&query);
        assert_eq!(r.status, 400, "{query:?}");
        assert_eq!(r.json()["parameter"], param, "{query:?}");
    }
}

/// Queryables: a JSON Schema of the public properties and the geometry, without the
/// confidential fields, linked from the collection; the conformance classes declared.
#[test]
fn queryables_and_conformance() {
    for c in model().collections() {
        let id = c.about().id;
        let r = get(&format!("/ogc/collections/{id}/queryables"));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/schema+json"));
        let q = r.json();
        let props = q["properties"].as_object().unwrap();
        assert!(props.contains_key("geometry"), "{id}");
        for (name, t) in c.fields() {
            assert_eq!(props[name]["type"], *t, "{id}.{name}");
        }
        for secret in c.confidential() {
            assert!(!props.contains_key(*secret), "{id}.{secret}");
        }
        let doc = get(&format!("/ogc/collections/{id}")).json();
        assert!(doc["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables"));
    }
    let conf = get("/ogc/conformance").json();
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for c in [
        "ogcapi-features-3/1.0/conf/queryables",
        "ogcapi-features-3/1.0/conf/filter",
        "ogcapi-features-3/1.0/conf/features-filter",
        "cql2/1.0/conf/cql2-text",
        "cql2/1.0/conf/basic-cql2",
        "cql2/1.0/conf/advanced-comparison-operators",
        "cql2/1.0/conf/basic-spatial-functions",
    ] {
        assert!(classes.iter().any(|x| x.ends_with(c)), "{c}");
    }
}

/// `sortby` orders the whole selection (pages follow one another without overlap) and
/// `properties` keeps only the named ones; `numberMatched` and `next` account for both.
#[test]
fn sorting_selecting_and_paging() {
    let filter = "terr_etat_occup = 'vacant'";
    let want = brute(&F::Cmp("terr_etat_occup", "=", Lit::Text("vacant".into())));
    let mut seen: Vec<(f64, String)> = Vec::new();
    let first = format!(
        "/ogc/collections/terrains/items?{}",
        serde_urlencoded::to_string([
            ("filter", filter),
            ("sortby", "-terr_surf_brute,terr_id"),
            ("properties", "terr_surf_brute,terr_id"),
            ("limit", "500"),
        ])
        .unwrap()
    );
    let mut next = Some(first);
    while let Some(url) = next {
        let doc = get(url.trim_start_matches(common::server())).json();
        assert_eq!(doc["numberMatched"].as_u64().unwrap() as usize, want.len());
        for f in doc["features"].as_array().unwrap() {
            let p = f["properties"].as_object().unwrap();
            assert_eq!(p.len(), 2, "{p:?}");
            seen.push((
                p["terr_surf_brute"].as_f64().unwrap(),
                p["terr_id"].as_str().unwrap().to_string(),
            ));
        }
        next = doc["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().unwrap().to_string());
    }
    assert_eq!(seen.len(), want.len());
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap().then(a.1.cmp(&b.1)));
    assert_eq!(seen, sorted);
    let mut ids: Vec<String> = seen.into_iter().map(|(_, id)| id).collect();
    ids.sort();
    assert_eq!(ids, want);

    // Missing values go last in both directions.
    for dir in ["", "-"] {
        let doc = items(&[
            ("sortby", &format!("{dir}terr_inoccupe_date")),
            ("properties", "terr_inoccupe_date"),
            ("limit", "10000"),
            ("offset", "20000"),
        ])
        .json();
        let last = doc["features"].as_array().unwrap().last().unwrap();
        assert!(
            last["properties"].get("terr_inoccupe_date").is_none(),
            "{dir}"
        );
    }
    // An empty selection keeps the geometry and no property.
    let doc = items(&[("properties", ""), ("limit", "1")]).json();
    assert_eq!(doc["features"][0]["properties"], serde_json::json!({}));
    assert!(doc["features"][0]["geometry"].is_object());
}
