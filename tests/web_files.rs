//! The web map's files as the binary serves them: every file of `web/dist`, gzip when the
//! client accepts it (the same bytes once inflated), ETags and 304, 404 for an unknown file;
//! the page with the region's overview image put in.

mod common;

use std::io::Read;

#[test]
fn web_files_gzip_etag_and_404() {
    let dist = common::manifest_dir().join("web/dist");
    let mut files = Vec::new();
    for dir in [dist.clone(), dist.join("vendor")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                files.push(
                    p.strip_prefix(&dist)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    assert!(files.len() >= 10, "{files:?}");
    for f in &files {
        let raw = std::fs::read(dist.join(f)).unwrap();
        let plain = common::get(&format!("/web/{f}"));
        assert_eq!(plain.status, 200, "{f}");
        assert_eq!(plain.body, raw, "{f} served as built");
        assert_eq!(plain.header("content-encoding"), None);
        let gz = common::get_with(&format!("/web/{f}"), &[("Accept-Encoding", "gzip, br")]);
        assert_eq!(gz.status, 200);
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{f}");
        assert_eq!(gz.header("vary"), Some("Accept-Encoding"));
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&gz.body[..])
            .read_to_end(&mut inflated)
            .unwrap();
        assert_eq!(inflated, raw, "{f}: gzip inflates to the file");
        // Each variant has its own ETag, and a revalidation gets 304.
        let (t1, t2) = (plain.header("etag").unwrap(), gz.header("etag").unwrap());
        assert_ne!(t1, t2);
        let again = common::get_with(
            &format!("/web/{f}"),
            &[("Accept-Encoding", "gzip"), ("If-None-Match", t2)],
        );
        assert_eq!(again.status, 304, "{f}");
        assert!(again.body.is_empty());
    }
    // MapLibre's module travels at less than a third of its size.
    let m = common::get_with(
        "/web/vendor/maplibre-gl.mjs",
        &[("Accept-Encoding", "gzip")],
    );
    let raw = std::fs::metadata(dist.join("vendor/maplibre-gl.mjs"))
        .unwrap()
        .len();
    assert!((m.body.len() as u64) * 3 < raw, "{} of {raw}", m.body.len());
    // The page is the index with what is loaded put in: the overview (an image of the
    // EPCIs at the first view's scale, placed by its Web Mercator bounds), the first view
    // and bounds of the data, and its name (the index is written for Hauts-de-France, and
    // the embedded data is Hauts-de-France: the same view but for its rounding).
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap();
    let page = String::from_utf8(common::get("/").body).unwrap();
    let view = |html: &str| -> String {
        let at = html.find("data-centre=").unwrap();
        html[at..].split('>').next().unwrap().to_string()
    };
    assert_eq!(
        view(&index),
        r#"data-centre="2.75,49.95" data-zoom="7.3" data-emprise="1.41,48.82,4.29,51.09""#
    );
    assert_eq!(
        view(&page),
        r#"data-centre="2.82,49.97" data-zoom="7.3" data-emprise="1.38,48.83,4.27,51.09""#
    );
    assert!(page.contains(r#"<span id="territoire">Hauts-de-France</span>"#));
    let index = index.replacen(&view(&index), &view(&page), 1);
    let (before, after) = index.split_once("<!--apercu-->").unwrap();
    assert!(page.starts_with(before) && page.ends_with(after));
    let img = &page[before.len()..page.len() - after.len()];
    assert!(img.starts_with("<img id=\"apercu\""), "{img}");
    let attr = |name: &str| -> String {
        img.split(&format!("{name}=\""))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    let m: Vec<f64> = attr("data-mercator")
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    // Hauts-de-France: about 1.4° to 4.3° E.
    let deg = |x: f64| (x / 6_378_137.0).to_degrees();
    assert!(
        (1.3..1.5).contains(&deg(m[0])) && (4.2..4.4).contains(&deg(m[2])),
        "{m:?}"
    );
    assert!(attr("alt").contains("intercommunalités"));
    let png = common::get(&attr("src"));
    assert_eq!(png.status, 200);
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert_eq!(&png.body[..8], b"\x89PNG\r\n\x1a\n");
    let w = u32::from_be_bytes(png.body[16..20].try_into().unwrap());
    assert_eq!(w.to_string(), attr("width"));
    assert!(png.body.len() < 100_000, "{} bytes", png.body.len());
    let again = common::get_with(
        "/apercu.png",
        &[("If-None-Match", png.header("etag").unwrap())],
    );
    assert_eq!(again.status, 304);
    let missing = common::get("/web/nope.js");
    assert_eq!(missing.status, 404);
    assert!(missing.json()["detail"]
        .as_str()
        .unwrap()
        .contains("nope.js"));
}
