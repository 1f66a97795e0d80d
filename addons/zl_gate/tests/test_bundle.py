# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Offline against the database (SQLite): the bundle, the upload, and the
online and offline paths deciding alike (a hypothesis property test)."""
import base64
import datetime as dt
import json
import tempfile
import time
import uuid
from pathlib import Path
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trytond.modules.zl_gate.offline import OfflineGate
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import SAME_TRANSACTION, GateMixin, visitor


class BundleTestCase(GateMixin, ModuleTestCase):
    "Test the offline bundle and upload"
    module = 'zl_gate'
    extras = []

    def bundle(self, since=None, device=None, loaded_at=None):
        """The bundle as a gate receives it (through JSON), loaded at
        loaded_at (site time; default 06:00 on the visit day, as a gate
        refreshes before opening) so that the scans at the visit's hours
        fall inside its validity whatever the time the test runs"""
        pool = Pool()
        Device = pool.get('zl.gate.device')
        Configuration = pool.get('zl.reservation.configuration')
        loaded_at = loaded_at or self.at(6)
        with patch.object(Configuration, 'now', return_value=loaded_at):
            return json.loads(json.dumps(
                    Device._bundle((device or self.device).id, since)))

    def upload(self, scans, device=None):
        Device = Pool().get('zl.gate.device')
        from trytond.modules.zl_gate.bundle import upload_item
        return Device._upload(
            (device or self.device).id, [upload_item(s) for s in scans])

    def offline_gate(self, folder, bundle):
        "A gate holding bundle whose clocks agree with the server"
        gate = OfflineGate(Path(folder) / 'gate.sqlite')
        self.received = dt.datetime.fromisoformat(bundle['server_time'])
        self.mono = time.monotonic()
        gate.load_bundle(bundle, received_at=self.received,
            received_mono=self.mono)
        return gate

    def offline_scan(self, gate, code, now, dry_run=False):
        "Scan at site time now, the gate's monotonic clock in step"
        return gate.scan(code, now=now,
            now_mono=self.mono + (now - self.received).total_seconds(),
            dry_run=dry_run)

    @with_transaction(context=SAME_TRANSACTION)
    def test_bundle_content(self):
        "Public keys only; today's ID key only; the passes to decide"
        pool = Pool()
        PassKey = pool.get('zl.pass.key')
        self.setup_gate()
        code = self.pass_code()
        bundle = self.bundle()
        text = json.dumps(bundle)
        for key in PassKey.search([]):
            self.assertNotIn(
                base64.urlsafe_b64encode(bytes(key.private_key)).decode()
                .rstrip('='), text)
            self.assertNotIn(bytes(key.private_key).hex(), text)
            self.assertEqual(base64.urlsafe_b64decode(
                    bundle['keys'][str(key.key_id)] + '=='),
                bytes(key.public_key))
        today = dt.date.fromisoformat(bundle['server_time'][:10])
        self.assertEqual(list(bundle['id_keys']), [today.isoformat()])
        pass_, = bundle['passes']
        self.assertEqual(pass_['id'], self.pass_row(code).id)
        self.assertTrue(pass_['id_digest'])
        self.assertEqual(bundle['device']['tickets'], [self.ticket.id])
        self.assertEqual([s['id'] for s in bundle['slots']
                if s['id'] == self.slot.id], [self.slot.id])
        self.assertTrue(bundle['full'])
        for reason in ['too_early', 'wrong_date', 'entry', 'clock_skew']:
            self.assertTrue(bundle['messages'][reason])

    @with_transaction(context=SAME_TRANSACTION)
    def test_incremental_revocation(self):
        "A pass cancelled after the bundle is refused after the refresh"
        pool = Pool()
        Booking = pool.get('zl.booking')
        Pass = pool.get('zl.pass')
        self.setup_gate()
        booking = self.book(self.request(visitor(1)))
        code = booking['passes'][0]['code']
        with tempfile.TemporaryDirectory() as folder:
            gate = self.offline_gate(folder, self.bundle())
            since = gate.since
            self.assertEqual(self.offline_scan(
                    gate, code, self.at(8, 30), dry_run=True)['result'], 'ok')
            Booking.cancel_bookings([Booking(booking['id'])])
            # The cancellation was written "later" than the cursor.
            table = Pass.__table__()
            Transaction().connection.cursor().execute(*table.update(
                    [table.write_date],
                    [dt.datetime.utcnow() + dt.timedelta(minutes=5)]))
            update = self.bundle(since=since)
            self.assertFalse(update['full'])
            self.assertIn(self.pass_row(code).id, update['revoked'])
            gate.load_bundle(update, received_at=self.received,
                received_mono=self.mono)
            answer = self.offline_scan(gate, code, self.at(8, 30))
            self.assertEqual(answer['reason'], 'cancelled')
            gate.close()

    @with_transaction(context=SAME_TRANSACTION)
    def test_upload_duplicates_and_conflicts(self):
        "Two gates admit one pass offline: both kept, the second a conflict"
        pool = Pool()
        Checkin = pool.get('zl.gate.checkin')
        self.setup_gate()
        code = self.pass_code()
        other = self.other_device(tickets=[('add', [self.ticket.id])])
        scan = {'code': code, 'scanned_at': self.at(8, 30).isoformat(),
            'result': 'ok', 'kind': 'entry'}
        first = [dict(scan, scan_id='a1')]
        self.assertEqual(self.upload(first),
            {'stored': 1, 'duplicates': 0, 'conflicts': 0})
        # The same batch again changes nothing.
        self.assertEqual(self.upload(first),
            {'stored': 0, 'duplicates': 1, 'conflicts': 0})
        self.assertEqual(self.upload([dict(scan, scan_id='b1')], other),
            {'stored': 1, 'duplicates': 0, 'conflicts': 1})
        self.assertEqual(self.pass_row(code).uses_left, 0)
        checkins = Checkin.search([], order=[('id', 'ASC')])
        self.assertEqual([(c.mode, c.conflict, c.consumed) for c in checkins],
            [('offline', False, True), ('offline', True, True)])

    @with_transaction(context=SAME_TRANSACTION)
    def test_upload_refuses_foreign_pass_ids(self):
        "An ID-card scan names a pass: only one this gate accepts counts"
        pool = Pool()
        Checkin = pool.get('zl.gate.checkin')
        self.setup_gate()
        code = self.pass_code()
        other = self.other_device()
        self.upload([{'scan_id': 'x', 'pass': self.pass_row(code).id,
                    'scanned_at': self.at(8, 30).isoformat(),
                    'result': 'ok', 'kind': 'entry'}], other)
        self.assertEqual(self.pass_row(code).uses_left, 1)
        checkin, = Checkin.search([])
        self.assertEqual((checkin.result, checkin.reason),
            ('rejected', 'unknown'))

    @with_transaction(context=SAME_TRANSACTION)
    def test_offline_upload_round_trip(self):
        "Scans decided offline, uploaded: the server spends the uses"
        self.setup_gate()
        code = self.pass_code()
        with tempfile.TemporaryDirectory() as folder:
            gate = self.offline_gate(folder, self.bundle())
            self.assertEqual(
                self.offline_scan(gate, code, self.at(8, 30))['result'], 'ok')
            self.assertEqual(self.offline_scan(
                    gate, code, self.at(8, 31))['reason'], 'already_used')
            pending = gate.pending()
            self.assertEqual(self.upload(pending)['stored'], 2)
            gate.close()
        self.assertEqual(self.pass_row(code).uses_left, 0)

    # Online and offline decide alike ------------------------------------

    @settings(max_examples=40, deadline=None,
        suppress_health_check=list(HealthCheck))
    @given(
        usable_count=st.integers(1, 3),
        rescan_count=st.integers(0, 2),
        rescan_interval=st.sampled_from([0, 5, 30]),
        tolerance=st.sampled_from([0, 10]),
        accepted=st.booleans(),
        state=st.sampled_from(['valid', 'cancelled', 'blocked', 'expired']),
        entries=st.lists(st.integers(-180, 300), max_size=3),
        scan_at=st.integers(-24 * 60, 24 * 60))
    def test_online_offline_agree(self, **case):
        self._agree(**case)

    @with_transaction(context=SAME_TRANSACTION)
    def _agree(self, usable_count, rescan_count, rescan_interval, tolerance,
            accepted, state, entries, scan_at):
        """Same pass, same history, same moment: the online dry run and
        the offline gate give the same result and reason"""
        pool = Pool()
        Device = pool.get('zl.gate.device')
        Configuration = pool.get('zl.reservation.configuration')
        Configuration.write([Configuration(1)], {'gate_bundle_hours': 96})
        self.setup_gate(usable_count=usable_count, rescan_count=rescan_count,
            rescan_interval=rescan_interval, tolerance_before=tolerance,
            tolerance_after=tolerance)
        if not accepted:
            Device.write([self.device], {'tickets': [('remove',
                            [self.ticket.id])]})
        code = self.pass_code()
        base = self.at(8)
        # A history of entries, in time order, through the online path.
        for minutes in sorted(entries):
            self.redeem(code, base + dt.timedelta(minutes=minutes))
        if state != 'valid':
            self.set_pass_state(code, state)
        now = base + dt.timedelta(minutes=scan_at)
        online = self.redeem(code, now, dry_run=True)
        with tempfile.TemporaryDirectory() as folder:
            gate = self.offline_gate(folder, self.bundle())
            offline = self.offline_scan(gate, code, now, dry_run=True)
            gate.close()
        self.assertEqual(
            (offline['result'], offline['reason'], offline['kind']),
            (online['result'], online['reason'], online['kind']),
            (online, offline, uuid.uuid4()))


del ModuleTestCase
