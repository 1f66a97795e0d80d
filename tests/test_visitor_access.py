# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Who may see and do what around the visitor API (PostgreSQL, gunicorn
with 2 workers): staff of each role over JSON-RPC, the secrets, disabling
a visitor, the log, the rate limits."""
import time

import pytest
from visitor_api import (
    booking_request,
    error_of,
    staff,
    visitor,
    visitor_site,
)
from zl_testing import resident_id

from trytond.modules.zl_miniprogram import standin

pytestmark = pytest.mark.postgresql


@pytest.fixture(scope='module')
def site(pg_template, tmp_path_factory, server_module):
    yield from visitor_site(pg_template, tmp_path_factory, server_module)


# --- Staff, over JSON-RPC, as a hostile user of each role ---------------

@pytest.mark.parametrize('login', ['r02', 'r04', 'r05'])
def test_visitor_data_is_not_for_other_staff(site, login):
    client = staff(site, login)
    for model in ['web.user', 'zl.mp.companion', 'zl.mp.configuration']:
        with pytest.raises(RuntimeError):
            client(f'model.{model}.search_read', [], 0, None, None, ['id'])


def test_secrets_never_leave_and_disabling_is_at_once(site):
    api, ids = site
    client = staff(site, 'r01')
    config, = client('model.zl.mp.configuration.read', [1],
        ['mp_secret', 'mp_secret_value', 'oa_secret', 'mp_appid'])
    secret = standin.DEFAULT_APPS['mp'][1]
    assert secret not in str(config)
    assert 'mp_secret_value' not in config
    assert config['mp_secret'] == '*' * 10
    # 小程序用户: R01 reads visitors and disables one; every worker
    # refuses the visitor's session at once.
    me = api.login('to-disable')
    assert me('GET', '/bookings')[0] == 200
    visitors = client('model.web.user.search_read', [], 0, None, None,
        ['id', 'wechat_mp_openid'])
    target = standin.openid(standin.DEFAULT_APPS['mp'][0], 'to-disable')
    visitor_id, = [v['id'] for v in visitors
        if v['wechat_mp_openid'] == target]
    client('model.web.user.write', [visitor_id], {'active': False})
    for _ in range(6):
        assert error_of(me('GET', '/bookings')) == (401, 'unauthorized')
    answer = api('POST', '/auth/wechat', {'code': 'ok:to-disable'})
    assert error_of(answer) == (403, 'account_disabled')


def test_logins_bookings_cancellations_are_logged(site):
    import psycopg
    api, ids = site
    me = api.login('logged')
    slot = ids['slots'][ids['tomorrow']]
    number = resident_id(1201)
    _, _, booking = me('POST', '/bookings', booking_request(
            ids, slot, [visitor(1201)]))
    me('POST', f'/bookings/{booking["number"]}/cancel', {})
    database = api.base.split('/')[-3]
    with psycopg.connect(dbname=database) as conn:
        rows = conn.execute(
            "SELECT resource, event, changes FROM ir_model_log "
            "WHERE resource = %s OR resource LIKE 'web.user,%%'",
            ('zl.booking,%s' % booking_id(conn, booking['number']),)
            ).fetchall()
    events = {(r[0].split(',')[0], r[1]) for r in rows}
    assert {('web.user', 'login'), ('zl.booking', 'create'),
        ('zl.booking', 'transition')} <= events
    for resource, event, changes in rows:
        if resource.startswith('zl.booking'):
            assert 'web.user,' in (changes or ''), (event, changes)
        assert number not in (changes or '')


def booking_id(conn, number):
    return conn.execute('SELECT id FROM zl_booking WHERE number = %s',
        (number,)).fetchone()[0]


def test_rate_limits_per_ip_and_per_session(site):
    api, ids = site
    client = staff(site, 'r01')
    me = api.login('hasty')
    client('model.zl.mp.configuration.write', [1],
        {'rate_ip': 5, 'rate_token': 4})
    # Windows are whole minutes of the wall clock: start a fresh one (the
    # other tests' requests of this minute count too).
    time.sleep(60.5 - time.time() % 60)
    try:
        # Counted per worker (2 here): at most 2 × the limit get through.
        public = [api('GET', '/tickets') for _ in range(30)]
        own = [me('GET', '/bookings') for _ in range(30)]
    finally:
        client('model.zl.mp.configuration.write', [1],
            {'rate_ip': 0, 'rate_token': 0})
    for answers, limit in [(public, 5), (own, 4)]:
        ok = [a for a in answers if a[0] == 200]
        refused = [a for a in answers if a[0] == 429]
        assert len(ok) + len(refused) == 30, [a[0] for a in answers]
        assert limit <= len(ok) <= 2 * limit, len(ok)
        assert error_of(refused[0]) == (429, 'rate_limited')
        assert 1 <= int(refused[0][1]['Retry-After']) <= 60
    # Lifted: every worker learns it through PostgreSQL's NOTIFY.
    for _ in range(20):
        if api('GET', '/tickets')[0] == 200:
            break
        time.sleep(0.1)
    else:
        pytest.fail('the rate limit stayed after it was lifted')


def test_visit_policy_explained_over_http(site):
    """R01 sets 预约设置 → 参观规则; the visitor API answers its refusals
    with their own codes, statuses and Chinese messages, at once"""
    api, ids = site
    client = staff(site, 'r01')
    client('model.zl.reservation.configuration.write', [1], {
            'account_people_per_day': 2, 'id_one_per_day': True})
    date = ids['tomorrow']
    chinese = {'Accept-Language': 'zh-CN'}
    try:
        me = api.login('policy-1')
        first = booking_request(ids, ids['slots'][date],
            [visitor(960), visitor(961)])
        assert me('POST', '/bookings', first)[0] == 201
        # Another ticket, same date: the account's two people are used.
        more = booking_request(ids, ids['slots'][date], [visitor(962)],
            ticket_id=ids['paid'])
        answer = me('POST', '/bookings', more, headers=chinese)
        assert error_of(answer) == (409, 'account_limit')
        assert '2' in answer[2]['error']['message']
        assert '每个账号' in answer[2]['error']['message']
        # Another account, one of those IDs on another ticket that day.
        other = api.login('policy-2')
        again = booking_request(ids, ids['slots'][date], [visitor(961)],
            ticket_id=ids['paid'])
        answer = other('POST', '/bookings', again, headers=chinese)
        assert error_of(answer) == (409, 'id_limit')
        assert date in answer[2]['error']['message']
    finally:
        client('model.zl.reservation.configuration.write', [1], {
                'account_people_per_day': 0, 'id_one_per_day': False})
