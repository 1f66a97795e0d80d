# This file is part of zhonglian-ticketing. See README.md for the licence.
"""小程序首页设置: the home page's pictures, workflow and what the visitor
API reads of it (SQLite; the one-published constraint also on
PostgreSQL when run there)."""
import io
import unittest

from PIL import Image

from trytond.model.exceptions import AccessError
from trytond.modules.zl_miniprogram.exceptions import HomepageValidationError
from trytond.modules.zl_ticket_core.exceptions import ImageValidationError
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction


def png(size, color='red'):
    stream = io.BytesIO()
    Image.new('RGB', size, color).save(stream, 'PNG')
    return stream.getvalue()


BANNER = png((750, 400))


class HomepageTestCase(unittest.TestCase):
    "Test the mini-program home page"

    @classmethod
    def setUpClass(cls):
        activate_module('zl_miniprogram')

    def ticket(self, on_shelf=True):
        Ticket = Pool().get('zl.ticket')
        ticket, = Ticket.create([{'name': "个人票", 'code': 'GR001'}])
        if on_shelf:
            Ticket.put_on_shelf([ticket])
        return ticket

    def homepage(self, name="首页", banners=1, **values):
        "A draft with banners (a count or the create values)"
        Homepage = Pool().get('zl.mp.homepage')
        if isinstance(banners, int):
            banners = [{'image': BANNER, 'caption': "B%s" % i}
                for i in range(banners)]
        homepage, = Homepage.create([dict({
                        'name': name, 'site_name': "众链博物馆",
                        'banners': [('create', banners)],
                        }, **values)])
        return homepage

    def publish(self, homepage):
        Homepage = Pool().get('zl.mp.homepage')
        Homepage.update_page([homepage])
        Homepage.publish([homepage])

    def state(self, homepage):
        return Pool().get('zl.mp.homepage')(homepage.id).state

    @with_transaction()
    def test_banner_size(self):
        "A banner must be exactly 750×400"
        Banner = Pool().get('zl.mp.homepage.banner')
        homepage = self.homepage(banners=0)
        with self.assertRaises(ImageValidationError) as cm:
            Banner.create([{
                        'homepage': homepage.id, 'image': png((749, 400))}])
        self.assertIn('750×400', cm.exception.message)
        self.assertIn('749×400', cm.exception.message)
        banner, = Banner.create([{'homepage': homepage.id, 'image': BANNER}])
        self.assertEqual(bytes(banner.image), BANNER)

    @with_transaction()
    def test_update_and_publish(self):
        "更新页面 makes a draft ready, 提交发布 publishes it, 编辑 goes back"
        Homepage = Pool().get('zl.mp.homepage')
        homepage = self.homepage()
        Homepage.publish([homepage])  # not ready: no transition
        self.assertEqual(self.state(homepage), 'draft')
        Homepage.update_page([homepage])
        self.assertEqual(self.state(homepage), 'ready')
        self.assertIsNone(Homepage.published())
        Homepage.publish([homepage])
        self.assertEqual(self.state(homepage), 'published')
        self.assertEqual(Homepage.published(), homepage)
        Homepage.edit([homepage])
        self.assertEqual(self.state(homepage), 'draft')
        self.assertIsNone(Homepage.published())

    @with_transaction()
    def test_empty_page_refused(self):
        "A page without banner cannot be updated nor published"
        Homepage = Pool().get('zl.mp.homepage')
        homepage = self.homepage(banners=0, notices=[
                ('create', [{'title': "开馆时间"}])])
        with self.assertRaises(HomepageValidationError) as cm:
            Homepage.update_page([homepage])
        self.assertEqual(
            cm.exception.message,
            'The home page "首页" is empty: add at least one banner '
            'picture (750×400) before updating or publishing it.')
        self.assertEqual(self.state(homepage), 'draft')
        # Emptied after 更新页面: 提交发布 checks again.
        homepage = self.homepage(name="第二版")
        Homepage.update_page([homepage])
        Homepage.write([homepage], {'state': 'draft'})
        Homepage.write([homepage], {'banners': [
                    ('delete', [b.id for b in homepage.banners])]})
        Homepage.write([homepage], {'state': 'ready'})
        with self.assertRaises(HomepageValidationError):
            Homepage.publish([homepage])

    @with_transaction()
    def test_link_checked(self):
        "A banner's ticket must be on shelf, its page a path or https"
        pool = Pool()
        Homepage = pool.get('zl.mp.homepage')
        Banner = pool.get('zl.mp.homepage.banner')
        homepage = self.homepage(banners=0)
        ticket = self.ticket(on_shelf=False)
        banner, = Banner.create([{
                    'homepage': homepage.id, 'image': BANNER,
                    'link': 'ticket', 'ticket': ticket.id}])
        with self.assertRaises(HomepageValidationError) as cm:
            Homepage.update_page([homepage])
        self.assertIn('not on shelf', cm.exception.message)
        Banner.write([banner], {
                'link': 'page', 'ticket': None, 'page': 'javascript:x()'})
        with self.assertRaises(HomepageValidationError):
            Homepage.update_page([homepage])
        Banner.write([banner], {'page': 'pages/news/index?id=1'})
        Homepage.update_page([homepage])
        self.assertEqual(self.state(homepage), 'ready')

    @with_transaction()
    def test_one_published(self):
        "Publishing a page moves the published one back to draft"
        Homepage = Pool().get('zl.mp.homepage')
        first = self.homepage(name="一")
        second = self.homepage(name="二")
        self.publish(first)
        self.publish(second)
        self.assertEqual(self.state(first), 'draft')
        self.assertEqual(self.state(second), 'published')
        self.assertEqual(Homepage.search_count(
                [('state', '=', 'published')]), 1)

    @with_transaction()
    def test_one_published_constraint(self):
        "The database refuses two published pages, whatever the path"
        from trytond.model.exceptions import SQLConstraintError
        Homepage = Pool().get('zl.mp.homepage')
        first = self.homepage(name="一")
        second = self.homepage(name="二")
        self.publish(first)
        with self.assertRaises(SQLConstraintError) as cm:
            Homepage.write([second], {'state': 'published'})
        self.assertEqual(
            cm.exception.message,
            "Only one home page can be published at a time.")

    @with_transaction()
    def test_published_locked(self):
        "A published page and its parts cannot change: 编辑 first"
        pool = Pool()
        Homepage = pool.get('zl.mp.homepage')
        Banner = pool.get('zl.mp.homepage.banner')
        Notice = pool.get('zl.mp.homepage.notice')
        homepage = self.homepage()
        self.publish(homepage)
        banner, = homepage.banners
        for modify in [
                lambda: Homepage.write([homepage], {'name': "改"}),
                lambda: Homepage.delete([homepage]),
                lambda: Banner.write([banner], {'caption': "改"}),
                lambda: Banner.delete([banner]),
                lambda: Banner.create([{
                            'homepage': homepage.id, 'image': BANNER}]),
                lambda: Notice.create([{
                            'homepage': homepage.id, 'title': "新"}]),
                ]:
            with self.assertRaises(AccessError) as cm:
                modify()
            self.assertIn('click Edit', cm.exception.message)
        Homepage.edit([homepage])
        Homepage.write([homepage], {'name': "改"})
        Banner.write([banner], {'caption': "改"})

    @with_transaction()
    def test_state_only_by_buttons(self):
        "Over RPC the state changes only through the buttons"
        Homepage = Pool().get('zl.mp.homepage')
        homepage = self.homepage()
        with Transaction().set_context(_check_access=True):
            with self.assertRaises(AccessError):
                Homepage.write([homepage], {'state': 'published'})
            with self.assertRaises(AccessError):
                self.homepage(name="直接", state='published')
            self.publish(homepage)
        self.assertEqual(self.state(homepage), 'published')

    @with_transaction()
    def test_to_dict(self):
        "What GET /home serves of the published page"
        pool = Pool()
        Homepage = pool.get('zl.mp.homepage')
        ticket = self.ticket()
        homepage = self.homepage(template='grid', theme_color='#C8102E',
            banners=[
                {'image': BANNER, 'caption': "门票", 'sequence': 1,
                    'link': 'ticket', 'ticket': ticket.id},
                {'image': BANNER, 'caption': "须知", 'sequence': 2,
                    'link': 'page', 'page': 'pages/news/index'},
                ],
            notices=[('create', [{'title': "闭馆", 'content': "周一闭馆"}])])
        self.publish(homepage)
        first, second = homepage.banners
        self.assertEqual(
            Homepage.published().to_dict(lambda b: '/img/%s' % b.id), {
                'template': 'grid',
                'site_name': "众链博物馆",
                'theme_color': '#C8102E',
                'banners': [{
                        'image_url': '/img/%s' % first.id,
                        'caption': "门票",
                        'link': {'kind': 'ticket', 'ticket_id': ticket.id,
                            'page': None},
                        }, {
                        'image_url': '/img/%s' % second.id,
                        'caption': "须知",
                        'link': {'kind': 'page', 'ticket_id': None,
                            'page': 'pages/news/index'},
                        }],
                'notices': [{'title': "闭馆", 'content': "周一闭馆"}],
                })

    @with_transaction()
    def test_theme_color(self):
        "The theme color is #RRGGBB"
        with self.assertRaises(HomepageValidationError):
            self.homepage(theme_color='red')
        self.homepage(theme_color='#00aaFF')

    @with_transaction()
    def test_public_image(self):
        "Only the published page's pictures are public"
        Banner = Pool().get('zl.mp.homepage.banner')
        draft = self.homepage(name="草稿")
        published = self.homepage(name="发布")
        self.publish(published)
        self.assertIsNone(Banner.public_image(draft.banners[0].id))
        self.assertIsNone(Banner.public_image(-1))
        data, etag = Banner.public_image(published.banners[0].id)
        self.assertEqual(data, BANNER)
        self.assertEqual(
            Banner.public_image(published.banners[0].id)[1], etag)
