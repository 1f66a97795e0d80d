# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Strikes (违约): a booking nobody came for, or one cancelled in a
striking tier, marks the visitor account and each visitor's ID.  Enough
strikes restrict booking for a while (policy.restricted_until); staff may
waive a strike with a reason, kept in 日志查看.

Strikes are recorded by the engine only (the cancellation and the
end-of-session job) and checked by the one booking entry point."""
from sql import Literal
from sql.aggregate import Count, Max, Sum
from sql.conditionals import Case, Coalesce

from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import sqlite_apply_types
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import policy
from .engine import EngineOwnedMixin, advisory_lock, check_button, lock_key


class Strike(EngineOwnedMixin, AuditMixin, ModelSQL, ModelView):
    "A strike against a visitor account or an identity document"
    __name__ = 'zl.reservation.strike'
    __string__ = "Strike"

    subject = fields.Selection([
            ('account', "Visitor Account"),
            ('id', "ID Document"),
            ], "Against", required=True, readonly=True)
    account = fields.Char("Visitor Account", readonly=True)
    name = fields.Char("Visitor", readonly=True)
    id_masked = fields.Char("ID Number", readonly=True)
    id_digest = fields.Char("ID Digest", readonly=True)
    id_number = fields.Function(
        fields.Char("ID Number"), 'get_id_number',
        searcher='search_id_number')
    booking = fields.Many2One(
        'zl.booking', "Booking", required=True, readonly=True,
        ondelete='CASCADE')
    date = fields.Date("Date", required=True, readonly=True,
        help="The day of the no-show or of the cancellation.")
    reason = fields.Selection([
            ('no_show', "No-Show"),
            ('late_cancel', "Late Cancellation"),
            ], "Reason", required=True, readonly=True)
    waived = fields.Boolean("Waived", readonly=True)
    waive_reason = fields.Text(
        "Waive Reason", readonly=True,
        states={'invisible': ~Eval('waived')})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.account, Index.Equality()),
                    (t.date, Index.Range())),
                Index(t, (t.id_digest, Index.Equality()),
                    (t.date, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'waive': {
                    'invisible': Eval('waived', False),
                    'depends': ['waived'],
                    },
                })

    @classmethod
    def default_waived(cls):
        return False

    def get_rec_name(self, name):
        return '%s %s' % (self.date, self.id_masked or self.account or '')

    def get_id_number(self, name):
        return self.id_masked

    @classmethod
    def search_id_number(cls, name, clause):
        "By the ID number itself, as visitors are found (never in clear)"
        Visitor = Pool().get('zl.booking.visitor')
        return Visitor.search_id_number(name, clause)

    @classmethod
    @ModelView.button_action('zl_reservation.wizard_strike_waive')
    def waive(cls, strikes):
        pass

    # ------------------------------------------------------------------
    # The engine's side

    @classmethod
    @without_check_access
    def record(cls, bookings, reason, day):
        """Strike the accounts of bookings and each of their visitors' IDs
        for day: one per booking for its account, at most one per ID and
        day whatever the booking"""
        to_create = []
        for booking in bookings:
            if booking.account:
                to_create.append({
                        'subject': 'account', 'account': booking.account,
                        'booking': booking.id, 'date': day,
                        'reason': reason})
            digests = {v.id_digest: v for v in booking.visitors
                if v.id_digest}
            if not digests:
                continue
            # Two bookings of one ID ending at once strike it once.
            advisory_lock([lock_key('strike', d, day) for d in digests])
            struck = {s.id_digest for s in cls.search([
                        ('subject', '=', 'id'),
                        ('id_digest', 'in', list(digests)),
                        ('date', '=', day),
                        ])}
            struck |= {v['id_digest'] for v in to_create
                if v['subject'] == 'id' and v['date'] == day}
            for digest, visitor in digests.items():
                if digest not in struck:
                    to_create.append({
                            'subject': 'id', 'id_digest': digest,
                            'name': visitor.name,
                            'id_masked': visitor.id_masked,
                            'booking': booking.id, 'date': day,
                            'reason': reason})
        if to_create:
            cls.create(to_create)

    @classmethod
    def dates_query(cls, accounts=(), digests=()):
        """The query of the strikes not waived of accounts and ID digests,
        as (kind: their subject, value: the account or the digest, date);
        the booking service reads it with the rest of what the policy
        decides on, in one statement (holdings._holdings)"""
        s = cls.__table__()
        where = Literal(False)
        if accounts:
            where |= (s.subject == 'account') & s.account.in_(list(accounts))
        if digests:
            where |= (s.subject == 'id') & s.id_digest.in_(list(digests))
        return s.select(s.subject.as_('kind'),
            Coalesce(s.account, s.id_digest).as_('value'), s.date.as_('date'),
            where=where & (s.waived == Literal(False)))

    @classmethod
    def dates(cls, subject, values):
        "{value: [date of each strike not waived]} of accounts or digests"
        cursor = Transaction().connection.cursor()
        query = cls.dates_query(
            **{'accounts' if subject == 'account' else 'digests': values})
        if backend.name == 'sqlite':
            sqlite_apply_types(query, [None, None, 'DATE'])
        cursor.execute(*query)
        found = {}
        for _, value, date in cursor:
            found.setdefault(value, []).append(date)
        return found

    @classmethod
    def of(cls, subject, values):
        """{value: [strike ids]} of accounts or digests, under the user's
        record rules (the strikes of bookings in their data scope, which
        they may open): what the visitor and 小程序用户 forms list"""
        found = {}
        for strike in cls.search([
                    ('subject', '=', subject),
                    ('account' if subject == 'account' else 'id_digest',
                        'in', list(values)),
                    ]):
            value = strike.account if subject == 'account' else (
                strike.id_digest)
            found.setdefault(value, []).append(strike.id)
        return found

    @classmethod
    def restricted_until(cls, subject, values, today, dates=None):
        """{value: last restricted day} of the accounts or digests
        restricted; dates: {value: [strike dates]} when already read"""
        Configuration = Pool().get('zl.reservation.configuration')
        rules = Configuration.values()
        if not rules['strike_limit'] or not values:
            return {}
        if dates is None:
            dates = cls.dates(subject, values)
        restricted = {}
        for value, dates in dates.items():
            until = policy.restricted_until(rules, dates, today)
            if until:
                restricted[value] = until
        return restricted


class StrikeWaiveStart(ModelView):
    "Waive a strike"
    __name__ = 'zl.reservation.strike.waive.start'
    __string__ = "Waive Strike"

    reason = fields.Text("Reason", required=True)


class StrikeWaive(Wizard):
    "Waive strikes with a reason"
    __name__ = 'zl.reservation.strike.waive'
    start = StateView(
        'zl.reservation.strike.waive.start',
        'zl_reservation.strike_waive_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Waive", 'waive', 'tryton-ok', default=True),
            ])
    waive = StateTransition()

    def transition_waive(self):
        Strike = Pool().get('zl.reservation.strike')
        strikes = [s for s in self.records if not s.waived]
        reason = (self.start.reason or '').strip()
        # The Waive button's permission, whichever way the wizard is run.
        check_button(Strike, 'waive')
        if strikes and reason:
            # Written by the server (strikes are read-only to every
            # group): the audit log keeps who waived and why.
            with without_check_access(), \
                    Transaction().set_context(_log=True):
                Strike.write(
                    strikes, {'waived': True, 'waive_reason': reason})
        return 'end'


class StrikeDay(ModelSQL, ModelView):
    "No-shows and strikes per day"
    __name__ = 'zl.reservation.strike.day'
    __string__ = "No-Shows and Strikes per Day"

    date = fields.Date("Date")
    no_shows = fields.Integer("No-Show Bookings")
    no_show_people = fields.Integer("No-Show People")
    late_cancels = fields.Integer("Late Cancellations")
    account_strikes = fields.Integer("Account Strikes")
    id_strikes = fields.Integer("ID Strikes")
    waived = fields.Integer("Waived")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Booking = pool.get('zl.booking')
        Strike = pool.get('zl.reservation.strike')
        Rule = pool.get('ir.rule')
        b, s = Booking.__table__(), Strike.__table__()
        null = Literal(None)
        # A table_query reads the tables: count only the bookings the
        # user's record rules (the data scope) let them read.
        no_show_where, strike_where = b.state == 'no_show', None
        if Rule.domain_get(Booking.__name__, mode='read'):
            readable = Rule.query_get(Booking.__name__, mode='read')
            no_show_where &= b.id.in_(readable)
            strike_where = s.booking.in_(readable)
        # Ids of both tables made distinct (even, odd): a day's row takes
        # the largest.
        no_shows = b.select(
            b.date.as_('date'), (b.id * 2).as_('uid'),
            b.id.as_('no_show'), b.quantity.as_('people'),
            null.as_('late'), Literal(0).as_('account'),
            Literal(0).as_('id_doc'), Literal(0).as_('waived'),
            where=no_show_where)
        strikes = s.select(
            s.date.as_('date'), (s.id * 2 + 1).as_('uid'),
            null.as_('no_show'), Literal(0).as_('people'),
            Case((s.reason == 'late_cancel', s.booking), else_=null).as_(
                'late'),
            Case((s.subject == 'account', 1), else_=0).as_('account'),
            Case((s.subject == 'id', 1), else_=0).as_('id_doc'),
            Case((s.waived == Literal(True), 1), else_=0).as_('waived'),
            where=strike_where)
        union = no_shows | strikes
        union.all_ = True
        return union.select(
            Max(union.uid).as_('id'), union.date.as_('date'),
            Count(union.no_show, distinct=True).as_('no_shows'),
            Sum(union.people).as_('no_show_people'),
            Count(union.late, distinct=True).as_('late_cancels'),
            Sum(union.account).as_('account_strikes'),
            Sum(union.id_doc).as_('id_strikes'),
            Sum(union.waived).as_('waived'),
            group_by=[union.date])
