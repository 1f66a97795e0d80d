# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The WeChat access token of the mini-program, cached in the database
and shared by all workers.

WeChat gives a limited number of tokens a day and a refresh may end the
previous token's life five minutes later: every worker must use the same
token, and only one of them may refresh it at a time.  On PostgreSQL the
refresh runs in a READ COMMITTED transaction of its own, under an
advisory lock per app, and is committed at once; a worker that waited for
the lock reads the token its peer just stored instead of asking again.
"""
import datetime as dt

from trytond import backend
from trytond.model import ModelSQL, Unique, fields
from trytond.modules.zl_reservation.engine import (
    advisory_lock,
    lock_key,
    read_committed,
)
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from . import wechat

# A token with less left than this is refreshed before use.
MARGIN = dt.timedelta(minutes=5)


class AccessToken(ModelSQL):
    __name__ = 'zl.mp.wechat.token'
    __string__ = "WeChat Access Token"

    appid = fields.Char("AppID", required=True)
    token = fields.Char("Access Token", required=True)
    expires_at = fields.Timestamp("Expires At", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('appid_unique', Unique(t, t.appid),
                'zl_miniprogram.msg_wechat_token_appid_unique'),
            ]

    @classmethod
    def _app(cls):
        "(base URL, appid, secret) of the mini-program"
        Configuration = Pool().get('zl.mp.configuration')
        values = Configuration.values()
        if not values['mp_appid'] or not values['mp_secret']:
            raise wechat.WeChatError('not_configured',
                errmsg="the mini-program AppID or AppSecret is not set")
        return (
            values['wechat_base_url'], values['mp_appid'],
            values['mp_secret'])

    @classmethod
    def _stored(cls, appid):
        records = cls.search([('appid', '=', appid)], limit=1)
        return records[0] if records else None

    @classmethod
    @without_check_access
    def get(cls, force=False, refused=None):
        """The mini-program's access token.

        The stored one while it has more than MARGIN left, else a new one
        from stable_token, stored for every worker.  refused is a token
        WeChat just refused (token_expired): it is replaced, unless
        another worker already did.  force asks WeChat for a new token
        even if the stored one is valid (WeChat allows few a day)."""
        base_url, appid, secret = cls._app()
        if not force and not refused:
            record = cls._stored(appid)
            if record and record.expires_at - dt.datetime.now() > MARGIN:
                return record.token
        transaction = Transaction()
        if (backend.name != 'postgresql'
                or transaction.context.get('_zl_decide')):
            # SQLite has one writer.  A caller already deciding (a visitor
            # route at READ COMMITTED, or a test, never committed) keeps
            # the refresh: the lock still lets one worker refresh, and the
            # others read its token once it commits.
            return cls._refresh(base_url, appid, secret, force, refused)
        with transaction.new_transaction() as own:
            # Nothing was done yet in it: its level can still change.
            own.connection.rollback()
            read_committed(own)
            # Committed when the block ends: other workers see it at once.
            return cls._refresh(base_url, appid, secret, force, refused)

    @classmethod
    def _refresh(cls, base_url, appid, secret, force, refused):
        # One refresher per app; who waited reads what it stored.
        advisory_lock([lock_key(cls.__name__, appid)])
        now = dt.datetime.now()
        record = cls._stored(appid)
        if (record and not force and record.token != refused
                and record.expires_at - now > MARGIN):
            return record.token
        token, expires_in = wechat.stable_token(
            base_url, appid, secret, force_refresh=force)
        if refused and token == refused and not force:
            # WeChat still hands out the token it refused: only a forced
            # refresh replaces it.
            token, expires_in = wechat.stable_token(
                base_url, appid, secret, force_refresh=True)
        # Counted from before the call: never later than WeChat's end.
        values = {
            'token': token,
            'expires_at': now + dt.timedelta(seconds=expires_in),
            }
        if record:
            cls.write([record], values)
        else:
            cls.create([dict(values, appid=appid)])
        return token

    @classmethod
    def wxacode(cls, page, scene, width=430, check_path=False,
            env_version='release'):
        """The image bytes (JPEG by default, as WeChat sends them) of the
        mini-program code opening page with scene, through WeChat's
        getwxacodeunlimit; the token is refreshed once if WeChat refused
        it."""
        # Refused before spending a token on it.
        wechat.check_wxacode_args(page, scene, width, env_version)
        base_url, _, _ = cls._app()
        token = cls.get()
        kwargs = dict(
            width=width, check_path=check_path, env_version=env_version)
        try:
            return wechat.wxacode_unlimit(
                base_url, token, page, scene, **kwargs)
        except wechat.WeChatError as error:
            if error.code != 'token_expired':
                raise
        return wechat.wxacode_unlimit(
            base_url, cls.get(refused=token), page, scene, **kwargs)
