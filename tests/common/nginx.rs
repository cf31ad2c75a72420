//! A throwaway nginx on a loopback port in front of replicas, configured by the project's own
//! `deploy/nginx/ecofoncier.conf` with its replicas replaced by the test's (written by
//! `bench/nginx_conf.py`, as the benches do): Debian's
//! `nginx` (installed by `scripts/test.sh`), run with a folder of its own and stopped when
//! dropped.

use std::path::PathBuf;
use std::process::Command;

pub struct Nginx {
    dir: PathBuf,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Nginx {
    /// Starts nginx balancing `replicas` (their `http://127.0.0.1:PORT` bases).
    pub fn start(name: &str, replicas: &[&str]) -> Nginx {
        let dir = super::temp_dir(&format!("nginx-{name}"));
        let port = super::free_port();
        // The configuration the benches write too (bench/nginx_conf.py).
        let written = Command::new("python3")
            .arg(super::manifest_dir().join("bench/nginx_conf.py"))
            .arg(&dir)
            .arg(port.to_string())
            .args(replicas.iter().map(|b| b.trim_start_matches("http://")))
            .status()
            .expect("python3 runs");
        assert!(written.success(), "bench/nginx_conf.py failed");
        let out = Command::new("nginx")
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .output()
            .expect("nginx (Debian's package; scripts/test.sh installs it) runs");
        assert!(
            out.status.success(),
            "nginx did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let base = format!("http://127.0.0.1:{port}");
        super::wait_healthy(&base);
        Nginx { dir, base }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("nginx.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}
