# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('zl.reservation.plan|generate_slots_cron',
                    "Generate Reservation Slots"),
                ('zl.booking|expire_cron', "Expire Unused Passes"),
                ])
