# This file is part of zhonglian-ticketing. See README.md for the licence.
import datetime as dt
import secrets
from zoneinfo import ZoneInfo, available_timezones

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.pool import Pool
from trytond.pyson import Id
from trytond.transaction import without_check_access

TIMEZONES = [(z, z) for z in sorted(available_timezones())]


class Configuration(AuditMixin, ModelSingleton, ModelSQL, ModelView):
    __name__ = 'zl.reservation.configuration'
    __string__ = "Reservation Configuration"

    booking_sequence = fields.Many2One(
        'ir.sequence', "Booking Sequence", required=True,
        domain=[('sequence_type', '=', Id(
                    'zl_reservation', 'sequence_type_booking'))])
    timezone = fields.Selection(
        TIMEZONES, "Time Zone", required=True,
        help="The site's time zone: dates, sessions and release times "
        "are read in it.")
    cancel_deadline = fields.Integer(
        "Cancellation Deadline", required=True,
        help="Minutes before the session's check-in start after which "
        "bookings can no longer be cancelled.")
    # Key ID numbers are hashed with; field access denies it to everyone.
    id_secret = fields.Char("ID Secret", readonly=True)

    @classmethod
    def default_booking_sequence(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        try:
            return ModelData.get_id('zl_reservation', 'sequence_booking')
        except KeyError:
            return None

    @classmethod
    def default_timezone(cls):
        return 'Asia/Shanghai'

    @classmethod
    def default_cancel_deadline(cls):
        return 0

    @classmethod
    @without_check_access
    def get_id_secret(cls):
        config = cls(1)
        if not config.id_secret:
            cls.write([config], {'id_secret': secrets.token_hex(32)})
            config = cls(1)
        return config.id_secret.encode()

    @classmethod
    def now(cls):
        "The current wall-clock time of the site, naive"
        config = cls(1)
        return dt.datetime.now(ZoneInfo(config.timezone)).replace(
            tzinfo=None)
