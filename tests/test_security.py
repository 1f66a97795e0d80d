"""Security of the back office as deployed: PostgreSQL, gunicorn with
several workers, JSON-RPC.

- a revoked data scope, user group or group is refused on every worker
  at once;
- login events are read by administrators and auditors only;
- a failed login of no account keeps nothing of what was typed;
- anonymous callers get no database list;
- blank passwords and passwords equal to the login are refused;
- a flood of failed logins does not hold the workers;
- ID numbers never reach the server log.
"""
import json
import logging
import threading
import time
import urllib.error
from unittest.mock import ANY

import pytest
import zl_testing
from zl_testing import ADMIN_PASSWORD, refused, rpc, run_proteus

pytestmark = pytest.mark.postgresql

PASSWORD = 'Security-Test-2026'
ID_NUMBER = '11010519491231002X'  # GB 11643-1999's example

SETUP = '''
import json
User = Model.get('res.user')
Group = Model.get('res.group')
UserGroup = Model.get('zl.user.group')
Permission = Model.get('zl.data.permission')
Seller = Model.get('zl.seller')
Menu = Model.get('ir.ui.menu')
groups = {n: role_groups(n) for n in ['R01', 'R02', 'R04', 'R06']}
a = Seller(name='Seller A', kind='window'); a.save()
b = Seller(name='Seller B', kind='ota'); b.save()
def user(login, names, **scope):
    u = User(login=login, name=login, password=%(password)r)
    u.groups.extend([Group(g.id) for n in names for g in groups[n]])
    u.save()
    if not scope:
        return u.id, None, None
    group = UserGroup(code=login, name=login)
    group.users.append(User(u.id))
    group.save()
    p = Permission(name=login, all_data=scope.get('all_data', False))
    p.user_groups.append(UserGroup(group.id))
    for seller in scope.get('sellers', []):
        p.sellers.append(Seller(seller.id))
    p.save()
    return u.id, group.id, p.id
sales = [g.id for g in groups['R04']]
ids = {'a': a.id, 'b': b.id, 'sales': sales,
    'sales_menus': [m.id for m in Menu.find([('groups', 'in', sales)])]}
ids['scoped'], ids['scoped_group'], ids['scoped_permission'] = user(
    'scoped', ['R04'], sellers=[a])
ids['clerk'], _, _ = user('clerk', ['R04'], all_data=True)
ids['staff'], _, _ = user('staff', ['R02'], all_data=True)
ids['auditor'], _, _ = user('auditor', ['R06'])
ids['sysadmin'], _, _ = user('sysadmin', ['R01'])
print(json.dumps(ids))
''' % {'password': PASSWORD}


def Client(url, database, login, password=PASSWORD):
    "A logged-in JSON-RPC user, by default of this file's accounts"
    return zl_testing.Client(url, database, login, password)


def login_status(url, database, login, password):
    "HTTP status of a login: 200, 401 (wrong) or 429 (throttled)"
    try:
        rpc(url, 'common.db.login', [login, {'password': password}, 'en'],
            database=database)
    except urllib.error.HTTPError as error:
        return error.code
    return 200


@pytest.fixture
def setup(pg_database, pg_config):
    return pg_config, pg_database, json.loads(
        run_proteus(pg_config, pg_database, SETUP))


# 1. Revocation on every worker --------------------------------------------

def _revoke_seller(admin, ids):
    admin('model.zl.data.permission.write', [ids['scoped_permission']],
        {'sellers': [('remove', [ids['a']])]})


def _revoke_user_group(admin, ids):
    admin('model.zl.user.group.write', [ids['scoped_group']],
        {'users': [('remove', [ids['scoped']])]})


def _revoke_group(admin, ids):
    admin('model.res.user.write', [ids['scoped']],
        {'groups': [('remove', ids['sales'])]})


def _sellers(user):
    "What the user reads of the sellers: their ids, or 'refused'"
    try:
        return user('model.zl.seller.search', [])
    except RuntimeError as error:
        kind, (message, *_) = error.args[0]
        assert kind == 'UserError' and 'not allowed' in message, error
        return 'refused'


def _parallel(calls, call):
    """Results of calls made by 3 threads at once, round after round, so
    that every gunicorn worker answers some (a sequential client tends to
    be served by the worker that answered last)"""
    results = []
    for _ in range(0, calls, 3):
        round_ = [None] * 3
        barrier = threading.Barrier(3)

        def run(i):
            barrier.wait()
            round_[i] = call()
        threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results.extend(round_)
    return results[:calls]


@pytest.mark.parametrize('revoke, after', [
        (_revoke_seller, []),
        (_revoke_user_group, []),
        (_revoke_group, 'refused'),
        ], ids=['seller', 'user_group', 'group'])
def test_revocation_is_immediate_on_every_worker(
        setup, server, revoke, after):
    config, db, ids = setup
    url = server(config, db, workers=3)
    user = Client(url, db, 'scoped')
    admin = Client(url, db, 'admin', ADMIN_PASSWORD)
    menus = [('id', 'in', ids['sales_menus'])]
    assert ids['sales_menus']
    # Every worker serves (and caches) the scope, groups and menus.
    assert _parallel(30, lambda: _sellers(user)) == [[ids['a']]] * 30
    assert all(_parallel(
            30, lambda: user('model.ir.ui.menu.search', menus)))

    revoke(admin, ids)

    assert _parallel(21, lambda: _sellers(user)) == [after] * 21
    if after == 'refused':
        assert _parallel(
            21, lambda: user('model.ir.ui.menu.search', menus)) == [[]] * 21


def test_rule_change_reaches_every_worker(setup, server):
    """Changes of the rules themselves (not of who they apply to) are
    cleared through PostgreSQL NOTIFY ([cache] clean_timeout = 0): every
    worker follows within moments, not after 300 s."""
    config, db, ids = setup
    url = server(config, db, workers=3)
    user = Client(url, db, 'scoped')
    admin = Client(url, db, 'admin', ADMIN_PASSWORD)
    assert _parallel(30, lambda: _sellers(user)) == [[ids['a']]] * 30

    admin('model.ir.rule.group.create', [{
                'name': 'No seller', 'model': 'zl.seller',
                'global_p': True, 'perm_read': True,
                'rules': [('create', [{'domain': '[["id", "=", -1]]'}])],
                }])

    started = time.monotonic()
    while _parallel(21, lambda: _sellers(user)) != [[]] * 21:
        assert time.monotonic() - started < 2
    assert _parallel(21, lambda: _sellers(user)) == [[]] * 21


# 2. Login events ----------------------------------------------------------

def test_login_events_for_administrators_and_auditors_only(setup, server):
    config, db, ids = setup
    url = server(config, db, workers=2)
    assert login_status(url, db, 'staff', 'wrong-password') == 401
    assert login_status(url, db, 'nobody', 'whatever-2026') == 401
    time.sleep(1.1)  # the back-off window of 'staff' after one failure
    staff = Client(url, db, 'staff')
    logins = [('event', 'in', ['login', 'login_failed'])]

    auditor = Client(url, db, 'auditor')
    log_ids = auditor('model.ir.model.log.search', logins)
    assert len(log_ids) >= 4  # staff: failed, logged in; nobody; auditor

    assert staff('model.ir.model.log.search', logins) == []
    assert staff('model.ir.model.log.search_count', logins) == 0
    assert staff('model.ir.model.log.search_read',
        [('resource', 'like', 'res.user,%')], 0, None, None,
        ['event']) == [{'id': ANY, 'event': 'create'}] * 5  # the users
    with pytest.raises(RuntimeError) as error:
        staff('model.ir.model.log.read', log_ids[:1], ['login'])
    refused(error, 'Login events')
    with pytest.raises(RuntimeError):
        staff('model.ir.model.log.export_data', log_ids[:1], ['login'])
    # Other logs stay readable to those who read the record.
    ticket, = staff('model.zl.ticket.create', [{'name': 'T', 'code': 'T1'}])
    assert staff('model.ir.model.log.search_count',
        [('resource', '=', f'zl.ticket,{ticket}')]) == 1

    for reader in [auditor, Client(url, db, 'sysadmin'),
            Client(url, db, 'admin', ADMIN_PASSWORD)]:
        found = reader('model.ir.model.log.search_read', logins, 0, None,
            None, ['event', 'login'])
        events = {(e['event'], e['login']) for e in found}
        assert {('login_failed', 'staff'), ('login', 'staff')} <= events
        assert len(events) >= 3


# 3. A password typed as login name ---------------------------------------

def test_failed_login_of_no_account_keeps_no_name(setup, server):
    config, db, ids = setup
    url = server(config, db, workers=2)
    typed = 'My-Secret-Pass-2026'
    other = 'Another-Secret-2026'
    assert login_status(url, db, typed, 'x-2026-wrong') == 401
    # Throttled per name typed: the same name waits, another does not.
    assert login_status(url, db, typed, 'x-2026-wrong') == 429
    assert login_status(url, db, other, 'x-2026-wrong') == 401

    auditor = Client(url, db, 'auditor')
    failed = auditor('model.ir.model.log.search_read',
        [('event', '=', 'login_failed')], 0, None, [('id', 'ASC')],
        ['login', 'record_name', 'resource', 'ip_address'])
    assert len(failed) == 3
    assert typed not in json.dumps(failed)
    assert other not in json.dumps(failed)
    first, second, third = failed
    assert first['login'] == second['login'] != third['login']
    assert first['login'].startswith('#')
    assert first['record_name'] is None and first['resource'] is None
    assert first['ip_address'] == '127.0.0.1'

    import psycopg
    with psycopg.connect('postgresql:///', dbname=db) as conn:
        attempts = [login for login, in conn.execute(
                'SELECT login FROM res_user_login_attempt')]
    assert len(attempts) == 2
    assert not {typed, other} & set(attempts)
    assert all(typed not in a and other not in a for a in attempts)

    log = server.logs[url].read_text()
    assert "login failed for '%s'" % first['login'] in log
    assert typed not in log and other not in log


# 4. No anonymous database list -------------------------------------------

def test_database_list_refused(setup, server):
    config, db, ids = setup
    url = server(config, db, workers=2)
    with pytest.raises(urllib.error.HTTPError) as error:
        rpc(url, 'common.db.list')
    assert error.value.code == 403
    assert db not in error.value.read().decode()


# 5. Passwords -------------------------------------------------------------

WEAK_PASSWORDS = [  # login, password, words of the Chinese message
    ('cashier-08', ' ' * 8, ['空格']),
    ('cashier-08', ' ' * 12, ['空格']),
    ('salesA', 'salesA  ', ['8', '首尾的空格不计']),
    ('salesA', '   Abc12 ', ['8', '首尾的空格不计']),
    ('cashier-08', '  Cashier-08 ', ['账号']),
    ('cashier-08', 'CASHIER-08', ['账号']),
    ]


def test_weak_passwords_refused(setup, server):
    config, db, ids = setup
    url = server(config, db, workers=2)
    admin = Client(url, db, 'admin', ADMIN_PASSWORD)
    chinese = {'language': 'zh_CN'}
    for login, password, words in WEAK_PASSWORDS:
        with pytest.raises(RuntimeError) as error:
            admin('model.res.user.create', [{'login': login, 'name': 'x',
                        'password': password}], context=chinese)
        refused(error, *words)
    # On change too.
    users = {}
    for login in {login for login, *_ in WEAK_PASSWORDS}:
        users[login], = admin('model.res.user.create', [{
                    'login': login, 'name': 'x',
                    'password': 'Good-Password-2026'}])
    for login, password, words in WEAK_PASSWORDS:
        with pytest.raises(RuntimeError) as error:
            admin('model.res.user.write', [users[login]],
                {'password': password}, context=chinese)
        refused(error, *words)
    assert login_status(url, db, 'salesA', 'Good-Password-2026') == 200


# 6. Failed-login flood ----------------------------------------------------

def test_backoff_refuses_at_once_then_lets_in(setup, server):
    config, db, ids = setup
    url = server(config, db, workers=2)
    assert login_status(url, db, 'clerk', 'wrong-password') == 401
    started = time.monotonic()
    assert login_status(url, db, 'clerk', PASSWORD) == 429
    assert time.monotonic() - started < 0.5
    time.sleep(1.1)
    assert login_status(url, db, 'clerk', PASSWORD) == 200
    # A success forgets the failures: no window any more.
    assert login_status(url, db, 'clerk', PASSWORD) == 200


def test_login_flood_holds_no_worker(setup, server):
    config, db, ids = setup
    url = server(config, db, workers=2)
    clerk = Client(url, db, 'clerk')
    clerk('model.zl.seller.search', [])
    stop = time.monotonic() + 5
    statuses = []

    def flood(n):
        while time.monotonic() < stop:
            statuses.append(login_status(
                    url, db, f'intruder{n}', 'wrong-password'))

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    latencies = []
    while time.monotonic() < stop:
        started = time.monotonic()
        assert sorted(clerk('model.zl.seller.search', [])) == sorted(
            [ids['a'], ids['b']])
        latencies.append(time.monotonic() - started)
        time.sleep(0.05)
    for thread in threads:
        thread.join()

    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95)]
    assert p95 < 0.5, latencies
    assert len(statuses) > 100, statuses  # it was a flood
    assert set(statuses) == {401, 429}


# 7. ID numbers in the server log -----------------------------------------

def test_no_id_number_in_server_log(setup, server):
    config, db, ids = setup
    url = server(config, db, workers=2, log_level=logging.INFO)
    clerk = Client(url, db, 'clerk')
    # Logged at INFO, arguments cut to 17 characters.
    assert clerk('model.zl.seller.search', [('name', '=', ID_NUMBER)]) == []
    # A failing call: logged at ERROR with the exception, whose text
    # holds the whole number.
    with pytest.raises(RuntimeError):
        clerk('model.zl.seller.search', [('id', '=', ID_NUMBER)])

    log = server.logs[url].read_text()
    # Neither the number nor any cut of it that names a person.
    assert ID_NUMBER[:14] not in log
    assert 'zl.seller.search' in log  # the calls were logged
    assert 'Traceback' in log and '[REDACTED]' in log
