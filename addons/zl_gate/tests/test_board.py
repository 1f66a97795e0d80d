# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The entry board (入园看板) and the gate statistics (闸机统计) on SQLite:
what they count from the check-in records, and who sees which counts."""
import datetime as dt
import itertools

from trytond.model.exceptions import AccessError
from trytond.modules.zl_reservation.tests.tools import (
    SAME_TRANSACTION,
    SiteMixin,
)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

SCAN_IDS = itertools.count(1)


class BoardTestCase(SiteMixin, ModuleTestCase):
    "Test the entry board"
    module = 'zl_gate'

    def setup_gates(self):
        """A site with 4 of 10 places booked in tomorrow's session, two
        entry gates A and B, an exit gate X, and their scans"""
        pool = Pool()
        Device = pool.get('zl.gate.device')
        Slot = pool.get('zl.reservation.slot')
        self.setup_site(capacity=10)
        self.assertIsNone(Slot.take(self.slot.id, 4))
        self.day = self.slot.date
        self.gate_a, self.gate_b, self.gate_x = Device.create([
                {'code': 'A', 'name': "一号入口"},
                {'code': 'B', 'name': "二号入口"},
                {'code': 'X', 'name': "出口", 'direction': 'exit'},
                ])
        self.later, = Slot.search([
                ('plan', '=', self.plan.id),
                ('date', '=', self.day + dt.timedelta(days=1)),
                ])
        a, b, x = self.gate_a, self.gate_b, self.gate_x
        self.scan(a, 'ok', kind='entry', admits=2)  # a group of two
        # The turnstile did not turn: the entry was given back.
        self.scan(a, 'ok', kind='entry', admits=1, annulled=True)
        # A re-scan spends no use: the same person.
        self.scan(a, 'ok', kind='rescan', admits=1)
        self.scan(a, 'rejected', reason='already_used')
        self.scan(a, 'rejected', reason='too_early')
        self.scan(b, 'ok', kind='entry', admits=1)
        self.scan(b, 'rejected', reason='wrong_gate')
        self.scan(b, 'rejected', reason='expired')
        # No pass behind the code: no session either.
        self.scan(b, 'rejected', reason='invalid', slot=None)
        self.scan(b, 'rejected', reason='unknown', slot=None)
        self.scan(x, 'ok', kind='exit', admits=1)
        self.scan(x, 'ok', kind='exit', admits=1, annulled=True)
        # The next day's session: one went out who never came in (a scan
        # missed at the entry).
        self.scan(x, 'ok', kind='exit', admits=1, slot=self.later,
            date=self.later.date)

    def scan(self, device, result, slot=False, date=None, **values):
        "Record a scan as the gate methods do (the engine's own create)"
        Checkin = Pool().get('zl.gate.checkin')
        slot = self.slot if slot is False else slot
        date = date or self.day
        checkin, = Checkin.create([dict({
                        'device': device.id,
                        'slot': slot.id if slot else None,
                        'date': date,
                        'scanned_at': dt.datetime.combine(date, dt.time(9)),
                        'result': result,
                        'admits': 0,
                        'annulled': False,
                        'scan_id': 's%s' % next(SCAN_IDS),
                        'mode': 'online',
                        }, **values)])
        return checkin

    def session_row(self, slot=None):
        Board = Pool().get('zl.gate.board.session')
        row, = Board.search([('slot', '=', (slot or self.slot).id)])
        return row

    def gate_rows(self):
        Board = Pool().get('zl.gate.board.gate')
        return {r.device.code: r for r in Board.search([])}

    def staff(self, login, devices=None, all_data=False):
        """A user of the 入园看板 page with a data scope on devices, or on
        all data"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        UserGroup = pool.get('zl.user.group')
        DataPermission = pool.get('zl.data.permission')
        user, = User.create([{
                    'login': login, 'name': login,
                    'groups': [('add', [
                                ModelData.get_id(
                                    'zl_gate', 'group_page_board')])],
                    }])
        if devices is not None or all_data:
            user_group, = UserGroup.create([{
                        'code': login, 'name': login,
                        'users': [('add', [user.id])]}])
            DataPermission.create([{
                        'name': login, 'all_data': all_data,
                        'devices': [('add', [d.id for d in devices or []])],
                        'user_groups': [('add', [user_group.id])]}])
        return user

    @with_transaction(context=SAME_TRANSACTION)
    def test_session_board(self):
        "Booked against arrived: entries only, each person once"
        self.setup_gates()
        row = self.session_row()
        self.assertEqual(
            (row.date, row.session, row.capacity, row.booked),
            (self.day, self.slot.session, 10, 4))
        # 2 (group) + 1 at B; not the annulled entry, not the re-scan.
        self.assertEqual(row.arrived, 3)
        # already_used, too_early, wrong_gate, expired; the codes without
        # a pass name no session.
        self.assertEqual(row.refused, 4)
        self.assertEqual(row.exits, 1)  # not the annulled exit
        self.assertEqual(row.inside, 2)
        self.assertEqual(row.arrival_rate, 0.75)
        self.assertEqual(row.rec_name, self.slot.rec_name)

    @with_transaction(context=SAME_TRANSACTION)
    def test_session_board_every_slot(self):
        "A slot nobody reached shows its bookings; inside never below 0"
        pool = Pool()
        Board = pool.get('zl.gate.board.session')
        Slot = pool.get('zl.reservation.slot')
        self.setup_gates()
        later = self.session_row(self.later)
        self.assertEqual(
            (later.booked, later.arrived, later.exits, later.inside),
            (0, 0, 1, 0))
        self.assertIsNone(later.arrival_rate)
        # One row per slot, found by date as the 今日 tab does.
        self.assertEqual(
            Board.search([('date', '=', self.day)]), [self.session_row()])
        self.assertEqual(
            Board.search_count([]), Slot.search_count([]))
        self.assertEqual(
            Board.search([('rec_name', 'ilike', '%上午%')],
                order=[('id', 'ASC')]),
            Board.search([], order=[('id', 'ASC')]))

    @with_transaction(context=SAME_TRANSACTION)
    def test_gate_board(self):
        "Per gate and date: people in and out, refusals by reason"
        self.setup_gates()
        rows = self.gate_rows()
        self.assertEqual(sorted(rows), ['A', 'B', 'X'])
        a, b, x = rows['A'], rows['B'], rows['X']
        self.assertEqual((a.date, a.entries, a.exits), (self.day, 2, 0))
        self.assertEqual(
            (a.refused, a.already_used, a.too_early, a.other), (2, 1, 1, 0))
        self.assertEqual((b.entries, b.refused), (1, 4))
        self.assertEqual(
            (b.wrong_gate, b.invalid, b.wrong_date, b.too_late, b.other),
            (1, 1, 0, 0, 2))  # other: expired and unknown
        # Two dates at the exit: today's row, not the next day's.
        self.assertEqual(
            (x.date, x.entries, x.exits, x.refused), (self.day, 0, 1, 0))
        Board = Pool().get('zl.gate.board.gate')
        self.assertEqual(
            Board.search_count([('device', '=', self.gate_x.id)]), 2)
        self.assertEqual(
            Board.search([('rec_name', 'ilike', '%二号%')]), [b])

    @with_transaction(context=SAME_TRANSACTION)
    def test_page_opens_the_boards(self):
        "The 入园看板 page shows both menus and reads both boards"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Menu = pool.get('ir.ui.menu')
        Session = pool.get('zl.gate.board.session')
        Gate = pool.get('zl.gate.board.gate')
        self.setup_gates()
        manager = self.staff('manager', all_data=True)
        stranger, = pool.get('res.user').create([
                {'login': 'stranger', 'name': 'stranger'}])
        menus = {ModelData.get_id('zl_gate', m) for m in [
                'menu_gate', 'menu_board_session_form',
                'menu_board_gate_form']}
        with Transaction().set_user(manager.id), check_access():
            self.assertLessEqual(menus, set(map(int, Menu.search([]))))
            Session.read(
                [r.id for r in Session.search([])], ['slot', 'arrived'])
            self.assertEqual(len(Gate.search([])), 4)
        with Transaction().set_user(stranger.id), check_access():
            self.assertFalse(menus & set(map(int, Menu.search([]))))
            for Board in [Session, Gate]:
                with self.assertRaises(AccessError):
                    Board.search([])

    @with_transaction(context=SAME_TRANSACTION)
    def test_data_scope(self):
        "A gate operator counts the check-ins of the gates in his scope"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        User = pool.get('res.user')
        self.setup_gates()
        operator = self.staff('operator', devices=[self.gate_a])
        nobody = self.staff('nobody', devices=[])
        admin = User(ModelData.get_id('res', 'user_admin'))
        with Transaction().set_user(operator.id), check_access():
            row = self.session_row()
            # The slot's own figures; the counts of gate A only.
            self.assertEqual(
                (row.booked, row.arrived, row.refused, row.exits,
                    row.inside), (4, 2, 2, 0, 2))
            self.assertEqual(sorted(self.gate_rows()), ['A'])
        with Transaction().set_user(nobody.id), check_access():
            row = self.session_row()
            self.assertEqual(
                (row.booked, row.arrived, row.refused), (4, 0, 0))
            self.assertEqual(self.gate_rows(), {})
        with Transaction().set_user(admin.id), check_access():
            row = self.session_row()
            self.assertEqual((row.arrived, row.refused, row.exits), (3, 4, 1))
            self.assertEqual(sorted(self.gate_rows()), ['A', 'B', 'X'])


del ModuleTestCase
