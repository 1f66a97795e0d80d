"""The engine is the only door: what a hostile staff user of each role can
try over JSON-RPC (gunicorn, 2 workers, PostgreSQL) and what must hold."""
import json

import psycopg
import pytest
from zl_testing import resident_id, rpc, run_proteus

pytestmark = pytest.mark.postgresql

PASSWORD = 'Integrity-Test-2026'

SETUP = '''
import datetime as dt, json
from zoneinfo import ZoneInfo
Group = Model.get('res.group')
User = Model.get('res.user')
UserGroup = Model.get('zl.user.group')
Permission = Model.get('zl.data.permission')
Ticket = Model.get('zl.ticket')
Seller = Model.get('zl.seller')
Plan = Model.get('zl.reservation.plan')
Slot = Model.get('zl.reservation.slot')
window = Seller(name='window', kind='window'); window.save()
other_seller = Seller(name='other', kind='window'); other_seller.save()
def user(login, groups, sellers=(), all_data=False):
    u = User(login=login, name=login, password=%(password)r)
    u.groups.extend([g for r in groups for g in role_groups(r)])
    u.save()
    ug = UserGroup(code=login, name=login)
    ug.users.append(User(u.id))
    ug.save()
    p = Permission(name=login, all_data=all_data)
    p.user_groups.append(UserGroup(ug.id))
    for s in sellers:
        p.sellers.append(Seller(s.id))
    p.save()
    return u
clerk = user('clerk', ['R04'], [window])
stranger = user('stranger', ['R04'], [window])
outsider = user('outsider', ['R04'], [other_seller])
user('ticketmgr', ['R02'], all_data=True)
user('resmgr', ['R03'], all_data=True)
ticket = Ticket(name='individual', code='T1', per_user_limit=1, stock=-1,
    refundable=True)
ticket.save()
ticket.click('put_on_shelf')
group_ticket = Ticket(name='group', code='G1', kind='group', group_min=2,
    group_max=50, per_user_limit=0, stock=-1)
group_ticket.save()
group_ticket.click('put_on_shelf')
window.tickets.extend([Ticket(ticket.id), Ticket(group_ticket.id)])
window.hidden_tickets.append(Ticket(group_ticket.id))
window.users.append(User(clerk.id))
window.save()
other_seller.tickets.append(Ticket(ticket.id))
other_seller.users.append(User(outsider.id))
other_seller.save()
today = dt.datetime.now(ZoneInfo('Asia/Shanghai')).date()
plan = Plan(name='plan', start_date=today,
    end_date=today + dt.timedelta(days=20), advance_days=11)
plan.sessions.new(name='am', checkin_start=dt.time(8),
    checkin_end=dt.time(12), capacity=50)
plan.tickets.extend([Ticket(ticket.id), Ticket(group_ticket.id)])
plan.save()
plan.click('activate')
slots = Slot.find([('plan', '=', plan.id), ('date', '>', today)],
    order=[('date', 'ASC')])
print(json.dumps({'window': window.id, 'other': other_seller.id,
    'ticket': ticket.id, 'group_ticket': group_ticket.id,
    'slots': [s.id for s in slots]}))
''' % {'password': PASSWORD}


@pytest.fixture
def museum(pg_database, pg_config, server):
    ids = json.loads(run_proteus(pg_config, pg_database, SETUP))
    url = server(pg_config, pg_database, workers=2)
    return Client(url, pg_database), ids


class Client:
    "JSON-RPC as one user after another"

    def __init__(self, url, db):
        self.url, self.db, self.sessions = url, db, {}

    def __call__(self, login, method, *params):
        if login not in self.sessions:
            user_id, token, *_ = rpc(self.url, 'common.db.login',
                [login, {'password': PASSWORD}, 'en'], database=self.db)
            self.sessions[login] = f'{login}:{user_id}:{token}'
        return rpc(self.url, method, list(params) + [{}], database=self.db,
            session=self.sessions[login])

    def refused(self, login, method, *params):
        with pytest.raises(RuntimeError) as error:
            self(login, method, *params)
        return error.value.args[0]


def request(ids, seq, slot=0, **extra):
    return dict({
            'seller': ids['window'], 'ticket': ids['ticket'],
            'slot': ids['slots'][slot],
            'visitors': [{'name': 'v%s' % seq, 'id_type': 'resident_id',
                    'id_number': resident_id(seq), 'phone': '13800138000'}],
            }, **extra)


def sql(db, query, *args):
    with psycopg.connect(dbname=db) as conn:
        return conn.execute(query, args).fetchall()


def assert_invariant(db):
    """Every slot's booked equals its holding bookings' quantities and
    their valid/used passes' admissions"""
    rows = sql(db, '''
        SELECT s.id, s.booked,
            (SELECT coalesce(sum(b.quantity), 0) FROM zl_booking b
                WHERE b.slot = s.id AND b.state IN ('confirmed', 'used')),
            (SELECT coalesce(sum(p.admits), 0) FROM zl_pass p
                WHERE p.slot = s.id AND p.state IN ('valid', 'used'))
        FROM zl_reservation_slot s''')
    assert rows
    for slot, booked, quantities, admissions in rows:
        assert booked == quantities == admissions, slot


def test_engine_is_the_only_writer(museum):
    "Plain ORM calls cannot change bookings, visitors, passes or places"
    call, ids = museum
    first = call('clerk', 'model.zl.booking.rpc_book', request(ids, 1))
    booking = first['booking']
    slot, other = ids['slots'][0], ids['slots'][1]

    call.refused('clerk', 'model.zl.booking.create', [{
                'seller': ids['window'], 'ticket': ids['ticket'],
                'slot': slot, 'date': '2030-01-01', 'quantity': 1000}])
    for values in [{'quantity': 1000}, {'contact_name': 'x'},
            {'slot': other}, {'state': 'cancelled'}]:
        call.refused('clerk', 'model.zl.booking.write',
            [booking['id']], values)
    call.refused('clerk', 'model.zl.booking.visitor.write',
        [booking['id']], {'name': 'x'})
    call.refused('clerk', 'model.zl.pass.write',
        [booking['passes'][0]['id']], {'uses_left': 99})
    call.refused('resmgr', 'model.zl.reservation.slot.write',
        [slot], {'booked': 0})
    call.refused('resmgr', 'model.zl.reservation.slot.create', [{
                'plan': 1, 'session': 1, 'date': '2030-01-01',
                'capacity': 5, 'booked': 3}])
    # What staff may do, they still can: capacity (not below booked), close.
    call.refused('resmgr', 'model.zl.reservation.slot.write',
        [slot], {'capacity': 0})
    call('resmgr', 'model.zl.reservation.slot.write', [slot], {'capacity': 9})
    call('resmgr', 'model.zl.reservation.slot.close_slot', [slot])
    call('resmgr', 'model.zl.reservation.slot.reopen_slot', [slot])
    call('clerk', 'model.zl.booking.rpc_book', request(ids, 2))
    cancelled = call('clerk', 'model.zl.booking.rpc_cancel', booking['id'])
    assert cancelled['booking']['state'] == 'cancelled'
    # After a cancellation the booking stays cancelled with its passes.
    call.refused('clerk', 'model.zl.booking.write',
        [booking['id']], {'state': 'confirmed'})
    assert sql(museum[0].db, 'SELECT state FROM zl_pass WHERE booking = %s',
        booking['id']) == [('cancelled',)]
    assert sql(museum[0].db,
        'SELECT booked, capacity FROM zl_reservation_slot WHERE id = %s',
        slot) == [(1, 9)]
    assert_invariant(museum[0].db)


def test_one_sale_rule_for_every_path(museum):
    "Accounts, scope and the Cancel permission, over RPC and the wizard"
    call, ids = museum
    # A Sales user in scope but not one of the window's accounts.
    answer = call('stranger', 'model.zl.booking.rpc_book', request(ids, 3))
    assert answer['error']['code'] == 'ticket_not_available'
    # The window is outside the outsider's data scope.
    answer = call('outsider', 'model.zl.booking.rpc_book', request(ids, 3))
    assert answer['error']['code'] == 'ticket_not_available'
    for login in ['stranger', 'outsider']:
        session, *_ = call(login, 'wizard.zl.booking.book.create')
        error = call.refused(login, 'wizard.zl.booking.book.execute',
            session, {'start': wizard_form(ids, 3)}, 'book')
        # The seller's rule refuses it (ticket_not_available's message).
        assert error[0] == 'UserError', error
        assert ('cannot be booked through this seller' in error[1][0]
            or '不能通过此售票员预约' in error[1][0]), error
    assert sql(museum[0].db, 'SELECT count(*) FROM zl_booking') == [(0,)]

    booked = call('clerk', 'model.zl.booking.rpc_book', request(ids, 3))
    booking_id = booked['booking']['id']
    answer = call('ticketmgr', 'model.zl.booking.rpc_cancel', booking_id)
    assert answer['error']['code'] == 'forbidden'
    assert call('clerk', 'model.zl.booking.rpc_cancel', booking_id)[
        'booking']['state'] == 'cancelled'


def wizard_form(ids, seq):
    return {
        'seller': ids['window'], 'ticket': ids['ticket'],
        'slot': ids['slots'][0], 'contact_name': 'c',
        'visitors': [{'name': 'v%s' % seq, 'id_type': 'resident_id',
                'id_number': resident_id(seq), 'phone': '13800138000'}],
        }


def test_trust_is_the_servers(museum):
    "account and promo in a request carry no authority"
    call, ids = museum
    answer = call('clerk', 'model.zl.booking.rpc_book',
        request(ids, 4, account='wx-victim'))
    assert sql(museum[0].db, 'SELECT account FROM zl_booking WHERE id = %s',
        answer['booking']['id']) == [(None,)]
    hidden = dict(request(ids, 5, ticket=ids['group_ticket'],
            promo='anything'), visitors=[],
        group={'name': 'g', 'leader': 'l', 'size': 5},
        contact={'name': 'c', 'phone': '13800138000'})
    answer = call('clerk', 'model.zl.booking.rpc_book', hidden)
    assert answer['error']['code'] == 'ticket_not_available'


def test_wizard_and_log_keep_no_clear_id(museum):
    "The wizard's stored state and the log hold masked ID numbers only"
    call, ids = museum
    session, *_ = call('clerk', 'wizard.zl.booking.book.create')
    call('clerk', 'wizard.zl.booking.book.execute',
        session, {'start': wizard_form(ids, 6)}, 'book')
    rpc_booking = call('clerk', 'model.zl.booking.rpc_book', request(ids, 7))
    db = museum[0].db
    stored = sql(db, 'SELECT data FROM ir_session_wizard')
    assert stored and resident_id(6) not in str(stored)
    assert resident_id(6)[:17] not in str(stored)
    logs = sql(db, "SELECT resource, record_name, changes, \"user\" "
        "FROM ir_model_log WHERE event = 'create' "
        "AND resource LIKE 'zl.booking,%%'")
    numbers = {r[0] for r in logs}
    assert f"zl.booking,{rpc_booking['booking']['id']}" in numbers
    assert len(logs) == 2
    for _, number, changes, user in logs:
        assert number.startswith('B') and user
        assert resident_id(6)[:17] not in changes
        assert resident_id(7)[:17] not in changes
        assert '*' in changes  # the masked number is there


@pytest.mark.parametrize('change', [
        lambda r: r['visitors'][0].update(name='a\x00b'),
        lambda r: r.update(idempotency_key='k\x00'),
        lambda r: r['visitors'][0].update(id_type=['resident_id']),
        lambda r: r['visitors'][0].update(id_type={'a': 1}),
        lambda r: r['visitors'][0].update(name='   '),
        lambda r: r.update(contact={'name': '\x00'}),
        lambda r: r.update(ticket='1'),
        lambda r: r.update(visitors='x'),
        ])
def test_bad_input_is_invalid_request(museum, change):
    "Malformed input: invalid_request, nothing written"
    call, ids = museum
    bad = request(ids, 8)
    change(bad)
    answer = call('clerk', 'model.zl.booking.rpc_book', bad)
    assert answer['error']['code'] == 'invalid_request', answer
    assert sql(museum[0].db, 'SELECT count(*) FROM zl_booking') == [(0,)]


def test_malformed_calls(museum):
    "No argument, two arguments, a list: documented codes"
    call, ids = museum
    for params in [(), (request(ids, 9), 'extra'), ([request(ids, 9)],)]:
        answer = call('clerk', 'model.zl.booking.rpc_book', *params)
        assert answer['error']['code'] == 'invalid_request'
    for params in [(), ('1',), (1, 2)]:
        answer = call('clerk', 'model.zl.booking.rpc_cancel', *params)
        assert answer['error']['code'] == 'invalid_request'
