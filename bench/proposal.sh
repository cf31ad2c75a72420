#!/usr/bin/env bash
# Benchmark of the sobriety check over HTTP: POST /api/v1/proposals/check with a 16 ha
# zone near Amiens and 120 expected jobs, 16 clients (wrk, 2 threads), release binary on
# the embedded dataset. Prints requests/s and latency percentiles.
# Usage: bash bench/proposal.sh [DURATION_SECONDS]   (apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
source bench/serve.sh
body='{"emplois":120,"geometry":{"type":"Polygon","coordinates":[[[2.3472,49.8682],[2.3528,49.8682],[2.3528,49.8718],[2.3472,49.8718],[2.3472,49.8682]]]}}'
cat >"$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
LUA
url="http://127.0.0.1:$port/api/v1/proposals/check"
echo "== startup"
grep -E "loaded|computed" "$dir/log"
echo "== one answer"
curl -s -X POST -H 'Content-Type: application/json' -d "$body" "$url" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["surface_ha"], "ha;", d["constats"][1])'
echo "== wrk -t2 -c16 -d${duration}s --latency (POST)"
wrk -t2 -c16 -d"${duration}s" --latency -s "$dir/post.lua" "$url" | grep -E "Requests/sec|Latency|50%|75%|90%|99%|requests in|Socket errors|Non-2xx" || true
echo "== wrk -t1 -c1 -d${duration}s --latency (POST, one client: latency without queueing)"
wrk -t1 -c1 -d"${duration}s" --latency -s "$dir/post.lua" "$url" | grep -E "Requests/sec|Latency|50%|75%|90%|99%|requests in|Socket errors|Non-2xx" || true
