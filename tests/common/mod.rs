//! Shared test support: the real binary serving the embedded dataset on a free port (one per
//! test binary), a minimal HTTP/1.1 client, and the in-process read model for brute-force
//! comparisons.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ecofoncier::read_model::ReadModel;
use ecofoncier::source::EmbeddedSource;

pub mod mvt;
pub mod nginx;
pub mod pg;

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn data_dir() -> PathBuf {
    manifest_dir().join("data")
}

/// `../shared/data/<rel>`: the reference data beside the project.
pub fn shared(rel: &str) -> PathBuf {
    let p = manifest_dir().join("../shared/data").join(rel);
    assert!(p.exists(), "reference file {} is missing", p.display());
    p
}

/// The read model of the embedded dataset, loaded once per test binary.
pub fn model() -> &'static ReadModel {
    static MODEL: OnceLock<ReadModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let data = EmbeddedSource::new(data_dir())
            .load_sync()
            .expect("embedded dataset loads");
        ReadModel::build(data).expect("embedded dataset indexes")
    })
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Server {
    base: String,
    _child: ChildGuard,
}

/// The shell that runs a server: closing its stdin makes it stop the server and exit.
pub struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Killing the shell would leave the server running: close its stdin instead.
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

/// Base URL (`http://127.0.0.1:PORT`) of the binary serving the embedded dataset, started
/// once per test binary and killed when the process exits.
pub fn server() -> &'static str {
    static SERVER: OnceLock<Server> = OnceLock::new();
    &SERVER
        .get_or_init(|| {
            let (base, guard) = start_server(&[("DATABASE_URL", "")], &data_dir());
            Server {
                base,
                _child: guard,
            }
        })
        .base
}

/// A running server process; killed when dropped (or when the test process exits).
pub struct ServerProcess {
    pub base: String,
    _guard: ChildGuard,
}

/// Starts the binary (`serve` on a free port, environment `env` added) and waits for its
/// health endpoint.
pub fn spawn_server(env: &[(&str, &str)]) -> ServerProcess {
    spawn_server_on(&data_dir(), env)
}

/// [`spawn_server`] on the dataset in `data` (files, no database).
pub fn spawn_server_on(data: &std::path::Path, env: &[(&str, &str)]) -> ServerProcess {
    let (base, guard) = start_server(env, data);
    ServerProcess {
        base,
        _guard: guard,
    }
}

fn start_server(env: &[(&str, &str)], data: &std::path::Path) -> (String, ChildGuard) {
    let port = free_port();
    // The server runs under a shell that kills it when our end of its stdin closes,
    // which happens when this test process exits (statics are never dropped).
    let script = format!(
        "\"$0\" serve --bind 127.0.0.1:{port} --workers 2 --data \"$1\" >/dev/null & \
         pid=$!; read -r _; kill $pid; wait $pid"
    );
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_ecofoncier"))
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        // Warnings and errors only: a line a request would bury the tests' own output.
        .env("ECOFONCIER_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("the ecofoncier binary starts");
    let guard = ChildGuard(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&base);
    (base, guard)
}

/// Waits until the server at `base` answers `/ready` with 200 (two minutes at most): loaded,
/// and in step with the PostGIS it follows, if any.
pub fn wait_healthy(base: &str) {
    let started = Instant::now();
    loop {
        if let Ok(r) = try_get(base, "/ready") {
            if r.status == 200 {
                return;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }
}

fn try_get(base: &str, path: &str) -> std::io::Result<Response> {
    request(base, "GET", path, &[], None)
}

/// The tests' HTTP client: statuses are answers, not errors; no body limit.
fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    })
}

/// Sends one request (`ureq`) and reads the whole response.
pub fn request(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<Response> {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(body.unwrap_or_default().to_vec())
        .map_err(std::io::Error::other)?;
    let res = agent().run(req).map_err(std::io::Error::other)?;
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).to_string(),
            )
        })
        .collect();
    let body = res
        .into_body()
        .into_with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .map_err(std::io::Error::other)?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// GET on the shared server; panics on a transport error.
pub fn get(path: &str) -> Response {
    request(server(), "GET", path, &[], None).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// GET with extra headers.
pub fn get_with(path: &str, headers: &[(&str, &str)]) -> Response {
    request(server(), "GET", path, headers, None).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// A fresh, empty temporary folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("ecofoncier-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).expect("temp dir");
    p
}

/// Runs a command, panicking with a clear message when the tool is missing.
pub fn run(cmd: &mut Command, what: &str) -> std::process::Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("{what} could not run ({e}); .ci/run installs it (see README)"))
}
