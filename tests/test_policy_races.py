# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The visit policy under races (PostgreSQL): limits that span tickets,
channels and dates are decided under the engine's locks, so concurrent
bookings of one account or one ID through different sellers and tickets
never pass them.  Each client is a thread with its own transaction
calling the engine's one entry point, as every face does."""
import json

import pytest
from zl_testing import resident_id, run_proteus

pytestmark = pytest.mark.postgresql

SETUP = '''
import datetime as dt, json
from zoneinfo import ZoneInfo
Ticket = Model.get('zl.ticket')
Seller = Model.get('zl.seller')
Plan = Model.get('zl.reservation.plan')
Slot = Model.get('zl.reservation.slot')
Configuration = Model.get('zl.reservation.configuration')
config = Configuration(1)
config.account_people_per_day = 3
config.id_one_per_day = True
config.save()
tickets = []
for n in range(4):
    ticket = Ticket(name='ticket %s' % n, code='T%s' % n,
        per_user_limit=0)
    ticket.save()
    ticket.click('put_on_shelf')
    tickets.append(ticket)
sellers = []
for kind in ['wechat_mp', 'window']:
    seller = Seller(name=kind, kind=kind)
    seller.tickets.extend(Ticket(t.id) for t in tickets)
    seller.save()
    sellers.append(seller)
today = dt.datetime.now(ZoneInfo('Asia/Shanghai')).date()
plan = Plan(name='plan', start_date=today,
    end_date=today + dt.timedelta(days=5), advance_days=3)
plan.sessions.new(name='am', checkin_start=dt.time(8),
    checkin_end=dt.time(12), capacity=500)
plan.tickets.extend(Ticket(t.id) for t in tickets)
plan.save()
plan.click('activate')
slot, = Slot.find([('plan', '=', plan.id),
        ('date', '=', today + dt.timedelta(days=1))])
print(json.dumps({'tickets': [t.id for t in tickets],
    'sellers': [s.id for s in sellers], 'slot': slot.id}))
'''

# Clients released together; each books through its (seller, ticket)
# with its visitors and the account the server established.
RACE = '''
import json, threading
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.modules.zl_reservation.exceptions import BookingError
jobs = json.loads(%(jobs)r)
Pool(%(db)r).init()
barrier, answers = threading.Barrier(len(jobs)), []
def client(job):
    barrier.wait()
    with Transaction().start(%(db)r, 0, context={}):
        Booking = Pool().get('zl.booking')
        try:
            Booking.book(job['request'], job['seller'],
                account=job['account'])
            answers.append('booked')
        except BookingError as error:
            answers.append(error.code)
threads = [threading.Thread(target=client, args=(j,)) for j in jobs]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(sorted(answers)))
'''


@pytest.fixture
def site(pg_database, pg_config):
    ids = json.loads(run_proteus(pg_config, pg_database, SETUP))
    return pg_config, pg_database, ids


def race(site, jobs):
    config, db, _ = site
    return json.loads(run_proteus(config, db, RACE % {
                'jobs': json.dumps(jobs), 'db': db}).splitlines()[-1])


def job(ids, n, seqs, account=None):
    "Client n: seller and ticket alternate, visitors seqs"
    return {'seller': ids['sellers'][n % 2],
        'account': account,
        'request': {
            'ticket': ids['tickets'][n % len(ids['tickets'])],
            'slot': ids['slot'],
            'visitors': [{'name': 'v%s' % s, 'id_type': 'resident_id',
                    'id_number': resident_id(s)} for s in seqs]}}


def test_account_people_per_day_under_race(site):
    """One account booking 10 different visitors at once on two channels
    and four tickets, 3 people per day: exactly 3"""
    _, _, ids = site
    jobs = [job(ids, n, [100 + n], account='web.user,7') for n in range(10)]
    answers = race(site, jobs)
    assert answers == ['account_limit'] * 7 + ['booked'] * 3


def test_one_booking_per_id_under_race(site):
    """One ID on 8 clients (two channels, four tickets) on one date, one
    booking per ID per day: exactly one"""
    _, _, ids = site
    jobs = [job(ids, n, [200]) for n in range(8)]
    answers = race(site, jobs)
    # Two clients share each ticket: the second on the same ticket meets
    # the older per-ticket rule (duplicate_visitor) first.
    assert answers.count('booked') == 1, answers
    assert set(answers) == {'booked', 'id_limit', 'duplicate_visitor'}
