# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Races on the visitor API (PostgreSQL, gunicorn with 2 workers): many
visitors on the last places of a slot, one account past its per-user
limit from ten phones, one idempotency key from eight clients."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from visitor_api import Api, booking_request, drop_site, make_site, visitor

from trytond.modules.zl_miniprogram import standin

pytestmark = pytest.mark.postgresql

CAPACITY = 50


@pytest.fixture(scope='module')
def site(pg_template, tmp_path_factory, server_module):
    server, wechat_url = standin.start()
    config, name, ids = make_site(pg_template,
        tmp_path_factory.mktemp('mp-race'), wechat_url,
        standin.DEFAULT_APPS, capacity=CAPACITY)
    # Enough workers' threads are not needed: 2 sync workers and a
    # backlog, as deployed.
    url = server_module(config, name, workers=2)
    yield Api(url, name), ids, name
    drop_site(name)
    server.shutdown()
    server.server_close()


def booked(database, slot):
    with psycopg.connect(dbname=database) as conn:
        return conn.execute(
            'SELECT s.booked, (SELECT coalesce(sum(b.quantity), 0) '
            'FROM zl_booking b WHERE b.slot = s.id '
            "AND b.state IN ('confirmed', 'used')), "
            "(SELECT count(*) FROM zl_pass p WHERE p.slot = s.id "
            "AND p.state IN ('valid', 'used')) "
            'FROM zl_reservation_slot s WHERE s.id = %s',
            (slot,)).fetchone()


def test_thousand_bookings_on_fifty_places(site):
    api, ids, database = site
    slot = ids['slots'][ids['today']]
    visitors = [api.login(f'race-{n}') for n in range(64)]

    def attempt(n):
        me = visitors[n % len(visitors)]
        return me('POST', '/bookings', booking_request(
                ids, slot, [visitor(10_000 + n)]))[:3:2]
    with ThreadPoolExecutor(64) as pool:
        answers = list(pool.map(attempt, range(1000)))
    statuses = {}
    for status, data in answers:
        key = (status, data.get('error', {}).get('code')
            if isinstance(data, dict) else None)
        statuses[key] = statuses.get(key, 0) + 1
    assert statuses.get((201, None)) == CAPACITY, statuses
    # Every other attempt was refused with its code, none failed.
    assert set(statuses) <= {(201, None), (409, 'sold_out'),
        (503, 'busy')}, statuses
    assert booked(database, slot) == (CAPACITY, CAPACITY, CAPACITY)


def test_per_user_limit_from_ten_phones(site):
    api, ids, database = site
    me = api.login('ten-phones')
    slot = ids['slots'][ids['tomorrow']]

    def attempt(n):
        return me('POST', '/bookings', booking_request(
                ids, slot, [visitor(20_000 + n)], ticket_id=ids['limited']))
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(attempt, range(10)))
    codes = sorted(a[0] for a in answers)
    assert codes.count(201) == 1, [a[2] for a in answers]
    assert codes.count(409) == 9
    _, _, mine = me('GET', '/bookings')
    assert len(mine['bookings']) == 1


def test_one_idempotency_key_from_eight_clients(site):
    api, ids, database = site
    me = api.login('eight-clients')
    request = booking_request(ids, ids['slots'][ids['tomorrow']],
        [visitor(30_000)], idempotency_key=uuid.uuid4().hex)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(
                lambda _: me('POST', '/bookings', request), range(8)))
    numbers = {a[2]['number'] for a in answers if a[0] in {200, 201}}
    assert len(numbers) == 1, answers
    # The engine says which call made it: exactly one 201.
    assert sorted(a[0] for a in answers).count(201) == 1
    _, _, mine = me('GET', '/bookings')
    assert len(mine['bookings']) == 1
