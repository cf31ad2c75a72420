//! What the HTTP edge adds to every answer after its handler: compression negotiated from
//! `Accept-Encoding` (brotli or gzip) for JSON, GeoJSON, CSV, HTML and vector tiles, kept once
//! made for answers with an ETag; and the caching policy (`Cache-Control`, an ETag on every
//! public answer, `304` when the client holds it).
//!
//! A compressed answer's ETag is its identity ETag with `+br` or `+gzip` (RFC 9110 §8.8.3: a
//! strong validator names one representation); the suffix is taken off `If-None-Match` before
//! the handler compares, so a client holding the brotli variant gets its `304` too.

use std::hash::BuildHasher;
use std::io::Write;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};
use bytes::Bytes;

use super::AppState;

/// A content coding the service writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    pub fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    /// `bytes` compressed: brotli at quality 4 (some ten times smaller JSON at a few hundred
    /// MB/s), gzip at level 1 (zlib-rs).
    pub fn compress(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Coding::Brotli => {
                let mut out = Vec::with_capacity(bytes.len() / 6);
                {
                    let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 4, 22);
                    let _ = w.write_all(bytes);
                }
                out
            }
            Coding::Gzip => {
                let mut w = flate2::write::GzEncoder::new(
                    Vec::with_capacity(bytes.len() / 5),
                    flate2::Compression::fast(),
                );
                let _ = w.write_all(bytes);
                w.finish().unwrap_or_default()
            }
        }
    }
}

/// The coding `accept` (an `Accept-Encoding` value) prefers among those written here: the
/// highest `q`, brotli before gzip at equal weight; `None` for identity.
///
/// ```
/// use ecofoncier::api::encoding::{negotiate, Coding};
/// assert_eq!(negotiate("gzip, deflate, br"), Some(Coding::Brotli));
/// assert_eq!(negotiate("br;q=0.5, gzip"), Some(Coding::Gzip));
/// assert_eq!(negotiate("gzip;q=0, identity"), None);
/// assert_eq!(negotiate("*"), Some(Coding::Brotli));
/// ```
pub fn negotiate(accept: &str) -> Option<Coding> {
    let (mut br, mut gz, mut any) = (None::<f32>, None::<f32>, None::<f32>);
    for (token, q) in super::http::weighted(accept) {
        match token.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gz = Some(q),
            "*" => any = Some(q),
            _ => {}
        }
    }
    let br = br.or(any).unwrap_or(0.0);
    let gz = gz.or(any).unwrap_or(0.0);
    if br > 0.0 && br >= gz {
        Some(Coding::Brotli)
    } else if gz > 0.0 {
        Some(Coding::Gzip)
    } else {
        None
    }
}

/// Whether answers of this media type are worth compressing.
fn compressible(content_type: &str) -> bool {
    let t = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    t.ends_with("json")
        || t.starts_with("text/")
        || t == "application/vnd.mapbox-vector-tile"
        || t == "application/x-protobuf"
        || t == "image/svg+xml"
}

/// Smallest body worth compressing, bytes (below, the coding's framing eats the gain).
const MIN_BYTES: usize = 1024;

/// Compressed bodies of answers with an ETag, by request target, ETag and coding: a popular
/// page or tile is compressed once.
pub type Compressed = super::memo::Memo<Bytes>;

/// Bytes of compressed answers kept by default.
pub const COMPRESSED_CACHE_BYTES: usize = 64 << 20;

/// How long shared caches may keep public answers without asking again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CachePolicy {
    /// Seconds (`max-age`); 0: revalidate each time (the ETag changes with the snapshot's
    /// content, so a revalidation is a cheap `304` until an edit lands).
    pub max_age: u32,
}

impl CachePolicy {
    /// The `Cache-Control` of a public answer.
    pub fn header(self) -> String {
        if self.max_age == 0 {
            "public, no-cache".into()
        } else {
            format!(
                "public, max-age={0}, stale-while-revalidate={0}",
                self.max_age
            )
        }
    }
}

/// Routes whose answers are about this instance, never cached.
fn uncacheable(path: &str) -> bool {
    matches!(path, "/health" | "/ready" | "/metrics")
}

fn seeded() -> foldhash::quality::FixedState {
    foldhash::quality::FixedState::with_seed(0x656e_636f_6469_6e67)
}

/// Takes the coding suffixes off the tags of `If-None-Match`, so that handlers compare
/// their identity ETag; returns the coding the client's tag named, if any.
fn strip_suffixes(req: &mut ServiceRequest) {
    let Some(v) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    if !v.contains("+br\"") && !v.contains("+gzip\"") {
        return;
    }
    let plain = v.replace("+br\"", "\"").replace("+gzip\"", "\"");
    if let Ok(h) = HeaderValue::from_str(&plain) {
        req.headers_mut().insert(header::IF_NONE_MATCH, h);
    }
}

fn suffixed(etag: &str, c: Coding) -> String {
    format!("{}+{}\"", etag.trim_end_matches('"'), c.token())
}

/// The middleware: see the module's documentation.
pub async fn encode(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    let coding = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .and_then(negotiate);
    let authorized = req.headers().contains_key(header::AUTHORIZATION);
    let target = seeded().hash_one(req.uri().to_string().as_bytes());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    if read {
        strip_suffixes(&mut req);
    }
    let res = next.call(req).await?.map_into_boxed_body();
    if !read {
        return Ok(res);
    }
    let (http_req, mut res) = res.into_parts();
    let status = res.status();
    let path = http_req.path();
    let policy = state.as_ref().map(|s| s.cache).unwrap_or_default();

    // 304s: name the representation the client holds.
    if status == StatusCode::NOT_MODIFIED {
        if let (Some(c), Some(tag)) = (coding, res.headers().get(header::ETAG).cloned()) {
            let tag = tag.to_str().unwrap_or("").to_string();
            if !tag.ends_with("-gzip\"") {
                if let Ok(v) = HeaderValue::from_str(&suffixed(&tag, c)) {
                    res.headers_mut().insert(header::ETAG, v);
                }
            }
        }
        return Ok(ServiceResponse::new(http_req, res));
    }
    if status != StatusCode::OK && status != StatusCode::NO_CONTENT {
        return Ok(ServiceResponse::new(http_req, res));
    }
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        let cc = if uncacheable(path) {
            "no-store".to_string()
        } else if authorized {
            "private, no-store".to_string()
        } else {
            policy.header()
        };
        if let Ok(v) = HeaderValue::from_str(&cc) {
            res.headers_mut().insert(header::CACHE_CONTROL, v);
        }
    }
    if status != StatusCode::OK {
        return Ok(ServiceResponse::new(http_req, res));
    }
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let encoded = res.headers().contains_key(header::CONTENT_ENCODING);
    let sized = matches!(res.body().size(), BodySize::Sized(_));
    let wants_etag =
        !res.headers().contains_key(header::ETAG) && !uncacheable(path) && !authorized && sized;
    let worth = !encoded && sized && compressible(&content_type);
    if !worth && !wants_etag {
        return Ok(ServiceResponse::new(http_req, res));
    }
    if worth {
        super::http::add_vary(&mut res, "Accept-Encoding");
    }
    let (mut head, body) = res.into_parts();
    let bytes = match actix_web::body::to_bytes(body).await {
        Ok(b) => b,
        Err(_) => {
            return Ok(ServiceResponse::new(
                http_req,
                HttpResponse::InternalServerError().finish(),
            ))
        }
    };
    // Every public answer gets a validator from its content.
    if wants_etag {
        let tag = crate::fast_etag_of(&bytes);
        if super::not_modified(&http_req, &tag) {
            let held = match coding {
                Some(c) if worth && bytes.len() >= MIN_BYTES => suffixed(&tag, c),
                _ => tag,
            };
            let mut r = HttpResponse::NotModified()
                .insert_header((header::ETAG, held))
                .finish();
            if let Some(cc) = head.headers().get(header::CACHE_CONTROL).cloned() {
                r.headers_mut().insert(header::CACHE_CONTROL, cc);
            }
            return Ok(ServiceResponse::new(http_req, r));
        }
        if let Ok(v) = HeaderValue::from_str(&tag) {
            head.headers_mut().insert(header::ETAG, v);
        }
    }
    let coding = coding.filter(|_| worth && bytes.len() >= MIN_BYTES);
    let Some(c) = coding else {
        return Ok(ServiceResponse::new(
            http_req,
            head.set_body(bytes).map_into_boxed_body(),
        ));
    };
    let etag = head
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let key = etag
        .as_ref()
        .map(|t| seeded().hash_one((target, t.as_bytes(), c.token())));
    let cache = state.as_ref().map(|s| &s.compressed);
    let body = match (key, cache) {
        (Some(k), Some(cache)) => cache.get_or(k, || {
            let b = Bytes::from(c.compress(&bytes));
            let n = b.len();
            (b, n)
        }),
        _ => Bytes::from(c.compress(&bytes)),
    };
    let h = head.headers_mut();
    h.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(c.token()),
    );
    if let Some(t) = etag {
        if let Ok(v) = HeaderValue::from_str(&suffixed(&t, c)) {
            h.insert(header::ETAG, v);
        }
    }
    h.remove(header::CONTENT_LENGTH);
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(body).map_into_boxed_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codings_round_trip() {
        let text = br#"{"type":"FeatureCollection","features":[]}"#.repeat(100);
        let br = Coding::Brotli.compress(&text);
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut back).unwrap();
        assert_eq!(back, text);
        let gz = Coding::Gzip.compress(&text);
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut back).unwrap();
        assert_eq!(back, text);
        assert!(br.len() < text.len() / 10 && gz.len() < text.len() / 10);
    }

    #[test]
    fn compressible_types() {
        for t in [
            "application/geo+json",
            "application/json",
            "text/csv; charset=utf-8",
            "text/html; charset=utf-8",
            "application/vnd.mapbox-vector-tile",
            "application/schema+json",
        ] {
            assert!(compressible(t), "{t}");
        }
        for t in ["image/png", "application/zip", "application/gzip"] {
            assert!(!compressible(t), "{t}");
        }
    }
}
