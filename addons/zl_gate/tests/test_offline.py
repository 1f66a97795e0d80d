# This file is part of zhonglian-ticketing. See README.md for the licence.
"The offline verifier and the zl-gate command, without a server"
import base64
import datetime as dt
import http.server
import io
import json
import socket
import threading

import pytest

from trytond.modules.zl_gate import decision, simulator
from trytond.modules.zl_gate.offline import OfflineGate
from trytond.modules.zl_reservation import identity, passcode

TODAY = dt.date(2026, 11, 26)
TOMORROW = TODAY + dt.timedelta(days=1)
SERVER = dt.datetime(2026, 11, 26, 7, 0)
MONO = 1000.0
ID_NUMBER = identity.make_resident_id()
DAY_KEY = bytes(range(32))
DIGEST = identity.id_digest(DAY_KEY, 'resident_id', ID_NUMBER)
MESSAGES = {r: 'msg:' + r for r in decision.REASONS + decision.CLOCK_REASONS}
MESSAGES.update({'ok': '请通行', 'rescan': '请再次通行',
        'too_early': '%(valid_from)s 起可入场',
        'attention_group': '团体票：放行 %(admits)s 人'})


@pytest.fixture(scope='module')
def keys():
    return passcode.generate_key()


def b64(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip('=')


def sign(keys, pass_id, ticket=1, date=TODAY, slot=5, key_id=1):
    return passcode.sign(keys[0], key_id, pass_id, ticket, date, slot)


def pass_(id, ticket=1, slot=5, date=TODAY, uses=1, **values):
    return {'id': id, 'ticket': ticket, 'slot': slot,
        'date': date.isoformat(), 'state': 'valid', 'uses': uses,
        'uses_left': uses, 'admits': 1, 'age_band': None,
        'expires_on': None, 'visitor': '张*', 'last_entry': None,
        'rescans': 0, 'id_digest': None, **values}


def slot(id, start, end, date=TODAY):
    return {'id': id, 'date': date.isoformat(), 'session': '场次%s' % id,
        'checkin_start': start, 'checkin_end': end}


def ticket(id, count=1, rescan_count=0, rescan_interval=0):
    return {'id': id, 'name': '票%s' % id, 'usable_scope': 'gates',
        'usable_count': count, 'rescan_count': rescan_count,
        'rescan_interval': rescan_interval}


def make_bundle(public, server_time=SERVER, **values):
    bundle = {
        'format': 1, 'database': 'zl',
        'device': {'id': 3, 'code': 'G01', 'name': '一楼闸机入口',
            'direction': 'entry', 'tolerance_before': 0,
            'tolerance_after': 0, 'tickets': [1, 2]},
        'server_time': server_time.isoformat(), 'max_drift': 120,
        'valid_until': (server_time + dt.timedelta(days=1)).isoformat(),
        'since': 'c1', 'full': True,
        'keys': {'1': b64(public)},
        'tickets': [ticket(1), ticket(2, 3, 1, 10), ticket(4)],
        'slots': [slot(5, '08:00:00', '12:00:00'),
            slot(6, '13:00:00', '17:00:00'),
            slot(7, '08:00:00', '12:00:00', TOMORROW)],
        'passes': [pass_(10), pass_(11, ticket=2, uses=3),
            pass_(12, admits=3), pass_(13, id_digest=DIGEST),
            pass_(14, slot=6, id_digest=DIGEST), pass_(15, ticket=4)],
        'revoked': [],
        'id_keys': {TODAY.isoformat(): DAY_KEY.hex()},
        'messages': MESSAGES,
        }
    bundle.update(values)
    return bundle


@pytest.fixture
def gate(tmp_path, keys):
    with OfflineGate(str(tmp_path / 'gate.sqlite')) as gate:
        gate.load_bundle(make_bundle(keys[1]), SERVER, MONO)
        yield gate


def at(hour, minute=0, day=TODAY):
    now = dt.datetime.combine(day, dt.time(hour, minute))
    return {'now': now, 'now_mono': MONO + (now - SERVER).total_seconds()}


def scan(gate, text, when=(8, 30), **kwargs):
    return gate.scan(text, **at(*when), **kwargs)


def outcome(answer):
    return answer['result'], answer['reason']


def test_ok_then_already_used(gate, keys):
    code = sign(keys, 10)
    first = scan(gate, code)
    assert outcome(first) == ('ok', None)
    assert first['offline'] is True and first['kind'] == 'entry'
    assert first['message'] == '请通行'
    assert first['pass']['id'] == 10 and first['pass']['uses_left'] == 0
    assert first['pass']['slot']['start'] == '08:00:00'
    assert outcome(scan(gate, code, (8, 40))) == ('rejected', 'already_used')


def test_same_scan_id_answers_first(gate, keys):
    code = sign(keys, 10)
    first = scan(gate, code, scan_id='s1')
    assert scan(gate, code, (8, 40), scan_id='s1') == first
    assert len(gate.pending()) == 1


def test_dry_run_consumes_nothing(gate, keys):
    code = sign(keys, 10)
    dry = scan(gate, code, dry_run=True)
    assert outcome(dry) == ('ok', None) and dry['dry_run'] is True
    assert dry['pass']['uses_left'] == 1
    assert gate.pending() == []
    assert outcome(scan(gate, code)) == ('ok', None)


def test_forged_codes(gate, keys):
    code = sign(keys, 10)
    i = len(code) - 10
    altered = code[:i] + ('A' if code[i] != 'A' else 'B') + code[i + 1:]
    other = passcode.generate_key()
    for text in ['hello', 'ZL1' + 'A' * 116, altered, sign(other, 10),
            sign(keys, 10, key_id=2)]:
        answer = scan(gate, text)
        assert outcome(answer) == ('rejected', 'invalid'), text
        assert answer['pass'] is None
    pending = gate.pending()
    assert [s['code'] for s in pending] == [
        None, 'ZL1' + 'A' * 116, altered, sign(other, 10),
        sign(keys, 10, key_id=2)]
    assert {s['pass'] for s in pending} == {None}
    # The genuine code was not used by the forgeries.
    assert outcome(scan(gate, code)) == ('ok', None)


def test_superseded_code_invalid(gate, keys):
    # Pass 10 was moved to the afternoon: its morning code is superseded.
    assert outcome(scan(gate, sign(keys, 10, slot=6))) == (
        'rejected', 'invalid')


def test_revoked(tmp_path, keys):
    bundle = make_bundle(keys[1], revoked=[10, 12, 99],
        passes=[pass_(10), pass_(12, state='refunded')])
    with OfflineGate(str(tmp_path / 'g.sqlite')) as gate:
        gate.load_bundle(bundle, SERVER, MONO)
        assert scan(gate, sign(keys, 10))['reason'] == 'cancelled'
        assert scan(gate, sign(keys, 12))['reason'] == 'refunded'
        # Not in the bundle's passes, only in revoked
        assert scan(gate, sign(keys, 99))['reason'] == 'cancelled'


def test_wrong_gate_and_times(gate, keys):
    assert scan(gate, sign(keys, 15, ticket=4))['reason'] == 'wrong_gate'
    early = scan(gate, sign(keys, 10), (7, 30))
    assert outcome(early) == ('rejected', 'too_early')
    assert early['message'] == '08:00 起可入场'
    assert early['valid_from'] == '2026-11-26T08:00:00'
    assert scan(gate, sign(keys, 10), (12, 30))['reason'] == 'too_late'


def test_group_attention(gate, keys):
    answer = scan(gate, sign(keys, 12))
    assert answer['attention'] is True
    assert answer['attention_flags'] == ['group']
    assert answer['attention_text'] == '团体票：放行 3 人'
    assert answer['pass']['admits'] == 3


def test_rescan_from_local_history(gate, keys):
    code = sign(keys, 11, ticket=2)
    assert scan(gate, code, (8, 30))['kind'] == 'entry'
    again = scan(gate, code, (8, 32))
    assert (again['result'], again['kind']) == ('ok', 'rescan')
    assert again['pass']['uses_left'] == 2
    assert scan(gate, code, (8, 35))['reason'] == 'rescan_too_soon'
    assert scan(gate, code, (8, 45))['kind'] == 'entry'


def test_id_number(gate, tmp_path):
    first = scan(gate, ID_NUMBER)
    assert outcome(first) == ('ok', None) and first['pass']['id'] == 13
    # 13 is used, 14 (afternoon) too early: the refusal that went furthest
    assert scan(gate, ID_NUMBER, (8, 40))['reason'] == 'already_used'
    # As a keyboard wedge may type it: spaces are not part of the number
    afternoon = scan(gate, ID_NUMBER[:6] + ' ' + ID_NUMBER[6:], (13, 5))
    assert afternoon['pass']['id'] == 14
    assert scan(gate, identity.make_resident_id(seq='999'), (13, 6))[
        'reason'] == 'unknown'
    pending = gate.pending()
    assert [(s['code'], s['pass']) for s in pending] == [
        (None, 13), (None, 13), (None, 14), (None, None)]
    assert ID_NUMBER not in json.dumps(pending)
    # Nowhere in the gate's file, whatever the scans wrote
    gate.close()
    files = list(tmp_path.iterdir())
    assert files
    for path in files:
        data = path.read_bytes()
        assert ID_NUMBER.encode() not in data
        assert ID_NUMBER[:17].encode() not in data


def test_incremental_bundle(gate, keys):
    assert outcome(scan(gate, sign(keys, 11, ticket=2))) == ('ok', None)
    later = SERVER + dt.timedelta(minutes=30)
    gate.load_bundle(make_bundle(keys[1], later, full=False, since='c2',
            passes=[pass_(10, state='blocked')], revoked=[10, 50]),
        later, MONO + 1800)
    assert gate.since == 'c2'
    assert scan(gate, sign(keys, 10))['reason'] == 'blocked'
    assert scan(gate, sign(keys, 50))['reason'] == 'cancelled'
    # Passes the increment did not send are kept (with their local uses).
    assert scan(gate, sign(keys, 11, ticket=2), (8, 50))[
        'pass']['uses_left'] == 1
    # A newer state than the revocation: the pass was unblocked.
    gate.load_bundle(make_bundle(keys[1], later, full=False,
            passes=[pass_(10)], revoked=[]), later, MONO + 1800)
    assert outcome(scan(gate, sign(keys, 10), (8, 55))) == ('ok', None)
    with pytest.raises(ValueError):
        gate.load_bundle(make_bundle(keys[1], SERVER, full=False))


def test_incremental_needs_full(tmp_path, keys):
    with OfflineGate(str(tmp_path / 'g.sqlite')) as gate:
        with pytest.raises(ValueError):
            gate.load_bundle(make_bundle(keys[1], full=False), SERVER, MONO)
        assert gate.bundle is None
        answer = scan(gate, sign(keys, 10))
        assert outcome(answer) == ('rejected', 'bundle_stale')


@pytest.mark.parametrize('late, now, mono, reason', [
        # late: minutes the gate's clock was ahead at arrival; mono: the
        # monotonic seconds since arrival (None: as the wall clock moved)
        (3, dt.datetime(2026, 11, 26, 8, 30), None, 'clock_skew'),
        (0, dt.datetime(2026, 11, 26, 8, 30), 10, 'clock_jumped'),
        (0, dt.datetime(2026, 11, 27, 8, 0), None, 'bundle_stale'),
        (1, dt.datetime(2026, 11, 26, 8, 30), None, None),
        ])
def test_clock(tmp_path, keys, late, now, mono, reason):
    received = SERVER + dt.timedelta(minutes=late)
    if mono is None:
        mono = (now - received).total_seconds()
    with OfflineGate(str(tmp_path / 'g.sqlite')) as gate:
        gate.load_bundle(make_bundle(keys[1]), received, MONO)
        answer = gate.scan(sign(keys, 10), now=now, now_mono=MONO + mono)
        assert outcome(answer) == ('rejected' if reason else 'ok', reason)
        if reason:
            assert answer['message'] == 'msg:' + reason
            assert answer['pass'] is None
            assert gate.pending() == []


def test_annul_gives_use_back(gate, keys):
    code = sign(keys, 10)
    assert outcome(scan(gate, code, scan_id='a')) == ('ok', None)
    assert scan(gate, code, scan_id='b')['reason'] == 'already_used'
    assert gate.annul('b') is False
    assert gate.annul('missing') is False
    assert gate.annul('a') is True
    assert gate.annul('a') is False
    assert outcome(scan(gate, code, scan_id='c')) == ('ok', None)
    assert [s['annulled'] for s in gate.pending()] == [True, False, False]


def test_pending_and_uploaded(gate, keys):
    code = sign(keys, 10)
    scan(gate, code, scan_id='a')
    scan(gate, ID_NUMBER, (8, 31), scan_id='b')
    assert gate.pending() == [
        {'scan_id': 'a', 'code': code, 'pass': 10,
            'scanned_at': '2026-11-26T08:30:00', 'result': 'ok',
            'reason': None, 'kind': 'entry', 'annulled': False},
        {'scan_id': 'b', 'code': None, 'pass': 13,
            'scanned_at': '2026-11-26T08:31:00', 'result': 'ok',
            'reason': None, 'kind': 'entry', 'annulled': False},
        ]
    gate.mark_uploaded(['a'])
    assert [s['scan_id'] for s in gate.pending()] == ['b']
    # Uploaded, but the bundle held does not count it yet
    assert scan(gate, code, (8, 40))['reason'] == 'already_used'
    # The next bundle does: the server's uses_left is the truth again.
    gate.load_bundle(make_bundle(keys[1], passes=[pass_(10, uses=2)]),
        SERVER, MONO)
    assert scan(gate, code, (8, 50))['pass']['uses_left'] == 1


def test_pass_missing_from_bundle(gate, keys):
    code = sign(keys, 99)
    answer = scan(gate, code)
    assert outcome(answer) == ('ok', None) and answer['pass']['id'] == 99
    assert answer['pass']['ticket']['name'] == '票1'
    assert scan(gate, code, (8, 40))['reason'] == 'already_used'
    assert scan(gate, sign(keys, 98, ticket=2), (8, 40))[
        'pass']['uses_left'] == 2
    assert scan(gate, sign(keys, 97, date=TOMORROW, slot=70))[
        'reason'] == 'wrong_date'
    assert scan(gate, sign(keys, 96, slot=70))['reason'] == 'unknown'


# The zl-gate command ------------------------------------------------------

def live_bundle(keys):
    "A bundle made just now, whose session is open all day"
    now = dt.datetime.now().replace(microsecond=0)
    return make_bundle(keys[1], now, slots=[
            slot(5, '00:00:00', '23:59:59', now.date())],
        passes=[pass_(10, date=now.date()), pass_(11, date=now.date())])


def run(argv, stdin=''):
    out = io.StringIO()
    code = simulator.main(argv, io.StringIO(stdin), out)
    return code, out.getvalue().splitlines()


def test_command_offline(tmp_path, keys, capsys):
    state, path = str(tmp_path / 'g.sqlite'), tmp_path / 'b.json'
    path.write_text(json.dumps(live_bundle(keys)))
    today = dt.date.today()
    codes = [sign(keys, i, date=today) for i in (10, 11)]
    assert run(['offline', '--state', state, '--bundle', str(path),
            codes[0], '-'], codes[1] + '\n') == (
        0, ['ok\t-\t请通行\t', 'ok\t-\t请通行\t'])
    assert run(['offline', '--state', state, codes[0]]) == (
        0, ['rejected\talready_used\tmsg:already_used\t'])
    assert run(['offline', '--state', str(tmp_path / 'new'), 'x'])[0] == 1
    assert 'holds no bundle' in capsys.readouterr().err


def test_command_connection_error(capsys):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    assert run(['online', '--url', 'http://127.0.0.1:%s' % port,
            '--database', 'zl', '--login', 'g', '--password', 'p',
            'x']) == (1, [])
    err = capsys.readouterr().err
    assert err.startswith('zl-gate: cannot reach') and err.count('\n') == 1


class FakeServer(http.server.BaseHTTPRequestHandler):
    "common.db.login and zl.gate.device methods, as Tryton answers them"
    calls = []
    results = {}

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
        self.calls.append((self.path, body['method'], body['params'],
                self.headers.get('Authorization')))
        if body['method'] == 'common.db.login':
            result = [7, 'token', None]
        else:
            result = self.results[body['method'].rsplit('.', 1)[1]]
        data = json.dumps({'id': body['id'], 'result': result}).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.HTTPServer(('127.0.0.1', 0), FakeServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    FakeServer.calls.clear()
    yield 'http://127.0.0.1:%s' % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_command_online_and_sync(server, tmp_path, keys):
    FakeServer.results['redeem'] = {'result': 'ok', 'reason': None,
        'message': '请通行', 'attention_text': ''}
    assert run(['online', '--url', server, '--database', 'zl', '--login',
            'g', '--password', 'p', '--dry-run', 'CODE']) == (
        0, ['ok\t-\t请通行\t'])
    (path, method, params, auth), (_, redeem, args, auth2) = FakeServer.calls
    assert (path, method, params, auth) == (
        '/zl/rpc/', 'common.db.login', ['g', {'password': 'p'}, 'zh_CN'],
        None)
    assert redeem == 'model.zl.gate.device.redeem'
    assert auth2 == 'Session ' + base64.b64encode(b'g:7:token').decode()
    assert args[0] == 'CODE' and args[2] == {}
    assert args[1]['dry_run'] is True and len(args[1]['scan_id']) == 36

    # Sync: the offline scans go up, the bundle comes down.
    state = str(tmp_path / 'g.sqlite')
    bundle = live_bundle(keys)
    with OfflineGate(state) as gate:
        gate.load_bundle(bundle)
        gate.scan(sign(keys, 10, date=dt.date.today()), scan_id='s1')
    now = dt.datetime.fromisoformat(bundle['server_time'])
    bundle.update(full=False, since='c2', passes=[], revoked=[11],
        server_time={'__class__': 'datetime', 'year': now.year,
            'month': now.month, 'day': now.day, 'hour': now.hour,
            'minute': now.minute, 'second': now.second, 'microsecond': 0})
    FakeServer.results.update(upload_offline={'stored': 1},
        offline_bundle=bundle)
    FakeServer.calls.clear()
    code, lines = run(['sync', '--url', server, '--database', 'zl',
            '--login', 'g', '--password', 'p', '--state', state])
    assert code == 0 and lines[0].startswith('uploaded 1 (stored 1')
    upload, fetch = FakeServer.calls[1:]
    assert [s['scan_id'] for s in upload[2][0]] == ['s1']
    assert fetch[2] == ['c1', {}]
    with OfflineGate(state) as gate:
        assert gate.pending() == [] and gate.since == 'c2'
        assert gate.bundle['revoked'] == [11]
