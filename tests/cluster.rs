//! ecofoncier as a cluster: replicas of `serve` on one throwaway PostGIS behind a throwaway
//! nginx configured by `deploy/nginx/ecofoncier.conf`. Writes go through nginx to whichever
//! replica it picks; every replica must then serve the same version and content.

mod common;

use std::time::{Duration, Instant};

use common::nginx::Nginx;
use common::pg::{audit_version, ecofoncier, snapshot_version, wait_snapshot_version, PgCluster};
use common::{request, Response};
use serde_json::json;

/// A throwaway PostGIS with the embedded data imported, and an admin's bearer header.
fn loaded(name: &str) -> (PgCluster, String) {
    let pg = common::pg::loaded(name);
    let token = ecofoncier(&pg.url(), &["token", "create", "--role", "admin"]);
    (pg, format!("Bearer {token}"))
}

/// Two replicas on a loaded PostGIS behind nginx, and an admin's bearer header.
struct Cluster {
    pg: PgCluster,
    auth: String,
    a: common::ServerProcess,
    b: common::ServerProcess,
    lb: Nginx,
}

fn two_replicas(name: &str) -> Cluster {
    let (pg, auth) = loaded(name);
    let a = common::spawn_server(&[("DATABASE_URL", &pg.url())]);
    let b = common::spawn_server(&[("DATABASE_URL", &pg.url())]);
    let lb = Nginx::start(name, &[&a.base, &b.base]);
    Cluster { pg, auth, a, b, lb }
}

/// Asks `base` to set the plot at `item` to reference `value`, at version `etag`.
fn patch_reference(base: &str, item: &str, auth: &str, etag: &str, value: &str) -> Response {
    let body = json!({"properties": {"terr_refcad": value}}).to_string();
    request(
        base,
        "PATCH",
        item,
        &[
            ("Authorization", auth),
            ("If-Match", etag),
            ("Content-Type", "application/merge-patch+json"),
        ],
        Some(body.as_bytes()),
    )
    .unwrap()
}

/// Sets the plot at `item` to reference `value` through `base`, at version `etag`; its
/// new ETag.
fn write_reference(base: &str, item: &str, auth: &str, etag: &str, value: &str) -> String {
    let r = patch_reference(base, item, auth, etag, value);
    assert_eq!(
        r.status,
        200,
        "{value}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.header("ETag").unwrap().to_string()
}

/// Two replicas behind nginx: 200 writes through nginx, each then read directly from both
/// replicas until both serve its version; at the end the same ETag and the same body
/// everywhere, and both report the database's last audit row as their snapshot version.
/// Prints the visibility lag (from the write's answer to the slower replica
/// serving it); its aim (p99 under 100 ms) is measured by `bench/cluster.sh`.
#[test]
fn writes_through_nginx_reach_every_replica() {
    let Cluster { pg, auth, a, b, lb } = two_replicas("cluster");
    let before = audit_version(&pg.url());
    assert_eq!(snapshot_version(&a.base), before);
    assert_eq!(snapshot_version(&b.base), before);

    let plot = common::model().terrains.get(0).record.terr_id.to_string();
    let item = format!("/ogc/collections/terrains/items/{plot}");
    let etag = |base: &str| {
        request(base, "GET", &item, &[], None)
            .unwrap()
            .header("ETag")
            .map(str::to_string)
    };
    let mut current = etag(&lb.base).expect("the plot has an ETag");
    let mut lags = Vec::new();
    for k in 0..200 {
        current = write_reference(&lb.base, &item, &auth, &current, &format!("cluster-{k}"));
        let written = Instant::now();
        let mut pending = vec![&a.base, &b.base];
        while !pending.is_empty() {
            pending.retain(|base| etag(base).as_deref() != Some(current.as_str()));
            assert!(
                written.elapsed() < Duration::from_secs(10),
                "write {k} not on every replica after 10 s"
            );
        }
        lags.push(written.elapsed().as_secs_f64() * 1e3);
    }
    lags.sort_by(f64::total_cmp);
    let q = |p: f64| lags[((lags.len() as f64 * p) as usize).min(lags.len() - 1)];
    println!(
        "200 writes through nginx: visible on both replicas after p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        q(0.5),
        q(0.99),
        lags[lags.len() - 1]
    );
    let on_a = request(&a.base, "GET", &item, &[], None).unwrap();
    let on_b = request(&b.base, "GET", &item, &[], None).unwrap();
    assert_eq!(on_a.header("ETag"), Some(current.as_str()));
    assert_eq!(on_b.header("ETag"), Some(current.as_str()));
    // The same feature (links name the address asked, each replica's own here).
    for part in ["geometry", "properties"] {
        assert_eq!(on_a.json()[part], on_b.json()[part], "{part}");
    }
    assert_eq!(on_a.json()["properties"]["terr_refcad"], "cluster-199");
    // The 200 audit rows, applied by both.
    let after = audit_version(&pg.url());
    assert_eq!(after, before + 200);
    wait_snapshot_version(&[&a.base, &b.base], after);
    // Links are written with the address the client used: nginx's.
    let page = request(
        &lb.base,
        "GET",
        "/ogc/collections/terrains/items?limit=1",
        &[],
        None,
    )
    .unwrap()
    .json();
    let next = page["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(next.starts_with(&lb.base), "{next}");
}

/// A replica run by the test itself, so that it can be killed and started again on the same
/// port.
struct Replica {
    port: u16,
    url: String,
    child: Option<std::process::Child>,
}

impl Replica {
    fn start(url: &str) -> Replica {
        let mut r = Replica {
            port: common::free_port(),
            url: url.to_string(),
            child: None,
        };
        r.restart();
        r
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the process (again) and waits until it says it is ready.
    fn restart(&mut self) {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_ecofoncier"))
            .args(["serve", "--workers", "2", "--bind"])
            .arg(format!("127.0.0.1:{}", self.port))
            .env("DATABASE_URL", &self.url)
            .env("ECOFONCIER_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the ecofoncier binary starts");
        self.child = Some(child);
        let started = Instant::now();
        while request(&self.base(), "GET", "/ready", &[], None)
            .map(|r| r.status)
            .ok()
            != Some(200)
        {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "replica not ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `SIGKILL`: no goodbye.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `SIGTERM`: finishes what is in flight, exits 0.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = std::process::Command::new("kill")
                .arg(c.id().to_string())
                .status();
            let status = c.wait().unwrap();
            assert!(
                status.success(),
                "a replica stopped by SIGTERM exits 0: {status}"
            );
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// 30 s of reads through nginx at 50 connections while one replica is killed (`SIGKILL`)
/// and writes go on through the other, then started again, then both are restarted one
/// after the other (`SIGTERM`, a rolling restart): no client request fails, and afterwards
/// both replicas serve the last write.
#[test]
fn a_replica_killed_and_a_rolling_restart_fail_no_request() {
    let (pg, auth) = loaded("failover");
    let mut a = Replica::start(&pg.url());
    let mut b = Replica::start(&pg.url());
    let lb = Nginx::start("failover", &[&a.base(), &b.base()]);

    // Reads: items pages, tiles and EPCI sheets, at random.
    let dir = common::temp_dir("failover-wrk");
    let lua = dir.join("reads.lua");
    std::fs::write(
        &lua,
        r#"local paths = {
  "/ogc/collections/terrains/items?bbox=3.03,50.62,3.13,50.69&limit=50",
  "/tiles/terrains/13/4166/2755",
  "/api/v1/indicators/epci/200093201",
  "/ogc/collections/sites/items?limit=20",
}
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
"#,
    )
    .unwrap();
    let wrk = std::process::Command::new("wrk")
        .args(["-t2", "-c50", "-d30s", "--timeout", "10s", "-s"])
        .arg(&lua)
        .arg(&lb.base)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("wrk (scripts/test.sh installs it) runs");
    let started = Instant::now();
    let at = |s: u64| {
        let t = Duration::from_secs(s);
        if let Some(rest) = t.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    };

    let plot = common::model().terrains.get(1).record.terr_id.to_string();
    let item = format!("/ogc/collections/terrains/items/{plot}");
    let mut current = request(&lb.base, "GET", &item, &[], None)
        .unwrap()
        .header("ETag")
        .unwrap()
        .to_string();
    let mut write = |k: u32| {
        current = write_reference(&lb.base, &item, &auth, &current, &format!("failover-{k}"));
    };

    at(4);
    a.kill();
    for k in 0..20 {
        write(k);
    }
    at(9);
    a.restart();
    // Ready means in step: the restarted replica is at the other's version already.
    let now = audit_version(&pg.url());
    assert_eq!(snapshot_version(&a.base()), now, "ready but behind");
    assert_eq!(snapshot_version(&b.base()), now);
    at(15);
    a.stop();
    a.restart();
    at(20);
    b.stop();
    b.restart();
    write(20);
    let out = wrk.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    assert!(out.status.success());
    assert!(report.contains("requests in"), "{report}");
    assert!(!report.contains("Socket errors"), "client errors: {report}");
    assert!(!report.contains("Non-2xx"), "failed requests: {report}");
    // Both replicas, restarted, serve the last write.
    let started = Instant::now();
    for base in [a.base(), b.base()] {
        while request(&base, "GET", &item, &[], None)
            .unwrap()
            .header("ETag")
            != Some(current.as_str())
        {
            assert!(started.elapsed() < Duration::from_secs(10), "{base} behind");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    wait_snapshot_version(&[&a.base(), &b.base()], audit_version(&pg.url()));
}

/// PostGIS killed and started again while writes go on through nginx: writes refused
/// meanwhile are not acknowledged; every acknowledged one is, afterwards, on both
/// replicas (each plot at the version of its last acknowledged write), which report the
/// same snapshot version, the database's last audit row.
#[test]
fn postgis_restarted_during_writes_loses_no_acknowledged_write() {
    let Cluster { pg, auth, a, b, lb } = two_replicas("restart");
    let m = common::model();
    let items: Vec<String> = (0..4)
        .map(|i| {
            format!(
                "/ogc/collections/terrains/items/{}",
                m.terrains.get(i).record.terr_id
            )
        })
        .collect();
    let etag = |base: &str, item: &str| {
        request(base, "GET", item, &[], None)
            .ok()
            .and_then(|r| r.header("ETag").map(str::to_string))
    };
    // The last acknowledged version of each plot.
    let mut acked: Vec<String> = items.iter().map(|i| etag(&lb.base, i).unwrap()).collect();
    let patch = |i: usize, etag: &str, value: String| {
        patch_reference(&lb.base, &items[i], &auth, etag, &value)
    };
    let (mut ok, mut refused) = (0, 0);
    let started = Instant::now();
    let mut killed = false;
    let mut k = 0;
    while started.elapsed() < Duration::from_secs(12) {
        if !killed && started.elapsed() > Duration::from_secs(3) {
            pg.kill();
            killed = true;
            let pg_ref = &pg;
            std::thread::scope(|s| {
                s.spawn(move || {
                    std::thread::sleep(Duration::from_secs(2));
                    pg_ref.restart();
                });
                // Writes while PostGIS is down are refused, not acknowledged.
                let until = Instant::now() + Duration::from_secs(2);
                while Instant::now() < until {
                    let i = k % items.len();
                    let r = patch(i, &acked[i], format!("down-{k}"));
                    assert_ne!(r.status, 200, "a write acknowledged while PostGIS was down");
                    refused += 1;
                    k += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
            });
        }
        let i = k % items.len();
        let r = patch(i, &acked[i], format!("restart-{k}"));
        if r.status == 200 {
            acked[i] = r.header("ETag").unwrap().to_string();
            ok += 1;
        } else {
            // PostGIS coming back: refused (503), nothing written.
            refused += 1;
            std::thread::sleep(Duration::from_millis(50));
        }
        k += 1;
    }
    println!("{ok} writes acknowledged, {refused} refused while PostGIS was down or starting");
    assert!(
        ok > 20 && refused > 0,
        "{ok} acknowledged, {refused} refused"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    for base in [&a.base, &b.base] {
        for (item, want) in items.iter().zip(&acked) {
            while etag(base, item).as_deref() != Some(want.as_str()) {
                assert!(
                    Instant::now() < deadline,
                    "{base}{item} is not at its last acknowledged version {want}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    wait_snapshot_version(&[&a.base, &b.base], audit_version(&pg.url()));
}

/// nginx keeps a tile for a second (`proxy_cache` in the deployed configuration): asked
/// twice, it is a cache hit the second time, with the same bytes and ETag; after a write
/// that changes the tile, nginx serves the new tile once its second has passed (revalidated
/// with the replica); the TileJSON, whose URLs name the host asked, is not cached.
#[test]
fn nginx_caches_tiles_for_a_second_and_follows_writes() {
    let Cluster {
        pg: _pg,
        auth,
        a: _a,
        b: _b,
        lb,
    } = two_replicas("tilecache");
    let plot = common::model().terrains.get(2).record.terr_id.to_string();
    let item = format!("/ogc/collections/terrains/items/{plot}");
    let feature = request(&lb.base, "GET", &item, &[], None).unwrap();
    let etag = feature.header("ETag").unwrap().to_string();
    let feature = feature.json();
    let first = &feature["geometry"]["coordinates"][0][0];
    let (x, y) = common::mvt::tile_of(first[0].as_f64().unwrap(), first[1].as_f64().unwrap(), 14);
    let tile = format!("/tiles/terrains/14/{x}/{y}");
    let stage_in = |r: &Response| {
        common::mvt::decode(&r.body)[0]
            .property_of("terr_id", &plot, "terr_stade_comm")
            .map(str::to_string)
    };

    let miss = request(&lb.base, "GET", &tile, &[], None).unwrap();
    assert_eq!(miss.status, 200);
    assert_eq!(miss.header("X-Cache-Status"), Some("MISS"));
    let hit = request(&lb.base, "GET", &tile, &[], None).unwrap();
    assert_eq!(hit.header("X-Cache-Status"), Some("HIT"));
    assert_eq!(
        (hit.body.as_slice(), hit.header("ETag")),
        (miss.body.as_slice(), miss.header("ETag"))
    );
    let tilejson = request(&lb.base, "GET", "/tiles/terrains", &[], None).unwrap();
    assert_eq!(tilejson.status, 200);
    assert_eq!(tilejson.header("X-Cache-Status"), None);

    // Another stage for the plot, through nginx.
    let before = stage_in(&miss).expect("the plot is in its tile");
    let after = if before == "en vente" {
        "en vente avec contraintes"
    } else {
        "en vente"
    };
    let body = json!({"properties": {"terr_stade_comm": after}}).to_string();
    let r = request(
        &lb.base,
        "PATCH",
        &item,
        &[
            ("Authorization", auth.as_str()),
            ("If-Match", etag.as_str()),
            ("Content-Type", "application/merge-patch+json"),
        ],
        Some(body.as_bytes()),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let written = Instant::now();
    let mut seen = Vec::new();
    loop {
        let r = request(&lb.base, "GET", &tile, &[], None).unwrap();
        seen.push(r.header("X-Cache-Status").unwrap_or("-").to_string());
        if stage_in(&r).as_deref() == Some(after) {
            assert_ne!(r.header("ETag"), miss.header("ETag"));
            break;
        }
        assert!(
            written.elapsed() < Duration::from_secs(5),
            "nginx still serves the old tile: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "the written plot's new tile through nginx after {} ms ({seen:?})",
        written.elapsed().as_millis()
    );
    let hit = request(&lb.base, "GET", &tile, &[], None).unwrap();
    assert_eq!(hit.header("X-Cache-Status"), Some("HIT"));
    assert_eq!(stage_in(&hit).as_deref(), Some(after));
}
