# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The engine's integrity rules (SQLite): plan closures reach the slots,
coded refusals added with the one-door work, verified passes, audit."""
import datetime as dt
import json

from trytond.model.exceptions import ValidationError
from trytond.modules.zl_reservation import passcode
from trytond.modules.zl_reservation.engine import ReturnError
from trytond.modules.zl_reservation.identity import make_resident_id
from trytond.modules.zl_reservation.pass_ import PassRevoked
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

from .tools import SAME_TRANSACTION, SiteMixin, visitor


class EngineTestCase(SiteMixin, ModuleTestCase):
    "Test the engine's integrity"
    module = 'zl_reservation'
    extras = []

    def slot_on(self, date):
        Slot = Pool().get('zl.reservation.slot')
        slots = Slot.search([('plan', '=', self.plan.id), ('date', '=', date)])
        return slots[0] if slots else None

    @with_transaction(context=SAME_TRANSACTION)
    def test_closures_close_or_remove_slots(self):
        "Closed dates and weekdays, a shorter period: slots follow"
        pool = Pool()
        Plan = pool.get('zl.reservation.plan')
        ClosedDate = pool.get('zl.reservation.plan.closed_date')
        self.setup_site(capacity=5)
        self.book(self.request(visitor(1)))
        booked_day = self.slot.date
        empty_day = booked_day + dt.timedelta(days=1)

        closure, = ClosedDate.create([
                {'plan': self.plan.id, 'date': booked_day},
                ])
        ClosedDate.create([{'plan': self.plan.id, 'date': empty_day}])
        # The booked slot is closed and keeps its booking; the empty one
        # is gone; neither can be booked.
        self.assertTrue(self.slot_on(booked_day).closed)
        self.assertEqual(
            self.slot_on(booked_day).booking_state(self.now()), 'closed')
        self.assertIsNone(self.slot_on(empty_day))
        self.assertRefused('closed', self.request(visitor(2)))

        # A closure removed: the empty date gets its slot back.
        ClosedDate.delete(ClosedDate.search([('date', '=', empty_day)]))
        self.assertIsNotNone(self.slot_on(empty_day))

        weekday = empty_day + dt.timedelta(days=1)
        Plan.write([self.plan], {'closed_weekdays': [str(weekday.weekday())]})
        self.assertIsNone(self.slot_on(weekday))

        Plan.write([self.plan], {'end_date': empty_day})
        later = Pool().get('zl.reservation.slot').search([
                ('plan', '=', self.plan.id),
                ('date', '>', empty_day)])
        self.assertEqual(later, [])
        self.assertTrue(closure.id)

    def now(self):
        return Pool().get('zl.reservation.configuration').now()

    @with_transaction(context=SAME_TRANSACTION)
    def test_cancel_deadline_not_negative(self):
        "A negative cancellation deadline is refused"
        Configuration = Pool().get('zl.reservation.configuration')
        with self.assertRaises(ValidationError):
            Configuration.write([Configuration(1)], {'cancel_deadline': -60})
        Configuration.write([Configuration(1)], {'cancel_deadline': 60})
        self.assertEqual(Configuration(1).cancel_deadline, 60)

    @with_transaction(context=SAME_TRANSACTION)
    def test_verify_refuses_revoked(self):
        "verify() refuses a cancelled pass; from_code() finds it"
        pool = Pool()
        Booking = pool.get('zl.booking')
        Pass = pool.get('zl.pass')
        self.setup_site()
        result = self.book(self.request(visitor(1)))
        code = result['passes'][0]['code']
        self.assertEqual(Pass.verify(code).id, result['passes'][0]['id'])
        Booking.cancel_bookings([Booking(result['id'])])
        with self.assertRaises(PassRevoked) as cm:
            Pass.verify(code)
        self.assertEqual(cm.exception.state, 'cancelled')
        self.assertEqual(Pass.from_code(code).state, 'cancelled')
        with self.assertRaises(passcode.InvalidCode):
            Pass.from_code(code[:-2] + 'AA')

    @with_transaction(context=SAME_TRANSACTION)
    def test_idempotency_conflict(self):
        "A key already used by another account: idempotency_conflict"
        self.setup_site(capacity=10)
        self.book(self.request(visitor(1), idempotency_key='k'),
            account='wx-a')
        self.assertRefused('idempotency_conflict',
            self.request(visitor(1), idempotency_key='k'), account='wx-b')
        again = self.book(
            self.request(visitor(1), idempotency_key='k'), account='wx-a')
        self.assertEqual(again['quantity'], 1)
        self.assertEqual(self.booked(), 1)

    @with_transaction(context=SAME_TRANSACTION)
    def test_forbidden(self):
        "rpc_cancel without the Cancel button's groups: forbidden"
        pool = Pool()
        Booking = pool.get('zl.booking')
        User = pool.get('res.user')
        Group = pool.get('res.group')
        ModelData = pool.get('ir.model.data')
        self.setup_site()
        result = self.book(self.request(visitor(1)))
        manager = Group(ModelData.get_id(
                'zl_ticket_core', 'group_page_ticket'))
        user, = User.create([{
                    'login': 'tm', 'name': 'tm',
                    'groups': [('add', [manager.id])]}])
        with Transaction().set_user(user.id), check_access():
            with self.assertRaises(ReturnError) as cm:
                Booking.rpc_cancel(result['id'])
        self.assertEqual(cm.exception.code, 'forbidden')
        self.assertEqual(Booking(result['id']).state, 'confirmed')

    @with_transaction(context=SAME_TRANSACTION)
    def test_no_write_outside_the_engine(self):
        "External create/write of bookings and slots' places are refused"
        pool = Pool()
        Booking = pool.get('zl.booking')
        Slot = pool.get('zl.reservation.slot')
        from trytond.model.exceptions import AccessError
        self.setup_site()
        result = self.book(self.request(visitor(1)))
        with check_access():
            with self.assertRaises(AccessError):
                Booking.write([Booking(result['id'])], {'quantity': 9})
            with self.assertRaises(AccessError):
                Slot.write([self.slot], {'booked': 0})
        Slot.write([self.slot], {'capacity': 4})  # staff's own field
        self.assertEqual(self.booked(), 1)

    @with_transaction(context=SAME_TRANSACTION)
    def test_booking_is_logged(self):
        "One create entry per booking, ID numbers masked"
        Log = Pool().get('ir.model.log')
        self.setup_site()
        result = self.book(self.request(visitor(1)))
        log, = Log.search([
                ('resource', '=', 'zl.booking,%s' % result['id']),
                ('event', '=', 'create')])
        self.assertEqual(log.record_name, result['number'])
        changes = dict((n, v) for n, _, v in json.loads(log.changes))
        self.assertEqual(changes['quantity'], '1')
        self.assertNotIn(make_resident_id(seq='001')[:17], log.changes)
        self.assertIn(result['visitors'][0]['id_number'], log.changes)


del ModuleTestCase
