#!/usr/bin/env bash
# Builds web/dist, which the binary embeds (include_bytes!): our sources from src/,
# MapLibre GL JS from npm (its ES module, its worker and its stylesheet) and Chart.js from
# npm (its self-contained build, loaded by the sheet and the meeting view on first use). dist/ is
# committed, so a fresh clone runs without npm; run this after changing src/ or the
# MapLibre version (a test checks that dist/ matches src/).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --silent
rm -rf dist
mkdir -p dist/vendor
cp src/* dist/
m=node_modules/maplibre-gl
cp "$m/dist/maplibre-gl.mjs" "$m/dist/maplibre-gl-worker.mjs" "$m/dist/maplibre-gl.css" dist/vendor/
cp "$m/LICENSE.txt" dist/vendor/MAPLIBRE-LICENSE.txt
cp node_modules/chart.js/dist/chart.umd.min.js dist/vendor/
cp node_modules/chart.js/LICENSE.md dist/vendor/CHARTJS-LICENSE.md
echo "web/dist: $(du -sh dist | cut -f1)"
