//! The command line's error paths: each says what is wrong and exits non-zero, without a
//! panic and without writing anything.

mod common;

use std::process::Command;

use common::free_port;
use common::pg::{ecofoncier, PgCluster};

/// Runs the binary with `DATABASE_URL=url` and `args`; its exit success and stderr.
fn run(url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecofoncier"))
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .expect("ecofoncier runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    (out.status.success(), stderr)
}

#[test]
fn error_paths_are_reported_plainly() {
    // No database at all: migrate, import and token commands say so.
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/x", free_port());
    for args in [
        &["migrate"][..],
        &["token", "list"][..],
        &["token", "create", "--role", "admin"][..],
        &["import", "--embedded"][..],
    ] {
        let (ok, err) = run(&nowhere, args);
        assert!(!ok, "{args:?} succeeded without a database");
        assert!(!err.trim().is_empty(), "{args:?} said nothing");
    }
    let pg = PgCluster::start("cli");
    let url = pg.url();
    ecofoncier(&url, &["migrate"]);
    // Roles: an unknown one, an editor without its EPCI, an admin with one.
    let (ok, err) = run(&url, &["token", "create", "--role", "owner"]);
    assert!(!ok && err.contains("owner"), "{err}");
    let (ok, err) = run(&url, &["token", "create", "--role", "editor"]);
    assert!(!ok && err.contains("--epci"), "{err}");
    let (ok, err) = run(
        &url,
        &["token", "create", "--role", "admin", "--epci", "200018083"],
    );
    assert!(!ok && err.contains("--epci"), "{err}");
    let (ok, err) = run(
        &url,
        &["token", "create", "--role", "admin", "--expires", "soon"],
    );
    assert!(!ok && err.contains("soon"), "{err}");
    let (ok, err) = run(&url, &["token", "revoke", "12345"]);
    assert!(!ok && err.contains("12345"), "{err}");
    assert_eq!(
        ecofoncier(&url, &["token", "list"]).lines().count(),
        1,
        "no token was made"
    );
    // A migration edited after it was applied is refused, not applied again.
    common::pg::psql(
        &url,
        "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
    );
    let (ok, err) = run(&url, &["migrate"]);
    assert!(!ok && err.contains("checksum"), "{err}");
}
