# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Visitor login through WeChat: a login code exchanged for the openid
(mini-program `jscode2session`, or the Official Account's web OAuth for
the H5 page), then a visitor session.  WeChat's answers map to the API's
codes; the session_key never leaves this function."""
import json

from trytond.modules.zl_reservation.engine import MAX_TEXT
from trytond.pool import Pool

from . import wechat
from .api import error, iso, values

# WeChat's refusal → (the API's code, HTTP status)
WECHAT_STATUS = {
    'invalid_code': ('invalid_code', 400),
    'rate_limited': ('rate_limited', 429),
    'wechat_unavailable': ('wechat_unavailable', 503),
    }


def login(app, code, remote_addr=None):
    """A session for the visitor of a WeChat login code: {token,
    expires_at}.  app: 'mp' (mini-program) or 'oa' (Official Account)."""
    pool = Pool()
    WebUser = pool.get('web.user')
    if not isinstance(code, str) or not 0 < len(code) <= MAX_TEXT:
        raise error('invalid_request', 400)
    config = values()
    appid, secret = config[app + '_appid'], config[app + '_secret']
    if not appid or not secret:
        raise error('wechat_not_configured', 503)
    exchange = (
        wechat.jscode2session if app == 'mp' else wechat.oauth_access_token)
    try:
        answer = exchange(config['wechat_base_url'], appid, secret, code)
    except wechat.WeChatError as exception:
        code_, status = WECHAT_STATUS.get(
            exception.code, ('wechat_error', 502))
        headers = {'Retry-After': '60'} if status == 429 else None
        raise error(code_, status, headers=headers)
    # Not kept, not logged, not answered: the client never needs it.
    answer.pop('session_key', None)
    user = WebUser.wechat_login(app, answer['openid'], answer.get('unionid'))
    token, expires = WebUser.open_session(user, config['session_hours'])
    WebUser.log([user], 'login', login=user.account, ip_address=remote_addr,
        changes=json.dumps([['app', None, app]]))
    return {'token': token, 'expires_at': iso(expires, utc=True)}
