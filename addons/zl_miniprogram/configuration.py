# This file is part of zhonglian-ticketing. See README.md for the licence.
"""小程序设置: the WeChat apps, the seller the visitor API sells through,
the visitor page's address, sessions and rate limits."""
from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.transaction import Transaction, without_check_access

from .exceptions import ConfigurationValidationError

# A secret is write-only: the form shows this placeholder when one is set.
SECRET_SET = '*' * 10
WECHAT_API = 'https://api.weixin.qq.com'
WECHAT_OAUTH = 'https://open.weixin.qq.com'


class Configuration(AuditMixin, ModelSingleton, ModelSQL, ModelView):
    __name__ = 'zl.mp.configuration'
    __string__ = "Mini-Program Configuration"

    seller = fields.Many2One(
        'zl.seller', "Seller", domain=[('kind', '=', 'wechat_mp')],
        help="The mini-program seller (售票员) the visitor API sells "
        "through: its authorised and hidden tickets apply.")
    wechat_base_url = fields.Char(
        "WeChat API Address", required=True,
        help="Base address of WeChat's server API; a local stand-in "
        "for development and tests.")
    wechat_oauth_url = fields.Char(
        "WeChat Web Authorisation Address", required=True,
        help="Base address of WeChat's web authorisation page, where the "
        "H5 page sends visitors to log in; the stand-in for development.")
    mp_appid = fields.Char("Mini-Program AppID")
    mp_secret_value = fields.Char("Mini-Program AppSecret (stored)")
    mp_secret = fields.Function(fields.Char(
            "Mini-Program AppSecret",
            help="Write-only: the secret is never shown back."),
        'get_secret', setter='set_secret')
    oa_appid = fields.Char(
        "Official Account AppID",
        help="For the H5 page opened in WeChat's browser (web OAuth).")
    oa_secret_value = fields.Char("Official Account AppSecret (stored)")
    oa_secret = fields.Function(fields.Char(
            "Official Account AppSecret",
            help="Write-only: the secret is never shown back."),
        'get_secret', setter='set_secret')
    h5_url = fields.Char(
        "Visitor Page Address",
        help="Public address of the H5 visitor page; promotion codes "
        "link to it when WeChat is not configured.")
    promo_page = fields.Char(
        "Promotion Page", required=True,
        help="The mini-program page a promotion QR code opens.")
    session_hours = fields.Integer(
        "Visitor Session Hours", required=True,
        help="How long a visitor stays logged in.")
    rate_ip = fields.Integer(
        "Requests per IP per Minute", required=True,
        help="Public routes; 0 for no limit.")
    rate_token = fields.Integer(
        "Requests per Session per Minute", required=True,
        help="Routes of a logged-in visitor; 0 for no limit.")
    _values_cache = Cache('zl.mp.configuration', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        for name in ['mp_secret_value', 'oa_secret_value']:
            # Never read back by a client, even staff.
            getattr(cls, name).states = {'invisible': True}

    @classmethod
    def default_wechat_base_url(cls):
        return WECHAT_API

    @classmethod
    def default_wechat_oauth_url(cls):
        return WECHAT_OAUTH

    @classmethod
    def default_promo_page(cls):
        return 'pages/promo/index'

    @classmethod
    def default_session_hours(cls):
        return 24 * 7

    @classmethod
    def default_rate_ip(cls):
        return 600

    @classmethod
    def default_rate_token(cls):
        return 120

    @classmethod
    def read(cls, ids, fields_names):
        # The stored secrets never leave the server, whoever asks over
        # RPC (the server itself reads them without access checks).
        if Transaction().check_access:
            fields_names = [f for f in fields_names
                if f not in {'mp_secret_value', 'oa_secret_value'}]
        return super().read(ids, fields_names)

    def get_secret(self, name):
        return SECRET_SET if getattr(self, name + '_value') else None

    @classmethod
    def set_secret(cls, configurations, name, value):
        if value == SECRET_SET:
            return
        cls.write(configurations, {name + '_value': value or None})

    @classmethod
    def validate_fields(cls, configurations, field_names):
        super().validate_fields(configurations, field_names)
        cls.check_numbers(configurations, field_names)

    @classmethod
    def check_numbers(cls, configurations, field_names=None):
        names = {'session_hours', 'rate_ip', 'rate_token'}
        if field_names and not (names & set(field_names)):
            return
        for configuration in configurations:
            if configuration.session_hours <= 0 or min(
                    configuration.rate_ip, configuration.rate_token) < 0:
                raise ConfigurationValidationError(gettext(
                        'zl_miniprogram.msg_configuration_numbers'))

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._values_cache.clear()

    @classmethod
    @without_check_access
    def values(cls):
        """The configuration as a dict, cached: every visitor request
        reads it (cleared on every worker when staff change it)"""
        values = cls._values_cache.get(None)
        if values is None:
            config = cls(1)
            values = {
                'seller': config.seller.id if config.seller else None,
                'wechat_base_url': config.wechat_base_url.rstrip('/'),
                'wechat_oauth_url': config.wechat_oauth_url.rstrip('/'),
                'mp_appid': config.mp_appid,
                'mp_secret': config.mp_secret_value,
                'oa_appid': config.oa_appid,
                'oa_secret': config.oa_secret_value,
                'h5_url': config.h5_url,
                'promo_page': config.promo_page,
                'session_hours': config.session_hours,
                'rate_ip': config.rate_ip,
                'rate_token': config.rate_token,
                }
            cls._values_cache.set(None, values)
        return values
