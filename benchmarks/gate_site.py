"""The gate benchmark's site: a database of devices and distinct
single-use passes (proteus children), the gates' clients, the checks
of double entries and the raw-SQL ceiling (benchmarks/gate_bench.py)."""
import datetime as dt
import json
import sys
import threading
import uuid
from zoneinfo import ZoneInfo

from bench_db import pg
from bench_load import Client, fire, summary
from bench_server import CPU
from zl_testing import run_proteus

GATE_LOGIN = 'gate%03d'
GATES = 200  # online device accounts: the peak's gates; one more is offline
PER_BOOKING = 20  # visitors (passes) per booking of the setup
RACE = {'passes': 20, 'gates': 64}
WARM = 400
REDEEM = 'model.zl.gate.device.redeem'

SETUP = '''
import datetime as dt, json
from zoneinfo import ZoneInfo
Configuration = Model.get('zl.reservation.configuration')
Ticket = Model.get('zl.ticket')
Seller = Model.get('zl.seller')
Plan = Model.get('zl.reservation.plan')
Slot = Model.get('zl.reservation.slot')
Device = Model.get('zl.gate.device')

zone = Configuration(1).timezone
tickets = []
for code in ('ON', 'OFF'):  # the online gates' ticket, the offline gate's
    ticket = Ticket(name='Bench ' + code, code='B' + code, stock=-1,
        per_user_limit=0)
    ticket.save()
    ticket.click('put_on_shelf')
    tickets.append(ticket)
seller = Seller(name='Bench window', kind='window')
seller.tickets.extend(Ticket(t.id) for t in tickets)
seller.save()
# One session open all day: the server decides with its own clock.
today = dt.datetime.now(ZoneInfo(zone)).date()
plan = Plan(name='Bench day', start_date=today, end_date=today,
    advance_days=1)
plan.sessions.new(name='全天', checkin_start=dt.time(0),
    checkin_end=dt.time(23, 59, 59), capacity=10 ** 7)
plan.tickets.extend(Ticket(t.id) for t in tickets)
plan.save()
plan.click('activate')
slot, = Slot.find([('plan', '=', plan.id), ('date', '=', today)])
devices = []
for n in range(GATES + 1):
    # One password hashed (slow on purpose), copied to the others below.
    device = Device(code='G%03d' % n, name='Bench gate %03d' % n,
        login=LOGIN % n, **({} if n else {'password': PASSWORD}))
    device.tickets.append(Ticket(tickets[n == GATES].id))
    devices.append(device)
Device.save(devices)

print(json.dumps({'timezone': zone, 'seller': seller.id, 'slot': slot.id,
    'tickets': [t.id for t in tickets]}))
'''

# A child booking passes for JOBS [(ticket, first visitor, count)], one
# booking of PER_BOOKING visitors per transaction (each holds the slot's
# row from its update to its commit); the pass codes of each job into OUT.
BOOK = '''
import datetime as dt, json
from psycopg import IsolationLevel
from trytond.pool import Pool
from trytond.transaction import Transaction
from trytond.modules.zl_reservation.identity import make_resident_id
READ_COMMITTED = IsolationLevel.READ_COMMITTED

def number(n):
    # Adults (born in the 1980s): no child or senior notice on the answer.
    birth = dt.date(1980, 1, 1) + dt.timedelta(days=n // 999)
    return make_resident_id(birth=birth.strftime('%Y%m%d'),
        seq='%03d' % (n % 999 + 1))

def book(ticket, first, count):
    codes = []
    for start in range(first, first + count, PER_BOOKING):
        with Transaction().start(config.database_name, 0,
                context={'_zl_decide': True}) as transaction:
            # As the server books: READ COMMITTED, the other child's
            # bookings update the same slot row.
            transaction.connection.rollback()
            transaction.connection.isolation_level = READ_COMMITTED
            booking = Pool().get('zl.booking').book({'ticket': ticket,
                    'slot': SLOT, 'visitors': [
                        {'name': '张三', 'id_type': 'resident_id',
                            'id_number': number(n)}
                        for n in range(start,
                            min(start + PER_BOOKING, first + count))]},
                SELLER)
            transaction.commit()
        codes.extend(p['code'] for p in booking['passes'])
    return codes
with open(OUT, 'w') as out:
    json.dump([book(*job) for job in JOBS], out)
'''
BOOKERS = 2  # proteus children booking at once (one per core)

# Passes with more entries than uses; passes whose uses left disagree
# with their check-ins that spent a use.
DOUBLE = '''
SELECT count(*) FROM (SELECT c.pass_ FROM zl_gate_checkin c
    JOIN zl_pass p ON p.id = c.pass_
    WHERE c.result = 'ok' AND c.kind = 'entry' AND NOT c.annulled
    GROUP BY c.pass_, p.uses HAVING count(*) > p.uses) AS d
'''
DRIFT = '''
SELECT count(*) FROM zl_pass p LEFT JOIN (
    SELECT pass_, count(*) AS n FROM zl_gate_checkin
    WHERE consumed AND NOT annulled GROUP BY pass_) AS c ON c.pass_ = p.id
WHERE p.uses - p.uses_left <> coalesce(c.n, 0)
'''
# The raw ceiling's scratch copies: the passes as booked, an empty
# check-in table with the same columns, indexes and constraints (no
# foreign keys).
SCRATCH = [
    'CREATE TABLE bench_pass (LIKE zl_pass INCLUDING ALL)',
    'INSERT INTO bench_pass SELECT * FROM zl_pass',
    'CREATE TABLE bench_checkin (LIKE zl_gate_checkin INCLUDING ALL)',
    'ANALYZE bench_pass',
]
RAW_UPDATE = ("UPDATE bench_pass SET uses_left = uses_left - 1, "
    "state = CASE WHEN uses_left = 1 THEN 'used' ELSE 'valid' END, "
    "write_uid = 1, write_date = now() WHERE id = %s AND uses_left > 0 "
    "AND state IN ('valid', 'expired') RETURNING ticket, slot, date")
RAW_INSERT = ("INSERT INTO bench_checkin (device, pass_, ticket, slot, "
    "date, scanned_at, kind, result, admits, consumed, scan_id, mode, "
    "annulled, conflict, answer, create_uid, create_date) VALUES (%s, %s, "
    "%s, %s, %s, now(), 'entry', 'ok', 1, true, %s, 'online', false, "
    "false, %s, 1, now())")


class Site:
    "The server, the database and the passes still to scan"

    def __init__(self, server, database, info):
        self.server, self.database = server, database
        self.zone = ZoneInfo(info['timezone'])
        self.codes = info['online']

    def now(self):
        "The site's wall clock, as a gate set to the site's time has it"
        return dt.datetime.now(self.zone).replace(tzinfo=None)

    def take(self, n):
        if n > len(self.codes):
            sys.exit(f'out of passes: {n} wanted, {len(self.codes)} left')
        taken, self.codes = self.codes[:n], self.codes[n:]
        return taken

    def login(self, n):
        "n gates, each logged in with its own device account"
        clients = [None] * n

        def run(k):
            clients[k] = Client(self.server.port, self.database,
                GATE_LOGIN % k)
        for first in range(0, n, 16):
            threads = [threading.Thread(target=run, args=(k,))
                for k in range(first, min(first + 16, n))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return clients

    def redeem(self, client, code):
        "'ok', the refusal's reason, or the error's code"
        try:
            answer = client.call(REDEEM, [code, {
                        'scan_id': uuid.uuid4().hex,
                        'scanned_at': self.now().isoformat(
                            timespec='seconds'),
                        'dry_run': False}, {}])
        except RuntimeError as error:
            return error.args[0]
        if 'error' in answer:
            return answer['error'].get('code', 'error')
        return 'ok' if answer['result'] == 'ok' else answer['reason']

    @staticmethod
    def floor(client):
        """redeem without arguments: the gate method finds the calling
        device (one indexed SELECT) and refuses, invalid_request"""
        try:
            answer = client.call(REDEEM, [{}])
        except RuntimeError as error:
            return error.args[0]
        code = answer.get('error', {}).get('code')
        return 'ok' if code == 'invalid_request' else str(code)

    def measure(self, clients, work, duration, attempts):
        with CPU(self.server, self.database) as cpu:
            elapsed, results = fire(len(clients), work, duration, attempts)
        return summary(elapsed, results, cpu)

    def check(self):
        "(double entries, drift) over every pass"
        with pg(self.database) as conn:
            return tuple(conn.execute(q).fetchone()[0]
                for q in (DOUBLE, DRIFT))


def raw(database, pass_ids, n, duration, answer):
    """PostgreSQL alone: per scan the pass's conditional UPDATE and one
    check-in INSERT, committed, N threads with a connection each, on the
    scratch copies (uses given back first)"""
    with pg(database, autocommit=True) as conn:
        conn.execute("UPDATE bench_pass SET uses_left = uses, "
            "state = 'valid'")
        conn.execute('VACUUM ANALYZE bench_pass')
    conns = [pg(database) for _ in range(n)]

    def work(k, i):
        conn = conns[k]
        with conn.cursor() as cur:
            row = cur.execute(RAW_UPDATE, (pass_ids[i],)).fetchone()
            if row is None:
                conn.rollback()
                return 'already_used'
            cur.execute(RAW_INSERT, (k + 1, pass_ids[i], *row,
                    uuid.uuid4().hex, answer))
        conn.commit()
        return 'ok'
    try:
        with CPU(None, database) as cpu:
            elapsed, results = fire(n, work, duration, len(pass_ids))
    finally:
        for conn in conns:
            conn.close()
    return summary(elapsed, results, cpu)


def book(config, database, info, counts, workdir):
    """counts[i] passes of the info's i-th ticket (visitor numbers one
    after the other), booked by BOOKERS children at once; their codes"""
    jobs = [[] for _ in range(BOOKERS)]
    first = 0
    for ticket, count in zip(info['tickets'], counts):
        share = -(-count // BOOKERS)
        for k in range(BOOKERS):
            jobs[k].append((ticket, first + k * share,
                    max(0, min(share, count - k * share))))
        first += count

    def run(k):
        run_proteus(config, database,
            f'SLOT, SELLER = {info["slot"]}, {info["seller"]}\n'
            f'PER_BOOKING = {PER_BOOKING}\n'
            f'OUT = {str(workdir / f"codes-{k}.json")!r}\n'
            f'JOBS = {jobs[k]!r}\n' + BOOK)
    threads = [threading.Thread(target=run, args=(k,))
        for k in range(BOOKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = [[] for _ in counts]
    for k in range(BOOKERS):
        for i, job in enumerate(json.loads(
                    (workdir / f'codes-{k}.json').read_text())):
            codes[i].extend(job)
    if [len(c) for c in codes] != list(counts):
        sys.exit(f'booked {[len(c) for c in codes]} passes, not {counts}')
    return codes
