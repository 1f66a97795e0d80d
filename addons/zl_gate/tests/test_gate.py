# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Online redeem against the database (SQLite): every reason from real
passes, ID cards, exits, annul, scan ids and dry runs.  The rule itself is
tested exhaustively in test_decision.py; these prove the facts reach it."""
import datetime as dt
import json

from trytond.modules.zl_gate.exceptions import GateError
from trytond.modules.zl_reservation import passcode
from trytond.modules.zl_reservation.identity import make_resident_id
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import SAME_TRANSACTION, GateMixin, visitor


class GateTestCase(GateMixin, ModuleTestCase):
    "Test the gate's online redeem"
    module = 'zl_gate'
    extras = []

    def assertReason(self, answer, reason):
        self.assertEqual(
            (answer['result'], answer['reason']),
            ('ok' if reason is None else 'rejected', reason), answer)
        self.assertTrue(answer['message'])

    @with_transaction(context=SAME_TRANSACTION)
    def test_ok_then_already_used(self):
        "上午场: 08:30 passes once, a second scan is already_used"
        self.setup_gate()
        code = self.pass_code()
        answer = self.redeem(code, self.at(8, 30))
        self.assertReason(answer, None)
        self.assertEqual(answer['kind'], 'entry')
        self.assertEqual(answer['pass']['uses_left'], 0)
        self.assertEqual(answer['pass']['slot']['session'], "上午场")
        self.assertEqual(answer['pass']['visitor'], "游**")
        self.assertEqual(self.pass_row(code).state, 'used')
        self.assertReason(self.redeem(code, self.at(8, 31)), 'already_used')

    @with_transaction(context=SAME_TRANSACTION)
    def test_invalid(self):
        "Garbage, an altered code, another key's code, a huge code"
        self.setup_gate()
        code = self.pass_code()
        altered = code[:-5] + ('A' if code[-5] != 'A' else 'B') + code[-4:]
        private, _ = passcode.generate_key()
        payload = passcode.decode(code)
        foreign = passcode.sign(private, payload.key_id, payload.pass_id,
            payload.ticket_id, payload.date, payload.slot_id)
        for bad in ['', 'hello', altered, foreign, 'ZL1' + 'A' * 10000,
                '\x00\xff' * 50]:
            self.assertReason(self.redeem(bad, self.at(8, 30)), 'invalid')
        # Nothing was spent by the forgeries.
        self.assertEqual(self.pass_row(code).uses_left, 1)

    @with_transaction(context=SAME_TRANSACTION)
    def test_unknown(self):
        "A genuine signature over a pass that does not exist"
        pool = Pool()
        PassKey = pool.get('zl.pass.key')
        self.setup_gate()
        _, key_id, private = PassKey.signing_material()
        code = passcode.sign(private, key_id, 999999, self.ticket.id,
            self.day, self.slot.id)
        self.assertReason(self.redeem(code, self.at(8, 30)), 'unknown')
        self.assertReason(
            self.redeem(make_resident_id(seq='777'), self.at(8, 30)),
            'unknown')

    @with_transaction(context=SAME_TRANSACTION)
    def test_cancelled_refunded_blocked(self):
        pool = Pool()
        Booking = pool.get('zl.booking')
        self.setup_gate()
        booking = self.book(self.request(visitor(1)))
        Booking.cancel_bookings([Booking(booking['id'])])
        self.assertReason(self.redeem(
                booking['passes'][0]['code'], self.at(8, 30)), 'cancelled')
        code = self.pass_code(2)
        self.set_pass_state(code, 'refunded')
        self.assertReason(self.redeem(code, self.at(8, 30)), 'refunded')
        code = self.pass_code(3)
        self.set_pass_state(code, 'blocked')
        self.assertReason(self.redeem(code, self.at(8, 30)), 'blocked')

    @with_transaction(context=SAME_TRANSACTION)
    def test_wrong_gate(self):
        "A gate that does not accept the ticket (检票设置)"
        self.setup_gate()
        code = self.pass_code()
        other = self.other_device()
        self.assertReason(
            self.redeem(code, self.at(8, 30), device=other), 'wrong_gate')
        self.assertEqual(self.pass_row(code).uses_left, 1)

    @with_transaction(context=SAME_TRANSACTION)
    def test_wrong_date(self):
        self.setup_gate()
        code = self.pass_code()
        answer = self.redeem(
            code, self.at(8, 30, day=self.day - dt.timedelta(days=1)))
        self.assertReason(answer, 'wrong_date')
        # The gate says when it would pass.
        self.assertIn(self.day.isoformat(), answer['message'])
        self.assertIn("上午场", answer['message'])
        self.assertEqual(answer['valid_from'], self.at(8).isoformat())

    @with_transaction(context=SAME_TRANSACTION)
    def test_window_edges(self):
        "07:59:59 too early, 08:00 and 12:00 pass, 12:00:01 too late"
        self.setup_gate()
        early = self.redeem(self.pass_code(1), self.at(7, 59, 59))
        self.assertReason(early, 'too_early')
        self.assertIn('08:00', early['message'])
        self.assertEqual(early['valid_from'], self.at(8).isoformat())
        self.assertReason(self.redeem(self.pass_code(2), self.at(8)), None)
        self.assertReason(self.redeem(self.pass_code(3), self.at(12)), None)
        self.assertReason(
            self.redeem(self.pass_code(4), self.at(12, 0, 1)), 'too_late')

    @with_transaction(context=SAME_TRANSACTION)
    def test_window_edges_with_tolerance(self):
        self.setup_gate(tolerance_before=15, tolerance_after=10)
        early = self.redeem(self.pass_code(1), self.at(7, 44, 59))
        self.assertReason(early, 'too_early')
        self.assertIn('07:45', early['message'])
        self.assertReason(self.redeem(self.pass_code(2), self.at(7, 45)), None)
        self.assertReason(
            self.redeem(self.pass_code(3), self.at(12, 10)), None)
        self.assertReason(
            self.redeem(self.pass_code(4), self.at(12, 10, 1)), 'too_late')

    @with_transaction(context=SAME_TRANSACTION)
    def test_expired(self):
        self.setup_gate()
        code = self.pass_code()
        self.set_pass_state(code, 'expired')
        self.assertReason(self.redeem(code, self.at(8, 30)), 'expired')

    @with_transaction(context=SAME_TRANSACTION)
    def test_rescan(self):
        "重刷次数/重刷间隔: one free re-scan within 10 minutes"
        self.setup_gate(rescan_count=1, rescan_interval=10)
        code = self.pass_code()
        self.assertReason(self.redeem(code, self.at(9)), None)
        again = self.redeem(code, self.at(9, 5))
        self.assertReason(again, None)
        self.assertEqual(again['kind'], 'rescan')
        self.assertEqual(self.pass_row(code).uses_left, 0)
        self.assertReason(self.redeem(code, self.at(9, 6)), 'already_used')
        self.assertReason(self.redeem(code, self.at(9, 20)), 'already_used')

    @with_transaction(context=SAME_TRANSACTION)
    def test_rescan_too_soon(self):
        "A pass of two entries is not passed back within the interval"
        self.setup_gate(usable_count=2, rescan_interval=10)
        code = self.pass_code()
        self.assertReason(self.redeem(code, self.at(9)), None)
        soon = self.redeem(code, self.at(9, 5))
        self.assertReason(soon, 'rescan_too_soon')
        self.assertIn('09:10', soon['message'])
        self.assertReason(self.redeem(code, self.at(9, 10)), None)
        self.assertEqual(self.pass_row(code).uses_left, 0)

    @with_transaction(context=SAME_TRANSACTION)
    def test_id_card(self):
        "A 居民身份证 read at the gate finds today's pass; never stored"
        pool = Pool()
        Checkin = pool.get('zl.gate.checkin')
        self.setup_gate()
        person = visitor(5)
        self.book(self.request(person))
        number = person['id_number']
        self.assertReason(self.redeem(number, self.at(8, 30)), None)
        self.assertReason(
            self.redeem(number, self.at(8, 31)), 'already_used')
        # Tomorrow the same card has no pass.
        self.assertReason(self.redeem(number, self.at(
                    8, 30, day=self.day + dt.timedelta(days=1))), 'unknown')
        for checkin in Checkin.search([]):
            self.assertNotIn(number[:14], checkin.answer)
            self.assertNotIn(number[:14], checkin.scan_id)

    @with_transaction(context=SAME_TRANSACTION)
    def test_exit(self):
        "An exit device counts the exit and never spends a use"
        pool = Pool()
        Checkin = pool.get('zl.gate.checkin')
        self.setup_gate()
        code = self.pass_code()
        exit_ = self.other_device(direction='exit')
        answer = self.redeem(code, self.at(15), device=exit_)
        self.assertReason(answer, None)
        self.assertEqual(answer['kind'], 'exit')
        self.assertEqual(self.pass_row(code).uses_left, 1)
        checkin, = Checkin.search([('device', '=', exit_.id)])
        self.assertEqual((checkin.kind, checkin.consumed), ('exit', False))

    @with_transaction(context=SAME_TRANSACTION)
    def test_annul(self):
        "The turnstile did not turn: the use comes back, once"
        pool = Pool()
        Device = pool.get('zl.gate.device')
        self.setup_gate()
        code = self.pass_code()
        self.redeem(code, self.at(8, 30), scan_id='s1')
        result = Device._annul(self.device.id, 's1')
        self.assertEqual(result['uses_left'], 1)
        self.assertEqual(self.pass_row(code).state, 'valid')
        # Annulling again changes nothing more.
        self.assertEqual(Device._annul(self.device.id, 's1')['uses_left'], 1)
        self.assertReason(self.redeem(code, self.at(8, 31)), None)
        refused = self.redeem(code, self.at(8, 32), scan_id='s3')
        for scan_id, code_ in [('s3', 'not_annullable'),
                ('nope', 'unknown_scan')]:
            with self.assertRaises(GateError) as cm:
                Device._annul(self.device.id, scan_id)
            self.assertEqual(cm.exception.code, code_)
        self.assertEqual(refused['reason'], 'already_used')

    @with_transaction(context=SAME_TRANSACTION)
    def test_annul_too_late(self):
        pool = Pool()
        Device = pool.get('zl.gate.device')
        Configuration = pool.get('zl.reservation.configuration')
        Checkin = pool.get('zl.gate.checkin')
        self.setup_gate()
        Configuration.write([Configuration(1)], {'gate_annul_window': 30})
        self.redeem(self.pass_code(), self.at(8, 30), scan_id='s1')
        table = Checkin.__table__()
        Transaction().connection.cursor().execute(*table.update(
                [table.scanned_at],
                [dt.datetime.utcnow() - dt.timedelta(seconds=31)]))
        with self.assertRaises(GateError) as cm:
            Device._annul(self.device.id, 's1')
        self.assertEqual(cm.exception.code, 'annul_too_late')

    @with_transaction(context=SAME_TRANSACTION)
    def test_same_scan_id_same_answer(self):
        "A retried scan gets the first answer, even if the pass changed"
        pool = Pool()
        Booking = pool.get('zl.booking')
        Checkin = pool.get('zl.gate.checkin')
        self.setup_gate()
        booking = self.book(self.request(visitor(1)))
        code = booking['passes'][0]['code']
        first = self.redeem(code, self.at(8, 30), scan_id='same')
        self.set_pass_state(code, 'valid')
        Booking.cancel_bookings([Booking(booking['id'])])
        self.assertEqual(
            self.redeem(code, self.at(8, 31), scan_id='same'), first)
        self.assertEqual(Checkin.search([], count=True), 1)

    @with_transaction(context=SAME_TRANSACTION)
    def test_dry_run(self):
        "A dry run decides, spends nothing and records nothing"
        pool = Pool()
        Checkin = pool.get('zl.gate.checkin')
        self.setup_gate()
        code = self.pass_code()
        answer = self.redeem(code, self.at(8, 30), dry_run=True)
        self.assertReason(answer, None)
        self.assertTrue(answer['dry_run'])
        self.assertEqual(answer['pass']['uses_left'], 0)
        self.assertEqual(self.pass_row(code).uses_left, 1)
        self.assertEqual(Checkin.search([], count=True), 0)

    @with_transaction(context=SAME_TRANSACTION)
    def test_attention_child(self):
        "A child's pass tells the attendant, without the ID number"
        self.setup_gate()
        child = visitor(6, id_number=make_resident_id(birth='20200101'))
        code = self.book(self.request(child))['passes'][0]['code']
        answer = self.redeem(code, self.at(8, 30))
        self.assertTrue(answer['attention'])
        self.assertEqual(answer['attention_flags'], ['child'])
        self.assertIn("guardian", answer['attention_text'])
        self.assertNotIn('20200101', json.dumps(answer, ensure_ascii=False))

    @with_transaction(context=SAME_TRANSACTION)
    def test_attention_group(self):
        "A group pass: admit N"
        pool = Pool()
        Checkin = pool.get('zl.gate.checkin')
        self.setup_gate(
            capacity=50, kind='group', group_min=2, group_max=30)
        booking = self.book(self.request(group={
                    'name': "实验小学", 'leader': "王老师", 'size': 25}))
        answer = self.redeem(booking['passes'][0]['code'], self.at(8, 30))
        self.assertReason(answer, None)
        self.assertEqual(answer['attention_flags'], ['group'])
        self.assertIn('25', answer['attention_text'])
        checkin, = Checkin.search([])
        self.assertEqual(checkin.admits, 25)


del ModuleTestCase
