# Sourced by the bench scripts that need PostGIS: `start_pg DIR` initialises and starts a
# throwaway cluster in DIR/pg on a free loopback port (as the postgres user when run as
# root) and sets `pgport` and `url`; `stop_pg DIR` stops it at once. `as_pg` runs a
# command as that user.
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort | tail -1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
start_pg() {
    mkdir "$1/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$1/pg"
    pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_pg "$pgbin/initdb" -D "$1/pg/data" -U postgres -A trust >/dev/null
    as_pg "$pgbin/pg_ctl" -D "$1/pg/data" -o "-p $pgport -k $1/pg -c listen_addresses=127.0.0.1" \
        -l "$1/pg/log" -w start >/dev/null
    url="postgres://postgres@127.0.0.1:$pgport/postgres"
}
stop_pg() { [ -d "$1/pg/data" ] && as_pg "$pgbin/pg_ctl" -D "$1/pg/data" -m immediate stop >/dev/null 2>&1 || true; }
