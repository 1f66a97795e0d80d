# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The pure rules of cancellation tiers and of the restriction strikes
bring (policy.py): each edge to the minute and to the day, and the
restriction against a brute force over random strike histories."""
import datetime as dt
import random
import unittest

from trytond.modules.zl_reservation.policy import (
    LIMITS,
    cancel_outcome,
    restricted_until,
    tier_end,
)

DAY = dt.date(2026, 12, 10)
START = dt.datetime.combine(DAY, dt.time(9))
MINUTE = dt.timedelta(minutes=1)

# Tiers in the Palace Museum's manner: free until 24:00 the day before,
# then with a strike until two hours before the 09:00 check-in (a
# session-relative tier), then no cancellation.
PALACE = [
    {'kind': 'free', 'days': 0, 'time': dt.time(0), 'minutes': 0},
    {'kind': 'strike', 'days': 0, 'time': None, 'minutes': 120},
    ]


def at(days, hour, minute=0):
    return dt.datetime.combine(
        DAY - dt.timedelta(days=days), dt.time(hour, minute))


def rules(**values):
    return dict(LIMITS, **values)


def day(offset):
    return DAY + dt.timedelta(days=offset)


class TiersTestCase(unittest.TestCase):

    def test_tier_end(self):
        "Days before the visit date at a time, or minutes before check-in"
        self.assertEqual(tier_end(PALACE[0], DAY, START), at(0, 0))
        self.assertEqual(tier_end(PALACE[1], DAY, START), at(0, 7))
        self.assertEqual(tier_end(
                {'kind': 'free', 'days': 1, 'time': dt.time(20),
                    'minutes': 0}, DAY, START), at(1, 20))

    def test_each_tier_to_the_minute(self):
        "The minute before each end and the end itself"
        free_end, strike_end = at(0, 0), at(0, 7)
        self.assertEqual(cancel_outcome(PALACE, DAY, START, at(3, 12)),
            ('free', free_end))
        self.assertEqual(
            cancel_outcome(PALACE, DAY, START, free_end - MINUTE),
            ('free', free_end))
        self.assertEqual(cancel_outcome(PALACE, DAY, START, free_end),
            ('strike', strike_end))
        self.assertEqual(
            cancel_outcome(PALACE, DAY, START, strike_end - MINUTE),
            ('strike', strike_end))
        self.assertEqual(cancel_outcome(PALACE, DAY, START, strike_end),
            (None, strike_end))
        self.assertEqual(cancel_outcome(PALACE, DAY, START, at(-1, 0)),
            (None, strike_end))

    def test_order_is_the_moments(self):
        "Tiers apply in the order of their ends, whatever the list order"
        self.assertEqual(
            cancel_outcome(list(reversed(PALACE)), DAY, START, at(1, 12)),
            ('free', at(0, 0)))

    def test_only_a_strike_tier(self):
        "A single striking tier: every cancellation strikes until its end"
        tiers = [{'kind': 'strike', 'days': 0, 'time': dt.time(15),
                'minutes': 0}]
        self.assertEqual(cancel_outcome(tiers, DAY, START, at(5, 0)),
            ('strike', at(0, 15)))
        self.assertEqual(cancel_outcome(tiers, DAY, START, at(0, 15)),
            (None, at(0, 15)))


class RestrictionTestCase(unittest.TestCase):
    # The National Museum: 3 strikes within 30 days, 30 days restricted.
    NATIONAL = rules(strike_limit=3, strike_days=30, restrict_days=30)

    def test_off(self):
        dates = [day(0)] * 10
        self.assertIsNone(restricted_until(rules(), dates, day(1)))
        self.assertIsNone(restricted_until(
                rules(strike_limit=3, strike_days=30), dates, day(1)))

    def test_from_the_next_day_to_the_last(self):
        "Restricted from the day after the third strike, for 30 days"
        dates = [day(0), day(5), day(10)]
        national = self.NATIONAL
        self.assertIsNone(restricted_until(national, dates, day(10)))
        self.assertEqual(restricted_until(national, dates, day(11)),
            day(40))
        self.assertEqual(restricted_until(national, dates, day(40)),
            day(40))
        self.assertIsNone(restricted_until(national, dates, day(41)))
        # Two strikes are not enough.
        self.assertIsNone(restricted_until(national, dates[:2], day(11)))

    def test_window_edge(self):
        "The third strike on the 30th day counts; on the 31st it does not"
        national = self.NATIONAL
        self.assertEqual(restricted_until(
                national, [day(0), day(1), day(29)], day(30)), day(59))
        self.assertIsNone(restricted_until(
                national, [day(0), day(1), day(30)], day(31)))

    def test_spent_strikes(self):
        "Strikes that brought a restriction do not count again"
        national = self.NATIONAL
        dates = [day(0), day(1), day(2), day(40)]
        self.assertIsNone(restricted_until(national, dates, day(41)))
        dates += [day(41), day(42)]
        self.assertEqual(restricted_until(national, dates, day(43)),
            day(72))

    def test_brute_force(self):
        "Against a day-by-day simulation on random histories"
        generator = random.Random(11)
        for _ in range(2000):
            limit = generator.randint(1, 4)
            days = generator.randint(1, 20)
            restrict = generator.randint(1, 15)
            policy = rules(strike_limit=limit, strike_days=days,
                restrict_days=restrict)
            dates = sorted(day(generator.randint(0, 60))
                for _ in range(generator.randint(0, 10)))
            today = day(generator.randint(0, 80))
            self.assertEqual(restricted_until(policy, dates, today),
                simulate(limit, days, restrict, dates, today),
                (limit, days, restrict, dates, today))


def simulate(limit, days, restrict, dates, today):
    "Walk the strikes one by one, the obvious way"
    restrictions = []
    start = 0
    for i in range(len(dates)):
        recent = [d for d in dates[start:i + 1]
            if d > dates[i] - dt.timedelta(days=days)]
        if len(recent) >= limit:
            restrictions.append((dates[i] + dt.timedelta(days=1),
                    dates[i] + dt.timedelta(days=restrict)))
            start = i + 1
    ends = [last for first, last in restrictions if first <= today <= last]
    return max(ends) if ends else None
