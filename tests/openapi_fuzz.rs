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

#[test]
fn the_published_document_holds_under_schemathesis() {
    let server = common::spawn_server(&[("DATABASE_URL", "")]);
    let examples = std::env::var("ECOFONCIER_FUZZ_EXAMPLES").unwrap_or_else(|_| "100".into());
    let config = common::manifest_dir().join("tests/schemathesis/embedded.toml");
    // A folder of its own for hypothesis's and schemathesis's caches, out of the sources.
    let work = common::manifest_dir().join("target/schemathesis");
    std::fs::create_dir_all(&work).unwrap();
    // One worker: hypothesis's lambda-source cache is not safe across threads (a KeyError
    // from `AST_LAMBDAS_CACHE` with two).
    let out = Command::new(schemathesis())
        .current_dir(&work)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{}/ogc/api", server.base)])
        .args(["--url", &server.base])
        .args(["--checks", "all", "--max-examples", &examples])
        .args(["--seed", "20261204", "--workers", "1", "--no-color"])
        .args(["--generation-database", "none"])
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
    assert!(generated.trim().ends_with("passed"), "{generated}");
}
