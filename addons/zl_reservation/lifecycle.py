# This file is part of zhonglian-ticketing. See README.md for the licence.
"""After booking: cancellation (places back at once, passes revoked) and
the end of the session (passes expire, no-shows)."""
import datetime as dt

from sql.operators import Equal

from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from .service import _error, _forget, _integer, api_answer


class BookingLifecycle:
    __slots__ = ()

    @classmethod
    def _give_back(cls, slot, ticket, quantity):
        "Return places to the slot (never below zero) and the stock"
        pool = Pool()
        Slot = pool.get('zl.reservation.slot')
        Ticket = pool.get('zl.ticket')
        cursor = Transaction().connection.cursor()
        s = Slot.__table__()
        cursor.execute(*s.update(
                [s.booked], [s.booked - quantity],
                where=(s.id == slot.id) & (s.booked >= quantity)))
        t = Ticket.__table__()
        cursor.execute(*t.update(
                [t.stock], [t.stock + quantity],
                where=(t.id == ticket.id) & ~Equal(t.stock, -1)))
        _forget(Slot, [slot.id])
        _forget(Ticket, [ticket.id])

    @classmethod
    def cancel_bookings(cls, bookings):
        """Cancel (refund for a paid ticket) before the deadline; places
        return to the slot at once and the passes are revoked."""
        return cls._decide(cls._cancel, [b.id for b in bookings])

    @classmethod
    @api_answer
    def rpc_cancel(cls, booking_id):
        # search() keeps the caller to the bookings of their data scope.
        bookings = cls.search([('id', '=', _integer(booking_id))])
        if not bookings:
            raise _error('unknown')
        cls.cancel_bookings(bookings)
        # Read in a new transaction: the cancellation committed in its own.
        return {'booking': cls._decide(
                lambda: cls(bookings[0].id).to_dict())}

    @classmethod
    @without_check_access
    def _cancel(cls, booking_ids):
        pool = Pool()
        Pass = pool.get('zl.pass')
        Configuration = pool.get('zl.reservation.configuration')
        config = Configuration(1)
        now = Configuration.now()
        deadline = dt.timedelta(minutes=config.cancel_deadline)
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        for booking in cls.browse(booking_ids):
            if not booking.ticket.refundable:
                raise _error('not_refundable')
            if now >= booking.slot.window()[0] - deadline:
                raise _error('cancel_too_late')
            state = 'refunded' if booking.ticket.price else 'cancelled'
            # Conditional: two cancellations of one booking give back once.
            cursor.execute(*table.update(
                    [table.state], [state],
                    where=(table.id == booking.id)
                    & (table.state == 'confirmed')))
            if cursor.rowcount != 1:
                raise _error('not_cancellable')
            _forget(cls, [booking.id])
            cls._give_back(booking.slot, booking.ticket, booking.quantity)
            passes = Pass.search([('booking', '=', booking.id)])
            Pass.write(passes, {'state': state})
            cls.log([booking], 'transition', 'state:%s' % state)

    # ------------------------------------------------------------------
    # After the session

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
        ended = [b for b in bookings if b.slot.window()[1] <= now]
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
