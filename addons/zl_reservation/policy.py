# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The site's visit policy (预约设置 → 参观规则): how much one visitor
account and one identity document may book, and how many people (and
minors) one booking may carry.  Museums publish such rules (5 people per
account per day, one booking per ID per day, at most 3 under-14s per
booking, ...); the manual only hints at them (用户限购, 一人一票).

Pure rules, no Tryton (like identity.py, whose age and child age they
use: the minors the policy counts are the children a gate flags): the
booking service gathers what the account and the IDs already hold under
its locks and asks these functions; each answers None or (code, message
arguments).  A limit of 0 is no limit."""
import datetime as dt

from .identity import CHILD_UNDER as MINOR_AGE
from .identity import age

# The policy's settings and their "off" value.
LIMITS = {
    'account_people_per_day': 0,
    'account_bookings_per_day': 0,
    'id_one_per_day': False,
    'id_bookings_max': 0,
    'id_bookings_days': 0,
    'booking_visitors_max': 0,
    'booking_minors_max': 0,
    'minors_need_adult': False,
    'strike_no_show': False,
    'strike_limit': 0,
    'strike_days': 0,
    'restrict_days': 0,
    }

# The per-booking rules a ticket may set itself (None: the site's).
TICKET_RULES = ('booking_visitors_max', 'booking_minors_max',
    'minors_need_adult')


def for_ticket(policy, ticket):
    """The policy a booking of ticket follows: the site's, with each
    per-booking rule the ticket sets itself (a value that is not None;
    minors_need_adult as 'yes' or 'no')"""
    own = {}
    for key in TICKET_RULES:
        value = ticket.get(key)
        if key == 'minors_need_adult':
            value = {'yes': True, 'no': False}.get(value)
        if value is not None:
            own[key] = value
    return dict(policy, **own) if own else policy


def visitors_refusal(policy, count):
    "At most booking_visitors_max people in one booking"
    limit = policy['booking_visitors_max']
    if limit and count > limit:
        return 'visitors_limit', {'limit': limit}
    return None


def minors_refusal(policy, births, date):
    """births: each visitor's birth date (None when unknown).  At most
    booking_minors_max minors; minors only with an adult in the booking.
    With either rule on, every visitor's age must be known."""
    limit = policy['booking_minors_max']
    with_adult = policy['minors_need_adult']
    if not (limit or with_adult):
        return None
    if any(birth is None for birth in births):
        return 'birth_date_required', {}
    minors = sum(age(birth, date) < MINOR_AGE for birth in births)
    if limit and minors > limit:
        return 'minors_limit', {'limit': limit, 'age': MINOR_AGE}
    if with_adult and minors and minors == len(births):
        return 'guardian_required', {'age': MINOR_AGE}
    return None


def account_refusal(policy, held_people, held_bookings, quantity):
    """The account holds held_bookings bookings for held_people people on
    the visit date, all tickets together; quantity more asked"""
    people = policy['account_people_per_day']
    if people and held_people + quantity > people:
        return 'account_limit', {
            'limit': people, 'left': max(people - held_people, 0)}
    bookings = policy['account_bookings_per_day']
    if bookings and held_bookings + 1 > bookings:
        return 'account_bookings_limit', {'limit': bookings}
    return None


def id_window(policy, date):
    """(first, last) visit dates whose bookings of an ID the rules of a
    booking on date depend on, or None when no ID rule is on"""
    days = policy['id_bookings_days'] if policy['id_bookings_max'] else 0
    if days:
        span = dt.timedelta(days=days - 1)
        return date - span, date + span
    if policy['id_one_per_day']:
        return date, date
    return None


def id_refusal(policy, held_dates, date):
    """held_dates: the visit dates of the bookings one ID holds (one item
    per booking, any ticket) inside id_window; a booking on date more.

    One per day: no other booking that day.  N in M days: no M
    consecutive days may hold more than N bookings of the ID, counting
    this one."""
    if policy['id_one_per_day'] and date in held_dates:
        return 'id_limit', {'date': date}
    limit, days = policy['id_bookings_max'], policy['id_bookings_days']
    if limit and days:
        dates = sorted(list(held_dates) + [date])
        span = dt.timedelta(days=days - 1)
        for first in range(len(dates)):
            # Bookings from dates[first] to dates[first] + days - 1.
            last = first
            while last + 1 < len(dates) and (
                    dates[last + 1] - dates[first] <= span):
                last += 1
            if last - first + 1 > limit and (
                    dates[first] <= date <= dates[first] + span):
                return 'id_window_limit', {'limit': limit, 'days': days}
    return None


# ----------------------------------------------------------------------
# Cancellation tiers (取消规则): an ordered list relative to the session.
# Each tier runs from the end of the one before to its own end; after
# the last, cancelling is refused.  Museums publish e.g. "free until 24:00
# the day before, a strike on the day, no cancellation after 15:00".

def tier_end(tier, date, start):
    """The moment (site time) a tier ends for a session on date whose
    check-in starts at start: `days` days before the visit date at
    `time`, or, without a time, `minutes` before the check-in start"""
    if tier['time'] is not None:
        return dt.datetime.combine(
            date - dt.timedelta(days=tier['days']), tier['time'])
    return start - dt.timedelta(minutes=tier['minutes'])


def cancel_outcome(tiers, date, start, now):
    """(kind, moment): cancelling now is 'free' or records a 'strike'
    until moment; (None, moment): refused since moment, the end of the
    last tier.  tiers: dicts with kind, days, time, minutes."""
    ends = sorted((tier_end(t, date, start), t['kind']) for t in tiers)
    for end, kind in ends:
        if now < end:
            return kind, end
    return None, ends[-1][0] if ends else None


# ----------------------------------------------------------------------
# Strikes (违约) and the restriction they bring

def restricted_until(policy, strike_dates, today):
    """The last day an account or an ID may not book on today, or None.

    strike_limit strikes within strike_days days restrict booking for
    restrict_days days from the day after the strike that reached the
    limit.  The strikes that brought a restriction are spent: counting
    starts again after it (else, once restricted, every later strike
    would restrict again)."""
    limit, days = policy['strike_limit'], policy['strike_days']
    restrict = policy['restrict_days']
    if not (limit and days and restrict):
        return None
    counted, until = [], None
    for date in sorted(strike_dates):
        counted = [d for d in counted if (date - d).days < days]
        counted.append(date)
        if len(counted) >= limit:
            counted = []
            first = date + dt.timedelta(days=1)
            last = date + dt.timedelta(days=restrict)
            if first <= today <= last:
                until = max(until or last, last)
    return until
