# This file is part of zhonglian-ticketing. See README.md for the licence.
"""What visitors browse: the mini-program seller's tickets and their
sessions, as the visitor API answers them.

Which tickets a seller lists and sells is zl.seller's rule
(`listed_tickets`, `sale_terms`); a session's state is the slot's
(`slot_state`).  This file only shapes their answers."""
import datetime as dt
import hashlib

from sql import Literal

from trytond.cache import Cache
from trytond.modules.zl_reservation import places, policy
from trytond.modules.zl_reservation.slot import STATE_FACTS, slot_state
from trytond.pool import Pool
from trytond.protocols.wrappers import Response

from .api import answer, error, iso, to_json, values

# The longest range of dates one slots request may ask for
MAX_DAYS = 62
# At the release moment thousands of visitors ask the same sessions: each
# worker answers them from one reading per second (a booking decides on
# the row, whatever a visitor saw).
_answers = Cache('zl.mp.catalogue', duration=1, context=False)


def cached(key, func, *args):
    """func(*args) as JSON text, or its text of the last second (kept as
    text: nothing to encode again, and Tryton's cache freezes objects)"""
    text = _answers.get(key)
    if text is None:
        text = to_json(func(*args))
        _answers.set(key, text)
    return answer(text)


def seller():
    "The mini-program seller the API sells through (server established)"
    seller_id = values()['seller']
    if not seller_id:
        raise error('not_configured', 503)
    return seller_id


def visible_ticket(ticket_id, promotion=None):
    """The ticket if the mini-program seller would sell it to this
    visitor (hidden ones with their promotion), else ticket_not_found"""
    pool = Pool()
    Seller = pool.get('zl.seller')
    Ticket = pool.get('zl.ticket')
    if not Seller.sale_terms(seller(), ticket_id, promotion=promotion):
        raise error('ticket_not_found', 404)
    return Ticket(ticket_id)


def ticket_list(base):
    pool = Pool()
    Seller = pool.get('zl.seller')
    Ticket = pool.get('zl.ticket')
    tickets = Ticket.browse(Seller.listed_tickets(seller()))
    return {'tickets': [ticket_summary(t, base) for t in tickets]}


def ticket_summary(ticket, base):
    return {
        'id': ticket.id,
        'name': ticket.name,
        'kind': ticket.kind,
        'category': ticket.category.name if ticket.category else None,
        'price': ticket.price,
        'original_price': ticket.original_price,
        'carousel': bool(ticket.carousel),
        'poster_url': (
            '%s/tickets/%s/poster' % (base, ticket.id)
            if ticket.poster else None),
        }


def ticket_detail(ticket, base):
    result = ticket_summary(ticket, base)
    result.update({
            'refundable': bool(ticket.refundable),
            'real_name': bool(ticket.real_name),
            'per_user_limit': ticket.per_user_limit,
            'group_min': ticket.group_min if ticket.kind == 'group' else None,
            'group_max': ticket.group_max if ticket.kind == 'group' else None,
            'usable_count': ticket.usable_count,
            'visit_rules': visit_rules(ticket),
            'album': [{
                    'image_url': '%s/tickets/%s/images/%s' % (
                        base, ticket.id, image.id),
                    'caption': image.caption,
                    } for image in ticket.images],
            # Sanitised when staff saved it (zl_ticket_core image.py).
            'intro_html': ticket.intro or '',
            'phone': ticket.phone,
            'address': ticket.address,
            })
    return result


def visit_rules(ticket):
    """The per-booking rules of an individual ticket (None for a group
    ticket: a group is counted, not named): null when there is no limit"""
    if ticket.kind == 'group':
        return None
    rules = ticket.booking_rules()
    return {
        'visitors_max': rules['booking_visitors_max'] or None,
        'minors_max': rules['booking_minors_max'] or None,
        'minors_need_adult': rules['minors_need_adult'],
        'minor_age': policy.MINOR_AGE,
        }


def parse_date(value, default):
    if value is None or value == '':
        return default
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise error('invalid_request', 400)


def slots(ticket, start, end):
    """The ticket's dated sessions from start to end with their state
    (slot_state, the one rule) and the places a booking here may take
    (places.free_places: the window's and the groups' reserves are not
    the visitor's until their release)"""
    pool = Pool()
    Configuration = pool.get('zl.reservation.configuration')
    Seller = pool.get('zl.seller')
    Slot = pool.get('zl.reservation.slot')
    now = Configuration.now()
    places_pool = places.pool_of(ticket.kind, Seller(seller()).kind)
    if start is None:
        start = now.date()
    if end is None:
        end = start + dt.timedelta(days=30)
    if end < start or (end - start).days > MAX_DAYS:
        raise error('invalid_request', 400)
    rows = Slot.facts(ticket.id, lambda sl, p: (sl.date >= start)
        & (sl.date <= end) & (p.state != Literal('draft')), order=True)
    result = []
    for facts in rows:
        date, checkin_start = facts['date'], facts['checkin_start']
        free, _ = places.slot_free(facts, places_pool, now)
        state, opens_at = slot_state(
            now, *(facts[n] for n in STATE_FACTS), free)
        result.append({
                'slot_id': facts['slot_id'],
                'date': iso(date),
                'session': facts['session'],
                'checkin_start': iso(dt.datetime.combine(date, checkin_start)),
                'checkin_end': iso(
                    dt.datetime.combine(date, facts['checkin_end'])),
                'capacity': facts['capacity'],
                'available': free,
                'state': state,
                'opens_at': iso(opens_at) if state == 'not_yet_open' else None,
                })
    return {'ticket_id': ticket.id, 'slots': result}


def revalidated(data, request, content_type, headers):
    """data with headers and its ETag (its content's digest), or 304 when
    the client already has it: pictures and the H5 page's files"""
    etag = hashlib.blake2b(data, digest_size=12).hexdigest()
    headers = dict(headers, ETag='"%s"' % etag)
    if request.if_none_match and etag in request.if_none_match:
        return Response(status=304, headers=headers)
    return Response(data, content_type=content_type, headers=headers)


def image_response(data, request, max_age=3600):
    "A picture with cache headers"
    data = bytes(data)
    kind = 'image/png' if data[:8] == b'\x89PNG\r\n\x1a\n' else 'image/jpeg'
    return revalidated(data, request, kind,
        {'Cache-Control': 'public, max-age=%d' % max_age})
