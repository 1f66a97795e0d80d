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
    def _held(cls, account, ticket_id):
        "How many bookings of the ticket the account holds (用户限购)"
        cursor = Transaction().connection.cursor()
        b = cls.__table__()
        cursor.execute(*b.select(Count(b.id),
                where=(b.account == account) & (b.ticket == ticket_id)
                & b.state.in_(list(HOLDING))))
        return cursor.fetchone()[0]

    @classmethod
    def _history(cls, account, digests, date, window, per_day, strikes):
        """What the visit policy decides on, read in one statement (a round
        trip per rule less on the hot path):

        - people, bookings: what the account holds on date, all tickets,
          when per_day (else 0);
        - ids: {digest: [visit date of each booking holding it from
          window's first to its last day]} when window;
        - strikes: {'account' or 'id': {account or digest: [dates of its
          strikes not waived]}} when strikes (Strike.dates_query)."""
        pool = Pool()
        Visitor = pool.get('zl.booking.visitor')
        Strike = pool.get('zl.reservation.strike')

        def typed(value, type_):
            # Typed, so that every branch of the union agrees.
            return Cast(Literal(value), type_)

        one = typed(1, 'INTEGER')
        reads = []
        if per_day:
            # One row: what the account holds that day, all tickets.
            b = cls.__table__()
            reads.append(b.select(typed('day', 'VARCHAR').as_('kind'),
                    typed('', 'VARCHAR').as_('value'),
                    Literal(date).as_('date'),
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
        history = {'people': 0, 'bookings': 0, 'ids': {},
            'strikes': {'account': {}, 'id': {}}}
        if not reads:
            return history
        if backend.name == 'sqlite':
            # A compound's columns are named (and typed) by its first.
            sqlite_apply_types(reads[0], [None, None, 'DATE', None, None])
        query = reads[0]
        for read in reads[1:]:
            query = Union(query, read, all_=True)
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        for kind, value, date, people, bookings in cursor:
            if kind == 'day':
                history['people'], history['bookings'] = people, bookings
            elif kind == 'held':
                history['ids'].setdefault(value, []).append(date)
            else:
                # A strike: its subject is the kind.
                history['strikes'][kind].setdefault(value, []).append(date)
        return history
        if backend.name == 'sqlite':
            # A compound's columns are named (and typed) by its first.
            sqlite_apply_types(reads[0], [None, None, 'DATE', None])
        query = reads[0]
        for read in reads[1:]:
            query = Union(query, read, all_=True)
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        for kind, value, date, quantity in cursor:
            if kind == 'day':
                history['people'].append(quantity)
            elif kind == 'held':
                history['ids'].setdefault(value, []).append(date)
            else:
                # A strike: its subject is the kind.
                history['strikes'][kind].setdefault(value, []).append(date)
        return history

    @classmethod
    def _id_holds_pass(cls, ticket_id, date, digests):
        pool = Pool()
        Pass = pool.get('zl.pass')
        cursor = Transaction().connection.cursor()
        p = Pass.__table__()
        cursor.execute(*p.select(p.id, where=(p.ticket == ticket_id)
                & (p.date == date) & p.id_digest.in_(digests)
                & p.state.in_(['valid', 'used']), limit=1))
        return bool(cursor.fetchone())

    @classmethod
    def _check_restriction(cls, account, visitors, today, strikes):
        """Refuse an account or an ID restricted by its strikes
        (account_restricted, id_restricted: until the day it ends);
        strikes: _history's"""
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
