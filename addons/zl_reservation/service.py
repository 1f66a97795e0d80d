# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The booking service: one entry point for every path.

`Booking.book(request, seller, clerk=None, account=None, promotion=None)`
separates what the client asked (request: ticket, slot, visitors, contact,
group, idempotency key) from what the server established (the seller it
sells through, the staff clerk selling, the visitor account logged in, the
ticket a verified promotion opens).  Nothing in the request carries
authority.

Capacity, stock, per-user limits, one-pass-per-ID and the site's visit
policy (policy.py: per account and ID across tickets and dates, minors)
are decided in one transaction (engine.decide: READ COMMITTED on
PostgreSQL).  The slot counter is moved by a conditional UPDATE that
waits for the row lock and re-reads the committed row, where Tryton's
REPEATABLE READ would fail and retry every concurrent booking of a hot
slot.  The other rules are serialised by
advisory locks taken in one global order (keys sorted, then the slot row,
then the ticket row), so no two bookings deadlock.  The rows are inserted
before the slot is updated: the hot row is locked only from its update to
the commit.
"""
import json

from sql.functions import CurrentTimestamp

from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from . import identity, passcode, places, policy
from .engine import (
    advisory_lock,
    decide,
    insert_rows,
    lock_key,
    positive_int,
    refusal,
    rpc_answer,
    text,
)
from .holdings import BookingHoldings
from .people import BookingPeople
from .slot import STATE_FACTS, slot_state


class BookingService(BookingHoldings, BookingPeople):
    __slots__ = ()

    @classmethod
    def book(cls, request, seller, clerk=None, account=None, promotion=None,
            origin=None, companions=None):
        """Book and return the booking as a dict (doc/api.md), or raise
        BookingError with the API's code.  Every path calls this.

        request: what the client asked; seller: the seller (zl.seller id)
        the server sells through; clerk: the res.user selling at the window
        or for a distributor (must be one of the seller's accounts, in
        scope), None when the server is the seller's own face (visitor
        API); account: the visitor account (per-user limit), established by
        the visitor's login; promotion: the hidden ticket a verified
        promotion code opens; origin: what the server established the
        booking came through (e.g. 'zl.mp.promo,3'), recorded; companions:
        the account's saved visitors by id ({id: {name, id_type, id_masked,
        id_digest, phone}}), which a request visitor names as
        {"companion": id} instead of giving an ID number."""
        return decide(
            cls._book, request, seller, clerk, account, promotion, origin,
            companions or {})

    @classmethod
    @rpc_answer
    def rpc_book(cls, *args):
        """JSON-RPC for window and distributor accounts: the request names
        one of the caller's sellers; the caller is the clerk"""
        if len(args) != 1 or not isinstance(args[0], dict):
            raise refusal('invalid_request')
        request, = args
        seller = positive_int(request.get('seller'))
        return {'booking': cls.book(
                request, seller, clerk=Transaction().user)}

    @classmethod
    @without_check_access
    def _book(cls, request, seller_id, clerk, account, promotion, origin,
            companions):
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        Seller = pool.get('zl.seller')
        Slot = pool.get('zl.reservation.slot')
        Ticket = pool.get('zl.ticket')

        if not isinstance(request, dict):
            raise refusal('invalid_request')
        seller_id = positive_int(seller_id)
        ticket_id = positive_int(request.get('ticket'))
        slot_id = positive_int(request.get('slot'))
        key = text(request.get('idempotency_key'))
        user = Transaction().user
        if account is not None:
            account = str(account)
        if key:
            advisory_lock([lock_key('idem', seller_id, key)])
            done = cls._keyed(seller_id, key)
            if done:
                # The key answers only its own author.
                booking_id, author_account, author = done
                if author_account != account or author != user:
                    raise refusal('idempotency_conflict')
                return dict(cls(booking_id).to_dict(), created=False)

        # Plain SQL reads: this is the hot path of every seller.
        ticket = Seller.sale_terms(
            seller_id, ticket_id, clerk=clerk, promotion=promotion)
        slot = cls._slot_facts(slot_id, ticket_id)
        if not ticket or not slot:
            raise refusal('ticket_not_available')
        now = Configuration.now()
        places_pool = places.pool_of(ticket['kind'], ticket['seller_kind'])
        free, released = places.slot_free(slot['places'], places_pool, now)
        state, opens_at = slot_state(now, free=free, **slot['state'])
        if state == 'closed':
            raise refusal('closed')
        if state == 'not_yet_open':
            raise refusal('not_open', opens_at=opens_at)

        visitors, contact, group = cls._check_people(
            ticket, request, companions)
        quantity = group['size'] if group else len(visitors)
        # Full for this pool at the last commit: no need to write anything
        # (the conditional update below remains the rule).
        if quantity > free:
            raise refusal('sold_out')

        secret = Configuration.get_id_secret()
        for visitor in visitors:
            if visitor['id_number'] is not None:
                visitor['id_digest'] = identity.id_digest(
                    secret, visitor['id_type'], visitor['id_number'])
        digests = [v['id_digest'] for v in visitors]
        if len(set(digests)) != len(digests):
            raise refusal('duplicate_visitor')

        date = slot['state']['date']
        limit = ticket['per_user_limit'] if account else 0
        rules = policy.for_ticket(Configuration.values(), ticket)
        if not group:
            cls._refuse(policy.visitors_refusal(rules, quantity))
            cls._refuse(policy.minors_refusal(
                    rules, [v['birth_date'] for v in visitors], date))
        per_day = account and (rules['account_people_per_day']
            or rules['account_bookings_per_day'])
        window = policy.id_window(rules, date) if digests else None
        # The policy's keys span tickets (and, per ID, dates): a booking on
        # another ticket or channel waits for this one.
        advisory_lock(
            [lock_key('id', ticket_id, date, d) for d in digests]
            + ([lock_key('account', ticket_id, account)] if limit else [])
            + ([lock_key('account-day', account, date)] if per_day else [])
            + ([lock_key('id-any', d) for d in digests] if window else []))
        held = cls._holdings(ticket_id, date, account, digests,
            per_ticket=bool(limit), per_day=per_day, window=window,
            strikes=rules['strike_limit'])
        if rules['strike_limit']:
            cls._check_restriction(
                account, visitors, now.date(), held['strikes'])
        if limit and held['ticket'] >= limit:
            raise refusal('limit_exceeded', limit=limit)
        if held['passes']:
            raise refusal('duplicate_visitor')
        if per_day:
            cls._refuse(policy.account_refusal(rules,
                    held['people'], held['bookings'], quantity))
        if window:
            for digest in digests:
                cls._refuse(policy.id_refusal(
                        rules, held['ids'].get(digest, []), date))

        # Write first, take the places last: the slot row stays locked only
        # from its update to the commit, which is what bounds a hot slot.
        booking = cls._insert(
            seller_id, ticket, slot_id, date, account, key, visitors,
            contact, group, quantity, origin, places_pool)
        cls._audit_booking(booking, ticket, slot, account)
        # What a client shows of its new booking, from the facts at hand.
        state = slot['state']
        booking.update({
                'created': True,
                'ticket_name': ticket['name'],
                'refundable': ticket['refundable'],
                'session': slot['session'],
                'checkin_start': state['checkin_start'].isoformat(),
                'checkin_end': state['checkin_end'].isoformat(),
                })
        refused = Slot.take(slot_id, quantity, places_pool, now, released)
        if refused:
            raise refusal(refused)
        if ticket['stock'] != -1 and not Ticket.take_stock(
                ticket_id, quantity):
            raise refusal('sold_out')
        return booking

    @classmethod
    def _keyed(cls, seller_id, key):
        "(id, account, author) of the seller's booking with this key"
        cursor = Transaction().connection.cursor()
        b = cls.__table__()
        cursor.execute(*b.select(b.id, b.account, b.create_uid,
                where=(b.seller == seller_id) & (b.idempotency_key == key),
                limit=1))
        return cursor.fetchone()

    @classmethod
    def _audit_booking(cls, booking, ticket, slot, account):
        """One create entry of 日志查看 per booking, written with the
        booking (the ORM's create log is skipped by the plain inserts)"""
        pool = Pool()
        Log = pool.get('ir.model.log')
        log = Log.__table__()
        changes = [
            ['seller', None, ticket['seller_name']],
            ['ticket', None, ticket['name']],
            ['slot', None, '%s %s' % (booking['date'], slot['session'])],
            ['account', None, account],
            ['quantity', None, str(booking['quantity'])],
            ['visitors', None, ', '.join(
                    '%s %s' % (v['name'], v['id_number'])
                    for v in booking['visitors']) or None],
            ]
        user = Transaction().user
        insert_rows(log, [
                log.resource, log.event, log.user, log.record_name,
                log.changes, log.create_uid, log.create_date], [[
                    'zl.booking,%s' % booking['id'], 'create', user,
                    booking['number'],
                    json.dumps([c for c in changes if c[2] is not None],
                        ensure_ascii=False),
                    user, CurrentTimestamp()]])

    @classmethod
    def _slot_facts(cls, slot_id, ticket_id):
        "The slot's state inputs if it belongs to a plan of the ticket"
        Slot = Pool().get('zl.reservation.slot')
        rows = Slot.facts(ticket_id, lambda sl, p: sl.id == slot_id, limit=1)
        if not rows:
            return None
        facts, = rows
        # slot_state's inputs apart; places.slot_free reads the facts.
        return {'state': {n: facts[n] for n in STATE_FACTS},
            'places': facts, 'session': facts['session']}

    @classmethod
    def _insert(cls, seller_id, ticket, slot_id, date, account, key,
            visitors, contact, group, quantity, origin, places_pool):
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
        booking_id, = insert_rows(b, [
                b.number, b.seller, b.ticket, b.slot, b.date, b.account,
                b.idempotency_key, b.contact_name, b.contact_phone,
                b.group_name, b.group_leader, b.group_size, b.quantity,
                b.origin, b.pool, b.state, b.create_uid, b.create_date], [[
                    number, seller_id, ticket['id'], slot_id, date, account,
                    key, contact['name'], contact['phone'],
                    group and group['name'], group and group['leader'],
                    group and group['size'], quantity, origin, places_pool,
                    'confirmed', user, CurrentTimestamp()]])
        for x in visitors:
            if x['id_number'] is not None:
                x['id_masked'] = identity.mask_id(x['id_number'])
        v = Visitor.__table__()
        visitor_ids = insert_rows(v, [
                v.booking, v.name, v.id_type, v.id_masked, v.id_digest,
                v.phone, v.create_uid, v.create_date], [[
                    booking_id, x['name'], x['id_type'],
                    x['id_masked'], x['id_digest'],
                    x['phone'], user, CurrentTimestamp()]
                for x in visitors])
        key_record, key_id, private = PassKey.signing_material()
        uses = ticket['usable_count']
        if group:
            holders = [(None, None, group['size'], None, None)]
        else:
            day_key = Pass.day_key(date)
            # A saved companion's number is not known: its pass is found
            # by its QR code and, online, by its digest.
            holders = [(vid, x['id_digest'], 1,
                    identity.id_digest(day_key, x['id_type'], x['id_number'])
                    if x['id_number'] is not None else None,
                    identity.age_band(x.get('birth_date'), date))
                for vid, x in zip(visitor_ids, visitors)]
        p = Pass.__table__()
        pass_ids = insert_rows(p, [
                p.booking, p.visitor, p.ticket, p.slot, p.date, p.admits,
                p.uses, p.uses_left, p.id_digest, p.day_digest, p.age_band,
                p.key, p.state, p.create_uid, p.create_date], [[
                    booking_id, vid, ticket['id'], slot_id, date, admits,
                    uses, uses, digest, day_digest, band, key_record,
                    'valid', user, CurrentTimestamp()]
                for vid, digest, admits, day_digest, band in holders])
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
                    'id_number': x['id_masked'],
                    } for x in visitors],
            'passes': [{
                    'id': pass_id,
                    'code': passcode.sign(
                        private, key_id, pass_id, ticket['id'], date,
                        slot_id),
                    'admits': admits,
                    'uses_left': uses,
                    'state': 'valid',
                    } for pass_id, (_, _, admits, _, _) in zip(
                    pass_ids, holders)],
            }

    def to_dict(self):
        return {
            'id': self.id,
            'number': self.number,
            'state': self.state,
            'ticket': self.ticket.id,
            'ticket_name': self.ticket.name,
            'refundable': bool(self.ticket.refundable),
            'slot': self.slot.id,
            'session': self.slot.session.name,
            'checkin_start': self.slot.session.checkin_start.isoformat(),
            'checkin_end': self.slot.session.checkin_end.isoformat(),
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
