# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The visitor API over HTTP, on PostgreSQL under gunicorn (2 workers),
WeChat answered by the local stand-in: every route and error code."""
import time
import uuid

import pytest
from visitor_api import (
    Api,
    booking_request,
    error_of,
    visitor,
    visitor_site,
)

pytestmark = pytest.mark.postgresql


@pytest.fixture(scope='module')
def site(pg_template, tmp_path_factory, server_module):
    yield from visitor_site(pg_template, tmp_path_factory, server_module)


# --- Login -----------------------------------------------------------------

def test_login_mp_and_session(site):
    api, _ = site
    status, _, data = api('POST', '/auth/wechat', {'code': 'ok:alice'})
    assert status == 200
    assert set(data) == {'token', 'expires_at'}
    assert 'session_key' not in str(data)
    me = Api.__new__(Api)._with(api.base, data['token'])
    assert me('GET', '/bookings')[0] == 200
    # The same person logs in again: the same account, a new session.
    again = api.login('alice')
    assert again.token != me.token


@pytest.mark.parametrize('code, status, expected', [
        ('bad-code', 400, 'invalid_code'),
        ('used:x', 400, 'invalid_code'),
        ('blocked:x', 400, 'invalid_code'),
        ('limit:x', 429, 'rate_limited'),
        ('busy:x', 503, 'wechat_unavailable'),
        ('html:x', 503, 'wechat_unavailable'),
        ('http500:x', 503, 'wechat_unavailable'),
        ])
def test_login_wechat_refusals(site, code, status, expected):
    api, _ = site
    answer = api('POST', '/auth/wechat', {'code': code})
    assert error_of(answer) == (status, expected)
    if status == 429:
        assert int(answer[1]['Retry-After']) > 0


@pytest.mark.parametrize('payload', [
        None, {}, {'code': ''}, {'code': 12}, {'code': 'x' * 200}, [1],
        ])
def test_login_bad_input(site, payload):
    api, _ = site
    if payload is None:
        answer = api('POST', '/auth/wechat', raw=b'{not json')
    else:
        answer = api('POST', '/auth/wechat', payload)
    assert error_of(answer) == (400, 'invalid_request')


def test_unionid_links_the_two_apps(site):
    api, _ = site
    mp = api.login('carol')
    oa = api.login('carol', app='wechat-oa')
    request = booking_request(site[1], site[1]['slots'][site[1]['today']],
        [visitor(501)])
    status, _, booking = mp('POST', '/bookings', request)
    assert status == 201
    # The H5 page (Official Account) sees the mini-program's booking.
    status, _, data = oa('GET', '/bookings')
    assert [b['number'] for b in data['bookings']] == [booking['number']]


def test_unauthorized(site):
    api, _ = site
    for token in ['', 'nope', uuid.uuid4().hex]:
        answer = api('GET', '/bookings', token=token or None)
        assert error_of(answer) == (401, 'unauthorized')
    me = api.login('dave')
    assert me('POST', '/auth/logout', {})[0] == 200
    assert error_of(me('GET', '/bookings')) == (401, 'unauthorized')


# --- Browsing --------------------------------------------------------------

def test_tickets_list_hides_hidden_and_unauthorised(site):
    api, ids = site
    status, _, data = api('GET', '/tickets')
    assert status == 200
    listed = [t['id'] for t in data['tickets']]
    assert ids['free'] in listed and ids['limited'] in listed
    assert ids['group'] not in listed
    assert ids['unlisted'] not in listed


def test_ticket_detail(site):
    api, ids = site
    status, _, data = api('GET', f'/tickets/{ids["limited"]}')
    assert status == 200
    assert data['name'] == '限购票' and data['per_user_limit'] == 1
    # The ticket's own per-booking rules (the site sets none).
    assert data['visit_rules'] == {'visitors_max': 3, 'minors_max': None,
        'minors_need_adult': True, 'minor_age': 14}
    _, _, free = api('GET', f'/tickets/{ids["free"]}')
    assert free['visit_rules'] == {'visitors_max': None, 'minors_max': None,
        'minors_need_adult': False, 'minor_age': 14}
    assert data['price'] == '0.00' or float(data['price']) == 0
    for ticket in [ids['group'], ids['unlisted'], 999999]:
        answer = api('GET', f'/tickets/{ticket}')
        assert error_of(answer) == (404, 'ticket_not_found')
    assert error_of(api('GET', '/tickets/abc')) == (404, 'not_found')


def test_slots(site):
    api, ids = site
    today = ids['today']
    status, _, data = api('GET', f'/tickets/{ids["free"]}/slots'
        f'?from={today}&to={today}')
    assert status == 200
    slot, = data['slots']
    assert slot['slot_id'] == ids['slots'][today]
    assert slot['state'] == 'open' and slot['capacity'] == 50
    assert slot['opens_at'] is None
    # A later date is not open yet (one day ahead): when it opens.
    later = ids['later']
    status, _, data = api('GET', f'/tickets/{ids["free"]}/slots'
        f'?from={later}&to={later}')
    slot, = data['slots']
    assert slot['state'] == 'not_yet_open' and slot['opens_at']
    for query in ['?from=2026-13-01', '?from=x',
            f'?from={today}&to=2020-01-01', f'?from={today}&to=2099-01-01']:
        answer = api('GET', f'/tickets/{ids["free"]}/slots{query}')
        assert error_of(answer) == (400, 'invalid_request')


def test_slots_count_the_online_places(site):
    """available is what a visitor may book: the window's reserve is not
    theirs before its release, and a slot whose online places are gone is
    sold_out even though the window's are free"""
    import psycopg
    api, ids = site
    me = api.login('reserve')
    day = ids['tomorrow']
    slot = ids['slots'][day]
    database = api.base.split('/')[-3]

    def sessions():
        time.sleep(1.1)  # the sessions' answer may be a second old
        _, _, data = api('GET', f'/tickets/{ids["free"]}/slots'
            f'?from={day}&to={day}')
        return data['slots'][0]

    with psycopg.connect(dbname=database, autocommit=True) as conn:
        # Check-in at 00:00: with 0 minutes the release is tomorrow 00:00.
        conn.execute('UPDATE zl_reservation_plan SET reserve_release = 0')
        conn.execute('UPDATE zl_reservation_slot SET reserved_window = '
            'capacity - booked - 1 WHERE id = %s', (slot,))
        try:
            one = sessions()
            assert (one['available'], one['state']) == (1, 'open')
            status, _, _ = me('POST', '/bookings', booking_request(
                    ids, slot, [visitor(1301)]))
            assert status == 201
            one = sessions()
            assert (one['available'], one['state']) == (0, 'sold_out')
            assert one['capacity'] == 50
            answer = me('POST', '/bookings', booking_request(
                    ids, slot, [visitor(1302)]))
            assert error_of(answer) == (409, 'sold_out')
        finally:
            conn.execute('UPDATE zl_reservation_slot SET reserved_window = 0 '
                'WHERE id = %s', (slot,))
            conn.execute(
                'UPDATE zl_reservation_plan SET reserve_release = 120')


def test_unknown_route_and_openapi(site):
    api, _ = site
    assert error_of(api('GET', '/nothing/here')) == (404, 'not_found')
    status, _, doc = api('GET', '/openapi.json')
    assert status == 200 and doc['openapi'].startswith('3.')
    assert '/bookings/{number}/cancel' in doc['paths']


# --- Booking ---------------------------------------------------------------

def test_book_view_cancel(site):
    api, ids = site
    me = api.login('erin')
    # Tomorrow: today's all-day session has begun, too late to cancel.
    day = ids['tomorrow']
    slot = ids['slots'][day]
    request = booking_request(ids, slot, [visitor(601), visitor(602)],
        contact={'name': '联系人', 'phone': '13800138000'})
    status, _, booking = me('POST', '/bookings', request)
    assert status == 201, booking
    assert booking['quantity'] == 2 and len(booking['passes']) == 2
    assert all('*' in v['id_number'] for v in booking['visitors'])
    # The same key answers the same booking.
    status, _, again = me('POST', '/bookings', request)
    assert status == 200 and again['number'] == booking['number']
    status, _, one = me('GET', f'/bookings/{booking["number"]}')
    assert status == 200 and one['cancellable']
    code = booking['passes'][0]['code']
    status, headers, png = me('GET', f'/passes/{code}/qr.png')
    assert status == 200 and png[:4] == b'\x89PNG'
    # The sessions' answer is at most one second old (catalogue.py): the
    # reading compared must be this booking's, not an earlier test's.
    time.sleep(1.1)
    _, _, before = api('GET', f'/tickets/{ids["free"]}/slots'
        f'?from={day}&to={day}')
    status, _, cancelled = me('POST', f'/bookings/{booking["number"]}/cancel',
        {})
    assert status == 200 and cancelled['state'] in {'cancelled', 'refunded'}
    # The sessions' answer is at most one second old (catalogue.py).
    time.sleep(1.1)
    _, _, after = api('GET', f'/tickets/{ids["free"]}/slots'
        f'?from={day}&to={day}')
    assert (after['slots'][0]['available']
        == before['slots'][0]['available'] + 2)
    answer = me('POST', f'/bookings/{booking["number"]}/cancel', {})
    assert error_of(answer) == (409, 'not_cancellable')


def test_visitors_are_isolated(site):
    api, ids = site
    alice, bob = api.login('iso-a'), api.login('iso-b')
    slot = ids['slots'][ids['today']]
    _, _, booking = alice('POST', '/bookings',
        booking_request(ids, slot, [visitor(701)]))
    number, code = booking['number'], booking['passes'][0]['code']
    assert error_of(bob('GET', f'/bookings/{number}')) == (
        404, 'booking_not_found')
    assert error_of(bob('POST', f'/bookings/{number}/cancel', {})) == (
        404, 'booking_not_found')
    assert error_of(bob('GET', f'/passes/{code}/qr.png')) == (
        404, 'pass_not_found')
    assert bob('GET', '/bookings')[2]['bookings'] == []
    # Bob reusing Alice's idempotency key gets no booking of hers.
    request = booking_request(ids, slot, [visitor(702)])
    status, _, mine = alice('POST', '/bookings', request)
    answer = bob('POST', '/bookings', request)
    assert error_of(answer) == (409, 'idempotency_conflict')
    assert alice('GET', f'/bookings/{mine["number"]}')[0] == 200


@pytest.mark.parametrize('change, status, code', [
        ({'slot_id': 10 ** 9}, 404, 'ticket_not_available'),
        ({'ticket_id': 'x'}, 400, 'invalid_request'),
        ({'visitors': [{'name': 'x', 'id_number': '110101199003071234'}]},
            400, 'invalid_id_number'),
        ({'visitors': [dict(visitor(801), phone='12345')]},
            400, 'invalid_phone'),
        ({'visitors': [visitor(802), visitor(802)]}, 409,
            'duplicate_visitor'),
        ({'visitors': 'x'}, 400, 'invalid_request'),
        ({'visitors': [dict(visitor(803), extra=1)]}, 400, 'invalid_request'),
        ({'idempotency_key': None}, 400, 'invalid_request'),
        ({'idempotency_key': 'short'}, 400, 'invalid_request'),
        ({'unknown': 1}, 400, 'invalid_request'),
        ({'promo': 'no-such-scene'}, 404, 'promo_not_found'),
        ])
def test_booking_refusals(site, change, status, code):
    api, ids = site
    me = api.login('refusals')
    request = booking_request(
        ids, ids['slots'][ids['today']], [visitor(800)])
    request.update(change)
    request = {k: v for k, v in request.items() if v is not None}
    assert error_of(me('POST', '/bookings', request)) == (status, code)


def test_ticket_visit_rules(site):
    "The ticket's own rules, as its page tells them: 3 per booking, no more"
    api, ids = site
    me = api.login('ticket-rules')
    slot = ids['slots'][ids['tomorrow']]
    request = booking_request(ids, slot,
        [visitor(1401 + n) for n in range(4)], ticket_id=ids['limited'])
    assert error_of(me('POST', '/bookings', request)) == (
        400, 'visitors_limit')
    request = booking_request(ids, slot,
        [visitor(1401 + n) for n in range(3)], ticket_id=ids['limited'])
    status, _, booking = me('POST', '/bookings', request)
    assert status == 201 and booking['quantity'] == 3


def test_booking_state_refusals(site):
    api, ids = site
    me = api.login('state')
    today, later = ids['today'], ids['later']
    answer = me('POST', '/bookings', booking_request(
            ids, ids['slots'][later], [visitor(901)]))
    assert error_of(answer) == (409, 'not_open')
    answer = me('POST', '/bookings', booking_request(
            ids, ids['slots'][today], [visitor(902)],
            ticket_id=ids['group']))
    assert error_of(answer) == (404, 'ticket_not_available')
    answer = me('POST', '/bookings', booking_request(
            ids, ids['slots'][today], [visitor(903)],
            ticket_id=ids['unlisted']))
    assert error_of(answer) == (404, 'ticket_not_available')
    # 用户限购 1: per visitor account, whatever the visitors.
    one = booking_request(ids, ids['slots'][today], [visitor(904)],
        ticket_id=ids['limited'])
    assert me('POST', '/bookings', one)[0] == 201
    two = booking_request(ids, ids['slots'][today], [visitor(905)],
        ticket_id=ids['limited'])
    assert error_of(me('POST', '/bookings', two)) == (409, 'limit_exceeded')
    assert api.login('state-2')('POST', '/bookings', two)[0] == 201
    # Not refundable: the cancellation is refused; a session begun is
    # too late to cancel.
    _, _, paid = me('POST', '/bookings', booking_request(
            ids, ids['slots'][ids['tomorrow']], [visitor(906)],
            ticket_id=ids['paid']))
    answer = me('POST', f'/bookings/{paid["number"]}/cancel', {})
    assert error_of(answer) == (409, 'not_refundable')
    _, _, begun = me('POST', '/bookings', booking_request(
            ids, ids['slots'][today], [visitor(907)]))
    assert not begun.get('cancellable', False)
    answer = me('POST', f'/bookings/{begun["number"]}/cancel', {})
    assert error_of(answer) == (409, 'cancel_too_late')


def test_body_too_large_and_not_json(site):
    api, ids = site
    me = api.login('large')
    answer = me('POST', '/bookings', raw=b'{"a": "' + b'x' * 40000 + b'"}')
    assert error_of(answer) == (413, 'payload_too_large')
    answer = me('POST', '/bookings', raw=b'ticket=1',
        headers={'Content-Type': 'application/x-www-form-urlencoded'})
    assert error_of(answer) == (400, 'invalid_request')


# --- Companions ------------------------------------------------------------

def test_companions(site):
    api, ids = site
    me, other = api.login('comp'), api.login('comp-other')
    status, _, saved = me('POST', '/companions', visitor(1001, '同伴'))
    assert status == 201 and '*' in saved['id_number']
    assert error_of(me('POST', '/companions', visitor(1001))) == (
        409, 'duplicate_companion')
    answer = me('POST', '/companions', {'name': 'x', 'id_number': '123'})
    assert error_of(answer) == (400, 'invalid_id_number')
    _, _, listed = me('GET', '/companions')
    assert [c['id'] for c in listed['companions']] == [saved['id']]
    assert other('GET', '/companions')[2]['companions'] == []
    # Booking a companion reuses the digest: the same person twice is a
    # duplicate, someone else's companion is unknown.
    slot = ids['slots'][ids['today']]
    request = booking_request(ids, slot, [{'companion_id': saved['id']}])
    status, _, booking = me('POST', '/bookings', request)
    assert status == 201 and booking['visitors'][0]['name'] == '同伴'
    answer = me('POST', '/bookings', booking_request(
            ids, slot, [visitor(1001)]))
    assert error_of(answer) == (409, 'duplicate_visitor')
    answer = other('POST', '/bookings', booking_request(
            ids, slot, [{'companion_id': saved['id']}]))
    assert error_of(answer) == (400, 'invalid_request')
    assert error_of(other('DELETE', f'/companions/{saved["id"]}')) == (
        404, 'companion_not_found')
    assert me('DELETE', f'/companions/{saved["id"]}')[0] == 204


# --- Group promotion codes (团体预约码) ------------------------------------

def test_hidden_group_ticket_through_its_promo(site):
    api, ids = site
    me = api.login('group-leader')
    scene, slot = ids['scene'], ids['slots'][ids['tomorrow']]
    status, _, promo = api('GET', f'/promo/{scene}')
    assert status == 200 and promo['ticket_id'] == ids['group']
    status, _, detail = api('GET', f'/tickets/{ids["group"]}?promo={scene}')
    assert status == 200 and detail['group_min'] == 5
    status, _, slots = api('GET', f'/tickets/{ids["group"]}/slots'
        f'?promo={scene}&from={ids["tomorrow"]}&to={ids["tomorrow"]}')
    assert status == 200 and slots['slots'][0]['slot_id'] == slot
    group = {'name': '星光小学', 'leader': '王老师', 'size': 12}
    contact = {'name': '王老师', 'phone': '13800138000'}
    # Without its promotion code the hidden ticket cannot be booked.
    answer = me('POST', '/bookings', booking_request(
            ids, slot, [], ticket_id=ids['group'], group=group,
            contact=contact))
    assert error_of(answer) == (404, 'ticket_not_available')
    answer = me('POST', '/bookings', booking_request(
            ids, slot, [], ticket_id=ids['group'], group=group,
            contact=contact, promo=ids['expired_scene']))
    assert error_of(answer) == (410, 'promo_expired')
    answer = me('POST', '/bookings', booking_request(
            ids, slot, [], ticket_id=ids['group'],
            group=dict(group, size=4), contact=contact, promo=scene))
    assert error_of(answer) == (400, 'group_size')
    # A promotion code of another ticket opens nothing else.
    answer = me('POST', '/bookings', booking_request(
            ids, slot, [visitor(1101)], promo=scene))
    assert error_of(answer) == (404, 'promo_not_found')
    status, _, booking = me('POST', '/bookings', booking_request(
            ids, slot, [], ticket_id=ids['group'], group=group,
            contact=contact, promo=scene))
    assert status == 201, booking
    assert booking['quantity'] == 12 and booking['group']['size'] == 12
    assert len(booking['passes']) == 1 and booking['passes'][0]['admits'] == 12


def test_promo_refusals(site):
    api, ids = site
    assert error_of(api('GET', '/promo/nope')) == (404, 'promo_not_found')
    assert error_of(api('GET', f'/promo/{ids["expired_scene"]}')) == (
        410, 'promo_expired')
    assert error_of(api('GET', '/promo/' + 'x' * 40)) == (
        404, 'promo_not_found')
    answer = api('GET', f'/tickets/{ids["group"]}?promo=nope')
    assert error_of(answer) == (404, 'promo_not_found')
