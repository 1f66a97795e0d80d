"""日志查看 on PostgreSQL: every back-office action a staff user takes over
JSON-RPC leaves a log with its values, that nobody can alter."""
import json
import time
import urllib.error

import pytest
import zl_testing
from zl_testing import refused, run_proteus

pytestmark = pytest.mark.postgresql

PASSWORD = 'Audit-Test-2026'

SETUP = '''
import json
User = Model.get('res.user')
Group = Model.get('res.group')
Seller = Model.get('zl.seller')
def user(login, *names):
    u = User(login=login, name=login, password=%(password)r)
    u.groups.extend([g for r in names for g in role_groups(r)])
    u.save()
    return u.id
seller = Seller(name='Window', kind='window'); seller.save()
ids = {
    'manager': user('manager', 'R02'),
    'auditor': user('auditor', 'R06'),
    'seller': seller.id}
# The manager's user group opens all sellers (数据权限 全部权限).
UserGroup = Model.get('zl.user.group')
Permission = Model.get('zl.data.permission')
staff = UserGroup(code='STAFF', name='Staff')
staff.users.append(User(ids['manager']))
staff.save()
permission = Permission(name='All', all_data=True)
permission.user_groups.append(UserGroup(staff.id))
permission.save()
print(json.dumps(ids))
''' % {'password': PASSWORD}


def Client(url, database, login, password=PASSWORD):
    "A logged-in JSON-RPC user, by default of this file's accounts"
    return zl_testing.Client(url, database, login, password)


@pytest.fixture
def audited(pg_database, pg_config, server):
    ids = json.loads(run_proteus(pg_config, pg_database, SETUP))
    url = server(pg_config, pg_database)
    return url, pg_database, ids


def logs(auditor, resource, event=None):
    domain = [('resource', '=', resource)]
    if event:
        domain.append(('event', '=', event))
    return auditor('model.ir.model.log.search_read', domain, 0, None,
        [('id', 'ASC')], ['event', 'target', 'changes', 'record_name',
            'user', 'login'])


def test_every_action_is_logged(audited):
    url, db, ids = audited
    manager = Client(url, db, 'manager')
    auditor = Client(url, db, 'auditor')

    ticket_id, = manager('model.zl.ticket.create', [{
                'name': '个人预约票', 'code': 'GR001', 'stock': -1,
                'per_user_limit': 1}])
    resource = f'zl.ticket,{ticket_id}'
    create, = logs(auditor, resource, 'create')
    changes = json.loads(create['changes'])
    assert ['code', None, 'GR001'] in changes
    assert ['per_user_limit', None, '1'] in changes
    assert create['user'] == ids['manager']

    manager('model.zl.ticket.write', [ticket_id], {
            'name': '个人票', 'per_user_limit': 2})
    write, = logs(auditor, resource, 'write')
    assert json.loads(write['changes']) == [
        ['name', '个人预约票', '个人票'],
        ['per_user_limit', '1', '2'],
        ]

    manager('model.zl.ticket.put_on_shelf', [ticket_id])
    button, = logs(auditor, resource, 'button')
    assert button['target'] == 'put_on_shelf'

    # 授权售票 wizard on the ticket
    session, start, _ = manager('wizard.zl.ticket.authorise.create')
    manager('wizard.zl.ticket.authorise.execute', session, {}, start,
        context={'active_model': 'zl.ticket', 'active_id': ticket_id,
            'active_ids': [ticket_id]})
    manager('wizard.zl.ticket.authorise.execute', session,
        {'start': {'sellers': [ids['seller']], 'tickets': [ticket_id]}},
        'authorise', context={'active_model': 'zl.ticket',
            'active_id': ticket_id, 'active_ids': [ticket_id]})
    wizard, = logs(auditor, resource, 'wizard')
    assert wizard['target'] == 'zl.ticket.authorise:authorise'
    seller_write, = logs(auditor, f'zl.seller,{ids["seller"]}', 'write')
    assert json.loads(seller_write['changes']) == [
        ['tickets', None, '[GR001] 个人票']]

    manager('model.zl.ticket.write', [ticket_id], {'active': False})
    manager('model.zl.seller.write', [ids['seller']],
        {'tickets': [('remove', [ticket_id])]})
    manager('model.zl.ticket.delete', [ticket_id])
    delete, = logs(auditor, resource, 'delete')
    assert delete['record_name'] == '[GR001] 个人票'


def test_logins_are_logged(audited):
    url, db, ids = audited
    with pytest.raises(urllib.error.HTTPError) as error:
        Client(url, db, 'manager', password='wrong-password')
    assert error.value.code == 401
    time.sleep(1.1)  # the back-off window after one failure
    Client(url, db, 'manager')
    auditor = Client(url, db, 'auditor')
    entries = logs(auditor, f'res.user,{ids["manager"]}')
    events = [e['event'] for e in entries if e['login'] == 'manager']
    assert events == ['login_failed', 'login']
    # An unknown login is kept too, without a resource and without what
    # was typed (it may be a password): a marker instead.
    with pytest.raises(urllib.error.HTTPError):
        Client(url, db, 'nobody', password='whatever-2026')
    unknown = auditor('model.ir.model.log.search_read',
        [('resource', '=', None)], 0, None, None, ['event', 'login'])
    assert [e['event'] for e in unknown] == ['login_failed']
    assert unknown[0]['login'].startswith('#')
    assert 'nobody' not in json.dumps(unknown)


def test_failed_logins_are_throttled(audited):
    "Tryton's own throttle ([session] max_attempt) answers 429, logged"
    url, db, ids = audited
    statuses = []
    for _ in range(8):
        with pytest.raises(urllib.error.HTTPError) as error:
            Client(url, db, 'manager', password='wrong-password')
        statuses.append(error.value.code)
    assert statuses[0] == 401
    assert statuses[-1] == 429
    auditor = Client(url, db, 'auditor')
    failed = auditor('model.ir.model.log.search_count',
        [('login', '=', 'manager'), ('event', '=', 'login_failed')])
    assert failed == len(statuses)


def test_passwords_never_logged(audited):
    url, db, ids = audited
    auditor = Client(url, db, 'auditor')
    entries = logs(auditor, f'res.user,{ids["manager"]}', 'create')
    assert entries, "user creation is logged"
    text = json.dumps(entries)
    assert PASSWORD not in text and 'password' not in text


def test_logs_cannot_be_altered(audited):
    url, db, ids = audited
    manager = Client(url, db, 'manager')
    auditor = Client(url, db, 'auditor')
    manager('model.zl.ticket.create', [{'name': 'x', 'code': 'X1'}])
    log_ids = auditor('model.ir.model.log.search', [])
    assert log_ids
    for client in (manager, auditor):
        for method, args in [
                ('write', (log_ids[:1], {'changes': '[]'})),
                ('delete', (log_ids[:1],)),
                ('create', ([{'event': 'write', 'target': 'x'}],)),
                ]:
            with pytest.raises(RuntimeError) as error:
                client(f'model.ir.model.log.{method}', *args)
            refused(error, 'not allowed')
    # The auditor reads logs only.
    with pytest.raises(RuntimeError) as error:
        auditor('model.zl.ticket.create', [{'name': 'y', 'code': 'Y1'}])
    refused(error, 'not allowed')
