# This file is part of zhonglian-ticketing. See README.md for the licence.
"""A site for the visitor API tests: one PostgreSQL database with tickets,
a mini-program seller, sessions and a hidden group ticket with its
promotion code, a WeChat stand-in, and gunicorn with two workers."""
import json
import urllib.error
import urllib.request
import uuid

from zl_testing import Client, resident_id, run_proteus, write_config

from conftest import _pg_execute, _pg_uri
from trytond.modules.zl_miniprogram import standin

STAFF_PASSWORD = 'Staff-Pass-2026'
SETUP = '''
import datetime as dt, json
from zoneinfo import ZoneInfo
Ticket = Model.get('zl.ticket')
Seller = Model.get('zl.seller')
Plan = Model.get('zl.reservation.plan')
Slot = Model.get('zl.reservation.slot')
MpConfig = Model.get('zl.mp.configuration')
Promo = Model.get('zl.mp.promo')
ResConfig = Model.get('zl.reservation.configuration')
free = Ticket(name='自由行', code='FREE', per_user_limit=0)
free.save()
limited = Ticket(name='限购票', code='ONE', per_user_limit=1,
    booking_visitors_max=3, minors_need_adult='yes')
limited.save()
paid = Ticket(name='不退票', code='NOREF', per_user_limit=0, refundable=False)
paid.save()
group = Ticket(name='团体票', code='GRP', kind='group', group_min=5,
    group_max=30, per_user_limit=0)
group.save()
unlisted = Ticket(name='未授权', code='NOPE', per_user_limit=0)
unlisted.save()
for t in (free, limited, paid, group, unlisted):
    t.click('put_on_shelf')
mp = Seller(name='微信小程序售票', kind='wechat_mp')
for t in (free, limited, paid, group):
    mp.tickets.append(Ticket(t.id))
mp.hidden_tickets.append(Ticket(group.id))
mp.save()
today = dt.datetime.now(ZoneInfo('Asia/Shanghai')).date()
plan = Plan(name='plan', start_date=today,
    end_date=today + dt.timedelta(days=3), advance_days=2,
    release_time=dt.time(23, 59, 59))
plan.sessions.new(name='全天', checkin_start=dt.time(0),
    checkin_end=dt.time(23, 59, 59), capacity=%(capacity)d)
for t in (free, limited, paid, group, unlisted):
    plan.tickets.append(Ticket(t.id))
plan.save()
plan.click('activate')
slots = {s.date.isoformat(): s.id for s in Slot.find([('plan', '=', plan.id)])}
config = MpConfig(1)
config.seller = mp
config.wechat_base_url = %(wechat)r
config.wechat_oauth_url = %(wechat)r
config.mp_appid, config.mp_secret = %(mp)r
config.oa_appid, config.oa_secret = %(oa)r
config.rate_ip = 0
config.rate_token = 0
config.save()
promo = Promo(ticket=group, seller=mp)
promo.save()
expired = Promo(ticket=group, seller=mp,
    valid_until=dt.datetime(2020, 1, 1))
expired.save()
User = Model.get('res.user')
for login, role in [('r01', 'R01'), ('r02', 'R02'), ('r04', 'R04'),
        ('r05', 'R05')]:
    user = User(login=login, name=login, password=%(staff_password)r)
    user.groups.extend(role_groups(role))
    user.save()
print(json.dumps({
    'free': free.id, 'limited': limited.id, 'paid': paid.id,
    'group': group.id, 'unlisted': unlisted.id, 'slots': slots,
    'today': today.isoformat(),
    'tomorrow': (today + dt.timedelta(days=1)).isoformat(),
    'later': (today + dt.timedelta(days=2)).isoformat(),
    'scene': promo.scene, 'expired_scene': expired.scene}))
'''


def make_site(pg_template, folder, wechat_url, apps, capacity=50):
    "(config, database name, ids) of a new site"
    name = f'zl_mp_{uuid.uuid4().hex[:8]}'
    config = write_config(folder / 'trytond.conf', _pg_uri())
    _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    ids = json.loads(run_proteus(config, name, SETUP % {
                'capacity': capacity, 'wechat': wechat_url,
                'staff_password': STAFF_PASSWORD,
                'mp': tuple(apps['mp']), 'oa': tuple(apps['oa'])}))
    return config, name, ids


def drop_site(name):
    _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Api:
    "HTTP calls to the visitor API: (status, headers, JSON or bytes)"

    def __init__(self, url, database, token=None):
        self.base = f'{url}/{database}/zl_mp/v1'
        self.token = token

    def __call__(self, method, path, data=None, raw=None, headers=None,
            token=None):
        headers = dict(headers or {})
        token = token if token is not None else self.token
        if token:
            headers['Authorization'] = f'Bearer {token}'
        body = raw
        if data is not None:
            body = json.dumps(data).encode()
        if body is not None:
            headers.setdefault('Content-Type', 'application/json')
        request = urllib.request.Request(
            self.base + path, body, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return _decode(response.status, response.headers,
                    response.read())
        except urllib.error.HTTPError as error:
            return _decode(error.code, error.headers, error.read())

    def login(self, person, app='wechat'):
        status, _, data = self(
            'POST', f'/auth/{app}', {'code': f'ok:{person}'})
        assert status == 200, data
        return Api.__new__(Api)._with(self.base, data['token'])

    def _with(self, base, token):
        self.base, self.token = base, token
        return self


def _decode(status, headers, content):
    if headers.get('Content-Type', '').startswith('application/json'):
        return status, headers, json.loads(content)
    return status, headers, content


def visitor(n, name=None):
    return {'name': name or f'游客{n}', 'id_type': 'resident_id',
        'id_number': resident_id(n)}


def booking_request(ids, slot, visitors, **extra):
    request = {'ticket_id': ids['free'], 'slot_id': slot,
        'visitors': visitors, 'idempotency_key': uuid.uuid4().hex}
    request.update(extra)
    return request


def visitor_site(pg_template, tmp_path_factory, server_module):
    """For a module-scoped `site` fixture: a WeChat stand-in, a site and
    gunicorn with 2 workers; yields (Api, ids)"""
    server, wechat_url = standin.start()
    config, name, ids = make_site(pg_template,
        tmp_path_factory.mktemp('mp'), wechat_url, standin.DEFAULT_APPS)
    try:
        url = server_module(config, name, workers=2)
        yield Api(url, name), ids
    finally:
        drop_site(name)
        server.shutdown()
        server.server_close()


def error_of(answer):
    "(status, code) of an error answer"
    status, _, data = answer
    assert isinstance(data, dict) and 'error' in data, answer
    return status, data['error']['code']


def staff(site, login):
    "A staff user of the site over JSON-RPC"
    api, _ = site
    url, database = api.base.split('/zl_mp/')[0].rsplit('/', 1)
    return Client(url, database, login, STAFF_PASSWORD)
