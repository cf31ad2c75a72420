//! Every benchmark script of `bench/` and every example that prints figures, run once in a
//! quick mode against the binary and examples `cargo test` builds, so that none rots
//! unseen: each must finish and print its figures with no refusal, error or failure among
//! them. The figures are not asserted (machines are shared and noisy): the real runs and
//! their dates are in BENCHMARKS.md. The criterion benchmarks run once through
//! `cargo test` itself (`test = true` in Cargo.toml).
//!
//! Left out: `bench/mvt_compare`, a crate of its own (prost and geozero's MVT encoder),
//! whose build would add minutes to the suite.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// One benchmark at a time: they load both cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// What no quick run may print: a refused or failed request, a client's socket error, a
/// Python exception, an error line.
const BAD: [&str; 6] = [
    "Non-2xx",
    "Socket errors",
    "Traceback",
    "Exception",
    "ERROR",
    "panicked",
];

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ecofoncier")
}

/// The examples `cargo test` built beside the binary.
fn examples() -> PathBuf {
    std::path::Path::new(bin())
        .parent()
        .unwrap()
        .join("examples")
}

/// Runs `program` with `args` from the crate's folder; asserts it succeeded and printed
/// nothing of [`BAD`]; returns what it printed.
fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(program)
        .args(args)
        .current_dir(common::manifest_dir())
        .env("ECOFONCIER_BIN", bin())
        .env("ECOFONCIER_EXAMPLES", examples())
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(out.status.success(), "{program} {args:?} failed (above)");
    for bad in BAD {
        assert!(
            !stdout.contains(bad) && !stderr.contains(bad),
            "{program} {args:?} printed `{bad}` (above)"
        );
    }
    stdout
}

fn bench(script: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all = vec![script];
    all.extend_from_slice(args);
    run("bash", &all, env)
}

#[test]
fn ogc_items_quick() {
    let out = bench("bench/ogc_items.sh", &["1"], &[]);
    // The plain page, two filters repeated, one new each request, three codings.
    assert_eq!(out.matches("Requests/sec").count(), 7, "{out}");
    assert!(
        out.contains("numberMatched, numberReturned: 1061 1061"),
        "{out}"
    );
    assert!(!out.contains("Non-2xx"), "{out}");
    for coding in ["identity", "gzip", "br"] {
        assert!(out.contains(&format!("-- {coding}: first answer")), "{out}");
    }
}

#[test]
fn proposal_quick() {
    let out = bench("bench/proposal.sh", &["1"], &[]);
    assert_eq!(out.matches("Requests/sec").count(), 2, "{out}");
}

#[test]
fn tiles_quick() {
    let out = bench("bench/tiles.sh", &["1"], &[]);
    assert!(
        out.contains("tiles/s") && out.contains("; 0 not 200"),
        "{out}"
    );
    // ecofoncier's warm tiles, then the same from files through nginx.
    assert!(out.contains("served by nginx"), "{out}");
    assert_eq!(out.matches("Requests/sec").count(), 2, "{out}");
}

#[test]
fn load_quick() {
    let out = bench("bench/load.sh", &["quick"], &[]);
    let clean = "errors: connect 0, read 0, write 0, timeout 0, status >= 400: 0";
    assert_eq!(out.matches(clean).count(), 2, "{out}");
    assert!(out.contains("0 refused, 0 failed"), "{out}");
}

#[test]
fn cluster_quick() {
    let out = bench("bench/cluster.sh", &["quick"], &[]);
    let clean = "errors: connect 0, read 0, write 0, timeout 0, status >= 400: 0";
    assert_eq!(
        out.matches(clean).count(),
        3,
        "one and two replicas, one core: {out}"
    );
    assert!(out.contains("on 2 replicas, 0 failed"), "{out}");
    assert!(out.contains("one replica on one core"), "{out}");
}

#[test]
fn fuzz_quick() {
    let out = bench("bench/fuzz.sh", &["3"], &[]);
    assert!(out.contains(" passed") && !out.contains("failure"), "{out}");
}

#[test]
fn first_paint_quick() {
    let out = bench("bench/first_paint.sh", &["1"], &[]);
    assert!(out.contains("\"fcp\"") && out.contains("\"idle\""), "{out}");
}

#[test]
fn country_import_quick() {
    let out = bench("bench/country_import.sh", &["2000", "3000"], &[]);
    assert_eq!(out.matches("rows read/s").count(), 3, "{out}");
    assert_eq!(out.matches(", 0 rejected").count(), 3, "{out}");
}

/// Two builds side by side; here the same binary on both sides (building a commit in
/// release would take minutes).
#[test]
fn ab_quick() {
    let out = bench("bench/ab.sh", &["HEAD", "1", "1"], &[("AB_BIN_A", bin())]);
    let runs: Vec<&str> = out.lines().filter(|l| l.starts_with("1 ")).collect();
    assert_eq!(runs.len(), 8, "4 routes × A and B: {out}");
    assert!(runs.iter().all(|l| l.ends_with(" 200")), "{out}");
}

#[test]
fn pg_store_quick() {
    let out = bench("bench/pg_store.sh", &[], &[]);
    assert_eq!(out.matches(", 0 rejected").count(), 2, "{out}");
    assert!(
        out.contains(", 0 written"),
        "the second import changes nothing: {out}"
    );
    assert_eq!(out.matches("/health after").count(), 2, "{out}");
}

/// The country-scale run on one small region (Corse), generated from the registry
/// packages, imported into a throwaway PostGIS and served beside the embedded data.
#[test]
fn country_quick_on_a_small_region() {
    let dir = common::manifest_dir().join("target/bench-quick/corse");
    let out = bench(
        "bench/country.sh",
        &["quick"],
        &[("TERRITORY", "94"), ("COUNTRY_DIR", dir.to_str().unwrap())],
    );
    assert!(out.contains("== done"), "{out}");
    assert_eq!(out.matches("0 refused (4xx), 0 errors").count(), 2, "{out}");
    assert_eq!(out.matches(" 0 refused, 0 failed").count(), 2, "{out}");
    assert!(out.contains("full recompute median"), "{out}");
    assert!(out.contains("region 94: Corse, "), "{out}");
    assert!(out.contains("the web map names: Corse"), "{out}");
    assert!(out.contains(r#"its first view: data-centre="9."#), "{out}");
    // The overview is drawn at the first view's zoom: it fits the map's area.
    let size = out
        .split("its overview: ")
        .nth(1)
        .and_then(|r| r.split(" px").next())
        .expect("the overview's size");
    let (w, h) = size.split_once(" x ").unwrap();
    let (w, h): (u32, u32) = (w.parse().unwrap(), h.parse().unwrap());
    assert!(w <= 662 && h <= 802 && (w >= 600 || h >= 700), "{size}");
}

#[test]
fn examples_print_their_figures() {
    let ex = |name: &str| examples().join(name).display().to_string();
    let data = common::data_dir().display().to_string();
    let csv = common::shared("cnig-sites-economiques/schema_terrain-eco_exemple-valide.csv");
    for (name, args, figure) in [
        ("crs_speed", vec![], "ns/point"),
        ("overview_png", vec![], "bytes, median"),
        ("profile_metrics", vec![], "occupancy"),
        ("load_timing", vec![data.as_str()], "ms"),
        ("read_cnig_csv", vec![csv.to_str().unwrap()], "rows"),
        (
            "recompute",
            vec![data.as_str(), "1"],
            "full recompute median",
        ),
    ] {
        let out = run(&ex(name), &args, &[]);
        assert!(out.contains(figure), "{name}: {out}");
    }
}
