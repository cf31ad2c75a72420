//! A throwaway nginx on a loopback port in front of replicas, configured by the project's own
//! `deploy/nginx/ecofoncier.conf` with its replicas replaced by the test's: Debian's
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
        let site =
            std::fs::read_to_string(super::manifest_dir().join("deploy/nginx/ecofoncier.conf"))
                .expect("deploy/nginx/ecofoncier.conf");
        // The deployed replica lines' options (health checks), for the test's replicas.
        let options = site
            .lines()
            .find_map(|l| l.trim().strip_prefix("server 127.0.0.1:"))
            .and_then(|l| l.split_once(' '))
            .map(|(_, o)| o.to_string())
            .expect("a replica line in the upstream");
        let servers: String = replicas
            .iter()
            .map(|b| format!("    server {} {options}\n", b.trim_start_matches("http://")))
            .collect();
        // The deployed file's replicas and port, replaced.
        let site: String = site
            .lines()
            .filter(|l| !l.trim_start().starts_with("server 127.0.0.1:"))
            .map(|l| {
                if l.trim() == "listen 80;" {
                    format!("    listen 127.0.0.1:{port};\n")
                } else if l.trim() == "least_conn;" {
                    format!("{l}\n{servers}")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        let d = dir.display();
        let user = if super::pg::is_root() {
            "user root;"
        } else {
            ""
        };
        let conf = format!(
            "{user}\nworker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n\
             fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n\
             {site}}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
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
