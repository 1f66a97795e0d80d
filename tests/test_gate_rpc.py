"""Gates over JSON-RPC on PostgreSQL under gunicorn: eight gates scanning
one pass at once, a device that may call the gate methods and nothing
else, a device disabled mid-session, and bad input that changes nothing."""
import json
import logging
import threading
import urllib.error
import uuid

import psycopg
import pytest
from zl_testing import (
    login_session,
    resident_id,
    rpc,
    run_proteus,
    write_config,
)

from conftest import _pg_execute, _pg_uri

pytestmark = pytest.mark.postgresql

PASSWORD = 'Gate-Test-2026'
GATES = 8

SETUP = '''
import datetime as dt, json
from zoneinfo import ZoneInfo
from trytond.pool import Pool
from trytond.transaction import Transaction
User = Model.get('res.user')
Ticket = Model.get('zl.ticket')
Seller = Model.get('zl.seller')
Plan = Model.get('zl.reservation.plan')
Slot = Model.get('zl.reservation.slot')
Device = Model.get('zl.gate.device')
single = Ticket(name='single', code='T1', per_user_limit=0)
single.save()
triple = Ticket(name='triple', code='T3', per_user_limit=0, usable_count=3)
triple.save()
other = Ticket(name='other', code='T9', per_user_limit=0)
other.save()
for t in (single, triple, other):
    t.click('put_on_shelf')
seller = Seller(name='window', kind='window')
seller.tickets.extend([Ticket(single.id), Ticket(triple.id),
    Ticket(other.id)])
seller.save()
today = dt.datetime.now(ZoneInfo('Asia/Shanghai')).date()
plan = Plan(name='plan', start_date=today, end_date=today, advance_days=1)
# Open all day: the server decides with its own clock.
plan.sessions.new(name='全天', checkin_start=dt.time(0),
    checkin_end=dt.time(23, 59, 59), capacity=500)
plan.tickets.extend([Ticket(single.id), Ticket(triple.id), Ticket(other.id)])
plan.save()
plan.click('activate')
slot, = Slot.find([('plan', '=', plan.id), ('date', '=', today)])
for n in range(1, %(gates)d + 1):
    device = Device(code='G%%d' %% n, name='闸机%%d' %% n,
        login='gate%%d' %% n, password=%(password)r)
    device.tickets.extend([Ticket(single.id), Ticket(triple.id)])
    device.save()
staff = User(login='staff', name='staff', password=%(password)r)
staff.groups.extend(role_groups('R05'))
staff.save()

def book(ticket, seq, n=1):
    request = {'ticket': ticket.id, 'slot': slot.id, 'visitors': [
            {'name': 'v%%s' %% (seq + i), 'id_type': 'resident_id',
             'id_number': ID(seq + i)} for i in range(n)]}
    with Transaction().start(config.database_name, 0,
            context={'_zl_decide': True}) as transaction:
        booking = Pool().get('zl.booking').book(request, seller.id)
        transaction.commit()
    return [p['code'] for p in booking['passes']]
print(json.dumps({
    'single': book(single, 1, 20), 'triple': book(triple, 100, 5),
    'other': book(other, 200), 'slot': slot.id}))
'''


@pytest.fixture(scope='module')
def gates(pg_template, tmp_path_factory):
    "One database and one 2-worker gunicorn for the file (setup is slow)"
    name = f'zl_gate_{uuid.uuid4().hex[:8]}'
    config = write_config(
        tmp_path_factory.mktemp('gate') / 'trytond.conf',
        _pg_uri())
    _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    numbers = {n: resident_id(n) for n in range(1, 300)}
    code = (f'ID = {numbers!r}.__getitem__\n' + SETUP % {
            'gates': GATES, 'password': PASSWORD})
    ids = json.loads(run_proteus(config, name, code))
    yield config, name, ids
    _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope='module')
def site(gates, server_module):
    config, name, ids = gates
    # INFO: Tryton logs every call with its arguments (cut to 17
    # characters): the test of ID cards reads that log.
    url = server_module(config, name, workers=2, log_level=logging.INFO)
    return url, name, ids


def gate_session(url, db, n):
    return login_session(url, db, f'gate{n}', PASSWORD)


def call(url, db, session, method, *params):
    return rpc(url, method, list(params) + [{}], database=db,
        session=session)


def redeem(url, db, session, code, **scan):
    scan.setdefault('scan_id', uuid.uuid4().hex)
    return call(url, db, session, 'model.zl.gate.device.redeem', code, scan)


def together(jobs):
    "Run the callables at once (released by a barrier); their results"
    results = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def run(i):
        barrier.wait()
        try:
            results[i] = jobs[i]()
        except Exception as error:  # reported, never swallowed
            results[i] = {'exception': repr(error)}
    threads = [threading.Thread(target=run, args=(i,))
        for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def pass_uses(db, code):
    from trytond.modules.zl_reservation import passcode
    pass_id = passcode.decode(code).pass_id
    with psycopg.connect(dbname=db) as conn:
        uses_left, = conn.execute(
            'SELECT uses_left FROM zl_pass WHERE id = %s',
            (pass_id,)).fetchone()
        checkins, = conn.execute(
            'SELECT count(*) FROM zl_gate_checkin WHERE pass_ = %s',
            (pass_id,)).fetchone()
    return uses_left, checkins


def results(answers):
    counts = {}
    for answer in answers:
        key = answer.get('reason') or answer.get('result') or str(answer)
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_eight_gates_one_single_use_pass(site):
    url, db, ids = site
    sessions = [gate_session(url, db, n) for n in range(1, GATES + 1)]
    for round_, code in enumerate(ids['single'][:3]):
        answers = together([
                (lambda s=s: redeem(url, db, s, code)) for s in sessions])
        assert results(answers) == {'ok': 1, 'already_used': GATES - 1}, (
            round_, answers)
        assert pass_uses(db, code) == (0, GATES)


def test_eight_gates_three_uses(site):
    url, db, ids = site
    sessions = [gate_session(url, db, n) for n in range(1, GATES + 1)]
    code = ids['triple'][0]
    answers = together([
            (lambda s=s: redeem(url, db, s, code)) for s in sessions])
    # Entries in a row at one moment: the re-scan interval is 0.
    assert results(answers) == {'ok': 3, 'already_used': GATES - 3}, answers
    assert pass_uses(db, code) == (0, GATES)


def test_same_scan_id_eight_times(site):
    url, db, ids = site
    session = gate_session(url, db, 1)
    code = ids['single'][10]
    answers = together([
            (lambda: redeem(url, db, session, code, scan_id='one-scan'))
            for _ in range(GATES)])
    assert all(a == answers[0] for a in answers), answers
    assert answers[0]['result'] == 'ok'
    assert pass_uses(db, code) == (0, 1)


def test_id_card_online_and_logs(site, server_module):
    "An ID card admits its holder; the number reaches no log"
    url, db, ids = site
    session = gate_session(url, db, 2)
    number = resident_id(15)  # the 15th visitor of the single tickets
    answer = redeem(url, db, session, number, app_version='gate-2.1.0')
    assert answer['result'] == 'ok', answer
    with psycopg.connect(dbname=db) as conn:
        version, = conn.execute("SELECT app_version FROM zl_gate_device "
            "WHERE code = 'G2'").fetchone()
    assert version == 'gate-2.1.0'
    assert redeem(url, db, session, number)['reason'] == 'already_used'
    log = server_module.logs[url].read_text()
    assert number[:14] not in log
    assert number[:14] not in json.dumps(answer)


def error_code(func):
    "The coded error a gate method answered (JSON-RPC result)"
    answer = func()
    assert set(answer) == {'error'}, answer
    return answer['error']['code']


def refused(func):
    """The call was refused: its session is gone (HTTP 401/403) or the
    method answered forbidden"""
    try:
        answer = func()
    except urllib.error.HTTPError as error:
        return error.code in {401, 403}
    return answer.get('error', {}).get('code') == 'forbidden'


def denied(func):
    "Tryton's access error, or no such RPC method (HTTP 403)"
    try:
        func()
    except RuntimeError as error:
        return error.args[0][0] == 'UserError'
    except urllib.error.HTTPError as error:
        return error.code == 403
    return False


def test_device_calls_gate_methods_only(site):
    "A device account reads no model; a staff account redeems nothing"
    url, db, ids = site
    session = gate_session(url, db, 3)
    for model in ['zl.pass', 'zl.booking', 'zl.booking.visitor',
            'res.user', 'zl.gate.device', 'zl.gate.checkin', 'ir.rule',
            'zl.ticket', 'ir.session', 'ir.model.data']:
        assert denied(lambda: call(url, db, session,
                f'model.{model}.search_read', [], 0, 1, None, ['id'])), model
    assert denied(lambda: call(url, db, session,
            'model.zl.gate.device.write', [1], {'name': 'x'}))
    staff = login_session(url, db, 'staff', PASSWORD)
    code = ids['single'][11]
    assert error_code(lambda: redeem(url, db, staff, code)) == 'forbidden'
    assert pass_uses(db, code) == (1, 0)


def test_bad_input_changes_nothing(site):
    url, db, ids = site
    session = gate_session(url, db, 4)
    code = ids['single'][12]
    method = 'model.zl.gate.device.redeem'
    for params in [[], [code, {}, 'extra', 'more'], [123, {}],
            [None, {}], [['list'], {}], [code, 'scan'],
            [code, {'scan_id': 'x' * 500}], [code, {'scan_id': 5}],
            [code, {'dry_run': 'yes'}],
            [code, {'scanned_at': 'tomorrow'}]]:
        assert error_code(lambda: call(url, db, session, method, *params)) \
            == 'invalid_request', params
    # A scan time far from the server's clock: refused, not decided.
    assert error_code(lambda: redeem(url, db, session, code,
            scanned_at='2099-01-01T08:00:00')) == 'clock_skew'
    for bad in ['ZL1' + 'A' * 200_000, '\x00\xff' * 100, code[:-1],
            code[:-1] + ('A' if code[-1] != 'A' else 'B')]:
        answer = redeem(url, db, session, bad)
        assert (answer['result'], answer['reason']) == (
            'rejected', 'invalid')
    # Another database's key: genuine shape, unknown signature.
    from trytond.modules.zl_reservation import passcode
    private, _ = passcode.generate_key()
    payload = passcode.decode(code)
    foreign = passcode.sign(private, payload.key_id, payload.pass_id,
        payload.ticket_id, payload.date, payload.slot_id)
    assert redeem(url, db, session, foreign)['reason'] == 'invalid'
    # Unknown method of the model: refused by Tryton.
    with pytest.raises(Exception):
        call(url, db, session, 'model.zl.gate.device.redeem_all', code)
    assert pass_uses(db, code) == (1, 0)  # forgeries name no pass
    answer = redeem(url, db, session, code)
    assert answer['result'] == 'ok', answer


def test_disabled_device_refused_at_once(site, gates):
    "Disabled while its session is open: the next call is refused"
    url, db, ids = site
    config = gates[0]
    session = gate_session(url, db, 5)
    code = ids['single'][13]
    assert redeem(url, db, session, code, dry_run=True)['result'] == 'ok'
    run_proteus(config, db, """
Device = Model.get('zl.gate.device')
device, = Device.find([('code', '=', 'G5')])
device.active = False
device.save()
""")
    assert refused(lambda: redeem(url, db, session, code))
    with pytest.raises(Exception):
        gate_session(url, db, 5)
    assert pass_uses(db, code)[0] == 1


def test_password_rotation_ends_sessions(site, gates):
    url, db, ids = site
    config = gates[0]
    session = gate_session(url, db, 6)
    run_proteus(config, db, """
Device = Model.get('zl.gate.device')
device, = Device.find([('code', '=', 'G6')])
device.password = 'Rotated-Pass-2026'
device.save()
""")
    assert refused(lambda: redeem(url, db, session, ids['single'][16]))
    new = login_session(url, db, 'gate6', 'Rotated-Pass-2026')
    assert redeem(url, db, new, ids['single'][16])['result'] == 'ok'
