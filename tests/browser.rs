//! The web map in Debian's chromium (playwright-core from `web/node_modules`, installed by
//! `scripts/test.sh`): no console error, every layer renders and toggles, popups in French,
//! the vacant-plot search, the keyboard on the tabs, a small screen. Screenshots are kept in
//! `target/browser-artifacts/`; the time to the map's first `idle` is printed.

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
    assert!(artifacts.join("4-search.png").exists());
}
