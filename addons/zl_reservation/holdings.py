# This file is part of zhonglian-ticketing. See README.md for the licence.
"""What an account and an identity document already hold: the counts the
booking service's limits (用户限购, one pass per ID, the visit policy)
decide on, read with plain SQL under the service's locks."""
from sql import Cast, Literal, Union
from sql.aggregate import Count, Sum
from sql.conditionals import Coalesce

from trytond import backend
from trytond.pool import Pool
from trytond.tools import sqlite_apply_types
from trytond.transaction import Transaction

from .engine import refusal

# Bookings that hold their places (per-user limit, duplicate IDs).
HOLDING = ('confirmed', 'used')


class BookingHoldings:
    __slots__ = ()

    @staticmethod
    def _refuse(refused):
        "Raise the policy's refusal, if any"
        if refused:
            code, arguments = refused
            raise refusal(code, **arguments)

    @classmethod
    def _holdings(cls, ticket_id, date, account, digests, per_ticket=False,
            per_day=False, window=None, strikes=False):
        """What the account and the IDs already hold, read in one statement
        under the service's locks (one round trip whatever the rules on):

        - ticket: the bookings of ticket_id the account holds (用户限购),
          when per_ticket (else 0);
        - passes: the digests holding a valid or used pass of the ticket on
          date (one pass per ID and ticket and date);
        - people, bookings: what the account holds on date, all tickets,
          when per_day (else 0);
        - ids: {digest: [visit date of each booking holding it from
          window's first to its last day]} when window;
        - strikes: {'account' or 'id': {account or digest: [dates of its
          strikes not waived]}} when strikes (Strike.dates_query)."""
        pool = Pool()
        Visitor = pool.get('zl.booking.visitor')
        Pass = pool.get('zl.pass')
        Strike = pool.get('zl.reservation.strike')

        def typed(value, type_):
            # Typed, so that every branch of the union agrees.
            return Cast(Literal(value), type_)

        one, no = typed(1, 'INTEGER'), typed('', 'VARCHAR')
        reads = []
        if per_ticket and account:
            b = cls.__table__()
            reads.append(b.select(typed('ticket', 'VARCHAR').as_('kind'),
                    no.as_('value'), Literal(date).as_('date'),
                    Count(b.id).as_('people'), Count(b.id).as_('bookings'),
                    where=(b.account == account) & (b.ticket == ticket_id)
                    & b.state.in_(list(HOLDING))))
        if digests:
            p = Pass.__table__()
            reads.append(p.select(typed('pass', 'VARCHAR').as_('kind'),
                    p.id_digest.as_('value'), p.date.as_('date'),
                    one.as_('people'), one.as_('bookings'),
                    where=(p.ticket == ticket_id) & (p.date == date)
                    & p.id_digest.in_(digests)
                    & p.state.in_(['valid', 'used'])))
        if per_day and account:
            # One row: what the account holds that day, all tickets.
            b = cls.__table__()
            reads.append(b.select(typed('day', 'VARCHAR').as_('kind'),
                    no.as_('value'), Literal(date).as_('date'),
                    Coalesce(Sum(b.quantity), 0).as_('people'),
                    Count(b.id).as_('bookings'),
                    where=(b.account == account) & (b.date == date)
                    & b.state.in_(list(HOLDING))))
        if window:
            b, v = cls.__table__(), Visitor.__table__()
            reads.append(v.join(b, condition=b.id == v.booking).select(
                    typed('held', 'VARCHAR').as_('kind'),
                    v.id_digest.as_('value'), b.date.as_('date'),
                    one.as_('people'), one.as_('bookings'),
                    where=v.id_digest.in_(digests)
                    & (b.date >= window[0]) & (b.date <= window[1])
                    & b.state.in_(list(HOLDING))))
        if strikes and (account or digests):
            s = Strike.dates_query(
                accounts=[account] if account else [], digests=digests)
            reads.append(s.select(s.kind.as_('kind'), s.value.as_('value'),
                    s.date.as_('date'), one.as_('people'),
                    one.as_('bookings')))
        held = {'ticket': 0, 'passes': set(), 'people': 0, 'bookings': 0,
            'ids': {}, 'strikes': {'account': {}, 'id': {}}}
        if not reads:
            return held
        if backend.name == 'sqlite':
            # A compound's columns are named (and typed) by its first.
            sqlite_apply_types(reads[0], [None, None, 'DATE', None, None])
        query = reads[0]
        for read in reads[1:]:
            query = Union(query, read, all_=True)
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        for kind, value, date, people, bookings in cursor:
            if kind == 'ticket':
                held['ticket'] = bookings
            elif kind == 'pass':
                held['passes'].add(value)
            elif kind == 'day':
                held['people'], held['bookings'] = people, bookings
            elif kind == 'held':
                held['ids'].setdefault(value, []).append(date)
            else:
                # A strike: its subject is the kind.
                held['strikes'][kind].setdefault(value, []).append(date)
        return held

    @classmethod
    def _check_restriction(cls, account, visitors, today, strikes):
        """Refuse an account or an ID restricted by its strikes
        (account_restricted, id_restricted: until the day it ends);
        strikes: _holdings'"""
        Strike = Pool().get('zl.reservation.strike')
        if account:
            until = Strike.restricted_until(
                'account', [account], today, strikes['account']).get(account)
            if until:
                raise refusal('account_restricted', until=until)
        digests = {v['id_digest']: v for v in visitors if v['id_digest']}
        restricted = Strike.restricted_until(
            'id', list(digests), today, strikes['id'])
        if restricted:
            # The first in the request's order names the visitor.
            digest = next(d for d in digests if d in restricted)
            raise refusal('id_restricted',
                name=digests[digest]['name'], until=restricted[digest])
