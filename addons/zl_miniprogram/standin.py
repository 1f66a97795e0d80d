# This file is part of zhonglian-ticketing. See README.md for the licence.
"""A local stand-in for WeChat's servers, for tests and development.

It answers the four calls the visitor API makes as WeChat documents
them: /sns/jscode2session, /sns/oauth2/access_token, /cgi-bin/stable_token
and /wxa/getwxacodeunlimit.  The login code chooses the answer:

    ok:<person>            success, with the person's unionid
    nounion:<person>       success without unionid
    used:...               40163 code been used
    blocked:...            40226 high risk user blocked
    limit:...              45011 minute quota reached
    busy:...               -1 system busy
    slow:<seconds>:<person> success after sleeping
    errcode:<n>            WeChat's error n
    html:...               an HTML page (a proxy's error page)
    http500:...            HTTP 500 with an HTML page
    anything else          40029 invalid code

An openid is the same for the same (appid, person), a unionid the same
for the same person in both apps.  A fault set with POST /_standin/fault
{"fault": "busy" | "errcode:<n>" | "html" | "slow:<s>" ...} applies to
every call until cleared (null) or reset.

Calls are counted per endpoint: GET /_standin/stats, POST /_standin/reset
(counts and fault).  POST /_standin/expire {"token": optional} expires
one access token or all of them.

    python -m trytond.modules.zl_miniprogram.standin --port 8921
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import io
import json
import logging
import secrets
import sys
import threading
import time
import urllib.parse
from collections import Counter

import qrcode

__all__ = ['DEFAULT_APPS', 'StandIn', 'start', 'openid', 'unionid', 'main']

logger = logging.getLogger(__name__)

# Fake credentials for development: ids shaped like WeChat's.
DEFAULT_APPS = {
    'mp': ('wx5a0d1e6b2c3f4a01', '5f4dcc3b5aa765d61d8327deb882cf99'),
    'oa': ('wx5a0d1e6b2c3f4a02', '7c6a180b36896a0a8c02787eeafb0e4c'),
    }
TOKEN_SECONDS = 7200
# WeChat keeps the previous stable token valid this long after a refresh.
OVERLAP_SECONDS = 300
MAX_SLEEP = 30
MAX_BODY = 64 * 1024
_KEY = b'zl-wechat-standin'
_ENDPOINTS = {
    '/sns/jscode2session': 'jscode2session',
    '/sns/oauth2/access_token': 'oauth2_access_token',
    '/cgi-bin/stable_token': 'stable_token',
    '/wxa/getwxacodeunlimit': 'getwxacodeunlimit',
    }
_ERRORS = {
    'used': (40163, "code been used"),
    'blocked': (40226, "high risk user blocked"),
    'limit': (45011, "api minute-quota reach limit  mustslower  retry next "
        "minute"),
    'busy': (-1, "system error"),
    }
_SCENE_CHARS = frozenset(
    '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
    "!#$&'()*+,/:;=?@-._~")
_HTML = (b'<html><head><title>502 Bad Gateway</title></head>'
    b'<body><center><h1>502 Bad Gateway</h1></center></body></html>')


def _digest(*parts):
    message = '\x00'.join(parts).encode('utf-8')
    digest = hmac.new(_KEY, message, hashlib.sha256).digest()
    return 'o' + base64.urlsafe_b64encode(digest).decode('ascii')[:27]


def openid(appid, person):
    "The openid the stand-in gives person in the app appid"
    return _digest('openid', appid, person)


def unionid(person):
    "The unionid the stand-in gives person in every app"
    return _digest('unionid', person)


def _rid():
    return secrets.token_hex(12)


def _qr_image(text, width, png):
    image = qrcode.make(text, border=2).get_image().convert('RGB')
    image = image.resize((width, width))
    output = io.BytesIO()
    image.save(output, format='PNG' if png else 'JPEG')
    return output.getvalue()


class StandIn(http.server.ThreadingHTTPServer):
    "The stand-in server: apps, issued tokens, call counts and fault"
    daemon_threads = True
    pages = frozenset({'pages/index/index', 'pages/promo/index'})

    def __init__(self, address, apps=None):
        super().__init__(address, _Handler)
        apps = dict(DEFAULT_APPS, **(apps or {}))
        # appid -> (secret, kind)
        self.apps = {appid: (secret, kind)
            for kind, (appid, secret) in apps.items()}
        self.lock = threading.Lock()
        self.calls = Counter()
        # token -> (appid, expires at)
        self.tokens = {}
        # appid -> the current stable token
        self.current = {}
        self.fault = None

    def handle_error(self, request, client_address):
        # A client that gave up (a time-out test) is no error.
        if not isinstance(sys.exception(), ConnectionError):
            super().handle_error(request, client_address)

    @property
    def base_url(self):
        host, port = self.server_address[:2]
        return 'http://%s:%s' % (host, port)

    def stats(self):
        with self.lock:
            return {
                'calls': {n: self.calls[n] for n in _ENDPOINTS.values()},
                'tokens': len(self.tokens),
                'fault': self.fault,
                }

    def reset(self):
        with self.lock:
            self.calls.clear()
            self.fault = None

    def set_fault(self, fault):
        "Answer every call as fault says (None: normally)"
        with self.lock:
            self.fault = fault

    def expire(self, token=None):
        "Expire token, or every token; return how many"
        with self.lock:
            tokens = [token] if token else list(self.tokens)
            count = 0
            for token in tokens:
                if token in self.tokens:
                    appid, _ = self.tokens[token]
                    self.tokens[token] = (appid, 0)
                    count += 1
            return count

    def issue_token(self, appid, force_refresh):
        "A stable token and its remaining seconds, as WeChat's rules"
        now = time.time()
        with self.lock:
            token = self.current.get(appid)
            expires = self.tokens.get(token, (None, 0))[1]
            if (not force_refresh
                    and expires - now > OVERLAP_SECONDS):
                return token, int(expires - now)
            if token in self.tokens and expires > now:
                self.tokens[token] = (
                    appid, min(expires, now + OVERLAP_SECONDS))
            token = secrets.token_urlsafe(96)
            self.tokens[token] = (appid, now + TOKEN_SECONDS)
            self.current[appid] = token
            return token, TOKEN_SECONDS

    def check_token(self, token):
        "None for a valid mini-program token, else WeChat's error"
        with self.lock:
            appid, expires = self.tokens.get(token, (None, None))
        if not token:
            return 41001, "access_token missing"
        if appid is None or self.apps.get(appid, (None, None))[1] != 'mp':
            return 40001, ("invalid credential, access_token is invalid "
                "or not latest")
        if expires <= time.time():
            return 42001, "access_token expired"
        return None


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = 'StandIn'
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):
        # The query holds secrets and tokens: the path only.
        logger.debug("%s %s", self.command, self.path.split('?')[0])

    def send(self, status, body, content_type):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, data, content_type=None, status=200):
        content_type = content_type or 'application/json; encoding=utf-8'
        body = json.dumps(data, ensure_ascii=False).encode('utf-8')
        self.send(status, body, content_type)

    def send_error_code(self, errcode, errmsg, **kwargs):
        self.send_json({
                'errcode': errcode,
                'errmsg': '%s, rid: %s' % (errmsg, _rid()),
                }, **kwargs)

    def read_json(self):
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return None
        try:
            data = json.loads(self.rfile.read(length).decode('utf-8'))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        server = self.server
        # Read first: an unread body would spoil the next request of a
        # kept-alive connection.
        body = self.read_json() if self.command == 'POST' else None
        if url.path.startswith('/_standin/'):
            return self.control(url.path, body or {})
        name = _ENDPOINTS.get(url.path)
        if name is None:
            return self.send(404, b'Not Found', 'text/plain')
        with server.lock:
            server.calls[name] += 1
            fault = server.fault
        if fault and self.answer_fault(fault):
            return
        getattr(self, name)(query, body)

    def control(self, path, data):
        server = self.server
        if path == '/_standin/stats' and self.command == 'GET':
            return self.send_json(server.stats())
        if self.command != 'POST':
            return self.send(405, b'Method Not Allowed', 'text/plain')
        if path == '/_standin/reset':
            server.reset()
        elif path == '/_standin/fault':
            server.set_fault(data.get('fault'))
        elif path == '/_standin/expire':
            expired = server.expire(data.get('token'))
            return self.send_json({'expired': expired})
        else:
            return self.send(404, b'Not Found', 'text/plain')
        self.send_json(server.stats())

    def answer_fault(self, fault):
        "Answer as the fault (or the code's kind) says; False for none"
        kind, _, rest = fault.partition(':')
        if kind in _ERRORS:
            self.send_error_code(*_ERRORS[kind])
        elif kind == 'errcode' and rest.lstrip('-').isdigit():
            self.send_error_code(int(rest), "error chosen by the test")
        elif kind == 'html':
            self.send(200, _HTML, 'text/html')
        elif kind == 'http500':
            self.send(500, _HTML, 'text/html')
        elif kind == 'slow':
            seconds, _, _ = rest.partition(':')
            try:
                time.sleep(min(float(seconds), MAX_SLEEP))
            except ValueError:
                pass
            return False
        else:
            return False
        return True

    def check_app(self, appid, secret, kind):
        "None for the right app and secret, else WeChat's error"
        right, app_kind = self.server.apps.get(appid, (None, None))
        if right is None or app_kind != kind:
            return 40013, "invalid appid"
        if not hmac.compare_digest(str(secret or ''), right):
            return 40125, "invalid appsecret"
        return None

    def login(self, query, code_name, kind):
        "The person the code logs in, after answering any refusal"
        if query.get('grant_type') != 'authorization_code':
            self.send_error_code(40002, "invalid grant_type")
            return None
        error = self.check_app(query.get('appid'), query.get('secret'), kind)
        if error:
            self.send_error_code(*error)
            return None
        code = query.get(code_name) or ''
        if not code:
            self.send_error_code(41008, "missing code")
            return None
        kind, _, person = code.partition(':')
        if kind == 'slow':
            _, _, person = person.partition(':')
            self.answer_fault(code)
        elif kind not in {'ok', 'nounion'} and self.answer_fault(code):
            return None
        if kind not in {'ok', 'nounion', 'slow'} or not person:
            self.send_error_code(40029, "invalid code")
            return None
        return person, kind != 'nounion'

    def jscode2session(self, query, body):
        result = self.login(query, 'js_code', 'mp')
        if result:
            person, with_union = result
            data = {
                'session_key': base64.b64encode(
                    secrets.token_bytes(16)).decode('ascii'),
                'openid': openid(query['appid'], person),
                }
            if with_union:
                data['unionid'] = unionid(person)
            # WeChat answers this call as text/plain.
            self.send_json(data, content_type='text/plain')

    def oauth2_access_token(self, query, body):
        result = self.login(query, 'code', 'oa')
        if result:
            person, with_union = result
            data = {
                'access_token': secrets.token_urlsafe(64),
                'expires_in': TOKEN_SECONDS,
                'refresh_token': secrets.token_urlsafe(64),
                'openid': openid(query['appid'], person),
                'scope': 'snsapi_base',
                'is_snapshotuser': 0,
                }
            if with_union:
                data['unionid'] = unionid(person)
            self.send_json(data)

    def stable_token(self, query, body):
        if body is None:
            return self.send_error_code(47001, "data format error")
        if body.get('grant_type') != 'client_credential':
            return self.send_error_code(40002, "invalid grant_type")
        appid = body.get('appid')
        kind = self.server.apps.get(appid, (None, None))[1]
        error = self.check_app(appid, body.get('secret'), kind)
        if error:
            return self.send_error_code(*error)
        token, expires_in = self.server.issue_token(
            appid, body.get('force_refresh') is True)
        self.send_json({'access_token': token, 'expires_in': expires_in})

    def getwxacodeunlimit(self, query, body):
        error = self.server.check_token(query.get('access_token'))
        if error:
            return self.send_error_code(*error)
        if body is None:
            return self.send_error_code(47001, "data format error")
        scene, page = body.get('scene'), body.get('page') or ''
        if (not isinstance(scene, str) or not 1 <= len(scene) <= 32
                or not set(scene) <= _SCENE_CHARS):
            return self.send_error_code(40169, "invalid length for scene, "
                "or the data is not json string")
        if (not isinstance(page, str) or page.startswith('/') or '?' in page
                or (body.get('check_path', True)
                    and page not in self.server.pages)):
            return self.send_error_code(41030, "invalid page")
        env_version = body.get('env_version', 'release')
        if env_version not in {'release', 'trial', 'develop'}:
            return self.send_error_code(40097, "invalid args")
        width = body.get('width', 430)
        if isinstance(width, bool) or not isinstance(width, int):
            return self.send_error_code(40097, "invalid args")
        width = min(max(width, 280), 1280)
        text = 'https://mp.weixin.qq.com/a/%s?scene=%s' % (
            page, urllib.parse.quote(scene, safe=''))
        # A transparent code is PNG, the default one JPEG.
        png = body.get('is_hyaline') is True
        self.send(200, _qr_image(text, width, png),
            'image/png' if png else 'image/jpeg')


def start(host='127.0.0.1', port=0, apps=None):
    """Serve a stand-in in a daemon thread; return (server, base_url).

    apps: {'mp': (appid, secret), 'oa': (appid, secret)}, DEFAULT_APPS
    for the missing ones.  Stop it with server.shutdown() then
    server.server_close()."""
    server = StandIn((host, port), apps=apps)
    thread = threading.Thread(
        target=server.serve_forever, name='wechat-standin', daemon=True)
    thread.start()
    return server, server.base_url


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="A local stand-in for WeChat's server API")
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8921)
    for kind, name in [('mp', "mini-program"), ('oa', "Official Account")]:
        appid, secret = DEFAULT_APPS[kind]
        parser.add_argument('--%s-appid' % kind, default=appid,
            help="%s AppID (default %s)" % (name, appid))
        parser.add_argument('--%s-secret' % kind, default=secret,
            help="%s AppSecret (default %s)" % (name, secret))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    server = StandIn((args.host, args.port), apps={
            'mp': (args.mp_appid, args.mp_secret),
            'oa': (args.oa_appid, args.oa_secret),
            })
    print("WeChat stand-in on %s" % server.base_url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == '__main__':
    main()
