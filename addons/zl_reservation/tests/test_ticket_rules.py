# This file is part of zhonglian-ticketing. See README.md for the licence.
"""A ticket's own per-booking visit rules (门票 → 销售参数) against the
site's (预约设置), enforced by the booking service (SQLite)."""
from trytond.exceptions import UserError
from trytond.modules.zl_reservation.identity import make_resident_id
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import SAME_TRANSACTION, SiteMixin, visitor


class TicketRulesTestCase(SiteMixin, ModuleTestCase):
    "Test a ticket's own visit rules"
    module = 'zl_reservation'
    extras = []

    def setup_rules(self, site, **ticket):
        "The site's rules, then a ticket with its own"
        Configuration = Pool().get('zl.reservation.configuration')
        # First: the singleton's creation locks its table.
        Configuration.write([Configuration(1)], site)
        self.setup_site(capacity=50, per_user_limit=0, **ticket)

    def child(self, seq):
        born = self.slot.date.replace(year=self.slot.date.year - 8)
        return visitor(seq, id_number=make_resident_id(
                birth=born.strftime('%Y%m%d'), seq='%03d' % seq))

    def set_ticket(self, **values):
        Ticket = Pool().get('zl.ticket')
        Ticket.write([self.fresh_ticket()], values)

    @with_transaction(context=SAME_TRANSACTION)
    def test_fewer_visitors_than_the_site(self):
        "A special exhibition: 2 per booking under the site's 5"
        self.setup_rules({'booking_visitors_max': 5}, booking_visitors_max=2)
        error = self.assertRefused('visitors_limit', self.request(
                visitor(1), visitor(2), visitor(3)))
        self.assertIn('2', error.message)
        self.assertEqual(self.booked(), 0)
        self.book(self.request(visitor(1), visitor(2)))
        self.assertEqual(self.booked(), 2)

    @with_transaction(context=SAME_TRANSACTION)
    def test_more_visitors_than_the_site(self):
        "A family ticket without limit (0) under the site's 2; empty: 2"
        self.setup_rules({'booking_visitors_max': 2}, booking_visitors_max=0)
        self.book(self.request(visitor(1), visitor(2), visitor(3)))
        self.set_ticket(booking_visitors_max=None)
        self.assertRefused('visitors_limit', self.request(
                visitor(4), visitor(5), visitor(6)))
        self.assertEqual(self.booked(), 3)

    @with_transaction(context=SAME_TRANSACTION)
    def test_minors_of_the_ticket(self):
        "The ticket's minors per booking; its own minors-with-adult rule"
        self.setup_rules({'booking_minors_max': 3, 'minors_need_adult': True},
            booking_minors_max=1)
        self.assertRefused('minors_limit', self.request(
                self.child(1), self.child(2), visitor(3)))
        self.assertRefused('guardian_required', self.request(self.child(1)))
        # A children's workshop: children alone are welcome.
        self.set_ticket(minors_need_adult='no', booking_minors_max=None)
        self.book(self.request(self.child(1), self.child(2)))
        # And the reverse: a ticket that asks for an adult on a free site.
        Configuration = Pool().get('zl.reservation.configuration')
        Configuration.write([Configuration(1)], {'minors_need_adult': False})
        self.set_ticket(minors_need_adult='yes')
        self.assertRefused('guardian_required', self.request(self.child(3)))
        self.assertEqual(self.booked(), 2)

    @with_transaction(context=SAME_TRANSACTION)
    def test_booking_rules_answer(self):
        "What a client is told is what the engine decides on"
        self.setup_rules({'booking_visitors_max': 5, 'booking_minors_max': 3,
                'minors_need_adult': True}, booking_visitors_max=2)
        self.assertEqual(self.fresh_ticket().booking_rules(), {
                'booking_visitors_max': 2, 'booking_minors_max': 3,
                'minors_need_adult': True})
        self.set_ticket(minors_need_adult='no', booking_visitors_max=None)
        self.assertEqual(self.fresh_ticket().booking_rules(), {
                'booking_visitors_max': 5, 'booking_minors_max': 3,
                'minors_need_adult': False})

    @with_transaction(context=SAME_TRANSACTION)
    def test_not_negative(self):
        "A negative limit on a ticket: the database's check refuses it"
        self.setup_rules({})
        cursor = Transaction().connection.cursor()
        for field in ['booking_visitors_max', 'booking_minors_max']:
            # A refused statement aborts a PostgreSQL transaction.
            cursor.execute('SAVEPOINT ticket_rule')
            with self.assertRaises(UserError) as cm:
                self.set_ticket(**{field: -1})
            self.assertIn('negative', cm.exception.message)
            cursor.execute('ROLLBACK TO SAVEPOINT ticket_rule')
        self.set_ticket(booking_visitors_max=0, booking_minors_max=0)
        self.assertEqual(self.fresh_ticket().booking_visitors_max, 0)


del ModuleTestCase
