# This file is part of zhonglian-ticketing. See README.md for the licence.
import datetime as dt

from sql.aggregate import Max

from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class Booking(metaclass=PoolMeta):
    __name__ = 'zl.booking'

    @classmethod
    def checkin_grace(cls):
        """Passes expire only once no active gate admits them any more:
        after the largest tolerance after the window"""
        pool = Pool()
        Device = pool.get('zl.gate.device')
        d = Device.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*d.select(Max(d.tolerance_after),
                where=d.active == True))  # noqa: E712
        minutes = cursor.fetchone()[0] or 0
        return max(super().checkin_grace(), dt.timedelta(minutes=minutes))
