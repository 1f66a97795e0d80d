# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Cancellation tiers and strikes around the visitor API (PostgreSQL,
gunicorn with 2 workers): the preview a visitor sees before cancelling,
the strike a late cancellation records, the restriction answered with its
end on every worker, waiving as R01 and refused to a seller."""
import datetime as dt

import psycopg
import pytest
from visitor_api import (
    booking_request,
    error_of,
    staff,
    visitor,
    visitor_site,
)

from trytond.modules.zl_miniprogram import standin

pytestmark = pytest.mark.postgresql
CHINESE = {'Accept-Language': 'zh-CN'}


@pytest.fixture(scope='module')
def site(pg_template, tmp_path_factory, server_module):
    yield from visitor_site(pg_template, tmp_path_factory, server_module)


def database_of(site):
    api, _ = site
    return api.base.split('/zl_mp/')[0].rsplit('/', 1)[1]


def account_strikes(client, account):
    return client('model.zl.reservation.strike.search_read', [
            ('subject', '=', 'account'), ('account', '=', account)],
        0, None, None, ['date', 'reason', 'waived'])


def open_all_data(client):
    """R01 opens every seller's data to itself (用户组 + 数据权限 全部),
    as a platform administrator does: strikes follow the data scope"""
    me, = client('model.res.user.search', [('login', '=', 'r01')])
    group, = client('model.zl.user.group.create', [{
                'code': 'ALL', 'name': "全部数据", 'users': [['add', [me]]]}])
    client('model.zl.data.permission.create', [{
                'name': "全部", 'all_data': True,
                'user_groups': [['add', [group]]]}])


def test_preview_strike_restriction_and_waiver(site):
    api, ids = site
    r01 = staff(site, 'r01')
    open_all_data(r01)
    # Cancelling records a strike until check-in, then closes; two
    # strikes in 30 days restrict for 30 days.
    tiers = [['create', [{'kind': 'strike', 'minutes': 0}]]]
    r01('model.zl.reservation.configuration.write', [1], {
            'cancel_tiers': tiers, 'strike_limit': 2, 'strike_days': 30,
            'restrict_days': 30})
    date = ids['tomorrow']
    try:
        me = api.login('striker')
        status, _, booking = me('POST', '/bookings', booking_request(
                ids, ids['slots'][date], [visitor(970)]), headers=CHINESE)
        assert status == 201, booking
        # What cancelling now means, from the engine, in Chinese.
        assert booking['cancel_now'] == 'strike'
        assert '违约' in booking['cancel_preview']
        status, _, listed = me('GET', f"/bookings/{booking['number']}",
            headers=CHINESE)
        assert listed['cancel_preview'] == booking['cancel_preview']
        status, _, cancelled = me(
            'POST', f"/bookings/{booking['number']}/cancel")
        assert (status, cancelled['state']) == (200, 'cancelled')

        account = f"web.user,{visitor_id(r01, 'striker')}"
        strikes = account_strikes(r01, account)
        assert [(s['reason'], s['waived']) for s in strikes] == [
            ('late_cancel', False)]

        # Two earlier strikes (yesterday's and the day before's, as the
        # daily job would have left them): restricted from today.
        today = dt.date.fromisoformat(ids['today'])
        yesterday = today - dt.timedelta(days=1)
        with psycopg.connect(dbname=database_of(site)) as conn:
            for days in [1, 2]:
                conn.execute(
                    'INSERT INTO zl_reservation_strike '
                    '(subject, account, booking, date, reason, waived, '
                    'create_uid, create_date) VALUES '
                    "('account', %s, %s, %s, 'no_show', false, 0, now())",
                    (account, cancelled_id(r01, booking['number']),
                        today - dt.timedelta(days=days)))
        until = (yesterday + dt.timedelta(days=30)).isoformat()
        again = booking_request(ids, ids['slots'][date], [visitor(971)])
        # Both workers, at once: the strikes are data, not a cache.
        for _ in range(4):
            answer = me('POST', '/bookings', again, headers=CHINESE)
            assert error_of(answer) == (409, 'account_restricted')
            assert answer[2]['error']['until'] == until
            assert until in answer[2]['error']['message']
        # Staff see it on 小程序用户.
        user, = r01('model.web.user.read',
            [visitor_id(r01, 'striker')], ['restricted_until', 'strikes'])
        restricted = user['restricted_until']
        assert dt.date(restricted['year'], restricted['month'],
            restricted['day']).isoformat() == until
        assert len(user['strikes']) == 3

        # A seller reads the strikes of their own sales only (data
        # scope: not the mini-program's), and may not waive any.
        r04 = staff(site, 'r04')
        assert account_strikes(r04, account) == []
        with pytest.raises(RuntimeError):
            waive(r04, strikes[0]['id'], "想免就免")
        assert not account_strikes(r01, account)[0]['waived']
        # R01 waives one with its reason: the visitor books again.
        yesterdays, = [s for s in account_strikes(r01, account)
            if s['date']['day'] == yesterday.day]
        waive(r01, yesterdays['id'], "系统故障导致无法入园")
        answer = me('POST', '/bookings', again)
        assert answer[0] == 201, answer
    finally:
        r01('model.zl.reservation.configuration.write', [1], {
                'strike_limit': 0, 'strike_days': 0, 'restrict_days': 0})
        tier_ids = r01('model.zl.reservation.cancel_tier.search', [])
        r01('model.zl.reservation.cancel_tier.delete', tier_ids)


def visitor_id(client, person):
    target = standin.openid(standin.DEFAULT_APPS['mp'][0], person)
    found = client('model.web.user.search_read', [
            ('wechat_mp_openid', '=', target)], 0, None, None, ['id'])
    return found[0]['id']


def cancelled_id(client, number):
    found = client('model.zl.booking.search',
        [('number', '=', number)])
    return found[0]


def waive(client, strike_id, reason):
    "Run the Waive wizard over JSON-RPC, as sao does"
    context = {'active_model': 'zl.reservation.strike',
        'active_id': strike_id, 'active_ids': [strike_id]}
    session, _, _ = client('wizard.zl.reservation.strike.waive.create')
    try:
        client('wizard.zl.reservation.strike.waive.execute', session,
            {'start': {'reason': reason}}, 'waive', context=context)
    finally:
        client('wizard.zl.reservation.strike.waive.delete', session)
