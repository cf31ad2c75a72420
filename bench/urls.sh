# Sourced by the bench scripts: `hit_urls FILE SECONDS [CONNECTIONS]` asks the URLs of FILE
# (one host) in random order for SECONDS with CONNECTIONS clients (16): oha when installed
# (`cargo install oha`), wrk otherwise. Prints requests/s, p50 and p99, the statuses and
# every error the client saw (socket errors, resets, timeouts).
hit_urls() {
    local file=$1 seconds=$2 conns=${3:-16}
    if command -v oha >/dev/null; then
        oha --no-tui -c "$conns" -z "${seconds}s" --urls-from-file "$file" 2>&1 |
            awk '/Requests\/sec|50.00%|99.00%/ || /^ *\[[2-5][0-9][0-9]\] / {print}
                 /Error distribution/ {errors = 1; next}
                 errors && /aborted due to deadline/ {print $0 " (in flight when the run ended: not errors)"; next}
                 errors && NF {print "ERROR " $0}' | sed 's/^ */    /'
    else
        local host paths lua
        host=$(head -1 "$file" | grep -oE '^https?://[^/]+')
        paths=$(mktemp)
        lua=$(mktemp --suffix .lua)
        sed "s#^$host##" "$file" >"$paths"
        cat >"$lua" <<LUA
local paths = {}
for line in io.lines("$paths") do paths[#paths + 1] = line end
math.randomseed(os.time())
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
LUA
        echo "    (wrk: oha is not installed)"
        wrk -t2 -c"$conns" -d"${seconds}s" --latency -s "$lua" "$host" |
            grep -E "Requests/sec| 50%| 99%|Socket errors|Non-2xx" | sed 's/^ */    /' || true
        rm -f "$paths" "$lua"
    fi
}
