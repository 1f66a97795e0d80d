"""Benchmark database: creation, data, and the checks that nothing was
oversold."""
import json
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tests'))
from zl_testing import (  # noqa: E402
    run_proteus,
    trytond_admin,
    write_config,
)

MODULE = 'zl_reservation'
# Each client logs in as its own window user (bench00, bench01...), like
# sales terminals do: ir.session.check loads every session of the user
# from the caller's address on each call, so 64 sessions of one user cost
# far more than one each (--one-user shows it).
LOGIN, PASSWORD = 'bench%02d', 'Bench-Pass-2026'
BIG = 10 ** 7  # capacity that no measured window can sell out
SOLD_OUT = dict(capacity=50, attempts=1000, clients=32)
MANY = 200  # slots the 'many' scenario spreads its attempts over
SESSIONS = 16  # sessions a day: 16 × 30 days leaves room for 2 × MANY slots



# Database -------------------------------------------------------------------

SETUP = '''
import datetime as dt, json
from zoneinfo import ZoneInfo
Configuration = Model.get('zl.reservation.configuration')
Group = Model.get('res.group')
User = Model.get('res.user')
UserGroup = Model.get('zl.user.group')
Permission = Model.get('zl.data.permission')
Ticket = Model.get('zl.ticket')
Seller = Model.get('zl.seller')
Plan = Model.get('zl.reservation.plan')
Slot = Model.get('zl.reservation.slot')

scope = UserGroup(code='BENCH', name='Bench')
scope.save()
permission = Permission(name='Bench: all data', all_data=True)
permission.user_groups.append(UserGroup(scope.id))
permission.save()
sales = role_groups('R04')
users = []
for i in range(USERS):
    user = User(login=LOGIN % i, name='Bench %02d' % i, password=PASSWORD)
    user.groups.extend([Group(g.id) for g in sales])
    user.zl_user_groups.append(UserGroup(scope.id))
    users.append(user)
User.save(users)

ticket = Ticket(name='Bench ticket', code='BENCH', stock=-1,
    per_user_limit=0)
ticket.save()
ticket.click('put_on_shelf')
seller = Seller(name='Bench window', kind='window')
seller.tickets.append(Ticket(ticket.id))
seller.users.extend(User(u.id) for u in users)
seller.save()

# Slots open and close in the site's time zone.
today = dt.datetime.now(ZoneInfo(Configuration(1).timezone)).date()
plan = Plan(name='Bench plan', start_date=today,
    end_date=today + dt.timedelta(days=60), advance_days=30)
plan.tickets.append(Ticket(ticket.id))
for i in range(SESSIONS):
    start = dt.time(8 + i // 2, 30 * (i % 2))
    end = dt.time(8 + (i + 1) // 2, 30 * ((i + 1) % 2))
    plan.sessions.new(name='S%02d' % i, checkin_start=start,
        checkin_end=end, capacity=BIG)
plan.save()
plan.click('activate')
# From tomorrow: today's early sessions may already be closed.
slots = Slot.find([('plan', '=', plan.id), ('date', '>', today)],
    order=[('date', 'ASC'), ('id', 'ASC')])
slot = slots[3]  # the sold-out case, see allocate()
slot.capacity = CAPACITY
slot.save()
print(json.dumps({'ticket': ticket.id, 'seller': seller.id,
    'slots': [s.id for s in slots]}))
'''


def allocate(slots):
    "Split the slots between the runs; each run has its own."
    assert len(slots) >= 4 + 2 * MANY, f'only {len(slots)} slots'
    return {
        'warm': slots[:1], 'hot': slots[1:2], 'raw-hot': slots[2:3],
        'sold-out': slots[3:4], 'many': slots[4:4 + MANY],
        'raw-many': slots[4 + MANY:4 + 2 * MANY]}


def pg(database='postgres', **kw):
    return psycopg.connect('postgresql:///', dbname=database, **kw)


def new_database(workdir, database, module=MODULE):
    "CREATE DATABASE with module activated; the trytond.conf to serve it"
    config = write_config(workdir / 'trytond.conf', 'postgresql:///')
    with pg(autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    trytond_admin(config, database, '--all', '-u', module,
        '--activate-dependencies', '--email', 'admin@example.com')
    return config


def create(workdir, database, users):
    config = new_database(workdir, database)
    code = (f'LOGIN, PASSWORD, USERS = {LOGIN!r}, {PASSWORD!r}, {users}\n'
        f'BIG, SESSIONS = {BIG}, {SESSIONS}\n'
        f'CAPACITY = {SOLD_OUT["capacity"]}\n' + SETUP)
    info = json.loads(run_proteus(config, database, code).splitlines()[-1])
    scratch_tables(database)
    return config, info


# 预约设置 → 参观规则 as a national museum publishes it (--policy): every
# booking then also takes the ID locks and reads what its IDs and account
# hold (tests/test_policy_races.py shows the rules hold under races).
POLICY = dict(account_people_per_day=5, account_bookings_per_day=3,
    id_one_per_day=True, id_bookings_max=3, id_bookings_days=30,
    booking_visitors_max=5,
    # Strikes: every booking reads its IDs' strikes (none here).
    strike_no_show=True, strike_limit=3, strike_days=30, restrict_days=30)


# The same settings, off (the defaults): --policy-ab switches between them.
NO_POLICY = {k: False if isinstance(v, bool) else 0
    for k, v in POLICY.items()}


def apply_policy(config, database, values=POLICY):
    "Write 预约设置 through Tryton: every worker's cache follows"
    run_proteus(config, database, (
            'Configuration = Model.get("zl.reservation.configuration")\n'
            'config = Configuration(1)\n'
            + ''.join(f'config.{k} = {v!r}\n' for k, v in values.items())
            + 'config.save()\n'))


def policy_ab(config, database, rounds, measure, values=POLICY):
    """The policy's cost on one code: measure() rounds times without the
    policy and with values, alternating in one run (same server, same
    database, same minutes of the VM, whose speed drifts over minutes);
    the pairs are (off, on) of each round"""
    runs = {'off': [], 'on': []}
    modes = [('off', NO_POLICY), ('on', values)]
    for round_ in range(rounds):
        # Off first, then on first, ...: a run that slows down as its
        # tables grow favours neither.
        for mode, settings in modes[::-1] if round_ % 2 else modes:
            apply_policy(config, database,
                {k: settings.get(k, v) for k, v in NO_POLICY.items()})
            # Every worker's cache follows through PostgreSQL's NOTIFY.
            time.sleep(1)
            result = measure()
            if result['errors']:
                sys.exit(f'{mode}: refused {result["errors"]}: bench bug')
            runs[mode].append(result)
    ratios = [rate(on) / rate(off)
        for off, on in zip(runs['off'], runs['on'])]
    return {'off': runs['off'], 'on': runs['on'], 'ratios': ratios,
        'median_ratio': statistics.median(ratios)}


def rate(result):
    return result['ok'] / result['elapsed']


AB_HEADER = (f'{"N":>3} {"off ok/s (p99)":>30} {"on ok/s (p99)":>30} '
    f'{"on/off each pair":>24} {"median":>7}')


def ab_line(n, ab):
    def column(mode):
        return ' '.join(f'{rate(r):.0f}({r["p99"]:.0f})' for r in ab[mode])
    pairs = ' '.join(f'{100 * (r - 1):+.0f}%' for r in ab['ratios'])
    return (f'{n:>3} {column("off"):>30} {column("on"):>30} {pairs:>24} '
        f'{100 * (ab["median_ratio"] - 1):>+6.0f}%')


def scratch_tables(database):
    "Scratch tables of the raw-SQL ceiling: a booking and its pass."
    with pg(database) as conn:
        conn.execute('CREATE TABLE bench_booking (id serial PRIMARY KEY, '
            'slot integer NOT NULL, number varchar NOT NULL, '
            'idempotency_key varchar UNIQUE, '
            'create_date timestamp DEFAULT now())')
        conn.execute('CREATE TABLE bench_pass (id serial PRIMARY KEY, '
            'booking integer NOT NULL REFERENCES bench_booking, '
            'code varchar UNIQUE, id_number varchar, uses_left integer)')


def drop(database):
    with pg(autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def oversold(database, slots, raw=False):
    """(oversold, drift) over slots: places sold beyond capacity, and the
    gaps between the slot's booked counter, the quantities of its holding
    bookings and its live passes (all three must agree)."""
    with pg(database) as conn:
        rows = conn.execute(RAW_QUERY if raw else QUERY,
            (slots,)).fetchall()
    over = sum(max(0, max(counts) - capacity)
        for capacity, *counts in rows)
    drift = sum(max(counts) - min(counts) for _, *counts in rows)
    return over, drift


# capacity, booked, places in holding bookings, live passes
QUERY = '''
SELECT s.capacity, s.booked,
    (SELECT coalesce(sum(b.quantity), 0) FROM zl_booking b
        WHERE b.slot = s.id AND b.state IN ('confirmed', 'used')),
    (SELECT count(*) FROM zl_pass p
        WHERE p.slot = s.id AND p.state IN ('valid', 'used'))
FROM zl_reservation_slot s WHERE s.id = ANY(%s)
'''
RAW_QUERY = '''
SELECT s.capacity, s.booked,
    (SELECT count(*) FROM bench_booking b WHERE b.slot = s.id),
    (SELECT count(*) FROM bench_pass p JOIN bench_booking b
        ON p.booking = b.id WHERE b.slot = s.id)
FROM zl_reservation_slot s WHERE s.id = ANY(%s)
'''
