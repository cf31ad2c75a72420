#!/usr/bin/env bash
# The cluster: replicas of `ecofoncier serve` on a throwaway PostGIS behind a throwaway
# nginx running deploy/nginx/ecofoncier.conf (its replicas replaced by these). Prints the
# mixed read workload of bench/load.lua through nginx with one replica and with two
# (requests/s, p50, p99, errors), and the visibility lag of writes across the two
# (bench/visibility.py), each replica's memory, then one replica held to one core (one
# worker, `taskset`) with wrk on the other: the requests/s a core serves. On one machine
# the replicas, nginx and wrk share its cores: see BENCHMARKS.md for what that can and
# cannot show.
#   bash bench/cluster.sh [quick]     quick: 3 s a run and 20 writes (the suite's check)
#   DATA=DIR bash bench/cluster.sh    another dataset (e.g. `generate --territory france`)
# Needs wrk, nginx, postgresql-15-postgis-3, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=30
writes=200
[ "${1:-}" = quick ] && { seconds=3; writes=20; }
conns=64
bin="${ECOFONCIER_BIN:-$PWD/target/release/ecofoncier}"
[ -n "${ECOFONCIER_BIN:-}" ] || cargo build --release --quiet
source bench/pg.sh
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    stop_pg "$work"
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_pg "$work"
"$bin" migrate --database-url "$url" >/dev/null
if [ -n "${DATA:-}" ]; then
    "$bin" import --embedded --data "$DATA" --database-url "$url" >/dev/null 2>&1
else
    "$bin" import --embedded --database-url "$url" >/dev/null 2>&1
fi
token=$("$bin" token create --role admin --label cluster --database-url "$url" 2>/dev/null)

# replica [CMD...]: starts one on PostGIS (through CMD, e.g. taskset, when given); appends
# its base to $replicas.
replicas=()
replica() {
    local port
    port=$(free_port)
    ECOFONCIER_LOG=warn "$@" "$bin" serve --bind "127.0.0.1:$port" --database-url "$url" >"$work/replica-$port.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
    replicas+=("127.0.0.1:$port")
}

# balance REPLICA...: (re)starts nginx with deploy/nginx/ecofoncier.conf in front of them;
# sets $lb.
nport=$(free_port)
lb="http://127.0.0.1:$nport"
balance() {
    [ -f "$work/nginx.pid" ] && { kill "$(cat "$work/nginx.pid")"; sleep 0.5; }
    python3 bench/nginx_conf.py "$work" "$nport" "$@"
    nginx -c "$work/nginx.conf"
    for _ in $(seq 1 100); do curl -sf "$lb/health" >/dev/null && break; sleep 0.05; done
}

# load [BASE [CMD...]]: the mixed reads against BASE (nginx by default), wrk run through CMD.
load() {
    local target=${1:-$lb}
    shift || true
    "$@" wrk -t2 -c"$conns" -d"${seconds}s" --timeout 10s -s bench/load.lua "$target" \
        -- "$work/tiles" "$work/sirens" "$work/points" | grep -E "^(requests|errors)" | sed 's/^/    /'
}

replica
python3 bench/lists.py "http://${replicas[0]}" "$work" >/dev/null
balance "${replicas[0]}"
echo "== through nginx, one replica: $conns connections, $seconds s of mixed reads"
load
replica
balance "${replicas[@]}"
echo "== through nginx, two replicas: the same"
load
echo "== writes through nginx, seen on both replicas"
python3 bench/visibility.py "$lb" "$token" "$writes" "${replicas[@]/#/http://}" | sed 's/^/    /'
for r in "${replicas[@]}"; do
    echo "    replica $r: RSS $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' /proc/"$(pgrep -f "bind $r" | head -1)"/status)"
done
# One core: the replica on CPU 0 (its threads inherit it; one worker, since actix counts
# the CPUs it may use), wrk on CPU 1.
if [ "$(nproc)" -ge 2 ]; then
    for p in "${pids[@]}"; do kill "$p"; done
    pids=()
    replicas=()
    replica taskset -c 0
    pid=$(pgrep -f "bind ${replicas[0]}" | head -1)
    echo "== one replica on one core (CPU 0), wrk on CPU 1, no nginx: $conns connections, $seconds s"
    load "http://${replicas[0]}" taskset -c 1
    echo "    replica: RSS $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' /proc/"$pid"/status)"
fi
