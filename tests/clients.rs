//! Standard clients against the running binary: GDAL's OAPIF driver (`ogrinfo`, `ogr2ogr`)
//! and OWSLib. Both tools are installed by `.ci/run`; a missing tool fails the test.

mod common;

use std::process::Command;

use common::{model, run, server, temp_dir};
use serde_json::json;

#[test]
fn ogrinfo_lists_every_collection() {
    let url = format!("OAPIF:{}/ogc", server());
    let out = run(
        Command::new("ogrinfo").args(["-ro", "-so", &url]),
        "ogrinfo (gdal-bin)",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for s in model().collections() {
        assert!(
            text.contains(&format!(": {} (", s.about().id)),
            "ogrinfo misses {}:\n{text}",
            s.about().id
        );
    }
}

/// `ogr2ogr` copies each collection completely, following `next` links page by page.
#[test]
fn ogr2ogr_copies_each_collection_completely() {
    let dir = temp_dir("ogr2ogr");
    let url = format!("OAPIF:{}/ogc", server());
    for s in model().collections() {
        let out_file = dir.join(format!("{}.geojson", s.about().id));
        let out = run(
            Command::new("ogr2ogr")
                .args(["-f", "GeoJSON", "-oo", "PAGE_SIZE=2000"])
                .arg(&out_file)
                .args([&url, s.about().id]),
            "ogr2ogr (gdal-bin)",
        );
        assert!(
            out.status.success(),
            "{}: {}",
            s.about().id,
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
        let n = doc["features"].as_array().unwrap().len();
        println!("ogr2ogr {}: {n} features", s.about().id);
        assert_eq!(n, s.len(), "{}: copied {n} of {}", s.about().id, s.len());
    }
}

#[test]
fn owslib_lists_collections_and_reads_a_bbox() {
    let m = model();
    let counts: serde_json::Map<String, serde_json::Value> = m
        .collections()
        .iter()
        .map(|s| (s.about().id.to_string(), json!(s.len())))
        .collect();
    // A bbox around Amiens; its plot count from the read model.
    let bbox = [2.2, 49.85, 2.45, 49.95];
    let served = common::get(&format!(
        "/ogc/collections/terrains/items?bbox={},{},{},{}&limit=1",
        bbox[0], bbox[1], bbox[2], bbox[3]
    ))
    .json();
    let bbox_count = served["numberMatched"].as_u64().unwrap();
    assert!(bbox_count > 0, "the test bbox should hold plots");
    // A CQL2 filter and its count by a scan of the read model.
    let plots = m.collection("terrains").unwrap();
    let filter_count = plots
        .live_slots()
        .filter(|&s| {
            let v = plots.values(s, &["terr_etat_occup", "terr_surf_brute"]);
            v[0].as_ref().and_then(|x| x.as_str()) == Some("vacant")
                && v[1]
                    .as_ref()
                    .and_then(|x| x.as_f64())
                    .is_some_and(|x| x > 2.0)
        })
        .count();
    assert!(filter_count > 0);
    let expected = json!({
        "counts": counts, "bbox": bbox, "bbox_count": bbox_count,
        "filter": "terr_etat_occup = 'vacant' AND terr_surf_brute > 2",
        "filter_count": filter_count,
    });
    // The venv scripts/test.sh makes, unless told otherwise.
    let venv = common::manifest_dir().join("target/venv/bin/python");
    let python = std::env::var("ECOFONCIER_PYTHON").unwrap_or_else(|_| {
        if venv.exists() {
            venv.display().to_string()
        } else {
            "python3".into()
        }
    });
    let out = run(
        Command::new(&python)
            .arg(common::manifest_dir().join("tests/owslib_check.py"))
            .arg(format!("{}/ogc", server()))
            .arg(expected.to_string()),
        "python with owslib",
    );
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "OWSLib check failed (python: {python}):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// GDAL's OAPIF driver with an attribute filter (`ogrinfo -where`) and a spatial one
/// (`-spat`, sent as `bbox`) counts what the service's CQL2 filter selects. GDAL 3.6 (Debian
/// 12) forwards no CQL2 itself: it pages through the bbox and evaluates the `-where` part
/// client-side, so the two counts meet only if both ends read the plots alike.
#[test]
fn ogrinfo_where_counts_what_the_filter_selects() {
    let spat = ["3.03", "50.62", "3.13", "50.69"];
    let where_ = "terr_etat_occup = 'vacant' AND terr_surf_brute > 0.5";
    let q = serde_urlencoded::to_string([
        ("bbox", spat.join(",").as_str()),
        ("filter", where_),
        ("limit", "1"),
    ])
    .unwrap();
    let served = common::get(&format!("/ogc/collections/terrains/items?{q}")).json();
    let n = served["numberMatched"].as_u64().unwrap();
    assert!(n > 0, "the test filter should select plots");
    let url = format!("OAPIF:{}/ogc", server());
    let out = run(
        Command::new("ogrinfo")
            .args([
                "-ro",
                "-so",
                "-oo",
                "PAGE_SIZE=2000",
                "-where",
                where_,
                "-spat",
            ])
            .args(spat)
            .args([&url, "terrains"]),
        "ogrinfo (gdal-bin)",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("Feature Count: {n}\n")),
        "the service selects {n}:\n{text}"
    );
}
