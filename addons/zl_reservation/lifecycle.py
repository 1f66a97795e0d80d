# This file is part of zhonglian-ticketing. See README.md for the licence.
"""After booking: cancellation (places back at once, passes revoked) and
the end of the session (passes expire, no-shows)."""
import datetime as dt
import json

from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from .engine import (
    check_button,
    decide,
    forget,
    positive_int,
    refusal,
    rpc_answer,
)


class BookingLifecycle:
    __slots__ = ()

    @classmethod
    def cancel_bookings(cls, bookings):
        """Cancel (refund for a paid ticket) before the deadline; places
        return to the slot at once and the passes are revoked."""
        return decide(cls._cancel, [b.id for b in bookings])

    @classmethod
    @rpc_answer
    def rpc_cancel(cls, *args):
        """JSON-RPC cancellation: the Cancel button's permission, the
        caller's data scope, then the same rules"""
        if len(args) != 1:
            raise refusal('invalid_request')
        booking_id = positive_int(args[0])
        check_button(cls, 'cancel')
        # search() keeps the caller to the bookings of their data scope.
        bookings = cls.search([('id', '=', booking_id)])
        if not bookings:
            raise refusal('unknown')
        cls.cancel_bookings(bookings)
        # Read in a new transaction: the cancellation committed in its own.
        return {'booking': decide(lambda: cls(bookings[0].id).to_dict())}

    @classmethod
    def cancel_terms(cls, state, refundable, start, now=None):
        """(refusal code or None, the last moment to cancel) of a booking
        in state, of a ticket refundable or not, whose session's check-in
        starts at start (site time): the one cancellation rule, for the
        cancellation and for what clients show before it"""
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        if now is None:
            now = Configuration.now()
        until = start - dt.timedelta(
            minutes=Configuration.values()['cancel_deadline'])
        if not refundable:
            return 'not_refundable', until
        if now >= until:
            return 'cancel_too_late', until
        if state != 'confirmed':
            return 'not_cancellable', until
        return None, until

    @classmethod
    @without_check_access
    def _cancel(cls, booking_ids):
        pool = Pool()
        Pass = pool.get('zl.pass')
        Slot = pool.get('zl.reservation.slot')
        Ticket = pool.get('zl.ticket')
        Configuration = pool.get('zl.reservation.configuration')
        now = Configuration.now()
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        for booking in cls.browse(booking_ids):
            # The state is decided by the conditional update below.
            refused, _ = cls.cancel_terms('confirmed',
                booking.ticket.refundable, booking.slot.window()[0], now)
            if refused:
                raise refusal(refused)
            state = 'refunded' if booking.ticket.price else 'cancelled'
            # Conditional: two cancellations of one booking give back once.
            cursor.execute(*table.update(
                    [table.state], [state],
                    where=(table.id == booking.id)
                    & (table.state == 'confirmed')))
            if cursor.rowcount != 1:
                raise refusal('not_cancellable')
            forget(cls, [booking.id])
            Slot.give_back(
                booking.slot.id, booking.quantity, booking.pool, now)
            Ticket.give_back_stock(booking.ticket.id, booking.quantity)
            passes = Pass.search([('booking', '=', booking.id)])
            Pass.write(passes, {'state': state})
            # Who cancelled: the staff user, or the visitor account.
            extra = {'changes': json.dumps(
                    [['account', None, booking.account]],
                    ensure_ascii=False)} if booking.account else {}
            cls.log([booking], 'transition', 'state:%s' % state, **extra)

    # ------------------------------------------------------------------
    # After the session

    @classmethod
    def checkin_grace(cls):
        """How long after a session's check-in window its passes may still
        be used (gates with a tolerance extend it: zl_gate)"""
        return dt.timedelta(0)

    @classmethod
    @without_check_access
    def expire_cron(cls, now=None):
        """After a slot's check-in window: unused passes expire; bookings
        nobody came for become no-show, the others used."""
        pool = Pool()
        Pass = pool.get('zl.pass')
        Configuration = pool.get('zl.reservation.configuration')
        if now is None:
            now = Configuration.now()
        bookings = cls.search([
                ('state', '=', 'confirmed'),
                ('date', '<=', now.date()),
                ])
        grace = cls.checkin_grace()
        ended = [b for b in bookings if b.slot.window()[1] + grace <= now]
        to_expire, no_show, used = [], [], []
        for booking in ended:
            passes = list(booking.passes)
            to_expire.extend(p for p in passes if p.state == 'valid')
            if any(p.uses_left < p.uses for p in passes):
                used.append(booking)
            else:
                no_show.append(booking)
        if to_expire:
            Pass.write(to_expire, {'state': 'expired'})
        if no_show:
            cls.write(no_show, {'state': 'no_show'})
            cls.log(no_show, 'transition', 'state:no_show')
        if used:
            cls.write(used, {'state': 'used'})
            cls.log(used, 'transition', 'state:used')
        return len(no_show), len(used)
