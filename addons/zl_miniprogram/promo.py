# This file is part of zhonglian-ticketing. See README.md for the licence.
"""团体预约码: promotion codes of the group tickets (票务管理 → 票据管理 →
微信推广码).

A code is a scene token WeChat puts in a mini-program QR code; the
visitor API resolves it (`Promo.resolve`) to its hidden group ticket,
and the bookings made through it name it as their origin.  Staff
download the QR and a printable poster from the code's form."""
import datetime as dt
import secrets
import string
import urllib.parse
from zoneinfo import ZoneInfo

from sql import Null
from sql.aggregate import Count

from trytond.backend import MAX_QUERY_PARAMS
from trytond.cache import Cache
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Check,
    DeactivableMixin,
    ModelSQL,
    ModelView,
    Unique,
    fields,
)
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from . import poster, wechat
from .exceptions import ApiError, PromoValidationError

# Generated scenes: letters and digits only (no character a visitor could
# misread or a URL would escape), 12 of them: about 71 random bits.
SCENE_ALPHABET = string.ascii_letters + string.digits
SCENE_LENGTH = 12
# Bookings that used the code (a cancelled one gave its places back).
USED_STATES = ('confirmed', 'used')


def utcnow():
    "Now as Tryton stores datetimes: naive UTC"
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def generate_scene():
    return ''.join(
        secrets.choice(SCENE_ALPHABET) for _ in range(SCENE_LENGTH))


class Promo(AuditMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'zl.mp.promo'
    __string__ = "Promotion Code"

    ticket = fields.Many2One(
        'zl.ticket', "Ticket", required=True, ondelete='CASCADE',
        domain=[('kind', '=', 'group')],
        help="The group ticket the code opens.")
    seller = fields.Many2One(
        'zl.seller', "Seller", required=True, ondelete='RESTRICT',
        domain=[('kind', '=', 'wechat_mp')],
        help="The mini-program seller the bookings go through.")
    scene = fields.Char(
        # No size: a column limit would fail in the database (and, on
        # PostgreSQL, end the transaction) before check_scene explains.
        "Scene", required=True, strip=False,
        help="The token in the QR code: up to 32 letters, digits or "
        "!#$&'()*+,/:;=?@-._~ (no spaces).")
    valid_from = fields.DateTime(
        "Valid From",
        domain=[If(Eval('valid_until'),
                ('valid_from', '<=', Eval('valid_until')), ())],
        help="Empty: valid at once.")
    valid_until = fields.DateTime(
        "Valid Until",
        domain=[If(Eval('valid_from'),
                ('valid_until', '>=', Eval('valid_from')), ())],
        help="Empty: no end.")
    uses = fields.Function(fields.Integer(
            "Uses",
            help="Bookings made with the code (confirmed or used)."),
        'get_uses')
    note = fields.Text("Note")
    link = fields.Function(fields.Char(
            "H5 Link",
            help="The visitor page opening this code: share it in a chat "
            "or an article (set the Visitor Page Address in the mini-program "
            "configuration)."),
        'get_link')
    qr = fields.Function(fields.Binary(
            "QR Code", filename='qr_filename',
            help="Save it and share it with the tour group."),
        'get_picture')
    qr_filename = fields.Function(
        fields.Char("QR Code File Name"), 'get_filename')
    poster = fields.Function(fields.Binary(
            "Poster", filename='poster_filename',
            help="A printable A4 poster with the QR code."),
        'get_picture')
    poster_filename = fields.Function(
        fields.Char("Poster File Name"), 'get_filename')
    # WeChat's code costs a call with the shared token: made once per
    # scene and configuration in each worker.
    _wxacode_cache = Cache(
        'zl.mp.promo.wxacode', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('scene_unique', Unique(t, t.scene),
                'zl_miniprogram.msg_promo_scene_unique'),
            ('dates', Check(t, (t.valid_from == Null)
                    | (t.valid_until == Null)
                    | (t.valid_from <= t.valid_until)),
                'zl_miniprogram.msg_promo_dates'),
            ]
        cls._order = [('id', 'DESC')]

    @classmethod
    def default_scene(cls):
        return generate_scene()

    @classmethod
    def default_seller(cls):
        Configuration = Pool().get('zl.mp.configuration')
        return Configuration.values()['seller']

    def get_rec_name(self, name):
        return '%s (%s)' % (self.ticket.rec_name, self.scene)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('scene', operator, operand, *extra),
            ('ticket.rec_name', operator, operand, *extra),
            ]

    @classmethod
    def copy(cls, promos, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('scene', lambda data: generate_scene())
        return super().copy(promos, default=default)

    @classmethod
    def validate_fields(cls, promos, field_names):
        super().validate_fields(promos, field_names)
        cls.check_scene(promos, field_names)

    @classmethod
    def check_scene(cls, promos, field_names=None):
        if field_names and 'scene' not in field_names:
            return
        for promo in promos:
            if not wechat.is_valid_scene(promo.scene):
                raise PromoValidationError(gettext(
                        'zl_miniprogram.msg_promo_scene_invalid',
                        scene=promo.scene, promo=promo.ticket.rec_name))

    @classmethod
    def get_uses(cls, promos, name):
        pool = Pool()
        Booking = pool.get('zl.booking')
        booking = Booking.__table__()
        cursor = Transaction().connection.cursor()
        uses = dict.fromkeys(map(int, promos), 0)
        for sub_ids in grouped_slice(list(uses), MAX_QUERY_PARAMS):
            origins = ['%s,%s' % (cls.__name__, i) for i in sub_ids]
            cursor.execute(*booking.select(
                    booking.origin, Count(booking.id),
                    where=booking.origin.in_(origins)
                    & booking.state.in_(USED_STATES),
                    group_by=[booking.origin]))
            for origin, count in cursor:
                uses[int(origin.split(',')[1])] = count
        return uses

    def get_link(self, name):
        Configuration = Pool().get('zl.mp.configuration')
        if self.scene and Configuration.values()['h5_url']:
            return self.h5_link()

    def get_filename(self, name):
        kind = name[:-len('_filename')]
        # Keep file names portable: the scene may hold / ? * and the like.
        safe = ''.join(c if c.isalnum() else '_' for c in self.scene or '')
        return '%s-%s.png' % (kind, safe)

    @classmethod
    def get_picture(cls, promos, names):
        transaction = Transaction()
        result = {n: {} for n in names}
        for name in names:
            size_only = transaction.context.get(
                '%s.%s' % (cls.__name__, name)) == 'size'
            for promo in promos:
                try:
                    data = getattr(promo, name + '_png')()
                except UserError:
                    if not size_only:
                        raise
                    # The form still opens when WeChat fails; the download
                    # then says why.
                    data = b'?'
                result[name][promo.id] = len(data) if size_only else data
        return result

    def h5_link(self):
        "The visitor page's address that opens this code"
        Configuration = Pool().get('zl.mp.configuration')
        url = Configuration.values()['h5_url'] or '/'
        return '%s%sscene=%s' % (
            url, '&' if '?' in url else '?',
            urllib.parse.quote(self.scene, safe=''))

    def qr_png(self):
        """The QR code as PNG: WeChat's mini-program code when the
        mini-program is configured, else a plain QR of the H5 link"""
        pool = Pool()
        Configuration = pool.get('zl.mp.configuration')
        values = Configuration.values()
        if not (values['mp_appid'] and values['mp_secret']):
            return poster.qr_png(self.h5_link())
        key = (values['wechat_base_url'], values['mp_appid'],
            values['promo_page'], self.scene)
        data = self._wxacode_cache.get(key)
        if data is None:
            # Imported through the pool: the token is shared by workers.
            AccessToken = pool.get('zl.mp.wechat.token')
            try:
                data = poster.to_png(AccessToken.wxacode(
                        values['promo_page'], self.scene))
            except (wechat.WeChatError, ValueError, OSError) as error:
                raise UserError(gettext(
                        'zl_miniprogram.msg_promo_wxacode_failed',
                        promo=self.rec_name, error=str(error))) from error
            self._wxacode_cache.set(key, data)
        return data

    def poster_png(self):
        "The printable poster as PNG"
        pool = Pool()
        Homepage = pool.get('zl.mp.homepage')
        homepage = Homepage.published()
        with without_check_access():
            ticket_name = self.ticket.name
        site_name = homepage.site_name if homepage else None
        lines = [
            gettext('zl_miniprogram.msg_promo_poster_scan'),
            gettext('zl_miniprogram.msg_promo_poster_code',
                scene=self.scene),
            self.validity_text(),
            ]
        return poster.poster_png(
            self.qr_png(), ticket_name, site_name or ticket_name, lines,
            homepage.theme_color if homepage else None)

    @staticmethod
    def site_time(value):
        "A stored (UTC) datetime in the site's time zone, aware"
        if value is None:
            return None
        Configuration = Pool().get('zl.reservation.configuration')
        return value.replace(tzinfo=dt.timezone.utc).astimezone(
            ZoneInfo(Configuration.values()['timezone']))

    def validity_text(self):
        def text(value):
            return self.site_time(value).strftime('%Y-%m-%d %H:%M')
        if self.valid_from and self.valid_until:
            return gettext('zl_miniprogram.msg_promo_valid_between',
                valid_from=text(self.valid_from),
                valid_until=text(self.valid_until))
        elif self.valid_from:
            return gettext('zl_miniprogram.msg_promo_valid_from',
                valid_from=text(self.valid_from))
        elif self.valid_until:
            return gettext('zl_miniprogram.msg_promo_valid_until',
                valid_until=text(self.valid_until))
        return gettext('zl_miniprogram.msg_promo_valid_always')

    @classmethod
    @without_check_access
    def resolve(cls, scene, now=None):
        """The active promotion code of scene, in its validity, for the
        visitor API; ApiError promo_not_found (404) or promo_expired
        (410) otherwise"""
        promos = []
        if wechat.is_valid_scene(scene):
            promos = cls.search([
                    ('scene', '=', scene),
                    ('ticket.active', '=', True),
                    ], limit=1)
        if not promos:
            raise ApiError('promo_not_found',
                gettext('zl_miniprogram.msg_promo_not_found'), 404)
        promo, = promos
        now = now or utcnow()
        if ((promo.valid_from and now < promo.valid_from)
                or (promo.valid_until and now > promo.valid_until)):
            raise ApiError('promo_expired', gettext(
                    'zl_miniprogram.msg_promo_expired',
                    validity=promo.validity_text()), 410)
        return promo

    def to_dict(self):
        def iso(value):
            value = self.site_time(value)
            return value.isoformat() if value else None
        return {
            'scene': self.scene,
            'ticket_id': self.ticket.id,
            'ticket_name': self.ticket.name,
            'valid_from': iso(self.valid_from),
            'valid_until': iso(self.valid_until),
            }


class Ticket(metaclass=PoolMeta):
    __name__ = 'zl.ticket'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'promo_codes': {
                    'invisible': Eval('kind') != 'group',
                    'depends': ['kind'],
                    },
                })

    @classmethod
    @ModelView.button_action('zl_miniprogram.act_ticket_promo')
    def promo_codes(cls, tickets):
        "微信推广码: the ticket's codes, one made first if it has none"
        pool = Pool()
        Promo = pool.get('zl.mp.promo')
        groups = [t for t in tickets if t.kind == 'group']
        with Transaction().set_context(active_test=False):
            have = {p.ticket for p in Promo.search([
                        ('ticket', 'in', [t.id for t in groups]),
                        ])}
        missing = [t for t in groups if t not in have]
        if missing:
            if not Promo.default_seller():
                raise UserError(gettext('zl_miniprogram.msg_promo_no_seller'))
            Promo.create([{'ticket': t.id} for t in missing])


class Booking(metaclass=PoolMeta):
    __name__ = 'zl.booking'

    @classmethod
    def _get_origins(cls):
        return super()._get_origins() + ['zl.mp.promo']
