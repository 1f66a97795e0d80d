# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Shared set-up of the zl_reservation module tests."""
import datetime as dt

from trytond.modules.zl_reservation.exceptions import BookingError
from trytond.modules.zl_reservation.identity import make_resident_id
from trytond.pool import Pool

PHONE = '13800138000'
# Test transactions are never committed: the service must decide inside
# them instead of in a transaction of its own (tests/test_booking_races.py
# covers that path on PostgreSQL).
SAME_TRANSACTION = {'_zl_decide': True}


def visitor(seq, **extra):
    return dict({
            'name': "游客%s" % seq, 'id_type': 'resident_id',
            'id_number': make_resident_id(seq='%03d' % seq),
            'phone': PHONE}, **extra)


class SiteMixin:
    "A museum with one ticket, one seller and an active plan"

    def setup_site(self, capacity=2, **ticket_values):
        pool = Pool()
        Ticket = pool.get('zl.ticket')
        Seller = pool.get('zl.seller')
        Plan = pool.get('zl.reservation.plan')
        Slot = pool.get('zl.reservation.slot')
        Configuration = pool.get('zl.reservation.configuration')
        self.today = Configuration.now().date()
        values = dict(
            name="个人预约票", code='GR001', per_user_limit=1,
            refundable=True)
        values.update(ticket_values)
        self.ticket, = Ticket.create([values])
        Ticket.put_on_shelf([self.ticket])
        self.seller, = Seller.create([{
                    'name': "小程序", 'kind': 'wechat_mp',
                    'tickets': [('add', [self.ticket.id])]}])
        plan, = Plan.create([{
                    'name': "预约", 'start_date': self.today,
                    'end_date': self.today + dt.timedelta(days=30),
                    'advance_days': 11,
                    'tickets': [('add', [self.ticket.id])],
                    'sessions': [('create', [{
                                    'name': "上午场",
                                    'checkin_start': dt.time(8),
                                    'checkin_end': dt.time(12),
                                    'capacity': capacity}])],
                    }])
        Plan.activate([plan])
        self.plan = plan
        self.slot, = Slot.search([
                ('plan', '=', plan.id),
                ('date', '=', self.today + dt.timedelta(days=1))])

    def booked(self):
        return Pool().get('zl.reservation.slot')(self.slot.id).booked

    def fresh_ticket(self):
        return Pool().get('zl.ticket')(self.ticket.id)

    def request(self, *visitors, **extra):
        "What a client asks"
        return dict({
                'ticket': self.ticket.id,
                'slot': self.slot.id, 'visitors': list(visitors),
                'contact': {'name': "联系人", 'phone': PHONE}}, **extra)

    def book(self, request, **trust):
        "Book through the test seller with what the server established"
        return Pool().get('zl.booking').book(
            request, self.seller.id, **trust)

    def assertRefused(self, code, request, **trust):
        with self.assertRaises(BookingError) as cm:
            self.book(request, **trust)
        self.assertEqual(cm.exception.code, code)
        return cm.exception

