//! The HTTP edge of every answer: compression negotiated from `Accept-Encoding`, caching
//! headers tied to the content, and cross-origin access (CORS), against the binary.

mod common;

use std::io::Read;

use common::{get, get_with, model, request, spawn_server};

/// A z13 tile of the Lille business parks, several kilobytes of plots.
fn plot_tile() -> String {
    let (lon, lat) = (3.08f64, 50.655f64);
    let n = 2f64.powi(13);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
    format!("/tiles/terrains/13/{x}/{y}")
}

fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "br" => brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap(),
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        other => panic!("unexpected coding {other}"),
    }
    out
}

/// JSON, GeoJSON, CSV, HTML and MVT answers come brotli- or gzip-compressed as negotiated,
/// decode to the identity bytes, say `Vary: Accept-Encoding`, and name each variant with its
/// own ETag, which earns a 304.
#[test]
fn compression_is_negotiated() {
    let items = "/ogc/collections/terrains/items?bbox=3.03,50.62,3.13,50.69&limit=10000";
    let tile = plot_tile();
    for path in [
        items,
        "/ogc/collections?f=html",
        "/api/v1/indicators",
        "/api/v1/indicators?format=csv",
        tile.as_str(),
        "/ogc/api",
    ] {
        let plain = get_with(path, &[("Accept-Encoding", "identity")]);
        assert_eq!(plain.status, 200, "{path}");
        assert!(
            plain.body.len() > 1024,
            "{path}: {} bytes",
            plain.body.len()
        );
        assert!(plain.header("content-encoding").is_none(), "{path}");
        assert!(
            plain.header("vary").unwrap().contains("Accept-Encoding"),
            "{path}"
        );
        let tag = plain.header("etag").unwrap().to_string();
        for (accept, coding) in [
            ("gzip, deflate, br", "br"),
            ("br;q=0.4, gzip;q=0.9", "gzip"),
            ("gzip", "gzip"),
            ("*", "br"),
        ] {
            let r = get_with(path, &[("Accept-Encoding", accept)]);
            assert_eq!(r.status, 200);
            assert_eq!(
                r.header("content-encoding"),
                Some(coding),
                "{path} {accept}"
            );
            assert_eq!(decode(coding, &r.body), plain.body, "{path} {accept}");
            assert!(r.body.len() < plain.body.len(), "{path} {accept}");
            let variant = r.header("etag").unwrap().to_string();
            assert_eq!(variant, format!("{}+{coding}\"", tag.trim_end_matches('"')));
            let again = get_with(
                path,
                &[("Accept-Encoding", accept), ("If-None-Match", &variant)],
            );
            assert_eq!(again.status, 304, "{path} {accept}");
            assert_eq!(again.header("etag"), Some(variant.as_str()));
        }
        for accept in ["gzip;q=0, br;q=0", "identity", "deflate"] {
            let r = get_with(path, &[("Accept-Encoding", accept)]);
            assert!(r.header("content-encoding").is_none(), "{path} {accept}");
            assert_eq!(r.body, plain.body);
        }
    }
    // Small answers and images stay as they are.
    let small = get_with("/ogc/conformance", &[("Accept-Encoding", "br")]);
    assert!(small.body.len() < 1024 || small.header("content-encoding").is_some());
    let png = get_with("/api/v1/overview.png", &[("Accept-Encoding", "br")]);
    if png.status == 200 {
        assert!(png.header("content-encoding").is_none());
    }
}

/// Public answers may be cached by shared caches and must be revalidated (their ETag follows
/// the content, hence the snapshot); the instance's own state is never cached; a deployment
/// may allow a max-age.
#[test]
fn cache_headers_follow_the_policy() {
    let tile = plot_tile();
    let siren = &model().epci.iter().next().unwrap().record.epci_siren;
    let metric = format!("/api/v1/indicators/epci/{siren}");
    for path in [
        "/ogc",
        "/ogc/collections/terrains/items?limit=5",
        tile.as_str(),
        "/api/v1/indicators",
        metric.as_str(),
    ] {
        let r = get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(
            r.header("cache-control"),
            Some("public, no-cache"),
            "{path}"
        );
        let tag = r
            .header("etag")
            .unwrap_or_else(|| panic!("{path}: no ETag"));
        let again = get_with(path, &[("If-None-Match", tag)]);
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
    }
    for path in ["/health", "/ready", "/metrics"] {
        assert_eq!(
            get(path).header("cache-control"),
            Some("no-store"),
            "{path}"
        );
    }
    let s = spawn_server(&[("ECOFONCIER_CACHE_MAX_AGE", "60")]);
    let r = request(&s.base, "GET", &tile, &[], None).unwrap();
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=60, stale-while-revalidate=60")
    );
}

/// Reads are open to any origin by default, preflights included; writes are not, unless
/// their origin is configured, and then with credentials; a read list closes reads to the
/// others.
#[test]
fn cross_origin_reads_and_writes() {
    let base = common::server();
    let preflight = |base: &str, origin: &str, method: &str, headers: &str| {
        request(
            base,
            "OPTIONS",
            "/ogc/collections/terrains/items",
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", method),
                ("Access-Control-Request-Headers", headers),
            ],
            None,
        )
        .unwrap()
    };
    let p = preflight(base, "https://ailleurs.fr", "GET", "if-none-match");
    assert_eq!(p.status, 204);
    assert_eq!(p.header("access-control-allow-origin"), Some("*"));
    assert!(p
        .header("access-control-allow-methods")
        .unwrap()
        .contains("GET"));
    assert!(p.header("access-control-max-age").is_some());
    let r = get_with(
        "/ogc/collections/terrains/items?limit=1",
        &[("Origin", "https://ailleurs.fr")],
    );
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert!(r
        .header("access-control-expose-headers")
        .unwrap()
        .contains("ETag"));
    assert!(r.header("access-control-allow-credentials").is_none());
    // Writes from a page of another origin: refused by default, said in the answer.
    let w = preflight(
        base,
        "https://ailleurs.fr",
        "PATCH",
        "authorization, if-match",
    );
    assert_eq!(w.status, 403);
    assert!(w.header("access-control-allow-origin").is_none());
    assert!(String::from_utf8_lossy(&w.body).contains("may not write"));
    // A plain OPTIONS says what the route takes.
    let o = request(base, "OPTIONS", "/ogc", &[], None).unwrap();
    assert_eq!(o.status, 405);
    assert!(o.header("allow").unwrap().contains("GET"));

    let s = spawn_server(&[
        ("ECOFONCIER_CORS_ORIGINS", "https://carte.exemple.fr"),
        ("ECOFONCIER_CORS_WRITE_ORIGINS", "https://sig.exemple.fr"),
    ]);
    let tile = plot_tile();
    let read = |origin: &str| request(&s.base, "GET", &tile, &[("Origin", origin)], None).unwrap();
    let listed = read("https://carte.exemple.fr");
    assert_eq!(
        listed.header("access-control-allow-origin"),
        Some("https://carte.exemple.fr")
    );
    assert!(listed.header("vary").unwrap().contains("Origin"));
    assert!(read("https://ailleurs.fr")
        .header("access-control-allow-origin")
        .is_none());
    assert_eq!(
        preflight(&s.base, "https://ailleurs.fr", "GET", "").status,
        403
    );
    let w = preflight(
        &s.base,
        "https://sig.exemple.fr",
        "PATCH",
        "Authorization, If-Match, Content-Type",
    );
    assert_eq!(w.status, 204);
    assert_eq!(
        w.header("access-control-allow-origin"),
        Some("https://sig.exemple.fr")
    );
    assert_eq!(w.header("access-control-allow-credentials"), Some("true"));
    let allowed = w.header("access-control-allow-headers").unwrap();
    assert!(allowed.contains("authorization") && allowed.contains("if-match"));
    assert!(w
        .header("access-control-allow-methods")
        .unwrap()
        .contains("PATCH"));
    // The write itself (refused here: no PostGIS) still tells the page why.
    let r = request(
        &s.base,
        "POST",
        "/ogc/collections/terrains/items",
        &[
            ("Origin", "https://sig.exemple.fr"),
            ("Content-Type", "application/geo+json"),
        ],
        Some(b"{}"),
    )
    .unwrap();
    assert!(r.status >= 400);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://sig.exemple.fr")
    );
    assert!(preflight(&s.base, "https://sig.exemple.fr", "PATCH", "x-secret").status == 403);
}

#[test]
fn bad_origins_stop_the_server_with_a_message() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecofoncier"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--cors-write-origins",
            "*",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--cors-write-origins") && err.contains("named"),
        "{err}"
    );
}
