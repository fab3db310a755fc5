#!/bin/sh
# A throwaway PostgreSQL server on loopback for the trade store's tests.
#   server.sh start DIR PORT   initdb DIR/data (user autobot, password from
#                              DIR/pw, scram-sha-256, C locale) and start it
#                              on 127.0.0.1:PORT, its socket in DIR;
#                              prints the server's bin directory (psql)
#   server.sh stop DIR         stop it
# Installs Debian's postgresql (as root, via apt-get) when missing, and runs
# the server as the postgres user when run as root (it refuses root). Prints
# why and exits non-zero when it cannot, so the test fails rather than skips.
set -eu
bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}
BIN=$(bindir)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "PostgreSQL is missing and this is not root: run 'apt-get install postgresql'" >&2
        exit 1
    fi
    echo "installing Debian's postgresql for the trade store's tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Two test processes may both get here: one installs at a time.
    exec 9>/tmp/autobot-postgresql-install.lock
    flock 9
    BIN=$(bindir)
    if [ -z "$BIN" ]; then
        apt-get install -y -q postgresql >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }
        BIN=$(bindir)
    fi
    flock -u 9
fi
as_server() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
DIR=$2
case "$1" in
start)
    PORT=$3
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres "$DIR"
    fi
    as_server "$BIN/initdb" -D "$DIR/data" -U autobot --pwfile="$DIR/pw" \
        --auth=scram-sha-256 --locale=C -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
    as_server "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >/dev/null \
        || { cat "$DIR/server.log" >&2; exit 1; }
    echo "$BIN"
    ;;
stop)
    as_server "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: server.sh start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
