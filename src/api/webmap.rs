//! The web map (French UI) at `/`, built from `web/` into `web/dist` (committed; see
//! `web/build.sh`) and compiled into the binary: no file is read at run time.

use std::io::Write;
use std::sync::OnceLock;

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use flate2::{write::GzEncoder, Compression};

use super::{ApiError, ApiResult};

/// A file of the web map: its path under `/web/`, media type and bytes.
macro_rules! files {
    ($(($name:literal, $ctype:literal)),* $(,)?) => {
        &[$(($name, $ctype, include_bytes!(concat!("../../web/dist/", $name)) as &[u8])),*]
    };
}

const FILES: &[(&str, &str, &[u8])] = files![
    ("index.html", "text/html; charset=utf-8"),
    ("app.js", "text/javascript; charset=utf-8"),
    ("outils.js", "text/javascript; charset=utf-8"),
    ("fiche.js", "text/javascript; charset=utf-8"),
    ("reunion.js", "text/javascript; charset=utf-8"),
    ("choix.js", "text/javascript; charset=utf-8"),
    ("projet.js", "text/javascript; charset=utf-8"),
    ("app.css", "text/css; charset=utf-8"),
    ("vendor/maplibre-gl.mjs", "text/javascript; charset=utf-8"),
    (
        "vendor/maplibre-gl-worker.mjs",
        "text/javascript; charset=utf-8"
    ),
    ("vendor/maplibre-gl.css", "text/css; charset=utf-8"),
    ("vendor/MAPLIBRE-LICENSE.txt", "text/plain; charset=utf-8"),
    ("vendor/chart.umd.min.js", "text/javascript; charset=utf-8"),
    ("vendor/CHARTJS-LICENSE.md", "text/plain; charset=utf-8"),
];

/// A file's bytes, ETag and gzip encoding, made once (MapLibre's 1.1 MB module travels as
/// 0.3 MB).
pub struct Prepared {
    bytes: bytes::Bytes,
    etag: String,
    gzip: bytes::Bytes,
}

impl Prepared {
    fn new(bytes: bytes::Bytes) -> Prepared {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        let gzip = gz
            .write_all(&bytes)
            .and_then(|_| gz.finish())
            .expect("gzip into memory");
        Prepared {
            etag: crate::etag_of(&bytes),
            bytes,
            gzip: gzip.into(),
        }
    }
}

/// Where the page takes the overview of the region.
const OVERVIEW_MARK: &str = "<!--apercu-->";
/// The first view and bounds the page is written with (Hauts-de-France's), replaced by
/// those of what is loaded.
const VIEW_MARK: &str =
    r#"data-centre="2.75,49.95" data-zoom="7.3" data-emprise="1.41,48.82,4.29,51.09""#;
/// The name of what is loaded in the page's header, written for Hauts-de-France.
const TERRITORY_MARK: &str = r#"<span id="territoire">Hauts-de-France</span>"#;

/// The map's first view of Web Mercator bounds `b` (min x, min y, max x, max y, metres):
/// the centre and the bounds in CRS84 (exact: Web Mercator keeps meridians and parallels
/// straight). Its zoom is the overview's ([`crate::tiles::overview::fit_zoom`]).
///
/// ```
/// let [w, s, e, n] = [1.41f64, 48.82, 4.29, 51.09];
/// let (x0, y0) = ecofoncier::crs::lonlat_to_web_mercator(w, s);
/// let (x1, y1) = ecofoncier::crs::lonlat_to_web_mercator(e, n);
/// let (centre, bounds) = ecofoncier::api::webmap::first_view([x0, y0, x1, y1]);
/// assert!((centre.0 - 2.85).abs() < 0.01 && (centre.1 - 49.97).abs() < 0.01);
/// assert!(bounds.iter().zip([w, s, e, n]).all(|(a, b)| (a - b).abs() < 1e-9));
/// ```
pub fn first_view(b: [f64; 4]) -> ((f64, f64), [f64; 4]) {
    const R: f64 = 6_378_137.0;
    let lonlat = |x: f64, y: f64| ((x / R).to_degrees(), (y / R).sinh().atan().to_degrees());
    let (w, s) = lonlat(b[0], b[1]);
    let (e, n) = lonlat(b[2], b[3]);
    (
        lonlat((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0),
        [w, s, e, n],
    )
}

fn prepared(i: usize) -> &'static Prepared {
    static ALL: OnceLock<Vec<OnceLock<Prepared>>> = OnceLock::new();
    let all = ALL.get_or_init(|| FILES.iter().map(|_| OnceLock::new()).collect());
    all[i].get_or_init(|| Prepared::new(bytes::Bytes::from_static(FILES[i].2)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/apercu.png", web::get().to(overview))
        .route("/web/{file:.*}", web::get().to(file));
}

fn serve(req: &HttpRequest, ctype: &str, p: &Prepared) -> HttpResponse {
    let gzip = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    // A variant's ETag names its encoding too.
    let tag = if gzip {
        format!("{}-gzip\"", p.etag.trim_end_matches('"'))
    } else {
        p.etag.clone()
    };
    let fresh = super::not_modified(req, &tag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::VARY, "Accept-Encoding"));
    if fresh {
        return res.finish();
    }
    res.content_type(ctype);
    if gzip {
        res.insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(p.gzip.clone())
    } else {
        res.body(p.bytes.clone())
    }
}

/// The page, with the current snapshot's overview of the region inlined (the region shows at
/// the first paint, before the map's WebGL starts).
async fn index(req: HttpRequest, state: web::Data<super::AppState>) -> HttpResponse {
    let snap = state.snapshot();
    let mut cached = state.page.lock().unwrap_or_else(|e| e.into_inner());
    if cached
        .as_ref()
        .is_none_or(|(l, _)| *l != snap.model.lineage)
    {
        let html = std::str::from_utf8(FILES[0].2).unwrap_or_default();
        let img = match &*state.publisher.tiles.overview(&snap.model) {
            Some(o) => format!(
                "<img id=\"apercu\" src=\"/apercu.png?v={}\" width=\"{}\" height=\"{}\" \
                 data-mercator=\"{:.1},{:.1},{:.1},{:.1}\" elementtiming=\"apercu\" \
                 alt=\"Aperçu des intercommunalités : rurales en vert, urbaines en violet\">",
                o.etag.trim_matches('"'),
                o.width,
                o.height,
                o.bounds[0],
                o.bounds[1],
                o.bounds[2],
                o.bounds[3]
            ),
            None => String::new(),
        };
        let mut html = html.replacen(OVERVIEW_MARK, &img, 1).replacen(
            TERRITORY_MARK,
            &format!(
                r#"<span id="territoire">{}</span>"#,
                super::html::escape(&snap.model.regions.label())
            ),
            1,
        );
        if let Some(o) = &*state.publisher.tiles.overview(&snap.model) {
            let ((lon, lat), [w, s, e, n]) = first_view(o.bounds);
            let zoom = o.zoom;
            // Outwards to the hundredth of a degree: no tile at the edge is left out.
            let (down, up) = (
                |v: f64| (v * 100.0).floor() / 100.0,
                |v: f64| (v * 100.0).ceil() / 100.0,
            );
            let (w, s, e, n) = (down(w), down(s), up(e), up(n));
            html = html.replacen(
                VIEW_MARK,
                &format!(
                    r#"data-centre="{lon:.2},{lat:.2}" data-zoom="{zoom}" data-emprise="{w:.2},{s:.2},{e:.2},{n:.2}""#
                ),
                1,
            );
        }
        let page = Prepared::new(html.into());
        *cached = Some((snap.model.lineage, std::sync::Arc::new(page)));
    }
    let page = cached.as_ref().map(|(_, p)| std::sync::Arc::clone(p));
    drop(cached);
    match page {
        Some(p) => serve(&req, FILES[0].1, &p),
        None => HttpResponse::InternalServerError().finish(),
    }
}

/// The overview image of the region ([`crate::tiles::overview`]) of the current snapshot.
async fn overview(req: HttpRequest, state: web::Data<super::AppState>) -> ApiResult<HttpResponse> {
    let snap = state.snapshot();
    let img = state.publisher.tiles.overview(&snap.model);
    let o = img
        .as_ref()
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("no EPCI to draw".into()))?;
    let fresh = super::not_modified(&req, &o.etag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, o.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    Ok(if fresh {
        res.finish()
    } else {
        res.content_type("image/png").body(o.png.clone())
    })
}

async fn file(req: HttpRequest, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let name = path.into_inner();
    let i = FILES
        .iter()
        .position(|(n, _, _)| *n == name)
        .ok_or_else(|| ApiError::NotFound(format!("no file `{name}` in the web map")))?;
    Ok(serve(&req, FILES[i].1, prepared(i)))
}

#[cfg(test)]
mod tests {
    /// `web/dist` is what `web/build.sh` makes of `web/src`: the committed build is current.
    #[test]
    fn dist_matches_the_sources() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/web");
        for f in std::fs::read_dir(format!("{root}/src")).unwrap() {
            let f = f.unwrap().file_name().into_string().unwrap();
            let src = std::fs::read(format!("{root}/src/{f}")).unwrap();
            let dist = std::fs::read(format!("{root}/dist/{f}")).unwrap();
            assert!(src == dist, "web/dist/{f} is stale: run web/build.sh");
            assert!(
                super::FILES.iter().any(|(n, _, _)| *n == f),
                "web/src/{f} is not served: add it to FILES"
            );
        }
    }
}
