//! The web map in Debian's chromium (playwright-core from `web/node_modules`, installed by
//! `scripts/test.sh`), driven by `web/test/map.mjs`: no console error; every layer renders
//! and toggles; popups in French; the vacant-plot search; the EPCI sheet (its figures, the
//! ZAN gauge, the land-take chart); the meeting view for three EPCIs (table, medians,
//! charts, CSV, print layout); a drawn zone gets the sobriety check, and one outside the
//! region a clear refusal; the jobs slider of a site; labels, names and text contrast in
//! every view; the keyboard; a phone-sized screen. Screenshots and the meeting's PDF are kept
//! in `target/browser-artifacts/`; the paint times are printed (the figures of record come
//! from `bench/first_paint.sh` on the release binary).

mod common;

#[test]
fn web_map_in_chromium() {
    let root = common::manifest_dir();
    let web = root.join("web");
    assert!(
        web.join("node_modules/playwright-core").exists(),
        "web/node_modules is missing: run `npm ci --prefix web` (scripts/test.sh does)"
    );
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "chromium is missing: apt-get install chromium (scripts/test.sh does)"
    );
    let server = common::spawn_server(&[("DATABASE_URL", "")]);
    let artifacts = root.join("target/browser-artifacts");
    let out = std::process::Command::new("node")
        .arg(web.join("test/map.mjs"))
        .arg(&server.base)
        .arg(&artifacts)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let findings: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    println!("browser findings: {findings}");
    assert_eq!(findings["console_errors"], serde_json::json!([]));
    assert!(findings["search_results"].as_u64().unwrap() > 0);
    assert_eq!(findings["meeting_columns"], 6, "3 EPCIs, 2 medians");
    assert!(findings["proposal_findings"].as_u64().unwrap() > 0);
    assert!(findings["first_meaningful_paint_ms"].as_f64().unwrap() > 0.0);
    for f in [
        "4-search.png",
        "5-fiche.png",
        "6-reunion.png",
        "7-reunion-impression.png",
        "reunion.pdf",
        "8-projet.png",
        "9-emplois.png",
    ] {
        assert!(artifacts.join(f).exists(), "{f}");
    }
}
