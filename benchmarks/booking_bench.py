#!/usr/bin/env python3
"""Booking throughput of zl_reservation over JSON-RPC under gunicorn, next
to the raw PostgreSQL ceiling measured on the same machine in the same run.

    .venv/bin/python benchmarks/booking_bench.py [--quick]
        [--levels 1,8,32,64] [--keep-db] [--workers 2 --threads 1]

It creates a PostgreSQL database (peer authentication, `postgresql:///`),
activates zl_reservation, loads a ticket, a window seller with its users
and a reservation plan with proteus, starts gunicorn and books from N
concurrent clients (own connection, own session), on one hot slot, then
spread over many slots, each level bounded in time and attempts; then the
Tryton floor and a sold-out slot. See benchmarks/README.md.
"""
import argparse
import json
import sys
import time
from pathlib import Path

from bench_db import (
    AB_HEADER,
    POLICY,
    SOLD_OUT,
    ab_line,
    allocate,
    apply_policy,
    create,
    drop,
    oversold,
    pg,
    policy_ab,
)
from bench_load import Bench, Booker, raw
from bench_server import Server, begin_run

# Report -----------------------------------------------------------------

def per_second(result):
    return result['ok'] / result['elapsed']


CORES = 'cores w/pg/cl/else'
HEADER = (f'{"N":>3} {"attempts":>8} {"ok/s":>7} {"p50":>6} {"p99":>6} '
    f'{"over":>4} {"drift":>5} {"RSS MiB":>7} {CORES:>19} '
    f'{"raw tx/s":>8} {"p50":>5} {"p99":>6} {"ratio":>5}  other answers')
FLOOR_HEADER = (f'{"N":>3} {"calls":>8} {"calls/s":>7} {"p50":>6} '
    f'{"p99":>6} {CORES:>19}  other answers')


def cores(result):
    return '/'.join('%.2f' % c for c in result['cores'])


def others(result):
    return ' '.join(f'{k}={v}' for k, v in
        sorted(result['errors'].items())) or '-'


def line(n, result, check, rss, raw_result):
    raw_rate = per_second(raw_result)
    return (f'{n:>3} {result["attempts"]:>8} '
        f'{per_second(result):>7.1f} {result["p50"]:>6.1f} '
        f'{result["p99"]:>6.1f} {check[0]:>4} {check[1]:>5} '
        f'{rss:>7.0f} {cores(result):>19} {raw_rate:>8.0f} '
        f'{raw_result["p50"]:>5.1f} {raw_result["p99"]:>6.1f} '
        f'{per_second(result) / raw_rate:>5.0%}  {others(result)}')


def floor_line(n, result):
    return (f'{n:>3} {result["attempts"]:>8} {per_second(result):>7.1f} '
        f'{result["p50"]:>6.1f} {result["p99"]:>6.1f} '
        f'{cores(result):>19}  {others(result)}')


def arguments():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--policy', action='store_true',
        help="set a museum's visit policy (bench_db.POLICY) first")
    parser.add_argument('--policy-ab', type=int, metavar='ROUNDS',
        help="the policy's cost on this code alone: at every level, "
        'alternate ROUNDS times without and with the policy in the same '
        'run (same server, database and minute of the VM), and print '
        'the medians and the ratio of each pair')
    parser.add_argument('--quick', action='store_true',
        help='3 s per level instead of 10 s')
    parser.add_argument('--levels', default='1,8,32,64',
        help='concurrent clients, comma separated (default 1,8,32,64)')
    parser.add_argument('--keep-db', action='store_true',
        help='keep the database (its name is printed)')
    parser.add_argument('--scenarios', default='hot,many,floor',
        help='among hot, many, floor (default: all three)')
    parser.add_argument('--duration', type=float,
        help='seconds per level (default 10, quick 3); the raw-SQL '
        'ceiling gets half')
    parser.add_argument('--attempts', type=int, default=20000,
        help='at most this many bookings per level (default 20000)')
    parser.add_argument('--workers', type=int, default=2,
        help='gunicorn workers (default 2, one per core)')
    parser.add_argument('--threads', type=int, default=1,
        help='threads per worker; above 1 uses gthread (default 1: sync)')
    parser.add_argument('--app', default='trytond.application:app',
        help='WSGI application to serve, e.g. a module (on PYTHONPATH) '
        'that imports trytond.application and patches what to try')
    parser.add_argument('--one-user', action='store_true',
        help='every client logs in as the same user')
    parser.add_argument('--py-spy', type=Path, metavar='DIR',
        help='record the first worker with py-spy at every level into '
        'DIR/<scenario>-<N>.txt (raw stacks)')
    parser.add_argument('--json', type=Path,
        help='also write the figures to this file')
    return parser.parse_args()


def main():
    args = arguments()
    levels = [int(n) for n in args.levels.split(',')]
    scenarios = args.scenarios.split(',')
    duration = args.duration or (3 if args.quick else 10)
    warm_clients = 2 * args.workers * args.threads
    users = max(levels + [SOLD_OUT['clients'], warm_clients])

    database, workdir, started = begin_run('zl-bench-')
    server = None
    try:
        config, info = create(workdir, database, users)
        if args.policy:
            apply_policy(config, database)
            print(f'visit policy: {POLICY}', flush=True)
        slots = allocate(info['slots'])
        print(f'database ready in {time.monotonic() - started:.0f} s',
            flush=True)
        server = Server(config, database, workdir, args)
        print('gunicorn ' + ' '.join(server.argv[1:]), flush=True)
        bench = Bench(server, database, Booker(info), args)
        # One booking alone first: whatever the module creates lazily (keys,
        # secrets) is created then, not in a race of the first level.
        first = bench.book(slots['warm'], 1, 60, 1)
        if first['ok'] != 1:
            sys.exit(f'the first booking failed: {first["errors"]}')
        # Warm every worker up (caches, prepared pool) before measuring.
        bench.book(slots['warm'], warm_clients, 2, 10 ** 6)
        figures = {'gunicorn': server.argv[1:], 'levels': {}}
        for scenario in scenarios:
            if scenario == 'floor':
                print(f'\nfloor: answer an invalid booking request, '
                    f'{duration:g} s per level\n{FLOOR_HEADER}', flush=True)
                for n in levels:
                    result = bench.book(slots['warm'], n, duration,
                        args.attempts, 'floor', f'floor-{n}')
                    print(floor_line(n, result), flush=True)
                    figures['levels'][f'floor-{n}'] = result
                continue
            rpc_slots, raw_slots = slots[scenario], slots[f'raw-{scenario}']
            if args.policy_ab:
                print(f'\n{scenario}: {len(rpc_slots)} slot(s), off and on '
                    f'alternating {args.policy_ab} times, {duration:g} s '
                    f'each\n{AB_HEADER}', flush=True)
                for n in levels:
                    ab = policy_ab(config, database, args.policy_ab,
                        lambda: bench.book(rpc_slots, n, duration,
                            args.attempts))
                    check = oversold(database, rpc_slots)
                    print(ab_line(n, ab)
                        + f'  oversold {check[0]} drift {check[1]}',
                        flush=True)
                    figures['levels'][f'{scenario}-{n}'] = dict(ab,
                        oversold=check[0], drift=check[1])
                continue
            print(f'\n{scenario}: {len(rpc_slots)} slot(s), '
                f'{duration:g} s or {args.attempts} attempts per level, '
                f'raw ceiling {duration / 2:g} s\n{HEADER}', flush=True)
            for n in levels:
                result = bench.book(rpc_slots, n, duration, args.attempts,
                    profile=f'{scenario}-{n}')
                check = oversold(database, rpc_slots)
                rss = server.rss()
                raw_result = raw(database, bench.booker, raw_slots, n,
                    duration / 2, args.attempts)
                if oversold(database, raw_slots, raw=True) != (0, 0):
                    sys.exit('the raw-SQL ceiling oversold: bench bug')
                print(line(n, result, check, rss, raw_result), flush=True)
                figures['levels'][f'{scenario}-{n}'] = {
                    'rpc': result, 'raw': raw_result,
                    'oversold': check[0], 'drift': check[1], 'rss': rss}

        # Sold out: more attempts than places; exactly capacity confirmed.
        result = bench.book(slots['sold-out'], SOLD_OUT['clients'], 300,
            SOLD_OUT['attempts'])
        check = oversold(database, slots['sold-out'])
        with pg(database) as conn:
            booked, = conn.execute(
                'SELECT booked FROM zl_reservation_slot WHERE id = %s',
                slots['sold-out']).fetchone()
        print(f'\nsold out: capacity {SOLD_OUT["capacity"]}, '
            f'{result["attempts"]} attempts from {SOLD_OUT["clients"]} '
            f'clients: confirmed {result["ok"]}, slot booked {booked}, '
            f'oversold {check[0]}, drift {check[1]}, '
            f'p50 {result["p50"]:.1f} ms, p99 {result["p99"]:.1f} ms, '
            f'{others(result)}', flush=True)
        figures['sold_out'] = {**result, 'booked': booked,
            'oversold': check[0], 'drift': check[1]}
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
        failed = (result['ok'] != SOLD_OUT['capacity']
            or booked != SOLD_OUT['capacity'] or any(
                v.get('oversold') or v.get('drift')
                for v in figures['levels'].values()))
    finally:
        if server:
            server.stop()
        if args.keep_db:
            print(f'kept database {database}')
        else:
            drop(database)
    print(f'done in {time.monotonic() - started:.0f} s'
        + (': FAILED (oversold, drift or sold-out count)' if failed else ''))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
