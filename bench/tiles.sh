#!/usr/bin/env bash
# Benchmark of the plot vector tiles at z12–15: every tile holding a plot (its first
# vertex), asked once cold (16 at a time), then for DURATION seconds by 16 clients picking
# tiles at random: oha when installed (`cargo install oha`), wrk otherwise.
# Release binary, embedded dataset. Prints tiles/s and latency percentiles.
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
if command -v oha >/dev/null; then
    echo "== oha -c 16 -z ${duration}s, random tiles of the list"
    oha --no-tui -c 16 -z "${duration}s" --urls-from-file "$dir/urls" | grep -E "Requests/sec|Slowest|Fastest|Average|50.00%|90.00%|99.00%|99.90%|\[2|\[3|\[4|\[5" || true
else
    echo "== wrk -t2 -c16 -d${duration}s, random tiles of the list (oha not installed)"
    sed "s#^$base##" "$dir/urls" >"$dir/paths"
    cat >"$dir/random.lua" <<LUA
local paths = {}
for line in io.lines("$dir/paths") do paths[#paths + 1] = line end
math.randomseed(os.time())
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
LUA
    wrk -t2 -c16 -d"${duration}s" --latency -s "$dir/random.lua" "$base" | grep -E "Requests/sec|Latency|50%|75%|90%|99%|requests in|Socket errors|Non-2xx" || true
fi
