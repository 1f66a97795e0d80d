#!/usr/bin/env python3
"""The visitor API (zl_miniprogram) under gunicorn: sessions browsed and
bookings on one hot slot per second, next to Tryton's floor and the raw
PostgreSQL ceiling measured in the same run, then the races whose counts
must be exact.

    .venv/bin/python benchmarks/visitor_bench.py [--quick]
        [--levels 1,8,32,64] [--keep-db] [--workers 2 --threads 1]

It creates a PostgreSQL database (peer authentication, `postgresql:///`),
activates zl_miniprogram, loads a mini-program seller, two tickets and
today's sessions (proteus), starts the WeChat stand-in in this process and
gunicorn, logs N visitors in once each through the stand-in, and has them
call the API at once. See benchmarks/README.md.
"""
import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

from bench_db import (
    AB_HEADER,
    POLICY,
    ab_line,
    drop,
    new_database,
    oversold,
    policy_ab,
    scratch_tables,
)
from bench_load import raw
from bench_server import Server, begin_run
from visitor_site import (
    IDEMPOTENT,
    LIMIT,
    SESSIONS,
    SETUP,
    SOLD_OUT,
    Requests,
    Site,
    booked,
    idempotent_race,
    limit_race,
    measure,
)
from zl_testing import run_proteus

from trytond.modules.zl_miniprogram import standin

CORES = 'cores w/pg/cl/else'
HEADER = (f'{"N":>3} {"calls":>7} {"ok/s":>7} {"p50":>6} {"p99":>6} '
    f'{"RSS MiB":>7} {CORES:>19}  other answers')
BOOK_HEADER = (f'{"N":>3} {"calls":>7} {"ok/s":>7} {"p50":>6} {"p99":>6} '
    f'{"over":>4} {"drift":>5} {"RSS MiB":>7} {CORES:>19} '
    f'{"raw tx/s":>8} {"p50":>5} {"p99":>6} {"ratio":>5}  other answers')
TITLES = {
    'slots': 'GET /tickets/{id}/slots (today)',
    'floor': 'floor: GET /nothing, 404 not_found through the same plumbing',
    'book': 'POST /bookings on one hot slot, a new visitor and key a call',
    }


def rate(result):
    return result['ok'] / result['elapsed']


def others(result):
    return ' '.join(f'{k}={v}' for k, v in
        sorted(result['errors'].items())) or '-'


def cores(result):
    return '/'.join('%.2f' % c for c in result['cores'])


def line(n, result, rss):
    return (f'{n:>3} {result["attempts"]:>7} {rate(result):>7.1f} '
        f'{result["p50"]:>6.1f} {result["p99"]:>6.1f} {rss:>7.0f} '
        f'{cores(result):>19}  {others(result)}')


def book_line(n, result, check, rss, ceiling):
    return (f'{n:>3} {result["attempts"]:>7} {rate(result):>7.1f} '
        f'{result["p50"]:>6.1f} {result["p99"]:>6.1f} {check[0]:>4} '
        f'{check[1]:>5} {rss:>7.0f} {cores(result):>19} '
        f'{rate(ceiling):>8.0f} {ceiling["p50"]:>5.1f} '
        f'{ceiling["p99"]:>6.1f} {rate(result) / rate(ceiling):>5.0%}  '
        f'{others(result)}')


def arguments():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--policy-ab', type=int, metavar='ROUNDS',
        help="bookings only: the visit policy's cost, off and on "
        'alternating ROUNDS times per level in the same run')
    parser.add_argument('--quick', action='store_true',
        help='3 s per level instead of 10 s')
    parser.add_argument('--levels', default='1,8,32,64',
        help='concurrent visitors, comma separated (default 1,8,32,64)')
    parser.add_argument('--scenarios', default='slots,floor,book',
        help='among slots, floor, book (default: all three)')
    parser.add_argument('--races', default='sold-out,limit,idempotent',
        help='among sold-out, limit, idempotent (default: all three)')
    parser.add_argument('--duration', type=float,
        help='seconds per level (default 10, quick 3); the raw-SQL '
        'ceiling gets half')
    parser.add_argument('--attempts', type=int, default=20000,
        help='at most this many calls per level (default 20000)')
    parser.add_argument('--workers', type=int, default=2,
        help='gunicorn workers (default 2, one per core)')
    parser.add_argument('--threads', type=int, default=1,
        help='threads per worker; above 1 uses gthread (default 1: sync)')
    parser.add_argument('--app', default='trytond.application:app',
        help='WSGI application to serve (see booking_bench.py)')
    parser.add_argument('--profile', type=Path, metavar='DIR',
        help='serve with one worker under cProfile: DIR/worker.prof '
        '(figures of such a run are lower)')
    parser.add_argument('--keep-db', action='store_true',
        help='keep the database (its name is printed)')
    parser.add_argument('--json', type=Path,
        help='also write the figures to this file')
    args = parser.parse_args()
    args.levels = [int(n) for n in args.levels.split(',')]
    args.scenarios = args.scenarios.split(',')
    args.races = args.races.split(',')
    args.duration = args.duration or (3 if args.quick else 10)
    return args


def profiled(args):
    "Serve bench_server.profiled_app: one worker under cProfile"
    args.profile.mkdir(parents=True, exist_ok=True)
    (args.profile / 'claimed').unlink(missing_ok=True)
    (args.profile / 'worker.prof').unlink(missing_ok=True)
    os.environ['ZL_BENCH_PROFILE'] = str(args.profile.resolve())
    os.environ['PYTHONPATH'] = os.pathsep.join(filter(None, [
                str(Path(__file__).resolve().parent),
                os.environ.get('PYTHONPATH')]))
    args.app = 'bench_server:profiled_app'


def main():
    args = arguments()
    database, workdir, started = begin_run('zl-vbench-', 'zl_vbench')
    if args.profile:
        profiled(args)
    wechat, wechat_url = standin.start()
    server, failed, figures = None, True, {'levels': {}, 'races': {}}
    try:
        config = new_database(workdir, database, 'zl_miniprogram')
        info = json.loads(run_proteus(config, database,
                f'SESSIONS = {SESSIONS!r}\nWECHAT = {wechat_url!r}\n'
                f'APPS = {standin.DEFAULT_APPS!r}\n' + SETUP
                ).splitlines()[-1])
        scratch_tables(database)
        print(f'database ready in {time.monotonic() - started:.0f} s',
            flush=True)
        server = Server(config, database, workdir, args)
        print('gunicorn ' + ' '.join(server.argv[1:]), flush=True)
        figures['gunicorn'] = server.argv[1:]
        site = Site(server, database, info)
        args.config = config
        failed = run(site, args, figures)
        print(f'\nwhole run: {"FAILED" if failed else "exact"}', flush=True)
        report_targets(figures)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
    finally:
        if server:
            server.stop()
        wechat.shutdown()
        wechat.server_close()
        if args.keep_db:
            print(f'kept database {database}')
        else:
            drop(database)
    if args.profile and (args.profile / 'worker.prof').exists():
        import pstats
        print(f'\nprofile of one worker: {args.profile}/worker.prof')
        pstats.Stats(str(args.profile / 'worker.prof')).sort_stats(
            'tottime').print_stats(25)
    print(f'done in {time.monotonic() - started:.0f} s'
        + (': FAILED (oversold, drift or a race count)' if failed else ''))
    return 1 if failed else 0


def run(site, args, figures):
    "The levels, then the races; True when a count is wrong"
    info, slots = site.info, site.info['slots']
    requests = Requests(info)
    visitors = site.visitors(max(args.levels + [SOLD_OUT['clients']]))
    print(f'{len(visitors)} visitors logged in through the stand-in',
        flush=True)
    # One booking alone first (whatever is created lazily is created
    # then), then every worker warmed up on each path.
    first = visitors[0].book(requests(slots['warm']))
    if first != 'ok':
        raise SystemExit(f'the first booking failed: {first}')
    warm = 2 * args.workers * args.threads
    for work in works(site, visitors, requests, 'warm').values():
        measure(site.server, site.database, warm, work, 2, 10 ** 6)
    failed = False
    for scenario in args.scenarios:
        work = works(site, visitors, requests, 'hot')[scenario]
        if scenario == 'book' and args.policy_ab:
            failed |= book_ab(site, args, requests, figures)
            continue
        print(f'\n{TITLES[scenario]}, {args.duration:g} s or '
            f'{args.attempts} calls per level'
            + (f', raw ceiling {args.duration / 2:g} s'
                if scenario == 'book' else '')
            + '\n' + (BOOK_HEADER if scenario == 'book' else HEADER),
            flush=True)
        for n in args.levels:
            result = measure(site.server, site.database, n, work,
                args.duration, args.attempts)
            rss = site.server.rss()
            key = f'{scenario}-{n}'
            if scenario != 'book':
                print(line(n, result, rss), flush=True)
                figures['levels'][key] = dict(result, rss=rss)
                continue
            check = oversold(site.database, [slots['hot']])
            ceiling = raw(site.database, requests.raw, [slots['raw-hot']],
                n, args.duration / 2, args.attempts)
            if oversold(site.database, [slots['raw-hot']], raw=True) != (
                    0, 0):
                raise SystemExit('the raw-SQL ceiling oversold: bench bug')
            print(book_line(n, result, check, rss, ceiling), flush=True)
            figures['levels'][key] = {'api': result, 'raw': ceiling,
                'oversold': check[0], 'drift': check[1], 'rss': rss}
            failed |= any(check)
    return races(site, args, visitors, requests, figures) or failed


# The visit policy as a visitor account books under it: every rule read
# (the account's day, its IDs, its strikes), none refusing a benchmark
# visitor who books again and again.
ACCOUNT_POLICY = dict(POLICY, account_people_per_day=10 ** 6,
    account_bookings_per_day=10 ** 6)
# Accounts the bookings turn through: each then holds a few bookings of the
# date, as under a real per-day limit (the policy reads what one account
# holds that day; 64 accounts booking for a minute would hold hundreds).
AB_ACCOUNTS = 2000


def book_ab(site, args, requests, figures):
    "Bookings with the policy off and on, alternating; True if oversold"
    accounts = site.visitors(AB_ACCOUNTS, prefix='ab')
    turn = itertools.count()
    hot = site.info['slots']['hot']

    def work(k, i):
        # No two threads hold one account's client: AB_ACCOUNTS calls apart.
        return accounts[next(turn) % len(accounts)].book(requests(hot))
    print(f'\nbookings, off and on alternating {args.policy_ab} times, '
        f'{args.duration:g} s each, turning through {len(accounts)} '
        f'visitor accounts\n{AB_HEADER}', flush=True)
    failed = False
    for n in args.levels:
        ab = policy_ab(args.config, site.database, args.policy_ab,
            lambda: measure(site.server, site.database, n, work,
                args.duration, args.attempts), ACCOUNT_POLICY)
        check = oversold(site.database, [site.info['slots']['hot']])
        print(ab_line(n, ab) + f'  oversold {check[0]} drift {check[1]}',
            flush=True)
        figures['levels'][f'book-ab-{n}'] = dict(ab, oversold=check[0],
            drift=check[1])
        failed |= any(check)
    return failed


def works(site, visitors, requests, slot):
    "scenario: work(thread, i) of the visitor of thread k"
    info = site.info
    path = (f'/tickets/{info["ticket"]}/slots'
        f'?from={info["date"]}&to={info["date"]}')
    return {
        'slots': lambda k, i: visitors[k].outcome('GET', path),
        'floor': lambda k, i: visitors[k].outcome(
            'GET', '/nothing', ok=(404,)),
        'book': lambda k, i: visitors[k].book(
            requests(info['slots'][slot])),
        }


def races(site, args, visitors, requests, figures):
    "The sold-out slot, the per-user limit, one key: True when one failed"
    failed = False
    slots = site.info['slots']
    print(flush=True)
    if 'sold-out' in args.races:
        clients = SOLD_OUT['clients']
        result = measure(site.server, site.database, clients,
            lambda k, i: visitors[k].book(requests(slots['sold-out'])),
            300, SOLD_OUT['attempts'])
        check = oversold(site.database, [slots['sold-out']])
        count = booked(site.database, slots['sold-out'])
        bad = (result['ok'] != SOLD_OUT['capacity']
            or count != SOLD_OUT['capacity'] or any(check))
        print(f'sold out: capacity {SOLD_OUT["capacity"]}, '
            f'{result["attempts"]} bookings from {clients} visitors: '
            f'confirmed {result["ok"]}, slot booked {count}, oversold '
            f'{check[0]}, drift {check[1]}, p50 {result["p50"]:.1f} ms, '
            f'p99 {result["p99"]:.1f} ms, {others(result)}'
            + (' FAILED' if bad else ''), flush=True)
        figures['races']['sold-out'] = dict(result, booked=count,
            oversold=check[0], drift=check[1])
        failed |= bad
    if 'limit' in args.races:
        ok, count, outcomes = limit_race(site, requests)
        bad = ok != 1 or count != 1
        print(f'per-user limit 1: {LIMIT["requests"]} bookings of one '
            f'account at once: confirmed {ok}, in the database {count}, '
            f'{dict(outcomes)}' + (' FAILED' if bad else ''), flush=True)
        figures['races']['limit'] = {'ok': ok, 'count': count,
            'outcomes': dict(outcomes)}
        failed |= bad
    if 'idempotent' in args.races:
        numbers, count, outcomes = idempotent_race(site, requests)
        bad = numbers != 1 or count != 1
        print(f'one idempotency key from {IDEMPOTENT["clients"]} sessions '
            f'at once: booking numbers answered {numbers}, bookings in the '
            f'database {count}, {dict(outcomes)}'
            + (' FAILED' if bad else ''), flush=True)
        figures['races']['idempotent'] = {'numbers': numbers,
            'count': count, 'outcomes': dict(outcomes)}
        failed |= bad
    return failed


def report_targets(figures):
    levels = figures['levels']
    lines = []
    slots = {k: rate(v) for k, v in levels.items() if k.startswith('slots')}
    if slots:
        best = max(slots, key=slots.get)
        lines.append(f'slots: best {slots[best]:.0f} req/s ({best}) '
            '(target >= 1,000/s): '
            + ('met' if slots[best] >= 1000 else 'NOT met'))
    if 'book-64' in levels:
        book = levels['book-64']
        per_s, p99 = rate(book['api']), book['api']['p99']
        lines.append(f'bookings at 64: {per_s:.0f}/s, p99 {p99:.0f} ms, '
            f'oversold {book["oversold"]} (target >= 400/s, p99 < 250 ms, '
            '0): ' + ('met' if per_s >= 400 and p99 < 250
                and not book['oversold'] else 'NOT met'))
    if lines:
        print('targets (2 cores):\n  ' + '\n  '.join(lines), flush=True)


if __name__ == '__main__':
    sys.exit(main())
