#!/usr/bin/env bash
# Start a throwaway PostgreSQL server and print its SQLAlchemy URL on stdout.
#
#   URL=$(bash .ci/pg_start.sh [ROOT_DIR] [PORT])
#
# ROOT_DIR (default: ${TMPDIR:-/tmp}/da_bridge_pg) holds the cluster, its log and its socket;
# PORT defaults to $PGPORT, else a free port (never 5432, so the system cluster is untouched).
# The server listens on 127.0.0.1 only. As root the server runs as the `postgres` user
# (initdb refuses root); as any other user it runs as that user.
# Calling it again while the server runs prints the same URL and changes nothing.
# Stop it with .ci/pg_stop.sh ROOT_DIR. Environment: PGPASS (default optuna), PGDB (default optuna).
set -euo pipefail

PGROOT=${1:-${TMPDIR:-/tmp}/da_bridge_pg}
PGPASS=${PGPASS:-optuna}
DB=${PGDB:-optuna}
MARKER="$PGROOT/.da_bridge_pg"

die() { echo "pg_start.sh: $*" >&2; exit 1; }

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] \
    || die "PostgreSQL is not installed (apt-get install -y postgresql)"

if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' user"
    AS=(runuser -u postgres --); OWNER=postgres
else
    AS=(); OWNER=$(id -un)
fi

url() { echo "postgresql+psycopg2://postgres:$PGPASS@127.0.0.1:$1/$DB"; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Already running here: print the URL again.
if [ -f "$MARKER" ] && [ -f "$PGROOT/port" ] \
        && "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" status >/dev/null 2>&1; then
    url "$(cat "$PGROOT/port")"
    exit 0
fi

# Never wipe a folder this script did not make.
if [ -e "$PGROOT" ] && [ ! -f "$MARKER" ] && [ -n "$(ls -A "$PGROOT" 2>/dev/null)" ]; then
    die "$PGROOT exists and was not made by pg_start.sh; give another ROOT_DIR"
fi

if [ -n "${2:-}" ]; then
    PORT=$2
elif [ -f "$PGROOT/port" ]; then
    PORT=$(cat "$PGROOT/port")
else
    PORT=${PGPORT:-$(free_port)}
fi
[ "$PORT" != 5432 ] || die "use a port other than 5432 (the system cluster's)"

mkdir -p "$PGROOT"
chmod 700 "$PGROOT"
touch "$MARKER"
echo "$PORT" > "$PGROOT/port"
chown -R "$OWNER" "$PGROOT"
"${AS[@]}" test -w "$PGROOT" \
    || die "$OWNER cannot write $PGROOT (a parent folder is private?); give another ROOT_DIR"

if [ ! -f "$PGROOT/data/PG_VERSION" ]; then
    rm -rf "$PGROOT/data"
    printf '%s\n' "$PGPASS" > "$PGROOT/pwfile"
    chown "$OWNER" "$PGROOT/pwfile"
    "${AS[@]}" "$PGBIN/initdb" -D "$PGROOT/data" -U postgres --pwfile="$PGROOT/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
        >"$PGROOT/initdb.log" 2>&1 || { cat "$PGROOT/initdb.log" >&2; die "initdb failed"; }
    rm -f "$PGROOT/pwfile"
fi

# A throwaway server: more connections than the default 100 for many workers, and no
# waiting for the disk at each commit (fsync off: a crash may lose it, which is fine here).
OPTS="-c listen_addresses=127.0.0.1 -p $PORT -k $PGROOT -c max_connections=200"
OPTS="$OPTS -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if ! "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 60 \
        -o "$OPTS" start >/dev/null; then
    tail -20 "$PGROOT/server.log" >&2 || true
    die "the server did not start on port $PORT (see $PGROOT/server.log)"
fi

exists=$("${AS[@]}" "$PGBIN/psql" -h "$PGROOT" -p "$PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'")
if [ "$exists" != 1 ]; then
    "${AS[@]}" "$PGBIN/psql" -q -h "$PGROOT" -p "$PORT" -U postgres -d postgres \
        -c "CREATE DATABASE \"$DB\"" >/dev/null
fi
url "$PORT"
