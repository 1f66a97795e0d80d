# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The shared WeChat access token against the stand-in: fetched once and
reused, refreshed near its end or when WeChat refuses it; on PostgreSQL,
shared by concurrent workers through one committed row."""
import datetime as dt
import io
import threading
import unittest

from PIL import Image

from trytond import backend
from trytond.model.exceptions import AccessError
from trytond.modules.zl_miniprogram import standin
from trytond.modules.zl_miniprogram.wechat import WeChatError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME,
    TestCase,
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction, check_access

MP_APPID, MP_SECRET = standin.DEFAULT_APPS['mp']
PAGE = 'pages/promo/index'
# Test transactions are never committed: the token is refreshed inside
# them, not in a committed transaction of its own (test_shared_by_workers
# covers that path on PostgreSQL).
SAME_TRANSACTION = {'_zl_decide': True}


class AccessTokenTestCase(TestCase):
    "Test the shared WeChat access token"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module('zl_miniprogram')
        cls.server, cls.base_url = standin.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        drop_db()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.server.reset()

    def calls(self, name='stable_token'):
        return self.server.stats()['calls'][name]

    def configure(self, **values):
        Configuration = Pool().get('zl.mp.configuration')
        values = dict({
                'wechat_base_url': self.base_url,
                'mp_appid': MP_APPID,
                'mp_secret': MP_SECRET,
                }, **values)
        Configuration.write([Configuration(1)], values)

    def stored(self):
        AccessToken = Pool().get('zl.mp.wechat.token')
        records = AccessToken.search([('appid', '=', MP_APPID)])
        return records[0] if records else None

    def left(self, record):
        return record.expires_at - dt.datetime.now()

    @with_transaction(context=SAME_TRANSACTION)
    def test_fetched_once_and_reused(self):
        "The first call fetches a token; the next ones reuse it"
        AccessToken = Pool().get('zl.mp.wechat.token')
        self.configure()
        token = AccessToken.get()
        self.assertEqual(AccessToken.get(), token)
        self.assertEqual(AccessToken.get(), token)
        self.assertEqual(self.calls(), 1)
        record = self.stored()
        self.assertEqual(record.token, token)
        self.assertGreater(self.left(record), dt.timedelta(seconds=7100))

    @with_transaction(context=SAME_TRANSACTION)
    def test_refreshed_near_expiry(self):
        "Six minutes left: reused; four: refreshed"
        AccessToken = Pool().get('zl.mp.wechat.token')
        self.configure()
        token = AccessToken.get()
        record = self.stored()

        AccessToken.write([record], {
                'expires_at': dt.datetime.now() + dt.timedelta(minutes=6)})
        self.assertEqual(AccessToken.get(), token)
        self.assertEqual(self.calls(), 1)

        AccessToken.write([record], {
                'expires_at': dt.datetime.now() + dt.timedelta(minutes=4)})
        # WeChat's own copy ended too: it hands out a new one.
        self.server.expire(token)
        new = AccessToken.get()
        self.assertNotEqual(new, token)
        self.assertEqual(self.calls(), 2)
        record = self.stored()
        self.assertEqual(record.token, new)
        self.assertGreater(self.left(record), dt.timedelta(seconds=7100))

    @with_transaction(context=SAME_TRANSACTION)
    def test_force(self):
        "force asks WeChat for a new token even when the stored one is good"
        AccessToken = Pool().get('zl.mp.wechat.token')
        self.configure()
        token = AccessToken.get()
        new = AccessToken.get(force=True)
        self.assertNotEqual(new, token)
        self.assertEqual(self.stored().token, new)
        self.assertEqual(self.calls(), 2)

    @with_transaction(context=SAME_TRANSACTION)
    def test_wxacode_refreshes_refused_token(self):
        "WeChat refuses the stored token: refreshed once, code made"
        AccessToken = Pool().get('zl.mp.wechat.token')
        self.configure()
        token = AccessToken.get()
        self.server.expire(token)

        content = AccessToken.wxacode(PAGE, 'G1')
        self.assertEqual(Image.open(io.BytesIO(content)).size, (430, 430))
        self.assertEqual(self.calls('getwxacodeunlimit'), 2)
        self.assertEqual(self.calls(), 2)
        self.assertNotEqual(self.stored().token, token)

        # The new token serves the next code without a refresh.
        AccessToken.wxacode(PAGE, 'G2')
        self.assertEqual(self.calls('getwxacodeunlimit'), 3)
        self.assertEqual(self.calls(), 2)

    @with_transaction(context=SAME_TRANSACTION)
    def test_refused_but_handed_out_again(self):
        "WeChat hands out the token it refused: a forced refresh follows"
        AccessToken = Pool().get('zl.mp.wechat.token')
        self.configure()
        token = AccessToken.get()
        new = AccessToken.get(refused=token)
        self.assertNotEqual(new, token)
        # A normal call answering the same token, then a forced one.
        self.assertEqual(self.calls(), 3)

    @with_transaction(context=SAME_TRANSACTION)
    def test_refused_already_replaced(self):
        "Another worker replaced the refused token: no call"
        AccessToken = Pool().get('zl.mp.wechat.token')
        self.configure()
        token = AccessToken.get()
        self.assertEqual(AccessToken.get(refused='older'), token)
        self.assertEqual(self.calls(), 1)

    @with_transaction(context=SAME_TRANSACTION)
    def test_other_errors_not_retried(self):
        "Only token_expired is retried; WeChat failing keeps the token"
        AccessToken = Pool().get('zl.mp.wechat.token')
        self.configure()
        token = AccessToken.get()
        self.server.set_fault('errcode:45011')
        with self.assertRaises(WeChatError) as context:
            AccessToken.wxacode(PAGE, 'G1')
        self.assertEqual(context.exception.code, 'rate_limited')
        self.assertEqual(self.calls('getwxacodeunlimit'), 1)
        self.assertEqual(self.calls(), 1)

        self.server.set_fault('busy')
        with self.assertRaises(WeChatError) as context:
            AccessToken.get(force=True)
        self.assertEqual(context.exception.code, 'wechat_unavailable')
        self.assertEqual(self.stored().token, token)

    @with_transaction(context=SAME_TRANSACTION)
    def test_wxacode_bad_scene(self):
        "A scene WeChat would refuse costs no call"
        AccessToken = Pool().get('zl.mp.wechat.token')
        self.configure()
        with self.assertRaises(ValueError):
            AccessToken.wxacode(PAGE, 'x' * 33)
        self.assertEqual(self.calls(), 0)
        self.assertEqual(self.calls('getwxacodeunlimit'), 0)

    @with_transaction(context=SAME_TRANSACTION)
    def test_not_configured(self):
        AccessToken = Pool().get('zl.mp.wechat.token')
        self.configure(mp_secret=None)
        with self.assertRaises(WeChatError) as context:
            AccessToken.get()
        self.assertEqual(context.exception.code, 'not_configured')
        self.assertEqual(self.calls(), 0)

    @with_transaction(context=SAME_TRANSACTION)
    def test_no_access(self):
        "Nobody reads or writes the token over RPC, admin included"
        AccessToken = Pool().get('zl.mp.wechat.token')
        self.configure()
        AccessToken.get()
        with check_access():
            with self.assertRaises(AccessError):
                AccessToken.search([])
            with self.assertRaises(AccessError):
                AccessToken.create([{
                            'appid': 'x', 'token': 'y',
                            'expires_at': dt.datetime.now()}])

    @unittest.skipIf(backend.name != 'postgresql', "needs PostgreSQL")
    def test_shared_by_workers(self):
        "Workers refreshing at once make one call and share its token"
        AccessToken = Pool(DB_NAME).get('zl.mp.wechat.token')

        @with_transaction()
        def commit(**values):
            AccessToken.delete(AccessToken.search([]))
            self.configure(**values)
            Transaction().commit()

        commit()
        try:
            # Each call waits so that all arrive before the first ends.
            self.server.set_fault('slow:0.5')
            tokens, errors = [], []

            @with_transaction()
            def worker():
                try:
                    tokens.append(AccessToken.get())
                except Exception as error:
                    errors.append(error)
            threads = [threading.Thread(target=worker) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            self.assertEqual(errors, [])
            self.assertEqual(len(tokens), 4)
            self.assertEqual(len(set(tokens)), 1)
            self.assertEqual(self.calls(), 1)

            # Committed at once: the caller's transaction rolled back (as
            # with_transaction does) and the new token stayed.
            token = with_transaction()(AccessToken.get)(force=True)
            self.assertNotIn(token, tokens)
            with_transaction()(
                lambda: self.assertEqual(self.stored().token, token))()
        finally:
            commit(mp_appid=None, mp_secret=None)
