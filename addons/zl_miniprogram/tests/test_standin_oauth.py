# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The stand-in's web authorisation page (where the H5 page sends a
visitor to log in): WeChat's redirect back with a code of the browser's
person, its refusals as pages, and the code logging in through the
client as WeChat's would."""
import urllib.error
import urllib.parse
import urllib.request

import pytest

from trytond.modules.zl_miniprogram import standin, wechat

OA_APPID, OA_SECRET = standin.DEFAULT_APPS['oa']
PAGE = 'http://127.0.0.1:8000/demo/zl_mp/h5/'


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope='module')
def server():
    server, base_url = standin.start()
    yield server
    server.shutdown()
    server.server_close()


def authorize(server, cookie=None, **params):
    "(status, headers, body) of the authorisation page, not followed"
    query = dict(appid=OA_APPID, redirect_uri=PAGE, response_type='code',
        scope='snsapi_base', state='s1')
    query.update(params)
    query = {k: v for k, v in query.items() if v is not None}
    request = urllib.request.Request('%s/connect/oauth2/authorize?%s' % (
            server.base_url, urllib.parse.urlencode(query)))
    if cookie:
        request.add_header('Cookie', cookie)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def back(headers):
    "The query of the address the stand-in sends the browser back to"
    location = urllib.parse.urlsplit(headers['Location'])
    return location, dict(urllib.parse.parse_qsl(location.query))


def test_redirect_with_code_and_state(server):
    status, headers, _ = authorize(server, state='xyz')
    assert status == 302
    location, query = back(headers)
    assert location._replace(query='').geturl() == PAGE
    assert query['state'] == 'xyz'
    assert query['code'].startswith('ok:h5-')


def test_same_browser_same_person(server):
    "The cookie it sets names the person again on the next visit"
    _, headers, _ = authorize(server)
    cookie = headers['Set-Cookie'].split(';')[0]
    name, person = cookie.split('=')
    assert name == standin.PERSON_COOKIE
    _, again, _ = authorize(server, cookie=cookie)
    assert back(again)[1]['code'] == 'ok:' + person
    _, other, _ = authorize(server)
    assert back(other)[1]['code'] != 'ok:' + person


def test_chosen_person_logs_in(server):
    "The code logs in through the client exactly as WeChat's would"
    cookie = '%s=alice' % standin.PERSON_COOKIE
    _, headers, _ = authorize(server, cookie=cookie)
    code = back(headers)[1]['code']
    answer = wechat.oauth_access_token(
        server.base_url, OA_APPID, OA_SECRET, code)
    assert answer['openid'] == standin.openid(OA_APPID, 'alice')


def test_query_of_redirect_kept(server):
    _, headers, _ = authorize(server, redirect_uri=PAGE + '?scene=abc')
    query = back(headers)[1]
    assert query['scene'] == 'abc'
    assert query['state'] == 's1'


@pytest.mark.parametrize('params,text', [
        ({'appid': 'wx-unknown'}, 'appid'),
        ({'appid': None}, 'appid'),
        ({'redirect_uri': 'javascript:alert(1)'}, 'redirect_uri'),
        ({'redirect_uri': None}, 'redirect_uri'),
        ({'response_type': 'token'}, 'redirect_uri'),
        ({'scope': 'snsapi_login'}, 'scope'),
        ])
def test_refused_as_page(server, params, text):
    status, headers, body = authorize(server, **params)
    assert status == 400
    assert headers['Content-Type'].startswith('text/html')
    assert text in body.decode('utf-8')
    assert 'Location' not in headers
