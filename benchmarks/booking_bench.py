#!/usr/bin/env python3
"""Booking throughput of zl_reservation over JSON-RPC under gunicorn, next
to the raw PostgreSQL ceiling measured on the same machine in the same run.

    .venv/bin/python benchmarks/booking_bench.py [--quick]
        [--levels 1,8,32,64] [--keep-db] [--workers 2 --threads 1]

It creates a PostgreSQL database (peer authentication, `postgresql:///`),
activates zl_reservation, loads a ticket, a window seller with its users
and a reservation plan with proteus, starts gunicorn and books from N
concurrent clients (own connection, own session), on one hot slot, then
spread over many slots, each level bounded in time and attempts; then the
Tryton floor and a sold-out slot. See benchmarks/README.md.
"""
import argparse
import base64
import datetime as dt
import http.client
import itertools
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import uuid
from collections import Counter
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tests'))
from zl_testing import (  # noqa: E402
    BIN,
    child_env,
    free_port,
    rpc,
    run_proteus,
    trytond_admin,
    write_config,
)

from trytond.modules.zl_reservation.identity import (  # noqa: E402
    make_resident_id,
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


# Valid resident ID numbers (GB 11643) -------------------------------------

def resident_id(n):
    "The n-th distinct ID: 999 sequence numbers for each birth date"
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=n // 999)
    return make_resident_id(
        birth=birth.strftime('%Y%m%d'), seq='%03d' % (n % 999 + 1))


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
sales, = Group.find([('name', '=', 'Sales')])
users = []
for i in range(USERS):
    user = User(login=LOGIN % i, name='Bench %02d' % i, password=PASSWORD)
    user.groups.append(Group(sales.id))
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


def create(workdir, database, users):
    config = write_config(workdir / 'trytond.conf', 'postgresql:///')
    with pg(autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    trytond_admin(config, database, '--all', '-u', MODULE,
        '--activate-dependencies', '--email', 'admin@example.com')
    code = (f'LOGIN, PASSWORD, USERS = {LOGIN!r}, {PASSWORD!r}, {users}\n'
        f'BIG, SESSIONS = {BIG}, {SESSIONS}\n'
        f'CAPACITY = {SOLD_OUT["capacity"]}\n' + SETUP)
    info = json.loads(run_proteus(config, database, code).splitlines()[-1])
    # Scratch tables of the raw-SQL ceiling: a booking and its pass.
    with pg(database) as conn:
        conn.execute('CREATE TABLE bench_booking (id serial PRIMARY KEY, '
            'slot integer NOT NULL, number varchar NOT NULL, '
            'idempotency_key varchar UNIQUE, '
            'create_date timestamp DEFAULT now())')
        conn.execute('CREATE TABLE bench_pass (id serial PRIMARY KEY, '
            'booking integer NOT NULL REFERENCES bench_booking, '
            'code varchar UNIQUE, id_number varchar, uses_left integer)')
    return config, info


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


# Server -----------------------------------------------------------------

class Server:
    "gunicorn serving database; its workers' RSS and CPU from /proc"

    def __init__(self, config, database, workdir, args):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.argv = [
            str(BIN / 'gunicorn'), '--no-control-socket',
            '--bind', f'127.0.0.1:{self.port}',
            '--workers', str(args.workers),
            '--worker-class', 'gthread' if args.threads > 1 else 'sync',
            '--threads', str(args.threads),
            # Room for every client's connection at once; the kernel caps
            # it at net.core.somaxconn anyway.
            '--backlog', '2048',
            # A booking waits at most for the hot row's queue; a worker
            # silent for 60 s is stuck, not busy.
            '--timeout', '60', '--graceful-timeout', '10',
            # gthread only: keep the clients' connections across requests
            # (sync workers close after each response whatever we say).
            '--keep-alive', '30',
            args.app]
        env = {**child_env(), 'TRYTOND_CONFIG': str(config),
            # Workers load the pool at start-up: a lazily initialised pool
            # answers logins with KeyError 'res.user' (trytond 8.0.12).
            'TRYTOND_DATABASE_NAMES': database}
        self.log = open(workdir / 'gunicorn.log', 'w+')
        self.proc = subprocess.Popen(self.argv, env=env,
            stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                rpc(self.url, 'common.db.list')
                break
            except (urllib.error.URLError, ConnectionError):
                if self.proc.poll() is not None \
                        or time.monotonic() > deadline:
                    self.stop()
                    self.log.seek(0)
                    sys.exit('gunicorn did not start:\n'
                        + self.log.read()[-4000:])
                time.sleep(0.3)
        # Every worker must have loaded the pool before we measure.
        while len(self.workers()) < args.workers:
            time.sleep(0.2)

    def workers(self):
        return [pid for pid in pids() if ppid(pid) == self.proc.pid]

    def rss(self):
        "Resident memory of the workers, in MiB"
        total = 0
        for pid in self.workers():
            for line in Path(f'/proc/{pid}/status').read_text().splitlines():
                if line.startswith('VmRSS:'):
                    total += int(line.split()[1])
        return total / 1024

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def pids():
    return [int(p) for p in os.listdir('/proc') if p.isdigit()]


def ppid(pid):
    try:
        stat = Path(f'/proc/{pid}/stat').read_text()
    except OSError:
        return None
    return int(stat.rsplit(')', 1)[1].split()[1])


def cpu_ticks(pid_list):
    "{pid: user + system CPU clock ticks} of the processes still alive"
    ticks = {}
    for pid in pid_list:
        try:
            fields = Path(f'/proc/{pid}/stat').read_text() \
                .rsplit(')', 1)[1].split()
        except OSError:
            continue
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def cpu_delta(before, after):
    "CPU seconds used between two cpu_ticks (exited processes left out)"
    ticks = sum(t - before.get(pid, 0) for pid, t in after.items())
    return ticks / os.sysconf('SC_CLK_TCK')


def postgres_pids(database):
    """PostgreSQL processes working for database: its backends and the
    shared ones (WAL writer, checkpointer...), not other databases'"""
    found = []
    for pid in pids():
        try:
            if Path(f'/proc/{pid}/comm').read_text().strip() != 'postgres':
                continue
            title = Path(f'/proc/{pid}/cmdline').read_text()
        except OSError:
            continue
        # Backends are titled 'postgres: 15/main: USER DATABASE [local] ...'
        if '[local]' not in title or f' {database} ' in title:
            found.append(pid)
    return found


def machine_busy():
    "CPU seconds the whole machine spent not idle (/proc/stat)"
    with open('/proc/stat') as stat:
        ticks = [int(t) for t in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf('SC_CLK_TCK')


class CPU:
    """Cores used during a measure by the workers, PostgreSQL (for this
    database), this client, and anything else on the machine: which side
    of the 2 cores is the bottleneck, and whether others disturbed us."""

    def __init__(self, server, database):
        self.server, self.database = server, database

    def __enter__(self):
        self.start = self.sample()
        return self

    def __exit__(self, *exc):
        end = self.sample()
        wall = end[0] - self.start[0]
        self.cores = [cpu_delta(s, e) / wall
            for s, e in zip(self.start[1:3], end[1:3])]
        self.cores += [(e - s) / wall
            for s, e in zip(self.start[3:], end[3:])]
        # Last: the rest of the machine (total minus ours).
        self.cores[3] = max(0, self.cores[3] - sum(self.cores[:3]))

    def sample(self):
        workers = self.server.workers() if self.server else []
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return (time.perf_counter(), cpu_ticks(workers),
            cpu_ticks(postgres_pids(self.database)),
            usage.ru_utime + usage.ru_stime, machine_busy())


# Clients ----------------------------------------------------------------

class Client:
    """One HTTP connection (kept alive where the server allows it: gthread;
    sync workers close it after each answer) and one Tryton session"""

    def __init__(self, port, database, login):
        self.port, self.path = port, f'/{database}/rpc/'
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=90)
        self.auth = None
        user_id, token = self.call(
            'common.db.login', [login, {'password': PASSWORD}, 'en'])[:2]
        self.auth = 'Session ' + base64.b64encode(
            f'{login}:{user_id}:{token}'.encode()).decode()

    def call(self, method, params):
        "Return the result; raise RuntimeError(code) for anything else"
        headers = {'Content-Type': 'application/json'}
        if self.auth:
            headers['Authorization'] = self.auth
        body = json.dumps({'id': 0, 'method': method, 'params': params})
        try:
            self.conn.request('POST', self.path, body, headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exception:
            # Dropped connection: the next request opens a new one.
            self.conn.close()
            raise RuntimeError(f'net:{type(exception).__name__}')
        if response.status != 200:
            raise RuntimeError(f'http:{response.status}')
        answer = json.loads(data)
        if answer.get('error'):
            raise RuntimeError(f'rpc:{answer["error"][0]}')
        return answer['result']

    def book(self, request):
        "The answer's code: 'ok' for a booking, else the error code"
        try:
            result = self.call('model.zl.booking.rpc_book', [request, {}])
        except RuntimeError as error:
            return error.args[0]
        if 'booking' in result:
            return 'ok'
        return result.get('error', {}).get('code', 'unexpected')

    def floor(self, request):
        """The cheapest authenticated write call: the booking method fed
        a non-dict, refused before any query of its own"""
        answer = self.book(None)
        return 'ok' if answer == 'invalid_request' else answer

    def close(self):
        try:
            self.call('common.db.logout', [])
        except RuntimeError:
            pass
        self.conn.close()


class Booker:
    "Makes the bookings' requests: every one with new visitor ID and key"

    def __init__(self, info):
        self.info = info
        self.counter = itertools.count()
        self.run = uuid.uuid4().hex[:8]

    def __call__(self, slot):
        n = next(self.counter)
        return {
            'seller': self.info['seller'], 'ticket': self.info['ticket'],
            'slot': slot,
            'visitors': [{'name': '张三', 'id_type': 'resident_id',
                    'id_number': resident_id(n), 'phone': '13800138000'}],
            'contact': {'name': '张三', 'phone': '13800138000'},
            'idempotency_key': f'{self.run}-{n}'}


def fire(n, work, duration, attempts):
    """Run work(thread, i) from n threads until duration seconds or the
    attempts are used; return (elapsed, [(latency, outcome)])."""
    counter = itertools.count()
    results = [[] for _ in range(n)]
    barrier = threading.Barrier(n + 1)
    deadline = [0]

    def loop(k):
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            i = next(counter)  # atomic under the GIL
            if i >= attempts:
                break
            start = time.perf_counter()
            outcome = work(k, i)
            results[k].append((time.perf_counter() - start, outcome))

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    deadline[0] = start + duration
    barrier.wait()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, [r for rs in results for r in rs]


class Bench:
    "Runs bookings against the server, optionally under py-spy"

    def __init__(self, server, database, booker, args):
        self.server, self.database, self.booker = server, database, booker
        self.one_user, self.py_spy = args.one_user, args.py_spy

    def book(self, slots, n, duration, attempts, method='book',
            profile=None):
        "Bookings from n clients spread round-robin over slots"
        clients = [None] * n

        def login(k):
            clients[k] = Client(self.server.port, self.database,
                LOGIN % (0 if self.one_user else k))
        threads = [threading.Thread(target=login, args=(k,))
            for k in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        spy = self.spy(profile)
        try:
            with CPU(self.server, self.database) as cpu:
                elapsed, results = fire(n, lambda k, i: getattr(
                        clients[k], method)(
                        self.booker(slots[i % len(slots)])),
                    duration, attempts)
        finally:
            if spy:
                spy.send_signal(signal.SIGINT)  # py-spy writes and exits
                spy.wait()
            for client in clients:
                client.close()
        return summary(elapsed, results, cpu)

    def spy(self, profile):
        "py-spy on the first worker: raw stacks for flamegraph/speedscope"
        if not (self.py_spy and profile):
            return None
        self.py_spy.mkdir(parents=True, exist_ok=True)
        spy = subprocess.Popen([BIN / 'py-spy', 'record', '--format', 'raw',
                '--rate', '200', '--output', self.py_spy / f'{profile}.txt',
                '--pid', str(self.server.workers()[0])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)  # attached before the first request
        return spy


# Raw-SQL ceiling --------------------------------------------------------

RAW_UPDATE = ('UPDATE zl_reservation_slot SET booked = booked + 1 '
    'WHERE id = %s AND booked + 1 <= capacity RETURNING booked')


def raw(database, booker, slots, n, duration, attempts):
    """What PostgreSQL alone does: per transaction, the conditional UPDATE
    of the slot, a booking and a pass (READ COMMITTED, one connection per
    thread, statements prepared by psycopg after a few runs)."""
    conns = [pg(database) for _ in range(n)]

    def work(k, i):
        conn, request = conns[k], booker(slots[i % len(slots)])
        with conn.cursor() as cur:
            if cur.execute(RAW_UPDATE, (request['slot'],)).fetchone() is None:
                conn.rollback()
                return 'sold_out'
            booking, = cur.execute('INSERT INTO bench_booking '
                '(slot, number, idempotency_key) VALUES (%s, %s, %s) '
                'RETURNING id', (request['slot'], request['idempotency_key'],
                    request['idempotency_key'])).fetchone()
            cur.execute('INSERT INTO bench_pass '
                '(booking, code, id_number, uses_left) '
                'VALUES (%s, %s, %s, 1)', (booking, uuid.uuid4().hex,
                    request['visitors'][0]['id_number']))
        conn.commit()
        return 'ok'
    try:
        with CPU(None, database) as cpu:
            elapsed, results = fire(n, work, duration, attempts)
    finally:
        for conn in conns:
            conn.close()
    return summary(elapsed, results, cpu)


# Report -----------------------------------------------------------------

def summary(elapsed, results, cpu):
    latencies = sorted(latency for latency, _ in results)
    outcomes = Counter(outcome for _, outcome in results)

    def percentile(p):
        if not latencies:
            return float('nan')
        return latencies[min(len(latencies) - 1,
                int(p * len(latencies)))] * 1000
    return {
        'attempts': len(results), 'ok': outcomes.pop('ok', 0),
        'elapsed': elapsed,
        'errors': dict(outcomes), 'p50': percentile(.5),
        'p99': percentile(.99), 'cores': cpu.cores}


def per_second(result):
    return result['ok'] / result['elapsed']


CORES = 'cores w/pg/cl/else'
HEADER = (f'{"N":>3} {"attempts":>8} {"ok/s":>7} {"p50":>6} {"p99":>6} '
    f'{"over":>4} {"drift":>5} {"RSS MiB":>7} {CORES:>19} '
    f'{"raw tx/s":>8} {"p50":>5} {"p99":>6} {"ratio":>5}  other answers')
FLOOR_HEADER = (f'{"N":>3} {"calls":>8} {"calls/s":>7} {"p50":>6} '
    f'{"p99":>6} {CORES:>19}  other answers')


def cores(result):
    return '/'.join('%.2f' % c for c in result['cores'])


def others(result):
    return ' '.join(f'{k}={v}' for k, v in
        sorted(result['errors'].items())) or '-'


def line(n, result, check, rss, raw_result):
    raw_rate = per_second(raw_result)
    return (f'{n:>3} {result["attempts"]:>8} '
        f'{per_second(result):>7.1f} {result["p50"]:>6.1f} '
        f'{result["p99"]:>6.1f} {check[0]:>4} {check[1]:>5} '
        f'{rss:>7.0f} {cores(result):>19} {raw_rate:>8.0f} '
        f'{raw_result["p50"]:>5.1f} {raw_result["p99"]:>6.1f} '
        f'{per_second(result) / raw_rate:>5.0%}  {others(result)}')


def floor_line(n, result):
    return (f'{n:>3} {result["attempts"]:>8} {per_second(result):>7.1f} '
        f'{result["p50"]:>6.1f} {result["p99"]:>6.1f} '
        f'{cores(result):>19}  {others(result)}')


def arguments():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true',
        help='3 s per level instead of 10 s')
    parser.add_argument('--levels', default='1,8,32,64',
        help='concurrent clients, comma separated (default 1,8,32,64)')
    parser.add_argument('--keep-db', action='store_true',
        help='keep the database (its name is printed)')
    parser.add_argument('--scenarios', default='hot,many,floor',
        help='among hot, many, floor (default: all three)')
    parser.add_argument('--duration', type=float,
        help='seconds per level (default 10, quick 3); the raw-SQL '
        'ceiling gets half')
    parser.add_argument('--attempts', type=int, default=20000,
        help='at most this many bookings per level (default 20000)')
    parser.add_argument('--workers', type=int, default=2,
        help='gunicorn workers (default 2, one per core)')
    parser.add_argument('--threads', type=int, default=1,
        help='threads per worker; above 1 uses gthread (default 1: sync)')
    parser.add_argument('--app', default='trytond.application:app',
        help='WSGI application to serve, e.g. a module (on PYTHONPATH) '
        'that imports trytond.application and patches what to try')
    parser.add_argument('--one-user', action='store_true',
        help='every client logs in as the same user')
    parser.add_argument('--py-spy', type=Path, metavar='DIR',
        help='record the first worker with py-spy at every level into '
        'DIR/<scenario>-<N>.txt (raw stacks)')
    parser.add_argument('--json', type=Path,
        help='also write the figures to this file')
    return parser.parse_args()


def main():
    args = arguments()
    levels = [int(n) for n in args.levels.split(',')]
    scenarios = args.scenarios.split(',')
    duration = args.duration or (3 if args.quick else 10)
    warm_clients = 2 * args.workers * args.threads
    users = max(levels + [SOLD_OUT['clients'], warm_clients])

    database = f'zl_bench_{uuid.uuid4().hex[:8]}'
    workdir = Path(tempfile.mkdtemp(prefix='zl-bench-'))
    started = time.monotonic()
    print(f'database {database}, logs in {workdir}', flush=True)
    busy = machine_busy()
    time.sleep(1)
    if (busy := machine_busy() - busy) > 0.3:
        print(f'warning: {busy:.1f} cores busy before the run: other work '
            'will skew the figures (see column else)', flush=True)
    server = None
    try:
        config, info = create(workdir, database, users)
        slots = allocate(info['slots'])
        print(f'database ready in {time.monotonic() - started:.0f} s',
            flush=True)
        server = Server(config, database, workdir, args)
        print('gunicorn ' + ' '.join(server.argv[1:]), flush=True)
        bench = Bench(server, database, Booker(info), args)
        # One booking alone first: whatever the module creates lazily (keys,
        # secrets) is created then, not in a race of the first level.
        first = bench.book(slots['warm'], 1, 60, 1)
        if first['ok'] != 1:
            sys.exit(f'the first booking failed: {first["errors"]}')
        # Warm every worker up (caches, prepared pool) before measuring.
        bench.book(slots['warm'], warm_clients, 2, 10 ** 6)
        figures = {'gunicorn': server.argv[1:], 'levels': {}}
        for scenario in scenarios:
            if scenario == 'floor':
                print(f'\nfloor: answer an invalid booking request, '
                    f'{duration:g} s per level\n{FLOOR_HEADER}', flush=True)
                for n in levels:
                    result = bench.book(slots['warm'], n, duration,
                        args.attempts, 'floor', f'floor-{n}')
                    print(floor_line(n, result), flush=True)
                    figures['levels'][f'floor-{n}'] = result
                continue
            rpc_slots, raw_slots = slots[scenario], slots[f'raw-{scenario}']
            print(f'\n{scenario}: {len(rpc_slots)} slot(s), '
                f'{duration:g} s or {args.attempts} attempts per level, '
                f'raw ceiling {duration / 2:g} s\n{HEADER}', flush=True)
            for n in levels:
                result = bench.book(rpc_slots, n, duration, args.attempts,
                    profile=f'{scenario}-{n}')
                check = oversold(database, rpc_slots)
                rss = server.rss()
                raw_result = raw(database, bench.booker, raw_slots, n,
                    duration / 2, args.attempts)
                if oversold(database, raw_slots, raw=True) != (0, 0):
                    sys.exit('the raw-SQL ceiling oversold: bench bug')
                print(line(n, result, check, rss, raw_result), flush=True)
                figures['levels'][f'{scenario}-{n}'] = {
                    'rpc': result, 'raw': raw_result,
                    'oversold': check[0], 'drift': check[1], 'rss': rss}

        # Sold out: more attempts than places; exactly capacity confirmed.
        result = bench.book(slots['sold-out'], SOLD_OUT['clients'], 300,
            SOLD_OUT['attempts'])
        check = oversold(database, slots['sold-out'])
        with pg(database) as conn:
            booked, = conn.execute(
                'SELECT booked FROM zl_reservation_slot WHERE id = %s',
                slots['sold-out']).fetchone()
        print(f'\nsold out: capacity {SOLD_OUT["capacity"]}, '
            f'{result["attempts"]} attempts from {SOLD_OUT["clients"]} '
            f'clients: confirmed {result["ok"]}, slot booked {booked}, '
            f'oversold {check[0]}, drift {check[1]}, '
            f'p50 {result["p50"]:.1f} ms, p99 {result["p99"]:.1f} ms, '
            f'{others(result)}', flush=True)
        figures['sold_out'] = {**result, 'booked': booked,
            'oversold': check[0], 'drift': check[1]}
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
        failed = (result['ok'] != SOLD_OUT['capacity']
            or booked != SOLD_OUT['capacity'] or any(
                v.get('oversold') or v.get('drift')
                for v in figures['levels'].values()))
    finally:
        if server:
            server.stop()
        if args.keep_db:
            print(f'kept database {database}')
        else:
            drop(database)
    print(f'done in {time.monotonic() - started:.0f} s'
        + (': FAILED (oversold, drift or sold-out count)' if failed else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
