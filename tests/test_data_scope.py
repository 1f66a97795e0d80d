"""数据权限 on PostgreSQL, through the JSON-RPC a back-office user uses:
a user scoped to seller A never reads, counts or exports seller B."""
import json

import pytest
from zl_testing import login_session, refused, rpc, run_proteus

pytestmark = pytest.mark.postgresql

PASSWORD = 'Scope-Test-2026'

SETUP = '''
import json
User = Model.get('res.user')
Group = Model.get('res.group')
UserGroup = Model.get('zl.user.group')
Permission = Model.get('zl.data.permission')
Seller = Model.get('zl.seller')
Menu = Model.get('ir.ui.menu')
sales = role_groups('R04')
manager = role_groups('R02')
a = Seller(name='Seller A', kind='window'); a.save()
b = Seller(name='Seller B', kind='ota'); b.save()
def user(login, code, groups, **permission):
    group = UserGroup(code=code, name=code); group.save()
    p = Permission(name=code, **{k: v for k, v in permission.items()
        if k == 'all_data'})
    p.user_groups.append(UserGroup(group.id))
    for seller in permission.get('sellers', []):
        p.sellers.append(Seller(seller.id))
    p.save()
    u = User(login=login, name=login, password=%(password)r)
    u.groups.extend([Group(g.id) for g in groups])
    u.zl_user_groups.append(UserGroup(group.id))
    u.save()
user('scoped', 'GA', sales, sellers=[a])
user('everything', 'GALL', sales + manager, all_data=True)
outsider = User(login='outsider', name='outsider', password=%(password)r)
outsider.save()
def menu(name):
    found, = Menu.find([('name', '=', name)])
    return found.id
print(json.dumps({'a': a.id, 'b': b.id,
    'menus': [menu('Sales Settings'), menu('Sellers'),
        menu('Ticketing'), menu('System Management')]}))
''' % {'password': PASSWORD}


def login(url, database, name):
    return login_session(url, database, name, PASSWORD)


def call(url, database, session, method, *params):
    return rpc(url, method, list(params) + [{}], database=database,
        session=session)


@pytest.fixture
def scoped_server(pg_database, pg_config, server):
    ids = json.loads(run_proteus(pg_config, pg_database, SETUP))
    return server(pg_config, pg_database), pg_database, ids


def test_scoped_user_never_sees_other_seller(scoped_server):
    url, db, ids = scoped_server
    session = login(url, db, 'scoped')

    assert call(url, db, session, 'model.zl.seller.search', []) == [ids['a']]
    assert call(url, db, session, 'model.zl.seller.search_count', []) == 1
    names = call(url, db, session, 'model.zl.seller.search_read',
        [], 0, None, None, ['name'])
    assert [r['name'] for r in names] == ['Seller A']
    exported = call(url, db, session, 'model.zl.seller.export_data_domain',
        [], ['name'], 0, None, None)
    assert exported == [['Seller A']]
    # Asking by id does not help: the read is refused outright.
    with pytest.raises(RuntimeError) as error:
        call(url, db, session, 'model.zl.seller.read', [ids['b']], ['name'])
    refused(error, 'Seller')
    with pytest.raises(RuntimeError):
        call(url, db, session, 'model.zl.seller.export_data',
            [ids['b']], ['name'])


def test_all_data_sees_every_seller(scoped_server):
    url, db, ids = scoped_server
    session = login(url, db, 'everything')
    assert sorted(call(url, db, session, 'model.zl.seller.search', [])) == [
        ids['a'], ids['b']]
    assert call(url, db, session, 'model.zl.seller.search_count', []) == 2


def test_user_without_group_sees_no_menu(scoped_server):
    url, db, ids = scoped_server
    session = login(url, db, 'outsider')
    visible = call(url, db, session, 'model.ir.ui.menu.search',
        [('id', 'in', ids['menus'])])
    assert visible == []
    # …and cannot read the sellers either (default deny).
    with pytest.raises(RuntimeError) as error:
        call(url, db, session, 'model.zl.seller.search', [])
    refused(error, 'not allowed')

    # A ticket manager sees 票务管理 and 售票设置 but not 系统管理.
    session = login(url, db, 'everything')
    visible = call(url, db, session, 'model.ir.ui.menu.search',
        [('id', 'in', ids['menus'])])
    assert sorted(visible) == sorted(ids['menus'][:3])
