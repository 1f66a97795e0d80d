# This file is part of zhonglian-ticketing. See README.md for the licence.
"""A small client for WeChat's server API (no Tryton import).

Four calls: the mini-program login (jscode2session), the Official
Account web OAuth (snsapi_base), the stable access token and the
unlimited mini-program code (getwxacodeunlimit).  Every failure is a
WeChatError with one of the stable codes of ERROR_CODES.

The URLs carry the app secret, the login code or the access token: no
message, log line or repr built here contains a URL or a query, only the
path, and the exceptions of urllib (whose attributes hold the URL) are
never chained to a WeChatError.
"""
import http.client
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

__all__ = [
    'ERROR_CODES', 'WeChatError', 'check_wxacode_args', 'is_valid_scene',
    'jscode2session',
    'oauth_access_token', 'stable_token', 'wxacode_unlimit']

logger = logging.getLogger(__name__)

ERROR_CODES = (
    'invalid_code', 'rate_limited', 'wechat_unavailable', 'token_expired',
    'wechat_error',
    # Raised by the callers that read the app from the configuration.
    'not_configured')
_ERRCODES = {
    40029: 'invalid_code',  # invalid code
    40163: 'invalid_code',  # code been used
    40226: 'invalid_code',  # high risk user blocked
    45011: 'rate_limited',  # api minute-quota reach limit
    -1: 'wechat_unavailable',  # system error (busy)
    40001: 'token_expired',  # invalid credential
    40014: 'token_expired',  # invalid access_token
    42001: 'token_expired',  # access_token expired
    }
# getwxacodeunlimit's scene: at most 32 visible characters of this set.
SCENE_CHARS = frozenset(
    '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
    "!#$&'()*+,/:;=?@-._~")
SCENE_MAX = 32
ENV_VERSIONS = ('release', 'trial', 'develop')
# A QR image is some tens of kilobytes; JSON answers a few hundred bytes.
MAX_BODY = 4 * 1024 * 1024
_IMAGE_MAGIC = (b'\x89PNG\r\n\x1a\n', b'\xff\xd8\xff')
_ERRMSG_MAX = 200
_USER_AGENT = 'zhonglian-ticketing'
_SECRET_KEYS = ('access_token', 'refresh_token', 'session_key')


class WeChatError(Exception):
    """A refused or failed call to WeChat.

    code: one of ERROR_CODES; errcode: WeChat's int or None (time-out,
    connection, unexpected answer); errmsg: WeChat's text or ours."""

    def __init__(self, code, errcode=None, errmsg=None, path=None):
        self.code = code
        self.errcode = errcode
        self.errmsg = errmsg
        self.path = path
        message = code
        if path:
            message = '%s %s' % (path, message)
        if errcode is not None:
            message += ' (errcode %s: %s)' % (errcode, errmsg)
        elif errmsg:
            message += ' (%s)' % errmsg
        super().__init__(message)

    def __reduce__(self):
        return (self.__class__,
            (self.code, self.errcode, self.errmsg, self.path))


def _fail(code, errmsg, path, errcode=None):
    "Log and raise a WeChatError"
    error = WeChatError(code, errcode=errcode, errmsg=errmsg, path=path)
    # A visitor's bad code is routine; WeChat or our set-up failing is not.
    level = (logging.INFO if code in {'invalid_code', 'rate_limited'}
        else logging.WARNING)
    logger.log(level, "WeChat call failed: %s", error)
    raise error


def is_valid_scene(scene):
    "Whether scene is accepted by getwxacodeunlimit"
    return (isinstance(scene, str)
        and 1 <= len(scene) <= SCENE_MAX
        and all(c in SCENE_CHARS for c in scene))


def _scrub(text, secrets):
    "WeChat's errmsg, short, without any of the secrets"
    text = str(text)[:_ERRMSG_MAX]
    for secret in secrets:
        if secret:
            text = text.replace(str(secret), '***')
    return text


def _call(base_url, path, query, body=None, timeout=5, secrets=()):
    """Call path and return (content type, body bytes).

    Raise WeChatError('wechat_unavailable') on time-outs, connection
    errors and HTTP 5xx, WeChatError('wechat_error') on other HTTP
    errors."""
    url = base_url.rstrip('/') + path
    if query:
        url += '?' + urllib.parse.urlencode(query)
    headers = {'User-Agent': _USER_AGENT}
    data = None
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode('utf-8')
        headers['Content-Type'] = 'application/json'
    failure = None
    try:
        # Inside: a malformed base URL raises ValueError here.
        request = urllib.request.Request(url, data=data, headers=headers)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = response.headers.get('Content-Type', '')
            content = response.read(MAX_BODY + 1)
    except urllib.error.HTTPError as exception:
        status = exception.code
        exception.close()
        code = 'wechat_unavailable' if status >= 500 else 'wechat_error'
        failure = code, 'HTTP %s' % status
    except (urllib.error.URLError, http.client.HTTPException,
            OSError, ValueError) as exception:
        # Only a fixed text: the text of ValueError and InvalidURL holds
        # the URL.
        reason = getattr(exception, 'reason', exception)
        if isinstance(reason, TimeoutError):
            reason = 'timed out'
        elif isinstance(reason, OSError) and reason.strerror:
            reason = reason.strerror
        elif isinstance(reason, ValueError):
            reason = 'invalid address'
        else:
            reason = 'connection failed'
        failure = 'wechat_unavailable', reason
    if failure is not None:
        # Raised outside the except clause: nothing chains the urllib
        # exception, whose attributes hold the URL.
        _fail(*failure, path)
    if len(content) > MAX_BODY:
        _fail('wechat_unavailable', "answer too large", path)
    return content_type.split(';')[0].strip().lower(), content


def _json(path, content, secrets):
    """The JSON object of content, raising its WeChatError.

    The content type is not checked: WeChat answers jscode2session as
    text/plain.  A missing or 0 errcode is a success."""
    try:
        data = json.loads(content.decode('utf-8'))
    except ValueError:
        data = None
    if not isinstance(data, dict):
        _fail('wechat_unavailable', "not a JSON object", path)
    errcode = data.get('errcode', 0)
    if errcode in (0, None):
        return data
    if isinstance(errcode, bool) or not isinstance(errcode, int):
        _fail('wechat_unavailable', "unexpected errcode", path)
    # The answer's own tokens are secrets too.
    secrets += tuple(data.get(n) for n in _SECRET_KEYS)
    _fail(_ERRCODES.get(errcode, 'wechat_error'),
        _scrub(data.get('errmsg', ''), secrets), path, errcode=errcode)


def _text(path, data, *names):
    "The non-empty strings names of data or a WeChatError"
    values = [data.get(n) for n in names]
    if not all(isinstance(v, str) and v for v in values):
        _fail('wechat_unavailable',
            "answer without %s" % ', '.join(names), path)
    return values


def _with_unionid(result, data):
    unionid = data.get('unionid')
    if isinstance(unionid, str) and unionid:
        result['unionid'] = unionid
    return result


def jscode2session(base_url, appid, secret, code, *, timeout=5):
    """Exchange a mini-program login code.

    Return {'openid', 'session_key'} and 'unionid' when WeChat sent
    it."""
    path = '/sns/jscode2session'
    secrets = (secret, code)
    _, content = _call(base_url, path, {
            'appid': appid,
            'secret': secret,
            'js_code': code,
            'grant_type': 'authorization_code',
            }, timeout=timeout, secrets=secrets)
    data = _json(path, content, secrets)
    openid, session_key = _text(path, data, 'openid', 'session_key')
    return _with_unionid(
        {'openid': openid, 'session_key': session_key}, data)


def oauth_access_token(base_url, appid, secret, code, *, timeout=5):
    """Exchange an Official Account web OAuth code (snsapi_base).

    Return {'openid'} and 'unionid' when WeChat sent it; the user access
    token of the answer is not needed for snsapi_base and is dropped."""
    path = '/sns/oauth2/access_token'
    secrets = (secret, code)
    _, content = _call(base_url, path, {
            'appid': appid,
            'secret': secret,
            'code': code,
            'grant_type': 'authorization_code',
            }, timeout=timeout, secrets=secrets)
    data = _json(path, content, secrets)
    openid, = _text(path, data, 'openid')
    return _with_unionid({'openid': openid}, data)


def stable_token(base_url, appid, secret, force_refresh=False, *,
        timeout=5):
    "Return (access_token, expires_in seconds) of the app"
    path = '/cgi-bin/stable_token'
    secrets = (secret,)
    _, content = _call(base_url, path, None, body={
            'grant_type': 'client_credential',
            'appid': appid,
            'secret': secret,
            'force_refresh': bool(force_refresh),
            }, timeout=timeout, secrets=secrets)
    data = _json(path, content, secrets)
    token, = _text(path, data, 'access_token')
    expires_in = data.get('expires_in')
    if (isinstance(expires_in, bool) or not isinstance(expires_in, int)
            or expires_in <= 0):
        _fail('wechat_unavailable', "answer without expires_in", path)
    return token, expires_in


def check_wxacode_args(page, scene, width=430, env_version='release'):
    """Raise ValueError for a scene WeChat would refuse (1 to 32
    characters of SCENE_CHARS), a page with a leading / or a query, a
    width outside 280-1280 or an unknown env_version"""
    if not is_valid_scene(scene):
        raise ValueError("scene must be 1 to %d characters of %s" % (
                SCENE_MAX, ''.join(sorted(SCENE_CHARS))))
    if (not isinstance(page, str) or page.startswith('/')
            or '?' in page or not page):
        raise ValueError("page must be a path without leading / or query")
    if (isinstance(width, bool) or not isinstance(width, int)
            or not 280 <= width <= 1280):
        raise ValueError("width must be between 280 and 1280")
    if env_version not in ENV_VERSIONS:
        raise ValueError("env_version must be one of %s" % (ENV_VERSIONS,))


def wxacode_unlimit(base_url, access_token, page, scene, width=430,
        check_path=False, env_version='release', *, timeout=5):
    """Return the image bytes (JPEG, or PNG) of the mini-program code that
    opens page with scene.

    Raise ValueError as check_wxacode_args."""
    check_wxacode_args(page, scene, width, env_version)
    path = '/wxa/getwxacodeunlimit'
    secrets = (access_token,)
    content_type, content = _call(
        base_url, path, {'access_token': access_token}, body={
            'scene': scene,
            'page': page,
            'width': width,
            'check_path': bool(check_path),
            'env_version': env_version,
            }, timeout=timeout, secrets=secrets)
    if content_type.startswith('image/'):
        if not content.startswith(_IMAGE_MAGIC):
            _fail('wechat_unavailable', "not a PNG or JPEG image", path)
        return content
    # Failure is JSON, whatever its content type says; a JSON answer
    # without an errcode is no image either.
    _json(path, content, secrets)
    _fail('wechat_unavailable', "no image in the answer", path)
