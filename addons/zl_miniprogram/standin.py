# This file is part of zhonglian-ticketing. See README.md for the licence.
"""A local stand-in for WeChat's servers, for tests and development.

It answers the four calls the visitor API makes as WeChat documents
them: /sns/jscode2session, /sns/oauth2/access_token, /cgi-bin/stable_token
and /wxa/getwxacodeunlimit; and WeChat's web authorisation page
/connect/oauth2/authorize, where the H5 page sends a visitor to log in:
it redirects back at once with the code `ok:<person>`, the person named
by its cookie `standin_person` (a new one in a new browser).  The login
code chooses the answer:

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
import http.server
import logging
import secrets
import sys
import threading
import time
from collections import Counter

from .standin_wechat import (
    ENDPOINTS,
    PERSON_COOKIE,
    TOKEN_SECONDS,
    Handler,
    openid,
    unionid,
)

__all__ = ['DEFAULT_APPS', 'PERSON_COOKIE', 'StandIn', 'start', 'openid',
    'unionid', 'main']

# Fake credentials for development: ids shaped like WeChat's.
DEFAULT_APPS = {
    'mp': ('wx5a0d1e6b2c3f4a01', '5f4dcc3b5aa765d61d8327deb882cf99'),
    'oa': ('wx5a0d1e6b2c3f4a02', '7c6a180b36896a0a8c02787eeafb0e4c'),
    }
# WeChat keeps the previous stable token valid this long after a refresh.
OVERLAP_SECONDS = 300


class StandIn(http.server.ThreadingHTTPServer):
    "The stand-in server: apps, issued tokens, call counts and fault"
    daemon_threads = True
    pages = frozenset({'pages/index/index', 'pages/promo/index'})

    def __init__(self, address, apps=None):
        super().__init__(address, Handler)
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
                'calls': {n: self.calls[n] for n in ENDPOINTS.values()},
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
