# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The booking service: one entry point for every channel.

Capacity, stock, per-user limits and one-pass-per-ID are decided in one
transaction.  On PostgreSQL it runs at READ COMMITTED in a transaction of
its own: the slot counter is moved by a conditional UPDATE that waits for
the row lock and re-reads the committed row, where Tryton's REPEATABLE READ
would fail and retry every concurrent booking of a hot slot.  The other
rules are serialised by transaction-level advisory locks taken in one
global order (keys sorted, then the slot row, then the ticket row), so no
two bookings deadlock.  The rows are inserted before the slot is updated:
the hot row is locked only from its update to the commit.
"""
import functools
import hashlib
import struct

from sql import Literal
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.rpc import RPCReturnException
from trytond.tools import sqlite_apply_types
from trytond.transaction import Transaction, without_check_access

from . import identity, passcode
from .exceptions import BookingError
from .plan import slot_state

HOLDING = ('confirmed', 'used')
MAX_VISITORS = 100
MAX_TEXT = 128


def _error(code, **kwargs):
    return BookingError(
        code, gettext('zl_reservation.msg_%s' % code, **kwargs))


def _lock_key(*parts):
    digest = hashlib.blake2b(
        repr(parts).encode(), digest_size=8).digest()
    return struct.unpack('>q', digest)[0]


def _text(value, required=False):
    if value is None or value == '':
        if required:
            raise _error('invalid_request')
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise _error('invalid_request')
    return value.strip()


def _integer(value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _error('invalid_request')
    return value


def _insert(table, columns, rows):
    "Insert rows and return their ids, in order"
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    if transaction.database.has_returning():
        ids = []
        # One statement per row keeps the ids in the rows' order.
        for row in rows:
            cursor.execute(*table.insert(columns, [row], returning=[table.id]))
            ids.append(cursor.fetchone()[0])
        return ids
    ids = []
    for row in rows:
        cursor.execute(*table.insert(columns, [row]))
        ids.append(cursor.lastrowid)
    return ids


def _forget(Model, ids):
    "Drop cached values of records changed by plain SQL"
    transaction = Transaction()
    transaction.counter += 1
    for cache in transaction.cache.values():
        if Model.__name__ in cache:
            for id_ in ids:
                cache[Model.__name__].pop(id_, None)


def api_answer(func):
    """JSON-RPC methods answer a refusal as {'error': {'code', 'message'}}
    after rolling back, never as a traceback"""
    @functools.wraps(func)
    def wrapper(cls, *args):
        try:
            return func(cls, *args)
        except BookingError as error:
            raise ReturnError(error)
    return wrapper


class ReturnError(RPCReturnException):
    "Answer an RPC with {'error': ...} after rolling the transaction back"

    def __init__(self, error):
        super().__init__()
        self.error = error

    def result(self):
        return {'error': {'code': self.error.code,
                'message': self.error.message}}


class BookingService:
    __slots__ = ()

    # ------------------------------------------------------------------
    # Transaction handling

    @classmethod
    def _decide(cls, func, *args):
        "Run func in a READ COMMITTED transaction (PostgreSQL) and return"
        transaction = Transaction()
        if (backend.name != 'postgresql'
                or transaction.context.get('_zl_decide')):
            # In the caller's transaction: a savepoint keeps a refusal
            # from leaving half a booking behind.
            cursor = transaction.connection.cursor()
            cursor.execute('SAVEPOINT zl_decide')
            try:
                result = func(*args)
            except Exception:
                cursor.execute('ROLLBACK TO SAVEPOINT zl_decide')
                raise
            cursor.execute('RELEASE SAVEPOINT zl_decide')
            return result
        import psycopg
        with transaction.new_transaction() as decision, \
                decision.set_context(_zl_decide=True):
            connection = decision.connection
            # Nothing was done yet in it: its level can still change.
            connection.rollback()
            connection.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
            return func(*args)

    @classmethod
    def _lock(cls, keys):
        if backend.name != 'postgresql' or not keys:
            return
        cursor = Transaction().connection.cursor()
        for key in sorted(set(keys)):
            cursor.execute('SELECT pg_advisory_xact_lock(%s)', (key,))

    # ------------------------------------------------------------------
    # Booking

    @classmethod
    def book(cls, request):
        """Book and return the booking as a dict (API.md), or raise
        BookingError with the API's code.  Every channel calls this."""
        return cls._decide(cls._book, request)

    @classmethod
    @api_answer
    def rpc_book(cls, request):
        "JSON-RPC for window and distributor sales: the caller's channel"
        pool = Pool()
        Seller = pool.get('zl.seller')
        if not isinstance(request, dict):
            raise _error('invalid_request')
        # search() applies the user's data scope; the user must also be
        # one of the channel's accounts.
        if not Seller.search([
                    ('id', '=', _integer(request.get('seller'))),
                    ('users', '=', Transaction().user),
                    ]):
            raise _error('ticket_not_available')
        return {'booking': cls.book(request)}

    @classmethod
    @without_check_access
    def _book(cls, request):
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')

        seller_id = _integer(request.get('seller'))
        ticket_id = _integer(request.get('ticket'))
        slot_id = _integer(request.get('slot'))
        key = _text(request.get('idempotency_key'))
        account = _text(request.get('account'))
        if key:
            cls._lock([_lock_key('idem', seller_id, key)])
            done = cls.search([
                    ('seller', '=', seller_id),
                    ('idempotency_key', '=', key),
                    ], limit=1)
            if done:
                return done[0].to_dict()

        # Plain SQL reads: this is the hot path of every channel.
        ticket = cls._ticket_facts(seller_id, ticket_id)
        slot = cls._slot_facts(slot_id, ticket_id)
        if (not ticket or not slot or not ticket['sellable']
                or (ticket['hidden'] and not request.get('promo'))):
            raise _error('ticket_not_available')
        state, opens_at = slot_state(Configuration.now(), **slot['state'])
        if state == 'closed':
            raise _error('closed')
        if state == 'not_yet_open':
            raise _error('not_open', opens_at=opens_at)

        visitors, contact, group = cls._check_people(ticket, request)
        quantity = group['size'] if group else len(visitors)
        # Full at the last commit: no need to write anything (the
        # conditional update below remains the rule).
        if slot['state']['booked'] + quantity > slot['state']['capacity']:
            raise _error('sold_out')

        secret = Configuration.get_id_secret()
        for visitor in visitors:
            visitor['id_digest'] = identity.id_digest(
                secret, visitor['id_type'], visitor['id_number'])
        digests = [v['id_digest'] for v in visitors]
        if len(set(digests)) != len(digests):
            raise _error('duplicate_visitor')

        date = slot['state']['date']
        limit = ticket['per_user_limit'] if account else 0
        cls._lock(
            [_lock_key('id', ticket_id, date, d) for d in digests]
            + ([_lock_key('account', ticket_id, account)] if limit else []))
        if limit and cls.search([
                    ('account', '=', account),
                    ('ticket', '=', ticket_id),
                    ('state', 'in', HOLDING),
                    ], count=True) >= limit:
            raise _error('limit_exceeded', limit=limit)
        if digests and cls._id_holds_pass(ticket_id, date, digests):
            raise _error('duplicate_visitor')

        # Write first, take the places last: the slot row stays locked only
        # from its update to the commit, which is what bounds a hot slot.
        booking = cls._insert(
            seller_id, ticket, slot_id, date, account, key, visitors,
            contact, group, quantity)
        cls._take(slot_id, ticket_id, ticket['stock'], quantity)
        return booking

    @classmethod
    def _ticket_facts(cls, seller_id, ticket_id):
        "What the rules need of the ticket and its channel, or None"
        pool = Pool()
        Ticket = pool.get('zl.ticket')
        Seller = pool.get('zl.seller')
        SellerTicket = pool.get('zl.seller-zl.ticket')
        Hidden = pool.get('zl.seller-zl.ticket.hidden')
        cursor = Transaction().connection.cursor()
        t, s = Ticket.__table__(), Seller.__table__()
        st, h = SellerTicket.__table__(), Hidden.__table__()
        cursor.execute(*t.join(s, condition=s.id == seller_id).select(
                t.active, t.on_shelf, s.active, t.kind, t.group_min,
                t.group_max, t.per_user_limit, t.stock, t.usable_count,
                where=t.id == ticket_id))
        row = cursor.fetchone()
        if not row:
            return None
        (active, on_shelf, seller_active, kind, group_min, group_max,
            per_user_limit, stock, usable_count) = row
        cursor.execute(*st.select(st.id, where=(st.seller == seller_id)
                & (st.ticket == ticket_id), limit=1))
        authorised = bool(cursor.fetchone())
        cursor.execute(*h.select(h.id, where=(h.seller == seller_id)
                & (h.ticket == ticket_id), limit=1))
        return {
            'id': ticket_id,
            'sellable': bool(
                active and on_shelf and seller_active and authorised),
            'hidden': bool(cursor.fetchone()),
            'kind': kind, 'group_min': group_min, 'group_max': group_max,
            'per_user_limit': per_user_limit, 'stock': stock,
            'usable_count': usable_count,
            }

    @classmethod
    def _slot_facts(cls, slot_id, ticket_id):
        "The slot's state inputs if it belongs to a plan of the ticket"
        pool = Pool()
        Slot = pool.get('zl.reservation.slot')
        Session = pool.get('zl.reservation.session')
        Plan = pool.get('zl.reservation.plan')
        PlanTicket = pool.get('zl.reservation.plan-zl.ticket')
        cursor = Transaction().connection.cursor()
        sl, se, p = Slot.__table__(), Session.__table__(), Plan.__table__()
        pt = PlanTicket.__table__()
        query = (sl
            .join(se, condition=se.id == sl.session)
            .join(p, condition=p.id == sl.plan)
            .join(pt, condition=(pt.plan == p.id) & (pt.ticket == ticket_id))
            .select(
                sl.date.as_('date'), se.checkin_start.as_('checkin_start'),
                se.checkin_end.as_('checkin_end'),
                p.advance_days.as_('advance_days'),
                p.release_time.as_('release_time'),
                sl.closed.as_('closed'), p.state.as_('plan_state'),
                sl.booked.as_('booked'), sl.capacity.as_('capacity'),
                where=sl.id == slot_id, limit=1))
        if backend.name == 'sqlite':
            sqlite_apply_types(query, ['DATE', 'TIME', 'TIME', None, 'TIME'])
        cursor.execute(*query)
        row = cursor.fetchone()
        if not row:
            return None
        names = ['date', 'checkin_start', 'checkin_end', 'advance_days',
            'release_time', 'closed', 'plan_state', 'booked', 'capacity']
        return {'state': dict(zip(names, row))}

    @classmethod
    def _check_people(cls, ticket, request):
        raw = request.get('visitors') or []
        if not isinstance(raw, list) or len(raw) > MAX_VISITORS:
            raise _error('invalid_request')
        visitors = []
        for item in raw:
            if not isinstance(item, dict):
                raise _error('invalid_request')
            id_type = item.get('id_type') or 'resident_id'
            if id_type not in dict(identity.ID_TYPES):
                raise _error('invalid_id_number')
            number = identity.normalize_id(
                id_type, _text(item.get('id_number'), required=True))
            if not identity.is_valid_id(id_type, number):
                raise _error('invalid_id_number')
            phone = _text(item.get('phone'))
            if phone:
                if not identity.is_valid_mobile(phone):
                    raise _error('invalid_phone')
                phone = identity.normalize_mobile(phone)
            visitors.append({
                    'name': _text(item.get('name'), required=True),
                    'id_type': id_type,
                    'id_number': number,
                    'phone': phone,
                    })
        contact = request.get('contact') or {}
        if not isinstance(contact, dict):
            raise _error('invalid_request')
        contact_phone = _text(contact.get('phone'))
        if contact_phone:
            if not identity.is_valid_mobile(contact_phone):
                raise _error('invalid_phone')
            contact_phone = identity.normalize_mobile(contact_phone)
        contact = {'name': _text(contact.get('name')), 'phone': contact_phone}

        group = None
        if ticket['kind'] == 'group':
            raw_group = request.get('group') or {}
            if not isinstance(raw_group, dict):
                raise _error('invalid_request')
            size = raw_group.get('size')
            minimum, maximum = ticket['group_min'], ticket['group_max']
            if (isinstance(size, bool) or not isinstance(size, int)
                    or not minimum <= size <= maximum):
                raise _error('group_size', minimum=minimum, maximum=maximum)
            group = {
                'name': _text(raw_group.get('name'), required=True),
                'leader': _text(raw_group.get('leader'), required=True),
                'size': size,
                }
            if not contact_phone:
                raise _error('invalid_phone')
        elif not visitors:
            raise _error('invalid_request')
        return visitors, contact, group

    @classmethod
    def _id_holds_pass(cls, ticket_id, date, digests):
        pool = Pool()
        Pass = pool.get('zl.pass')
        cursor = Transaction().connection.cursor()
        p = Pass.__table__()
        cursor.execute(*p.select(p.id, where=(p.ticket == ticket_id)
                & (p.date == date) & p.id_digest.in_(digests)
                & p.state.in_(['valid', 'used']), limit=1))
        return bool(cursor.fetchone())

    @classmethod
    def _take(cls, slot_id, ticket_id, stock, quantity):
        "Take quantity places from the slot and the ticket stock, or raise"
        pool = Pool()
        Slot = pool.get('zl.reservation.slot')
        Ticket = pool.get('zl.ticket')
        cursor = Transaction().connection.cursor()
        s = Slot.__table__()
        cursor.execute(*s.update(
                [s.booked], [s.booked + quantity],
                where=(s.id == slot_id)
                & (s.booked + quantity <= s.capacity)
                & (s.closed == Literal(False))))
        # rowcount: SQLite's RETURNING does not accept the table alias.
        if cursor.rowcount != 1:
            cursor.execute(*s.select(s.closed, where=s.id == slot_id))
            closed, = cursor.fetchone()
            raise _error('closed' if closed else 'sold_out')
        _forget(Slot, [slot_id])
        if stock != -1:
            t = Ticket.__table__()
            cursor.execute(*t.update(
                    [t.stock], [t.stock - quantity],
                    where=(t.id == ticket_id) & (t.stock >= quantity)))
            if cursor.rowcount != 1:
                raise _error('sold_out')
            _forget(Ticket, [ticket_id])

    @classmethod
    def _insert(cls, seller_id, ticket, slot_id, date, account, key,
            visitors, contact, group, quantity):
        """Write the booking, its visitors and passes with plain inserts
        (everything was checked above) and answer without reading back."""
        pool = Pool()
        Visitor = pool.get('zl.booking.visitor')
        Pass = pool.get('zl.pass')
        PassKey = pool.get('zl.pass.key')
        Configuration = pool.get('zl.reservation.configuration')
        user = Transaction().user
        number = Configuration.next_booking_number()
        b = cls.__table__()
        booking_id, = _insert(b, [
                b.number, b.seller, b.ticket, b.slot, b.date, b.account,
                b.idempotency_key, b.contact_name, b.contact_phone,
                b.group_name, b.group_leader, b.group_size, b.quantity,
                b.state, b.create_uid, b.create_date], [[
                    number, seller_id, ticket['id'], slot_id, date, account,
                    key, contact['name'], contact['phone'],
                    group and group['name'], group and group['leader'],
                    group and group['size'], quantity, 'confirmed', user,
                    CurrentTimestamp()]])
        v = Visitor.__table__()
        visitor_ids = _insert(v, [
                v.booking, v.name, v.id_type, v.id_masked, v.id_digest,
                v.phone, v.create_uid, v.create_date], [[
                    booking_id, x['name'], x['id_type'],
                    identity.mask_id(x['id_number']), x['id_digest'],
                    x['phone'], user, CurrentTimestamp()]
                for x in visitors])
        key_record, key_id, private = PassKey.signing_material()
        uses = ticket['usable_count']
        if group:
            holders = [(None, None, group['size'])]
        else:
            holders = [(vid, x['id_digest'], 1)
                for vid, x in zip(visitor_ids, visitors)]
        p = Pass.__table__()
        pass_ids = _insert(p, [
                p.booking, p.visitor, p.ticket, p.slot, p.date, p.admits,
                p.uses, p.uses_left, p.id_digest, p.key, p.state,
                p.create_uid, p.create_date], [[
                    booking_id, vid, ticket['id'], slot_id, date, admits,
                    uses, uses, digest, key_record, 'valid', user,
                    CurrentTimestamp()]
                for vid, digest, admits in holders])
        return {
            'id': booking_id,
            'number': number,
            'state': 'confirmed',
            'ticket': ticket['id'],
            'slot': slot_id,
            'date': date.isoformat(),
            'quantity': quantity,
            'visitors': [{
                    'name': x['name'],
                    'id_type': x['id_type'],
                    'id_number': identity.mask_id(x['id_number']),
                    } for x in visitors],
            'passes': [{
                    'id': pass_id,
                    'code': passcode.sign(
                        private, key_id, pass_id, ticket['id'], date,
                        slot_id),
                    'admits': admits,
                    'uses_left': uses,
                    'state': 'valid',
                    } for pass_id, (_, _, admits) in zip(pass_ids, holders)],
            }

    def to_dict(self):
        return {
            'id': self.id,
            'number': self.number,
            'state': self.state,
            'ticket': self.ticket.id,
            'slot': self.slot.id,
            'date': self.date.isoformat(),
            'quantity': self.quantity,
            'visitors': [{
                    'name': v.name,
                    'id_type': v.id_type,
                    'id_number': v.id_masked,
                    } for v in self.visitors],
            'passes': [{
                    'id': p.id,
                    'code': p.code,
                    'admits': p.admits,
                    'uses_left': p.uses_left,
                    'state': p.state,
                    } for p in self.passes],
            }
