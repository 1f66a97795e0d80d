# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Reservable periods (预约管理), their sessions (场次) and dated slots."""
import datetime as dt

from sql import Literal

from trytond.i18n import gettext
from trytond.model import (
    ModelSQL,
    ModelView,
    Unique,
    Workflow,
    fields,
    sequence_ordered,
)
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from .exceptions import PlanValidationError, SlotValidationError

WEEKDAYS = [
    ('0', "Monday"), ('1', "Tuesday"), ('2', "Wednesday"), ('3', "Thursday"),
    ('4', "Friday"), ('5', "Saturday"), ('6', "Sunday"),
    ]


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


class Plan(AuditMixin, Workflow, ModelSQL, ModelView):
    __name__ = 'zl.reservation.plan'
    __string__ = "Reservable Period"

    _states = {'readonly': Eval('state') != 'draft'}

    name = fields.Char("Name", required=True)
    start_date = fields.Date(
        "Start Date", required=True, states=_states,
        domain=[If(Eval('end_date'),
                ('start_date', '<=', Eval('end_date')), ())],
        help="First date visitors can book.")
    end_date = fields.Date(
        "End Date", required=True, states=_states,
        domain=[If(Eval('start_date'),
                ('end_date', '>=', Eval('start_date')), ())],
        help="Last date visitors can book.")
    advance_days = fields.Integer(
        "Book-Ahead Days", required=True,
        help="How many days ahead a date opens: with 11, "
        "the slots of 10-01 open on 09-20.")
    release_time = fields.Time(
        "Release Time", required=True,
        help="Time of day the new date opens (e.g. 17:00).")
    tickets = fields.Many2Many(
        'zl.reservation.plan-zl.ticket', 'plan', 'ticket', "Tickets",
        help="The tickets that book these sessions.")
    sessions = fields.One2Many(
        'zl.reservation.session', 'plan', "Sessions", states=_states)
    closed_weekdays = fields.MultiSelection(
        WEEKDAYS, "Closed Weekdays", sort=False)
    closed_dates = fields.One2Many(
        'zl.reservation.plan.closed_date', 'plan', "Closed Dates")
    slots = fields.One2Many(
        'zl.reservation.slot', 'plan', "Slots", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('active', "Active"),
            ('closed', "Closed"),
            ], "State", readonly=True, required=True, sort=False)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'active'),
            ('active', 'draft'),
            ('active', 'closed'),
            ('closed', 'active'),
            }
        cls._buttons.update({
                'draft': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                'activate': {
                    'invisible': Eval('state') == 'active',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_advance_days(cls):
        return 7

    @classmethod
    def default_release_time(cls):
        return dt.time(0, 0)

    @classmethod
    def validate_fields(cls, plans, field_names):
        super().validate_fields(plans, field_names)
        if field_names and not field_names & {'advance_days'}:
            return
        for plan in plans:
            if plan.advance_days < 0:
                raise PlanValidationError(gettext(
                        'zl_reservation.msg_plan_advance_days',
                        plan=plan.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, plans):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def activate(cls, plans):
        for plan in plans:
            if not plan.sessions:
                raise PlanValidationError(gettext(
                        'zl_reservation.msg_plan_no_session',
                        plan=plan.rec_name))
        # Slots are generated by write() once the state is active.

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, plans):
        pass

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        to_generate = []
        for plans, values in zip(actions, actions):
            if values.get('state') == 'active' or (
                    {'advance_days', 'closed_weekdays', 'end_date'}
                    & values.keys()):
                to_generate.extend(plans)
        active = [p for p in cls.browse(to_generate) if p.state == 'active']
        if active:
            cls.generate_slots(active)

    def bookable_dates(self, today):
        "Dates inside the plan from today to the end of the horizon"
        closed_weekdays = set(self.closed_weekdays or ())
        closed = {c.date for c in self.closed_dates}
        first = max(self.start_date, today)
        last = min(self.end_date, today + dt.timedelta(days=self.advance_days))
        day = first
        while day <= last:
            if str(day.weekday()) not in closed_weekdays and day not in closed:
                yield day
            day += dt.timedelta(days=1)

    @classmethod
    @without_check_access
    def generate_slots(cls, plans=None, today=None):
        """Create the missing slots of active plans up to their horizon.

        Idempotent: an existing (session, date) is never created twice."""
        pool = Pool()
        Slot = pool.get('zl.reservation.slot')
        Configuration = pool.get('zl.reservation.configuration')
        if plans is None:
            plans = cls.search([('state', '=', 'active')])
        if today is None:
            today = Configuration.now().date()
        to_create = []
        for plan in plans:
            sessions = list(plan.sessions)
            existing = {
                (s.session.id, s.date) for s in Slot.search([
                        ('plan', '=', plan.id),
                        ('date', '>=', today),
                        ])}
            for date in plan.bookable_dates(today):
                for session in sessions:
                    if (session.id, date) in existing:
                        continue
                    to_create.append({
                            'plan': plan.id,
                            'session': session.id,
                            'date': date,
                            'capacity': session.capacity,
                            })
        if to_create:
            Slot.create(to_create)
        return len(to_create)

    @classmethod
    def generate_slots_cron(cls):
        cls.generate_slots()


class PlanTicket(ModelSQL):
    __name__ = 'zl.reservation.plan-zl.ticket'
    __string__ = "Reservable Period Ticket"

    plan = fields.Many2One(
        'zl.reservation.plan', "Period", required=True, ondelete='CASCADE')
    ticket = fields.Many2One(
        'zl.ticket', "Ticket", required=True, ondelete='CASCADE')


class PlanClosedDate(ModelSQL, ModelView):
    __name__ = 'zl.reservation.plan.closed_date'
    __string__ = "Closed Date"

    plan = fields.Many2One(
        'zl.reservation.plan', "Period", required=True, ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    reason = fields.Char("Reason")


class Session(AuditMixin, sequence_ordered(), ModelSQL, ModelView):
    "Session template (场次): a check-in window and its capacity"
    __name__ = 'zl.reservation.session'
    __string__ = "Session"

    plan = fields.Many2One(
        'zl.reservation.plan', "Period", required=True, ondelete='CASCADE')
    name = fields.Char("Name", required=True)
    checkin_start = fields.Time("Check-in Start", required=True)
    checkin_end = fields.Time("Check-in End", required=True)
    capacity = fields.Integer(
        "Capacity", required=True, help="Visitors the session admits.")

    @classmethod
    def validate_fields(cls, sessions, field_names):
        super().validate_fields(sessions, field_names)
        if field_names and not field_names & {
                'checkin_start', 'checkin_end', 'capacity'}:
            return
        for session in sessions:
            if session.checkin_end <= session.checkin_start:
                raise PlanValidationError(gettext(
                        'zl_reservation.msg_session_window',
                        session=session.rec_name))
            if session.capacity < 0:
                raise PlanValidationError(gettext(
                        'zl_reservation.msg_capacity_negative',
                        record=session.rec_name))


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
    # Changed only by conditional SQL updates (see booking.py).
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
        "open, not_yet_open, sold_out or closed (API.md)"
        return self._state(now)[0]

    def _state(self, now):
        return slot_state(
            now, self.date, self.session.checkin_start,
            self.session.checkin_end, self.plan.advance_days,
            self.plan.release_time, self.closed, self.plan.state,
            self.booked, self.capacity)

    @classmethod
    def validate_fields(cls, slots, field_names):
        super().validate_fields(slots, field_names)
        if field_names and 'capacity' not in field_names:
            return
        for slot in slots:
            if slot.capacity < 0:
                raise SlotValidationError(gettext(
                        'zl_reservation.msg_capacity_negative',
                        record=slot.rec_name))

    @classmethod
    def write(cls, *args):
        # Capacity may shrink, never below what is already booked: checked
        # in SQL so that a concurrent booking cannot slip under it.
        actions = iter(args)
        rest = []
        for slots, values in zip(actions, actions):
            if 'capacity' in values:
                cls._write_capacity(slots, values['capacity'])
                values = {k: v for k, v in values.items() if k != 'capacity'}
            if values:
                rest.extend((slots, values))
        if rest:
            super().write(*rest)

    @classmethod
    def _write_capacity(cls, slots, capacity):
        if capacity is None or capacity < 0:
            raise SlotValidationError(gettext(
                    'zl_reservation.msg_capacity_negative',
                    record=', '.join(s.rec_name for s in slots)))
        super().write(list(slots), {'capacity': capacity})
        cursor = Transaction().connection.cursor()
        t = cls.__table__()
        cursor.execute(*t.select(t.id,
                where=t.id.in_([s.id for s in slots])
                & (t.booked > Literal(capacity))))
        if cursor.fetchone():
            raise SlotValidationError(gettext(
                    'zl_reservation.msg_capacity_below_booked'))

    @classmethod
    @ModelView.button
    def close_slot(cls, slots):
        cls.write(slots, {'closed': True})

    @classmethod
    @ModelView.button
    def reopen_slot(cls, slots):
        cls.write(slots, {'closed': False})
