# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The pass's QR code and the printed pass (SQLite): what a gate scanner
reads back is exactly the pass's code."""
import base64
import io
import re

import zxingcpp
from PIL import Image

from trytond.model.exceptions import AccessError
from trytond.modules.zl_reservation.identity import make_resident_id, mask_id
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

from .tools import SAME_TRANSACTION, SiteMixin, visitor

IN_CHINESE = dict(SAME_TRANSACTION, language='zh_CN')


def scan(png):
    "The texts a QR scanner reads in a PNG image"
    image = Image.open(io.BytesIO(png))
    return [r.text for r in zxingcpp.read_barcodes(
            image, formats=zxingcpp.BarcodeFormat.QRCode)]


def printed_qr_codes(html):
    "The embedded QR images of a printed page, read by a scanner"
    return [scan(base64.b64decode(data)) for data in re.findall(
            r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


class PassReportTestCase(SiteMixin, ModuleTestCase):
    "Test the pass's QR code and the printed pass"
    module = 'zl_reservation'
    extras = []

    def print_(self, action, ids):
        """Execute the printed pass from its action in pass.xml (None: no
        action, as a server-side caller may), as sao does; the file name
        goes to self.filename"""
        pool = Pool()
        Report = pool.get('zl.pass.ticket', type='report')
        ModelData = pool.get('ir.model.data')
        data = {'action_id': ModelData.get_id('zl_reservation', action)
            } if action else {}
        oext, content, _, self.filename = Report.execute(ids, data)
        self.assertEqual(oext, 'html')
        return content if isinstance(content, str) else content.decode()

    def chinese(self):
        Lang = Pool().get('ir.lang')
        lang, = Lang.search([('code', '=', 'zh_CN')])
        lang.translatable = True
        lang.save()
        Lang.load_translations([lang])

    def user(self, login, reads, sellers=None, data_groups=()):
        """A staff user who may read the models in reads, with a data
        scope on sellers if given, in the data groups (XML ids) given"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        Group = pool.get('res.group')
        ModelAccess = pool.get('ir.model.access')
        UserGroup = pool.get('zl.user.group')
        DataPermission = pool.get('zl.data.permission')
        group, = Group.create([{'name': login}])
        ModelAccess.create([{
                    'model': name, 'group': group.id,
                    'perm_read': True, 'perm_write': False,
                    'perm_create': False, 'perm_delete': False}
                for name in reads])
        user, = User.create([{
                    'login': login, 'name': login,
                    'groups': [('add', [group.id] + [
                                ModelData.get_id('zl_reservation', g)
                                for g in data_groups])]}])
        if sellers:
            user_group, = UserGroup.create([{
                        'code': login, 'name': login,
                        'users': [('add', [user.id])]}])
            DataPermission.create([{
                        'name': login,
                        'sellers': [('add', [s.id for s in sellers])],
                        'user_groups': [('add', [user_group.id])]}])
        return user

    @with_transaction(context=SAME_TRANSACTION)
    def test_qr_is_the_code(self):
        "The pass's QR image reads back as exactly its code"
        Pass = Pool().get('zl.pass')
        self.setup_site()
        result = self.book(self.request(visitor(1)))
        pass_ = Pass(result['passes'][0]['id'])
        self.assertEqual(scan(pass_.qr), [pass_.code])
        self.assertEqual(Pass.verify(scan(pass_.qr)[0]), pass_)

    @with_transaction(context=IN_CHINESE)
    def test_printed_pass(self):
        "The printed pass: Chinese labels, name, masked ID, scannable QR"
        Pass = Pool().get('zl.pass')
        self.chinese()
        self.setup_site()
        clear_id = make_resident_id(seq='001')
        result = self.book(self.request(visitor(1)))
        pass_ = Pass(result['passes'][0]['id'])

        html = self.print_('report_pass', [pass_.id])

        self.assertIn("游客1", html)
        self.assertIn(mask_id(clear_id), html)
        self.assertNotIn(clear_id, html)
        self.assertNotIn(clear_id[:17], html)  # the checksum is derived
        self.assertIn("个人预约票", html)
        self.assertIn("上午场 08:00-12:00", html)
        self.assertIn(result['number'], html)
        for label in ["日期", "场次", "游客", "证件号码", "预约单号"]:
            self.assertIn(f'<th>{label}</th>', html)
        self.assertEqual(printed_qr_codes(html), [[pass_.code]])
        self.assertNotIn('class="state"', html)

    @with_transaction(context=IN_CHINESE)
    def test_printed_revoked_pass(self):
        "A cancelled pass prints with its state in large letters"
        pool = Pool()
        Booking = pool.get('zl.booking')
        self.chinese()
        self.setup_site()
        result = self.book(self.request(visitor(1)))
        Booking.cancel_bookings([Booking(result['id'])])

        html = self.print_('report_pass', [result['passes'][0]['id']])

        self.assertIn('<p class="state">已取消</p>', html)

    @with_transaction(context=SAME_TRANSACTION)
    def test_printed_passes_of_booking(self):
        "Printed from a booking: one page per pass, each its own code"
        Booking = Pool().get('zl.booking')
        self.setup_site()
        result = self.book(self.request(visitor(1), visitor(2)))
        booking = Booking(result['id'])
        passes = sorted(booking.passes, key=lambda p: p.id)

        html = self.print_('report_booking_passes', [booking.id])

        self.assertEqual(html.count('<section class="pass">'), 2)
        self.assertLess(html.index("游客1"), html.index("游客2"))
        self.assertEqual(
            printed_qr_codes(html), [[p.code] for p in passes])
        self.assertEqual(self.filename, 'Passes-' + booking.number)

    @with_transaction(context=SAME_TRANSACTION)
    def test_print_without_action_prints_passes(self):
        "Without an action the ids are passes, never bookings"
        self.setup_site()
        result = self.book(self.request(visitor(1), visitor(2)))
        # Read as a booking id, a pass id prints another booking's passes
        # or fails.
        pass_ = result['passes'][1]
        html = self.print_(None, [pass_['id']])
        self.assertEqual(printed_qr_codes(html), [[pass_['code']]])
        self.assertEqual(self.filename, 'Pass-' + result['number'])

    @with_transaction(context=SAME_TRANSACTION)
    def test_print_needs_pass_read_access(self):
        "Who reads the pass may print it; reading the booking is not enough"
        Booking = Pool().get('zl.booking')
        self.setup_site()
        result = self.book(self.request(visitor(1)))
        booking = Booking(result['id'])
        pass_id = result['passes'][0]['id']
        booking_reader = self.user(
            'booking_reader', ['zl.booking'], sellers=[self.seller])
        # The print entries show for the data group that reads passes.
        clerk = self.user(
            'clerk', [], sellers=[self.seller],
            data_groups=['group_booking_read'])
        stranger = self.user(
            'stranger', [], data_groups=['group_booking_read'])

        with Transaction().set_user(booking_reader.id), check_access():
            Booking.read([booking.id], ['number'])
            with self.assertRaises(AccessError):
                self.print_('report_booking_passes', [booking.id])
            with self.assertRaises(AccessError):
                self.print_('report_pass', [pass_id])
        with Transaction().set_user(stranger.id), check_access():
            # Outside the clerk's data scope.
            with self.assertRaises(AccessError):
                self.print_('report_pass', [pass_id])
        with Transaction().set_user(clerk.id), check_access():
            for action, ids in [
                    ('report_pass', [pass_id]),
                    ('report_booking_passes', [booking.id])]:
                self.assertIn("游客1", self.print_(action, ids))


del ModuleTestCase
