# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Who may take a slot's places: the one capacity rule.

A slot keeps places for the on-site channels (the window and the kiosks:
older visitors and walk-ins who cannot book online) and for groups.  A
booking takes its places from one pool: 'group' (a group ticket),
'window' (sold through a window or a kiosk) or 'online' (every other
channel).  Until the release moment (the session's check-in start less
the plan's minutes) a pool may use the free places nobody keeps plus its
own unused reserve, never another pool's; from the release on, any pool
may use any free place.  Places a cancellation gave back under the
re-release hold count as taken until the hold ends.

Pure rules, no Tryton (like slot_state and identity.py): the visitor API
and the staff views ask free_places, and Slot.take builds its conditional
UPDATE from the very same function, given SQL's GREATEST and the slot's
columns instead of max and numbers (tests/test_reserved_places.py checks
that the two decide alike)."""
import datetime as dt

POOLS = ('online', 'window', 'group')
# Seller kinds whose bookings use the on-site reserve (zl.seller.kind)
ON_SITE = {'window', 'kiosk'}
# The slot's counters free_places reads (its columns of the same names)
COUNTS = ('capacity', 'booked', 'reserved_window', 'booked_window',
    'reserved_group', 'booked_group', 'held')


def pool_of(ticket_kind, seller_kind):
    "The pool a booking of a ticket kind through a seller kind takes from"
    if ticket_kind == 'group':
        return 'group'
    if seller_kind in ON_SITE:
        return 'window'
    return 'online'


def release_moment(date, checkin_start, reserve_release):
    """When a slot's reserved places open to every channel: its check-in
    start less reserve_release minutes (site time)"""
    return dt.datetime.combine(date, checkin_start) - dt.timedelta(
        minutes=reserve_release or 0)


def released(now, date, checkin_start, reserve_release):
    return now >= release_moment(date, checkin_start, reserve_release)


def held_now(held, held_until, now):
    "The held places that still count at now (0 once the hold ended)"
    if held_until is not None and now < held_until:
        return held
    return 0


def next_rerelease(now, time):
    """The re-release moment after now: today's time of day if still
    ahead, else tomorrow's"""
    moment = dt.datetime.combine(now.date(), time)
    if moment <= now:
        moment += dt.timedelta(days=1)
    return moment


def slot_free(facts, pool, now):
    """(places pool may take, released) at now of a slot given its facts
    as the booking service and the visitor API read them with plain SQL:
    date, checkin_start, reserve_release (the plan's), capacity, booked,
    reserved_window, booked_window, reserved_group, booked_group, held,
    held_until"""
    is_released = released(
        now, facts['date'], facts['checkin_start'], facts['reserve_release'])
    return free_places(
        facts['capacity'], facts['booked'], facts['reserved_window'],
        facts['booked_window'], facts['reserved_group'],
        facts['booked_group'],
        held_now(facts['held'], facts['held_until'], now),
        pool, is_released), is_released


def free_places(capacity, booked, reserved_window, booked_window,
        reserved_group, booked_group, held, pool, released, greatest=max):
    """The places pool may still take on a slot.

    booked: the places of every pool; booked_window and booked_group the
    places of those pools (a pool may overflow its reserve into the free
    places); held: the held places that count now (held_now).  Before the
    release, the unused reserves of the other pools are not free.

    A cancelled window or group booking's held places are its pool's
    unused reserve again as well: they count twice until the hold ends,
    which may refuse a place but never oversells one.

    Written once for numbers and for SQL: Slot.take passes column
    expressions and GREATEST as greatest.  Only +, - and greatest are
    used, so both give the same integers."""
    taken = booked + held
    if not released:
        if pool != 'window':
            taken = taken + greatest(reserved_window - booked_window, 0)
        if pool != 'group':
            taken = taken + greatest(reserved_group - booked_group, 0)
    return greatest(capacity - taken, 0)
