#!/usr/bin/env bash
# Benchmark of the plot vector tiles at z12–15: every tile holding a plot (its first
# vertex), asked once cold (16 at a time), then for DURATION seconds by 16 clients picking
# tiles at random: oha when installed (`cargo install oha`), wrk otherwise.
# Release binary (or ECOFONCIER_BIN), embedded dataset. Prints tiles/s and latency percentiles.
# Usage: bash bench/tiles.sh [DURATION_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20}"
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
echo "== cold: every tile once, 16 at a time (built and cached)"
start=$(date +%s.%N)
# Each curl fetches 50 tiles (a config naming each URL and discarding its body).
xargs -P 16 -n 50 sh -c 'for u; do printf "url = \"%s\"\noutput = /dev/null\n" "$u"; done | curl -s -K -' _ <"$dir/urls"
end=$(date +%s.%N)
python3 -c "import sys; n=int(sys.argv[3]); s=float(sys.argv[2])-float(sys.argv[1]); print(f'{n} tiles in {s:.2f} s: {n/s:,.0f} tiles/s')" "$start" "$end" "$(wc -l <"$dir/urls")"
echo "== ${duration} s, 16 clients, random tiles of the list"
source bench/urls.sh
hit_urls "$dir/urls" "$duration"
