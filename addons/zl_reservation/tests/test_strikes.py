# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Strikes through the engine: no-shows, one per ID and day, the
restriction on its first and last day for accounts and IDs, waiving with
a reason, what staff see on the visitor and in the daily report."""
import datetime as dt
from unittest.mock import patch

from trytond.exceptions import UserError
from trytond.modules.zl_reservation.identity import make_resident_id
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import SAME_TRANSACTION, SiteMixin, visitor

ACCOUNT = 'web.user,9'
NATIONAL = {
    'strike_no_show': True,
    'strike_limit': 3, 'strike_days': 30, 'restrict_days': 30,
    }


class StrikesTestCase(SiteMixin, ModuleTestCase):
    "Test strikes and restrictions"
    module = 'zl_reservation'
    extras = []

    def setup_strikes(self, **rules):
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        Configuration.write([Configuration(1)], dict(NATIONAL, **rules))
        self.setup_site(capacity=20, per_user_limit=0)

    def no_show(self, *visitors, account=ACCOUNT, slot=None):
        "Book visitors and let the session end without them"
        Booking = Pool().get('zl.booking')
        slot = slot or self.slot
        result = self.book(self.request(*visitors, slot=slot.id),
            account=account)
        end = dt.datetime.combine(slot.date, dt.time(12))
        Booking.expire_cron(end)
        self.assertEqual(Booking(result['id']).state, 'no_show')
        return result

    def strikes(self, **domain):
        Strike = Pool().get('zl.reservation.strike')
        return Strike.search([(k, '=', v) for k, v in domain.items()])

    def at(self, date):
        "Patch the site's clock to 07:00 on date"
        Configuration = Pool().get('zl.reservation.configuration')
        return patch.object(Configuration, 'now',
            return_value=dt.datetime.combine(date, dt.time(7)))

    def strike_on(self, date, *visitors, account=ACCOUNT):
        "A strike of the account and visitors' IDs dated date"
        pool = Pool()
        Booking = pool.get('zl.booking')
        Strike = pool.get('zl.reservation.strike')
        result = self.book(self.request(*visitors), account=account)
        Strike.record([Booking(result['id'])], 'no_show', date)
        # Free the visitors again (no tiers: a free cancellation).
        Booking.cancel_bookings([Booking(result['id'])])

    @with_transaction(context=SAME_TRANSACTION)
    def test_no_show_strikes(self):
        "A no-show strikes the account once and each ID once"
        self.setup_strikes()
        self.no_show(visitor(1), visitor(2))
        self.assertEqual(len(self.strikes(subject='account')), 1)
        ids = self.strikes(subject='id')
        self.assertEqual(len(ids), 2)
        self.assertEqual({s.date for s in ids}, {self.slot.date})
        self.assertEqual({s.reason for s in ids}, {'no_show'})

    @with_transaction(context=SAME_TRANSACTION)
    def test_no_show_off(self):
        "No-shows are not strikes unless the site says so"
        self.setup_strikes(strike_no_show=False)
        self.no_show(visitor(1))
        self.assertEqual(self.strikes(), [])

    @with_transaction(context=SAME_TRANSACTION)
    def test_one_per_id_per_day(self):
        """Two bookings of one ID the same day, both missed: the ID is
        struck once, the account once per booking"""
        pool = Pool()
        Ticket = pool.get('zl.ticket')
        Seller = pool.get('zl.seller')
        Plan = pool.get('zl.reservation.plan')
        self.setup_strikes()
        other, = Ticket.create([{'name': "特展票", 'code': 'EXPO',
                    'per_user_limit': 0}])
        Ticket.put_on_shelf([other])
        Seller.write([self.seller], {'tickets': [('add', [other.id])]})
        Plan.write([self.plan], {'tickets': [('add', [other.id])]})
        self.book(self.request(visitor(1), ticket=other.id),
            account=ACCOUNT)
        self.no_show(visitor(1))
        self.assertEqual(len(self.strikes(subject='id')), 1)
        self.assertEqual(len(self.strikes(subject='account')), 2)

    @with_transaction(context=SAME_TRANSACTION)
    def test_account_restricted(self):
        """The third strike restricts the account from the next day to
        the 30th: account_restricted with the last day"""
        self.setup_strikes()
        day = self.today
        for offset, seq in [(-20, 1), (-10, 2), (0, 3)]:
            self.strike_on(day + dt.timedelta(days=offset), visitor(seq))
        with self.at(day):
            self.book(self.request(visitor(10)), account=ACCOUNT)
        last = day + dt.timedelta(days=30)
        with self.at(day + dt.timedelta(days=1)):
            error = self.assertRefused(
                'account_restricted', self.request(visitor(11)),
                account=ACCOUNT)
        self.assertEqual(error.arguments['until'], last)
        self.assertIn(str(last), error.message)
        # Another account with fresh visitors books.
        with self.at(day + dt.timedelta(days=1)):
            self.book(self.request(visitor(12)), account='web.user,10')

    @with_transaction(context=SAME_TRANSACTION)
    def test_restriction_last_day(self):
        "Refused on the restriction's last day, booking again the day after"
        pool = Pool()
        Slot = pool.get('zl.reservation.slot')
        self.setup_strikes(restrict_days=3)
        first = self.today - dt.timedelta(days=3)
        for seq in [1, 2, 3]:
            self.strike_on(first, visitor(seq))
        # Restricted from today - 2 to today.
        with self.at(self.today):
            self.assertRefused('account_restricted',
                self.request(visitor(11)), account=ACCOUNT)
        later, = Slot.search([('plan', '=', self.plan.id),
                ('date', '=', self.today + dt.timedelta(days=2))])
        with self.at(self.today + dt.timedelta(days=1)):
            self.book(self.request(visitor(11), slot=later.id),
                account=ACCOUNT)

    @with_transaction(context=SAME_TRANSACTION)
    def test_id_restricted(self):
        """An ID struck three times is refused on any account and at the
        window: id_restricted with the visitor's name"""
        self.setup_strikes()
        yesterday = self.today - dt.timedelta(days=1)
        for n, account in enumerate([None, 'web.user,20', None]):
            self.strike_on(yesterday - dt.timedelta(days=n),
                visitor(1, name="张三"), account=account)
        for account in [None, ACCOUNT]:
            error = self.assertRefused('id_restricted',
                self.request(visitor(2), visitor(1, name="张三")),
                account=account)
            self.assertIn("张三", error.message)
            self.assertNotIn(make_resident_id(seq='001'), error.message)
        self.assertEqual(self.booked(), 0)
        self.book(self.request(visitor(2)), account=ACCOUNT)

    @with_transaction(context=SAME_TRANSACTION)
    def test_waive(self):
        """Waiving one strike (with its reason, logged) lifts the
        restriction; the visitor shows the ID's strikes"""
        pool = Pool()
        Strike = pool.get('zl.reservation.strike')
        Visitor = pool.get('zl.booking.visitor')
        Waive = pool.get('zl.reservation.strike.waive', type='wizard')
        self.setup_strikes()
        for n in range(3):
            self.strike_on(self.today - dt.timedelta(days=n + 1),
                visitor(n + 1))
        self.assertRefused('account_restricted', self.request(visitor(9)),
            account=ACCOUNT)
        strike = self.strikes(subject='account')[0]
        with Transaction().set_context(
                active_model=Strike.__name__, active_id=strike.id,
                active_ids=[strike.id]):
            session_id, _, _ = Waive.create()
            Waive.execute(session_id, {
                    'start': {'reason': "闭馆日，非游客原因"}}, 'waive')
            Waive.delete(session_id)
        strike = Strike(strike.id)
        self.assertTrue(strike.waived)
        self.assertEqual(strike.waive_reason, "闭馆日，非游客原因")
        # Written at commit with the other logs of the transaction.
        logs = [log for log in Transaction().log_records
            if log.resource == strike and log.event == 'write']
        self.assertEqual(len(logs), 1)
        self.assertIn("闭馆日", logs[0].changes)
        self.book(self.request(visitor(9)), account=ACCOUNT)

        # On the visitor: its ID's strikes (masked) and no restriction.
        seen, = Visitor.search([('id_number', '=', make_resident_id(
                        seq='001'))], limit=1, order=[('id', 'ASC')])
        self.assertEqual([s.reason for s in seen.strikes], ['no_show'])
        self.assertIsNone(seen.restricted_until)

    @with_transaction(context=SAME_TRANSACTION)
    def test_visitor_restricted_until(self):
        "The visitor shows its ID's strikes, one per day, and the end"
        pool = Pool()
        Visitor = pool.get('zl.booking.visitor')
        self.setup_strikes()
        yesterday = self.today - dt.timedelta(days=1)
        for _ in range(3):
            self.strike_on(yesterday, visitor(1), account=None)
        # One strike per ID and day: three bookings, one ID strike.
        self.assertEqual(len(self.strikes(subject='id')), 1)
        for days in [2, 3]:
            self.strike_on(self.today - dt.timedelta(days=days), visitor(1),
                account=None)
        seen = Visitor.search([])[0]
        self.assertEqual(len(seen.strikes), 3)
        self.assertTrue(all('*' in s.id_masked for s in seen.strikes))
        self.assertEqual(seen.restricted_until,
            yesterday + dt.timedelta(days=30))

    @with_transaction(context=SAME_TRANSACTION)
    def test_daily_report(self):
        "No-shows, late cancellations and strikes per day"
        pool = Pool()
        Day = pool.get('zl.reservation.strike.day')
        self.setup_strikes()
        self.no_show(visitor(1), visitor(2))
        row, = Day.search([])
        self.assertEqual(row.date, self.slot.date)
        self.assertEqual((row.no_shows, row.no_show_people,
                row.late_cancels, row.account_strikes, row.id_strikes,
                row.waived), (1, 2, 0, 1, 2, 0))

    @with_transaction(context=SAME_TRANSACTION)
    def test_restriction_settings(self):
        "Strikes without their days or restriction are refused"
        Configuration = Pool().get('zl.reservation.configuration')
        with self.assertRaises(UserError) as cm:
            Configuration.write([Configuration(1)], {'strike_limit': 3})
        self.assertIn('restriction', cm.exception.message)
        Configuration.write([Configuration(1)], NATIONAL)


del ModuleTestCase
