# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Slots: a session (场次) on a date, and its places.

The places of a slot move only here: taken by a booking, given back by a
cancellation, always by conditional SQL updates that the database bounds
with Check constraints (0 <= booked <= capacity), whatever the path.
"""
import datetime as dt

from sql import Literal

from trytond.i18n import gettext
from trytond.model import Check, ModelSQL, ModelView, Unique, fields
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .engine import forget
from .exceptions import SlotAccessError

# Written by the engine only (plans generate slots, bookings move places).
ENGINE_FIELDS = {'plan', 'session', 'date', 'booked'}


def slot_state(now, date, checkin_start, checkin_end, advance_days,
        release_time, closed, plan_state, booked, capacity):
    """open, not_yet_open (with the opening moment), sold_out or closed.

    The one rule for every caller: staff views, the booking service and
    the visitor API."""
    opens_at = dt.datetime.combine(
        date - dt.timedelta(days=advance_days), release_time or dt.time(0))
    if (closed or plan_state != 'active'
            or now >= dt.datetime.combine(date, checkin_end)):
        return 'closed', opens_at
    if now < opens_at:
        return 'not_yet_open', opens_at
    if booked >= capacity:
        return 'sold_out', opens_at
    return 'open', opens_at


class Slot(AuditMixin, ModelSQL, ModelView):
    "A session on a date: what visitors book"
    __name__ = 'zl.reservation.slot'
    __string__ = "Slot"

    plan = fields.Many2One(
        'zl.reservation.plan', "Period", required=True, ondelete='CASCADE',
        readonly=True)
    session = fields.Many2One(
        'zl.reservation.session', "Session", required=True,
        ondelete='CASCADE', readonly=True)
    date = fields.Date("Date", required=True, readonly=True)
    checkin_start = fields.Function(
        fields.Time("Check-in Start"), 'get_session_field')
    checkin_end = fields.Function(
        fields.Time("Check-in End"), 'get_session_field')
    capacity = fields.Integer("Capacity", required=True)
    booked = fields.Integer("Booked", readonly=True)
    available = fields.Function(fields.Integer("Available"), 'get_available')
    occupancy = fields.Function(
        fields.Float("Occupancy", digits=(1, 4)), 'get_available')
    closed = fields.Boolean(
        "Closed", help="A closed slot takes no new booking.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('session_date_uniq', Unique(t, t.session, t.date),
                'zl_reservation.msg_slot_unique'),
            ('capacity_positive', Check(t, t.capacity >= 0),
                'zl_reservation.msg_slot_capacity_check'),
            ('booked_positive', Check(t, t.booked >= 0),
                'zl_reservation.msg_slot_booked_check'),
            # Capacity never drops below what is booked: staff close the
            # slot instead, the bookings keep their places.
            ('booked_within_capacity', Check(t, t.booked <= t.capacity),
                'zl_reservation.msg_capacity_below_booked'),
            ]
        cls._order = [('date', 'ASC'), ('session', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'close_slot': {
                    'invisible': Eval('closed', False),
                    'depends': ['closed'],
                    },
                'reopen_slot': {
                    'invisible': ~Eval('closed', False),
                    'depends': ['closed'],
                    },
                })

    @classmethod
    def default_booked(cls):
        return 0

    @classmethod
    def default_closed(cls):
        return False

    def get_rec_name(self, name):
        return '%s %s' % (self.date, self.session.name)

    def get_session_field(self, name):
        return getattr(self.session, name)

    @classmethod
    def get_available(cls, slots, names):
        result = {n: {} for n in names}
        for slot in slots:
            available = max(slot.capacity - slot.booked, 0)
            if 'available' in names:
                result['available'][slot.id] = available
            if 'occupancy' in names:
                result['occupancy'][slot.id] = (
                    slot.booked / slot.capacity if slot.capacity else 1.0)
        return result

    def opens_at(self):
        "Site time the slot opens for booking"
        return self._state(dt.datetime.min)[1]

    def window(self):
        "The check-in window as site datetimes"
        return (
            dt.datetime.combine(self.date, self.session.checkin_start),
            dt.datetime.combine(self.date, self.session.checkin_end))

    def booking_state(self, now):
        "open, not_yet_open, sold_out or closed (doc/api.md)"
        return self._state(now)[0]

    def _state(self, now):
        return slot_state(
            now, self.date, self.session.checkin_start,
            self.session.checkin_end, self.plan.advance_days,
            self.plan.release_time, self.closed, self.plan.state,
            self.booked, self.capacity)

    # ------------------------------------------------------------------
    # Places: the engine's only writers of `booked`

    @classmethod
    def take(cls, slot_id, quantity):
        """Take quantity places of an open slot in one conditional update,
        or return the reason it cannot: 'closed' or 'sold_out'"""
        cursor = Transaction().connection.cursor()
        s = cls.__table__()
        cursor.execute(*s.update(
                [s.booked], [s.booked + quantity],
                where=(s.id == slot_id)
                & (s.booked + quantity <= s.capacity)
                & (s.closed == Literal(False))))
        # rowcount: SQLite's RETURNING does not accept the table alias.
        if cursor.rowcount != 1:
            cursor.execute(*s.select(s.closed, where=s.id == slot_id))
            closed, = cursor.fetchone()
            return 'closed' if closed else 'sold_out'
        forget(cls, [slot_id])

    @classmethod
    def give_back(cls, slot_id, quantity):
        "Return quantity places to the slot, never below zero"
        cursor = Transaction().connection.cursor()
        s = cls.__table__()
        cursor.execute(*s.update(
                [s.booked], [s.booked - quantity],
                where=(s.id == slot_id) & (s.booked >= quantity)))
        forget(cls, [slot_id])

    # ------------------------------------------------------------------
    # Plan changes

    @classmethod
    @without_check_access
    def follow_plans(cls, plans, today=None):
        """Close or remove the future slots a plan no longer opens (a
        closed date or weekday added, the dates shortened): a slot nobody
        ever booked is deleted, the others are closed and keep their
        bookings.  Reopening a closed slot stays a staff decision."""
        pool = Pool()
        Booking = pool.get('zl.booking')
        Configuration = pool.get('zl.reservation.configuration')
        if today is None:
            today = Configuration.now().date()
        to_delete, to_close = [], []
        for plan in plans:
            closed_weekdays = set(plan.closed_weekdays or ())
            closed_dates = {c.date for c in plan.closed_dates}
            for slot in cls.search([
                        ('plan', '=', plan.id),
                        ('date', '>=', today),
                        ]):
                if (plan.start_date <= slot.date <= plan.end_date
                        and str(slot.date.weekday()) not in closed_weekdays
                        and slot.date not in closed_dates):
                    continue
                if slot.booked or Booking.search(
                        [('slot', '=', slot.id)], limit=1):
                    if not slot.closed:
                        to_close.append(slot)
                else:
                    to_delete.append(slot)
        if to_delete:
            cls.delete(to_delete)
        if to_close:
            cls.write(to_close, {'closed': True})

    # ------------------------------------------------------------------
    # Staff

    @classmethod
    def check_modification(cls, mode, slots, values=None, external=False):
        super().check_modification(
            mode, slots, values=values, external=external)
        if not external:
            return
        if (mode == 'create'
                or (mode == 'write' and ENGINE_FIELDS & values.keys())):
            raise SlotAccessError(gettext('zl_reservation.msg_slot_engine'))

    @classmethod
    @ModelView.button
    def close_slot(cls, slots):
        cls.write(slots, {'closed': True})

    @classmethod
    @ModelView.button
    def reopen_slot(cls, slots):
        cls.write(slots, {'closed': False})
