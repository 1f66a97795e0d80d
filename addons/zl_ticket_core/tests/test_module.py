# This file is part of zhonglian-ticketing. See README.md for the licence.
import io

from PIL import Image

from trytond.modules.zl_ticket_core.audit import mask
from trytond.modules.zl_ticket_core.exceptions import (
    ImageValidationError,
    TicketValidationError,
)
from trytond.modules.zl_ticket_core.image import (
    POSTER_SIZE,
    check_image,
    sanitize_html,
)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction


def png(size):
    data = io.BytesIO()
    Image.new('RGB', size).save(data, 'PNG')
    return data.getvalue()


class ZlTicketCoreTestCase(ModuleTestCase):
    "Test zl_ticket_core module"
    module = 'zl_ticket_core'

    def test_mask(self):
        "ID numbers keep their first and last four characters"
        self.assertEqual(mask('110101199003074258'), '1101**********4258')
        self.assertEqual(mask('E1234567'), 'E*******')
        self.assertEqual(mask(''), '')

    @with_transaction()
    def test_scope_is_cached(self):
        "A user's data scope is computed once, then read from the cache"
        from unittest.mock import patch
        pool = Pool()
        DataPermission = pool.get('zl.data.permission')
        User = pool.get('res.user')
        user, = User.create([{'login': 'scoped', 'name': 'scoped'}])
        search = DataPermission.search
        with patch.object(DataPermission, 'search', wraps=search) as spy:
            first = DataPermission.get_scope(user.id)
            second = DataPermission.get_scope(user.id)
        self.assertEqual(
            {k: list(v) if k != 'all' else v for k, v in second.items()},
            first)
        self.assertEqual(spy.call_count, 1)

    @with_transaction()
    def test_check_image(self):
        "Pictures must be of the manual's size"
        check_image(png(POSTER_SIZE), POSTER_SIZE, 'Poster', 'T')
        with self.assertRaises(ImageValidationError) as cm:
            check_image(png((600, 450)), POSTER_SIZE, 'Poster', 'T')
        self.assertIn('600×800', cm.exception.message)
        with self.assertRaises(ImageValidationError):
            check_image(b'not a picture', POSTER_SIZE, 'Poster', 'T')

    def test_sanitize_html(self):
        "Scripts and handlers are stripped, formatting kept"
        self.assertEqual(
            sanitize_html(
                '<p onclick="x()"><b>须知</b><script>1</script></p>'),
            '<p><b>须知</b></p>')

    @with_transaction()
    def test_poster_size_on_ticket(self):
        "A poster of the wrong size is refused with a message"
        Ticket = Pool().get('zl.ticket')
        ticket = Ticket(name="T", code='T1', poster=png((800, 600)))
        with self.assertRaises(ImageValidationError):
            ticket.save()
        ticket = Ticket(name="T", code='T2', poster=png(POSTER_SIZE))
        ticket.save()

    @with_transaction(context={'language': 'zh_CN'})
    def test_errors_are_translated(self):
        "Constraint errors reach staff in Chinese with a message id"
        pool = Pool()
        Ticket = pool.get('zl.ticket')
        Lang = pool.get('ir.lang')
        lang, = Lang.search([('code', '=', 'zh_CN')])
        lang.translatable = True
        lang.save()
        Lang.load_translations([lang])
        ticket = Ticket(name="T", code='T1', usable_count=0)
        with self.assertRaises(TicketValidationError) as cm:
            ticket.save()
        self.assertIn('可用次数', cm.exception.message)
        self.assertIn('不小于 1', cm.exception.message)

    @with_transaction()
    def test_scope_of_admin(self):
        "Root and the built-in administrator see all data"
        DataPermission = Pool().get('zl.data.permission')
        self.assertTrue(DataPermission.get_scope(0)['all'])


del ModuleTestCase
