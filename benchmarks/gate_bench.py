#!/usr/bin/env python3
"""Gate scans per second of zl_gate over JSON-RPC under gunicorn, next to
Tryton's floor and the raw PostgreSQL ceiling, then an open-loop morning
peak and the offline verifier, all measured in the same run.

    .venv/bin/python benchmarks/gate_bench.py [--quick]
        [--levels 1,4,16,64] [--keep-db] [--workers 2 --threads 1]

It creates a PostgreSQL database (peer authentication, `postgresql:///`),
activates zl_gate, books tens of thousands of distinct single-use passes
for today's all-day session and gives every gate device its own account
(proteus, in process), starts gunicorn, and has N gates scan distinct
passes at once (saturation), 200 gates scan at a planned rate (peak), and
an offline gate decide from its bundle. See benchmarks/README.md.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench_db import PASSWORD, drop, new_database, pg
from bench_server import Server, begin_run
from gate_measures import offline, peak, race, rate, saturation
from gate_site import (
    GATE_LOGIN,
    GATES,
    RACE,
    REDEEM,
    SCRATCH,
    SETUP,
    WARM,
    Site,
    book,
)
from zl_testing import run_proteus


def arguments():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true',
        help='3 s levels, a 15 s peak, 3 s offline (default 10, 60, 10)')
    parser.add_argument('--levels', default='1,4,16,64',
        help='concurrent gates of (a), comma separated')
    parser.add_argument('--duration', type=float,
        help='seconds per level of (a) (default 10, quick 3)')
    parser.add_argument('--attempts', type=int,
        help='at most this many scans per level (default 400 a second '
        'of --duration: passes are booked for them)')
    parser.add_argument('--rate', type=float, default=100,
        help='planned scans per second of the peak (default 100)')
    parser.add_argument('--peak', type=float,
        help='seconds of the peak (default 60, quick 15)')
    parser.add_argument('--offline', type=float,
        help='seconds per offline measure (default 10, quick 3)')
    parser.add_argument('--offline-passes', type=int,
        help='passes the offline gate holds (default 30000, quick 10000)')
    parser.add_argument('--parts', default='a,race,b,c',
        help='among a, race, b, c (default all)')
    parser.add_argument('--keep-db', action='store_true',
        help='keep the database (its name is printed)')
    parser.add_argument('--workers', type=int, default=2,
        help='gunicorn workers (default 2, one per core)')
    parser.add_argument('--threads', type=int, default=1,
        help='threads per worker; above 1 uses gthread (default 1: sync)')
    parser.add_argument('--app', default='trytond.application:app',
        help='WSGI application to serve (see booking_bench.py)')
    parser.add_argument('--profile', type=Path, metavar='DIR',
        help='serve with one worker under cProfile: DIR/worker.prof '
        '(figures of such a run are lower)')
    parser.add_argument('--json', type=Path,
        help='also write the figures to this file')
    args = parser.parse_args()
    args.levels = [int(n) for n in args.levels.split(',')]
    args.parts = set(args.parts.split(','))
    args.duration = args.duration or (3 if args.quick else 10)
    args.attempts = args.attempts or int(400 * args.duration)
    args.peak = args.peak or (15 if args.quick else 60)
    args.offline = args.offline or (3 if args.quick else 10)
    args.offline_passes = args.offline_passes or (
        10000 if args.quick else 30000)
    return args


def main():
    args = arguments()
    online = WARM + RACE['passes'] + int(args.rate * args.peak) + GATES
    if 'a' in args.parts:
        online += len(args.levels) * args.attempts
    database, workdir, started = begin_run('zl-gate-bench-')
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        (args.profile / 'claimed').unlink(missing_ok=True)
        os.environ['ZL_BENCH_PROFILE'] = str(args.profile.resolve())
        os.environ['PYTHONPATH'] = os.pathsep.join(filter(None, [
                    str(Path(__file__).resolve().parent),
                    os.environ.get('PYTHONPATH')]))
        args.app = 'bench_server:profiled_app'
    server, failed, figures = None, True, {}
    try:
        config = new_database(workdir, database, 'zl_gate')
        print(f'database ready in {time.monotonic() - started:.0f} s; '
            f'booking {online + args.offline_passes} passes', flush=True)
        booked = time.monotonic()
        info = json.loads(run_proteus(config, database,
                f'LOGIN, PASSWORD, GATES = {GATE_LOGIN!r}, {PASSWORD!r}, '
                f'{GATES}\n' + SETUP).splitlines()[-1])
        with pg(database) as conn:
            conn.execute('UPDATE res_user SET password_hash = ('
                'SELECT password_hash FROM res_user WHERE login = %s) '
                'WHERE login LIKE %s', (GATE_LOGIN % 0, 'gate%'))
        print(f'site and {GATES + 1} devices in '
            f'{time.monotonic() - booked:.0f} s', flush=True)
        booked = time.monotonic()
        info['online'], info['offline'] = book(config, database, info,
            [online, args.offline_passes], workdir)
        booked = time.monotonic() - booked
        print(f'booked in {booked:.0f} s '
            f'({(online + args.offline_passes) / booked:.0f} passes/s)',
            flush=True)
        with pg(database) as conn:
            for statement in SCRATCH:
                conn.execute(statement)
        server = Server(config, database, workdir, args)
        print('gunicorn ' + ' '.join(server.argv[1:]), flush=True)
        site = Site(server, database, info)
        # One scan alone (lazily created keys and caches), then every
        # worker warmed up.
        client, = site.login(1)
        answer = client.call(REDEEM, [site.take(1)[0], {}, {}])
        client.close()
        if answer.get('result') != 'ok':
            sys.exit(f'the first scan failed: {answer}')
        clients = site.login(4)
        codes = site.take(WARM - 1)
        site.measure(clients, lambda k, i: site.redeem(clients[k], codes[i]),
            2, len(codes))
        for client in clients:
            client.close()
        answer = json.dumps(answer, ensure_ascii=False)
        if 'a' in args.parts:
            figures['a'] = saturation(site, args, args.duration, answer)
        if 'race' in args.parts:
            figures['race'] = race(site)
        if 'b' in args.parts:
            figures['b'] = peak(site, args.rate, args.peak)
        if 'c' in args.parts:
            figures['c'] = offline(site, info['offline'], args.offline,
                workdir)
        double, drift = site.check()
        failed = bool(double or drift or (
                'race' in figures and set(figures['race']['oks']) != {1}))
        print(f'\nwhole run: double entries {double}, drift {drift}',
            flush=True)
        report_targets(figures)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
    finally:
        if server:
            server.stop()
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
        + (': FAILED (double entry, drift or race)' if failed else ''))
    return 1 if failed else 0


def report_targets(figures):
    lines = []
    if 'a' in figures:
        best = max(rate(f['scans']) for f in figures['a'].values())
        floor = max(rate(f['floor']) for f in figures['a'].values())
        lines.append(f'(a) best {best:.1f} ok/s = {best / floor:.0%} of '
            f'the best floor {floor:.1f}/s (target >= 50 %): '
            + ('met' if best >= floor / 2 else 'NOT met'))
    if 'b' in figures:
        p99 = figures['b']['p99']
        lines.append(f'(b) p99 {p99:.1f} ms (target < 50 ms): '
            + ('met' if p99 < 50 else 'NOT met'))
    if 'c' in figures:
        per_s = figures['c']['real']['per_s']
        lines.append(f'(c) {per_s:.0f} decisions/s recorded (target >= '
            f'5,000/s): ' + ('met' if per_s >= 5000 else 'NOT met'))
    print('targets (2 cores):\n  ' + '\n  '.join(lines), flush=True)


if __name__ == '__main__':
    sys.exit(main())
