//! The web map (French UI) at `/`, built from `web/` into `web/dist` (committed; see
//! `web/build.sh`) and compiled into the binary: no file is read at run time.

use actix_web::{http::header, web, HttpRequest, HttpResponse};

use super::{ApiError, ApiResult};

/// (path under `/web/`, media type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../web/dist/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/dist/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/dist/app.css"),
    ),
    (
        "vendor/maplibre-gl.mjs",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/dist/vendor/maplibre-gl.mjs"),
    ),
    (
        "vendor/maplibre-gl-worker.mjs",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/dist/vendor/maplibre-gl-worker.mjs"),
    ),
    (
        "vendor/maplibre-gl.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/dist/vendor/maplibre-gl.css"),
    ),
    (
        "vendor/MAPLIBRE-LICENSE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../../web/dist/vendor/MAPLIBRE-LICENSE.txt"),
    ),
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/web/{file:.*}", web::get().to(file));
}

/// A file's ETag: the crate version and its length (the files change only with a build).
fn etag(bytes: &[u8]) -> String {
    format!("\"{}-{}\"", env!("CARGO_PKG_VERSION"), bytes.len())
}

fn serve(req: &HttpRequest, ctype: &str, bytes: &'static [u8]) -> HttpResponse {
    let tag = etag(bytes);
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == tag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if fresh {
        return res.finish();
    }
    res.content_type(ctype).body(bytes)
}

async fn index(req: HttpRequest) -> HttpResponse {
    let (_, ctype, bytes) = FILES[0];
    serve(&req, ctype, bytes)
}

async fn file(req: HttpRequest, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let name = path.into_inner();
    let (_, ctype, bytes) = FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| ApiError::NotFound(format!("no file `{name}` in the web map")))?;
    Ok(serve(&req, ctype, bytes))
}

#[cfg(test)]
mod tests {
    /// `web/dist` is what `web/build.sh` makes of `web/src`: the committed build is current.
    #[test]
    fn dist_matches_the_sources() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/web");
        for f in ["index.html", "app.js", "app.css"] {
            let src = std::fs::read(format!("{root}/src/{f}")).unwrap();
            let dist = std::fs::read(format!("{root}/dist/{f}")).unwrap();
            assert!(src == dist, "web/dist/{f} is stale: run web/build.sh");
        }
    }
}
