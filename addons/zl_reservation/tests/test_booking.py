# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The booking service's rules, one test per API error code (SQLite)."""
import datetime as dt
from decimal import Decimal
from unittest.mock import patch

from trytond.modules.zl_reservation import passcode
from trytond.modules.zl_reservation.exceptions import BookingError
from trytond.modules.zl_reservation.identity import make_resident_id
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import SAME_TRANSACTION, SiteMixin, visitor


class BookingTestCase(SiteMixin, ModuleTestCase):
    "Test the booking service"
    module = 'zl_reservation'
    extras = []

    @with_transaction(context=SAME_TRANSACTION)
    def test_book(self):
        "A booking takes places and issues one signed pass per visitor"
        pool = Pool()
        Pass = pool.get('zl.pass')
        self.setup_site()
        result = self.book(self.request(visitor(1), visitor(2)))
        self.assertEqual(result['state'], 'confirmed')
        self.assertEqual(len(result['passes']), 2)
        self.assertEqual(self.booked(), 2)
        verified = Pass.verify(result['passes'][0]['code'])
        self.assertEqual(verified.id, result['passes'][0]['id'])
        self.assertEqual(result['visitors'][0]['id_number'][:4], '1101')
        self.assertNotIn(make_resident_id(seq='001'), str(result))

    @with_transaction(context=SAME_TRANSACTION)
    def test_invalid_request(self):
        "A malformed request: invalid_request"
        self.setup_site()
        self.assertRefused('invalid_request', self.request())  # nobody
        self.assertRefused(
            'invalid_request', dict(self.request(visitor(1)), slot='x'))
        self.assertRefused(
            'invalid_request', self.request(visitor(1), 'not a visitor'))

    @with_transaction(context=SAME_TRANSACTION)
    def test_rpc_answers_codes(self):
        "JSON-RPC answers refusals with the code, never a traceback"
        from trytond.modules.zl_reservation.engine import ReturnError
        Booking = Pool().get('zl.booking')
        self.setup_site()
        for request, code in [
                ('not a dict', 'invalid_request'),
                ({'seller': 'x'}, 'invalid_request'),
                (dict(self.request(visitor(1)), seller=self.seller.id),
                    'ticket_not_available'),
                ]:
            with self.assertRaises(ReturnError) as cm:
                Booking.rpc_book(request)
            self.assertEqual(cm.exception.result()['error']['code'], code)
        with self.assertRaises(ReturnError) as cm:
            Booking.rpc_cancel('x')
        self.assertEqual(
            cm.exception.result()['error']['code'], 'invalid_request')

    @with_transaction(context=SAME_TRANSACTION)
    def test_ticket_not_available(self):
        "Off shelf, hidden or not authorised: ticket_not_available"
        Ticket = Pool().get('zl.ticket')
        Seller = Pool().get('zl.seller')
        self.setup_site()
        Ticket.take_off_shelf([self.ticket])
        self.assertRefused('ticket_not_available', self.request(visitor(1)))
        Ticket.put_on_shelf([self.ticket])
        Seller.write([self.seller], {
                'hidden_tickets': [('add', [self.ticket.id])]})
        self.assertRefused('ticket_not_available', self.request(visitor(1)))
        self.book(self.request(visitor(1)), promotion=self.ticket.id)
        Seller.write([self.seller], {
                'tickets': [('remove', [self.ticket.id])]})
        self.assertRefused(
            'ticket_not_available', self.request(visitor(2)),
            promotion=self.ticket.id)

    @with_transaction(context=SAME_TRANSACTION)
    def test_closed(self):
        "A closed slot: closed"
        Slot = Pool().get('zl.reservation.slot')
        self.setup_site()
        Slot.close_slot([self.slot])
        self.assertRefused('closed', self.request(visitor(1)))

    @with_transaction(context=SAME_TRANSACTION)
    def test_not_open(self):
        "Before the release moment: not_open"
        Configuration = Pool().get('zl.reservation.configuration')
        self.setup_site()
        early = dt.datetime.combine(
            self.slot.date - dt.timedelta(days=12), dt.time(23))
        with patch.object(Configuration, 'now', return_value=early):
            error = self.assertRefused('not_open', self.request(visitor(1)))
        self.assertIn(str(self.slot.date - dt.timedelta(days=11)),
            error.message)

    @with_transaction(context=SAME_TRANSACTION)
    def test_sold_out(self):
        "No place left: sold_out, nothing saved"
        Booking = Pool().get('zl.booking')
        self.setup_site(capacity=2)
        self.book(self.request(visitor(1), visitor(2)))
        self.assertRefused('sold_out', self.request(visitor(3)))
        self.assertEqual(Booking.search([], count=True), 1)

    @with_transaction(context=SAME_TRANSACTION)
    def test_sold_out_by_stock(self):
        "The ticket's stock runs out first: sold_out"
        self.setup_site(capacity=10, stock=1)
        self.book(self.request(visitor(1)))
        self.assertEqual(self.fresh_ticket().stock, 0)
        self.assertRefused('sold_out', self.request(visitor(2)))

    @with_transaction(context=SAME_TRANSACTION)
    def test_limit_exceeded(self):
        "Per-user limit 1: a second booking of the account is refused"
        self.setup_site(capacity=10)
        self.book(self.request(visitor(1)), account='wx-openid-1')
        self.assertRefused('limit_exceeded',
            self.request(visitor(2)), account='wx-openid-1')
        self.book(self.request(visitor(3)), account='wx-openid-2')

    @with_transaction(context=SAME_TRANSACTION)
    def test_duplicate_visitor(self):
        "One ID, one pass per date and ticket: duplicate_visitor"
        self.setup_site(capacity=10)
        self.book(self.request(visitor(1)))
        self.assertRefused('duplicate_visitor', self.request(visitor(1)))
        self.assertRefused(
            'duplicate_visitor', self.request(visitor(2), visitor(2)))

    @with_transaction(context=SAME_TRANSACTION)
    def test_invalid_id_number(self):
        "A wrong checksum: invalid_id_number"
        self.setup_site()
        number = make_resident_id(seq='001')
        wrong = number[:-1] + ('0' if number[-1] != '0' else '1')
        self.assertRefused('invalid_id_number',
            self.request(visitor(1, id_number=wrong)))
        self.assertRefused('invalid_id_number',
            self.request(visitor(1, id_type='driving_licence')))

    @with_transaction(context=SAME_TRANSACTION)
    def test_invalid_phone(self):
        "Not a mainland mobile: invalid_phone"
        self.setup_site()
        self.assertRefused('invalid_phone',
            self.request(visitor(1, phone='12345')))
        self.assertRefused('invalid_phone', dict(
                self.request(visitor(1)),
                contact={'name': "x", 'phone': '021-1234567'}))

    @with_transaction(context=SAME_TRANSACTION)
    def test_group_size(self):
        "A group outside the ticket's bounds: group_size"
        self.setup_site(
            capacity=100, kind='group', group_min=10, group_max=50,
            per_user_limit=0)
        group = {'name': "某某中学", 'leader': "王老师", 'size': 5}
        self.assertRefused('group_size', self.request(group=group))
        result = self.book(self.request(group=dict(group, size=30)))
        self.assertEqual([p['admits'] for p in result['passes']], [30])
        self.assertEqual(self.booked(), 30)

    @with_transaction(context=SAME_TRANSACTION)
    def test_contact_required(self):
        "A group without a contact mobile: contact_required"
        self.setup_site(
            capacity=100, kind='group', group_min=10, group_max=50,
            per_user_limit=0)
        group = {'name': "某某中学", 'leader': "王老师", 'size': 12}
        for contact in [{}, {'name': "王老师"}, {'phone': ' '}]:
            self.assertRefused('contact_required',
                self.request(group=group, contact=contact))
        self.assertRefused('invalid_phone', self.request(
                group=group, contact={'phone': '12345'}))
        self.assertEqual(self.booked(), 0)

    @with_transaction(context=SAME_TRANSACTION)
    def test_idempotency(self):
        "The same key returns the same booking"
        self.setup_site(capacity=10)
        first = self.book(self.request(visitor(1), idempotency_key='k1'))
        again = self.book(self.request(visitor(1), idempotency_key='k1'))
        self.assertEqual(first['id'], again['id'])
        self.assertEqual(self.booked(), 1)

    @with_transaction(context=SAME_TRANSACTION)
    def test_cancel(self):
        "Cancelling returns places and revokes passes"
        pool = Pool()
        Booking = pool.get('zl.booking')
        Pass = pool.get('zl.pass')
        self.setup_site(capacity=2, price=Decimal('20'),
            original_price=Decimal('20'))
        result = self.book(self.request(visitor(1), visitor(2)))
        Booking.cancel_bookings([Booking(result['id'])])
        booking = Booking(result['id'])
        self.assertEqual(booking.state, 'refunded')  # a paid ticket
        self.assertEqual(self.booked(), 0)
        revoked = Pass.revoked(self.today)
        self.assertEqual(len(revoked), 2)
        with self.assertRaises(BookingError) as cm:
            Booking.cancel_bookings([booking])
        self.assertEqual(cm.exception.code, 'not_cancellable')
        self.assertEqual(self.booked(), 0)

    @with_transaction(context=SAME_TRANSACTION)
    def test_not_refundable(self):
        "A ticket that is not refundable cannot be cancelled"
        Booking = Pool().get('zl.booking')
        self.setup_site(refundable=False)
        result = self.book(self.request(visitor(1)))
        with self.assertRaises(BookingError) as cm:
            Booking.cancel_bookings([Booking(result['id'])])
        self.assertEqual(cm.exception.code, 'not_refundable')

    @with_transaction(context=SAME_TRANSACTION)
    def test_cancel_too_late(self):
        "After the check-in start less the deadline: cancel_too_late"
        pool = Pool()
        Booking = pool.get('zl.booking')
        Configuration = pool.get('zl.reservation.configuration')
        self.setup_site()
        Configuration.write([Configuration(1)], {'cancel_deadline': 120})
        result = self.book(self.request(visitor(1)))
        late = dt.datetime.combine(self.slot.date, dt.time(6, 30))
        with patch.object(Configuration, 'now', return_value=late):
            with self.assertRaises(BookingError) as cm:
                Booking.cancel_bookings([Booking(result['id'])])
        self.assertEqual(cm.exception.code, 'cancel_too_late')

    @with_transaction(context=SAME_TRANSACTION)
    def test_expire_no_show(self):
        "After the window unused passes expire and bookings are no-show"
        pool = Pool()
        Booking = pool.get('zl.booking')
        Visitor = pool.get('zl.booking.visitor')
        self.setup_site()
        result = self.book(self.request(visitor(1)))
        after = dt.datetime.combine(self.slot.date, dt.time(12, 1))
        self.assertEqual(Booking.expire_cron(after), (1, 0))
        booking = Booking(result['id'])
        self.assertEqual(booking.state, 'no_show')
        self.assertEqual([p.state for p in booking.passes], ['expired'])
        self.assertEqual(Visitor.no_show_count(
                'resident_id', make_resident_id(seq='001')), 1)
        found = Visitor.search([
                ('id_number', '=', make_resident_id(seq='001'))])
        self.assertEqual(len(found), 1)

    @with_transaction(context=SAME_TRANSACTION)
    def test_pass_signature(self):
        "Altered or foreign codes fail; rotation keeps old passes valid"
        pool = Pool()
        Pass = pool.get('zl.pass')
        PassKey = pool.get('zl.pass.key')
        self.setup_site()
        code = self.book(self.request(visitor(1)))['passes'][0]['code']
        position = len(code) // 2
        altered = (code[:position]
            + ('A' if code[position] != 'A' else 'B') + code[position + 1:])
        with self.assertRaises(passcode.InvalidCode):
            Pass.verify(altered)
        private, _ = passcode.generate_key()
        payload = passcode.decode(code)
        forged = passcode.sign(
            private, payload.key_id, payload.pass_id, payload.ticket_id,
            payload.date, payload.slot_id)
        with self.assertRaises(passcode.InvalidCode):
            Pass.verify(forged)
        PassKey.rotate([])
        self.assertEqual(Pass.verify(code).id, payload.pass_id)
        new = self.book(self.request(visitor(2)))['passes'][0]['code']
        self.assertEqual(passcode.decode(new).key_id, payload.key_id + 1)

    @with_transaction(context=SAME_TRANSACTION)
    def test_capacity_not_below_booked(self):
        "Staff cannot shrink a slot below what is booked"
        pool = Pool()
        Slot = pool.get('zl.reservation.slot')
        from trytond.model.exceptions import ValidationError
        self.setup_site(capacity=5)
        self.book(self.request(visitor(1), visitor(2)))
        # On PostgreSQL the Check constraint aborts the transaction: a
        # savepoint lets the test go on (a client's call is rolled back).
        cursor = Transaction().connection.cursor()
        cursor.execute('SAVEPOINT capacity')
        with self.assertRaises(ValidationError):
            Slot.write([self.slot], {'capacity': 1})
        cursor.execute('ROLLBACK TO SAVEPOINT capacity')
        Slot.write([self.slot], {'capacity': 2})
        self.assertEqual(self.slot.capacity, 2)


del ModuleTestCase
