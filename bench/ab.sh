#!/usr/bin/env bash
# Two builds side by side on the same routes: A, the release binary of REV (built from a git
# worktree; or AB_BIN_A, a binary already built), against B, the working tree's release
# binary (or ECOFONCIER_BIN). Each route is asked by 16 clients (wrk, two threads) for
# SECONDS, in ROUNDS rounds alternating A and B, on the embedded dataset, each server with
# two workers; B runs with AB_ENV added to its environment (for example
# `AB_ENV="ECOFONCIER_LOG=warn"`). Prints requests/s and p99 of each run: the machine is
# shared, so compare A and B within a round.
#   bash bench/ab.sh REV [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:?usage: bash bench/ab.sh REV [SECONDS] [ROUNDS]}"
seconds="${2:-8}"
rounds="${3:-2}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
mkdir -p target/ab
if [ -n "${AB_BIN_A:-}" ]; then
    bin_a=$AB_BIN_A
else
    commit=$(git rev-parse --short "$rev")
    bin_a="$PWD/target/ab/ecofoncier-$commit"
    if [ ! -x "$bin_a" ]; then
        src="$PWD/target/ab/src-$commit"
        git worktree add --detach --force "$src" "$commit" >/dev/null
        # The same target folder: the dependencies are built once for both.
        CARGO_TARGET_DIR="$PWD/target" cargo build --release --quiet --manifest-path "$src/Cargo.toml"
        cp target/release/ecofoncier "$bin_a"
        git worktree remove --force "$src"
    fi
fi
bin_b="${ECOFONCIER_BIN:-$PWD/target/release/ecofoncier}"
# Built after A, so that target/release holds the working tree's binary again.
[ -n "${ECOFONCIER_BIN:-}" ] || cargo build --release --quiet
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

# serve BIN [ENV...]: starts BIN with ENV on a free port, waits for /health; sets $base.
serve() {
    local bin=$1 port
    shift
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    env "$@" "$bin" serve --bind "127.0.0.1:$port" --workers 2 >/dev/null 2>&1 &
    server=$!
    base="http://127.0.0.1:$port"
    for _ in $(seq 1 600); do curl -sf "$base/health" >/dev/null && break; sleep 0.05; done
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

routes=(
    "tile|/tiles/terrains/13/4166/2755"
    "items|/ogc/collections/terrains/items?bbox=3.03,50.62,3.13,50.69&limit=100"
    "sheet|/api/v1/indicators/epci/200093201"
    "search|/api/v1/terrains/search?near=2.30,49.89&radius_km=30&min_ha=0.5&limit=20"
)
echo "A: $rev ($bin_a)"
echo "B: ${bin_b}${AB_ENV:+ with $AB_ENV}"
printf '%-7s %-6s %-2s %12s %10s %s\n' round route "" "requests/s" p99 statuses
for round in $(seq 1 "$rounds"); do
    for side in A B; do
        if [ "$side" = A ]; then serve "$bin_a" ECOFONCIER_LOG=info; else
            # shellcheck disable=SC2086
            serve "$bin_b" ECOFONCIER_LOG=info ${AB_ENV:-}
        fi
        for r in "${routes[@]}"; do
            name=${r%%|*}
            path=${r#*|}
            code=$(curl -s -o /dev/null -w "%{http_code}" "$base$path")
            wrk -t2 -c16 -d"${seconds}s" --latency "$base$path" >"$work/wrk"
            rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk")
            p99=$(awk '$1 == "99%" {print $2}' "$work/wrk")
            non2xx=$(awk '/Non-2xx/ {print $5}' "$work/wrk")
            printf '%-7s %-6s %-2s %12s %10s %s\n' "$round" "$name" "$side" "$rps" "$p99" "$code${non2xx:+, $non2xx not 2xx}"
        done
        stop
    done
done
