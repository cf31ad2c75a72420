#!/usr/bin/env bash
# The country-scale run: generates metropolitan France (real geography, synthetic business
# layers calibrated as the regional ones), imports it into a throwaway PostGIS, serves it
# and prints every figure of the read model at that scale beside the regional ones: start
# and memory (PostGIS and files), the full recompute, edits (p50/p99, memory after 1,000),
# writes beside readers, the sobriety check, items and tiles cold and warm.
#
# Usage: bash bench/country.sh [quick]
#   quick: short runs (for the test suite: every figure once, nothing asserted here)
# Environment: TERRITORY (default france; an INSEE region code for a smaller run, as the
#   suite's quick run does with 94, Corse), COUNTRY_DIR (default target/country/TERRITORY,
#   generated when missing), ZONES_SCALE (default 1: the calibration; 3.6 gives about a
#   million establishments), ECOFONCIER_BIN and ECOFONCIER_EXAMPLES (another build of the
#   binary and the examples; the release build otherwise).
# Needs postgresql-15-postgis-3, wrk, python3; oha (cargo install oha) when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/pg.sh
quick="${1:-}"
long=60
edits=1000
if [ "$quick" = quick ]; then long=3; edits=40; fi
scale="${ZONES_SCALE:-1}"
territory="${TERRITORY:-france}"
country="${COUNTRY_DIR:-target/country/$territory}"
[ "$scale" = 1 ] || country="${country}-x$scale"
bin="${ECOFONCIER_BIN:-$PWD/target/release/ecofoncier}"
examples="${ECOFONCIER_EXAMPLES:-$PWD/target/release/examples}"
[ -n "${ECOFONCIER_BIN:-}" ] || cargo build --release --quiet --examples
source bench/urls.sh
work=$(mktemp -d)
chmod 755 "$work"
servers=()
cleanup() {
    for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
    stop_pg "$work"
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
hwm_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# serve LABEL ARGS...: starts a server, waits for /health, prints start time and memory;
# sets $base and $pid.
serve() {
    local label=$1; shift
    local port; port=$(free_port)
    local t0; t0=$(date +%s.%N)
    "$bin" serve --bind "127.0.0.1:$port" "$@" >"$work/$label.log" 2>&1 &
    pid=$!
    servers+=("$pid")
    base="http://127.0.0.1:$port"
    for _ in $(seq 1 6000); do curl -sf "$base/health" >/dev/null && break; sleep 0.01; done
    local t1; t1=$(date +%s.%N)
    python3 -c "import sys; print(f'{sys.argv[1]:<34} /health after {float(sys.argv[3])-float(sys.argv[2]):5.2f} s, RSS {sys.argv[4]} MB (peak {sys.argv[5]} MB)')" \
        "$label" "$t0" "$t1" "$(rss_mb "$pid")" "$(hwm_mb "$pid")"
    grep -E "loaded|computed" "$work/$label.log" | sed 's/^/    /'
}

echo "== dataset: $territory"
if [ ! -f "$country/etablissements.geojson.gz" ]; then
    t0=$(date +%s.%N)
    "$bin" generate --territory "$territory" --out "$country" --zones-scale "$scale" | sed 's/^/    /'
    t1=$(date +%s.%N)
    python3 -c "import sys; print(f'generated in {float(sys.argv[2])-float(sys.argv[1]):.0f} s')" "$t0" "$t1"
fi
du -shL "$country" | awk '{print "size on disk: " $1}'

echo "== PostGIS: a throwaway cluster, the dataset imported"
start_pg "$work"
"$bin" migrate --database-url "$url" >/dev/null
"$bin" import --embedded --data "$country" --database-url "$url" 2>/dev/null | grep -E "^imported" | sed 's/^/    /'
as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres regional
rurl="postgres://postgres@127.0.0.1:$pgport/regional"
"$bin" migrate --database-url "$rurl" >/dev/null
"$bin" import --embedded --database-url "$rurl" 2>/dev/null | grep -E "^imported" | sed 's/^/    /'

echo "== start and memory"
serve "regional, files" --feature-cache-mb 64
regional=$base; regional_pid=$pid
serve "national, files" --data "$country"
kill "$pid"
serve "national, PostGIS" --database-url "$url"
national=$base; national_pid=$pid
# The regions the dataset holds, as the API names them (a cached dataset from before the
# communes carried their region has none: delete it to generate it again).
first_region=$([ "$territory" = france ] && echo 32 || echo "$territory")
curl -sf "$national/api/v1/occupancy/region/$first_region" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("    region " + d["code"] + ": " + d["nom"] + ", " + str(d["uf_nbre"]) + " plots")' \
    || echo "    region $first_region: not found"
curl -sf "$national/" | grep -o '<span id="territoire">[^<]*' | sed 's/.*>/    the web map names: /'
curl -sf "$national/" | grep -o 'data-centre="[^>]*' | sed 's/^/    its first view: /'
# The overview image is drawn at that view's zoom: no larger than the map's area.
curl -sf "$national/" | grep -o '<img id="apercu"[^>]*' | grep -o 'width="[0-9]*" height="[0-9]*"' \
    | sed 's/width="\([0-9]*\)" height="\([0-9]*\)"/    its overview: \1 x \2 px/'
curl -sf -o /dev/null -w '    its overview weighs %{size_download} bytes\n' "$national/apercu.png"
serve "regional, PostGIS" --database-url "$rurl"
regional_pg=$base; regional_pg_pid=$pid

echo "== full recompute in process (median; land take, commuting, coverage, premises, occupancy with the plot→site join)"
"$examples/recompute" "$country" 5 | sed 's/^/    national: /'
"$examples/recompute" data 9 | sed 's/^/    regional: /'

echo "== edits through the API on PostGIS ($edits PATCH, each read back)"
token=$("$bin" token create --role admin --label bench --database-url "$url" 2>/dev/null)
rtoken=$("$bin" token create --role admin --label bench --database-url "$rurl" 2>/dev/null)
python3 bench/edits.py "$national" "$token" "$edits" "$national_pid" | sed 's/^/    national: /'
python3 bench/edits.py "$regional_pg" "$rtoken" "$edits" "$regional_pg_pid" | sed 's/^/    regional: /'

# Read workload: plot and establishment tiles at z12–14, single plots and bbox pages of
# 100 plots around 240 plots of the dataset, and EPCI sheets.
mixed() {
    python3 - "$1" "$work/urls-$2" <<'PY'
import json, math, random, sys, urllib.request
base, out = sys.argv[1], sys.argv[2]
first = json.load(urllib.request.urlopen(f"{base}/ogc/collections/terrains/items?limit=1"))
offset = 3000 if first["numberMatched"] > 5400 else 0
page = json.load(urllib.request.urlopen(f"{base}/ogc/collections/terrains/items?limit=2400&offset={offset}"))
urls = []
for f in page["features"][::10]:
    lon, lat = f["geometry"]["coordinates"][0][0]
    for z in (12, 13, 14):
        n = 2 ** z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n)
        urls += [f"{base}/tiles/terrains/{z}/{x}/{y}", f"{base}/tiles/etablissements/{z}/{x}/{y}"]
    urls.append(f"{base}/ogc/collections/terrains/items/{f['id']}")
    urls.append(f"{base}/ogc/collections/terrains/items?bbox={lon-0.02},{lat-0.02},{lon+0.02},{lat+0.02}&limit=100")
sheets = json.load(urllib.request.urlopen(f"{base}/api/v1/indicators"))
urls += [f"{base}/api/v1/indicators/epci/{r['epci_siren']}" for r in sheets[:40]]
random.Random(3).shuffle(urls)
open(out, "w").write("\n".join(urls) + "\n")
PY
}
# readers URLS: 16 connections for the long duration; requests/s, p50, p99, the statuses
# and every error oha saw (resets, timeouts).
readers() { hit_urls "$1" "$long"; }
mixed "$national" national
mixed "$regional_pg" regional-pg
mixed "$regional" regional
for side in national regional; do
    b=$national; t=$token; p=$national_pid; u=national
    [ "$side" = regional ] && { b=$regional_pg; t=$rtoken; p=$regional_pg_pid; u=regional-pg; }
    echo "== $side, PostGIS: 16 readers for ${long} s, no writes (first a warm-up pass)"
    hit_urls "$work/urls-$u" "$((long / 3 + 1))" >/dev/null
    readers "$work/urls-$u"
    echo "== $side, PostGIS: the same 16 readers beside 50 writes/s for ${long} s"
    python3 bench/writer.py "$b" "$t" 50 "$long" >"$work/writer" 2>"$work/writer.err" &
    wpid=$!
    sleep 0.5
    readers "$work/urls-$u"
    wait "$wpid" || true
    sed 's/^/    /' "$work/writer"
    head -3 "$work/writer.err" | sed 's/^/    /' || true
    echo "    RSS after the runs: $(rss_mb "$p") MB"
done

# A 16 ha zone and 120 jobs: near Amiens on the regional data; on the territory, beside
# one of its plots (France: near Amiens too).
post_lua() {
    printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' "'$2'" >"$1"
}
post_lua "$work/post-regional.lua" '{"emplois":120,"geometry":{"type":"Polygon","coordinates":[[[2.3472,49.8682],[2.3528,49.8682],[2.3528,49.8718],[2.3472,49.8718],[2.3472,49.8682]]]}}'
post_lua "$work/post-national.lua" "$(python3 - "$national" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
near = json.load(urllib.request.urlopen(f"{base}/ogc/collections/terrains/items?bbox=2.3,49.8,2.4,49.9&limit=1"))
if not near["features"]:
    near = json.load(urllib.request.urlopen(f"{base}/ogc/collections/terrains/items?limit=1"))
x, y = near["features"][0]["geometry"]["coordinates"][0][0]
dx, dy = 0.0028, 0.0018
ring = [[x - dx, y - dy], [x + dx, y - dy], [x + dx, y + dy], [x - dx, y + dy], [x - dx, y - dy]]
print(json.dumps({"emplois": 120, "geometry": {"type": "Polygon", "coordinates": [ring]}}))
PY
)"
for side in regional national; do
    b=$regional; [ "$side" = national ] && b=$national
    echo "== $side: sobriety check, one client, ${long} s"
    wrk -t1 -c1 -d"${long}s" --latency -s "$work/post-$side.lua" "$b/api/v1/proposals/check" |
        grep -E "Requests/sec|50%|99%|Non-2xx" | sed 's/^/    /'
    bbox="3.03,50.62,3.13,50.69"
    items="$b/ogc/collections/terrains/items?bbox=$bbox&limit=10000"
    n=$(curl -s "$items" | python3 -c 'import json,sys; print(json.load(sys.stdin)["numberReturned"])')
    echo "== $side: items page ($n plots, Lille), 16 clients, ${long} s, warm (feature cache)"
    wrk -t2 -c16 -d"${long}s" --latency "$items" | grep -E "Requests/sec|99%" | sed 's/^/    /'
done
echo "== national: the same page written cold (no feature cache)"
serve "national, files, no feature cache" --data "$country" --feature-cache-mb 0
wrk -t2 -c16 -d"${long}s" --latency "$base/ogc/collections/terrains/items?bbox=3.03,50.62,3.13,50.69&limit=10000" |
    grep -E "Requests/sec|99%" | sed 's/^/    /'
for side in regional national; do
    b=$regional; [ "$side" = national ] && b=$national
    grep "/tiles/terrains/1[34]/" "$work/urls-$side" | sort -u >"$work/tiles-$side"
    echo "== $side: $(wc -l <"$work/tiles-$side") plot tiles z13–14, cold (each built once, 16 at a time)"
    t0=$(date +%s.%N)
    xargs -P 16 -n 50 sh -c 'for u; do printf "url = \"%s\"\noutput = /dev/null\n" "$u"; done | curl -s -K -' _ <"$work/tiles-$side"
    t1=$(date +%s.%N)
    python3 -c "import sys; n=int(sys.argv[3]); s=float(sys.argv[2])-float(sys.argv[1]); print(f'    {n/s:,.0f} tiles/s')" "$t0" "$t1" "$(wc -l <"$work/tiles-$side")"
    echo "== $side: the same tiles warm, 16 clients, ${long} s"
    hit_urls "$work/tiles-$side" "$long"
done
echo "== done"
