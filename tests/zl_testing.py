"""Helpers for cross-module tests. trytond-admin, proteus scripts and
servers run in child processes, so this pytest process keeps its own
trytond configuration (the module tests in addons/ rely on it)."""
import base64
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
SAO = ROOT / '.sao' / 'package'
# The top module: activating it activates the others.
MODULE = 'zl_reservation'
ADMIN_PASSWORD = 'admin-test-2026'


def child_env():
    # Child processes take their configuration from the file we write only.
    return {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k not in {'DB_NAME', 'DB_CACHE'}}


def write_config(path, uri, db_path=None):
    # As deployed (README.md): no anonymous database list; on PostgreSQL,
    # cache invalidation through LISTEN/NOTIFY so that a revoked permission
    # is revoked on every worker at once.
    lines = ['[database]', f'uri = {uri}', 'list = False']
    if db_path:
        lines.append(f'path = {db_path}')
    lines += ['[web]', f'root = {SAO}']
    if uri.startswith('postgresql'):
        lines += ['[cache]', 'clean_timeout = 0']
    Path(path).write_text('\n'.join(lines) + '\n')
    return Path(path)


def trytond_admin(config, database, *args):
    """Run trytond-admin; a new admin gets ADMIN_PASSWORD."""
    passfile = Path(config).with_suffix('.pass')
    passfile.write_text(ADMIN_PASSWORD + '\n')
    result = subprocess.run(
        [BIN / 'trytond-admin', '-c', config, '-d', database, *args],
        env={**child_env(), 'TRYTONPASSFILE': str(passfile)},
        stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode:
        pytest.fail(f'trytond-admin {" ".join(args)} failed:\n'
            + result.stderr[-4000:], pytrace=False)


def create_database(config, database):
    """Initialise database with zl_ticket_core and Chinese translations."""
    trytond_admin(config, database, '--all', '-u', MODULE,
        '--activate-dependencies', '-l', 'zh_CN',
        '--email', 'admin@example.com')


def run_proteus(config, database, code):
    """Run proteus code in a child process (`config` is connected, Model
    and Wizard imported); returns its standard output."""
    prelude = ('from proteus import Model, Wizard, config\n'
        f'config = config.set_trytond({database!r}, '
        f'config_file={str(config)!r})\n')
    result = subprocess.run([sys.executable, '-c', prelude + code],
        env=child_env(), stdin=subprocess.DEVNULL, capture_output=True,
        text=True)
    if result.returncode:
        pytest.fail('proteus script failed:\n' + result.stderr[-4000:],
            pytrace=False)
    return result.stdout


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def rpc(url, method, params=(), database=None, session=None):
    """JSON-RPC call to a server; returns the result. A Tryton error
    raises RuntimeError([name, args]); note that AccessError travels as
    'UserError'. A refused login is HTTP 401: urllib.error.HTTPError."""
    headers = {'Content-Type': 'application/json'}
    if session:  # 'login:user_id:token'
        headers['Authorization'] = 'Session ' + base64.b64encode(
            session.encode()).decode()
    request = urllib.request.Request(
        f'{url}/{database}/rpc/' if database else f'{url}/rpc/',
        json.dumps({'id': 1, 'method': method, 'params': list(params)})
        .encode(), headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.load(response)
    if answer.get('error'):
        raise RuntimeError(answer['error'])
    return answer['result']


def refused(error, *words):
    "The JSON-RPC error is a user error whose message has the words"
    kind, (message, *_) = error.value.args[0]
    assert kind == 'UserError', error.value
    for word in words:
        assert word in message, message


def resident_id(n):
    "The n-th distinct valid resident ID: 999 sequence numbers a birth date"
    from trytond.modules.zl_reservation.identity import make_resident_id
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=n // 999)
    return make_resident_id(
        birth=birth.strftime('%Y%m%d'), seq='%03d' % (n % 999 + 1))


# Browser ---------------------------------------------------------------

ARTIFACTS = ROOT / 'test-artifacts'
# Debian's chromium as root in a container (TRYTON-NOTES.md); playwright
# adds --headless and a fresh profile itself.
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']


def shot(page, name):
    "Screenshot to test-artifacts/ for a person to look at"
    ARTIFACTS.mkdir(exist_ok=True)
    # animations='disabled' finishes fades, e.g. of the login dialog
    page.screenshot(path=ARTIFACTS / f'{name}.png', animations='disabled')


def sao_login(page, url, database, login, password, prefix):
    """Log into sao: database and user, then the password in a dialog.
    The database list is closed ([database] list = False): sao then asks
    for the name in a text field."""
    page.goto(url + '/')
    field = page.locator('#database:visible')
    field.wait_for()
    if field.evaluate('e => e.tagName') == 'SELECT':
        field.select_option(database)
    else:
        field.fill(database)
    page.fill('input#login', login)
    shot(page, f'{prefix}-1-login')
    page.click('.modal button[type=submit]')
    page.fill('.modal input[type=password]', password)
    shot(page, f'{prefix}-2-password')
    page.keyboard.press('Enter')


def open_menu(page, *path):
    "Click through sao's menu: the top entry's expander, then the page"
    menu = page.locator('#menu')
    *parents, leaf = path
    for name in parents:
        top = menu.locator('tr', has=page.locator(f'div[title="{name}"]'))
        top.wait_for()
        top.locator('.expander').click()
    menu.locator(f'div[title="{leaf}"]').click()
