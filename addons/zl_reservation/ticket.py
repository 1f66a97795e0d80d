# This file is part of zhonglian-ticketing. See README.md for the licence.
"""A ticket's own per-booking visit rules (门票 → 销售参数): how many
visitors, and how many minors, one booking of this ticket may carry, and
whether its minors need an adult, instead of the site's (预约设置).  A
family ticket may allow more people per booking than the site, a special
exhibition fewer.  policy.for_ticket decides which applies; the booking
service reads the ticket's values with the ticket (Seller.sale_terms)."""
from sql import Null

from trytond.model import Check, fields
from trytond.pool import Pool, PoolMeta

from . import policy

SITE_HELP = " Empty: the site's rule (预约设置)."


class Ticket(metaclass=PoolMeta):
    __name__ = 'zl.ticket'

    booking_visitors_max = fields.Integer(
        "Visitors per Booking",
        help="At most this many visitors in one booking of this ticket "
        "(0: no limit)." + SITE_HELP)
    booking_minors_max = fields.Integer(
        "Minors per Booking",
        help="At most this many visitors under 14 on the visit date in one "
        "booking of this ticket (0: no limit)." + SITE_HELP)
    minors_need_adult = fields.Selection([
            (None, "Site's Rule"),
            ('yes', "Required"),
            ('no', "Not Required"),
            ], "Minors with an Adult",
        help="Whether visitors under 14 need an adult in the same booking "
        "of this ticket.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('booking_rules_not_negative', Check(t,
                    ((t.booking_visitors_max == Null)
                        | (t.booking_visitors_max >= 0))
                    & ((t.booking_minors_max == Null)
                        | (t.booking_minors_max >= 0))),
                'zl_reservation.msg_policy_negative'),
            ]


    def booking_rules(self):
        """The per-booking rules a booking of this ticket follows (the
        site's, or the ticket's own): what a client tells a visitor before
        they add visitors; the booking service decides on the same"""
        Configuration = Pool().get('zl.reservation.configuration')
        rules = policy.for_ticket(Configuration.values(),
            {k: getattr(self, k) for k in policy.TICKET_RULES})
        return {k: rules[k] for k in policy.TICKET_RULES}


class Seller(metaclass=PoolMeta):
    __name__ = 'zl.seller'

    @classmethod
    def _sale_terms_extra(cls, ticket):
        extra = super()._sale_terms_extra(ticket)
        extra.update({
                'booking_visitors_max': ticket.booking_visitors_max,
                'booking_minors_max': ticket.booking_minors_max,
                'minors_need_adult': ticket.minors_need_adult,
                })
        return extra
