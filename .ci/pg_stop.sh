#!/usr/bin/env bash
# Stop the server .ci/pg_start.sh started in ROOT_DIR and delete ROOT_DIR.
#
#   bash .ci/pg_stop.sh [ROOT_DIR]        (default: ${TMPDIR:-/tmp}/da_bridge_pg)
#
# Safe to call twice, or when nothing was started: then it does nothing. It only ever
# deletes a folder that pg_start.sh made (the one holding its marker file).
set -euo pipefail

PGROOT=${1:-${TMPDIR:-/tmp}/da_bridge_pg}
MARKER="$PGROOT/.da_bridge_pg"

if [ ! -f "$MARKER" ]; then
    echo "pg_stop.sh: no server of pg_start.sh in $PGROOT; nothing to do" >&2
    exit 0
fi

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); else AS=(); fi

if [ -n "$PGBIN" ] && [ -f "$PGROOT/data/postmaster.pid" ]; then
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast -w -t 60 stop >/dev/null 2>&1 \
        || "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGROOT/data" -m immediate -w -t 30 stop \
            >/dev/null 2>&1 || true
fi
rm -rf "$PGROOT"
