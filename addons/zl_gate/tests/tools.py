# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Shared set-up of the zl_gate module tests: a museum (zl_reservation's
SiteMixin) with a gate that accepts its ticket."""
import datetime as dt
import uuid

from trytond.modules.zl_reservation.tests.tools import (  # noqa: F401
    SAME_TRANSACTION,
    SiteMixin,
    visitor,
)
from trytond.pool import Pool
from trytond.transaction import Transaction


class GateMixin(SiteMixin):

    def setup_gate(self, capacity=5, tolerance_before=0, tolerance_after=0,
            direction='entry', **ticket_values):
        pool = Pool()
        Device = pool.get('zl.gate.device')
        self.setup_site(capacity=capacity, **ticket_values)
        self.day = self.slot.date
        self.device, = Device.create([{
                    'code': 'G01', 'name': "一楼闸机入口",
                    'direction': direction,
                    'tolerance_before': tolerance_before,
                    'tolerance_after': tolerance_after,
                    'tickets': [('add', [self.ticket.id])],
                    }])
        return self.device

    def other_device(self, code='G02', **values):
        Device = Pool().get('zl.gate.device')
        device, = Device.create([dict({'code': code, 'name': code}, **values)])
        return device

    def at(self, hour, minute=0, second=0, day=None):
        return dt.datetime.combine(
            day or self.day, dt.time(hour, minute, second))

    def pass_code(self, seq=1, **request):
        "Book one visitor; the pass's code"
        booking = self.book(self.request(visitor(seq), **request))
        return booking['passes'][0]['code']

    def redeem(self, code, now, scan_id=None, dry_run=False, device=None):
        "What the device's redeem answers at now (site time)"
        Device = Pool().get('zl.gate.device')
        return Device._redeem((device or self.device).id, code,
            scan_id or uuid.uuid4().hex, dry_run, now)

    def pass_row(self, code):
        Pass = Pool().get('zl.pass')
        return Pass.from_code(code)

    def set_pass_state(self, code, state):
        Pass = Pool().get('zl.pass')
        table = Pass.__table__()
        pass_ = Pass.from_code(code)
        Transaction().connection.cursor().execute(*table.update(
                [table.state], [state], where=table.id == pass_.id))
