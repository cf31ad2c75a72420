//! The process's life: a clean stop on SIGTERM, liveness and readiness, and a PostGIS that
//! cannot be reached at start (retries, then a plain message, never a panic).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{data_dir, free_port, request};

/// SIGTERM: the server stops accepting, finishes what it was doing and exits 0.
#[test]
fn sigterm_stops_cleanly_with_status_0() {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecofoncier"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "2",
        ])
        .arg("--data")
        .arg(data_dir())
        .env("DATABASE_URL", "")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_healthy(&base);
    let ready = request(&base, "GET", "/ready", &[], None).unwrap();
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["writes"], false);
    // Requests in flight while the signal arrives.
    let reader = {
        let base = base.clone();
        std::thread::spawn(move || {
            (0..200)
                .filter_map(|_| {
                    request(
                        &base,
                        "GET",
                        "/ogc/collections/terrains/items?limit=500",
                        &[],
                        None,
                    )
                    .ok()
                })
                .filter(|r| r.status == 200)
                .count()
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopped = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(40),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        reader.join().unwrap() > 0,
        "pages were served before the stop"
    );
    assert!(
        request(&base, "GET", "/health", &[], None).is_err(),
        "stopped listening"
    );
}

/// PostGIS unreachable at start: the server says so, tries again with backoff for
/// `--connect-wait` seconds, then exits with the error; no panic.
#[test]
fn unreachable_postgis_at_start_is_retried_then_reported() {
    let closed = free_port();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_ecofoncier"))
        .args(["serve", "--bind", &format!("127.0.0.1:{}", free_port())])
        .args(["--connect-wait", "4"])
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{closed}/ecofoncier"),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.matches("retrying in").count() >= 2, "{stderr}");
    assert!(stderr.contains("still unreachable after"), "{stderr}");
    assert!(started.elapsed() >= Duration::from_secs(3), "it waited");
}
