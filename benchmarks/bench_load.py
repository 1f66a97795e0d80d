"""Load: clients booking over JSON-RPC, and the raw-SQL ceiling."""
import base64
import http.client
import itertools
import json
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter

# bench_db puts tests/ on the path for zl_testing.
from bench_db import LOGIN, PASSWORD, pg
from bench_server import CPU
from zl_testing import BIN, resident_id

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


def fire_open(schedule, work):
    """Open loop: schedule is one list of planned offsets (s, ascending)
    per sender thread; each call work(thread, i) goes out at its planned
    time whatever the earlier answers, or at once when the sender is late.
    Return (elapsed, [(latency from the planned time, outcome)], [service
    times from the actual send]): queueing shows in the first latency."""
    results = [[] for _ in schedule]
    services = [[] for _ in schedule]
    barrier = threading.Barrier(len(schedule) + 1)
    start = [0.0]

    def loop(k):
        barrier.wait()
        for i, offset in enumerate(schedule[k]):
            planned = start[0] + offset
            delay = planned - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            outcome = work(k, i)
            done = time.perf_counter()
            results[k].append((done - planned, outcome))
            services[k].append(done - sent)

    threads = [threading.Thread(target=loop, args=(k,))
        for k in range(len(schedule))]
    for thread in threads:
        thread.start()
    start[0] = time.perf_counter() + 0.5  # every sender waits at its sleep
    barrier.wait()
    for thread in threads:
        thread.join()
    return (time.perf_counter() - start[0],
        [r for rs in results for r in rs], [s for ss in services for s in ss])


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
