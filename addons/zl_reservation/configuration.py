# This file is part of zhonglian-ticketing. See README.md for the licence.
import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import Check, ModelSingleton, ModelSQL, ModelView, fields
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.pool import Pool
from trytond.pyson import Eval, Id
from trytond.transaction import without_check_access

from .exceptions import ConfigurationValidationError
from .policy import LIMITS

TIMEZONES = [(z, z) for z in sorted(available_timezones())]


class Configuration(AuditMixin, ModelSingleton, ModelSQL, ModelView):
    __name__ = 'zl.reservation.configuration'
    __string__ = "Reservation Configuration"

    booking_sequence = fields.Many2One(
        'ir.sequence', "Booking Sequence", required=True,
        domain=[('sequence_type', '=', Id(
                    'zl_reservation', 'sequence_type_booking'))])
    timezone = fields.Selection(
        TIMEZONES, "Time Zone", required=True, translate=False,
        help="The site's time zone: dates, sessions and release times "
        "are read in it.")
    _values_cache = Cache('zl.reservation.configuration', context=False)

    cancel_deadline = fields.Integer(
        "Cancellation Deadline", required=True,
        help="Minutes before the session's check-in start after which "
        "bookings can no longer be cancelled.")

    cancel_tiers = fields.One2Many(
        'zl.reservation.cancel_tier', 'configuration', "Cancellation Tiers",
        help="In order: until the end of each tier cancelling is free or "
        "records a strike; after the last it is refused.  Without tiers "
        "the cancellation deadline above applies.  A ticket may have its "
        "own.")

    # The visit policy (policy.py): 0 or unticked is no limit.
    account_people_per_day = fields.Integer(
        "People per Account per Day", required=True,
        help="A visitor account may book at most this many people for "
        "one visit date, all tickets together (0: no limit).")
    account_bookings_per_day = fields.Integer(
        "Bookings per Account per Day", required=True,
        help="A visitor account may make at most this many bookings for "
        "one visit date (0: no limit).")
    id_one_per_day = fields.Boolean(
        "One Booking per ID per Day",
        help="An identity document may be in only one booking per visit "
        "date, whatever the ticket.")
    id_bookings_max = fields.Integer(
        "Bookings per ID", required=True,
        help="An identity document may be in at most this many bookings "
        "within the days below (0: no limit).")
    id_bookings_days = fields.Integer(
        "In Days", required=True,
        help="The number of consecutive days the limit above counts.")
    booking_visitors_max = fields.Integer(
        "Visitors per Booking", required=True,
        help="At most this many visitors in one booking (0: no limit).")
    booking_minors_max = fields.Integer(
        "Minors per Booking", required=True,
        help="At most this many visitors under 14 on the visit date in one "
        "booking (0: no limit); their age comes from the resident ID "
        "number, or the birth date given with other documents.")
    minors_need_adult = fields.Boolean(
        "Minors with an Adult",
        help="Visitors under 14 only together with an adult in the same "
        "booking.")

    # Strikes (违约): what records one, and the restriction they bring.
    strike_no_show = fields.Boolean(
        "No-Show Is a Strike",
        help="A booking nobody came for gives the account and each "
        "visitor's ID a strike (at most one per ID per day).")
    strike_limit = fields.Integer(
        "Strikes", required=True,
        help="This many strikes within the days below restrict booking "
        "(0: never).")
    strike_days = fields.Integer("Within Days", required=True)
    restrict_days = fields.Integer(
        "Restricted for Days", required=True,
        help="Booking is refused for this many days from the day after "
        "the strike that reached the limit.")
    # Places given back by cancellations (slot.py give_back)
    rerelease_hold = fields.Boolean(
        "Hold Returned Places",
        help="Places given back by cancellations are bookable again only "
        "at the re-release time below, not at once.")
    rerelease_time = fields.Time(
        "Re-release Time",
        states={'required': Eval('rerelease_hold', False)},
        help="Time of day the held places become bookable (e.g. 20:00).")

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
    def default_cancel_tiers(cls):
        # Read before the singleton is saved: a list, as once it is.
        return []

    @classmethod
    def default_account_people_per_day(cls):
        return 0

    @classmethod
    def default_account_bookings_per_day(cls):
        return 0

    @classmethod
    def default_id_bookings_max(cls):
        return 0

    @classmethod
    def default_id_bookings_days(cls):
        return 0

    @classmethod
    def default_booking_visitors_max(cls):
        return 0

    @classmethod
    def default_booking_minors_max(cls):
        return 0

    @classmethod
    def default_strike_limit(cls):
        return 0

    @classmethod
    def default_strike_days(cls):
        return 0

    @classmethod
    def default_restrict_days(cls):
        return 0

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('policy_not_negative', Check(t,
                    (t.account_people_per_day >= 0)
                    & (t.account_bookings_per_day >= 0)
                    & (t.id_bookings_max >= 0) & (t.id_bookings_days >= 0)
                    & (t.booking_visitors_max >= 0)
                    & (t.booking_minors_max >= 0)
                    & (t.strike_limit >= 0) & (t.strike_days >= 0)
                    & (t.restrict_days >= 0)),
                'zl_reservation.msg_policy_negative'),
            ]

    @classmethod
    def validate_fields(cls, configurations, field_names):
        super().validate_fields(configurations, field_names)
        cls.check_cancel_deadline(configurations, field_names)
        cls.check_id_window(configurations, field_names)
        cls.check_restriction(configurations, field_names)

    @classmethod
    def check_cancel_deadline(cls, configurations, field_names=None):
        if field_names and 'cancel_deadline' not in field_names:
            return
        for configuration in configurations:
            if (configuration.cancel_deadline or 0) < 0:
                raise ConfigurationValidationError(gettext(
                        'zl_reservation.msg_cancel_deadline_negative'))

    @classmethod
    def check_id_window(cls, configurations, field_names=None):
        "A number of bookings per ID needs its days, and the reverse"
        if field_names and not (
                {'id_bookings_max', 'id_bookings_days'} & set(field_names)):
            return
        for configuration in configurations:
            if (bool(configuration.id_bookings_max)
                    != bool(configuration.id_bookings_days)):
                raise ConfigurationValidationError(gettext(
                        'zl_reservation.msg_policy_id_window'))

    @classmethod
    def check_restriction(cls, configurations, field_names=None):
        "A number of strikes needs its days and a restriction, and back"
        names = {'strike_limit', 'strike_days', 'restrict_days'}
        if field_names and not (names & set(field_names)):
            return
        for configuration in configurations:
            if len({bool(getattr(configuration, n)) for n in names}) > 1:
                raise ConfigurationValidationError(gettext(
                        'zl_reservation.msg_policy_restriction'))

    @classmethod
    def get_id_secret(cls):
        "The key ID numbers are hashed with, private to this database"
        pool = Pool()
        PassKey = pool.get('zl.pass.key')
        return PassKey.derived_secret(b'zl-id-digest')

    @classmethod
    def values(cls):
        "The configuration as a dict, cached (the booking path reads it)"
        values = cls._values_cache.get(None)
        if values is None:
            config = cls(1)
            values = {
                'timezone': config.timezone,
                'booking_sequence': config.booking_sequence.id,
                'cancel_deadline': config.cancel_deadline,
                'rerelease_hold': bool(config.rerelease_hold
                    and config.rerelease_time),
                'rerelease_time': config.rerelease_time,
                **{name: getattr(config, name) or default
                    for name, default in LIMITS.items()},
                }
            cls._values_cache.set(None, values)
        return values

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._values_cache.clear()

    @classmethod
    def now(cls):
        "The current wall-clock time of the site, naive"
        return dt.datetime.now(ZoneInfo(cls.values()['timezone'])).replace(
            tzinfo=None)

    @classmethod
    def next_booking_number(cls):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        with without_check_access():
            return Sequence(cls.values()['booking_sequence']).get()
