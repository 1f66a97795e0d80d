"""The visitor benchmark's site: a mini-program seller and its sessions
(a proteus child), the visitors' HTTP clients, and the races whose counts
must be exact (benchmarks/visitor_bench.py)."""
import http.client
import itertools
import json
import threading
import uuid
from collections import Counter

from bench_db import pg
from bench_load import fire, summary
from bench_server import CPU
from zl_testing import resident_id

BIG = 10 ** 7  # capacity that no measured level can sell out
SOLD_OUT = {'capacity': 50, 'attempts': 1000, 'clients': 64}
LIMIT = {'requests': 10}  # one account, ticket limit 1, at once
IDEMPOTENT = {'clients': 8}  # one key from this many sessions
# Sessions of today, all day long (the server decides with its own clock):
# each measure books its own slot.
SESSIONS = {
    'warm': BIG, 'hot': BIG, 'raw-hot': BIG, 'sold-out':
    SOLD_OUT['capacity'], 'limit': BIG, 'idempotent': BIG}

SETUP = '''
import datetime as dt, json
from zoneinfo import ZoneInfo
Configuration = Model.get('zl.reservation.configuration')
MpConfig = Model.get('zl.mp.configuration')
Ticket = Model.get('zl.ticket')
Seller = Model.get('zl.seller')
Plan = Model.get('zl.reservation.plan')
Slot = Model.get('zl.reservation.slot')

ticket = Ticket(name='Bench visitors', code='VBENCH', per_user_limit=0)
ticket.save()
ticket.click('put_on_shelf')
limited = Ticket(name='Bench limit 1', code='VLIMIT', per_user_limit=1)
limited.save()
limited.click('put_on_shelf')
seller = Seller(name='Bench mini-program', kind='wechat_mp')
seller.tickets.extend([Ticket(ticket.id), Ticket(limited.id)])
seller.save()
today = dt.datetime.now(ZoneInfo(Configuration(1).timezone)).date()
plan = Plan(name='Bench visitors', start_date=today, end_date=today,
    advance_days=1, release_time=dt.time(0))
for name, capacity in SESSIONS.items():
    plan.sessions.new(name=name, checkin_start=dt.time(0),
        checkin_end=dt.time(23, 59, 59), capacity=capacity)
plan.tickets.extend([Ticket(ticket.id), Ticket(limited.id)])
plan.save()
plan.click('activate')
config = MpConfig(1)
config.seller = seller
config.wechat_base_url = WECHAT
config.mp_appid, config.mp_secret = APPS['mp']
config.oa_appid, config.oa_secret = APPS['oa']
# Off: the benchmark measures the booking path, not the limiter's 429.
config.rate_ip = 0
config.rate_token = 0
config.save()
print(json.dumps({'ticket': ticket.id, 'limited': limited.id,
    'seller': seller.id, 'date': today.isoformat(),
    'slots': {s.session.name: s.id
        for s in Slot.find([('plan', '=', plan.id)])}}))
'''


class Visitor:
    """One visitor's HTTP connection to the visitor API (sync gunicorn
    workers close it after each answer; http.client reopens it) and
    their bearer token"""

    def __init__(self, port, database, token=None):
        self.port, self.token = port, token
        self.base = f'/{database}/zl_mp/v1'
        self.conn = http.client.HTTPConnection('127.0.0.1', port, timeout=90)

    def call(self, method, path, data=None):
        "(status, JSON answer); RuntimeError('net:...') on a lost answer"
        headers = {'Accept': 'application/json'}
        body = None
        if data is not None:
            body = json.dumps(data)
            headers['Content-Type'] = 'application/json'
        if self.token:
            headers['Authorization'] = f'Bearer {self.token}'
        try:
            self.conn.request(method, self.base + path, body, headers)
            response = self.conn.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as exception:
            self.conn.close()
            raise RuntimeError(f'net:{type(exception).__name__}')
        try:
            return response.status, json.loads(content)
        except ValueError:
            return response.status, None

    def outcome(self, method, path, data=None, ok=(200,)):
        "'ok' for an expected status, else the error's code"
        try:
            status, answer = self.call(method, path, data)
        except RuntimeError as error:
            return error.args[0]
        if status in ok:
            return 'ok'
        if isinstance(answer, dict) and 'error' in answer:
            return answer['error'].get('code', 'error')
        return f'http:{status}'

    def login(self, person):
        status, answer = self.call(
            'POST', '/auth/wechat', {'code': f'ok:{person}'})
        if status != 200:
            raise SystemExit(f'login of {person} failed: {status} {answer}')
        self.token = answer['token']
        return self

    def book(self, request):
        "201 is a booking; a 200 would be an idempotent repeat: counted"
        return self.outcome('POST', '/bookings', request, ok=(201,))

    def close(self):
        self.conn.close()


class Requests:
    "The bookings' bodies: a new visitor ID number and key each time"

    def __init__(self, info):
        self.info = info
        self.counter = itertools.count()
        self.run = uuid.uuid4().hex[:8]

    def __call__(self, slot, ticket=None):
        n = next(self.counter)
        return {
            'ticket_id': ticket or self.info['ticket'], 'slot_id': slot,
            'visitors': [{'name': '张三', 'id_type': 'resident_id',
                    'id_number': resident_id(n)}],
            'idempotency_key': f'{self.run}-{n:08d}'}

    def raw(self, slot):
        "The same, as bench_load.raw reads it"
        request = self(slot)
        return dict(request, slot=slot)


def login(port, database, people):
    "A Visitor logged in for each person (16 logins at a time)"
    visitors = [Visitor(port, database) for _ in people]
    for first in range(0, len(people), 16):
        threads = [threading.Thread(target=visitors[k].login,
                args=(people[k],))
            for k in range(first, min(first + 16, len(people)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    missing = [p for p, v in zip(people, visitors) if not v.token]
    if missing:
        raise SystemExit(f'logins failed: {missing[:5]}')
    return visitors


def measure(server, database, n, work, duration, attempts):
    with CPU(server, database) as cpu:
        elapsed, results = fire(n, work, duration, attempts)
    return summary(elapsed, results, cpu)


def booked(database, slot):
    with pg(database) as conn:
        return conn.execute('SELECT booked FROM zl_reservation_slot '
            'WHERE id = %s', (slot,)).fetchone()[0]


def at_once(work, n):
    "work(k) from n threads released together; the outcomes"
    barrier = threading.Barrier(n)
    outcomes = [None] * n

    def run(k):
        barrier.wait()
        outcomes[k] = work(k)
    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(outcomes)


def limit_race(site, requests):
    """One account sends LIMIT['requests'] bookings of the ticket limited
    to one per account at once, each with other visitors and its own key:
    (confirmed answers, the account's bookings in the database, outcomes)"""
    visitor = site.visitor('bench-limit')
    clients = [Visitor(site.port, site.database, visitor.token)
        for _ in range(LIMIT['requests'])]
    slot = site.info['slots']['limit']
    bodies = [requests(slot, site.info['limited']) for _ in clients]
    outcomes = at_once(lambda k: clients[k].book(bodies[k]), len(clients))
    with pg(site.database) as conn:
        count, = conn.execute('SELECT count(*) FROM zl_booking '
            "WHERE ticket = %s AND state IN ('confirmed', 'used')",
            (site.info['limited'],)).fetchone()
    return outcomes.get('ok', 0), count, outcomes


def idempotent_race(site, requests):
    """The same request (one key) from IDEMPOTENT['clients'] sessions of
    one person at once: (distinct booking numbers answered, bookings of
    that key in the database, outcomes)"""
    clients = [site.visitor('bench-idempotent')
        for _ in range(IDEMPOTENT['clients'])]
    body = requests(site.info['slots']['idempotent'])
    numbers = set()

    def work(k):
        try:
            status, answer = clients[k].call('POST', '/bookings', body)
        except RuntimeError as error:
            return error.args[0]
        if status in (200, 201):
            numbers.add(answer['number'])
            return str(status)
        return (answer or {}).get('error', {}).get('code', f'http:{status}')
    outcomes = at_once(work, len(clients))
    with pg(site.database) as conn:
        count, = conn.execute('SELECT count(*) FROM zl_booking '
            'WHERE idempotency_key = %s', (body['idempotency_key'],)
            ).fetchone()
    return len(numbers), count, outcomes


class Site:
    "The server, the database, the slots and the visitors' sessions"

    def __init__(self, server, database, info):
        self.server, self.database, self.info = server, database, info
        self.port = server.port

    def visitor(self, person):
        return Visitor(self.port, self.database).login(person)

    def visitors(self, n, prefix='bench'):
        return login(self.port, self.database,
            [f'{prefix}-{k:03d}' for k in range(n)])
