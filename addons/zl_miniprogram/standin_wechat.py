# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The stand-in's answers: WeChat's four server calls as WeChat documents
them (the login code chooses the answer, see standin.py) and the web
authorisation page the H5 page sends visitors to, over the state the
StandIn server keeps."""
import base64
import hashlib
import hmac
import http.cookies
import http.server
import io
import json
import logging
import secrets
import time
import urllib.parse

import qrcode

logger = logging.getLogger(__name__)

TOKEN_SECONDS = 7200
MAX_SLEEP = 30
MAX_BODY = 64 * 1024
_KEY = b'zl-wechat-standin'
ENDPOINTS = {
    '/sns/jscode2session': 'jscode2session',
    '/sns/oauth2/access_token': 'oauth2_access_token',
    '/cgi-bin/stable_token': 'stable_token',
    '/wxa/getwxacodeunlimit': 'getwxacodeunlimit',
    '/connect/oauth2/authorize': 'oauth2_authorize',
    }
# Who is in this browser: the authorisation page's own cookie, as WeChat
# knows its user.  Tests choose a person by setting it.
PERSON_COOKIE = 'standin_person'
_SCOPES = {'snsapi_base', 'snsapi_userinfo'}
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


class Handler(http.server.BaseHTTPRequestHandler):
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
        name = ENDPOINTS.get(url.path)
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

    def oauth2_authorize(self, query, body):
        """WeChat's web authorisation: back to redirect_uri with a login
        code of the browser's person (a new one on a first visit); WeChat
        shows its refusals as a page, not JSON"""
        redirect = query.get('redirect_uri') or ''
        target = urllib.parse.urlsplit(redirect)
        if query.get('appid') not in self.server.apps:
            return self.send_page(400, "appid 参数错误")
        if (target.scheme not in {'http', 'https'} or not target.netloc
                or query.get('response_type') != 'code'):
            return self.send_page(400, "redirect_uri 参数错误")
        if query.get('scope') not in _SCOPES:
            return self.send_page(400, "scope 参数错误或没有 scope 权限")
        cookies = http.cookies.SimpleCookie(self.headers.get('Cookie', ''))
        person = cookies[PERSON_COOKIE].value if (
            PERSON_COOKIE in cookies) else 'h5-' + secrets.token_hex(6)
        params = urllib.parse.parse_qsl(target.query) + [
            ('code', 'ok:' + person), ('state', query.get('state', ''))]
        location = urllib.parse.urlunsplit(target._replace(
                query=urllib.parse.urlencode(params), fragment=''))
        self.send_response(302)
        self.send_header('Location', location)
        self.send_header('Set-Cookie', '%s=%s; Path=/; HttpOnly' % (
                PERSON_COOKIE, person))
        self.send_header('Content-Length', '0')
        self.end_headers()

    def send_page(self, status, text):
        body = ('<!DOCTYPE html><html lang="zh-CN"><meta charset="utf-8">'
            '<title>微信网页授权</title><p>%s</p></html>' % text)
        self.send(status, body.encode('utf-8'), 'text/html; charset=utf-8')

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
