# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Reserved places under races (PostgreSQL): a slot of 50 keeps 10 for
the window; 1,000 online attempts at once get exactly the 40 others, the
window still gets its 10 while online keeps trying, and from the release
moment on online gets what the window left.  Each client is a thread
with its own transaction calling the engine's one entry point, as every
face does (tests/test_policy_races.py); the slot's counters are read
from the database after each race."""
import json
from pathlib import Path

import psycopg
import pytest
from zl_testing import resident_id, run_proteus

pytestmark = pytest.mark.postgresql

CAPACITY, WINDOW = 50, 10

SETUP = '''
import datetime as dt, json
from zoneinfo import ZoneInfo
Ticket = Model.get('zl.ticket')
Seller = Model.get('zl.seller')
Plan = Model.get('zl.reservation.plan')
Slot = Model.get('zl.reservation.slot')
ticket = Ticket(name='ticket', code='T1', per_user_limit=0)
ticket.save()
ticket.click('put_on_shelf')
sellers = {}
for kind in ['wechat_mp', 'window']:
    seller = Seller(name=kind, kind=kind)
    seller.tickets.append(Ticket(ticket.id))
    seller.save()
    sellers[kind] = seller.id
today = dt.datetime.now(ZoneInfo('Asia/Shanghai')).date()
plan = Plan(name='plan', start_date=today,
    end_date=today + dt.timedelta(days=5), advance_days=3,
    reserve_release=120)
plan.sessions.new(name='am', checkin_start=dt.time(8),
    checkin_end=dt.time(12), capacity=%(capacity)d,
    reserved_window=%(window)d)
plan.tickets.append(Ticket(ticket.id))
plan.save()
plan.click('activate')
slots = Slot.find([('plan', '=', plan.id), ('date', '>', today)],
    order=[('date', 'ASC')])
print(json.dumps({'ticket': ticket.id, 'sellers': sellers,
    'slots': [s.id for s in slots[:2]],
    'dates': [s.date.isoformat() for s in slots[:2]]}))
''' % {'capacity': CAPACITY, 'window': WINDOW}

# Client threads take the jobs from one queue once released together
# (each holds two connections of the pool: its transaction and the
# decision's); `now`, when given, is the site time every decision sees.
RACE = '''
import datetime as dt, json, threading
from unittest.mock import patch
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.modules.zl_reservation.exceptions import BookingError
with open(%(jobs)r) as file:  # too long for a command line
    jobs = json.load(file)
now = %(now)r
Pool(%(db)r).init()
Configuration = Pool(%(db)r).get('zl.reservation.configuration')
if now:
    patch.object(Configuration, 'now',
        return_value=dt.datetime.fromisoformat(now)).start()
lock, answers = threading.Lock(), []
barrier = threading.Barrier(%(clients)d)
def client():
    barrier.wait()
    while True:
        with lock:
            if not jobs:
                return
            job = jobs.pop()
        with Transaction().start(%(db)r, 0, context={}):
            Booking = Pool().get('zl.booking')
            try:
                Booking.book(job['request'], job['seller'])
                answer = 'booked'
            except BookingError as error:
                answer = error.code
            except Exception as error:  # reported, never lost
                answer = repr(error)[:300]
        with lock:
            answers.append([job['kind'], answer])
threads = [threading.Thread(target=client) for _ in range(%(clients)d)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(answers))
'''


@pytest.fixture
def site(pg_database, pg_config):
    ids = json.loads(run_proteus(pg_config, pg_database, SETUP))
    return pg_config, pg_database, ids


def race(site, jobs, now=None, clients=16):
    """{(kind, answer): count} of the jobs run by concurrent clients"""
    config, db, _ = site
    path = Path(config).parent / 'jobs.json'
    path.write_text(json.dumps(jobs))
    answers = json.loads(run_proteus(config, db, RACE % {
                'jobs': str(path), 'db': db, 'now': now,
                'clients': clients}).splitlines()[-1])
    assert len(answers) == len(jobs)
    result = {}
    for kind, answer in answers:
        result[kind, answer] = result.get((kind, answer), 0) + 1
    return result


def jobs(ids, slot, kind, seqs):
    "One booking of one visitor per seq through the kind's seller"
    return [{'kind': kind, 'seller': ids['sellers'][kind], 'request': {
                'ticket': ids['ticket'], 'slot': slot,
                'visitors': [{'name': 'v%s' % s, 'id_type': 'resident_id',
                        'id_number': resident_id(s)}]}}
        for s in seqs]


def counts(db, slot):
    """The slot's counters and what its holding bookings and passes say:
    (booked, booked_window, capacity), (booked, booked_window) recounted"""
    with psycopg.connect(dbname=db) as conn:
        row = conn.execute(
            'SELECT booked, booked_window, booked_group, capacity '
            'FROM zl_reservation_slot WHERE id = %s', (slot,)).fetchone()
        recount = conn.execute(
            "SELECT coalesce(sum(quantity), 0), coalesce(sum(quantity) "
            "FILTER (WHERE pool = 'window'), 0), count(*) FILTER "
            "(WHERE pool IS NULL OR pool NOT IN ('online', 'window')) "
            "FROM zl_booking WHERE slot = %s AND state = 'confirmed'",
            (slot,)).fetchone()
        passes, = conn.execute(
            "SELECT count(*) FROM zl_pass WHERE slot = %s "
            "AND state = 'valid'", (slot,)).fetchone()
    booked, booked_window, booked_group, capacity = row
    assert booked <= capacity and booked_group == 0
    assert (booked, booked_window, 0) == recount and passes == booked
    return booked, booked_window


def test_window_reserve_under_race(site):
    """1,000 online attempts on 50 places with 10 for the window: exactly
    40; then the window books its 10 while online keeps trying: online
    refused, never oversold"""
    _, db, ids = site
    slot = ids['slots'][0]
    answers = race(site, jobs(ids, slot, 'wechat_mp', range(1000)))
    assert answers == {('wechat_mp', 'booked'): CAPACITY - WINDOW,
        ('wechat_mp', 'sold_out'): 1000 - CAPACITY + WINDOW}
    assert counts(db, slot) == (CAPACITY - WINDOW, 0)
    # The window's 10 and more, mixed with online attempts.
    mixed = [job for pair in zip(
            jobs(ids, slot, 'window', range(2000, 2030)),
            jobs(ids, slot, 'wechat_mp', range(3000, 3030))) for job in pair]
    mixed += jobs(ids, slot, 'wechat_mp', range(3030, 3200))
    answers = race(site, mixed)
    assert answers == {('window', 'booked'): WINDOW,
        ('window', 'sold_out'): 30 - WINDOW,
        ('wechat_mp', 'sold_out'): 200}
    assert counts(db, slot) == (CAPACITY, WINDOW)


def test_reserve_released_to_online(site):
    """The window books 4 of its 10; the minute before the release online
    still gets nothing; from the release moment (check-in 08:00 less 120
    minutes) online races for and gets exactly the 6 left"""
    _, db, ids = site
    slot, date = ids['slots'][1], ids['dates'][1]
    answers = race(site, jobs(ids, slot, 'wechat_mp', range(1000)))
    assert answers[('wechat_mp', 'booked')] == CAPACITY - WINDOW
    answers = race(site, jobs(ids, slot, 'window', range(2000, 2004)))
    assert answers == {('window', 'booked'): 4}
    answers = race(site, jobs(ids, slot, 'wechat_mp', range(4000, 4100)),
        now=f'{date}T05:59:00')
    assert answers == {('wechat_mp', 'sold_out'): 100}
    assert counts(db, slot) == (CAPACITY - WINDOW + 4, 4)
    answers = race(site, jobs(ids, slot, 'wechat_mp', range(5000, 6000)),
        now=f'{date}T06:00:00')
    assert answers == {('wechat_mp', 'booked'): WINDOW - 4,
        ('wechat_mp', 'sold_out'): 1000 - WINDOW + 4}
    assert counts(db, slot) == (CAPACITY, 4)
