//! What the operators see: a request id on every response, one JSON log line a request
//! carrying it (`--log-format json`), and Prometheus metrics at `/metrics` that count what
//! was asked, under route patterns.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{data_dir, free_port, request};
use serde_json::Value;

/// The value of the sample `name` (its labels written out) in a metrics text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn request_ids_json_lines_and_prometheus_metrics() {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecofoncier"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--workers", "2", "--log-format", "json"])
        .arg("--data")
        .arg(data_dir())
        .env("DATABASE_URL", "")
        .env("ECOFONCIER_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    {
        let lines = Arc::clone(&lines);
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(l);
            }
        });
    }
    common::wait_healthy(&base);

    // Ids: the client's when it is a plain token, else a new one each request.
    let r = request(
        &base,
        "GET",
        "/ogc/collections",
        &[("X-Request-Id", "lb-42.a_b")],
        None,
    )
    .unwrap();
    assert_eq!(r.header("X-Request-Id"), Some("lb-42.a_b"));
    let mut ours = Vec::new();
    for given in ["", "two words", &"x".repeat(65)] {
        let h: Vec<(&str, &str)> = if given.is_empty() {
            vec![]
        } else {
            vec![("X-Request-Id", given)]
        };
        let r = request(&base, "GET", "/ogc/collections", &h, None).unwrap();
        assert_eq!(r.status, 200);
        let id = r.header("X-Request-Id").expect("an id").to_string();
        assert_ne!(id, given);
        assert!(id.len() >= 8 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'));
        ours.push(id);
    }
    ours.sort();
    ours.dedup();
    assert_eq!(ours.len(), 3, "ids repeat: {ours:?}");
    // A feature (a route with a parameter), a 405, a path no route takes.
    let plot = common::model()
        .terrains
        .iter()
        .next()
        .unwrap()
        .record
        .terr_id
        .to_string();
    let item = format!("/ogc/collections/terrains/items/{plot}");
    assert_eq!(request(&base, "GET", &item, &[], None).unwrap().status, 200);
    assert_eq!(
        request(&base, "DELETE", "/api/v1/indicators", &[], None)
            .unwrap()
            .status,
        405
    );
    assert_eq!(
        request(&base, "GET", "/no/such/path", &[], None)
            .unwrap()
            .status,
        404
    );

    // The metrics count exactly what was asked, under the route patterns.
    let m = request(&base, "GET", "/metrics", &[], None).unwrap();
    assert_eq!(m.status, 200);
    assert!(m
        .header("Content-Type")
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = String::from_utf8(m.body.clone()).unwrap();
    let count = |labels: &str| {
        sample(
            &text,
            &format!("ecofoncier_http_requests_total{{{labels}}}"),
        )
        .unwrap_or(0.0)
    };
    assert_eq!(
        count(r#"method="GET",route="/ogc/collections",status="200""#),
        4.0,
        "{text}"
    );
    assert_eq!(
        count(r#"method="GET",route="/ogc/collections/{id}/items/{fid}",status="200""#),
        1.0,
        "{text}"
    );
    assert_eq!(
        count(r#"method="DELETE",route="/api/v1/indicators",status="405""#),
        1.0,
        "{text}"
    );
    assert_eq!(count(r#"method="GET",route="unmatched",status="404""#), 1.0);
    assert_eq!(
        sample(
            &text,
            r#"ecofoncier_http_request_duration_seconds_count{method="GET",route="/ogc/collections"}"#
        ),
        Some(4.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"ecofoncier_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/ogc/collections"}"#
        ),
        Some(4.0)
    );
    let plots = common::model().terrains.len() as f64;
    assert_eq!(
        sample(&text, r#"ecofoncier_features{collection="terrains"}"#),
        Some(plots)
    );
    // Embedded data: no audit rows; no change published yet.
    assert_eq!(sample(&text, "ecofoncier_snapshot_version"), Some(0.0));
    assert_eq!(sample(&text, "ecofoncier_snapshot_generation"), Some(0.0));
    let age = sample(&text, "ecofoncier_snapshot_age_seconds").unwrap();
    assert!((0.0..600.0).contains(&age), "{age}");
    assert!(text.ends_with("# EOF\n"));

    // One JSON line a request, carrying its id.
    std::thread::sleep(Duration::from_millis(300));
    let logged: Vec<Value> = lines
        .lock()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let requests: Vec<&Value> = logged
        .iter()
        .filter(|v| v.get("status").is_some())
        .collect();
    let of = |id: &str| -> Vec<&Value> {
        requests
            .iter()
            .copied()
            .filter(|v| v["span"]["id"] == id)
            .collect()
    };
    let given = of("lb-42.a_b");
    assert_eq!(given.len(), 1, "{requests:?}");
    let line = given[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/ogc/collections");
    assert_eq!(line["path"], "/ogc/collections");
    assert_eq!(line["status"], 200);
    assert!(line["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(line["timestamp"].is_string());
    for id in &ours {
        assert_eq!(of(id).len(), 1, "one line for request {id}");
    }
    assert!(requests
        .iter()
        .any(|v| v["status"] == 405 && v["route"] == "/api/v1/indicators"));
    assert!(logged.iter().any(|v| v["fields"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("listening on"))
        || v["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("listening on"))));
    let _ = child.kill();
    let _ = child.wait();
}
