#!/usr/bin/env bash
# Starts (once) a throwaway PostgreSQL cluster on loopback for the tests and prints its admin URL.
# The tests create a database of their own per test through it. Data lives under /tmp and is
# not kept: this is a test server, with password (SCRAM) authentication as in production.
set -euo pipefail

PORT=${RATEL_TEST_PG_PORT:-55432}
DIR=${RATEL_TEST_PG_DIR:-/tmp/ratel-test-postgres}
PASSWORD=ratel-test
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$BIN" ]; then
    echo "ratel: PostgreSQL server binaries not found; run scripts/ensure-deps.sh" >&2
    exit 1
fi

# PostgreSQL refuses to run as root: as root, run it as the postgres user Debian's package creates.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! as_owner "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR"
    printf '%s\n' "$PASSWORD" > "$DIR.pw"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR.pw"
    as_owner "$BIN/initdb" -D "$DIR" -U ratel --pwfile="$DIR.pw" --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C >"$DIR.initdb.log" 2>&1 || { cat "$DIR.initdb.log" >&2; exit 1; }
    rm -f "$DIR.pw"
    # fsync stays on: the crash and durability tests mean what they say. Many connections:
    # the contract suite runs its tests in parallel, each with a pool of its own.
    as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 start \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on" >/dev/null \
        || { cat "$DIR/server.log" >&2; exit 1; }
fi
echo "postgres://ratel:$PASSWORD@127.0.0.1:$PORT/postgres?sslmode=disable"
