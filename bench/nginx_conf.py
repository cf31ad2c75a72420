#!/usr/bin/env python3
"""Writes DIR/nginx.conf for a throwaway nginx on 127.0.0.1:PORT, with its pid, logs and
temporary files in DIR and no access log: either deploy/nginx/ecofoncier.conf in front of
REPLICAs (`host:port`; the deployed replica lines replaced by these, with the same
options; its tile cache in DIR/cache), or, with --root FOLDER, the files of FOLDER served as vector tiles. Used by
bench/cluster.sh, bench/tiles.sh and the tests (tests/common/nginx.rs).

Usage: nginx_conf.py DIR PORT REPLICA...
       nginx_conf.py DIR PORT --root FOLDER
"""
import os
import sys


def site_for_replicas(work, port, replicas):
    here = os.path.dirname(os.path.abspath(__file__))
    site = open(os.path.join(here, "..", "deploy", "nginx", "ecofoncier.conf")).read().splitlines()
    deployed = [l.strip() for l in site if l.strip().startswith("server 127.0.0.1:")]
    options = deployed[0].split(" ", 2)[2]
    out = []
    for line in site:
        if line.strip() in deployed:
            continue
        if line.strip() == "listen 80;":
            line = f"    listen 127.0.0.1:{port};"
        if line.startswith("proxy_cache_path "):
            line = f"proxy_cache_path {os.path.join(work, 'cache')} " + line.split(" ", 2)[2]
        out.append(line)
        if line.strip() == "least_conn;":
            out += [f"    server {r} {options}" for r in replicas]
    return "\n".join(out)


def site_for_files(port, root):
    return (f"server {{\n    listen 127.0.0.1:{port};\n    root {root};\n"
            "    default_type application/vnd.mapbox-vector-tile;\n}")


def main():
    work, port, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    site = site_for_files(port, rest[1]) if rest[:1] == ["--root"] else site_for_replicas(work, port, rest)
    tmp = os.path.join(work, "tmp")
    user = "user root;\n" if os.geteuid() == 0 else ""
    with open(os.path.join(work, "nginx.conf"), "w") as f:
        f.write(
            f"{user}worker_processes 2;\npid {work}/nginx.pid;\nerror_log {work}/nginx-error.log;\n"
            "events { worker_connections 4096; }\n"
            f"http {{\n  access_log off;\n  client_body_temp_path {tmp};\n  proxy_temp_path {tmp};\n"
            f"  fastcgi_temp_path {tmp};\n  uwsgi_temp_path {tmp};\n  scgi_temp_path {tmp};\n"
            f"{site}\n}}\n")


if __name__ == "__main__":
    main()
