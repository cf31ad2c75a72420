#!/usr/bin/env bash
# The PostGIS store on the embedded dataset: `migrate`, then `import --embedded` twice (the
# second changes nothing), then `serve` reading PostGIS and reading the files: wall time of
# each import with the rows it read and wrote, and the time until /health answers 200.
# A throwaway cluster (PostgreSQL 15, PostGIS 3, default settings) on a loopback port.
#   bash bench/pg_store.sh          (needs postgresql-15-postgis-3)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${ECOFONCIER_BIN:-$PWD/target/release/ecofoncier}"
[ -n "${ECOFONCIER_BIN:-}" ] || cargo build --release --quiet
source bench/pg.sh
work=$(mktemp -d)
chmod 755 "$work"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    stop_pg "$work"
    rm -rf "$work"
}
trap cleanup EXIT
start_pg "$work"
export DATABASE_URL="$url"
"$bin" migrate >/dev/null

# import LABEL: one `import --embedded`, its wall time and the rows every table reports.
import() {
    local t0 t1
    t0=$(date +%s.%N)
    "$bin" import --embedded >"$work/import.log" 2>&1
    t1=$(date +%s.%N)
    python3 - "$1" "$t0" "$t1" "$work/import.log" <<'PY'
import re, sys
label, t0, t1, log = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
read = written = rejected = 0
for m in re.finditer(r"(\d+) rows read, (\d+) inserted or changed, (\d+) rejected", open(log).read()):
    read += int(m[1]); written += int(m[2]); rejected += int(m[3])
s = t1 - t0
print(f"{label:<28} {s:6.1f} s  {read:,} rows read ({read / s:,.0f}/s), {written:,} written, {rejected} rejected")
PY
}
echo "== import --embedded into a fresh database, then again"
import "first import"
import "again (nothing changes)"

# serve LABEL ARGS...: time until /health answers 200, and the load line of the log.
serve() {
    local label=$1 port t0 t1
    shift
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    t0=$(date +%s.%N)
    "$bin" serve --bind "127.0.0.1:$port" "$@" >"$work/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 1 3000); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.01; done
    t1=$(date +%s.%N)
    python3 -c "import sys; print(f'{sys.argv[1]:<28} /health after {float(sys.argv[3]) - float(sys.argv[2]):5.2f} s')" "$label" "$t0" "$t1"
    grep -oE "loaded the read model from [A-Za-z]+.*: read [0-9]+ ms.* in [0-9]+ ms" "$work/serve.log" |
        sed -E 's/^loaded the read model from ([A-Za-z]+).*: (read [0-9]+ ms), indexed .* in ([0-9]+ ms)$/    \2, indexed in \3/' || true
    kill "$server"
    wait "$server" 2>/dev/null || true
    server=""
}
echo "== serve"
serve "reading PostGIS"
DATABASE_URL="" serve "reading the files"
