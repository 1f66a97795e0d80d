#!/usr/bin/env python3
"""The visit policy's cost inside the booking service, without HTTP, the
workers or the client: `Booking.book` called in this process on a
benchmark database, the policy off and on alternating, each booking in its
own transaction, rolled back (the database does not grow).

    .venv/bin/python benchmarks/visitor_bench.py --scenarios book \
        --races sold-out --policy-ab 1 --duration 1 --levels 1 --keep-db
    TRYTOND_DATABASE__URI=postgresql:/// .venv/bin/python \
        benchmarks/policy_inprocess.py zl_vbench_<id> [--profile on|off]

Prints the median and p90 of `Booking.book` per mode; with --profile, the
cProfile of 300 bookings in that mode. See benchmarks/README.md.
"""
import argparse
import cProfile
import itertools
import pstats
import statistics
import time

from bench_db import NO_POLICY
from visitor_bench import ACCOUNT_POLICY
from zl_testing import resident_id

from trytond.pool import Pool
from trytond.transaction import Transaction

ROUNDS, WARM, CALLS = 6, 20, 150


class Site:
    "The benchmark database's mini-program seller, ticket and hot slot"

    def __init__(self, database):
        self.database = database
        Pool.start()
        self.pool = Pool(database)
        self.pool.init()
        self.counter = itertools.count(10 ** 6)
        with Transaction().start(database, 0):
            Seller = self.pool.get('zl.seller')
            Slot = self.pool.get('zl.reservation.slot')
            seller, = Seller.search([('kind', '=', 'wechat_mp')])
            self.seller = seller.id
            self.ticket = next(
                t.id for t in seller.tickets if not t.per_user_limit)
            self.slot = next(s.id for s in Slot.search([])
                if s.capacity >= 10 ** 6)

    def configure(self, values):
        with Transaction().start(self.database, 0) as transaction:
            Configuration = self.pool.get('zl.reservation.configuration')
            Configuration.write(Configuration.search([]), values)
            transaction.commit()

    def book(self):
        "One booking of a new ID by one of 2,000 accounts: its seconds"
        n = next(self.counter)
        request = {'ticket': self.ticket, 'slot': self.slot,
            'visitors': [{'name': '张三', 'id_type': 'resident_id',
                    'id_number': resident_id(n)}],
            'idempotency_key': f'inprocess-{n}'}
        with Transaction().start(self.database, 0) as transaction:
            Booking = self.pool.get('zl.booking')
            start = time.perf_counter()
            Booking.book(request, self.seller,
                account=f'web.user,{n % 2000 + 10}')
            elapsed = time.perf_counter() - start
            transaction.rollback()
        return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('database')
    parser.add_argument('--profile', choices=['on', 'off'])
    args = parser.parse_args()
    site = Site(args.database)
    modes = [('off', NO_POLICY), ('on', ACCOUNT_POLICY)]
    times = {'off': [], 'on': []}
    for round_ in range(ROUNDS):
        for mode, values in modes[::-1] if round_ % 2 else modes:
            site.configure(values)
            for _ in range(WARM):
                site.book()
            times[mode] += [site.book() for _ in range(CALLS)]
    for mode, values in times.items():
        values.sort()
        print(f'{mode}: {len(values)} bookings, median '
            f'{1000 * statistics.median(values):.2f} ms, p90 '
            f'{1000 * values[int(.9 * len(values))]:.2f} ms')
    if args.profile:
        site.configure(dict(modes)[args.profile])
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(300):
            site.book()
        profile.disable()
        pstats.Stats(profile).sort_stats('cumulative').print_stats(40)


if __name__ == '__main__':
    main()
