#!/usr/bin/env bash
# Benchmark of the OGC items path against the release binary on the embedded dataset:
# /ogc/collections/terrains/items with a CRS84 bbox returning about 1,000 plots, 16 clients
# (wrk, 2 threads) on the same machine; plus embedded load time and peak RSS.
# Usage: bash bench/ogc_items.sh [DURATION_SECONDS]   (apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
source bench/serve.sh
# Lille–Roubaix business parks: about 1,000 plots (1,067 with the committed data).
bbox="3.03,50.62,3.13,50.69"
url="http://127.0.0.1:$port/ogc/collections/terrains/items?bbox=$bbox&limit=10000"
returned=$(curl -s "$url" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["numberReturned"])')
bytes=$(curl -s "$url" | wc -c)
echo "== startup"
grep -E "loaded" "$dir/log"
echo "== request: $url"
echo "features returned: $returned, body: $bytes bytes"
echo "== wrk -t2 -c16 -d${duration}s --latency"
wrk -t2 -c16 -d"${duration}s" --latency "$url" | grep -E "Requests/sec|Latency|50%|75%|90%|99%|requests in|Socket errors|Non-2xx" || true
echo "== memory"
grep -E "VmHWM|VmRSS" "/proc/$server_pid/status"
