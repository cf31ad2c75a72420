//! The OpenAPI document, proven: schemathesis (pinned in `scripts/test.sh`) generates
//! requests from the document the server publishes and checks every answer against it,
//! with every check on (server errors, status codes, content types, headers, response
//! schemas, schema-valid requests accepted, invalid ones refused, undeclared methods
//! answered 405 with `Allow`), then chains operations through their links (stateful
//! phase). Real values for the paths come from `tests/schemathesis/embedded.toml`, with
//! the few rules a schema cannot state.
//!
//! `ECOFONCIER_FUZZ_EXAMPLES` sets the examples per operation (100 here; `bench/fuzz.sh`
//! runs 1,000).

mod common;

use std::process::Command;

/// The schemathesis of the venv `scripts/test.sh` makes, or `ECOFONCIER_SCHEMATHESIS`.
fn schemathesis() -> String {
    std::env::var("ECOFONCIER_SCHEMATHESIS").unwrap_or_else(|_| {
        let venv = common::manifest_dir().join("target/venv/bin/schemathesis");
        assert!(
            venv.exists(),
            "schemathesis is not installed: run scripts/test.sh (it installs it in \
             target/venv) or set ECOFONCIER_SCHEMATHESIS"
        );
        venv.display().to_string()
    })
}

/// Runs schemathesis with `config` (under tests/schemathesis/) against the server at
/// `base`, with `extra` arguments; fails on any failure or error, or an operation left
/// untested.
fn fuzz(base: &str, config: &str, extra: &[&str]) {
    let examples = std::env::var("ECOFONCIER_FUZZ_EXAMPLES").unwrap_or_else(|_| "100".into());
    let config = common::manifest_dir()
        .join("tests/schemathesis")
        .join(config);
    // A folder of its own for hypothesis's and schemathesis's caches, out of the sources.
    let work = common::manifest_dir().join("target/schemathesis");
    std::fs::create_dir_all(&work).unwrap();
    // One worker: hypothesis's lambda-source cache is not safe across threads (a KeyError
    // from `AST_LAMBDAS_CACHE` with two).
    let out = Command::new(schemathesis())
        .current_dir(&work)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{base}/ogc/api")])
        .args(["--url", base])
        .args(["--checks", "all", "--max-examples", &examples])
        .args(["--seed", "20261204", "--workers", "1", "--no-color"])
        .args(["--generation-database", "none"])
        .args(extra)
        .output()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis found failures (above)");
    // Every operation was tested, none errored, and the summary says so.
    let line = |prefix: &str| {
        stdout
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line"))
            .to_string()
    };
    let selected = line("Selected:");
    let tested = line("Tested:");
    let total = selected
        .trim_start_matches("Selected:")
        .trim()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(tested, format!("Tested: {total}"), "{selected}");
    assert!(!stdout.contains("Errored:"), "an operation errored");
    let generated = stdout
        .lines()
        .find(|l| l.contains(" generated, "))
        .expect("a count of test cases");
    assert!(
        generated.contains(" passed") && !generated.contains("found"),
        "{generated}"
    );
}

#[test]
fn the_published_document_holds_under_schemathesis() {
    let server = common::spawn_server(&[("DATABASE_URL", "")]);
    fuzz(&server.base, "embedded.toml", &[]);
}

/// On PostGIS with an EPCI editor's token: the writes too, and the stateful phase from a
/// creation (the document's example plot, in the editor's EPCI) along the links the
/// document gives it (read, update with its ETag, history, delete). The history of the
/// example plot shows it was created through the API.
#[test]
fn writes_hold_under_schemathesis_on_postgis() {
    let pg = common::pg::PgCluster::start("fuzz");
    common::pg::ecofoncier(&pg.url(), &["migrate"]);
    let data = common::data_dir();
    common::pg::ecofoncier(
        &pg.url(),
        &["import", "--embedded", "--data", data.to_str().unwrap()],
    );
    // The editor of the EPCI of the document's example plot (the first plot with a site).
    let m = common::model();
    let plot = m
        .terrains
        .iter()
        .find(|t| t.record.site_id.is_some())
        .unwrap();
    let site = plot.record.site_id.unwrap().to_string();
    let epci = m
        .sites
        .by_id(&site)
        .unwrap()
        .record
        .site_epci_siren
        .to_string();
    let token = common::pg::ecofoncier(
        &pg.url(),
        &[
            "token",
            "create",
            "--epci",
            &epci,
            "--label",
            "schemathesis",
        ],
    );
    let server = common::spawn_server(&[("DATABASE_URL", &pg.url())]);
    let auth = format!("Authorization: Bearer {token}");
    fuzz(&server.base, "postgis.toml", &["-H", &auth]);
    // The stateful phase went from the creation of the example plot to what follows it.
    let history = common::request(
        &server.base,
        "GET",
        "/ogc/collections/terrains/items/EXEMPLE_TERRAIN-ECO_00001/history",
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    )
    .unwrap();
    println!("{}", String::from_utf8_lossy(&history.body));
    assert_eq!(history.status, 200);
    let rows = history.json()["historique"].clone();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "create" && r["jeton"].is_number()),
        "the example plot was never created: {rows}"
    );
}
