"""角色管理 → 页面权限 / 操作权限 as deployed (PostgreSQL, gunicorn with 2
workers, JSON-RPC): ticking one page gives a role's users that page and
what it needs, nothing else; unticking takes it away on every worker; the
change is logged; only role administrators tick, and only listed pages."""
import json

import pytest
from zl_testing import Client, refused, run_proteus

pytestmark = pytest.mark.postgresql

PASSWORD = 'Role-Pages-2026'

SETUP = '''
import json
User = Model.get('res.user')
Role = Model.get('res.role')
Menu = Model.get('ir.ui.menu')
Group = Model.get('res.group')
def staff(login, code):
    role, = Role.find([('code', '=', code)])
    user = User(login=login, name=login, password=%(password)r)
    user.roles.new(role=role)
    user.save()
    return user.id
newbie_role = Role(code='R90', name='newbie')
newbie_role.save()
def menu(path):
    found, = [m for m in Menu.find([]) if m.complete_name == path]
    return found.id
admin_group, = Group.find([('name', '=', 'Administration')])
print(json.dumps({
    'manager': staff('manager', 'R01'),
    'seller': staff('seller', 'R04'),
    'newbie': staff('newbie', 'R90'),
    'role': newbie_role.id,
    'ticketing': menu('Ticketing'),
    'tickets': menu('Ticketing / Tickets'),
    'admin_group': admin_group.id,
    }))
''' % {'password': PASSWORD}


@pytest.fixture
def site(pg_database, pg_config, server):
    ids = json.loads(run_proteus(pg_config, pg_database, SETUP))
    url = server(pg_config, pg_database, workers=2)

    def login(name):
        return Client(url, pg_database, name, PASSWORD)
    return login, ids


def visible_menus(client):
    return sorted(client('model.ir.ui.menu.search', []))


def ticket_values(code):
    return [{'name': "成人票", 'code': code}]


def test_tick_one_page(site):
    login, ids = site
    manager = login('manager')
    pages = dict((label, key) for key, label in manager(
            'model.res.role.get_page_selection'))
    operations = dict((label, key) for key, label in manager(
            'model.res.role.get_operation_selection'))
    assert 'Ticketing / Tickets' in pages
    assert 'Ticket / Put on Shelf' in operations

    newbie = login('newbie')
    assert visible_menus(newbie) == []
    with pytest.raises(RuntimeError):
        newbie('model.zl.ticket.create', ticket_values('N0'))

    manager('model.res.role.write', [ids['role']], {
            'pages': [pages['Ticketing / Tickets']],
            'operations': [operations['Ticket / Put on Shelf']]})

    # The open session of the user sees the change on every worker; a
    # new login too.
    for client in [newbie, login('newbie')]:
        for _ in range(4):
            assert visible_menus(client) == sorted(
                [ids['ticketing'], ids['tickets']])
    # The page works: create a ticket, put it on shelf.
    ticket, = newbie('model.zl.ticket.create', ticket_values('N1'))
    newbie('model.zl.ticket.put_on_shelf', [ticket])
    assert newbie('model.zl.ticket.read', [ticket], ['on_shelf'])[0][
        'on_shelf']
    # Nothing else: not the unticked operation, not another page's data.
    for call in [
            lambda: newbie('model.zl.ticket.take_off_shelf', [ticket]),
            lambda: newbie('model.zl.ticket.category.create',
                [{'name': "分类"}]),
            lambda: newbie('model.zl.booking.search', []),
            lambda: newbie('model.zl.seller.create',
                [{'name': 'x', 'kind': 'window'}]),
            lambda: newbie('model.res.role.write', [ids['role']],
                {'pages': list(pages.values())}),
            ]:
        with pytest.raises(RuntimeError):
            call()

    # Logged, with the page's name.
    logs = manager('model.ir.model.log.search_read', [
            ('resource', '=', 'res.role,%s' % ids['role']),
            ('event', '=', 'write')], 0, None, None, ['changes'])
    changes = [c for log in logs for c in json.loads(log['changes'] or '[]')]
    assert ['pages', None, 'Ticketing / Tickets'] in changes

    # Untick: gone for the open session on every worker, and at login.
    manager('model.res.role.write', [ids['role']],
        {'pages': [], 'operations': []})
    for client in [newbie, login('newbie')]:
        for _ in range(4):
            assert visible_menus(client) == []
            with pytest.raises(RuntimeError):
                client('model.zl.ticket.read', [ticket], ['name'])


def test_hostile_ticks(site):
    login, ids = site
    manager = login('manager')
    seller = login('seller')
    pages = [key for key, _ in manager('model.res.role.get_page_selection')]
    # A seller cannot give a role (his own included) more pages.
    with pytest.raises(RuntimeError) as error:
        seller('model.res.role.write', [ids['role']], {'pages': pages})
    refused(error)
    # Nor take a group through his user record.
    with pytest.raises(RuntimeError):
        seller('model.res.user.write', [ids['seller']],
            {'groups': [('add', [ids['admin_group']])]})
    # A role administrator ticks only the listed pages and operations:
    # not Tryton's Administration group, not garbage.
    for value in [[str(ids['admin_group'])], ['x'], [None]]:
        for field in ['pages', 'operations']:
            with pytest.raises(RuntimeError) as error:
                manager('model.res.role.write', [ids['role']],
                    {field: value})
            refused(error)
    assert manager('model.res.role.read', [ids['role']], ['groups'])[0][
        'groups'] == []
