#!/usr/bin/env bash
# First paint of the web map in Debian's chromium (SwiftShader: this machine has no GPU):
# release binary, the embedded dataset (or DATA=DIR, e.g. target/country/france from
# bench/country.sh), RUNS page loads each in a fresh browser context.
# Prints the median and each run of: first contentful paint, the region's overview, the
# first WebGL frame with the region, the map's `load` and first `idle` (web/test/paint.mjs).
# Needs chromium and web/node_modules (scripts/test.sh installs both).
# Usage: [DATA=DIR] bash bench/first_paint.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
SERVE_ARGS="--workers 2${DATA:+ --data $DATA}" source bench/serve.sh
# One load first: the server then has its tiles and page cached, as in service.
curl -sf "$base/" >/dev/null
node web/test/paint.mjs "$base" 1 >/dev/null
node web/test/paint.mjs "$base" "$runs"
