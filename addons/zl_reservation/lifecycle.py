# This file is part of zhonglian-ticketing. See README.md for the licence.
"""After booking: cancellation by the tiers of 取消规则 (places back to
their pool, passes revoked, a strike in a striking tier) and the end of the
session (passes expire, no-shows and their strikes)."""
import datetime as dt
import json

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from . import policy
from .engine import (
    check_button,
    decide,
    forget,
    positive_int,
    refusal,
    rpc_answer,
)
from .exceptions import BookingError


def moment(value):
    "A site time as messages show it"
    return value.strftime('%Y-%m-%d %H:%M') if value else ''


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
    def cancel_terms(cls, state, refundable, ticket_id, date, start,
            now=None):
        """What cancelling a booking means now: the one cancellation rule,
        for the cancellation and for every preview (window, visitor API,
        H5 page).  The booking is in state, of a ticket refundable or not,
        for a session on date whose check-in starts at start (site time).

        Returns a dict: code (the refusal, or None), outcome ('free' or
        'strike' when allowed), until (when this outcome ends, or since
        when cancelling is closed), closes (the last moment to cancel) and
        message (the preview, translated)."""
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        CancelTier = pool.get('zl.reservation.cancel_tier')
        if now is None:
            now = Configuration.now()
        tiers = CancelTier.tiers(ticket_id)
        if tiers:
            outcome, until = policy.cancel_outcome(tiers, date, start, now)
            closes = max(policy.tier_end(t, date, start) for t in tiers)
            closed = 'cancel_closed'
        else:
            # No tiers: free until the deadline (minutes before check-in).
            closes = start - dt.timedelta(
                minutes=Configuration.values()['cancel_deadline'])
            outcome, until = ('free' if now < closes else None), closes
            closed = 'cancel_too_late'
        if not refundable:
            code = 'not_refundable'
        elif outcome is None:
            code = closed
        elif state != 'confirmed':
            code = 'not_cancellable'
        else:
            code = None
        arguments = {'until': moment(until), 'closes': moment(closes)}
        if code:
            message = gettext('zl_reservation.msg_%s' % code, **arguments)
        else:
            message = gettext(
                'zl_reservation.msg_cancel_preview_%s' % outcome,
                **arguments)
        return {
            'code': code, 'outcome': None if code else outcome,
            'until': until, 'closes': closes, 'message': message,
            }

    @classmethod
    @without_check_access
    def _cancel(cls, booking_ids):
        pool = Pool()
        Pass = pool.get('zl.pass')
        Slot = pool.get('zl.reservation.slot')
        Ticket = pool.get('zl.ticket')
        Configuration = pool.get('zl.reservation.configuration')
        Strike = pool.get('zl.reservation.strike')
        now = Configuration.now()
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        for booking in cls.browse(booking_ids):
            # The state is decided by the conditional update below.
            terms = cls.cancel_terms('confirmed', booking.ticket.refundable,
                booking.ticket.id, booking.date, booking.slot.window()[0],
                now)
            if terms['code']:
                raise BookingError(terms['code'], terms['message'])
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
            if terms['outcome'] == 'strike':
                Strike.record([booking], 'late_cancel', now.date())

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
        Strike = pool.get('zl.reservation.strike')
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
            if Configuration.values()['strike_no_show']:
                for booking in no_show:
                    Strike.record([booking], 'no_show', booking.date)
        if used:
            cls.write(used, {'state': 'used'})
            cls.log(used, 'transition', 'state:used')
        return len(no_show), len(used)
