# This file is part of zhonglian-ticketing. See README.md for the licence.
"""A visitor's bookings through the engine's one entry point.

The route establishes the account (from the session), the seller (the
configured mini-program seller, or the promotion's) and the promotion
(from its scene, checked here); the request only asks.  Booking and
cancelling rules are the engine's (zl_reservation service.py and
lifecycle.py)."""
import datetime as dt

from trytond.modules.zl_reservation import passcode
from trytond.modules.zl_reservation.engine import MAX_TEXT
from trytond.pool import Pool

from .api import error, iso
from .catalogue import seller
from .visitor import account_of

# What a visitor may send; anything else is an invalid_request.
BOOKING_KEYS = {
    'ticket_id', 'slot_id', 'visitors', 'contact', 'group', 'promo',
    'idempotency_key'}
VISITOR_KEYS = {'name', 'id_type', 'id_number', 'phone', 'birth_date'}


def book(data, visitor):
    """Book for the visitor as asked in data; the booking's view and
    whether it is new (201) or the answer to a repeated key (200)"""
    pool = Pool()
    Booking = pool.get('zl.booking')
    Companion = pool.get('zl.mp.companion')
    Promo = pool.get('zl.mp.promo')
    if set(data) - BOOKING_KEYS:
        raise error('invalid_request', 400)
    key = data.get('idempotency_key')
    if not isinstance(key, str) or not 8 <= len(key) <= MAX_TEXT:
        raise error('invalid_request', 400)
    account = account_of(visitor)
    seller_id, promotion, origin = seller(), None, None
    if data.get('promo') is not None:
        if not isinstance(data['promo'], str):
            raise error('invalid_request', 400)
        promo = Promo.resolve(data['promo'])
        if promo.ticket.id != data.get('ticket_id'):
            raise error('promo_not_found', 404)
        promotion, origin = promo.ticket.id, str(promo)
        if promo.seller:
            seller_id = promo.seller.id
    raw = data.get('visitors') or []
    if not isinstance(raw, list):
        raise error('invalid_request', 400)
    visitors, wanted = [], set()
    for item in raw:
        if not isinstance(item, dict):
            raise error('invalid_request', 400)
        if 'companion_id' in item:
            if len(item) != 1:
                raise error('invalid_request', 400)
            wanted.add(item['companion_id'])
            visitors.append({'companion': item['companion_id']})
        elif set(item) - VISITOR_KEYS:
            raise error('invalid_request', 400)
        else:
            visitors.append(item)
    companions = {}
    if wanted:
        # Only the visitor's own: another's id is simply unknown.
        ids = [i for i in wanted if isinstance(i, int)
            and not isinstance(i, bool)]
        companions = {c.id: c.as_visitor() for c in Companion.search([
                    ('id', 'in', ids), ('web_user', '=', visitor)])}
    request = {
        'ticket': data.get('ticket_id'),
        'slot': data.get('slot_id'),
        'visitors': visitors,
        'contact': data.get('contact'),
        'group': data.get('group'),
        'idempotency_key': key,
        }
    result = Booking.book(
        request, seller_id, account=account, promotion=promotion,
        origin=origin, companions=companions)
    if not result['created']:
        # The same key again: the booking as it is now.
        return view(Booking(result['id'])), False
    group = data.get('group') if not result['visitors'] else None
    return view_of_dict(result, group), True


def view_of_dict(result, group=None):
    """The engine's answer for a new booking as the API's booking, from
    the facts the engine answered (no read back: the hot path)"""
    date = dt.date.fromisoformat(result['date'])
    start = dt.datetime.combine(
        date, dt.time.fromisoformat(result['checkin_start']))
    end = dt.datetime.combine(
        date, dt.time.fromisoformat(result['checkin_end']))
    return {
        'number': result['number'],
        'state': result['state'],
        'ticket': {'id': result['ticket'], 'name': result['ticket_name']},
        'slot': {
            'id': result['slot'], 'date': result['date'],
            'session': result['session'],
            'checkin_start': iso(start), 'checkin_end': iso(end),
            },
        'quantity': result['quantity'],
        'visitors': result['visitors'],
        'passes': [pass_view(p['code'], p['admits'], p['uses_left'],
                p['state']) for p in result['passes']],
        'group': {
            'name': group.get('name'), 'leader': group.get('leader'),
            'size': result['quantity'],
            } if group else None,
        **cancel_terms(result['state'], result['refundable'],
            result['ticket'], date, start),
        'created_at': iso(dt.datetime.now(dt.timezone.utc).replace(
                tzinfo=None), utc=True),
        }


def cancel_terms(state, refundable, ticket_id, date, start):
    """Whether the visitor may still cancel, until when, and what
    cancelling now means (the engine's rule and its preview)"""
    pool = Pool()
    Booking = pool.get('zl.booking')
    terms = Booking.cancel_terms(state, refundable, ticket_id, date, start)
    return {
        'refundable': bool(refundable),
        'cancellable': terms['code'] is None,
        'cancel_until': iso(terms['closes']),
        'cancel_now': terms['outcome'],
        'cancel_now_until': iso(terms['until']) if terms['outcome'] else None,
        'cancel_preview': terms['message'],
        }


def pass_view(code, admits, uses_left, state):
    return {
        'code': code,
        'qr_url': 'passes/%s/qr.png' % code,
        'admits': admits,
        'uses_left': uses_left,
        'state': state,
        }


def view(booking):
    "A stored booking as the API's booking"
    start, end = booking.slot.window()
    return {
        'number': booking.number,
        'state': booking.state,
        'ticket': {'id': booking.ticket.id, 'name': booking.ticket.name},
        'slot': {
            'id': booking.slot.id, 'date': iso(booking.date),
            'session': booking.slot.session.name,
            'checkin_start': iso(start), 'checkin_end': iso(end),
            },
        'quantity': booking.quantity,
        'visitors': [{
                'name': v.name, 'id_type': v.id_type,
                'id_number': v.id_masked,
                } for v in booking.visitors],
        'group': {
            'name': booking.group_name, 'leader': booking.group_leader,
            'size': booking.group_size,
            } if booking.group_size else None,
        'passes': [pass_view(p.code, p.admits, p.uses_left, p.state)
            for p in booking.passes],
        **cancel_terms(booking.state, booking.ticket.refundable,
            booking.ticket.id, booking.date, start),
        'created_at': iso(booking.create_date, utc=True),
        }


def own_booking(number, visitor):
    """The visitor's booking of this number; another's answers 404 as an
    unknown one would (never 403 with data)"""
    pool = Pool()
    Booking = pool.get('zl.booking')
    if not isinstance(number, str) or len(number) > MAX_TEXT:
        raise error('booking_not_found', 404)
    bookings = Booking.search([
            ('number', '=', number), ('account', '=', account_of(visitor)),
            ], limit=1)
    if not bookings:
        raise error('booking_not_found', 404)
    return bookings[0]


def my_bookings(visitor, limit=50):
    pool = Pool()
    Booking = pool.get('zl.booking')
    bookings = Booking.search([
            ('account', '=', account_of(visitor)),
            ], order=[('create_date', 'DESC'), ('id', 'DESC')], limit=limit)
    return {'bookings': [view(b) for b in bookings]}


def cancel(number, visitor):
    pool = Pool()
    Booking = pool.get('zl.booking')
    booking = own_booking(number, visitor)
    Booking.cancel_bookings([booking])
    return view(Booking(booking.id))


def own_pass(code, visitor):
    "The visitor's pass of this code, else pass_not_found"
    pool = Pool()
    Pass = pool.get('zl.pass')
    if not isinstance(code, str) or len(code) > 256:
        raise error('pass_not_found', 404)
    try:
        pass_ = Pass.from_code(code)
    except passcode.InvalidCode:
        raise error('pass_not_found', 404)
    if pass_.booking.account != account_of(visitor):
        raise error('pass_not_found', 404)
    return pass_

