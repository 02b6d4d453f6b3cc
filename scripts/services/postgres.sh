#!/usr/bin/env bash
# A throwaway PostgreSQL for the integration tests: `postgres.sh start DIR` prints DATABASE_URL,
# `postgres.sh stop DIR` ends it. Skipped when DATABASE_URL is already set.
set -euo pipefail
action=$1; dir=$2/pg
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
port=${WAYSTATION_PG_PORT:-55432}
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi; }
case $action in
start)
    [ -n "${DATABASE_URL:-}" ] && { echo "DATABASE_URL=$DATABASE_URL"; exit 0; }
    [ -n "$PGBIN" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }
    chmod a+x "$2"  # the postgres user must reach its folder inside
    mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    as_pg "$PGBIN/initdb -D $dir/data -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8" >/dev/null
    as_pg "$PGBIN/pg_ctl -D $dir/data -l $dir/pg.log -w -o \"-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200\" start" >/dev/null
    echo "DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    [ -d "$dir/data" ] && as_pg "$PGBIN/pg_ctl -D $dir/data -m fast -w stop" >/dev/null || true
    ;;
esac
