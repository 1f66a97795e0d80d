"""README command 1 shows the product's main job: scripts/demo_data.py, run
as scripts/demo.sh runs it, leaves an active reservable period with its
slots, window bookings made through the booking engine (one session sold
out), passes with QR codes, 平台管理员 menus without Tryton's developer
menus, and the mini-program's pages; its pages served and saved over
JSON-RPC and HTTP.  In sao's browser: test_demo_browser.py."""
import json
import urllib.request

import pytest
from zl_testing import (
    DEMO_H5_URL,
    load_demo,
    rpc,
    run_proteus,
    wechat_standin,
)

FACTS = '''
import json
import datetime as dt
from proteus import config as proteus_config
from trytond.modules.zl_reservation.identity import make_resident_id
Data = Model.get('ir.model.data')
administration = Data.get_id('ir', 'menu_administration', config.context)
Plan = Model.get('zl.reservation.plan')
Slot = Model.get('zl.reservation.slot')
Booking = Model.get('zl.booking')
Pass = Model.get('zl.pass')
Menu = Model.get('ir.ui.menu')
plans = Plan.find([])
slots = Slot.find([])
bookings = Booking.find([])
holding = [b for b in bookings if b.state in ('confirmed', 'used')]
facts = {
    'plans': [(p.name, p.state, p.advance_days, len(p.sessions),
            sorted((s.name, s.checkin_start.isoformat(),
                    s.checkin_end.isoformat(), s.capacity)
                for s in p.sessions),
            [t.code for t in p.tickets]) for p in plans],
    'slots': len(slots),
    'booked': {s.id: s.booked for s in slots},
    'capacity': {s.id: s.capacity for s in slots},
    'held': {s.id: sum(b.quantity for b in holding if b.slot == s)
        for s in slots},
    'slot_names': {s.id: [s.date.isoformat(), s.session.name]
        for s in slots},
    'bookings': [{
            'slot': b.slot.id, 'quantity': b.quantity, 'state': b.state,
            'seller': b.seller.name, 'by': b.create_uid.login,
            'key': b.idempotency_key,
            'passes': [(p.visitor is not None, p.admits, p.state)
                for p in b.passes],
            } for b in bookings],
    'admin_top_menus': [m.id for m in Menu.find([('parent', '=', None)])],
    'administration': administration,
    }
window = bookings[0].seller.id
ticket = bookings[0].ticket.id

# Staff of the window, in their own session (access rights, data scope).
proteus_config.set_trytond(
    config.database_name, user='seller01', config_file=config.config_file)
Pass = Model.get('zl.pass')
Booking = Model.get('zl.booking')
qr = Pass.find([], limit=1)[0].qr
facts['qr'] = bytes(qr[:8]).hex() if qr else None
full = [i for i, b in facts['booked'].items()
    if b and b == facts['capacity'][i]]
facts['one_more'] = Booking.rpc_book({
        'seller': window, 'ticket': ticket, 'slot': full[0] if full else 0,
        'visitors': [{'name': "再约一位", 'id_type': 'resident_id',
                'id_number': make_resident_id(birth='20000101')}],
        }, proteus_config.get_config().context)

proteus_config.set_trytond(
    config.database_name, user='manager', config_file=config.config_file)
Menu = Model.get('ir.ui.menu')
Data = Model.get('ir.model.data')
top = Menu.find([('parent', '=', None)])
facts['r01_top_menus'] = [m.id for m in top]
facts['manual_menus'] = [
    Data.get_id(module, fs_id, proteus_config.get_config().context)
    for module, fs_id in [
        ('zl_ticket_core', 'menu_system'),
        ('zl_reservation', 'menu_reservation'),
        ('zl_gate', 'menu_gate'),
        ('zl_miniprogram', 'menu_addons'),
        ]]
# 小程序首页设置 and 团体预约码, as R01 sees them.
Homepage = Model.get('zl.mp.homepage')
Promo = Model.get('zl.mp.promo')
facts['homepages'] = [(h.state, len(h.banners)) for h in Homepage.find([])]
facts['promos'] = [(p.ticket.kind, bool(p.qr), p.link, p.scene)
    for p in Promo.find([])]
MpConfig = Model.get('zl.mp.configuration')
facts['wechat'] = [MpConfig(1).wechat_base_url, MpConfig(1).wechat_oauth_url]
Checkin = Model.get('zl.gate.checkin')
facts['checkins'] = sorted(
    (c.device.code, c.result, c.reason or '') for c in Checkin.find([]))

# The gate operator's data scope: the first floor's gates (检票设备).
proteus_config.set_trytond(
    config.database_name, user='gateop', config_file=config.config_file)
Device = Model.get('zl.gate.device')
Checkin = Model.get('zl.gate.checkin')
facts['operator_devices'] = sorted(d.code for d in Device.find([]))
facts['operator_checkins'] = len(Checkin.find([]))
print(json.dumps(facts))
'''


@pytest.fixture(scope='module')
def demo(sqlite_database):
    "The database after demo.sh's data step; the facts the tests check"
    config, name = sqlite_database
    out = load_demo(config, name)
    facts = json.loads(run_proteus(config, name, FACTS).splitlines()[-1])
    return out, facts


def test_manual_reservable_period_is_active_with_slots(demo):
    _, facts = demo
    (name, state, advance_days, _, sessions, tickets), = facts['plans']
    assert state == 'active'
    assert advance_days == 11
    assert sessions == [  # sorted by name
        ["上午场", '08:00:00', '12:00:00', 50],
        ["下午场", '13:00:00', '16:00:00', 50],
        ]
    # The group ticket too: its promotion code books these sessions.
    assert sorted(tickets) == ['GR001', 'TT001']
    # Today to 11 days ahead, two sessions a day.
    assert facts['slots'] == 24


def test_bookings_come_from_the_engine(demo):
    _, facts = demo
    bookings = facts['bookings']
    assert len(bookings) >= 5
    assert len({b['slot'] for b in bookings}) >= 4
    for booking in bookings:
        # The window clerk's session, with an idempotency key: rpc_book.
        assert booking['by'] == 'seller01'
        assert booking['seller'] == "一号窗口"
        assert booking['key'].startswith('demo-')
        assert booking['state'] == 'confirmed'
        assert booking['passes'] == [[True, 1, 'valid']] * booking['quantity']
    # Each slot's counter is exactly what its bookings hold.
    assert facts['booked'] == facts['held']
    assert sum(facts['booked'].values()) == sum(
        b['quantity'] for b in bookings)


def test_one_session_is_sold_out(demo):
    _, facts = demo
    full = [facts['slot_names'][i] for i, booked in facts['booked'].items()
        if booked and booked == facts['capacity'][i]]
    assert len(full) == 1
    assert full[0][1] == "下午场"
    assert facts['one_more']['error']['code'] == 'sold_out'


def test_pass_has_qr_code(demo):
    _, facts = demo
    assert bytes.fromhex(facts['qr']) == b'\x89PNG\r\n\x1a\n'


def test_platform_admin_sees_the_manual_menus_only(demo):
    _, facts = demo
    assert facts['administration'] in facts['admin_top_menus']
    assert facts['administration'] not in facts['r01_top_menus']
    assert set(facts['manual_menus']) <= set(facts['r01_top_menus'])


def test_gates_scans_and_the_operator_scope(demo):
    "检票设置: the gates, the scans made at 一楼闸机入口, the operator's scope"
    out, facts = demo
    assert 'gate-g01' in out
    assert facts['checkins'], facts
    assert {c[0] for c in facts['checkins']} == {'G01'}
    # A forged code among the scans; every refusal has its reason.
    assert ['G01', 'rejected', 'invalid'] in facts['checkins']
    assert all(r == 'ok' or reason for _, r, reason in facts['checkins'])
    assert facts['operator_devices'] == ['G01', 'G02']
    assert facts['operator_checkins'] == len(facts['checkins'])


def test_mini_program_home_page_and_promo(demo):
    "小程序首页设置 published, the group ticket's 微信推广码 with its QR"
    _, facts = demo
    assert facts['homepages'] == [['published', 1]]
    (kind, qr, link, scene), = facts['promos']
    assert (kind, qr) == ('group', True)
    # Shared as a link, the code opens the demo's H5 page on the group.
    assert link == f'{DEMO_H5_URL}?scene={scene}'
    # The H5 page's login goes to the stand-in, as the API's does.
    assert facts['wechat'] == [wechat_standin()] * 2


def test_visitor_page_and_catalogue_on_sqlite(demo, sqlite_database, server):
    """The demo's embedded default serves what the visitor page shows:
    the page, its tickets and their sessions (the group ticket's through
    its promotion code)"""
    config, name = sqlite_database
    url = server(config, name)
    _, facts = demo
    (_, _, _, scene), = facts['promos']
    base = f'{url}/{name}/zl_mp'

    def get(path):
        with urllib.request.urlopen(base + path, timeout=30) as response:
            body = response.read()
            if response.headers['Content-Type'].startswith('application/'):
                return json.loads(body)
            return body.decode('utf-8')

    assert '<script id="zl-config"' in get('/h5/')
    tickets = get('/v1/tickets')['tickets']
    assert [t['name'] for t in tickets] == ["个人预约票"]
    slots = get(f'/v1/tickets/{tickets[0]["id"]}/slots')['slots']
    assert slots and {s['state'] for s in slots} <= {
        'open', 'sold_out', 'not_yet_open', 'closed'}
    assert 'sold_out' in {s['state'] for s in slots}
    promo = get(f'/v1/promo/{scene}')
    slots = get(f'/v1/tickets/{promo["ticket_id"]}/slots?promo={scene}')
    assert 'open' in {s['state'] for s in slots['slots']}


def test_demo_prints_the_logins(demo):
    out, _ = demo
    for login in ['manager', 'ticketmgr', 'seller01', 'auditor', 'gateop']:
        assert login in out
    assert "售罄" in out or "sold out" in out


def test_platform_admin_pages_open_and_save(demo, sqlite_database, server):
    """Without res.group_admin, every page of 平台管理员 opens (views,
    records, their lines) and 系统管理's pages save, over JSON-RPC."""
    config, name = sqlite_database
    url = server(config, name)
    user_id, token, *_ = rpc(url, 'common.db.login',
        ['manager', {'password': 'Manager-2026'}, 'en'], database=name)
    session = f'manager:{user_id}:{token}'

    def call(model, method, *params):
        return rpc(url, f'model.{model}.{method}', [*params, {}],
            database=name, session=session)

    def open_view(model, view_id, view_type, ids, lines=True):
        fields = call(model, 'fields_view_get', view_id, view_type)['fields']
        records = call(model, 'read', ids[:5], list(fields)) if ids else []
        for field, definition in fields.items():
            if lines and definition['type'] in {'one2many', 'many2many'}:
                assert all(r[field] is not None for r in records), (
                    model, field)
                sub = sorted({i for r in records for i in r[field]})
                for sub_type in ['tree', 'form']:
                    open_view(definition['relation'], None, sub_type, sub,
                        lines=False)

    opened = set()
    menus = call('ir.ui.menu', 'search_read', [], 0, None, None, ['action'])
    for menu in menus:
        kind, _, action_id = (menu['action'] or '').partition(',')
        if kind != 'ir.action.act_window':
            continue
        action, = call('ir.action.act_window', 'read', [int(action_id)],
            ['res_model', 'views'])
        model = action['res_model']
        ids = call(model, 'search', [], 0, 10, None)
        for view_id, view_type in action['views']:
            open_view(model, view_id, view_type, ids)
        opened.add(model)
    assert {'res.user', 'res.role', 'ir.ui.menu', 'ir.model.log',
        'zl.user.group', 'zl.data.permission', 'zl.booking',
        'zl.pass'} <= opened

    def data_id(module, fs_id):
        return call('ir.model.data', 'get_id', module, fs_id)

    role, = call('res.role', 'search', [('code', '=', 'R02')])
    book_page = data_id('zl_reservation', 'group_page_book')
    user_group, = call('zl.user.group', 'search', [('code', '=', 'G01')])
    # 用户管理
    new_user, = call('res.user', 'create', [{
                'login': 'newstaff', 'name': "新员工",
                'password': 'New-Staff-2026',
                'roles': [('create', [{'role': role}])],
                'zl_user_groups': [('add', [user_group])]}])
    call('res.user', 'write', [new_user], {'name': "新员工二"})
    groups = call('res.user', 'read', [new_user], ['groups'])[0]['groups']
    assert data_id('zl_ticket_core', 'group_page_ticket') in groups
    # 角色管理
    new_role, = call('res.role', 'create', [{
                'code': 'R90', 'name': "临时角色",
                'pages': [str(book_page)]}])
    call('res.role', 'write', [new_role], {'remark': "改过"})
    assert call('res.role', 'read', [new_role], ['pages', 'operations'])[0][
        'pages'] == [str(book_page)]
    # 菜单管理: rename, reorder, regroup, hide, restore
    menu = data_id('zl_ticket_core', 'menu_category_form')
    before, = call('ir.ui.menu', 'read', [menu],
        ['name', 'sequence', 'parent', 'groups', 'active'])
    call('ir.ui.menu', 'write', [menu], {
            'name': "分类", 'sequence': 99,
            'parent': data_id('zl_ticket_core', 'menu_system'),
            'groups': [('add', [book_page])], 'active': False})
    call('ir.ui.menu', 'write', [menu], {
            'name': before['name'], 'sequence': before['sequence'],
            'parent': before['parent'], 'active': True,
            'groups': [('remove', [book_page])]})
    # 用户组管理, 数据权限
    new_group, = call('zl.user.group', 'create', [{
                'code': 'G90', 'name': "临时组",
                'users': [('add', [new_user])]}])
    seller, = call('zl.seller', 'search', [('name', '=', "一号窗口")])
    permission, = call('zl.data.permission', 'create', [{
                'name': "临时权限", 'sellers': [('add', [seller])],
                'user_groups': [('add', [new_group])]}])
    call('zl.data.permission', 'write', [permission], {'all_data': True})
    # 日志查看
    assert call('ir.model.log', 'search_read', [], 0, 5, None, ['event'])
