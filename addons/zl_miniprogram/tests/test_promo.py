# This file is part of zhonglian-ticketing. See README.md for the licence.
"""团体预约码: scenes, resolution for the visitor API, the QR code and the
poster staff download, the ticket's 微信推广码 button (SQLite)."""
import datetime as dt
import io
import unittest
from unittest.mock import patch

import zxingcpp
from PIL import Image

from trytond.exceptions import UserError
from trytond.model.modelview import AccessButtonError
from trytond.modules.zl_miniprogram import wechat
from trytond.modules.zl_miniprogram.exceptions import (
    ApiError,
    PromoValidationError,
)
from trytond.modules.zl_miniprogram.promo import utcnow
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

H5 = 'https://h5.example.com/book'


def decode(png):
    "The texts of the QR codes in a PNG"
    with Image.open(io.BytesIO(png)) as image:
        return [r.text for r in zxingcpp.read_barcodes(image.convert('L'))]


class PromoTestCase(unittest.TestCase):
    "Test the group promotion codes"

    @classmethod
    def setUpClass(cls):
        activate_module('zl_miniprogram')

    def setup_site(self, h5_url=H5):
        pool = Pool()
        Ticket = pool.get('zl.ticket')
        Seller = pool.get('zl.seller')
        Configuration = pool.get('zl.mp.configuration')
        self.ticket, = Ticket.create([{
                    'name': "团体票", 'code': 'TT001', 'kind': 'group',
                    'group_min': 10, 'group_max': 50}])
        self.seller, = Seller.create([{
                    'name': "小程序", 'kind': 'wechat_mp',
                    'tickets': [('add', [self.ticket.id])],
                    'hidden_tickets': [('add', [self.ticket.id])]}])
        Configuration.write(
            [Configuration(1)], {'seller': self.seller.id, 'h5_url': h5_url})

    def promo(self, **values):
        Promo = Pool().get('zl.mp.promo')
        promo, = Promo.create([dict({'ticket': self.ticket.id}, **values)])
        return promo

    @with_transaction()
    def test_scene_validation(self):
        "A scene is 1 to 32 of WeChat's characters"
        self.setup_site()
        for scene in ['x' * 33, '团体2026', 'team 2026', 'a"b', '']:
            with self.assertRaises(
                    (PromoValidationError, UserError), msg=scene):
                self.promo(scene=scene)
        for scene in ['x' * 32, "A-z_0.9~!#$&'()*+,/:;=?@"]:
            self.assertEqual(self.promo(scene=scene).scene, scene)
        with self.assertRaises(UserError) as cm:
            self.promo(scene='x' * 32)
        self.assertEqual(
            cm.exception.message, "Another promotion code has this scene.")

    @with_transaction()
    def test_generated_scenes(self):
        "Generated scenes are valid and unique; the seller is configured"
        self.setup_site()
        promos = [self.promo() for _ in range(50)]
        scenes = {p.scene for p in promos}
        self.assertEqual(len(scenes), 50)
        self.assertTrue(all(wechat.is_valid_scene(s) for s in scenes))
        self.assertEqual({p.seller for p in promos}, {self.seller})

    @with_transaction()
    def test_resolve(self):
        "Unknown and disabled: promo_not_found; out of validity: expired"
        Promo = Pool().get('zl.mp.promo')
        self.setup_site()
        now = utcnow()
        promo = self.promo(scene='team2026',
            valid_from=now - dt.timedelta(days=1),
            valid_until=now + dt.timedelta(days=1))
        self.assertEqual(Promo.resolve('team2026'), promo)
        self.assertEqual(Promo.resolve('team2026').to_dict(), {
                'scene': 'team2026',
                'ticket_id': self.ticket.id,
                'ticket_name': "团体票",
                'valid_from': (
                    (now - dt.timedelta(days=1)).replace(
                        microsecond=0, tzinfo=dt.timezone.utc)
                    .astimezone(dt.timezone(dt.timedelta(hours=8)))
                    .isoformat()),
                'valid_until': (
                    (now + dt.timedelta(days=1)).replace(
                        microsecond=0, tzinfo=dt.timezone.utc)
                    .astimezone(dt.timezone(dt.timedelta(hours=8)))
                    .isoformat()),
                })
        for scene in ['nope', 'x' * 40, '团体', None]:
            with self.assertRaises(ApiError) as cm:
                Promo.resolve(scene)
            self.assertEqual(
                (cm.exception.code, cm.exception.status),
                ('promo_not_found', 404))
        with self.assertRaises(ApiError) as cm:
            Promo.resolve('team2026', now=now + dt.timedelta(days=2))
        self.assertEqual(
            (cm.exception.code, cm.exception.status), ('promo_expired', 410))
        until = (now + dt.timedelta(days=1)).replace(
            tzinfo=dt.timezone.utc).astimezone(
            dt.timezone(dt.timedelta(hours=8)))
        self.assertIn(until.strftime('%Y-%m-%d %H:%M'), cm.exception.message)
        with self.assertRaises(ApiError) as cm:
            Promo.resolve('team2026', now=now - dt.timedelta(days=2))
        self.assertEqual(cm.exception.code, 'promo_expired')
        Promo.write([promo], {'active': False})
        with self.assertRaises(ApiError) as cm:
            Promo.resolve('team2026')
        self.assertEqual(cm.exception.code, 'promo_not_found')

    @with_transaction()
    def test_local_qr(self):
        "Without WeChat the QR is the H5 link with the scene"
        self.setup_site()
        promo = self.promo(scene='team/2026&a')
        self.assertEqual(
            decode(promo.qr_png()), [H5 + '?scene=team%2F2026%26a'])
        self.assertEqual(promo.qr_filename, 'qr-team_2026_a.png')
        self.assertEqual(bytes(promo.qr), promo.qr_png())

    @with_transaction()
    def test_wechat_qr(self):
        "With the mini-program configured the QR is WeChat's code"
        pool = Pool()
        Configuration = pool.get('zl.mp.configuration')
        AccessToken = pool.get('zl.mp.wechat.token')
        self.setup_site()
        Configuration.write([Configuration(1)], {
                'mp_appid': 'wx123', 'mp_secret': 'secret'})
        promo = self.promo(scene='wechat2026')
        stream = io.BytesIO()
        Image.new('RGB', (430, 430), 'green').save(stream, 'JPEG')
        with patch.object(AccessToken, 'wxacode', create=True,
                return_value=stream.getvalue()) as wxacode:
            qr = promo.qr_png()
            promo.qr_png()  # cached
        wxacode.assert_called_once_with('pages/promo/index', 'wechat2026')
        self.assertEqual(qr[:8], b'\x89PNG\r\n\x1a\n')
        failing = self.promo(scene='failing')
        with patch.object(AccessToken, 'wxacode', create=True,
                side_effect=wechat.WeChatError('wechat_unavailable')):
            with self.assertRaises(UserError) as cm:
                failing.qr_png()
            self.assertIn('WeChat did not make', cm.exception.message)
            # The form still opens (size only), the download says why.
            with Transaction().set_context({
                        'zl.mp.promo.qr': 'size',
                        'zl.mp.promo.poster': 'size'}):
                failing = Pool().get('zl.mp.promo')(failing.id)
                self.assertEqual((failing.qr, failing.poster), (1, 1))

    @with_transaction()
    def test_poster(self):
        "The poster is a printable PNG holding the same QR code"
        self.setup_site()
        promo = self.promo(scene='poster2026',
            valid_until=dt.datetime(2026, 12, 31, 10, 0))
        data = promo.poster_png()
        with Image.open(io.BytesIO(data)) as image:
            self.assertEqual((image.format, image.size), ('PNG', (1240, 1754)))
        self.assertEqual(decode(data), [H5 + '?scene=poster2026'])
        self.assertEqual(promo.poster_filename, 'poster-poster2026.png')
        self.assertEqual(
            promo.validity_text(), 'Valid until 2026-12-31 18:00.')

    @with_transaction()
    def test_uses(self):
        "Uses count the confirmed and used bookings made with the code"
        pool = Pool()
        Promo = pool.get('zl.mp.promo')
        Booking = pool.get('zl.booking')
        self.setup_site()
        promo, other = self.promo(), self.promo()
        self.assertEqual(promo.uses, 0)
        self.assertIn('zl.mp.promo', dict(Booking.get_origins()))
        Ticket = pool.get('zl.ticket')
        Plan = pool.get('zl.reservation.plan')
        Slot = pool.get('zl.reservation.slot')
        Configuration = pool.get('zl.reservation.configuration')
        Ticket.put_on_shelf([self.ticket])
        today = Configuration.now().date()
        plan, = Plan.create([{
                    'name': "参观预约", 'start_date': today,
                    'end_date': today, 'advance_days': 1,
                    'sessions': [('create', [{
                                    'name': "全天",
                                    'checkin_start': dt.time(0),
                                    'checkin_end': dt.time(23, 59, 59),
                                    'capacity': 500}])],
                    'tickets': [('add', [self.ticket.id])]}])
        Plan.activate([plan])
        slot, = Slot.search([('plan', '=', plan.id)])
        # Through the engine, as the visitor API books with a promotion
        # (in this transaction: the test's records are not committed).
        numbers = []
        for _ in range(4):
            with Transaction().set_context(_zl_decide=True):
                numbers.append(Booking.book({
                            'ticket': self.ticket.id, 'slot': slot.id,
                            'group': {'name': "星光小学", 'leader': "王老师",
                                'size': 10},
                            'contact': {'phone': '13800138000'},
                            }, self.seller.id, promotion=self.ticket.id,
                        origin=str(promo))['id'])
        table = Booking.__table__()
        cursor = Transaction().connection.cursor()
        for booking_id, state in zip(numbers, ['used', 'cancelled']):
            cursor.execute(*table.update([table.state], [state],
                    where=table.id == booking_id))
        self.assertEqual(Promo(promo.id).uses, 3)
        self.assertEqual(Promo(other.id).uses, 0)

    @with_transaction()
    def test_ticket_button(self):
        "微信推广码 on a group ticket makes a code first, then opens them"
        pool = Pool()
        Ticket = pool.get('zl.ticket')
        Promo = pool.get('zl.mp.promo')
        Action = pool.get('ir.action')
        self.setup_site()
        individual, = Ticket.create([{'name': "个人票", 'code': 'GR001'}])
        with Transaction().set_context(_check_access=True):
            # Not on an individual ticket: the button is not there.
            with self.assertRaises(AccessButtonError):
                Ticket.promo_codes([individual])
            action = Ticket.promo_codes([self.ticket])
        self.assertEqual(
            Action(action).get_action_value()['res_model'], 'zl.mp.promo')
        promo, = Promo.search([])
        self.assertEqual(
            (promo.ticket, promo.seller), (self.ticket, self.seller))
        # Opened again: the same code, none added.
        Ticket.promo_codes([self.ticket])
        self.assertEqual(Promo.search([]), [promo])
