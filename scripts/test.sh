#!/usr/bin/env bash
# Command 2: lint, then run every test (module tests and scenarios in
# addons/, cross-module tests in tests/) with pytest.
#   - always on SQLite (in-memory databases);
#   - also on PostgreSQL when ZL_TEST_PG=1 or TRYTOND_DATABASE__URI is a
#     postgresql:// URI: everything but the browser test runs again there,
#     including the tests marked `postgresql`.
# Extra arguments go to pytest, e.g. scripts/test.sh -k ticket -x
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
BIN="$ROOT/.venv/bin"

# Every step runs even if an earlier one failed (a fuller CI report); the
# exit status is non-zero if any failed.
status=0
echo "== ruff"
"$BIN/ruff" check . || status=1

echo "== translations (every string has its zh_CN text)"
modules=(addons/*/tryton.cfg)
modules=("${modules[@]%/tryton.cfg}")
TRYTOND_DATABASE__URI=sqlite:// DB_NAME=:memory: \
    "$BIN/python" scripts/update_po.py --check "${modules[@]#addons/}" \
    || status=1

PG_URI=""
if [ "${ZL_TEST_PG:-}" = 1 ] \
        || [[ "${TRYTOND_DATABASE__URI:-}" == postgresql* ]]; then
    PG_URI="${TRYTOND_DATABASE__URI:-postgresql:///}"
    [[ "$PG_URI" == postgresql* ]] || PG_URI="postgresql:///"
fi
PG_DB="zl_unittest_$$"

pg_drop() {  # drop the unit-test database; harmless if absent
    "$BIN/python" -c 'import sys, psycopg
with psycopg.connect(sys.argv[1], dbname="postgres", autocommit=True) as c:
    c.execute(f"DROP DATABASE IF EXISTS \"{sys.argv[2]}\" WITH (FORCE)")' \
        "$PG_URI" "$PG_DB"
}

# DB_CACHE lets trytond restore an activated database instead of rebuilding
# it; its key is only the module list, so a fresh folder per run keeps XML
# changes from being served stale.
WORK="$(mktemp -d)"
cleanup() {
    rm -rf "$WORK"
    if [ -n "$PG_URI" ]; then pg_drop || true; fi
}
trap cleanup EXIT

# run_pytest LABEL ALLOW_EMPTY ARGS...: exit code 5 means nothing was
# collected: an error for the main run (discovery is broken), fine for the
# PostgreSQL re-run (e.g. -k picked only browser tests).
run_pytest() {
    local label="$1" allow_empty="$2" rc=0
    shift 2
    echo "== pytest ($label)"
    "$BIN/pytest" -ra --doctest-glob='scenario_*.rst' "$@" || rc=$?
    if [ "$rc" = 5 ]; then
        if [ "$allow_empty" = yes ]; then
            echo "($label: no tests selected)"
            return 0
        fi
        echo "error: pytest collected no tests ($label)" >&2
    fi
    return "$rc"
}

# Without PostgreSQL the `postgresql` tests stay selected so they show up
# as skipped here, and fail in CI (see conftest.py).
marker=()
if [ -n "$PG_URI" ]; then marker=(-m "not postgresql"); fi
TRYTOND_DATABASE__URI=sqlite:// DB_NAME=:memory: DB_CACHE="$WORK/sqlite" \
    run_pytest SQLite no "${marker[@]}" "$@" || status=1

if [ -n "$PG_URI" ]; then
    pg_drop
    TRYTOND_DATABASE__URI="$PG_URI" DB_NAME="$PG_DB" DB_CACHE="$WORK/pg" \
        run_pytest PostgreSQL yes -m "postgresql or not browser" "$@" \
        || status=1
fi
exit "$status"
