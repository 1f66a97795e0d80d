# This file is part of zhonglian-ticketing. See README.md for the licence.
"""zl-gate: a gate on the command line, for staff testing a device's setup
and for the benchmark (GateClient).

    zl-gate online --url URL --database DB --login L [--dry-run] CODE...
    zl-gate offline --state FILE [--bundle BUNDLE.json] CODE...
    zl-gate sync --url URL --database DB --login L --state FILE

CODE is a pass's QR code or a resident ID number; `-` reads them from
standard input, one per line.  The password comes from --password or the
ZL_GATE_PASSWORD environment variable (kept out of the process list).
One line per decision: result, reason, message, attention text (tabs).
Stdlib only (urllib): a gate or a laptop needs no Tryton client."""
import argparse
import base64
import datetime as dt
import decimal
import http.client
import itertools
import json
import os
import sqlite3
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

UPLOAD_BATCH = 500


class GateError(Exception):
    "The server cannot be reached or refused the call"


def _object_hook(value):
    # Tryton's JSON-RPC spells dates and times as {"__class__": ...}; the
    # contract's dicts hold ISO strings.
    kind = value.get('__class__')
    if kind == 'datetime':
        return dt.datetime(value['year'], value['month'], value['day'],
            value['hour'], value['minute'], value['second'],
            value['microsecond']).isoformat()
    if kind == 'date':
        return dt.date(value['year'], value['month'], value['day']
            ).isoformat()
    if kind == 'time':
        return dt.time(value['hour'], value['minute'], value['second'],
            value['microsecond']).isoformat()
    if kind == 'Decimal':
        return decimal.Decimal(value['decimal'])
    return value


class GateClient:
    "A device's JSON-RPC session with the server"

    def __init__(self, url, database, login, password, timeout=30):
        self.url = '%s/%s/rpc/' % (
            url.rstrip('/'), urllib.parse.quote(database, safe=''))
        self.login = login
        self.password = password
        self.timeout = timeout
        self._authorization = None
        self._ids = itertools.count(1)

    def _post(self, method, params):
        data = json.dumps({'id': next(self._ids), 'method': method,
                'params': params}).encode()
        headers = {'Content-Type': 'application/json'}
        if self._authorization:
            headers['Authorization'] = self._authorization
        request = urllib.request.Request(
            self.url, data=data, headers=headers, method='POST')
        try:
            with urllib.request.urlopen(
                    request, timeout=self.timeout) as response:
                body = json.loads(response.read(), object_hook=_object_hook)
        except urllib.error.HTTPError as e:
            raise GateError('%s: HTTP %s %s' % (method, e.code, e.reason),
                e.code) from None
        except (urllib.error.URLError, OSError,
                http.client.HTTPException) as e:
            reason = getattr(e, 'reason', e)
            raise GateError('cannot reach %s: %s' % (self.url, reason)
                ) from None
        except ValueError as e:  # not JSON
            raise GateError('%s: bad answer: %s' % (method, e)) from None
        if body.get('error'):
            error = body['error']
            if isinstance(error, (list, tuple)):
                error = ': '.join(str(e) for e in error[:2])
            raise GateError('%s: %s' % (method, error))
        return body.get('result')

    def log_in(self):
        result = self._post('common.db.login',
            [self.login, {'password': self.password}, 'zh_CN'])
        if not result:
            raise GateError('login refused for %s' % self.login)
        user_id, token = result[:2]
        self._authorization = 'Session ' + base64.b64encode(
            ('%s:%s:%s' % (self.login, user_id, token)).encode()).decode()

    def call(self, method, *args):
        "Call zl.gate.device.<method>, logging in first or again"
        if self._authorization is None:
            self.log_in()
        name = 'model.zl.gate.device.' + method
        try:
            return self._post(name, [*args, {}])
        except GateError as e:
            if e.args[1:] != (401,):
                raise
            # The session expired or the password was rotated.
            self.log_in()
            return self._post(name, [*args, {}])

    def redeem(self, code, scan_id=None, dry_run=False):
        return self.call('redeem', code, {
                'scan_id': scan_id or str(uuid.uuid4()),
                # With its offset: the server converts to the site's time
                # (a gate's machine need not run in the site's zone).
                'scanned_at': dt.datetime.now().astimezone().isoformat(
                    timespec='seconds'),
                'dry_run': bool(dry_run),
                })

    def offline_bundle(self, since=None):
        return self.call('offline_bundle', since)

    def upload_offline(self, scans):
        return self.call('upload_offline', scans)

    def annul(self, scan_id):
        return self.call('annul', scan_id)


def line(answer):
    "One line for a decision; never the code or ID number scanned"
    if 'error' in answer:  # a coded refusal to decide (doc/gate.md)
        error = answer['error']
        return '\t'.join(['error', str(error.get('code')),
                ' '.join(str(error.get('message') or '').split())])
    return '\t'.join([answer['result'], answer.get('reason') or '-',
            ' '.join((answer.get('message') or '').split()),
            answer.get('attention_text') or ''])


def _codes(values, stdin):
    for value in values:
        if value == '-':
            yield from (v.strip() for v in stdin if v.strip())
        else:
            yield value


def _client(args):
    password = args.password or os.environ.get('ZL_GATE_PASSWORD')
    if not password:
        raise GateError('no password: --password or ZL_GATE_PASSWORD')
    return GateClient(args.url, args.database, args.login, password)


def online(args, stdin, stdout):
    client = _client(args)
    for code in _codes(args.codes, stdin):
        print(line(client.redeem(code, dry_run=args.dry_run)), file=stdout)


def offline(args, stdin, stdout):
    from trytond.modules.zl_gate.offline import OfflineGate
    with OfflineGate(args.state) as gate:
        if args.bundle:
            with open(args.bundle, encoding='utf-8') as file:
                gate.load_bundle(json.load(file, object_hook=_object_hook))
        elif gate.bundle is None:
            raise GateError('%s holds no bundle: give --bundle or sync'
                % args.state)
        for code in _codes(args.codes, stdin):
            print(line(gate.scan(code, dry_run=args.dry_run)), file=stdout)


def sync(args, stdin, stdout):
    "Upload the scans made offline, then refresh the bundle"
    from trytond.modules.zl_gate.offline import OfflineGate
    client = _client(args)
    with OfflineGate(args.state) as gate:
        pending = gate.pending()
        totals = {'stored': 0, 'duplicates': 0, 'conflicts': 0}
        for i in range(0, len(pending), UPLOAD_BATCH):
            batch = pending[i:i + UPLOAD_BATCH]
            counts = client.upload_offline(batch) or {}
            if 'error' in counts:
                # Nothing of the batch was stored: keep it for next time.
                raise GateError('upload refused: %s' % line(counts))
            gate.mark_uploaded([s['scan_id'] for s in batch])
            for key in totals:
                totals[key] += counts.get(key, 0)
        bundle = client.offline_bundle(gate.since)
        merged = gate.load_bundle(bundle)
        print('uploaded %d (stored %d, duplicates %d, conflicts %d); '
            '%s bundle: %d passes, %d revoked' % (
                len(pending), totals['stored'], totals['duplicates'],
                totals['conflicts'],
                'full' if bundle.get('full') else 'incremental',
                len(merged['passes']), len(merged['revoked'])),
            file=stdout)


def _parser():
    parser = argparse.ArgumentParser(prog='zl-gate',
        description='Test a gate: decide pass codes or ID numbers online '
        'or from an offline bundle.')
    commands = parser.add_subparsers(dest='command', required=True)

    def server(sub):
        sub.add_argument('--url', required=True,
            help='the server, e.g. http://localhost:8000')
        sub.add_argument('--database', required=True)
        sub.add_argument('--login', required=True,
            help="the device's account")
        sub.add_argument('--password',
            help='default: the ZL_GATE_PASSWORD environment variable')

    def codes(sub, nargs='+'):
        sub.add_argument('--dry-run', action='store_true',
            help='decide without using the pass')
        sub.add_argument('codes', nargs=nargs, metavar='CODE_OR_ID',
            help='a QR code or ID number; - reads standard input')

    sub = commands.add_parser('online', help='ask the server')
    server(sub)
    codes(sub)
    sub.set_defaults(run=online)
    sub = commands.add_parser('offline', help='decide from a bundle')
    sub.add_argument('--state', required=True, help="the gate's file")
    sub.add_argument('--bundle', help='load this bundle (JSON) first')
    codes(sub, '*')
    sub.set_defaults(run=offline)
    sub = commands.add_parser('sync',
        help='upload offline scans and fetch the bundle')
    server(sub)
    sub.add_argument('--state', required=True, help="the gate's file")
    sub.set_defaults(run=sync)
    return parser


def main(argv=None, stdin=None, stdout=None):
    args = _parser().parse_args(argv)
    try:
        args.run(args, stdin or sys.stdin, stdout or sys.stdout)
    except (GateError, ValueError, OSError, sqlite3.Error) as e:
        message = e.args[0] if isinstance(e, GateError) else str(e)
        print('zl-gate: %s' % ' '.join(message.split()), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
