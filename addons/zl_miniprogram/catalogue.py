# This file is part of zhonglian-ticketing. See README.md for the licence.
"""What visitors browse: the mini-program seller's tickets and their
sessions, as the visitor API answers them.

Which tickets a seller lists and sells is zl.seller's rule
(`listed_tickets`, `sale_terms`); a session's state is the slot's
(`slot_state`).  This file only shapes their answers."""
import datetime as dt
import hashlib

from sql import Literal

from trytond import backend
from trytond.cache import Cache
from trytond.modules.zl_reservation import places
from trytond.modules.zl_reservation.slot import slot_state
from trytond.pool import Pool
from trytond.protocols.wrappers import Response
from trytond.tools import sqlite_apply_types
from trytond.transaction import Transaction

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
    Session = pool.get('zl.reservation.session')
    Plan = pool.get('zl.reservation.plan')
    PlanTicket = pool.get('zl.reservation.plan-zl.ticket')
    now = Configuration.now()
    places_pool = places.pool_of(ticket.kind, Seller(seller()).kind)
    if start is None:
        start = now.date()
    if end is None:
        end = start + dt.timedelta(days=30)
    if end < start or (end - start).days > MAX_DAYS:
        raise error('invalid_request', 400)
    sl, se, p = Slot.__table__(), Session.__table__(), Plan.__table__()
    pt = PlanTicket.__table__()
    query = (sl
        .join(se, condition=se.id == sl.session)
        .join(p, condition=p.id == sl.plan)
        .join(pt, condition=(pt.plan == p.id) & (pt.ticket == ticket.id))
        .select(
            # Named: SQLite's types are applied by column name.
            sl.date.as_('date'), se.checkin_start.as_('checkin_start'),
            se.checkin_end.as_('checkin_end'),
            p.advance_days.as_('advance_days'),
            p.release_time.as_('release_time'), sl.closed.as_('closed'),
            p.state.as_('plan_state'), sl.held_until.as_('held_until'),
            sl.id.as_('slot_id'), se.name.as_('session'),
            p.reserve_release.as_('reserve_release'),
            *(getattr(sl, n).as_(n) for n in places.COUNTS),
            where=(sl.date >= start) & (sl.date <= end)
            & (p.state != Literal('draft')),
            order_by=[sl.date.asc, se.checkin_start.asc, sl.id.asc]))
    if backend.name == 'sqlite':
        sqlite_apply_types(query, ['DATE', 'TIME', 'TIME', None, 'TIME',
                None, None, 'DATETIME'])
    cursor = Transaction().connection.cursor()
    cursor.execute(*query)
    names = ['date', 'checkin_start', 'checkin_end', 'advance_days',
        'release_time', 'closed', 'plan_state', 'held_until', 'slot_id',
        'session', 'reserve_release'] + list(places.COUNTS)
    result = []
    for row in cursor:
        facts = dict(zip(names, row))
        date, checkin_start = facts['date'], facts['checkin_start']
        free, _ = places.slot_free(facts, places_pool, now)
        state, opens_at = slot_state(
            now, *(facts[n] for n in names[:7]), free)
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
