# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The H5 visitor page (doc/h5.md): the static files of h5/ served at
/{db}/zl_mp/h5/, no build step.  The page holds no rule of its own: it
calls the visitor API (routes.py) for everything; the server only writes
into index.html where that API is and where visitors log in."""
import json
import logging
import os
import re

from trytond.pool import Pool
from trytond.protocols.wrappers import Response, redirect, with_pool
from trytond.transaction import Transaction
from trytond.wsgi import app

from .catalogue import revalidated

logger = logging.getLogger(__name__)

FOLDER = os.path.join(os.path.dirname(__file__), 'h5')
BASE = '/<database_name>/zl_mp/h5'
PLACEHOLDER = '__ZL_CONFIG__'
TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    }
# A file of the folder or of one subfolder, nothing hidden: the name alone
# can never leave h5/.
_NAME = re.compile(r'(?:[a-z0-9_-]+/)?[a-z0-9_-]+\.[a-z]+')
# The page loads only itself and talks only to its own server; pictures of
# a ticket's introduction may come from elsewhere (https).
HEADERS = {
    'Content-Security-Policy': "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'",
    # The login code WeChat hands back sits in the page's query.
    'Referrer-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    # Each deployment's files at once: revalidated by their ETag.
    'Cache-Control': 'no-cache',
    }


def page_settings(database_name, request):
    "What the page needs from the server, as JSON written into index.html"
    pool = Pool()
    Configuration = pool.get('zl.mp.configuration')
    values = Configuration.values()
    oauth = None
    if values['oa_appid'] and values['oa_secret']:
        oauth = {
            'authorize': values['wechat_oauth_url']
            + '/connect/oauth2/authorize',
            'appid': values['oa_appid'],
            'scope': 'snsapi_base',
            }
    return {
        'api': '%s/%s/zl_mp/v1' % (request.script_root, database_name),
        'oauth': oauth,
        }


def _json_in_html(data):
    "JSON safe inside <script>: no '</script>' or '<!--' can close it"
    return (json.dumps(data, ensure_ascii=False)
        .replace('<', '\\u003c').replace('>', '\\u003e')
        .replace('&', '\\u0026'))


def _file(name):
    "The bytes of h5/name, or None"
    path = os.path.join(FOLDER, *name.split('/'))
    try:
        with open(path, 'rb') as file:
            return file.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _send(data, name, request):
    return revalidated(
        data, request, TYPES[os.path.splitext(name)[1]], HEADERS)


@app.route(BASE, methods=['GET'])
def page_root(request, database_name):
    # Relative asset addresses need the trailing slash.
    return redirect(request.path + '/', code=301)


def not_found():
    return Response('Not Found', status=404, content_type='text/plain',
        headers={'X-Content-Type-Options': 'nosniff'})


@app.route(BASE + '/', methods=['GET'])
@with_pool
def page(request, pool):
    try:
        pool.get('zl.mp.configuration')
    except KeyError:
        # A database of the same server without this module.
        return not_found()
    with Transaction().start(pool.database_name, 0, readonly=True):
        settings = page_settings(pool.database_name, request)
    html = _file('index.html').decode('utf-8')
    html = html.replace(PLACEHOLDER, _json_in_html(settings), 1)
    return _send(html.encode('utf-8'), 'index.html', request)


@app.route(BASE + '/<path:name>', methods=['GET'])
def asset(request, database_name, name):
    data = None
    if _NAME.fullmatch(name) and os.path.splitext(name)[1] in TYPES:
        data = _file(name)
    if data is None or name == 'index.html':
        return not_found()
    return _send(data, name, request)
