//! A throwaway PostgreSQL + PostGIS cluster for one test: `initdb` in a temporary folder,
//! `pg_ctl start` on a free port (as the `postgres` user when the tests run as root),
//! stopped and removed when dropped. Never skipped: a missing server is a failure that
//! says what to install.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::free_port;

pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.flatten()
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "no PostgreSQL server (initdb) under /usr/lib/postgresql: .ci/run installs \
             postgresql-15-postgis-3 (see README)"
        )
    })
}

fn is_root() -> bool {
    // SAFETY-free check: the effective uid as `id -u` prints it.
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as `postgres` when we are root (the server refuses root).
fn pg_tool(bin: &Path, tool: &str, args: &[&str]) -> std::process::Output {
    let path = bin.join(tool);
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&path);
        c
    } else {
        Command::new(&path)
    };
    cmd.args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} could not run: {e}"))
}

/// A migrated cluster holding the embedded dataset.
pub fn loaded(name: &str) -> PgCluster {
    let pg = PgCluster::start(name);
    ecofoncier(&pg.url(), &["migrate"]);
    let data = super::data_dir();
    ecofoncier(
        &pg.url(),
        &["import", "--embedded", "--data", data.to_str().unwrap()],
    );
    pg
}

impl PgCluster {
    /// Creates and starts a cluster.
    pub fn start(name: &str) -> PgCluster {
        let bin = bin_dir();
        let dir = std::env::temp_dir().join(format!("ecofoncier-pg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cluster folder");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "chown of {} to postgres failed", dir.display());
        }
        let data = dir.join("data");
        let out = pg_tool(
            &bin,
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = PgCluster {
            dir,
            bin,
            port: free_port(),
        };
        cluster.start_server();
        cluster
    }

    fn start_server(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        let out = pg_tool(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl stop -m immediate`: the server dies as in a crash.
    pub fn kill(&self) {
        let data = self.dir.join("data");
        pg_tool(
            &self.bin,
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"],
        );
    }

    /// Starts the server again on the same port.
    pub fn restart(&self) {
        self.start_server();
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `sql` with `psql` on the database at `url` (stopping at the first error); what it
/// printed, unaligned, trimmed.
pub fn psql(url: &str, sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The highest audit row of the database at `url` (`historique.id`): the snapshot version
/// every replica reaches once in step.
pub fn audit_version(url: &str) -> i64 {
    psql(url, "SELECT coalesce(max(id), 0) FROM historique")
        .parse()
        .unwrap()
}

/// The snapshot version the server at `base` reports on `/health`.
pub fn snapshot_version(base: &str) -> i64 {
    let health = super::request(base, "GET", "/health", &[], None).unwrap();
    assert_eq!(health.status, 200);
    health.json()["snapshot_version"]
        .as_i64()
        .expect("/health reports snapshot_version")
}

/// Waits (ten seconds at most) until every server of `bases` reports snapshot version
/// `want` on `/health`.
pub fn wait_snapshot_version(bases: &[&str], want: i64) {
    let started = std::time::Instant::now();
    for base in bases {
        loop {
            let got = snapshot_version(base);
            if got == want {
                break;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "{base} reports snapshot version {got}, not {want}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// Runs the binary with `DATABASE_URL=url` and `args`; panics with its stderr when it
/// fails; its stdout, trimmed.
pub fn ecofoncier(url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecofoncier"))
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .expect("ecofoncier runs");
    assert!(
        out.status.success(),
        "ecofoncier {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A TCP relay in front of a PostgreSQL server: an instance given [`Relay::url`] reaches the
/// database through it, and [`Relay::cut`] takes that instance off the network (every
/// connection closed, new ones refused) while the others keep theirs, until
/// [`Relay::mend`].
pub struct Relay {
    pub port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    live: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    pub fn to(target: u16) -> Relay {
        use std::net::{TcpListener, TcpStream};
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let live: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (o, l) = (Arc::clone(&open), Arc::clone(&live));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !o.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let mut live = l.lock().unwrap();
                live.push(client.try_clone().unwrap());
                live.push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay { port, open, live }
    }

    /// The URL of the database through this relay.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Closes every connection through the relay and refuses new ones.
    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for s in self.live.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Lets connections through again.
    pub fn mend(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}
