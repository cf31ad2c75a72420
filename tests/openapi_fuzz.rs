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
/// `base`, with `extra` arguments and `env` (hooks), fails on any failure or error, or an operation left
/// untested.
fn fuzz(base: &str, config: &str, extra: &[&str], env: &[(&str, &str)]) {
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
        .envs(env.iter().copied())
        .env("PYTHONPATH", config.parent().unwrap())
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
    fuzz(
        &server.base,
        "embedded.toml",
        &[],
        &[("SCHEMATHESIS_HOOKS", "hooks")],
    );
}

/// On PostGIS with an EPCI editor's token: the writes too, and the stateful phase from
/// creations along the links the document gives them (read, update with the ETag,
/// history, delete). `tests/schemathesis/hooks.py` makes a positive creation of that phase
/// the document's example plot under a fresh id (a schema cannot say what makes a plot
/// writable) and logs the phase's answers; from that log, the test checks that creations
/// were followed by a read, an update, the history and a deletion, and an update by what
/// its own links allow.
#[test]
fn writes_hold_under_schemathesis_on_postgis() {
    let pg = common::pg::PgCluster::start("fuzz");
    common::pg::ecofoncier(&pg.url(), &["migrate"]);
    let data = common::data_dir();
    common::pg::ecofoncier(
        &pg.url(),
        &["import", "--embedded", "--data", data.to_str().unwrap()],
    );
    let server = common::spawn_server(&[("DATABASE_URL", &pg.url())]);
    // The editor of the EPCI of the document's example plot.
    let get = |path: &str| common::request(&server.base, "GET", path, &[], None).unwrap();
    let doc = get("/ogc/api").json();
    let example = &doc["paths"]["/ogc/collections/{collectionId}/items"]["post"]["requestBody"]
        ["content"]["application/geo+json"]["example"];
    let site = example["properties"]["site_id"]
        .as_str()
        .expect("an example plot");
    let epci = get(&format!("/ogc/collections/sites/items/{site}")).json()["properties"]
        ["site_epci_siren"]
        .as_str()
        .unwrap()
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
    let auth = format!("Authorization: Bearer {token}");
    let log = common::manifest_dir().join("target/schemathesis/stateful-postgis.jsonl");
    let _ = std::fs::remove_file(&log);
    fuzz(
        &server.base,
        "postgis.toml",
        &["-H", &auth],
        &[
            ("SCHEMATHESIS_HOOKS", "hooks"),
            ("ECOFONCIER_FUZZ_LOG", log.to_str().unwrap()),
        ],
    );
    // The examples phase created the example plot itself.
    let history = common::request(
        &server.base,
        "GET",
        "/ogc/collections/terrains/items/EXEMPLE_TERRAIN-ECO_00001/history",
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    )
    .unwrap();
    assert_eq!(history.status, 200);
    let rows = history.json()["historique"].clone();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "create" && r["jeton"].is_number()),
        "the example plot was never created: {rows}"
    );
    // The stateful phase's chains, feature by feature.
    let steps: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .expect("the stateful phase's log")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let created: Vec<&str> = steps.iter().filter_map(|s| s["created"].as_str()).collect();
    let step = |s: &serde_json::Value| {
        let op = s["operation"].as_str().unwrap();
        let method = op.split(' ').next().unwrap();
        let what = if op.ends_with("/history") {
            " history"
        } else {
            ""
        };
        format!("{method}{what} {}", s["status"])
    };
    // What followed each creation, in order.
    let chains: Vec<Vec<String>> = created
        .iter()
        .map(|id| {
            steps
                .iter()
                .filter(|s| s["feature"].as_str() == Some(*id))
                .map(step)
                .collect()
        })
        .collect();
    let seen = |want: &str| {
        chains
            .iter()
            .filter(|c| c.iter().any(|d| d == want))
            .count()
    };
    let after_update = chains
        .iter()
        .filter(|c| {
            c.iter()
                .position(|d| d == "PATCH 200" || d == "PUT 200")
                .is_some_and(|i| {
                    c[i + 1..]
                        .iter()
                        .any(|d| d.ends_with(" 200") || d.ends_with(" 204"))
                })
        })
        .count();
    let longest = chains
        .iter()
        .max_by_key(|c| c.len())
        .cloned()
        .unwrap_or_default();
    println!(
        "stateful phase: {} answers, {} creations; after them: read {}, updated {}, replaced {}, \
         history {}, deleted {}; a success after an update {after_update}; longest: POST 201 → {}",
        steps.len(),
        created.len(),
        seen("GET 200"),
        seen("PATCH 200"),
        seen("PUT 200"),
        seen("GET history 200"),
        seen("DELETE 204"),
        longest.join(" → ")
    );
    for want in ["GET 200", "PATCH 200", "GET history 200", "DELETE 204"] {
        assert!(seen(want) > 0, "no creation was followed by {want}");
    }
    assert!(after_update > 0, "no update was followed through its links");
}
