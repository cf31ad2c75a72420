# Sourced by the bench scripts: builds the release binary and serves the embedded dataset
# on a free port (extra `serve` arguments in SERVE_ARGS; another binary to compare in
# ECOFONCIER_BIN); sets `base` (its URL) and `dir` (a temporary folder, the server's log in
# "$dir/log"); stops the server and removes the folder on exit.
bin="${ECOFONCIER_BIN:-./target/release/ecofoncier}"
[ -n "${ECOFONCIER_BIN:-}" ] || cargo build --release --quiet
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
dir=$(mktemp -d)
# shellcheck disable=SC2086
"$bin" serve --bind "127.0.0.1:$port" ${SERVE_ARGS:-} >"$dir/log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 300); do
    curl -sf "$base/health" >/dev/null && break
    sleep 0.1
done
