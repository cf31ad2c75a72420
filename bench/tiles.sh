#!/usr/bin/env bash
# Benchmark of the plot vector tiles at z12–15: every tile holding a plot (its first
# vertex), asked once cold (16 at a time), then for DURATION seconds by 16 clients picking
# tiles at random: oha when installed (`cargo install oha`), wrk otherwise.
# Then, when nginx is installed, the same tiles written to files and served by nginx (what a
# tile cache in front of a tile server gives), asked the same way.
# Release binary (or ECOFONCIER_BIN), embedded dataset. Prints tiles/s and latency percentiles.
# Usage: bash bench/tiles.sh [DURATION_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20}"
# No line a request (as nginx below runs with access_log off); the metrics stay.
export ECOFONCIER_LOG="${ECOFONCIER_LOG:-warn}"
SERVE_ARGS="--workers 2" source bench/serve.sh
python3 - "$base" "$dir/urls" <<'PY'
import json, math, sys, urllib.request
base, out = sys.argv[1], sys.argv[2]
tiles = set()
offset = 0
while True:
    page = json.load(urllib.request.urlopen(f"{base}/ogc/collections/terrains/items?limit=10000&offset={offset}"))
    for f in page["features"]:
        g = f["geometry"]["coordinates"]
        lon, lat = (g[0][0] if f["geometry"]["type"] == "Polygon" else g[0][0][0])
        for z in range(12, 16):
            n = 2 ** z
            x = int((lon + 180) / 360 * n)
            y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
            tiles.add((z, x, y))
    offset += len(page["features"])
    if len(page["features"]) < 10000:
        break
with open(out, "w") as fh:
    for z, x, y in sorted(tiles):
        fh.write(f"{base}/tiles/terrains/{z}/{x}/{y}\n")
print(f"{len(tiles)} plot tiles at z12-15 from {offset} plots")
PY
echo "== cold: every tile once, 16 at a time (built and cached), each request timed by curl"
start=$(date +%s.%N)
# Each curl fetches 50 tiles on one connection (a config naming each URL and discarding its
# body) and writes each transfer's total time.
xargs -P 16 -n 50 sh -c 'for u; do printf "url = \"%s\"\noutput = /dev/null\n" "$u"; done | curl -s -w "%{http_code} %{time_total}\n" -K -' _ <"$dir/urls" >"$dir/cold"
end=$(date +%s.%N)
python3 - "$start" "$end" "$dir/cold" <<'PY'
import sys
start, end, path = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
rows = [line.split() for line in open(path)]
ms = sorted(float(t) * 1e3 for _, t in rows)
bad = sum(code != "200" for code, _ in rows)
q = lambda p: ms[min(len(ms) - 1, int(p * len(ms)))]
print(f"{len(ms)} tiles in {end - start:.2f} s: {len(ms) / (end - start):,.0f} tiles/s; "
      f"latency p50 {q(0.5):.2f} ms, p90 {q(0.9):.2f} ms, p99 {q(0.99):.2f} ms, max {ms[-1]:.2f} ms; "
      f"{bad} not 200")
PY
echo "== ${duration} s, 16 clients, random tiles of the list"
source bench/urls.sh
hit_urls "$dir/urls" "$duration"
# A tile cache for comparison: the same tiles written to files and served by nginx (when
# installed), asked the same way. ecofoncier's warm tiles come from its own in-memory cache.
if command -v nginx >/dev/null; then
    echo "== the same tiles as files served by nginx (a tile cache), ${duration} s, 16 clients"
    mkdir -p "$dir/cache"
    sed "s#^$base\\(.*\\)#url = \"$base\\1\"\\noutput = \"$dir/cache\\1\"#" "$dir/urls" | curl -s --create-dirs -K -
    nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    python3 bench/nginx_conf.py "$dir" "$nport" --root "$dir/cache"
    nginx -c "$dir/nginx.conf"
    trap 'kill $server_pid 2>/dev/null || true; kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true; rm -rf "$dir"' EXIT
    sed "s#^$base#http://127.0.0.1:$nport#" "$dir/urls" >"$dir/nginx-urls"
    hit_urls "$dir/nginx-urls" "$duration"
fi
