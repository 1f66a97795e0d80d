# This file is part of zhonglian-ticketing. See README.md for the licence.
"""What an account and an identity document already hold: the counts the
booking service's limits (用户限购, one pass per ID, the visit policy)
decide on, read with plain SQL under the service's locks."""
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
    def _held_on(cls, account, date):
        "(people, bookings) the account holds on date, all tickets"
        cursor = Transaction().connection.cursor()
        b = cls.__table__()
        cursor.execute(*b.select(Coalesce(Sum(b.quantity), 0), Count(b.id),
                where=(b.account == account) & (b.date == date)
                & b.state.in_(list(HOLDING))))
        return cursor.fetchone()

    @classmethod
    def _id_dates(cls, digests, first, last):
        """{digest: [visit date of each booking holding it]} from first to
        last, all tickets"""
        pool = Pool()
        Visitor = pool.get('zl.booking.visitor')
        cursor = Transaction().connection.cursor()
        b, v = cls.__table__(), Visitor.__table__()
        query = v.join(b, condition=b.id == v.booking).select(
            v.id_digest.as_('digest'), b.date.as_('date'),
            where=v.id_digest.in_(digests) & (b.date >= first)
            & (b.date <= last) & b.state.in_(list(HOLDING)))
        if backend.name == 'sqlite':
            sqlite_apply_types(query, [None, 'DATE'])
        cursor.execute(*query)
        held = {}
        for digest, date in cursor:
            held.setdefault(digest, []).append(date)
        return held

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
    def _check_restriction(cls, account, visitors, today):
        """Refuse an account or an ID restricted by its strikes
        (account_restricted, id_restricted: until the day it ends)"""
        Strike = Pool().get('zl.reservation.strike')
        if account:
            until = Strike.restricted_until(
                'account', [account], today).get(account)
            if until:
                raise refusal('account_restricted', until=until)
        digests = {v['id_digest']: v for v in visitors if v['id_digest']}
        restricted = Strike.restricted_until('id', list(digests), today)
        if restricted:
            # The first in the request's order names the visitor.
            digest = next(d for d in digests if d in restricted)
            raise refusal('id_restricted',
                name=digests[digest]['name'], until=restricted[digest])
