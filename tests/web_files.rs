//! The web map's files as the binary serves them: every file of `web/dist`, gzip when the
//! client accepts it (the same bytes once inflated), ETags and 304, 404 for an unknown file.

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
    // The page is the index.
    assert_eq!(
        common::get("/").body,
        std::fs::read(dist.join("index.html")).unwrap()
    );
    let missing = common::get("/web/nope.js");
    assert_eq!(missing.status, 404);
    assert!(missing.json()["detail"]
        .as_str()
        .unwrap()
        .contains("nope.js"));
}
