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
echo "setup: ready (venv $VENV, sao $SAO/package)"
