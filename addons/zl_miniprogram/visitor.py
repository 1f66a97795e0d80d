# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Visitors: web.user accounts of WeChat users, their sessions and their
saved companions (常用游客).

A visitor is not staff: a `web.user` (trytond-web-user) keyed by the
openid of each WeChat app (mini-program, Official Account for the H5
page), one person's two openids linked through the unionid.  WeChat-only
visitors have no email.
"""
import datetime as dt

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.modules.zl_reservation import identity
from trytond.modules.zl_reservation.engine import advisory_lock, lock_key
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import ApiError

# The openid field of each WeChat app
APPS = {'mp': 'wechat_mp_openid', 'oa': 'wechat_oa_openid'}
MAX_COMPANIONS = 20


class WebUser(metaclass=PoolMeta):
    __name__ = 'web.user'

    wechat_mp_openid = fields.Char("Mini-Program OpenID", readonly=True)
    wechat_oa_openid = fields.Char("Official Account OpenID", readonly=True)
    wechat_unionid = fields.Char("WeChat UnionID", readonly=True)
    companions = fields.One2Many(
        'zl.mp.companion', 'web_user', "Companions", readonly=True)
    strikes = fields.Function(fields.Many2Many(
            'zl.reservation.strike', None, None, "Strikes"),
        'get_strikes')
    restricted_until = fields.Function(fields.Date(
            "Restricted Until",
            help="The last day this visitor may not book, after the "
            "account's strikes."),
        'get_strikes')
    _session_cache = Cache('zl.mp.visitor.session', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('wechat_mp_openid_unique', Unique(t, t.wechat_mp_openid),
                'zl_miniprogram.msg_openid_unique'),
            ('wechat_oa_openid_unique', Unique(t, t.wechat_oa_openid),
                'zl_miniprogram.msg_openid_unique'),
            ('wechat_unionid_unique', Unique(t, t.wechat_unionid),
                'zl_miniprogram.msg_openid_unique'),
            ]
        # A WeChat visitor has no email: required only for the others.
        cls.email.states = dict(cls.email.states)
        cls.email.states['required'] = (
            Eval('active', True) & ~Eval('wechat_mp_openid')
            & ~Eval('wechat_oa_openid'))

    @classmethod
    def on_modification(cls, mode, users, field_names=None):
        super().on_modification(mode, users, field_names=field_names)
        # A deactivated visitor is refused at once, on every worker.
        cls._session_cache.clear()

    @classmethod
    def get_strikes(cls, users, names):
        "The account's strikes (the IDs' are on each visitor) and the end"
        pool = Pool()
        Strike = pool.get('zl.reservation.strike')
        Configuration = pool.get('zl.reservation.configuration')
        accounts = {u.id: account_of(u.id) for u in users}
        result = {n: {u.id: None for u in users} for n in names}
        if 'strikes' in names:
            found = Strike.of('account', accounts.values())
            result['strikes'] = {
                i: found.get(a, []) for i, a in accounts.items()}
        if 'restricted_until' in names:
            restricted = Strike.restricted_until('account',
                list(accounts.values()), Configuration.now().date())
            result['restricted_until'] = {
                i: restricted.get(a) for i, a in accounts.items()}
        return result

    @property
    def account(self):
        "The visitor account as the booking engine records it"
        return account_of(self.id)

    @classmethod
    @without_check_access
    def wechat_login(cls, app, openid, unionid=None):
        """The visitor of this WeChat openid: found by openid, else linked
        through the unionid to the same person's other app, else created.
        Serialised per openid and unionid so two first logins at once
        make one account."""
        field = APPS[app]
        advisory_lock([lock_key('wechat', openid)]
            + ([lock_key('wechat-union', unionid)] if unionid else []))
        # A disabled visitor is found too, to be refused (not recreated).
        with Transaction().set_context(active_test=False):
            users = cls.search([(field, '=', openid)], limit=1)
            if not users and unionid:
                users = cls.search(
                    [('wechat_unionid', '=', unionid)], limit=1)
        if users and not users[0].active:
            raise ApiError('account_disabled', gettext(
                    'zl_miniprogram.msg_api_account_disabled'), status=403)
        if users:
            user, = users
            values = {}
            if getattr(user, field) != openid:
                values[field] = openid
            if unionid and user.wechat_unionid != unionid:
                values['wechat_unionid'] = unionid
            if values:
                cls.write([user], values)
        else:
            user, = cls.create([{field: openid, 'wechat_unionid': unionid}])
        return user

    @classmethod
    @without_check_access
    def open_session(cls, user, hours):
        "A new session token for user and when it expires (UTC)"
        pool = Pool()
        Session = pool.get('web.user.session')
        key = Session.add(user)
        return key, dt.datetime.utcnow() + dt.timedelta(hours=hours)

    @classmethod
    def session_user(cls, key, hours):
        """The active visitor id of a session token, or None (unknown or
        expired).  Cached per worker: a booking checks its token without
        a query; deactivations and logouts clear the cache everywhere."""
        cached = cls._session_cache.get(key)
        now = dt.datetime.utcnow()
        if cached is None:
            cached = cls._read_session(key)
            cls._session_cache.set(key, cached)
        user_id, created = cached
        if user_id is None or now >= created + dt.timedelta(hours=hours):
            return None
        return user_id

    @classmethod
    def _read_session(cls, key):
        pool = Pool()
        Session = pool.get('web.user.session')
        s, u = Session.__table__(), cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*s.join(u, condition=u.id == s.user).select(
                s.user, s.create_date,
                where=(s.key == key) & (u.active == True)),  # noqa: E712
            )
        row = cursor.fetchone()
        return (row[0], row[1]) if row else (None, None)

    @classmethod
    @without_check_access
    def close_session(cls, key):
        pool = Pool()
        Session = pool.get('web.user.session')
        Session.remove(key)
        cls._session_cache.clear()


def account_of(web_user_id):
    "The booking engine's account string of a visitor (per-user limits)"
    return 'web.user,%d' % web_user_id


class Companion(AuditMixin, ModelSQL, ModelView):
    "常用游客: a visitor's saved companion, ID number masked and hashed"
    __name__ = 'zl.mp.companion'
    __string__ = "Companion"

    web_user = fields.Many2One(
        'web.user', "Visitor", required=True, ondelete='CASCADE',
        readonly=True)
    name = fields.Char("Name", required=True, readonly=True)
    id_type = fields.Selection(
        identity.ID_TYPES, "ID Type", required=True, readonly=True)
    id_masked = fields.Char("ID Number", required=True, readonly=True)
    id_digest = fields.Char("ID Digest", required=True, readonly=True)
    phone = fields.Char("Phone", readonly=True)
    birth_date = fields.Date("Birth Date", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('companion_unique', Unique(t, t.web_user, t.id_digest),
                'zl_miniprogram.msg_companion_unique'),
            ]
        cls._order.insert(0, ('name', 'ASC'))
        cls.id_digest.states = {'invisible': True}

    @classmethod
    def _audit_names(cls, names):
        return [n for n in super()._audit_names(names) if n != 'id_digest']

    @classmethod
    def read(cls, ids, fields_names):
        # The digest identifies a person across bookings: server-only.
        if Transaction().check_access:
            fields_names = [f for f in fields_names if f != 'id_digest']
        return super().read(ids, fields_names)

    @classmethod
    @without_check_access
    def add(cls, web_user, data):
        """Save a companion for the visitor from what they typed, checked
        by the booking engine's rule; the number is kept masked and
        hashed only"""
        pool = Pool()
        Booking = pool.get('zl.booking')
        Configuration = pool.get('zl.reservation.configuration')
        if not isinstance(data, dict) or set(data) - {
                'name', 'id_type', 'id_number', 'phone', 'birth_date'}:
            raise ApiError('invalid_request', gettext(
                    'zl_miniprogram.msg_api_invalid_request'))
        visitor = Booking.check_visitor(data)
        digest = identity.id_digest(Configuration.get_id_secret(),
            visitor['id_type'], visitor['id_number'])
        advisory_lock([lock_key('companions', web_user)])
        existing = cls.search([('web_user', '=', web_user)])
        if any(c.id_digest == digest for c in existing):
            raise ApiError('duplicate_companion', gettext(
                    'zl_miniprogram.msg_api_duplicate_companion'), status=409)
        if len(existing) >= MAX_COMPANIONS:
            raise ApiError('companion_limit', gettext(
                    'zl_miniprogram.msg_api_companion_limit',
                    limit=MAX_COMPANIONS), status=409)
        companion, = cls.create([{
                    'web_user': web_user,
                    'name': visitor['name'],
                    'id_type': visitor['id_type'],
                    'id_masked': identity.mask_id(visitor['id_number']),
                    'id_digest': digest,
                    'phone': visitor['phone'],
                    'birth_date': visitor['birth_date'],
                    }])
        return companion

    def to_dict(self):
        return {
            'id': self.id,
            'name': self.name,
            'id_type': self.id_type,
            'id_number': self.id_masked,
            'phone': self.phone,
            }

    def as_visitor(self):
        "What the booking engine takes of a companion (never the number)"
        return {
            'name': self.name,
            'id_type': self.id_type,
            'id_masked': self.id_masked,
            'id_digest': self.id_digest,
            'phone': self.phone,
            # Kept (unlike the number) for the minors rules and the age
            # band a gate shows.
            'birth_date': self.birth_date,
            }
