"""What the gate benchmark measures on a site (gate_site.Site):
saturation against the floor and the ceiling, the race, the open-loop
peak and the offline verifier (benchmarks/gate_bench.py)."""
import json
import os
import random
import threading
import time
from collections import Counter

from bench_db import PASSWORD, pg
from bench_load import fire_open, summary
from bench_server import CPU
from booking_bench import cores, others
from gate_site import GATE_LOGIN, GATES, RACE, raw


def rate(result):
    return result['ok'] / result['elapsed']


def saturation(site, args, duration, answer):
    print(f'\n(a) saturation: N gates scanning distinct passes, '
        f'{duration:g} s or {args.attempts} scans per level; floor: '
        f'redeem without arguments, {duration:g} s; raw ceiling '
        f'{duration / 2:g} s\n{HEADER}', flush=True)
    with pg(site.database) as conn:
        pass_ids = [r[0] for r in conn.execute(
                'SELECT id FROM bench_pass ORDER BY id')]
    figures = {}
    for n in args.levels:
        clients = site.login(n)
        codes = site.take(args.attempts)
        try:
            scans = site.measure(clients,
                lambda k, i: site.redeem(clients[k], codes[i]), duration,
                len(codes))
            floor = site.measure(clients,
                lambda k, i: site.floor(clients[k]), duration, 10 ** 6)
        finally:
            for client in clients:
                client.close()
        # What a level did not scan is not lost: later parts take it.
        site.codes = codes[scans['attempts']:] + site.codes
        check = site.check()
        ceiling = raw(site.database, pass_ids, n, duration / 2, answer)
        print(level_line(n, scans, check, floor, ceiling), flush=True)
        figures[n] = {'scans': scans, 'double': check[0],
            'drift': check[1], 'floor': floor, 'raw': ceiling}
    return figures


HEADER = (f'{"N":>3} {"scans":>6} {"ok/s":>6} {"p50":>5} {"p99":>6} '
    f'{"double":>6} {"drift":>5} {"cores w/pg/cl/else":>19} '
    f'{"floor/s":>7} {"p50":>5} {"p99":>6} {"raw/s":>6} {"p50":>5} '
    f'{"p99":>6} {"ok/fl":>5} {"ok/raw":>6}  other answers')


def level_line(n, scans, check, floor, ceiling):
    return (f'{n:>3} {scans["attempts"]:>6} {rate(scans):>6.1f} '
        f'{scans["p50"]:>5.1f} {scans["p99"]:>6.1f} {check[0]:>6} '
        f'{check[1]:>5} {cores(scans):>19} {rate(floor):>7.1f} '
        f'{floor["p50"]:>5.1f} {floor["p99"]:>6.1f} {rate(ceiling):>6.0f} '
        f'{ceiling["p50"]:>5.1f} {ceiling["p99"]:>6.1f} '
        f'{rate(scans) / rate(floor):>5.0%} '
        f'{rate(scans) / rate(ceiling):>6.0%}  {others(scans)}'
        + (f' floor: {others(floor)}' if floor['errors'] else '')
        + (f' raw: {others(ceiling)}' if ceiling['errors'] else ''))


def race(site):
    "Every gate scans the same pass at once, pass after pass"
    clients = site.login(RACE['gates'])
    codes = site.take(RACE['passes'])
    answers = [[None] * len(codes) for _ in clients]
    barrier = threading.Barrier(len(clients))

    def run(k):
        for j, code in enumerate(codes):
            barrier.wait()
            answers[k][j] = site.redeem(clients[k], code)
    threads = [threading.Thread(target=run, args=(k,))
        for k in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    oks = [sum(a[j] == 'ok' for a in answers) for j in range(len(codes))]
    outcomes = Counter(x for a in answers for x in a)
    print(f'\nrace: {len(codes)} passes, each scanned by {len(clients)} '
        f'gates at once: ok {sum(oks)} (1 per pass: '
        f'{"yes" if set(oks) == {1} else "NO " + str(oks)}), '
        + ' '.join(f'{k}={v}' for k, v in sorted(outcomes.items())),
        flush=True)
    return {'oks': oks, 'outcomes': dict(outcomes)}


def peak(site, scan_rate, duration):
    """200 gates, each with its own session, scanning every 200 / rate
    seconds from a random phase: the site's arrivals at scan_rate/s"""
    clients = site.login(GATES)
    period = GATES / scan_rate
    rng = random.Random(2026)
    schedule = []
    for _ in range(GATES):
        phase = rng.uniform(0, period)
        schedule.append([phase + k * period
                for k in range(int((duration - phase) / period) + 1)])
    starts = [0]
    for offsets in schedule:
        starts.append(starts[-1] + len(offsets))
    codes = site.take(starts[-1])
    try:
        with CPU(site.server, site.database) as cpu:
            elapsed, results, services = fire_open(schedule,
                lambda k, i: site.redeem(clients[k], codes[starts[k] + i]))
    finally:
        for client in clients:
            client.close()
    result = summary(elapsed, results, cpu)
    services.sort()
    result['service_p50'], result['service_p99'] = (
        services[int(q * len(services))] * 1000 for q in (.5, .99))
    check = site.check()
    print(f'\n(b) peak, open loop: {scan_rate:g} scans/s planned over '
        f'{GATES} gates for {duration:g} s: {result["attempts"]} scans, '
        f'ok {result["ok"]}, achieved {rate(result):.1f} ok/s; from the '
        f'planned time p50 {result["p50"]:.1f} ms, p99 '
        f'{result["p99"]:.1f} ms (from the send: p50 '
        f'{result["service_p50"]:.1f}, p99 {result["service_p99"]:.1f}); '
        f'cores w/pg/cl/else {cores(result)}; double {check[0]}, drift '
        f'{check[1]}; {others(result)}', flush=True)
    return {**result, 'double': check[0], 'drift': check[1]}


def offline(site, codes, duration, workdir):
    "OfflineGate on one core: the bundle over RPC, then scans for duration"
    from trytond.modules.zl_gate.offline import OfflineGate
    from trytond.modules.zl_gate.simulator import GateClient
    started = time.perf_counter()
    client = GateClient(site.server.url, site.database, GATE_LOGIN % GATES,
        PASSWORD, timeout=600)
    bundle = client.offline_bundle(None)
    fetched = time.perf_counter() - started
    size = len(json.dumps(bundle, ensure_ascii=False).encode())
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(affinity)})
    figures = {'bundle_s': fetched, 'bundle_mb': size / 2 ** 20,
        'passes': len(bundle['passes'])}
    try:
        with OfflineGate(str(workdir / 'offline-gate.sqlite')) as gate:
            started = time.perf_counter()
            gate.load_bundle(bundle, received_at=site.now())
            figures['load_s'] = time.perf_counter() - started
            # What bounds a recorded scan: one SQLite commit each.
            figures['sqlite'] = '%s, synchronous %s' % tuple(
                gate.store.connection.execute(f'PRAGMA {p}').fetchone()[0]
                for p in ('journal_mode', 'synchronous'))
            print(f'\n(c) offline verifier on one core: bundle of '
                f'{figures["passes"]} passes, {figures["bundle_mb"]:.1f} '
                f'MiB, fetched in {fetched:.1f} s, loaded in '
                f'{figures["load_s"]:.1f} s; SQLite journal '
                f'{figures["sqlite"]}; distinct codes, {duration:g} s or '
                f'{len(codes)} codes each', flush=True)
            for dry_run in (True, False):
                latencies, outcomes = [], Counter()
                cpu = time.thread_time()
                started = time.perf_counter()
                for code in codes:
                    begin = time.perf_counter()
                    if begin - started > duration:
                        break
                    answer = gate.scan(code, now=site.now(),
                        dry_run=dry_run)
                    latencies.append(time.perf_counter() - begin)
                    outcomes[answer['reason'] or answer['result']] += 1
                elapsed = time.perf_counter() - started
                cpu = (time.thread_time() - cpu) / elapsed
                latencies.sort()
                result = {'decisions': len(latencies),
                    'per_s': len(latencies) / elapsed,
                    'p50_us': latencies[len(latencies) // 2] * 1e6,
                    'p99_us': latencies[int(.99 * len(latencies))] * 1e6,
                    'cpu': cpu, 'outcomes': dict(outcomes)}
                figures['dry_run' if dry_run else 'real'] = result
                print(f'  dry_run={dry_run!s:<5} {result["decisions"]:>6} '
                    f'decisions, {result["per_s"]:>7.0f}/s, p50 '
                    f'{result["p50_us"]:.0f} µs, p99 {result["p99_us"]:.0f}'
                    f' µs, CPU {cpu:.0%} of the core; '
                    + ' '.join(f'{k}={v}' for k, v in outcomes.items()),
                    flush=True)
    finally:
        os.sched_setaffinity(0, affinity)
    return figures
