# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Reserved places per slot and the re-release hold (places.py, the
slot's take and give_back): each pool keeps its reserve until the
release moment, cancellations give back to their pool, held places wait
for the re-release time; and the conditional UPDATE decides exactly as
the pure rule (SQLite; the races: tests/test_reserve_races.py)."""
import datetime as dt
import random
import unittest
from unittest.mock import patch

from trytond.model.exceptions import ValidationError
from trytond.modules.zl_reservation import places
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import PHONE, SAME_TRANSACTION, SiteMixin, visitor

COUNTERS = ['capacity', 'booked', 'reserved_window', 'booked_window',
    'reserved_group', 'booked_group', 'held', 'held_until', 'closed']


class ReservedPlacesTestCase(SiteMixin, ModuleTestCase):
    "Test the reserved places and the re-release hold"
    module = 'zl_reservation'
    extras = []

    def setup_reserves(self, capacity=10, window=0, group=0, **config):
        """The site with a group ticket and a window seller beside the
        online one; the slot of tomorrow keeps window and group places"""
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        Ticket = pool.get('zl.ticket')
        Seller = pool.get('zl.seller')
        Plan = pool.get('zl.reservation.plan')
        Slot = pool.get('zl.reservation.slot')
        # First: the singleton's creation locks its table.
        Configuration.write([Configuration(1)], dict(
                {'cancel_deadline': 0}, **config))
        self.setup_site(capacity=capacity, per_user_limit=0)
        self.group_ticket, = Ticket.create([{
                    'name': "团体票", 'code': 'GRP', 'kind': 'group',
                    'group_min': 1, 'group_max': 50, 'per_user_limit': 0}])
        Ticket.put_on_shelf([self.group_ticket])
        tickets = [self.ticket.id, self.group_ticket.id]
        Seller.write([self.seller], {'tickets': [('add', tickets)]})
        self.window, self.kiosk = Seller.create([{
                    'name': "窗口", 'kind': kind,
                    'tickets': [('add', tickets)]}
                for kind in ['window', 'kiosk']])
        Plan.write([self.plan], {'tickets': [('add', tickets)]})
        Slot.write([self.slot], {
                'reserved_window': window, 'reserved_group': group})
        self.seq = 0

    def visitors(self, n):
        self.seq += n
        return [visitor(s) for s in range(self.seq - n, self.seq)]

    def online(self, n):
        return self.book(self.request(*self.visitors(n)))

    def at_window(self, n, seller=None):
        return Pool().get('zl.booking').book(
            self.request(*self.visitors(n)), (seller or self.window).id)

    def group(self, size, seller=None):
        request = dict(self.request(), ticket=self.group_ticket.id,
            group={'name': "某某中学", 'leader': "王老师", 'size': size},
            contact={'name': "王老师", 'phone': PHONE})
        return Pool().get('zl.booking').book(
            request, (seller or self.seller).id)

    def refused(self, book, n):
        with self.assertRaises(Exception) as cm:
            book(n)
        self.assertEqual(getattr(cm.exception, 'code', None), 'sold_out',
            cm.exception)

    def counts(self):
        slot = Pool().get('zl.reservation.slot')(self.slot.id)
        return (slot.booked, slot.booked_window, slot.booked_group,
            slot.held)

    def cancel(self, *results):
        Booking = Pool().get('zl.booking')
        Booking.cancel_bookings([Booking(r['id']) for r in results])

    def release_moment(self):
        return dt.datetime.combine(self.slot.date, dt.time(8)) - (
            dt.timedelta(minutes=self.plan.reserve_release))

    def at(self, moment):
        Configuration = Pool().get('zl.reservation.configuration')
        return patch.object(Configuration, 'now', return_value=moment)

    @with_transaction(context=SAME_TRANSACTION)
    def test_window_uses_its_reserve(self):
        "The window books its reserve; online never reaches it"
        pool = Pool()
        Booking = pool.get('zl.booking')
        Slot = pool.get('zl.reservation.slot')
        self.setup_reserves(capacity=10, window=4)
        slot = Slot(self.slot.id)
        self.assertEqual((slot.available, slot.available_online,
                slot.available_window, slot.available_group), (10, 6, 10, 6))
        first = self.online(6)
        self.refused(self.online, 1)
        self.assertEqual(Slot(self.slot.id).booking_state(
                Pool().get('zl.reservation.configuration').now()),
            'sold_out')
        # The reserve stays the window's, and the kiosk's.
        self.at_window(3)
        self.at_window(1, seller=self.kiosk)
        self.refused(self.at_window, 1)
        self.assertEqual(self.counts(), (10, 4, 0, 0))
        self.assertEqual(Booking(first['id']).pool, 'online')
        self.assertEqual(
            sorted(b.pool for b in Booking.search([])),
            ['online', 'window', 'window'])

    @with_transaction(context=SAME_TRANSACTION)
    def test_window_overflows_into_free_places(self):
        "The window may use the free places too; online gets what is left"
        self.setup_reserves(capacity=10, window=4)
        self.at_window(8)
        self.online(2)
        self.refused(self.online, 1)
        self.refused(self.at_window, 1)
        self.assertEqual(self.counts(), (10, 8, 0, 0))

    @with_transaction(context=SAME_TRANSACTION)
    def test_group_reserve(self):
        "Groups keep theirs: neither online nor the window may take it"
        self.setup_reserves(capacity=10, window=2, group=5)
        self.online(3)
        self.refused(self.online, 1)
        self.at_window(2)
        self.refused(self.at_window, 1)
        # A group booked through the window is still the groups' pool.
        self.group(3, seller=self.window)
        self.group(2)
        self.refused(self.group, 1)
        self.assertEqual(self.counts(), (10, 2, 5, 0))

    @with_transaction(context=SAME_TRANSACTION)
    def test_release_moment(self):
        """The minute before the release the reserves are kept; from the
        release moment every channel may use every free place"""
        pool = Pool()
        Plan = pool.get('zl.reservation.plan')
        Slot = pool.get('zl.reservation.slot')
        self.setup_reserves(capacity=6, window=2, group=2)
        Plan.write([self.plan], {'reserve_release': 90})
        release = self.release_moment()
        self.assertEqual(release,
            dt.datetime.combine(self.slot.date, dt.time(6, 30)))
        self.online(2)
        with self.at(release - dt.timedelta(minutes=1)):
            self.refused(self.online, 1)
            self.assertEqual(Slot(self.slot.id).available_online, 0)
        with self.at(release):
            self.assertEqual(Slot(self.slot.id).available_online, 4)
            self.online(3)
        with self.at(release + dt.timedelta(minutes=1)):
            self.at_window(1)
            self.refused(self.group, 1)
        self.assertEqual(self.counts(), (6, 1, 0, 0))

    @with_transaction(context=SAME_TRANSACTION)
    def test_cancel_returns_to_pool(self):
        "A cancellation gives the places back to the pool it took them from"
        self.setup_reserves(capacity=6, window=2, group=2)
        window = self.at_window(2)
        group = self.group(2)
        self.online(2)
        self.assertEqual(self.counts(), (6, 2, 2, 0))
        self.cancel(window)
        self.assertEqual(self.counts(), (4, 0, 2, 0))
        # Back in the window's reserve: not online's.
        self.refused(self.online, 1)
        self.cancel(group)
        self.assertEqual(self.counts(), (2, 0, 0, 0))
        self.refused(self.online, 1)
        self.at_window(2)
        self.group(2)
        self.assertEqual(self.counts(), (6, 2, 2, 0))

    @with_transaction(context=SAME_TRANSACTION)
    def test_hold_off_by_default(self):
        "Without the hold, a cancelled place is bookable at once"
        self.setup_reserves(capacity=1)
        self.cancel(self.online(1))
        self.assertEqual(self.counts(), (0, 0, 0, 0))
        self.online(1)

    @with_transaction(context=SAME_TRANSACTION)
    def test_hold(self):
        """With the hold, returned places wait for the re-release time:
        the minute before it they count as taken, at it they are free"""
        pool = Pool()
        Slot = pool.get('zl.reservation.slot')
        self.setup_reserves(capacity=2, rerelease_hold=True,
            rerelease_time=dt.time(20))
        today = self.slot.date - dt.timedelta(days=1)
        rerelease = dt.datetime.combine(today, dt.time(20))
        with self.at(dt.datetime.combine(today, dt.time(10))):
            first, second = self.online(1), self.online(1)
            self.cancel(first)
        with self.at(dt.datetime.combine(today, dt.time(11))):
            self.cancel(second)
            slot = Slot(self.slot.id)
            self.assertEqual((slot.booked, slot.held, slot.held_until),
                (0, 2, rerelease))
            self.assertEqual(slot.available_online, 0)
        with self.at(rerelease - dt.timedelta(minutes=1)):
            self.refused(self.online, 1)
        with self.at(rerelease):
            self.assertEqual(Slot(self.slot.id).available_online, 2)
            self.online(2)
        self.assertEqual(self.counts(), (2, 0, 0, 2))
        # After the re-release time the old hold is over: the next
        # cancellation holds its own places until tomorrow's time.
        Booking = pool.get('zl.booking')
        last, = Booking.search([('state', '=', 'confirmed')])
        with self.at(rerelease + dt.timedelta(minutes=1)):
            self.cancel({'id': last.id})
        slot = Slot(self.slot.id)
        self.assertEqual((slot.booked, slot.held, slot.held_until),
            (0, 2, rerelease + dt.timedelta(days=1)))

    @with_transaction(context=SAME_TRANSACTION)
    def test_sessions_give_slots_their_reserves(self):
        "New slots copy their session's reserves; staff change a slot's"
        pool = Pool()
        Plan = pool.get('zl.reservation.plan')
        Slot = pool.get('zl.reservation.slot')
        Configuration = pool.get('zl.reservation.configuration')
        today = Configuration.now().date()
        plan, = Plan.create([{
                    'name': "预约", 'start_date': today,
                    'end_date': today + dt.timedelta(days=3),
                    'advance_days': 2,
                    'sessions': [('create', [{
                                    'name': "上午场",
                                    'checkin_start': dt.time(8),
                                    'checkin_end': dt.time(12),
                                    'capacity': 50, 'reserved_window': 10,
                                    'reserved_group': 5}])],
                    }])
        self.assertEqual(plan.reserve_release, 120)
        Plan.activate([plan])
        slots = Slot.search([('plan', '=', plan.id)])
        self.assertEqual({(s.reserved_window, s.reserved_group)
                for s in slots}, {(10, 5)})
        Slot.write(slots[:1], {'reserved_window': 0})
        self.assertEqual(slots[0].reserved_window, 0)

    @with_transaction(context=SAME_TRANSACTION)
    def test_checks(self):
        "Reserves are never negative and never above the capacity"
        pool = Pool()
        Slot = pool.get('zl.reservation.slot')
        Session = pool.get('zl.reservation.session')
        Plan = pool.get('zl.reservation.plan')
        self.setup_reserves(capacity=10)
        session, = self.plan.sessions
        cursor = Transaction().connection.cursor()
        for Model, record, values in [
                (Slot, self.slot, {'reserved_window': 11}),
                (Slot, self.slot, {'reserved_window': 6,
                        'reserved_group': 5}),
                (Slot, self.slot, {'reserved_group': -1}),
                (Slot, self.slot, {'reserved_window': 5, 'capacity': 4}),
                (Session, session, {'reserved_window': 11}),
                (Session, session, {'reserved_group': -1}),
                (Plan, self.plan, {'reserve_release': -1}),
                ]:
            # On PostgreSQL the Check aborts the transaction: a savepoint
            # lets the test go on (a client's call is rolled back).
            cursor.execute('SAVEPOINT reserves')
            with self.assertRaises(ValidationError, msg=values):
                Model.write([record], values)
            cursor.execute('ROLLBACK TO SAVEPOINT reserves')
        Slot.write([self.slot], {'reserved_window': 6, 'reserved_group': 4})

    @with_transaction(context=SAME_TRANSACTION)
    def test_sql_take_agrees_with_free_places(self):
        """Slot.take's conditional UPDATE and places.free_places decide
        alike on thousands of random slot states"""
        pool = Pool()
        Slot = pool.get('zl.reservation.slot')
        self.setup_reserves()
        table = Slot.__table__()
        cursor = Transaction().connection.cursor()
        rng = random.Random(11)
        now = dt.datetime(2026, 11, 26, 10, 30, 15, 250000)
        holds = [None, now - dt.timedelta(minutes=1), now,
            now + dt.timedelta(minutes=1)]
        columns = [getattr(table, c) for c in COUNTERS]
        decisions = {}
        for _ in range(3000):
            capacity = rng.randint(0, 12)
            reserved_window = rng.randint(0, capacity)
            reserved_group = rng.randint(0, capacity - reserved_window)
            booked = rng.randint(0, capacity)
            booked_window = rng.randint(0, booked)
            booked_group = rng.randint(0, booked - booked_window)
            held = rng.randint(0, capacity)
            held_until = rng.choice(holds)
            closed = rng.random() < 0.05
            pool_ = rng.choice(places.POOLS)
            released = rng.random() < 0.3
            quantity = rng.randint(1, capacity + 1)
            state = [capacity, booked, reserved_window, booked_window,
                reserved_group, booked_group, held, held_until, closed]
            cursor.execute(*table.update(columns, state,
                    where=table.id == self.slot.id))
            free = places.free_places(
                capacity, booked, reserved_window, booked_window,
                reserved_group, booked_group,
                places.held_now(held, held_until, now), pool_, released)
            expected = ('closed' if closed
                else None if quantity <= free else 'sold_out')
            answer = Slot.take(self.slot.id, quantity, pool_, now, released)
            self.assertEqual(answer, expected, dict(
                    zip(COUNTERS, state), pool=pool_, released=released,
                    quantity=quantity, free=free))
            cursor.execute(*table.select(table.booked, table.booked_window,
                    table.booked_group, where=table.id == self.slot.id))
            took = quantity if expected is None else 0
            self.assertEqual(cursor.fetchone(), (
                    booked + took,
                    booked_window + (took if pool_ == 'window' else 0),
                    booked_group + (took if pool_ == 'group' else 0)))
            decisions[expected] = decisions.get(expected, 0) + 1
        # Both answers came often enough to mean something.
        self.assertGreater(decisions[None], 500)
        self.assertGreater(decisions['sold_out'], 500)


class PlacesRuleTestCase(unittest.TestCase):
    "Test the pure rules of places.py"

    def test_pool_of(self):
        self.assertEqual(places.pool_of('group', 'window'), 'group')
        self.assertEqual(places.pool_of('individual', 'window'), 'window')
        self.assertEqual(places.pool_of('individual', 'kiosk'), 'window')
        for kind in ['wechat_mp', 'distributor', 'ota']:
            self.assertEqual(places.pool_of('individual', kind), 'online')

    def test_next_rerelease(self):
        day = dt.date(2026, 11, 26)
        at = dt.time(20)
        for now, expected in [
                (dt.datetime.combine(day, dt.time(19, 59)), day),
                (dt.datetime.combine(day, at), day + dt.timedelta(days=1)),
                (dt.datetime.combine(day, dt.time(23)),
                    day + dt.timedelta(days=1)),
                ]:
            self.assertEqual(places.next_rerelease(now, at),
                dt.datetime.combine(expected, at))

    def test_free_places_bounds(self):
        "Never more than capacity less booked and held, never negative"
        rng = random.Random(7)
        for _ in range(5000):
            capacity = rng.randint(0, 20)
            rw = rng.randint(0, capacity)
            rg = rng.randint(0, capacity - rw)
            booked = rng.randint(0, capacity)
            bw = rng.randint(0, booked)
            bg = rng.randint(0, booked - bw)
            held = rng.randint(0, capacity)
            for pool in places.POOLS:
                free = places.free_places(
                    capacity, booked, rw, bw, rg, bg, held, pool, False)
                after = places.free_places(
                    capacity, booked, rw, bw, rg, bg, held, pool, True)
                self.assertGreaterEqual(free, 0)
                self.assertLessEqual(free, after)
                self.assertEqual(after, max(capacity - booked - held, 0))
                # Another pool's unused reserve is never free.
                others = sum(max(r - b, 0) for p, r, b in [
                        ('window', rw, bw), ('group', rg, bg)] if p != pool)
                self.assertLessEqual(free, max(
                        capacity - booked - held - others, 0))


del ModuleTestCase
