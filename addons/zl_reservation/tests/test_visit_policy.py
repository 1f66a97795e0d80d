# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The visit policy of 预约设置 enforced by the booking service, one test
per code, across tickets and dates (SQLite; the races:
tests/test_policy_races.py on PostgreSQL)."""
import datetime as dt

from trytond.exceptions import UserError
from trytond.modules.zl_reservation.identity import make_resident_id
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from .tools import SAME_TRANSACTION, SiteMixin, visitor

ACCOUNT = 'web.user,1'


class VisitPolicyTestCase(SiteMixin, ModuleTestCase):
    "Test the visit policy"
    module = 'zl_reservation'
    extras = []

    def setup_policy(self, **rules):
        "Two tickets of one plan, no per-ticket limit, the rules set"
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        Ticket = pool.get('zl.ticket')
        Seller = pool.get('zl.seller')
        Plan = pool.get('zl.reservation.plan')
        Slot = pool.get('zl.reservation.slot')
        # First: the singleton's creation locks its table, which must
        # come before any other statement of the transaction.
        Configuration.write([Configuration(1)], dict(
                {'cancel_deadline': 0}, **rules))
        self.setup_site(capacity=50, per_user_limit=0)
        self.other, = Ticket.create([{'name': "特展票", 'code': 'EXPO',
                    'per_user_limit': 0}])
        Ticket.put_on_shelf([self.other])
        Seller.write([self.seller], {'tickets': [('add', [self.other.id])]})
        Plan.write([self.plan], {'tickets': [('add', [self.other.id])]})
        self.later = Slot.search([('plan', '=', self.plan.id),
                ('date', '=', self.slot.date + dt.timedelta(days=1))])[0]

    def on(self, *visitors, ticket=None, slot=None):
        "A request for ticket (default the first) on slot (default tomorrow)"
        return self.request(*visitors,
            ticket=(ticket or self.ticket).id, slot=(slot or self.slot).id)

    def cancel(self, result):
        Booking = Pool().get('zl.booking')
        Booking.cancel_bookings([Booking(result['id'])])

    @with_transaction(context=SAME_TRANSACTION)
    def test_off_by_default(self):
        "Without rules one account books many, one ID every ticket"
        self.setup_policy()
        for n in range(3):
            self.book(self.on(visitor(n), visitor(n + 10), visitor(n + 20)),
                account=ACCOUNT)
        self.book(self.on(visitor(1), ticket=self.other), account=ACCOUNT)

    @with_transaction(context=SAME_TRANSACTION)
    def test_visitors_limit(self):
        "More visitors than a booking may carry: visitors_limit"
        self.setup_policy(booking_visitors_max=2)
        error = self.assertRefused('visitors_limit',
            self.on(visitor(1), visitor(2), visitor(3)))
        self.assertIn('2', error.message)
        self.assertEqual(self.booked(), 0)
        self.book(self.on(visitor(1), visitor(2)))

    @with_transaction(context=SAME_TRANSACTION)
    def test_account_limit(self):
        """People per account per day, all tickets, counted by holding
        bookings only: account_limit"""
        self.setup_policy(account_people_per_day=3)
        first = self.book(self.on(visitor(1), visitor(2)), account=ACCOUNT)
        error = self.assertRefused('account_limit', self.on(
                visitor(3), visitor(4), ticket=self.other), account=ACCOUNT)
        self.assertIn('1', error.message)
        # The limit exactly, another account, another date: fine.
        self.book(self.on(visitor(3), ticket=self.other), account=ACCOUNT)
        self.book(self.on(visitor(4)), account='web.user,2')
        self.book(self.on(visitor(5), slot=self.later), account=ACCOUNT)
        self.assertRefused('account_limit', self.on(visitor(6)),
            account=ACCOUNT)
        # A cancelled booking gives its people back.
        self.cancel(first)
        self.book(self.on(visitor(6), visitor(7)), account=ACCOUNT)
        # Staff at the window book for no account: not counted.
        self.book(self.on(visitor(8), visitor(9)))

    @with_transaction(context=SAME_TRANSACTION)
    def test_account_bookings_limit(self):
        "Bookings per account per day: account_bookings_limit"
        self.setup_policy(account_bookings_per_day=1)
        self.book(self.on(visitor(1)), account=ACCOUNT)
        self.assertRefused('account_bookings_limit',
            self.on(visitor(2), ticket=self.other), account=ACCOUNT)
        self.book(self.on(visitor(2), slot=self.later), account=ACCOUNT)

    @with_transaction(context=SAME_TRANSACTION)
    def test_id_limit(self):
        "One booking per ID per day across tickets: id_limit"
        self.setup_policy(id_one_per_day=True)
        first = self.book(self.on(visitor(1), visitor(2)))
        error = self.assertRefused('id_limit',
            self.on(visitor(3), visitor(2), ticket=self.other))
        self.assertIn(self.slot.date.isoformat(), error.message)
        # Another day, another person: fine; the same ticket stays
        # duplicate_visitor (its own rule, checked first).
        self.book(self.on(visitor(2), slot=self.later))
        self.assertRefused('duplicate_visitor', self.on(visitor(1)))
        self.cancel(first)
        self.book(self.on(visitor(2), ticket=self.other))

    @with_transaction(context=SAME_TRANSACTION)
    def test_id_window_limit(self):
        "N bookings per ID in M days: id_window_limit"
        self.setup_policy(id_bookings_max=1, id_bookings_days=2)
        self.book(self.on(visitor(1)))
        self.assertRefused('id_window_limit',
            self.on(visitor(1), ticket=self.other))
        self.assertRefused('id_window_limit',
            self.on(visitor(1), slot=self.later))
        self.book(self.on(visitor(2), slot=self.later))

    def child(self, seq, **extra):
        "A visitor born 10 years before the visit"
        born = self.slot.date.replace(year=self.slot.date.year - 10)
        return visitor(seq, id_number=make_resident_id(
                birth=born.strftime('%Y%m%d'), seq='%03d' % seq), **extra)

    @with_transaction(context=SAME_TRANSACTION)
    def test_minors_limit(self):
        "More under-14s than a booking may carry: minors_limit"
        self.setup_policy(booking_minors_max=1)
        self.assertRefused('minors_limit',
            self.on(self.child(1), self.child(2), visitor(3)))
        result = self.book(self.on(self.child(1), visitor(3)))
        # The gate's attention flag: a child's pass says so.
        Pass = Pool().get('zl.pass')
        bands = sorted(Pass(p['id']).age_band or '' for p in result['passes'])
        self.assertEqual(bands, ['', 'child'])

    @with_transaction(context=SAME_TRANSACTION)
    def test_guardian_required(self):
        "Minors alone: guardian_required; the 14th birthday is an adult"
        self.setup_policy(minors_need_adult=True)
        self.assertRefused('guardian_required', self.on(self.child(1)))
        born = self.slot.date.replace(year=self.slot.date.year - 14)
        fourteen = visitor(2, id_number=make_resident_id(
                birth=born.strftime('%Y%m%d'), seq='002'))
        self.book(self.on(self.child(1), fourteen))

    @with_transaction(context=SAME_TRANSACTION)
    def test_birth_date_required(self):
        "A passport without its birth date under a minors rule"
        self.setup_policy(minors_need_adult=True)
        passport = visitor(1, id_type='passport', id_number='E12345678')
        self.assertRefused('birth_date_required', self.on(passport))
        young = self.slot.date.replace(year=self.slot.date.year - 8)
        self.assertRefused('guardian_required', self.on(
                dict(passport, birth_date=young.isoformat())))
        self.assertRefused('invalid_request', self.on(
                dict(passport, birth_date='2099-01-01')))
        result = self.book(self.on(
                dict(passport, birth_date=young.isoformat()), visitor(2)))
        # A passport's given birth date flags the child at the gate too.
        Pass = Pool().get('zl.pass')
        bands = [Pass(p['id']).age_band for p in result['passes']]
        self.assertEqual(bands, ['child', None])

    @with_transaction(context=SAME_TRANSACTION)
    def test_configuration_checked(self):
        "A number of bookings per ID without its days (or the reverse)"
        Configuration = Pool().get('zl.reservation.configuration')
        for rules in [{'id_bookings_max': 3, 'id_bookings_days': 0},
                {'id_bookings_max': 0, 'id_bookings_days': 30}]:
            with self.assertRaises(UserError):
                Configuration.check_id_window([Configuration(**rules)])
        Configuration.check_id_window([Configuration(
                    id_bookings_max=3, id_bookings_days=30)])
        Configuration.write([Configuration(1)],
            {'id_bookings_max': 3, 'id_bookings_days': 30})
        self.assertEqual(Configuration.values()['id_bookings_days'], 30)

    @with_transaction(context=SAME_TRANSACTION)
    def test_configuration_not_negative(self):
        "A negative limit: the database's check refuses it"
        Configuration = Pool().get('zl.reservation.configuration')
        with self.assertRaises(UserError) as cm:
            Configuration.write([Configuration(1)],
                {'account_people_per_day': -1})
        self.assertIn('negative', cm.exception.message)


del ModuleTestCase
