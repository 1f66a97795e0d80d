# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Slots: a session (场次) on a date, and its places.

The places of a slot move only here: taken by a booking, given back by a
cancellation, always by conditional SQL updates that the database bounds
with Check constraints (0 <= booked <= capacity, the pools inside booked,
the reserves inside capacity), whatever the path.  Who may take which
place is places.py's rule.
"""
import datetime as dt

from sql import Literal
from sql.conditionals import Case, Greatest

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Check, ModelSQL, ModelView, Unique, fields
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import sqlite_apply_types
from trytond.transaction import Transaction, without_check_access

from . import places
from .engine import forget
from .exceptions import SlotAccessError

# Written by the engine only (plans generate slots, bookings move places).
ENGINE_FIELDS = {'plan', 'session', 'date', 'booked', 'booked_window',
    'booked_group', 'held', 'held_until'}
# The counter of each pool's places besides booked (places.POOLS)
POOL_COUNTERS = {'window': 'booked_window', 'group': 'booked_group'}
# slot_state's inputs, in its order, as Slot.facts names them
STATE_FACTS = ('date', 'checkin_start', 'checkin_end', 'advance_days',
    'release_time', 'closed', 'plan_state')


def slot_state(now, date, checkin_start, checkin_end, advance_days,
        release_time, closed, plan_state, free):
    """open, not_yet_open (with the opening moment), sold_out or closed;
    free: the places the asking pool may still take (places.free_places).

    The one rule for every caller: staff views, the booking service and
    the visitor API."""
    opens_at = dt.datetime.combine(
        date - dt.timedelta(days=advance_days), release_time or dt.time(0))
    if (closed or plan_state != 'active'
            or now >= dt.datetime.combine(date, checkin_end)):
        return 'closed', opens_at
    if now < opens_at:
        return 'not_yet_open', opens_at
    if free <= 0:
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
    reserved_window = fields.Integer(
        "Reserved for the Window", required=True,
        help="Places only the ticket windows and kiosks may book until "
        "the reserved places are released.")
    reserved_group = fields.Integer(
        "Reserved for Groups", required=True,
        help="Places only group bookings may take until the reserved "
        "places are released.")
    booked = fields.Integer("Booked", readonly=True)
    booked_window = fields.Integer(
        "Booked at the Window", required=True, readonly=True,
        help="Places booked through the ticket windows and kiosks.")
    booked_group = fields.Integer(
        "Booked by Groups", required=True, readonly=True)
    held = fields.Integer(
        "Held", required=True, readonly=True,
        help="Places given back by cancellations and held until the "
        "re-release time.")
    held_until = fields.DateTime("Held Until", readonly=True)
    available = fields.Function(fields.Integer("Available"), 'get_available')
    available_online = fields.Function(fields.Integer(
            "Available Online",
            help="Places the online channels may still book now."),
        'get_available')
    available_window = fields.Function(
        fields.Integer("Available at the Window"), 'get_available')
    available_group = fields.Function(
        fields.Integer("Available for Groups"), 'get_available')
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
            ('reserved_positive', Check(t,
                    (t.reserved_window >= 0) & (t.reserved_group >= 0)),
                'zl_reservation.msg_reserved_negative'),
            ('reserved_within_capacity', Check(t,
                    t.reserved_window + t.reserved_group <= t.capacity),
                'zl_reservation.msg_reserved_above_capacity'),
            # The pools' counters are parts of booked, never more.
            ('pools_within_booked', Check(t,
                    (t.booked_window >= 0) & (t.booked_group >= 0)
                    & (t.booked_window + t.booked_group <= t.booked)),
                'zl_reservation.msg_slot_pools_check'),
            ('held_positive', Check(t, t.held >= 0),
                'zl_reservation.msg_slot_pools_check'),
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
    def default_reserved_window(cls):
        return 0

    @classmethod
    def default_reserved_group(cls):
        return 0

    @classmethod
    def default_booked_window(cls):
        return 0

    @classmethod
    def default_booked_group(cls):
        return 0

    @classmethod
    def default_held(cls):
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
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        now = Configuration.now()
        result = {n: {} for n in names}
        for slot in slots:
            for name in names:
                if name == 'occupancy':
                    result[name][slot.id] = (
                        slot.booked / slot.capacity if slot.capacity else 1.0)
                elif name == 'available':
                    # Every free place, whichever pool may take it (the
                    # unused reserves count, the held places do not).
                    result[name][slot.id] = slot.free_places(
                        'online', now, released=True)
                else:
                    result[name][slot.id] = slot.free_places(
                        name[len('available_'):], now)
        return result

    def reserve_released(self, now):
        "Whether the reserved places are open to every channel at now"
        return places.released(now, self.date, self.session.checkin_start,
            self.plan.reserve_release)

    def free_places(self, pool, now, released=None):
        "The places pool may take at now (places.free_places)"
        if released is None:
            released = self.reserve_released(now)
        return places.free_places(
            self.capacity, self.booked, self.reserved_window,
            self.booked_window, self.reserved_group, self.booked_group,
            places.held_now(self.held, self.held_until, now), pool, released)

    def opens_at(self):
        "Site time the slot opens for booking"
        return self._state(dt.datetime.min)[1]

    def window(self):
        "The check-in window as site datetimes"
        return (
            dt.datetime.combine(self.date, self.session.checkin_start),
            dt.datetime.combine(self.date, self.session.checkin_end))

    def booking_state(self, now, pool='online'):
        "open, not_yet_open, sold_out or closed (doc/api.md) for pool"
        return self._state(now, pool)[0]

    def _state(self, now, pool='online'):
        return slot_state(
            now, self.date, self.session.checkin_start,
            self.session.checkin_end, self.plan.advance_days,
            self.plan.release_time, self.closed, self.plan.state,
            self.free_places(pool, now))

    # ------------------------------------------------------------------
    # Places: the engine's only writers of `booked`

    @classmethod
    def facts(cls, ticket_id, where, order=False, limit=None):
        """[{fact: value}] of the slots of the ticket's plans where
        where(slot table, plan table): what slot_state (STATE_FACTS) and
        places.slot_free decide on, with slot_id and session; one query
        for the booking service (one slot) and the visitor API's sessions
        (many, in date and check-in order)"""
        pool = Pool()
        Session = pool.get('zl.reservation.session')
        Plan = pool.get('zl.reservation.plan')
        PlanTicket = pool.get('zl.reservation.plan-zl.ticket')
        sl, se, p = cls.__table__(), Session.__table__(), Plan.__table__()
        pt = PlanTicket.__table__()
        columns = {
            'date': sl.date, 'checkin_start': se.checkin_start,
            'checkin_end': se.checkin_end, 'advance_days': p.advance_days,
            'release_time': p.release_time, 'closed': sl.closed,
            'plan_state': p.state, 'held_until': sl.held_until,
            'slot_id': sl.id, 'session': se.name,
            'reserve_release': p.reserve_release,
            **{n: getattr(sl, n) for n in places.COUNTS},
            }
        query = (sl
            .join(se, condition=se.id == sl.session)
            .join(p, condition=p.id == sl.plan)
            .join(pt, condition=(pt.plan == p.id) & (pt.ticket == ticket_id))
            .select(
                # Named: SQLite's types are applied by column name.
                *(c.as_(n) for n, c in columns.items()),
                where=where(sl, p), limit=limit,
                order_by=[sl.date.asc, se.checkin_start.asc, sl.id.asc]
                if order else None))
        if backend.name == 'sqlite':
            sqlite_apply_types(query, ['DATE', 'TIME', 'TIME', None, 'TIME',
                    None, None, 'DATETIME'])
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return [dict(zip(columns, row)) for row in cursor]

    @classmethod
    def take(cls, slot_id, quantity, pool='online', now=None, released=None):
        """Take quantity places of an open slot for pool in one conditional
        update, or return the reason it cannot: 'closed' or 'sold_out'.

        released: whether the slot's reserves are open to every channel
        at now (the caller knows the slot's facts; read when None).  The
        condition is places.free_places itself over the row's columns, so
        PostgreSQL re-checks it on the committed row after a lock wait."""
        Configuration = Pool().get('zl.reservation.configuration')
        if now is None:
            now = Configuration.now()
        if released is None:
            released = cls(slot_id).reserve_released(now)
        cursor = Transaction().connection.cursor()
        s = cls.__table__()
        free = places.free_places(
            s.capacity, s.booked, s.reserved_window, s.booked_window,
            s.reserved_group, s.booked_group, cls._held_sql(s, now), pool,
            released, greatest=Greatest)
        columns, values = [s.booked], [s.booked + quantity]
        if pool in POOL_COUNTERS:
            column = getattr(s, POOL_COUNTERS[pool])
            columns.append(column)
            values.append(column + quantity)
        cursor.execute(*s.update(columns, values,
                where=(s.id == slot_id)
                & (Literal(quantity) <= free)
                & (s.closed == Literal(False))))
        # rowcount: SQLite's RETURNING does not accept the table alias.
        if cursor.rowcount != 1:
            cursor.execute(*s.select(s.closed, where=s.id == slot_id))
            closed, = cursor.fetchone()
            return 'closed' if closed else 'sold_out'
        forget(cls, [slot_id])

    @staticmethod
    def _held_sql(s, now):
        "places.held_now over the row: held counts until held_until"
        return Case((s.held_until > now, s.held), else_=0)

    @classmethod
    def give_back(cls, slot_id, quantity, pool='online', now=None):
        """Return quantity places of pool to the slot, never below zero.

        With the re-release hold on (预约设置), the places are held until
        the next re-release time instead: scripts watching for returned
        places gain nothing over a visitor who comes back then."""
        Configuration = Pool().get('zl.reservation.configuration')
        cursor = Transaction().connection.cursor()
        s = cls.__table__()
        columns, values = [s.booked], [s.booked - quantity]
        where = (s.id == slot_id) & (s.booked >= quantity)
        if pool in POOL_COUNTERS:
            column = getattr(s, POOL_COUNTERS[pool])
            columns.append(column)
            values.append(column - quantity)
            where &= column >= quantity
        config = Configuration.values()
        if config['rerelease_hold']:
            if now is None:
                now = Configuration.now()
            # A hold that has ended starts again from these places.
            columns += [s.held, s.held_until]
            values += [cls._held_sql(s, now) + quantity,
                places.next_rerelease(now, config['rerelease_time'])]
        cursor.execute(*s.update(columns, values, where=where))
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
