# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The visit policy's pure rules (policy.py): every limit on its edge, and
the N-bookings-in-M-days rule against a brute force over random
histories."""
import datetime as dt
import random
import unittest

from trytond.modules.zl_reservation import policy
from trytond.modules.zl_reservation.identity import age
from trytond.modules.zl_reservation.policy import (
    LIMITS,
    account_refusal,
    for_ticket,
    id_refusal,
    id_window,
    minors_refusal,
    visitors_refusal,
)

DAY = dt.date(2026, 12, 1)


def rules(**values):
    return dict(LIMITS, **values)


def days(*offsets):
    return [DAY + dt.timedelta(days=o) for o in offsets]


class PolicyTestCase(unittest.TestCase):

    def test_off_by_default(self):
        "Nothing is limited until staff set a limit"
        off = rules()
        self.assertIsNone(visitors_refusal(off, 100))
        self.assertIsNone(account_refusal(off, 1000, 1000, 100))
        self.assertIsNone(id_window(off, DAY))
        self.assertIsNone(id_refusal(off, days(0, 0, 0), DAY))

    def test_visitors_per_booking(self):
        limit = rules(booking_visitors_max=5)
        self.assertIsNone(visitors_refusal(limit, 5))
        self.assertEqual(visitors_refusal(limit, 6),
            ('visitors_limit', {'limit': 5}))

    def test_account_people_per_day(self):
        "5 people per account per day (the National Museum)"
        limit = rules(account_people_per_day=5)
        self.assertIsNone(account_refusal(limit, 0, 0, 5))
        self.assertIsNone(account_refusal(limit, 3, 1, 2))
        self.assertEqual(account_refusal(limit, 3, 1, 3),
            ('account_limit', {'limit': 5, 'left': 2}))
        self.assertEqual(account_refusal(limit, 7, 2, 1),
            ('account_limit', {'limit': 5, 'left': 0}))

    def test_account_bookings_per_day(self):
        limit = rules(account_bookings_per_day=2)
        self.assertIsNone(account_refusal(limit, 9, 1, 9))
        self.assertEqual(account_refusal(limit, 2, 2, 1),
            ('account_bookings_limit', {'limit': 2}))

    def test_account_people_first(self):
        "Both limits reached: the people limit answers (it says how many)"
        both = rules(account_people_per_day=5, account_bookings_per_day=1)
        self.assertEqual(account_refusal(both, 5, 1, 1)[0], 'account_limit')

    def test_id_window(self):
        self.assertEqual(id_window(rules(id_one_per_day=True), DAY),
            (DAY, DAY))
        self.assertEqual(
            id_window(rules(id_bookings_max=3, id_bookings_days=30), DAY),
            (DAY - dt.timedelta(days=29), DAY + dt.timedelta(days=29)))
        # Days without a maximum (or the reverse) is no rule.
        self.assertIsNone(id_window(rules(id_bookings_days=30), DAY))
        self.assertIsNone(id_refusal(rules(id_bookings_max=1), days(0), DAY))

    def test_id_one_per_day(self):
        "One booking per ID per day, any ticket"
        one = rules(id_one_per_day=True)
        self.assertIsNone(id_refusal(one, [], DAY))
        self.assertIsNone(id_refusal(one, days(-1, 1), DAY))
        self.assertEqual(id_refusal(one, days(0), DAY),
            ('id_limit', {'date': DAY}))

    def test_id_window_edges(self):
        "2 in 7 days: the 7th day counts, the 8th does not"
        limit = rules(id_bookings_max=2, id_bookings_days=7)
        refused = ('id_window_limit', {'limit': 2, 'days': 7})
        self.assertIsNone(id_refusal(limit, days(0), DAY))
        self.assertEqual(id_refusal(limit, days(0, 6), DAY), refused)
        self.assertEqual(id_refusal(limit, days(-6, 0), DAY), refused)
        self.assertIsNone(id_refusal(limit, days(-7, 7), DAY))
        self.assertEqual(id_refusal(limit, days(-3, 3), DAY), refused)
        # One on each side: each window with this one holds two.
        self.assertIsNone(id_refusal(limit, days(-6, 6), DAY))
        one = rules(id_bookings_max=1, id_bookings_days=7)
        self.assertEqual(id_refusal(one, days(6), DAY)[0], 'id_window_limit')
        self.assertIsNone(id_refusal(one, days(-7, 7), DAY))

    def test_id_window_against_brute_force(self):
        """Refused exactly when some M consecutive days containing the
        new date would hold more than N bookings"""
        rng = random.Random(11)
        for _ in range(3000):
            limit, span = rng.randint(1, 4), rng.randint(1, 10)
            held = [DAY + dt.timedelta(days=rng.randint(-12, 12))
                for _ in range(rng.randint(0, 6))]
            held = [d for d in held if abs((d - DAY).days) < span]
            answer = id_refusal(
                rules(id_bookings_max=limit, id_bookings_days=span),
                held, DAY)
            every = held + [DAY]
            expected = any(
                sum(start <= d < start + dt.timedelta(days=span)
                    for d in every) > limit
                for start in (DAY - dt.timedelta(days=k)
                    for k in range(span)))
            self.assertEqual(answer is not None, expected,
                (limit, span, sorted(held)))

    def test_age_on_the_birthday(self):
        "The 14th birthday on the visit date: 14, no longer a minor"
        born = dt.date(2012, 12, 1)
        self.assertEqual(age(born, DAY), 14)
        self.assertEqual(age(born, DAY - dt.timedelta(days=1)), 13)
        leap = dt.date(2012, 2, 29)
        self.assertEqual(age(leap, dt.date(2026, 2, 28)), 13)
        self.assertEqual(age(leap, dt.date(2026, 3, 1)), 14)

    def test_minors_limit(self):
        "At most 3 under-14s per booking (the National Museum)"
        three = rules(booking_minors_max=3)
        child, adult = dt.date(2015, 6, 1), dt.date(1990, 1, 1)
        self.assertIsNone(minors_refusal(three, [child] * 3 + [adult], DAY))
        self.assertEqual(minors_refusal(three, [child] * 4, DAY),
            ('minors_limit', {'limit': 3, 'age': 14}))
        # Turning 14 that day: not counted.
        fourteen = dt.date(2012, 12, 1)
        self.assertIsNone(
            minors_refusal(three, [child] * 3 + [fourteen], DAY))
        self.assertEqual(minors_refusal(three, [child] * 3 + [
                    fourteen + dt.timedelta(days=1)], DAY)[0],
            'minors_limit')

    def test_guardian_required(self):
        with_adult = rules(minors_need_adult=True)
        child, adult = dt.date(2015, 6, 1), dt.date(1990, 1, 1)
        self.assertEqual(minors_refusal(with_adult, [child, child], DAY),
            ('guardian_required', {'age': 14}))
        self.assertIsNone(minors_refusal(with_adult, [child, adult], DAY))
        self.assertIsNone(minors_refusal(with_adult, [adult], DAY))

    def test_birth_date_required(self):
        "With a minors rule on, every age must be known; else no need"
        unknown = [dt.date(1990, 1, 1), None]
        for on in [rules(booking_minors_max=2),
                rules(minors_need_adult=True)]:
            self.assertEqual(minors_refusal(on, unknown, DAY),
                ('birth_date_required', {}))
        self.assertIsNone(minors_refusal(rules(), unknown, DAY))

    def test_limits_are_the_configuration_fields(self):
        "Every setting has its field in 预约设置 (configuration.py)"
        from trytond.modules.zl_reservation.configuration import Configuration
        for name in policy.LIMITS:
            self.assertTrue(hasattr(Configuration, name), name)

    def test_for_ticket(self):
        "A ticket's own per-booking rule replaces the site's; None keeps it"
        site = rules(booking_visitors_max=5, booking_minors_max=3,
            minors_need_adult=True, account_people_per_day=5)
        self.assertEqual(for_ticket(site, {}), site)
        self.assertEqual(for_ticket(site, dict.fromkeys(
                    policy.TICKET_RULES)), site)
        own = for_ticket(site, {'booking_visitors_max': 0,
                'booking_minors_max': 1, 'minors_need_adult': 'no'})
        self.assertEqual(
            (own['booking_visitors_max'], own['booking_minors_max'],
                own['minors_need_adult']), (0, 1, False))
        # The cross-ticket rules stay the site's, whatever the ticket says.
        self.assertEqual(for_ticket(site, {'account_people_per_day': 0}),
            site)
        stricter = for_ticket(rules(), {'minors_need_adult': 'yes',
                'booking_visitors_max': 2})
        self.assertEqual(visitors_refusal(stricter, 3),
            ('visitors_limit', {'limit': 2}))
        self.assertTrue(stricter['minors_need_adult'])
        # The site's dict is never changed.
        self.assertEqual(site['booking_visitors_max'], 5)

    def test_ticket_rules_are_ticket_fields(self):
        "Every rule a ticket may set has its field on the ticket (ticket.py)"
        from trytond.modules.zl_reservation.ticket import Ticket
        for name in policy.TICKET_RULES:
            self.assertIn(name, policy.LIMITS)
            self.assertTrue(hasattr(Ticket, name), name)
