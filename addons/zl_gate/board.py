# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The live entry board (入园看板): read-only counts of the check-in
records, per session (slot) and per gate and date.

Both boards are SQL views (table_query) computed at every read, never
stored: a site must not list them under [table_query_materialized], a
materialised view is filled once for everybody and would lose the data
scope below.  sao does not refresh a list by itself (Tryton 8.0 has no
refresh interval on window actions): staff press reload.

The data scope.  A table_query reads the tables directly, so the record
rules of zl.gate.checkin (rule_checkin_scope: the devices in the user's
data scope) would not apply to what it counts.  Both boards therefore
count only the check-ins those rules let the user read
(`_readable_checkins`: the rules of zl.gate.checkin itself, not a copy of
them).  A user whose scope holds some devices sees:
- on the session board every slot, with its capacity and booked places
  (the slot's own figures, the same on the 场次 page), but arrived,
  refused, exits and inside counted from the devices in scope only;
- on the gate board the rows of the devices in scope only (its own record
  rule on `device`, rule_board_gate_scope, says so in the rule list too).
"""
from sql import Literal, Null
from sql.aggregate import Min, Sum
from sql.conditionals import Case, Coalesce

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool

from .decision import REASONS

# The refusals the gate board gives a column of their own; the others add
# up in "other".
BOARD_REASONS = (
    'wrong_gate', 'wrong_date', 'too_early', 'too_late', 'already_used',
    'invalid')
assert set(BOARD_REASONS) <= set(REASONS)


def _readable_checkins():
    """The check-in table and the condition that keeps the records the
    record rules of zl.gate.checkin let the current user read (None when
    none apply: root, or access checks off)"""
    pool = Pool()
    Checkin = pool.get('zl.gate.checkin')
    Rule = pool.get('ir.rule')
    checkin = Checkin.__table__()
    readable = None
    if Rule.domain_get(Checkin.__name__, mode='read'):
        readable = checkin.id.in_(
            Rule.query_get(Checkin.__name__, mode='read'))
    return checkin, readable


def _counts(checkin):
    """The aggregate columns both boards share: people admitted by an
    entry (a re-scan spends no use and is not a second person; an annulled
    entry did not pass), people out, refused scans"""
    passed = (checkin.result == 'ok') & (checkin.annulled == Literal(False))
    people = Coalesce(checkin.admits, 0)
    return {
        'arrived': Sum(Case(
                (passed & (checkin.kind == 'entry'), people), else_=0)),
        'exits': Sum(Case(
                (passed & (checkin.kind == 'exit'), people), else_=0)),
        'refused': Sum(Case((checkin.result == 'rejected', 1), else_=0)),
        }


class BoardSession(ModelSQL, ModelView):
    "Booked against arrived, per session"
    __name__ = 'zl.gate.board.session'
    __string__ = "Entry Board"

    date = fields.Date("Date", readonly=True)
    slot = fields.Many2One('zl.reservation.slot', "Slot", readonly=True)
    session = fields.Many2One(
        'zl.reservation.session', "Session", readonly=True)
    capacity = fields.Integer("Capacity", readonly=True)
    booked = fields.Integer("Booked", readonly=True)
    arrived = fields.Integer(
        "Arrived", readonly=True,
        help="People admitted by an entry scan; re-scans and annulled "
        "entries do not count.")
    refused = fields.Integer(
        "Refused", readonly=True,
        help="Refused scans of this session's e-tickets.")
    exits = fields.Integer("Exits", readonly=True)
    inside = fields.Integer(
        "Inside", readonly=True,
        help="Arrived minus exits, never below zero.")
    arrival_rate = fields.Function(
        fields.Float("Arrival Rate", digits=(1, 4),
            help="Arrived out of booked."),
        'get_arrival_rate')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('slot', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Slot = pool.get('zl.reservation.slot')
        slot = Slot.__table__()
        checkin, readable = _readable_checkins()
        # In the join, not in a WHERE: a slot nobody reached yet still
        # shows its booked places.
        condition = checkin.slot == slot.id
        if readable is not None:
            condition &= readable
        counts = _counts(checkin)
        arrived = Coalesce(counts['arrived'], 0)
        exits = Coalesce(counts['exits'], 0)
        # One GROUP BY on the slot's columns (not a sub-query of counts
        # joined after): the database filters the slots of a date first.
        return slot.join(checkin, 'LEFT', condition=condition).select(
            slot.id.as_('id'),
            slot.date.as_('date'),
            slot.id.as_('slot'),
            slot.session.as_('session'),
            slot.capacity.as_('capacity'),
            slot.booked.as_('booked'),
            arrived.as_('arrived'),
            Coalesce(counts['refused'], 0).as_('refused'),
            exits.as_('exits'),
            Case((arrived > exits, arrived - exits), else_=0).as_('inside'),
            group_by=[slot.id, slot.date, slot.session, slot.capacity,
                slot.booked])

    def get_rec_name(self, name):
        return self.slot.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('session.rec_name',) + tuple(clause[1:])]

    def get_arrival_rate(self, name):
        if self.booked:
            return self.arrived / self.booked


class BoardGate(ModelSQL, ModelView):
    "Entries and refusals per gate and date"
    __name__ = 'zl.gate.board.gate'
    __string__ = "Gate Statistics"

    device = fields.Many2One('zl.gate.device', "Gate", readonly=True)
    date = fields.Date("Date", readonly=True)
    entries = fields.Integer(
        "Entries", readonly=True,
        help="People admitted by an entry scan; re-scans and annulled "
        "entries do not count.")
    exits = fields.Integer("Exits", readonly=True)
    refused = fields.Integer("Refused", readonly=True)
    wrong_gate = fields.Integer("Wrong Gate", readonly=True)
    wrong_date = fields.Integer("Wrong Date", readonly=True)
    too_early = fields.Integer("Too Early", readonly=True)
    too_late = fields.Integer("Too Late", readonly=True)
    already_used = fields.Integer("Already Used", readonly=True)
    invalid = fields.Integer("Invalid Code", readonly=True)
    other = fields.Integer(
        "Other Refusals", readonly=True,
        help="Unknown, cancelled, refunded, blocked or expired e-tickets "
        "and re-scans too soon.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('device', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        checkin, readable = _readable_checkins()
        counts = _counts(checkin)
        refused = checkin.result == 'rejected'
        columns = [
            # Check-ins are never deleted: the group's first id is stable.
            Min(checkin.id).as_('id'),
            checkin.device.as_('device'),
            checkin.date.as_('date'),
            counts['arrived'].as_('entries'),
            counts['exits'].as_('exits'),
            counts['refused'].as_('refused'),
            ]
        for reason in BOARD_REASONS:
            columns.append(Sum(Case(
                        (refused & (checkin.reason == reason), 1),
                        else_=0)).as_(reason))
        columns.append(Sum(Case(
                    (refused & ((checkin.reason == Null)
                            | ~checkin.reason.in_(BOARD_REASONS)), 1),
                    else_=0)).as_('other'))
        return checkin.select(*columns,
            where=readable,
            group_by=[checkin.device, checkin.date])

    def get_rec_name(self, name):
        return '%s %s' % (self.device.rec_name, self.date)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('device.rec_name',) + tuple(clause[1:])]
