#!/usr/bin/env bash
# Load and soak: 200 connections for 60 s of mixed reads (bench/load.lua: tiles 35 %,
# items pages 30 %, EPCI sheets 20 %, sobriety checks 15 %) against the release binary on
# the embedded dataset, then the same on a throwaway PostGIS with 20 PATCH a second beside
# it (bench/writer.py). Prints wrk's figures (requests, latency, socket errors, statuses
# >= 400) and the writers'. Nothing is asserted here: the figures go in BENCHMARKS.md.
#   bash bench/load.sh [quick]     quick: 5 s a run (the suite's check that it still runs)
# Needs wrk, postgresql-15-postgis-3, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
[ "${1:-}" = quick ] && seconds=5
conns=200
bin="${ECOFONCIER_BIN:-$PWD/target/release/ecofoncier}"
[ -n "${ECOFONCIER_BIN:-}" ] || cargo build --release --quiet
work=$(mktemp -d)
chmod 755 "$work"
pids=()
source bench/pg.sh
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    stop_pg "$work"
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# serve ARGS...: starts a server (warnings only in its log), waits for /health; sets $base.
serve() {
    local port
    port=$(free_port)
    base="http://127.0.0.1:$port"
    ECOFONCIER_LOG=warn "$bin" serve --bind "127.0.0.1:$port" "$@" >"$work/serve-$port.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 600); do curl -sf "$base/health" >/dev/null && return; sleep 0.1; done
    echo "server did not start" >&2; exit 1
}

serve
# The request lists: z13-14 tiles over the sites, the SIRENs, a vertex of each site.
python3 bench/lists.py "$base" "$work"
load() {
    wrk -t2 -c"$conns" -d"${seconds}s" --timeout 10s -s bench/load.lua "$base" \
        -- "$work/tiles" "$work/sirens" "$work/points" | grep -E "^(requests|errors)" | sed 's/^/    /'
}
echo "== embedded dataset: $conns connections, $seconds s of mixed reads"
load

echo "== PostGIS, the same reads with 20 PATCH/s beside them"
start_pg "$work"
"$bin" migrate --database-url "$url" >/dev/null
"$bin" import --embedded --database-url "$url" >/dev/null 2>&1
token=$("$bin" token create --role admin --label load --database-url "$url" 2>/dev/null)
serve --database-url "$url"
python3 bench/writer.py "$base" "$token" 20 "$seconds" >"$work/writers" &
writer=$!
load
wait "$writer"
sed 's/^/    /' "$work/writers"
echo "    server log: $(grep -c . "$work"/serve-*.log | awk -F: '{s+=$2} END {print s+0}') warning or error lines"
