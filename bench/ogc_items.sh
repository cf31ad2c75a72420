#!/usr/bin/env bash
# Benchmark of the OGC items path against the release binary on the embedded dataset:
# /ogc/collections/terrains/items with a CRS84 bbox returning about 1,000 plots, 16 clients
# (wrk, 2 threads) on the same machine; plus embedded load time and peak RSS. Then the same
# with CQL2 filters (a spatial and attribute one through the R-tree, an attribute-only one
# scanning every plot), and the 1,000-plot page compressed: server throughput per coding
# (wrk sends the header and does not decode) and, per request, what the client waits for
# including its own decoding (curl --compressed, 200 requests each, 20 in runs under 5 s).
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
urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
items="http://127.0.0.1:$port/ogc/collections/terrains/items"
# The Lille–Roubaix plots over 0.2 ha (1,061 with the committed data), and a filter on
# attributes alone (1,359), which reads every plot of the region; both repeated (their
# selection is kept per snapshot), then the second with a new threshold each request.
spatial="S_INTERSECTS(geometry, BBOX(3.03,50.62,3.13,50.69)) AND terr_surf_brute > 0.2"
scan="terr_etat_occup = 'vacant' AND terr_surf_brute BETWEEN 0.4 AND 4 OR terr_stade_comm = 'en cours'"
for name in spatial scan; do
    f="${!name}"
    furl="$items?filter=$(urlencode "$f")&limit=10000"
    n=$(curl -s "$furl" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["numberMatched"], d["numberReturned"])')
    echo "== filtered ($name): $f"
    echo "numberMatched, numberReturned: $n"
    wrk -t2 -c16 -d"${duration}s" --latency "$furl" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx" || true
done
echo "== filtered (scan), a new filter each request (bench/filters.lua)"
wrk -t2 -c16 -d"${duration}s" --latency -s bench/filters.lua "http://127.0.0.1:$port" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx" || true
echo "== compression of the 1,000-plot page"
for coding in identity gzip br; do
    size=$(curl -s -H "Accept-Encoding: $coding" "$url" | wc -c)
    echo "-- $coding: $size bytes"
    wrk -t2 -c16 -d"$(( duration > 1 ? duration / 2 : 1 ))s" -H "Accept-Encoding: $coding" "$url" | grep -E "Requests/sec|Latency" || true
done
reps=$(( duration >= 5 ? 200 : 20 ))
for coding in identity gzip br; do
    # The first answer of a page in a coding compresses it; later ones reuse it.
    first=$(curl -s -o /dev/null -H "Cache-Control: no-cache" -H "Accept-Encoding: $coding" -w '%{time_total}' "$url&offset=1")
    total=0
    for _ in $(seq 1 "$reps"); do
        t=$(curl -s -o /dev/null --compressed -H "Accept-Encoding: $coding" -w '%{time_total}' "$url")
        total=$(python3 -c "print($total + $t)")
    done
    python3 -c "print('-- $coding: first answer (compressing) %.2f ms; client wait incl. decoding, mean of $reps: %.2f ms' % ($first * 1e3, $total / $reps * 1e3))"
done
echo "== memory"
grep -E "VmHWM|VmRSS" "/proc/$server_pid/status"
