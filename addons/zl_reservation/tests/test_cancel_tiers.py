# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Cancellation tiers through the engine: the minute before and after each
tier, the preview every face shows, a ticket's own tiers, the refusal
cancel_closed leaving everything as it was."""
import datetime as dt
from unittest.mock import patch

from trytond.exceptions import UserError
from trytond.modules.zl_reservation.exceptions import BookingError
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import SAME_TRANSACTION, SiteMixin, visitor

ACCOUNT = 'web.user,7'
MINUTE = dt.timedelta(minutes=1)


class CancelTiersTestCase(SiteMixin, ModuleTestCase):
    "Test the cancellation tiers"
    module = 'zl_reservation'
    extras = []

    def setup_tiers(self, tiers=None, **rules):
        """Free until 24:00 the day before, with a strike until an hour
        before the 08:00 check-in, then closed"""
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        if tiers is None:
            tiers = [
                {'kind': 'free', 'days': 0, 'time': dt.time(0)},
                {'kind': 'strike', 'minutes': 60},
                ]
        Configuration.write([Configuration(1)], dict(
                {'cancel_tiers': [('create', tiers)]}, **rules))
        self.setup_site(capacity=10, per_user_limit=0)
        self.free_end = dt.datetime.combine(self.slot.date, dt.time(0))
        self.strike_end = dt.datetime.combine(self.slot.date, dt.time(7))

    def cancel_at(self, result, now):
        pool = Pool()
        Booking = pool.get('zl.booking')
        Configuration = pool.get('zl.reservation.configuration')
        with patch.object(Configuration, 'now', return_value=now):
            Booking.cancel_bookings([Booking(result['id'])])
        return Booking(result['id'])

    def strikes(self):
        Strike = Pool().get('zl.reservation.strike')
        # The account's first, then the IDs' in the visitors' order.
        return sorted(Strike.search([]),
            key=lambda s: (s.subject != 'account', s.id))

    @with_transaction(context=SAME_TRANSACTION)
    def test_free_until_the_minute_before(self):
        "The minute before the free tier ends: cancelled, no strike"
        self.setup_tiers()
        result = self.book(self.request(visitor(1)), account=ACCOUNT)
        booking = self.cancel_at(result, self.free_end - MINUTE)
        self.assertEqual(booking.state, 'cancelled')
        self.assertEqual(self.strikes(), [])
        self.assertEqual(self.booked(), 0)

    @with_transaction(context=SAME_TRANSACTION)
    def test_strike_from_the_free_end(self):
        """From the free tier's end: cancelled, a strike for the account
        and one for each visitor's ID, dated the day of the cancellation"""
        self.setup_tiers()
        result = self.book(self.request(visitor(1), visitor(2)),
            account=ACCOUNT)
        booking = self.cancel_at(result, self.free_end)
        self.assertEqual(booking.state, 'cancelled')
        self.assertEqual(self.booked(), 0)
        strikes = self.strikes()
        self.assertEqual([(s.subject, s.reason) for s in strikes], [
                ('account', 'late_cancel'), ('id', 'late_cancel'),
                ('id', 'late_cancel')])
        self.assertEqual(strikes[0].account, ACCOUNT)
        self.assertEqual({s.date for s in strikes}, {self.slot.date})
        # The ID is kept masked, with its visitor's name.
        self.assertEqual({s.name for s in strikes[1:]}, {"游客1", "游客2"})
        self.assertTrue(all('*' in s.id_masked for s in strikes[1:]))

    @with_transaction(context=SAME_TRANSACTION)
    def test_strike_until_the_minute_before_closing(self):
        self.setup_tiers()
        result = self.book(self.request(visitor(1)))
        booking = self.cancel_at(result, self.strike_end - MINUTE)
        self.assertEqual(booking.state, 'cancelled')
        # A window booking has no account: the ID alone is struck.
        self.assertEqual([s.subject for s in self.strikes()], ['id'])

    @with_transaction(context=SAME_TRANSACTION)
    def test_cancel_closed(self):
        "From the last tier's end: cancel_closed, nothing changes"
        self.setup_tiers()
        result = self.book(self.request(visitor(1)), account=ACCOUNT)
        with self.assertRaises(BookingError) as cm:
            self.cancel_at(result, self.strike_end)
        self.assertEqual(cm.exception.code, 'cancel_closed')
        self.assertIn(self.strike_end.strftime('%Y-%m-%d %H:%M'),
            cm.exception.message)
        booking = Pool().get('zl.booking')(result['id'])
        self.assertEqual(booking.state, 'confirmed')
        self.assertEqual(self.booked(), 1)
        self.assertEqual(self.strikes(), [])

    @with_transaction(context=SAME_TRANSACTION)
    def test_preview(self):
        "What cancelling now means, as the window and the API show it"
        pool = Pool()
        Booking = pool.get('zl.booking')
        Configuration = pool.get('zl.reservation.configuration')
        self.setup_tiers()
        result = self.book(self.request(visitor(1)))
        booking = Booking(result['id'])

        def terms(now):
            return Booking.cancel_terms(booking.state, True,
                self.ticket.id, booking.date, booking.slot.window()[0], now)
        free = terms(self.free_end - MINUTE)
        self.assertEqual((free['code'], free['outcome'], free['until']),
            (None, 'free', self.free_end))
        self.assertIn('free', free['message'])
        strike = terms(self.free_end)
        self.assertEqual((strike['outcome'], strike['until']),
            ('strike', self.strike_end))
        self.assertIn('strike', strike['message'])
        self.assertIn('07:00', strike['message'])
        closed = terms(self.strike_end)
        self.assertEqual((closed['code'], closed['outcome']),
            ('cancel_closed', None))
        for value in [free, strike, closed]:
            self.assertEqual(value['closes'], self.strike_end)
        # The booking form's field says the same.
        with patch.object(Configuration, 'now',
                return_value=self.free_end):
            self.assertEqual(Booking(booking.id).cancel_preview,
                strike['message'])

    @with_transaction(context=SAME_TRANSACTION)
    def test_ticket_tiers_replace_the_site(self):
        "A ticket with its own tiers ignores the site's"
        pool = Pool()
        Ticket = pool.get('zl.ticket')
        self.setup_tiers()
        Ticket.write([self.ticket], {'cancel_tiers': [('create', [
                            {'kind': 'free', 'minutes': 30}])]})
        result = self.book(self.request(visitor(1)), account=ACCOUNT)
        # Past the site's tiers, inside the ticket's free one.
        booking = self.cancel_at(result, self.strike_end + MINUTE)
        self.assertEqual(booking.state, 'cancelled')
        self.assertEqual(self.strikes(), [])

    @with_transaction(context=SAME_TRANSACTION)
    def test_without_tiers_the_deadline(self):
        "No tiers: the cancellation deadline, cancel_too_late after it"
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        Configuration.write([Configuration(1)], {'cancel_deadline': 60})
        self.setup_site(capacity=10)
        result = self.book(self.request(visitor(1)))
        with self.assertRaises(BookingError) as cm:
            self.cancel_at(result,
                dt.datetime.combine(self.slot.date, dt.time(7)))
        self.assertEqual(cm.exception.code, 'cancel_too_late')
        booking = self.cancel_at(result,
            dt.datetime.combine(self.slot.date, dt.time(6, 59)))
        self.assertEqual(booking.state, 'cancelled')
        self.assertEqual(self.strikes(), [])

    @with_transaction(context=SAME_TRANSACTION)
    def test_not_refundable_first(self):
        "A ticket that cannot be refunded stays not_refundable"
        self.setup_tiers()
        Ticket = Pool().get('zl.ticket')
        Ticket.write([self.ticket], {'refundable': False})
        result = self.book(self.request(visitor(1)))
        with self.assertRaises(BookingError) as cm:
            self.cancel_at(result, self.free_end - MINUTE)
        self.assertEqual(cm.exception.code, 'not_refundable')

    @with_transaction(context=SAME_TRANSACTION)
    def test_tier_checks(self):
        "Negative days or minutes, a tier of nobody: refused"
        pool = Pool()
        Tier = pool.get('zl.reservation.cancel_tier')
        Configuration = pool.get('zl.reservation.configuration')
        Configuration(1).save()
        for values in [
                {'configuration': 1, 'kind': 'free', 'minutes': -1},
                {'configuration': 1, 'kind': 'free', 'days': -1,
                    'time': dt.time(0)},
                {'kind': 'free', 'minutes': 10},
                ]:
            with self.subTest(values=values):
                cursor = Transaction().connection.cursor()
                # A refused statement aborts a PostgreSQL transaction.
                cursor.execute('SAVEPOINT tier')
                with self.assertRaises(UserError):
                    Tier.create([values])
                cursor.execute('ROLLBACK TO SAVEPOINT tier')
        self.assertEqual(Tier.search([]), [])


del ModuleTestCase
