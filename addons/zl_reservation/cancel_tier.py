# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Cancellation tiers (取消规则): until when a booking may be cancelled
for free, until when with a strike, after which not at all.

The site's tiers live in 预约设置; a ticket may have its own, which then
replace the site's for its bookings.  The rule that reads them is
policy.cancel_outcome; BookingLifecycle.cancel_terms is its one caller
for the cancellation itself and for every preview."""
import datetime as dt

from sql import Null

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import Check, ModelSQL, ModelView, fields, sequence_ordered
from trytond.pool import PoolMeta
from trytond.pyson import Bool, Eval

KINDS = [
    ('free', "Free"),
    ('strike', "With a Strike"),
    ]


class CancelTier(sequence_ordered(), ModelSQL, ModelView):
    "A cancellation tier: what cancelling means until its end"
    __name__ = 'zl.reservation.cancel_tier'
    __string__ = "Cancellation Tier"

    configuration = fields.Many2One(
        'zl.reservation.configuration', "Configuration", ondelete='CASCADE')
    ticket = fields.Many2One('zl.ticket', "Ticket", ondelete='CASCADE')
    kind = fields.Selection(KINDS, "Cancelling", required=True,
        help="Free: the booking is cancelled (refunded) without a mark.\n"
        "With a strike: it is cancelled, and the account and each "
        "visitor's ID get a strike (预约设置 → 违约规则).")
    days = fields.Integer("Days Before", required=True,
        states={'invisible': ~Eval('time')},
        help="The tier ends this many days before the visit date "
        "(0: on the visit day) at the time below.")
    time = fields.Time("Until", help="The time of day the tier ends; "
        "empty: it ends the minutes below before the session's "
        "check-in start.  24:00 the day before is 00:00 of the visit day.")
    minutes = fields.Integer("Minutes Before Check-in", required=True,
        states={'invisible': Bool(Eval('time'))})
    _tiers_cache = Cache('zl.reservation.cancel_tier', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('tier_not_negative',
                Check(t, (t.days >= 0) & (t.minutes >= 0)),
                'zl_reservation.msg_cancel_tier_negative'),
            # The site's tier or a ticket's, never both nor neither.
            ('tier_owner', Check(t,
                    (t.configuration == Null) != (t.ticket == Null)),
                'zl_reservation.msg_cancel_tier_owner'),
            ]

    @classmethod
    def default_days(cls):
        return 0

    @classmethod
    def default_minutes(cls):
        return 0

    @classmethod
    def default_kind(cls):
        return 'free'

    def get_rec_name(self, name):
        kind = dict(self.fields_get(['kind'])['kind']['selection'])[
            self.kind]
        if self.time is not None:
            until = gettext('zl_reservation.msg_cancel_tier_day',
                days=self.days, time=self.time.strftime('%H:%M'))
        else:
            until = gettext('zl_reservation.msg_cancel_tier_minutes',
                minutes=self.minutes)
        return '%s: %s' % (kind, until)

    @classmethod
    def tiers(cls, ticket_id):
        """The tiers of a ticket's bookings as dicts: its own, else the
        site's (cached; every worker forgets them when they change)"""
        tiers = cls._tiers_cache.get(ticket_id)
        if tiers is None:
            own = cls.search([('ticket', '=', ticket_id)])
            if not own:
                own = cls.search([('configuration', '!=', None)])
            tiers = [{
                    'kind': t.kind, 'days': t.days,
                    'time': t.time.isoformat() if t.time else None,
                    'minutes': t.minutes,
                    } for t in own]
            cls._tiers_cache.set(ticket_id, tiers)
        return [dict(t, time=dt.time.fromisoformat(t['time'])
                if t['time'] else None) for t in tiers]

    @classmethod
    def on_modification(cls, mode, tiers, field_names=None):
        super().on_modification(mode, tiers, field_names=field_names)
        cls._tiers_cache.clear()


class Ticket(metaclass=PoolMeta):
    __name__ = 'zl.ticket'

    cancel_tiers = fields.One2Many(
        'zl.reservation.cancel_tier', 'ticket', "Cancellation Tiers",
        help="This ticket's own cancellation tiers, instead of the site's "
        "(预约设置).")

