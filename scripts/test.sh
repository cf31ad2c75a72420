#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine (as root) or a developer's.
# Installs what the tests need (GDAL's OAPIF client, PROJ's cs2cs, Python with OWSLib and
# schemathesis, PostgreSQL 15 with PostGIS 3 for the throwaway clusters of the PostGIS
# tests, chromium, poppler-utils (to read the PDFs back) and the web map's npm packages for
# the browser tests, wrk and nginx for the quick runs of the benchmarks), then runs
# formatting, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_needed=()
for pkg in gdal-bin proj-bin python3-venv postgresql-15-postgis-3 chromium poppler-utils wrk nginx; do
    dpkg -s "$pkg" >/dev/null 2>&1 || apt_needed+=("$pkg")
done
# Node and npm: Debian's packages unless a Node is already installed (e.g. NodeSource's).
command -v npm >/dev/null 2>&1 || apt_needed+=(nodejs npm)
if ((${#apt_needed[@]})); then
    echo "installing ${apt_needed[*]}"
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    # The tests start their own PostgreSQL clusters and nginx on loopback ports: keep the
    # packages' services from starting (nginx's would fail where port 80 is taken).
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod +x "$policy"
    fi
    $SUDO apt-get install -y -qq "${apt_needed[@]}" >/dev/null
    [ -z "$policy" ] || $SUDO rm -f "$policy"
fi

venv=target/venv
if ! "$venv/bin/python" -c "import owslib" 2>/dev/null \
    || [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version 4.32.5" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "owslib==0.35.0" "schemathesis==4.32.5"
fi
export ECOFONCIER_PYTHON="$PWD/$venv/bin/python"

# playwright-core for the browser test (MapLibre itself is in the committed web/dist).
if [ ! -d web/node_modules/playwright-core ]; then
    npm ci --prefix web --no-audit --no-fund --silent
fi

cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked --no-fail-fast -- --show-output
