# This file is part of zhonglian-ticketing. See README.md for the licence.
"""小程序首页设置: the mini-program's home page (附加模块 → 小程序模板).

Staff edit a draft (编辑, 上传图片 750×400), check it (更新页面: it becomes
ready) and publish it (提交发布).  Exactly one page is published at a
time: the database refuses a second one, and publishing moves the
previous page back to draft.  The visitor API serves the published page
only (`Homepage.published`, `to_dict`, `Banner.public_image`)."""
import hashlib
import re
from functools import wraps

from sql import Literal
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import (
    Exclude,
    ModelSQL,
    ModelView,
    Workflow,
    fields,
    sequence_ordered,
)
from trytond.model.exceptions import AccessError
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.modules.zl_ticket_core.image import check_image
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import HomepageValidationError

# The manual's banner size (上传图片: 尺寸 750*400)
BANNER_SIZE = (750, 400)
THEME_COLOR = re.compile(r'#[0-9A-Fa-f]{6}')
# A banner opens a mini-program page (pages/x/index?a=1, /pages/x) or an
# https address for the H5 page; never a javascript: or plain http link.
PAGE = re.compile(
    r'https://[\x21-\x7e]+'
    r'|/?[\w-]+(/[\w.-]+)*(\?[\x21-\x7e]*)?', re.ASCII)
# Set (server side only: RPC drops context keys starting with _) while a
# workflow button runs: the state changes through the buttons only.
IN_WORKFLOW = '_zl_homepage_workflow'


def workflow(func):
    "Let the wrapped transition, and only it, change the state"
    @wraps(func)
    def wrapper(cls, records, *args, **kwargs):
        with Transaction().set_context({IN_WORKFLOW: True}):
            return func(cls, records, *args, **kwargs)
    return wrapper


class Homepage(AuditMixin, Workflow, ModelSQL, ModelView):
    __name__ = 'zl.mp.homepage'
    __string__ = "Mini-Program Home Page"

    _states = {'readonly': Eval('state') != 'draft'}

    name = fields.Char(
        "Name", required=True, states=_states,
        help="For staff: which version of the home page this is.")
    template = fields.Selection([
            ('classic', "Classic"),
            ('grid', "Grid"),
            ], "Template", required=True, states=_states,
        help="The layout the mini-program draws the page with.")
    site_name = fields.Char(
        "Site Name", states=_states,
        help="The site's name shown to visitors and on promotion posters.")
    theme_color = fields.Char(
        "Theme Color", required=True, size=7, states=_states,
        help="#RRGGBB, for example #C8102E.")
    banners = fields.One2Many(
        'zl.mp.homepage.banner', 'homepage', "Banners", states=_states,
        help="Pictures of 750×400 pixels, in order.")
    notices = fields.One2Many(
        'zl.mp.homepage.notice', 'homepage', "Notices", states=_states)
    state = fields.Selection([
            ('draft', "Draft"),
            ('ready', "Ready"),
            ('published', "Published"),
            ], "State", readonly=True, required=True, sort=False)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            # All published rows would have the same state: at most one.
            ('one_published', Exclude(t, (t.state, Equal),
                    where=t.state == Literal('published')),
                'zl_miniprogram.msg_homepage_one_published'),
            ]
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'ready'),
            ('ready', 'published'),
            ('ready', 'draft'),
            ('published', 'draft'),
            }
        cls._buttons.update({
                'update_page': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'publish': {
                    'invisible': Eval('state') != 'ready',
                    'depends': ['state'],
                    },
                'edit': {
                    'invisible': Eval('state') == 'draft',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_template(cls):
        return 'classic'

    @classmethod
    def default_theme_color(cls):
        return '#1AAD19'

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def validate_fields(cls, homepages, field_names):
        super().validate_fields(homepages, field_names)
        cls.check_theme_color(homepages, field_names)

    @classmethod
    def check_theme_color(cls, homepages, field_names=None):
        if field_names and 'theme_color' not in field_names:
            return
        for homepage in homepages:
            if not THEME_COLOR.fullmatch(homepage.theme_color or ''):
                raise HomepageValidationError(gettext(
                        'zl_miniprogram.msg_homepage_theme_color',
                        homepage=homepage.rec_name,
                        color=homepage.theme_color))

    @classmethod
    def check_modification(cls, mode, homepages, values=None, external=False):
        super().check_modification(
            mode, homepages, values=values, external=external)
        in_workflow = Transaction().context.get(IN_WORKFLOW)
        if external and not in_workflow and (
                (mode == 'write' and 'state' in values)
                or (mode == 'create'
                    and any(h.state != 'draft' for h in homepages))):
            # 更新页面 and 提交发布 check the page: no way around them.
            raise AccessError(gettext(
                    'zl_miniprogram.msg_homepage_state_by_button'))
        # Only the workflow may touch a checked or published page: the
        # visitors see what was checked, nothing edited after.
        if mode == 'write' and set(values) <= {'state'}:
            return
        if mode in {'write', 'delete'}:
            for homepage in homepages:
                homepage.check_draft()

    def check_draft(self):
        if self.state != 'draft':
            raise AccessError(gettext(
                    'zl_miniprogram.msg_homepage_not_draft',
                    homepage=self.rec_name))

    def check_page(self):
        "Refuse a page the mini-program could not show as it is"
        if not self.banners:
            raise HomepageValidationError(gettext(
                    'zl_miniprogram.msg_homepage_empty',
                    homepage=self.rec_name))
        for banner in self.banners:
            banner.check_link()

    @classmethod
    @ModelView.button
    @workflow
    @Workflow.transition('ready')
    def update_page(cls, homepages):
        for homepage in homepages:
            homepage.check_page()

    @classmethod
    @ModelView.button
    @workflow
    @Workflow.transition('published')
    def publish(cls, homepages):
        # A ticket may have left the shelf since 更新页面.
        for homepage in homepages:
            homepage.check_page()
        previous = cls.search([
                ('state', '=', 'published'),
                ('id', 'not in', [h.id for h in homepages]),
                ])
        # Before the new one is written: the constraint holds at each
        # statement.
        cls.edit(previous)

    @classmethod
    @ModelView.button
    @workflow
    @Workflow.transition('draft')
    def edit(cls, homepages):
        pass

    @classmethod
    def copy(cls, homepages, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('name', lambda data: data['name'] + ' (2)')
        return super().copy(homepages, default=default)

    @classmethod
    @without_check_access
    def published(cls):
        "The published home page, or None"
        homepages = cls.search([('state', '=', 'published')], limit=1)
        return homepages[0] if homepages else None

    def to_dict(self, image_url):
        """The page as the visitor API serves it; image_url(banner) is the
        address the route serves the banner's picture at"""
        return {
            'template': self.template,
            'site_name': self.site_name,
            'theme_color': self.theme_color,
            'banners': [{
                    'image_url': image_url(b),
                    'caption': b.caption,
                    'link': {
                        'kind': b.link,
                        'ticket_id': (
                            b.ticket.id if b.link == 'ticket' and b.ticket
                            else None),
                        'page': b.page if b.link == 'page' else None,
                        },
                    } for b in self.banners],
            'notices': [{
                    'title': n.title,
                    'content': n.content,
                    } for n in self.notices],
            }


class HomepagePartMixin:
    "A part of a home page: changed only while the page is a draft"
    __slots__ = ()

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        pool = Pool()
        Homepage = pool.get('zl.mp.homepage')
        homepages = {r.homepage for r in records}
        if mode == 'write' and values.get('homepage'):
            homepages.add(Homepage(values['homepage']))
        for homepage in homepages:
            homepage.check_draft()


class Banner(
        HomepagePartMixin, AuditMixin, sequence_ordered(), ModelSQL,
        ModelView):
    __name__ = 'zl.mp.homepage.banner'
    __string__ = "Home Page Banner"

    homepage = fields.Many2One(
        'zl.mp.homepage', "Home Page", required=True, ondelete='CASCADE')
    image = fields.Binary("Image", required=True, help="750×400 pixels.")
    link = fields.Selection([
            ('none', "None"),
            ('ticket', "Ticket"),
            ('page', "Page"),
            ], "Link", required=True,
        help="What a tap on the picture opens.")
    ticket = fields.Many2One(
        'zl.ticket', "Ticket", ondelete='RESTRICT',
        states={
            'invisible': Eval('link') != 'ticket',
            'required': Eval('link') == 'ticket',
            },
        help="A ticket on shelf.")
    page = fields.Char(
        "Page",
        states={
            'invisible': Eval('link') != 'page',
            'required': Eval('link') == 'page',
            },
        help="A mini-program page (pages/news/index) or an https address.")
    caption = fields.Char("Caption")

    @classmethod
    def default_link(cls):
        return 'none'

    @fields.depends('link')
    def on_change_link(self):
        if self.link != 'ticket':
            self.ticket = None
        if self.link != 'page':
            self.page = None

    def get_rec_name(self, name):
        return self.caption or str(self.sequence or self.id)

    @classmethod
    def validate_fields(cls, banners, field_names):
        super().validate_fields(banners, field_names)
        if field_names and 'image' not in field_names:
            return
        for banner in banners:
            check_image(
                banner.image, BANNER_SIZE, cls.__names__('image')['field'],
                banner.homepage.rec_name)

    def check_link(self):
        "The banner opens something a visitor can use"
        values = {'banner': self.rec_name, 'homepage': self.homepage.rec_name}
        if self.link == 'ticket':
            if not self.ticket:
                raise HomepageValidationError(gettext(
                        'zl_miniprogram.msg_homepage_banner_link', **values))
            if not (self.ticket.active and self.ticket.on_shelf):
                raise HomepageValidationError(gettext(
                        'zl_miniprogram.msg_homepage_banner_ticket',
                        ticket=self.ticket.rec_name, **values))
        elif self.link == 'page':
            if not PAGE.fullmatch(self.page or ''):
                raise HomepageValidationError(gettext(
                        'zl_miniprogram.msg_homepage_banner_page',
                        page=self.page or '', **values))

    @classmethod
    def public_image(cls, banner_id):
        """(bytes, etag) of a banner of the published page, else None:
        a draft's pictures are never public"""
        pool = Pool()
        Homepage = pool.get('zl.mp.homepage')
        banner, homepage = cls.__table__(), Homepage.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*banner.join(homepage,
                condition=banner.homepage == homepage.id).select(
                banner.image,
                where=(banner.id == banner_id)
                & (homepage.state == 'published')))
        row = cursor.fetchone()
        if not row or row[0] is None:
            return None
        data = bytes(row[0])
        return data, hashlib.sha256(data).hexdigest()[:32]


class Notice(
        HomepagePartMixin, AuditMixin, sequence_ordered(), ModelSQL,
        ModelView):
    __name__ = 'zl.mp.homepage.notice'
    __string__ = "Home Page Notice"

    homepage = fields.Many2One(
        'zl.mp.homepage', "Home Page", required=True, ondelete='CASCADE')
    title = fields.Char("Title", required=True)
    content = fields.Text("Content")
