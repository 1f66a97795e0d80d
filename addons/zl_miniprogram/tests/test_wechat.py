# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The WeChat client against the stand-in (no database): every answer
WeChat documents, time-outs and broken answers, secrets kept out of
errors and logs."""
import http.server
import io
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from PIL import Image

from trytond.modules.zl_miniprogram import standin, wechat
from trytond.modules.zl_miniprogram.wechat import WeChatError

MP_APPID, MP_SECRET = standin.DEFAULT_APPS['mp']
OA_APPID, OA_SECRET = standin.DEFAULT_APPS['oa']
PAGE = 'pages/promo/index'
SCENE_CHARS = ("0123456789abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$&'()*+,/:;=?@-._~")


@pytest.fixture(scope='module')
def server():
    server, base_url = standin.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def wx(server):
    "The stand-in's base URL, with fresh counts and no fault"
    server.reset()
    yield server.base_url
    server.reset()


def login(base_url, code, **kwargs):
    return wechat.jscode2session(base_url, MP_APPID, MP_SECRET, code, **kwargs)


def oauth(base_url, code, **kwargs):
    return wechat.oauth_access_token(
        base_url, OA_APPID, OA_SECRET, code, **kwargs)


def token(base_url, **kwargs):
    return wechat.stable_token(base_url, MP_APPID, MP_SECRET, **kwargs)


def refused(call, *args, **kwargs):
    with pytest.raises(WeChatError) as info:
        call(*args, **kwargs)
    return info.value


def test_login_success(wx):
    "An openid per app and person, one unionid per person"
    alice = login(wx, 'ok:alice')
    assert set(alice) == {'openid', 'session_key', 'unionid'}
    assert alice['openid'] == standin.openid(MP_APPID, 'alice')
    assert len(alice['openid']) == 28 and alice['openid'][0] == 'o'
    assert login(wx, 'ok:alice')['openid'] == alice['openid']
    assert login(wx, 'ok:bob')['openid'] != alice['openid']

    web = oauth(wx, 'ok:alice')
    assert set(web) == {'openid', 'unionid'}
    assert web['openid'] == standin.openid(OA_APPID, 'alice')
    assert web['openid'] != alice['openid']
    assert web['unionid'] == alice['unionid'] == standin.unionid('alice')


def test_login_without_unionid(wx):
    assert set(login(wx, 'nounion:carol')) == {'openid', 'session_key'}
    assert set(oauth(wx, 'nounion:carol')) == {'openid'}


@pytest.mark.parametrize('call', [login, oauth])
@pytest.mark.parametrize('code, errcode, error_code', [
        ('used:x', 40163, 'invalid_code'),
        ('blocked:x', 40226, 'invalid_code'),
        ('whatever', 40029, 'invalid_code'),
        ('ok:', 40029, 'invalid_code'),
        ('limit:x', 45011, 'rate_limited'),
        ('busy:x', -1, 'wechat_unavailable'),
        ])
def test_login_refused(wx, call, code, errcode, error_code):
    error = refused(call, wx, code)
    assert (error.code, error.errcode) == (error_code, errcode)
    assert error.errmsg


@pytest.mark.parametrize('errcode, error_code', [
        (40029, 'invalid_code'), (40163, 'invalid_code'),
        (40226, 'invalid_code'), (45011, 'rate_limited'),
        (-1, 'wechat_unavailable'), (40001, 'token_expired'),
        (42001, 'token_expired'), (40014, 'token_expired'),
        (40013, 'wechat_error'), (40125, 'wechat_error'),
        (41030, 'wechat_error'), (40169, 'wechat_error'),
        ])
def test_errcode_mapping(wx, server, errcode, error_code):
    "Every call maps WeChat's errcode to the same code"
    server.set_fault('errcode:%s' % errcode)
    calls = [
        lambda: login(wx, 'ok:alice'),
        lambda: oauth(wx, 'ok:alice'),
        lambda: token(wx),
        lambda: wechat.wxacode_unlimit(wx, 'token', PAGE, 'G1'),
        ]
    for call in calls:
        error = refused(call)
        assert (error.code, error.errcode) == (error_code, errcode)


def test_wrong_app(wx):
    "Wrong appid or secret, or the other app's id: WeChat's 40013/40125"
    error = refused(wechat.jscode2session, wx, MP_APPID, 'nope', 'ok:a')
    assert (error.code, error.errcode) == ('wechat_error', 40125)
    error = refused(wechat.jscode2session, wx, 'wx0', MP_SECRET, 'ok:a')
    assert error.errcode == 40013
    error = refused(wechat.jscode2session, wx, OA_APPID, OA_SECRET, 'ok:a')
    assert error.errcode == 40013
    error = refused(wechat.oauth_access_token, wx, OA_APPID, 'no', 'ok:a')
    assert error.errcode == 40125
    error = refused(wechat.stable_token, wx, MP_APPID, 'nope')
    assert error.errcode == 40125


def test_slow_answer(wx):
    "A slow WeChat is unavailable after the time-out, fine before"
    start = time.monotonic()
    error = refused(login, wx, 'slow:2:dave', timeout=0.3)
    assert time.monotonic() - start < 1.5
    assert (error.code, error.errcode) == ('wechat_unavailable', None)
    assert 'timed out' in str(error)
    assert login(wx, 'slow:0.1:dave', timeout=2)['openid'] == (
        standin.openid(MP_APPID, 'dave'))


@pytest.mark.parametrize('code', ['html:x', 'http500:x'])
def test_not_wechat_answer(wx, code):
    "A proxy's HTML page, with 200 or 500: unavailable, never a crash"
    for call in [login, oauth]:
        error = refused(call, wx, code)
        assert (error.code, error.errcode) == ('wechat_unavailable', None)


@pytest.mark.parametrize('fault', ['html', 'http500', 'busy', 'slow:2'])
def test_faults_on_tokens(wx, server, fault):
    server.set_fault(fault)
    error = refused(token, wx, timeout=0.3)
    assert error.code == 'wechat_unavailable'


def test_connection_refused():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    error = refused(login, 'http://127.0.0.1:%s' % port, 'ok:a')
    assert (error.code, error.errcode) == ('wechat_unavailable', None)
    error = refused(login, 'nowhere', 'ok:a')
    assert error.code == 'wechat_unavailable'


def test_stable_token(wx, server):
    "The same token while valid; a forced refresh replaces it"
    first, expires_in = token(wx)
    assert expires_in == 7200 and len(first) > 32
    assert token(wx)[0] == first
    second, _ = token(wx, force_refresh=True)
    assert second != first
    assert token(wx)[0] == second
    assert server.stats()['calls']['stable_token'] == 4


def test_wxacode_image(wx):
    "Success is a QR image of the page and scene"
    import zxingcpp
    access_token, _ = token(wx)
    scene = 'G1!#$&()*+,/:;=?@-._~'
    content = wechat.wxacode_unlimit(wx, access_token, PAGE, scene)
    image = Image.open(io.BytesIO(content))
    assert image.format == 'JPEG' and image.size == (430, 430)
    result, = zxingcpp.read_barcodes(image)
    assert result.text == (
        'https://mp.weixin.qq.com/a/pages/promo/index?scene='
        + urllib.parse.quote(scene, safe=''))
    content = wechat.wxacode_unlimit(wx, access_token, PAGE, 'a', width=280)
    assert Image.open(io.BytesIO(content)).size == (280, 280)


def test_wxacode_token_refused(wx, server):
    "An unknown or expired token: token_expired"
    error = refused(wechat.wxacode_unlimit, wx, 'forged', PAGE, 'G1')
    assert (error.code, error.errcode) == ('token_expired', 40001)
    access_token, _ = token(wx)
    assert server.expire(access_token) == 1
    error = refused(wechat.wxacode_unlimit, wx, access_token, PAGE, 'G1')
    assert (error.code, error.errcode) == ('token_expired', 42001)
    # A token of the Official Account is no mini-program token.
    oa_token, _ = wechat.stable_token(wx, OA_APPID, OA_SECRET)
    error = refused(wechat.wxacode_unlimit, wx, oa_token, PAGE, 'G1')
    assert error.errcode == 40001


def test_wxacode_check_path(wx):
    "check_path: the stand-in knows the published pages"
    access_token, _ = token(wx)
    error = refused(wechat.wxacode_unlimit, wx, access_token,
        'pages/nowhere/index', 'G1', check_path=True)
    assert (error.code, error.errcode) == ('wechat_error', 41030)
    assert wechat.wxacode_unlimit(
        wx, access_token, 'pages/nowhere/index', 'G1')


@pytest.mark.parametrize('scene', [
        '', 'x' * 33, '中文', 'a b', 'a%b', 'a"b', '<a>', 'a\\b', 'a\nb',
        None, 12])
def test_scene_refused(wx, server, scene):
    "A scene WeChat would refuse is a ValueError before any call"
    assert not wechat.is_valid_scene(scene)
    with pytest.raises(ValueError):
        wechat.wxacode_unlimit(wx, 'token', PAGE, scene)
    assert server.stats()['calls']['getwxacodeunlimit'] == 0


@pytest.mark.parametrize('scene', ['a', 'x' * 32, SCENE_CHARS[:32],
        SCENE_CHARS[32:64], SCENE_CHARS[-32:]])
def test_scene_accepted(scene):
    assert wechat.is_valid_scene(scene)


@pytest.mark.parametrize('kwargs', [
        {'page': '/pages/promo/index'}, {'page': 'pages/promo/index?x=1'},
        {'page': ''}, {'width': 279}, {'width': 1281},
        {'env_version': 'beta'}])
def test_wxacode_arguments(kwargs):
    values = dict(page=PAGE, scene='G1')
    values.update(kwargs)
    with pytest.raises(ValueError):
        wechat.check_wxacode_args(**values)


class Fake(http.server.BaseHTTPRequestHandler):
    "Answers what the test put in server.answer: (status, type, body)"

    def do_GET(self):
        status, content_type, body = self.server.answer
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def fake():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def fake_url(server):
    return 'http://127.0.0.1:%s' % server.server_address[1]


def png():
    output = io.BytesIO()
    Image.new('L', (8, 8)).save(output, format='PNG')
    return output.getvalue()


def test_wxacode_content_type(fake):
    "The content type decides: never JSON read as image nor image as JSON"
    base_url = fake_url(fake)
    fake.answer = (200, 'image/png', png())
    assert wechat.wxacode_unlimit(base_url, 't', PAGE, 'G1') == png()
    fake.answer = (200, 'image/jpeg', b'{"errcode": 40001}')
    error = refused(wechat.wxacode_unlimit, base_url, 't', PAGE, 'G1')
    assert error.code == 'wechat_unavailable'
    fake.answer = (200, 'application/json', png())
    error = refused(wechat.wxacode_unlimit, base_url, 't', PAGE, 'G1')
    assert error.code == 'wechat_unavailable'
    fake.answer = (200, 'application/json', b'{"errcode": 0}')
    error = refused(wechat.wxacode_unlimit, base_url, 't', PAGE, 'G1')
    assert error.code == 'wechat_unavailable'
    fake.answer = (200, 'text/plain', b'{"errcode": 45011, "errmsg": "x"}')
    error = refused(wechat.wxacode_unlimit, base_url, 't', PAGE, 'G1')
    assert (error.code, error.errcode) == ('rate_limited', 45011)


@pytest.mark.parametrize('answer', [
        (200, 'application/json', b'[]'),
        (200, 'application/json', b'{"errcode": "40029"}'),
        (200, 'application/json', b'{"openid": 5, "session_key": "k"}'),
        (200, 'application/json', b'{"session_key": "k"}'),
        (200, 'application/json', b'\xff\xfe'),
        (404, 'text/html', b'<html>Not found</html>'),
        ])
def test_unexpected_answer(fake, answer):
    fake.answer = answer
    error = refused(login, fake_url(fake), 'ok:a')
    expected = 'wechat_error' if answer[0] == 404 else 'wechat_unavailable'
    assert error.code == expected
    assert error.errcode is None


def test_unexpected_token_answer(fake):
    fake.answer = (200, 'application/json', b'{"access_token": "t"}')
    assert refused(token, fake_url(fake)).code == 'wechat_unavailable'
    fake.answer = (200, 'application/json',
        b'{"access_token": "t", "expires_in": 0}')
    assert refused(token, fake_url(fake)).code == 'wechat_unavailable'


def assert_clean(error, caplog, *secrets):
    texts = [str(error), repr(error), str(error.errmsg), caplog.text]
    for secret in secrets:
        assert all(secret not in text for text in texts), secret
    # urllib's exceptions hold the URL: none is chained.
    assert error.__cause__ is None and error.__context__ is None


def test_secrets_kept_out(wx, fake, caplog):
    "No secret, session key or token in an error, its repr or the log"
    caplog.set_level(logging.DEBUG)
    for code in ['used:x', 'busy:x', 'html:x', 'http500:x']:
        assert_clean(refused(login, wx, code), caplog, MP_SECRET)
        assert_clean(refused(oauth, wx, code), caplog, OA_SECRET)
    error = refused(login, wx, 'slow:1:x', timeout=0.2)
    assert_clean(error, caplog, MP_SECRET, 'slow:1:x')
    access_token, _ = token(wx)
    error = refused(
        wechat.wxacode_unlimit, wx, access_token + 'x', PAGE, 'G1')
    assert_clean(error, caplog, access_token)

    # Even a WeChat that echoes them in its errmsg.
    fake.answer = (200, 'application/json', json.dumps({
                'errcode': 40029, 'session_key': 'SESSIONKEY',
                'errmsg': 'bad %s %s SESSIONKEY' % (MP_SECRET, 'ok:me'),
                }).encode())
    error = refused(login, fake_url(fake), 'ok:me')
    assert_clean(error, caplog, MP_SECRET, 'SESSIONKEY', 'ok:me')
    fake.answer = (200, 'application/json', json.dumps({
                'session_key': 'SESSIONKEY', 'openid': ''}).encode())
    error = refused(login, fake_url(fake), 'ok:me')
    assert_clean(error, caplog, MP_SECRET, 'SESSIONKEY')
    fake.answer = (500, 'text/html', b'<html></html>')
    error = refused(wechat.wxacode_unlimit, fake_url(fake), 'TOKEN1234',
        PAGE, 'G1')
    assert_clean(error, caplog, 'TOKEN1234')
    # The log says which call failed.
    assert '/sns/jscode2session' in caplog.text


def test_stats(wx, server):
    "Counted per endpoint, readable and resettable over HTTP"
    login(wx, 'ok:a')
    refused(login, wx, 'used:a')
    oauth(wx, 'ok:a')
    access_token, _ = token(wx)
    wechat.wxacode_unlimit(wx, access_token, PAGE, 'G1')
    with urllib.request.urlopen(wx + '/_standin/stats') as response:
        stats = json.load(response)
    assert stats['calls'] == {
        'jscode2session': 2, 'oauth2_access_token': 1, 'stable_token': 1,
        'getwxacodeunlimit': 1, 'oauth2_authorize': 0}
    request = urllib.request.Request(wx + '/_standin/reset', data=b'{}')
    with urllib.request.urlopen(request) as response:
        stats = json.load(response)
    assert set(stats['calls'].values()) == {0}
    request = urllib.request.Request(wx + '/_standin/expire', data=b'{}')
    with urllib.request.urlopen(request) as response:
        assert json.load(response)['expired'] >= 1
    error = refused(wechat.wxacode_unlimit, wx, access_token, PAGE, 'G1')
    assert error.code == 'token_expired'


def test_command_line(tmp_path):
    "python -m ...standin serves with the apps given"
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, '-m',
            'trytond.modules.zl_miniprogram.standin', '--port', str(port),
            '--mp-appid', 'wxcli', '--mp-secret', 'clisecret'],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONUNBUFFERED='1'))
    try:
        assert 'WeChat stand-in on' in process.stdout.readline().decode()
        base_url = 'http://127.0.0.1:%s' % port
        result = wechat.jscode2session(base_url, 'wxcli', 'clisecret', 'ok:e')
        assert result['openid'] == standin.openid('wxcli', 'e')
        error = refused(login, base_url, 'ok:e')
        assert error.errcode == 40013
    finally:
        process.terminate()
        process.wait(10)
