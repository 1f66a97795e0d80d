#!/usr/bin/env python3
"""Gate scans per second of zl_gate over JSON-RPC under gunicorn, next to
Tryton's floor and the raw PostgreSQL ceiling, then an open-loop morning
peak and the offline verifier, all measured in the same run.

    .venv/bin/python benchmarks/gate_bench.py [--quick]
        [--levels 1,4,16,64] [--keep-db] [--workers 2 --threads 1]

It creates a PostgreSQL database (peer authentication, `postgresql:///`),
activates zl_gate, books tens of thousands of distinct single-use passes
for today's all-day session and gives every gate device its own account
(proteus, in process), starts gunicorn, and has N gates scan distinct
passes at once (saturation), 200 gates scan at a planned rate (peak), and
an offline gate decide from its bundle. See benchmarks/README.md.
"""
import argparse
import datetime as dt
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from bench_db import PASSWORD, drop, new_database, pg
from bench_load import Client, fire, fire_open, summary
from bench_server import CPU, Server, machine_busy
from booking_bench import cores, others
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


def rate(result):
    return result['ok'] / result['elapsed']


def saturation(site, args, duration, answer):
    print(f'\n(a) saturation: N gates scanning distinct passes, '
        f'{duration:g} s or {args.attempts} scans per level; floor: '
        f'redeem without arguments, {duration:g} s; raw ceiling '
        f'{duration / 2:g} s\n{HEADER}', flush=True)
    with pg(site.database) as conn:
        pass_ids = [r[0] for r in conn.execute(
                'SELECT id FROM bench_pass ORDER BY id')]
    figures = {}
    for n in args.levels:
        clients = site.login(n)
        codes = site.take(args.attempts)
        try:
            scans = site.measure(clients,
                lambda k, i: site.redeem(clients[k], codes[i]), duration,
                len(codes))
            floor = site.measure(clients,
                lambda k, i: site.floor(clients[k]), duration, 10 ** 6)
        finally:
            for client in clients:
                client.close()
        # What a level did not scan is not lost: later parts take it.
        site.codes = codes[scans['attempts']:] + site.codes
        check = site.check()
        ceiling = raw(site.database, pass_ids, n, duration / 2, answer)
        print(level_line(n, scans, check, floor, ceiling), flush=True)
        figures[n] = {'scans': scans, 'double': check[0],
            'drift': check[1], 'floor': floor, 'raw': ceiling}
    return figures


HEADER = (f'{"N":>3} {"scans":>6} {"ok/s":>6} {"p50":>5} {"p99":>6} '
    f'{"double":>6} {"drift":>5} {"cores w/pg/cl/else":>19} '
    f'{"floor/s":>7} {"p50":>5} {"p99":>6} {"raw/s":>6} {"p50":>5} '
    f'{"p99":>6} {"ok/fl":>5} {"ok/raw":>6}  other answers')


def level_line(n, scans, check, floor, ceiling):
    return (f'{n:>3} {scans["attempts"]:>6} {rate(scans):>6.1f} '
        f'{scans["p50"]:>5.1f} {scans["p99"]:>6.1f} {check[0]:>6} '
        f'{check[1]:>5} {cores(scans):>19} {rate(floor):>7.1f} '
        f'{floor["p50"]:>5.1f} {floor["p99"]:>6.1f} {rate(ceiling):>6.0f} '
        f'{ceiling["p50"]:>5.1f} {ceiling["p99"]:>6.1f} '
        f'{rate(scans) / rate(floor):>5.0%} '
        f'{rate(scans) / rate(ceiling):>6.0%}  {others(scans)}'
        + (f' floor: {others(floor)}' if floor['errors'] else '')
        + (f' raw: {others(ceiling)}' if ceiling['errors'] else ''))


def race(site):
    "Every gate scans the same pass at once, pass after pass"
    clients = site.login(RACE['gates'])
    codes = site.take(RACE['passes'])
    answers = [[None] * len(codes) for _ in clients]
    barrier = threading.Barrier(len(clients))

    def run(k):
        for j, code in enumerate(codes):
            barrier.wait()
            answers[k][j] = site.redeem(clients[k], code)
    threads = [threading.Thread(target=run, args=(k,))
        for k in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    oks = [sum(a[j] == 'ok' for a in answers) for j in range(len(codes))]
    outcomes = Counter(x for a in answers for x in a)
    print(f'\nrace: {len(codes)} passes, each scanned by {len(clients)} '
        f'gates at once: ok {sum(oks)} (1 per pass: '
        f'{"yes" if set(oks) == {1} else "NO " + str(oks)}), '
        + ' '.join(f'{k}={v}' for k, v in sorted(outcomes.items())),
        flush=True)
    return {'oks': oks, 'outcomes': dict(outcomes)}


def peak(site, scan_rate, duration):
    """200 gates, each with its own session, scanning every 200 / rate
    seconds from a random phase: the site's arrivals at scan_rate/s"""
    clients = site.login(GATES)
    period = GATES / scan_rate
    rng = random.Random(2026)
    schedule = []
    for _ in range(GATES):
        phase = rng.uniform(0, period)
        schedule.append([phase + k * period
                for k in range(int((duration - phase) / period) + 1)])
    starts = [0]
    for offsets in schedule:
        starts.append(starts[-1] + len(offsets))
    codes = site.take(starts[-1])
    try:
        with CPU(site.server, site.database) as cpu:
            elapsed, results, services = fire_open(schedule,
                lambda k, i: site.redeem(clients[k], codes[starts[k] + i]))
    finally:
        for client in clients:
            client.close()
    result = summary(elapsed, results, cpu)
    services.sort()
    result['service_p50'], result['service_p99'] = (
        services[int(q * len(services))] * 1000 for q in (.5, .99))
    check = site.check()
    print(f'\n(b) peak, open loop: {scan_rate:g} scans/s planned over '
        f'{GATES} gates for {duration:g} s: {result["attempts"]} scans, '
        f'ok {result["ok"]}, achieved {rate(result):.1f} ok/s; from the '
        f'planned time p50 {result["p50"]:.1f} ms, p99 '
        f'{result["p99"]:.1f} ms (from the send: p50 '
        f'{result["service_p50"]:.1f}, p99 {result["service_p99"]:.1f}); '
        f'cores w/pg/cl/else {cores(result)}; double {check[0]}, drift '
        f'{check[1]}; {others(result)}', flush=True)
    return {**result, 'double': check[0], 'drift': check[1]}


def offline(site, codes, duration, workdir):
    "OfflineGate on one core: the bundle over RPC, then scans for duration"
    from trytond.modules.zl_gate.offline import OfflineGate
    from trytond.modules.zl_gate.simulator import GateClient
    started = time.perf_counter()
    client = GateClient(site.server.url, site.database, GATE_LOGIN % GATES,
        PASSWORD, timeout=600)
    bundle = client.offline_bundle(None)
    fetched = time.perf_counter() - started
    size = len(json.dumps(bundle, ensure_ascii=False).encode())
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(affinity)})
    figures = {'bundle_s': fetched, 'bundle_mb': size / 2 ** 20,
        'passes': len(bundle['passes'])}
    try:
        with OfflineGate(str(workdir / 'offline-gate.sqlite')) as gate:
            started = time.perf_counter()
            gate.load_bundle(bundle, received_at=site.now())
            figures['load_s'] = time.perf_counter() - started
            # What bounds a recorded scan: one SQLite commit each.
            figures['sqlite'] = '%s, synchronous %s' % tuple(
                gate.store.connection.execute(f'PRAGMA {p}').fetchone()[0]
                for p in ('journal_mode', 'synchronous'))
            print(f'\n(c) offline verifier on one core: bundle of '
                f'{figures["passes"]} passes, {figures["bundle_mb"]:.1f} '
                f'MiB, fetched in {fetched:.1f} s, loaded in '
                f'{figures["load_s"]:.1f} s; SQLite journal '
                f'{figures["sqlite"]}; distinct codes, {duration:g} s or '
                f'{len(codes)} codes each', flush=True)
            for dry_run in (True, False):
                latencies, outcomes = [], Counter()
                cpu = time.thread_time()
                started = time.perf_counter()
                for code in codes:
                    begin = time.perf_counter()
                    if begin - started > duration:
                        break
                    answer = gate.scan(code, now=site.now(),
                        dry_run=dry_run)
                    latencies.append(time.perf_counter() - begin)
                    outcomes[answer['reason'] or answer['result']] += 1
                elapsed = time.perf_counter() - started
                cpu = (time.thread_time() - cpu) / elapsed
                latencies.sort()
                result = {'decisions': len(latencies),
                    'per_s': len(latencies) / elapsed,
                    'p50_us': latencies[len(latencies) // 2] * 1e6,
                    'p99_us': latencies[int(.99 * len(latencies))] * 1e6,
                    'cpu': cpu, 'outcomes': dict(outcomes)}
                figures['dry_run' if dry_run else 'real'] = result
                print(f'  dry_run={dry_run!s:<5} {result["decisions"]:>6} '
                    f'decisions, {result["per_s"]:>7.0f}/s, p50 '
                    f'{result["p50_us"]:.0f} µs, p99 {result["p99_us"]:.0f}'
                    f' µs, CPU {cpu:.0%} of the core; '
                    + ' '.join(f'{k}={v}' for k, v in outcomes.items()),
                    flush=True)
    finally:
        os.sched_setaffinity(0, affinity)
    return figures


def arguments():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true',
        help='3 s levels, a 15 s peak, 3 s offline (default 10, 60, 10)')
    parser.add_argument('--levels', default='1,4,16,64',
        help='concurrent gates of (a), comma separated')
    parser.add_argument('--duration', type=float,
        help='seconds per level of (a) (default 10, quick 3)')
    parser.add_argument('--attempts', type=int,
        help='at most this many scans per level (default 400 a second '
        'of --duration: passes are booked for them)')
    parser.add_argument('--rate', type=float, default=100,
        help='planned scans per second of the peak (default 100)')
    parser.add_argument('--peak', type=float,
        help='seconds of the peak (default 60, quick 15)')
    parser.add_argument('--offline', type=float,
        help='seconds per offline measure (default 10, quick 3)')
    parser.add_argument('--offline-passes', type=int,
        help='passes the offline gate holds (default 30000, quick 10000)')
    parser.add_argument('--parts', default='a,race,b,c',
        help='among a, race, b, c (default all)')
    parser.add_argument('--keep-db', action='store_true',
        help='keep the database (its name is printed)')
    parser.add_argument('--workers', type=int, default=2,
        help='gunicorn workers (default 2, one per core)')
    parser.add_argument('--threads', type=int, default=1,
        help='threads per worker; above 1 uses gthread (default 1: sync)')
    parser.add_argument('--app', default='trytond.application:app',
        help='WSGI application to serve (see booking_bench.py)')
    parser.add_argument('--profile', type=Path, metavar='DIR',
        help='serve with one worker under cProfile: DIR/worker.prof '
        '(figures of such a run are lower)')
    parser.add_argument('--json', type=Path,
        help='also write the figures to this file')
    args = parser.parse_args()
    args.levels = [int(n) for n in args.levels.split(',')]
    args.parts = set(args.parts.split(','))
    args.duration = args.duration or (3 if args.quick else 10)
    args.attempts = args.attempts or int(400 * args.duration)
    args.peak = args.peak or (15 if args.quick else 60)
    args.offline = args.offline or (3 if args.quick else 10)
    args.offline_passes = args.offline_passes or (
        10000 if args.quick else 30000)
    return args


def main():
    args = arguments()
    online = WARM + RACE['passes'] + int(args.rate * args.peak) + GATES
    if 'a' in args.parts:
        online += len(args.levels) * args.attempts
    database = f'zl_bench_{uuid.uuid4().hex[:8]}'
    workdir = Path(tempfile.mkdtemp(prefix='zl-gate-bench-'))
    started = time.monotonic()
    print(f'database {database}, logs in {workdir}', flush=True)
    busy = machine_busy()
    time.sleep(1)
    if (busy := machine_busy() - busy) > 0.3:
        print(f'warning: {busy:.1f} cores busy before the run: other work '
            'will skew the figures (see column else)', flush=True)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        (args.profile / 'claimed').unlink(missing_ok=True)
        os.environ['ZL_BENCH_PROFILE'] = str(args.profile.resolve())
        os.environ['PYTHONPATH'] = os.pathsep.join(filter(None, [
                    str(Path(__file__).resolve().parent),
                    os.environ.get('PYTHONPATH')]))
        args.app = 'bench_server:profiled_app'
    server, failed, figures = None, True, {}
    try:
        config = new_database(workdir, database, 'zl_gate')
        print(f'database ready in {time.monotonic() - started:.0f} s; '
            f'booking {online + args.offline_passes} passes', flush=True)
        booked = time.monotonic()
        info = json.loads(run_proteus(config, database,
                f'LOGIN, PASSWORD, GATES = {GATE_LOGIN!r}, {PASSWORD!r}, '
                f'{GATES}\n' + SETUP).splitlines()[-1])
        with pg(database) as conn:
            conn.execute('UPDATE res_user SET password_hash = ('
                'SELECT password_hash FROM res_user WHERE login = %s) '
                'WHERE login LIKE %s', (GATE_LOGIN % 0, 'gate%'))
        print(f'site and {GATES + 1} devices in '
            f'{time.monotonic() - booked:.0f} s', flush=True)
        booked = time.monotonic()
        info['online'], info['offline'] = book(config, database, info,
            [online, args.offline_passes], workdir)
        booked = time.monotonic() - booked
        print(f'booked in {booked:.0f} s '
            f'({(online + args.offline_passes) / booked:.0f} passes/s)',
            flush=True)
        with pg(database) as conn:
            for statement in SCRATCH:
                conn.execute(statement)
        server = Server(config, database, workdir, args)
        print('gunicorn ' + ' '.join(server.argv[1:]), flush=True)
        site = Site(server, database, info)
        # One scan alone (lazily created keys and caches), then every
        # worker warmed up.
        client, = site.login(1)
        answer = client.call(REDEEM, [site.take(1)[0], {}, {}])
        client.close()
        if answer.get('result') != 'ok':
            sys.exit(f'the first scan failed: {answer}')
        clients = site.login(4)
        codes = site.take(WARM - 1)
        site.measure(clients, lambda k, i: site.redeem(clients[k], codes[i]),
            2, len(codes))
        for client in clients:
            client.close()
        answer = json.dumps(answer, ensure_ascii=False)
        if 'a' in args.parts:
            figures['a'] = saturation(site, args, args.duration, answer)
        if 'race' in args.parts:
            figures['race'] = race(site)
        if 'b' in args.parts:
            figures['b'] = peak(site, args.rate, args.peak)
        if 'c' in args.parts:
            figures['c'] = offline(site, info['offline'], args.offline,
                workdir)
        double, drift = site.check()
        failed = bool(double or drift or (
                'race' in figures and set(figures['race']['oks']) != {1}))
        print(f'\nwhole run: double entries {double}, drift {drift}',
            flush=True)
        report_targets(figures)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
    finally:
        if server:
            server.stop()
        if args.keep_db:
            print(f'kept database {database}')
        else:
            drop(database)
    if args.profile and (args.profile / 'worker.prof').exists():
        import pstats
        print(f'\nprofile of one worker: {args.profile}/worker.prof')
        pstats.Stats(str(args.profile / 'worker.prof')).sort_stats(
            'tottime').print_stats(25)
    print(f'done in {time.monotonic() - started:.0f} s'
        + (': FAILED (double entry, drift or race)' if failed else ''))
    return 1 if failed else 0


def report_targets(figures):
    lines = []
    if 'a' in figures:
        best = max(rate(f['scans']) for f in figures['a'].values())
        floor = max(rate(f['floor']) for f in figures['a'].values())
        lines.append(f'(a) best {best:.1f} ok/s = {best / floor:.0%} of '
            f'the best floor {floor:.1f}/s (target >= 50 %): '
            + ('met' if best >= floor / 2 else 'NOT met'))
    if 'b' in figures:
        p99 = figures['b']['p99']
        lines.append(f'(b) p99 {p99:.1f} ms (target < 50 ms): '
            + ('met' if p99 < 50 else 'NOT met'))
    if 'c' in figures:
        per_s = figures['c']['real']['per_s']
        lines.append(f'(c) {per_s:.0f} decisions/s recorded (target >= '
            f'5,000/s): ' + ('met' if per_s >= 5000 else 'NOT met'))
    print('targets (2 cores):\n  ' + '\n  '.join(lines), flush=True)


if __name__ == '__main__':
    sys.exit(main())
