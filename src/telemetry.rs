//! What the service tells its operators: structured logs (`tracing`, one line per request
//! with its id, as text or JSON) and Prometheus metrics (`prometheus-client`, served at
//! `/metrics`). Nothing here knows HTTP types: the API feeds it plain values.
//!
//! The metrics, all prefixed `ecofoncier_`:
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `http_requests_total` | counter | method, route, status | requests answered |
//! | `http_request_duration_seconds` | histogram | method, route | time to the response head |
//! | `snapshot_version` | gauge | | the highest audit row (`historique.id`) the served data holds, as `/health` says: the same on every replica in step (0 without PostGIS) |
//! | `snapshot_generation` | gauge | | snapshots published by this process |
//! | `snapshot_age_seconds` | gauge | | since the current snapshot was published |
//! | `features` | gauge | collection | features in the current snapshot |
//! | `writes_published_total` | counter | collection, origin | changes published (`local`: written here; `followed`: written by another instance) |
//! | `follower_connected` | gauge | | 1 while in step with PostGIS: listening, and caught up after the load or a lost connection |
//! | `follower_lag_seconds` | gauge | | the last followed write: from its audit row in PostGIS to its publication here |
//! | `follower_caught_up_total` | counter | | features read again from the audit table after a gap |
//! | `reloads_total` | counter | | whole reloads (an import, a catch-up across an import) |
//! | `import_running` | gauge | | 1 from an import's first table committed until this instance has reloaded it |
//! | `import_rows_total` | counter | table, outcome | rows of the imports seen, table by table as each commits (`read`, `written`, `rejected`) |
//!
//! Routes are the patterns the server matched (`/ogc/collections/{id}/items`),
//! `unmatched` for the rest, so a scan of random paths cannot grow the label sets.

use std::str::FromStr;
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// How log lines are written (`serve --log-format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line an event.
    #[default]
    Text,
    /// One JSON object a line (for a log collector).
    Json,
}

/// Installs the global log subscriber, writing to stderr at the level named by
/// `ECOFONCIER_LOG` (`error`, `warn`, `info` by default, `debug`, `trace`, `off`).
/// A second call keeps the first subscriber.
pub fn init_logs(format: LogFormat) {
    let level = std::env::var("ECOFONCIER_LOG")
        .ok()
        .and_then(|l| tracing_subscriber::filter::LevelFilter::from_str(&l).ok())
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CollectionLabels {
    collection: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ImportLabels {
    table: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    collection: &'static str,
    origin: &'static str,
}

/// Upper bounds of the request duration buckets, seconds: 0.25 ms to 10 s.
const DURATION_BUCKETS: [f64; 14] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The process's metrics.
pub struct Telemetry {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    snapshot_version: Gauge,
    snapshot_generation: Gauge,
    snapshot_age: FloatGauge,
    features: Family<CollectionLabels, Gauge>,
    writes: Family<WriteLabels, Counter>,
    follower_connected: Gauge,
    follower_lag: FloatGauge,
    caught_up: Counter,
    reloads: Counter,
    import_running: Gauge,
    import_rows: Family<ImportLabels, Counter>,
}

/// Where a published write came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Written through this instance.
    Local,
    /// Written by another instance, learnt from PostGIS.
    Followed,
}

/// The process's metrics, made on first use.
pub fn telemetry() -> &'static Telemetry {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(Telemetry::new)
}

impl Telemetry {
    fn new() -> Telemetry {
        let mut t = Telemetry {
            registry: Registry::with_prefix("ecofoncier"),
            requests: Family::default(),
            durations: Family::new_with_constructor(duration_histogram),
            snapshot_version: Gauge::default(),
            snapshot_generation: Gauge::default(),
            snapshot_age: FloatGauge::default(),
            features: Family::default(),
            writes: Family::default(),
            follower_connected: Gauge::default(),
            follower_lag: FloatGauge::default(),
            caught_up: Counter::default(),
            reloads: Counter::default(),
            import_running: Gauge::default(),
            import_rows: Family::default(),
        };
        let r = &mut t.registry;
        r.register(
            "http_requests",
            "Requests answered, by method, route pattern and status",
            t.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response head, by method and route pattern",
            t.durations.clone(),
        );
        r.register(
            "snapshot_version",
            "The highest audit row (historique.id) whose change the served data holds",
            t.snapshot_version.clone(),
        );
        r.register(
            "snapshot_generation",
            "Snapshots of the read model published by this process",
            t.snapshot_generation.clone(),
        );
        r.register(
            "snapshot_age_seconds",
            "Seconds since the current snapshot was published",
            t.snapshot_age.clone(),
        );
        r.register(
            "features",
            "Features in the current snapshot, by collection",
            t.features.clone(),
        );
        r.register(
            "writes_published",
            "Writes published into the read model, by collection and origin (local or followed)",
            t.writes.clone(),
        );
        r.register(
            "follower_connected",
            "1 while the LISTEN connection to PostGIS is up, else 0",
            t.follower_connected.clone(),
        );
        r.register(
            "follower_lag_seconds",
            "The last followed write: seconds from its audit row in PostGIS to its publication here",
            t.follower_lag.clone(),
        );
        r.register(
            "follower_caught_up",
            "Features read again from the audit table after a gap in the notifications",
            t.caught_up.clone(),
        );
        r.register(
            "reloads",
            "Whole reloads of the read model (after an import)",
            t.reloads.clone(),
        );
        r.register(
            "import_running",
            "1 from an import's first table committed until this instance has reloaded it",
            t.import_running.clone(),
        );
        r.register(
            "import_rows",
            "Rows of the imports seen, by table and outcome (read, written, rejected)",
            t.import_rows.clone(),
        );
        t
    }

    /// Counts a request and its duration.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.to_string(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                method,
                route: route.to_string(),
            })
            .observe(seconds);
    }

    /// Counts a write published into the read model.
    pub fn write_published(&self, collection: &'static str, origin: Origin) {
        let origin = match origin {
            Origin::Local => "local",
            Origin::Followed => "followed",
        };
        self.writes
            .get_or_create(&WriteLabels { collection, origin })
            .inc();
    }

    /// The follower's connection went up or down.
    pub fn follower_connected(&self, up: bool) {
        self.follower_connected.set(up as i64);
    }

    /// A followed write was published `seconds` after its audit row.
    pub fn follower_lag(&self, seconds: f64) {
        self.follower_lag.set(seconds.max(0.0));
    }

    /// `n` features were read again from the audit table.
    pub fn caught_up(&self, n: u64) {
        self.caught_up.inc_by(n);
    }

    /// A table of an import was committed: `rows` read, `written`, `rejected`.
    pub fn table_imported(&self, table: &str, rows: u64, written: u64, rejected: u64) {
        self.import_running.set(1);
        for (outcome, n) in [("read", rows), ("written", written), ("rejected", rejected)] {
            self.import_rows
                .get_or_create(&ImportLabels {
                    table: table.to_string(),
                    outcome,
                })
                .inc_by(n);
        }
    }

    /// The read model was reloaded whole (an import is over for this instance).
    pub fn reloaded(&self) {
        self.import_running.set(0);
        self.reloads.inc();
    }

    /// The metrics in the OpenMetrics text format (which Prometheus reads), with the
    /// snapshot's figures as of now: its audit `version`, its `generation` in this process,
    /// its `age` in seconds and its features by collection.
    pub fn encode(
        &self,
        version: i64,
        generation: u64,
        age: f64,
        features: &[(&'static str, usize)],
    ) -> String {
        self.snapshot_version.set(version);
        self.snapshot_generation.set(generation as i64);
        self.snapshot_age.set(age);
        for (collection, n) in features {
            self.features
                .get_or_create(&CollectionLabels { collection })
                .set(*n as i64);
        }
        let mut out = String::with_capacity(16 << 10);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The method as a label: the standard ones by name, any other as `other`.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
    ];
    KNOWN
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

/// The OpenMetrics content type of [`Telemetry::encode`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_requests_snapshot_and_writes() {
        let t = Telemetry::new();
        t.request("GET", "/ogc/collections", 200, 0.003);
        t.request("GET", "/ogc/collections", 200, 0.2);
        t.request("BREW", "unmatched", 405, 0.0001);
        t.write_published("terrains", Origin::Local);
        t.table_imported("terrain", 26_450, 12, 1);
        let text = t.encode(41, 7, 1.5, &[("terrains", 26_450)]);
        assert!(
            text.contains("ecofoncier_import_rows_total{table=\"terrain\",outcome=\"read\"} 26450"),
            "{text}"
        );
        assert!(
            text.contains("ecofoncier_import_rows_total{table=\"terrain\",outcome=\"written\"} 12")
        );
        assert!(text.contains("ecofoncier_import_running 1"));
        assert!(text.contains(
            "ecofoncier_http_requests_total{method=\"GET\",route=\"/ogc/collections\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "ecofoncier_http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"} 1"
        ));
        assert!(text.contains(
            "ecofoncier_http_request_duration_seconds_bucket{le=\"0.005\",method=\"GET\",route=\"/ogc/collections\"} 1"
        ), "{text}");
        assert!(text.contains("ecofoncier_snapshot_version 41"));
        assert!(text.contains("ecofoncier_snapshot_generation 7"));
        assert!(text.contains("ecofoncier_snapshot_age_seconds 1.5"));
        assert!(text.contains("ecofoncier_features{collection=\"terrains\"} 26450"));
        assert!(text.contains(
            "ecofoncier_writes_published_total{collection=\"terrains\",origin=\"local\"} 1"
        ));
        assert!(text.ends_with("# EOF\n"));
    }
}
