#!/usr/bin/env bash
# Command 1: build a fresh demo database on embedded SQLite and serve the
# back office (sao) on http://127.0.0.1:8000. Re-running recreates the db.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
BIN="$ROOT/.venv/bin"
CONF="$ROOT/trytond.conf"

# trytond.conf (committed) holds what every checkout shares; trytond wants
# absolute paths, so the SQLite folder and the sao root come from the
# environment (keys absent from the file).  The web root serves sao, our
# web/ (custom.js) and TinyMCE for the HTML editor ([html] src in
# trytond.conf), all put there by scripts/setup.sh.
export TRYTOND_DATABASE__PATH="$ROOT/.data"
export TRYTOND_WEB__ROOT="$ROOT/.sao/package"
DB=demo
ADMIN_PASSWORD="${ZL_ADMIN_PASSWORD:-admin-demo-2026}"

# Start from an empty SQLite file (WAL side files included).
mkdir -p .data
rm -f ".data/$DB.sqlite" ".data/$DB.sqlite-wal" ".data/$DB.sqlite-shm"
touch ".data/$DB.sqlite"

# trytond-admin reads the admin password from TRYTONPASSFILE (no terminal).
passfile="$(mktemp)"
trap 'rm -f "$passfile"' EXIT
printf '%s\n' "$ADMIN_PASSWORD" > "$passfile"

# -l zh_CN loads trytond's own Chinese translations and makes zh_CN a
# translatable language, so later updates load it for every module too.
echo "demo: creating database '$DB'"
TRYTONPASSFILE="$passfile" "$BIN/trytond-admin" -c "$CONF" -d "$DB" --all \
    --email admin@example.com -l zh_CN
# Every module of addons/ (one folder with a tryton.cfg each: today
# zl_ticket_core, zl_reservation, zl_gate and zl_miniprogram), with the
# Tryton modules they depend on: a newcomer sees the whole product.
modules=()
for cfg in addons/*/tryton.cfg; do
    modules+=("$(basename "$(dirname "$cfg")")")
done
echo "demo: activating ${modules[*]}"
"$BIN/trytond-admin" -c "$CONF" -d "$DB" -u "${modules[@]}" \
    --activate-dependencies
rm -f "$passfile"

# Admin works in Chinese; mark the first-login configuration wizard done so
# the demo opens straight on the menu.  The database's language is zh_CN
# ([database] language in trytond.conf): users created later inherit it.
"$BIN/python" - "$CONF" "$DB" <<'PY'
import sys

from proteus import Model, config

config.set_trytond(sys.argv[2], config_file=sys.argv[1])
User = Model.get('res.user')
Lang = Model.get('ir.lang')
Item = Model.get('ir.module.config_wizard.item')
admin, = User.find([('login', '=', 'admin')])
admin.language, = Lang.find([('code', '=', 'zh_CN')])
admin.save()
for item in Item.find([('state', '!=', 'done')]):
    item.state = 'done'
    item.save()
PY

# The museum, its reservable period and slots, and window bookings made
# through the booking engine (see the script's docstring).
echo "demo: loading sample data"
ZL_H5_URL="http://127.0.0.1:8000/$DB/zl_mp/h5/" \
    "$BIN/python" scripts/demo_data.py -c "$CONF" -d "$DB"

# WeChat's servers are not reachable here: the visitor API logs visitors
# in through a local stand-in that answers as WeChat documents (小程序设置
# points at it; demo_data.py set it up).
"$BIN/zl-wechat-standin" --port 8921 >/dev/null 2>&1 &
standin=$!
trap 'rm -f "$passfile"; kill "$standin" 2>/dev/null || true' EXIT

cat <<MSG

  Tryton back office:  http://127.0.0.1:8000/  (database: $DB)
  Administrator:       admin / $ADMIN_PASSWORD
  Other demo logins:   printed above by scripts/demo_data.py
  Visitor page (H5):   http://127.0.0.1:8000/$DB/zl_mp/h5/
                       (open it at phone size; it logs in through the
                       stand-in below; the group flow: 团体预约码's link)
  Visitor API:         http://127.0.0.1:8000/$DB/zl_mp/v1/tickets
                       (contract: /$DB/zl_mp/v1/openapi.json; log in with
                       POST /$DB/zl_mp/v1/auth/wechat {"code": "ok:<name>"})
  WeChat stand-in:     http://127.0.0.1:8921
  Stop with Ctrl+C.

MSG
"$BIN/trytond" -c "$CONF" -d "$DB"  # -d: load the pool up front
