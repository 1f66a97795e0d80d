#!/usr/bin/env bash
# Prepare a development checkout: Python virtualenv with the project
# installed in editable mode, and the sao web client for [web] root.
# Idempotent: steps whose result is already in place are skipped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
SAO="$ROOT/.sao"

# 1. Virtualenv (kept inside the repo so every script finds the same one).
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "${PYTHON:-python3}" -m venv "$VENV"
fi

# 2. Editable install; redone only when pyproject.toml changes (code changes
# need no reinstall in editable mode).
stamp="$VENV/.zl-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: pip install -e '.[test]'"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -e '.[test]'
    echo "$want" > "$stamp"
fi

# 3. sao: npm ships it built, but its index.html loads assets from its own
# node_modules, so unpack the package and install its runtime dependencies.
if [ ! -f "$SAO/.installed" ]; then
    echo "setup: installing tryton-sao 8.0 into $SAO"
    rm -rf "$SAO" && mkdir -p "$SAO"
    (cd "$SAO" && npm pack --silent 'tryton-sao@~8.0' >/dev/null \
        && tar xzf tryton-sao-*.tgz && rm tryton-sao-*.tgz)
    (cd "$SAO/package" && npm install --silent --no-audit --no-fund \
        --omit=dev --legacy-peer-deps)
    touch "$SAO/.installed"
fi

# 4. TinyMCE, the editor of HTML fields (a ticket's 介绍): trytond's editor
# page (/<db>/ir/html/...) loads it from [html] src, by default a public
# CDN that the site's network may not reach.  Served from sao's web root
# as /tinymce/ (trytond.conf: [html] src), with Tiny's Chinese language
# pack (tinymce-i18n ships Tiny's own packs).  Majors pinned, like sao.
TINYMCE="$SAO/tinymce"
if [ ! -f "$TINYMCE/.installed" ]; then
    echo "setup: installing tinymce 7 into $TINYMCE"
    rm -rf "$TINYMCE" && mkdir -p "$TINYMCE"
    (cd "$TINYMCE" && npm install --silent --no-audit --no-fund \
        'tinymce@^7' 'tinymce-i18n@^26')
    mkdir -p "$TINYMCE/node_modules/tinymce/langs"
    cp "$TINYMCE/node_modules/tinymce-i18n/langs7/zh_CN.js" \
        "$TINYMCE/node_modules/tinymce/langs/"
    touch "$TINYMCE/.installed"
fi

# 5. axe-core, the accessibility checker the H5 page's browser tests
# inject (tests/test_h5_page.py); a test tool, never served.
AXE="$ROOT/.axe"
if [ ! -f "$AXE/.installed" ]; then
    echo "setup: installing axe-core 4 into $AXE"
    rm -rf "$AXE" && mkdir -p "$AXE"
    (cd "$AXE" && npm install --silent --no-audit --no-fund 'axe-core@^4')
    touch "$AXE/.installed"
fi

# 6. Our part of the web root, linked (never copied) so that a change in
# web/ is served at once: sao loads custom.js (the product's title,
# Chinese before login, our additions to sao's catalogues in
# web/locale/) and custom.css; and the editor above.
ln -sfn "$ROOT/web/custom.js" "$SAO/package/custom.js"
ln -sfn "$ROOT/web/custom.css" "$SAO/package/custom.css"
ln -sfn "$ROOT/web" "$SAO/package/zl"
ln -sfn "$TINYMCE/node_modules/tinymce" "$SAO/package/tinymce"
echo "setup: ready (venv $VENV, sao $SAO/package)"
