//! The web map in Debian's chromium (playwright-core from `web/node_modules`, installed by
//! `scripts/test.sh`), driven by `web/test/map.mjs`: no console error; every layer renders
//! and toggles; popups in French; the vacant-plot search; the EPCI sheet (its figures, the
//! ZAN gauge, the land-take chart); the meeting view for three EPCIs (table, medians,
//! charts, CSV, print layout); a drawn zone gets the sobriety check, and one outside the
//! region a clear refusal; the jobs slider of a site; labels, names and text contrast in
//! every view; the keyboard; a phone-sized screen. Screenshots and the meeting's PDF are kept
//! in `target/browser-artifacts/`; the paint times are printed (the figures of record come
//! from `bench/first_paint.sh` on the release binary). A second run, on a generated dataset of
//! two regions (`web/test/deux-regions.mjs`), finds an EPCI of the other region with the
//! picker, compares it with Amiens, and downloads the XLSX, read back here, and the PDF.

mod common;

use std::path::Path;

/// The text of a PDF (`pdftotext`, poppler-utils) and its embedded images (`pdfimages
/// -list`: one line each after two header lines; their transparency masks not counted).
fn pdf_contents(pdf: &Path) -> (String, usize) {
    let text = std::process::Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils)");
    assert!(
        text.status.success(),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    let list = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(pdf)
        .output()
        .expect("pdfimages runs (poppler-utils)");
    let images = String::from_utf8_lossy(&list.stdout)
        .lines()
        .count()
        .saturating_sub(2);
    (String::from_utf8_lossy(&text.stdout).into_owned(), images)
}

/// The meeting's PDF holds the table (each EPCI's name in the view's status line and its
/// population in the table, the medians, an indicator, the caption's scope) and the four
/// charts (images).
fn pdf_holds_table_and_charts(pdf: &Path, epcis: &[(&str, u64)], scope: &str) {
    let (text, images) = pdf_contents(pdf);
    // Lines break anywhere in table cells, and French numbers group digits with spaces:
    // compare without any white space.
    let bare = |t: &str| t.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let flat = bare(&text);
    for (name, population) in epcis {
        assert!(flat.contains(&bare(name)), "{name} in the PDF:\n{text}");
        assert!(
            flat.contains(&population.to_string()),
            "{name}'s population {population} in the PDF:\n{text}"
        );
    }
    for t in [
        "Médiane rurale",
        "Médiane urbaine",
        "Taux d'occupation des ZAE",
        "données synthétiques",
        &format!("périmètre : {scope}"),
    ] {
        assert!(flat.contains(&bare(t)), "{t} in the PDF:\n{text}");
    }
    assert!(images >= 4, "the four charts: {images} images in the PDF");
}

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
    let epcis: Vec<(&str, u64)> = findings["meeting_epci"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v[0].as_str().unwrap(), v[1].as_u64().unwrap()))
        .collect();
    pdf_holds_table_and_charts(&artifacts.join("reunion.pdf"), &epcis, "Hauts-de-France");
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

#[test]
fn two_regions_in_chromium() {
    let root = common::manifest_dir();
    let data = common::temp_dir("two-regions");
    let generate = std::process::Command::new(env!("CARGO_BIN_EXE_ecofoncier"))
        .args(["generate", "--territory", "hdf,28", "--registry"])
        .arg(root.join("target/registry"))
        .arg("--out")
        .arg(&data)
        .output()
        .expect("ecofoncier generate runs");
    assert!(
        generate.status.success(),
        "{}",
        String::from_utf8_lossy(&generate.stderr)
    );
    let server = common::spawn_server_on(&data, &[("DATABASE_URL", "")]);
    let artifacts = root.join("target/browser-artifacts");
    let out = std::process::Command::new("node")
        .arg(root.join("web/test/deux-regions.mjs"))
        .arg(&server.base)
        .arg(&artifacts)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(findings["console_errors"], serde_json::json!([]));
    let (caen, amiens) = (
        findings["caen"].as_str().unwrap(),
        findings["amiens"].as_str().unwrap(),
    );
    println!("two regions: {caen} compared with {amiens}");

    // The XLSX the browser downloaded: both EPCIs with the API's figures, as numbers, the
    // medians over the whole dataset, the sources.
    use calamine::{Data, Reader};
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook(artifacts.join("deux-regions.xlsx")).expect("an xlsx file");
    assert_eq!(wb.sheet_names(), ["Comparaison", "Sources"]);
    let sheet = wb.worksheet_range("Comparaison").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    let header: Vec<String> = rows[2].iter().map(|c| c.to_string()).collect();
    let col = |h: &str| header.iter().position(|x| x == h).unwrap();
    let cmp = &findings["compare"];
    for (i, e) in cmp["epci"].as_array().unwrap().iter().enumerate() {
        let row = rows[3 + i];
        assert_eq!(row[0], Data::String(e["epci_nom"].as_str().unwrap().into()));
        for (h, f) in [
            ("Population (hab.)", "population"),
            ("Taux d'occupation des ZAE (%)", "taux_occupation_pct"),
            ("Enveloppe ZAN 2021-2030 (ha)", "zan_enveloppe_ha"),
        ] {
            assert_eq!(row[col(h)], Data::Float(e[f].as_f64().unwrap()), "{h}");
        }
    }
    let rural = rows[5][0].to_string();
    assert_eq!(
        rural,
        format!(
            "Médiane rurale ({} EPCI, Normandie et Hauts-de-France)",
            cmp["medianes"]["rural"]["epci"]
        )
    );
    let sources = wb.worksheet_range("Sources").unwrap();
    assert!(sources
        .rows()
        .any(|r| r[1].to_string().starts_with("DONNÉES SYNTHÉTIQUES")));

    // The medians per scope, against a scan of the indicator rows with the regions of the
    // generated dataset: Caen's EPCI alone → Normandie's EPCIs; with Amiens → both regions'
    // (here every EPCI); scope=country → every EPCI.
    let m = ecofoncier::read_model::ReadModel::build(
        ecofoncier::source::EmbeddedSource::new(&data)
            .load_sync()
            .unwrap(),
    )
    .unwrap();
    let fetch = |path: &str| -> serde_json::Value {
        let r = common::request(&server.base, "GET", path, &[], None).unwrap();
        assert_eq!(r.status, 200, "{path}");
        r.json()
    };
    let rows = fetch("/api/v1/indicators");
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), m.epci.len());
    let sirens: Vec<&str> = findings["sirens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let region_of = |siren: &str| m.regions.epci[m.epci.index_of(siren).unwrap()];
    for (ids, scope) in [
        (&sirens[..1], "region"),
        (&sirens[..], "region"),
        (&sirens[..1], "country"),
    ] {
        let cmp = fetch(&format!(
            "/api/v1/compare?epci={}&scope={scope}",
            ids.join(",")
        ));
        let regions: Vec<u32> = ids.iter().map(|s| region_of(s)).collect();
        for class in ["rural", "urbain"] {
            let scanned: Vec<&serde_json::Value> = rows
                .iter()
                .enumerate()
                .filter(|(slot, r)| {
                    r["classe"] == class
                        && (scope == "country" || regions.contains(&m.regions.epci[*slot]))
                })
                .map(|(_, r)| r)
                .collect();
            let med = &cmp["medianes"][class];
            assert_eq!(med["epci"], scanned.len(), "{ids:?} {scope} {class}");
            let occupation = ecofoncier::metrics::indicators::median(
                scanned
                    .iter()
                    .map(|r| r["taux_occupation_pct"].as_f64().unwrap())
                    .collect(),
            );
            assert!(
                ((occupation * 10.0).round() / 10.0 - med["taux_occupation_pct"].as_f64().unwrap())
                    .abs()
                    < 1e-9,
                "{ids:?} {scope} {class}: {occupation} vs {}",
                med["taux_occupation_pct"]
            );
        }
        println!(
            "two regions: medians of {ids:?} over {} ({} rural, {} urban EPCIs)",
            cmp["perimetre"]["libelle"],
            cmp["medianes"]["rural"]["epci"],
            cmp["medianes"]["urbain"]["epci"]
        );
    }

    // The PDF: the table of both regions' EPCIs and the charts.
    let population = |i: usize| cmp["epci"][i]["population"].as_u64().unwrap();
    pdf_holds_table_and_charts(
        &artifacts.join("deux-regions.pdf"),
        &[(caen, population(0)), (amiens, population(1))],
        "Normandie et Hauts-de-France",
    );
}
