"""Helpers for cross-module tests. trytond-admin, proteus scripts and
servers run in child processes, so this pytest process keeps its own
trytond configuration (the module tests in addons/ rely on it)."""
import base64
import datetime as dt
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
SAO = ROOT / '.sao' / 'package'
# The top module: activating it activates the others.
# The product: every module of addons/ that nothing else depends on.
MODULES = ['zl_gate', 'zl_miniprogram']
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
    # sao's web root also serves TinyMCE (scripts/setup.sh), as deployed
    lines += ['[web]', f'root = {SAO}',
        '[html]', 'src = /tinymce/tinymce.min.js']
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
    """Initialise database with the product (zl_gate and the modules it
    depends on) and Chinese translations."""
    trytond_admin(config, database, '--all', '-u', *MODULES,
        '--activate-dependencies', '-l', 'zh_CN',
        '--email', 'admin@example.com')


# Proteus scripts give staff the groups of a shipped role, as 角色管理
# does: R01 平台管理员, R02 票务管理, R03 预约管理, R04 售票员, R06 审计员.
ROLE_GROUPS = """
def role_groups(code):
    Role, Group = Model.get('res.role'), Model.get('res.group')
    role, = Role.find([('code', '=', code)])
    return [Group(g.id) for g in role.groups]
"""


def run_proteus(config, database, code):
    """Run proteus code in a child process (`config` is connected, Model
    and Wizard imported); returns its standard output."""
    prelude = ('from proteus import Model, Wizard, config\n'
        f'config = config.set_trytond({database!r}, '
        f'config_file={str(config)!r})\n' + ROLE_GROUPS)
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


def login_session(url, database, login, password, language='en'):
    "Log in over JSON-RPC; the session as rpc() takes it"
    user_id, token, *_ = rpc(url, 'common.db.login',
        [login, {'password': password}, language], database=database)
    return f'{login}:{user_id}:{token}'


class Client:
    "A logged-in JSON-RPC user: client('model.x.search', [], ...)"

    def __init__(self, url, database, login, password):
        self.url, self.database = url, database
        self.session = login_session(url, database, login, password)

    def __call__(self, method, *params, context=None):
        return rpc(self.url, method, list(params) + [context or {}],
            database=self.database, session=self.session)


def menu_entries(client):
    """(path, (action model, id)) of the menu entries with an action that
    client's user sees, in the order of sao's menu; path: from the top"""
    context = client('model.res.user.get_preferences', True)
    menus = client('model.ir.ui.menu.search_read', [], 0, None, None,
        ['name', 'parent', 'sequence', 'action'], context=context)
    by_id = {m['id']: m for m in menus}

    def path(menu):
        return (path(by_id[menu['parent']]) if menu['parent'] else []) + [
            menu]
    entries = [path(m) for m in menus if m['action']]
    entries.sort(key=lambda p: [(m['sequence'] or 0, m['id']) for m in p])
    return [(p, p[-1]['action'].split(',')) for p in entries]


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


# Demo ------------------------------------------------------------------

def demo_data():
    "scripts/demo_data.py as a module: DEMO_USERS, WINDOW_CLERK, ..."
    spec = importlib.util.spec_from_file_location(
        'demo_data', ROOT / 'scripts' / 'demo_data.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def demo_logins():
    "(login, password) of admin and of every user the demo makes"
    return [('admin', ADMIN_PASSWORD)] + [
        (login, password) for login, password, *_ in demo_data().DEMO_USERS]


# What scripts/demo.sh does to admin before loading the demo data.
DEMO_ADMIN = """
admin, = Model.get('res.user').find([('login', '=', 'admin')])
admin.language, = Model.get('ir.lang').find([('code', '=', 'zh_CN')])
admin.save()
for item in Model.get('ir.module.config_wizard.item').find(
        [('state', '!=', 'done')]):
    item.state = 'done'
    item.save()
"""


_standin = []


def wechat_standin():
    """The base URL of a WeChat stand-in serving this test process (as
    scripts/demo.sh serves the demo), started once"""
    if not _standin:
        from trytond.modules.zl_miniprogram import standin
        _standin.append(standin.start()[1])
    return _standin[0]


# What scripts/demo.sh gives demo_data.py as the visitor page's address.
DEMO_H5_URL = 'http://127.0.0.1:8000/demo/zl_mp/h5/'


def load_demo(config, database):
    """Make database what scripts/demo.sh makes: admin in Chinese, then
    scripts/demo_data.py; returns the script's output.  WeChat is this
    process's stand-in."""
    run_proteus(config, database, DEMO_ADMIN)
    result = subprocess.run(
        [sys.executable, ROOT / 'scripts' / 'demo_data.py',
            '-c', config, '-d', database],
        env={**child_env(), 'ZL_WECHAT_URL': wechat_standin(),
            'ZL_H5_URL': DEMO_H5_URL},
        stdin=subprocess.DEVNULL, capture_output=True,
        text=True, cwd=ROOT)
    if result.returncode:
        pytest.fail('demo_data.py failed:\n' + result.stderr[-4000:],
            pytrace=False)
    return result.stdout


class SaoWatch:
    """What a person would call broken while a test drives sao (script
    and console errors, failed requests, error dialogs), and whether sao
    is idle. problems() hands over what was seen since its last call."""
    # sao asks for optional files, and for the database list (closed).
    EXPECTED_HTTP = re.compile(r'/custom\.(css|js)$|/locale/[\w-]+\.json$')
    DIALOGS = '.error-dialog, .warning-dialog, .user-warning-dialog'

    def __init__(self, page):
        self.page = page
        self.errors = []
        self.calls = set()  # JSON-RPC calls in flight
        page.on('pageerror', lambda e: self.errors.append(f'script: {e}'))
        page.on('console', self._console)
        page.on('response', self._response)
        page.on('request', self._call)
        page.on('requestfinished', lambda r: self.calls.discard(r))
        page.on('requestfailed', self._failed)
        page.on('dialog', self._alert)

    def _call(self, request):
        if '/rpc/' in request.url:
            self.calls.add(request)

    def _console(self, message):
        # A failed resource is judged by its response, in _response.
        if (message.type == 'error'
                and not message.text.startswith('Failed to load resource')):
            self.errors.append(f'console: {message.text[:500]}')

    def _response(self, response):
        body = response.request.post_data or ''
        if (response.status >= 400
                and not self.EXPECTED_HTTP.search(response.url)
                and '"common.db.list"' not in body):
            self.errors.append(
                f'HTTP {response.status} {response.url} {body[:200]}')

    def _failed(self, request):
        # Images and blobs may be dropped with their page: calls may not.
        if request in self.calls:
            self.calls.discard(request)
            self.errors.append(f'call failed: {request.post_data[:200]}')

    def _alert(self, dialog):
        if dialog.type == 'beforeunload':  # leaving is the test's choice
            return dialog.accept()
        self.errors.append(f'browser dialog: {dialog.message}')
        dialog.dismiss()

    def settle(self, timeout=15):
        """Wait until no call is in flight and no 正在处理 shows for a
        moment; False when that takes longer than timeout seconds."""
        deadline = time.monotonic() + timeout
        idle_since = None
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
            now = time.monotonic()
            if self.calls or self.page.locator('#processing').is_visible():
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= 0.2:
                return True
        return False

    def problems(self):
        "Errors since the last call, error dialogs included (then closed)"
        errors, self.errors = self.errors, []
        for dialog in self.page.locator(self.DIALOGS).filter(
                visible=True).all():
            errors.append('dialog: ' + ' '.join(dialog.inner_text().split()))
            dialog.locator('.modal-footer button').last.click()
        return errors
