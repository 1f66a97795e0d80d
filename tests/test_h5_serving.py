# This file is part of zhonglian-ticketing. See README.md for the licence.
"""How the server serves the H5 visitor page (addons/zl_miniprogram/h5.py)
on PostgreSQL behind gunicorn with two workers: the settings written into
index.html (escaped, following staff's configuration on every worker at
once), the security headers, revalidation, and nothing outside h5/."""
import json
import re
import time
import urllib.error
import urllib.request

import pytest
from visitor_api import staff, visitor_site

from trytond.modules.zl_miniprogram import standin

pytestmark = pytest.mark.postgresql

CONFIG = re.compile(
    r'<script id="zl-config" type="application/json">(.*?)</script>', re.S)


@pytest.fixture(scope='module')
def site(pg_template, tmp_path_factory, server_module):
    yield from visitor_site(pg_template, tmp_path_factory, server_module)


def get(site, path, headers=None):
    "(status, headers, body) of GET /{db}/zl_mp<path>, redirects not followed"
    api, _ = site
    url = api.base.rsplit('/v1', 1)[0] + path
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def settings(site):
    status, _, body = get(site, '/h5/')
    assert status == 200
    return json.loads(CONFIG.search(body.decode('utf-8')).group(1))


def test_index_and_its_settings(site):
    api, _ = site
    status, headers, body = get(site, '/h5/')
    assert status == 200
    assert headers['Content-Type'] == 'text/html; charset=utf-8'
    csp = headers['Content-Security-Policy']
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert headers['Referrer-Policy'] == 'same-origin'
    assert headers['X-Content-Type-Options'] == 'nosniff'
    assert b'__ZL_CONFIG__' not in body
    values = settings(site)
    database = api.base.split('/')[-3]
    assert values['api'] == f'/{database}/zl_mp/v1'
    # The site's configuration points at the stand-in (tests/visitor_api).
    assert values['oauth']['appid'] == standin.DEFAULT_APPS['oa'][0]
    assert re.fullmatch(r'http://127\.0\.0\.1:\d+/connect/oauth2/authorize',
        values['oauth']['authorize'])
    assert not api.base.startswith(values['oauth']['authorize'][:22])
    # Without the trailing slash the page's relative addresses would break.
    status, headers, _ = get(site, '/h5')
    assert status == 301
    assert headers['Location'].endswith(f'/{database}/zl_mp/h5/')


def follows(site, check):
    """Every worker answers as check wants, a moment after the commit
    (PostgreSQL's NOTIFY reaches the other worker's cache asynchronously)
    and then every time"""
    deadline = time.monotonic() + 5
    agreeing = 0
    # One worker may answer from the new value while the other's NOTIFY
    # is still on its way: wait until eight answers in a row agree.
    while agreeing < 8:
        values = settings(site)
        if check(values):
            agreeing += 1
            continue
        agreeing = 0
        assert time.monotonic() < deadline, values
        time.sleep(0.05)


def test_settings_follow_staff_on_every_worker(site):
    "No Official Account: no login offered; escaped whatever staff type"
    client = staff(site, 'r01')
    hostile = 'wx</script><script>alert(1)</script>&'
    client('model.zl.mp.configuration.write', [1], {'oa_appid': hostile})
    try:
        follows(site, lambda values: values['oauth']['appid'] == hostile)
        _, _, body = get(site, '/h5/')
        assert '<script>alert' not in body.decode('utf-8')
        client('model.zl.mp.configuration.write', [1], {'oa_secret': ''})
        follows(site, lambda values: values['oauth'] is None)
    finally:
        appid, secret = standin.DEFAULT_APPS['oa']
        client('model.zl.mp.configuration.write', [1],
            {'oa_appid': appid, 'oa_secret': secret})
    follows(site, lambda values: values['oauth'] is not None
        and values['oauth']['appid'] == appid)


def test_assets_revalidated(site):
    status, headers, body = get(site, '/h5/app.js')
    assert status == 200
    assert headers['Content-Type'] == 'text/javascript; charset=utf-8'
    assert headers['Cache-Control'] == 'no-cache'
    etag = headers['ETag']
    status, headers, body = get(site, '/h5/app.js', {'If-None-Match': etag})
    assert (status, body) == (304, b'')
    status, headers, _ = get(site, '/h5/app.css')
    assert (status, headers['Content-Type']) == (
        200, 'text/css; charset=utf-8')


@pytest.mark.parametrize('path', [
        '/h5/../h5.py', '/h5/%2e%2e/h5.py', '/h5/..%2fh5.py',
        '/h5/%2e%2e%2f%2e%2e%2fzl_reservation/engine.py',
        '/h5/.hidden.js', '/h5/index.html', '/h5/a/b/c.js', '/h5/h5.py',
        '/h5/missing.js', '/h5/app.JS', '/h5/screens/', '/h5/%00.js',
        ])
def test_nothing_outside_the_folder(site, path):
    status, headers, body = get(site, path)
    assert status == 404, (path, status)
    assert b'import' not in body and b'__ZL_CONFIG__' not in body


def test_unknown_database(site):
    "Never a 500 or a traceback for a database that does not exist"
    api, _ = site
    url = api.base.split('/zl_mp/')[0].rsplit('/', 1)[0]
    started = time.monotonic()
    request = urllib.request.Request(f'{url}/no_such_db/zl_mp/h5/')
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=30)
    assert info.value.code == 404
    assert b'Traceback' not in info.value.read()
    assert time.monotonic() - started < 30
