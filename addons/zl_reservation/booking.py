# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Bookings (预约) and their real-name visitors (游客)."""
from trytond.i18n import gettext
from trytond.model import (
    Check,
    Index,
    ModelSQL,
    ModelView,
    Unique,
    Workflow,
    fields,
)
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import without_check_access

from . import identity
from .engine import EngineOwnedMixin
from .exceptions import BookingError
from .holdings import HOLDING
from .lifecycle import BookingLifecycle
from .service import BookingService


class Booking(
        EngineOwnedMixin, AuditMixin, BookingService, BookingLifecycle,
        Workflow, ModelSQL, ModelView):
    __name__ = 'zl.booking'
    __string__ = "Booking"

    number = fields.Char("Number", readonly=True)
    seller = fields.Many2One(
        'zl.seller', "Seller", required=True, readonly=True,
        ondelete='RESTRICT')
    ticket = fields.Many2One(
        'zl.ticket', "Ticket", required=True, readonly=True,
        ondelete='RESTRICT')
    slot = fields.Many2One(
        'zl.reservation.slot', "Slot", required=True, readonly=True,
        ondelete='RESTRICT')
    date = fields.Date("Date", required=True, readonly=True)
    account = fields.Char(
        "Visitor Account", readonly=True,
        help="The visitor's account (e.g. mini-program user); "
        "empty for window sales.")
    visitors = fields.One2Many(
        'zl.booking.visitor', 'booking', "Visitors", readonly=True)
    contact_name = fields.Char("Contact", readonly=True)
    contact_phone = fields.Char("Contact Phone", readonly=True)
    group_name = fields.Char(
        "Group Name", readonly=True,
        states={'invisible': ~Eval('group_size')})
    group_leader = fields.Char(
        "Group Leader", readonly=True,
        states={'invisible': ~Eval('group_size')})
    group_size = fields.Integer(
        "Group Size", readonly=True,
        states={'invisible': ~Eval('group_size')})
    quantity = fields.Integer(
        "Quantity", required=True, readonly=True,
        help="People admitted: the visitors, or the group size.")
    pool = fields.Selection([
            ('online', "Online"),
            ('window', "Window"),
            ('group', "Group"),
            ], "Places Pool", readonly=True, sort=False,
        help="Whose places the booking took: a cancellation "
        "gives them back to the same pool.")
    idempotency_key = fields.Char("Idempotency Key", readonly=True)
    origin = fields.Reference(
        "Origin", selection='get_origins', readonly=True,
        help="What the booking came through, as the server established "
        "it (e.g. a promotion code).")
    passes = fields.One2Many('zl.pass', 'booking', "Passes", readonly=True)
    cancel_preview = fields.Function(fields.Char(
            "Cancelling Now",
            help="What cancelling this booking now means: free, with a "
            "strike, or refused (预约设置 → 取消规则)."),
        'get_cancel_preview')
    state = fields.Selection([
            ('confirmed', "Confirmed"),
            ('used', "Used"),
            ('cancelled', "Cancelled"),
            ('refunded', "Refunded"),
            ('expired', "Expired"),
            ('no_show', "No-Show"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_uniq', Unique(t, t.number),
                'zl_reservation.msg_booking_number_unique'),
            ('idempotency_uniq', Unique(t, t.seller, t.idempotency_key),
                'zl_reservation.msg_booking_idempotency_unique'),
            ('quantity_positive', Check(t, t.quantity > 0),
                'zl_reservation.msg_booking_quantity_check'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.account, Index.Equality()),
                    (t.ticket, Index.Equality())),
                # The visit policy's per-day read (holdings._holdings).
                Index(t, (t.account, Index.Equality()),
                    (t.date, Index.Range())),
                Index(t, (t.slot, Index.Equality())),
                })
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('confirmed', 'used'),
            ('confirmed', 'cancelled'),
            ('confirmed', 'refunded'),
            ('confirmed', 'expired'),
            ('confirmed', 'no_show'),
            }
        cls._buttons.update({
                'cancel': {
                    'invisible': Eval('state') != 'confirmed',
                    'depends': ['state'],
                    },
                })
        cls.__rpc__.update({
                'rpc_book': RPC(readonly=False, instantiate=None),
                'rpc_cancel': RPC(readonly=False, instantiate=None),
                })

    @classmethod
    def default_state(cls):
        return 'confirmed'

    @classmethod
    def default_pool(cls):
        return 'online'

    @classmethod
    def _get_origins(cls):
        "Models a booking may come through (modules add theirs)"
        return []

    @classmethod
    def get_origins(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in cls._get_origins()]

    def get_rec_name(self, name):
        return self.number or str(self.id)

    def get_cancel_preview(self, name):
        if self.state != 'confirmed':
            return None
        return self.cancel_terms(
            self.state, self.ticket.refundable, self.ticket.id, self.date,
            self.slot.window()[0])['message']

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('number',) + tuple(clause[1:])]

    @classmethod
    @ModelView.button
    def cancel(cls, bookings):
        "Staff cancel (and refund when the ticket is paid), with the rules"
        cls.cancel_bookings(bookings)

    @classmethod
    def check_modification(cls, mode, bookings, values=None, external=False):
        super().check_modification(
            mode, bookings, values=values, external=external)
        if mode == 'delete':
            for booking in bookings:
                if booking.state in HOLDING:
                    raise BookingError('booking_active', gettext(
                            'zl_reservation.msg_booking_delete',
                            booking=booking.rec_name))


class Visitor(EngineOwnedMixin, ModelSQL, ModelView):
    "Real-name visitor; the ID number is kept masked and as a keyed digest"
    __name__ = 'zl.booking.visitor'
    __string__ = "Visitor"

    booking = fields.Many2One(
        'zl.booking', "Booking", required=True, ondelete='CASCADE',
        readonly=True)
    name = fields.Char("Name", required=True, readonly=True)
    id_type = fields.Selection(
        identity.ID_TYPES, "ID Type", required=True, readonly=True)
    id_masked = fields.Char("ID Number", readonly=True)
    id_digest = fields.Char("ID Digest", readonly=True)
    id_number = fields.Function(
        fields.Char("ID Number"), 'get_id_number',
        searcher='search_id_number')
    phone = fields.Char("Phone", readonly=True)
    date = fields.Function(fields.Date("Date"), 'get_booking_field')
    state = fields.Function(fields.Selection(
            'get_states', "Booking State"), 'get_booking_field')
    strikes = fields.Function(fields.Many2Many(
            'zl.reservation.strike', None, None, "Strikes of the ID"),
        'get_strikes')
    restricted_until = fields.Function(fields.Date(
            "Restricted Until",
            help="The last day this ID may not book, after its strikes."),
        'get_strikes')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.id_digest, Index.Equality())))

    def get_id_number(self, name):
        return self.id_masked

    @classmethod
    @without_check_access
    def search_id_number(cls, name, clause):
        "Find a visitor by the ID number itself, never stored in clear"
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        _, operator, value = clause[:3]
        if operator not in {'=', '!='} or not value:
            return [('id_masked', operator, value)]
        secret = Configuration.get_id_secret()
        digests = [identity.id_digest(secret, t, value)
            for t, _ in identity.ID_TYPES]
        return [('id_digest', 'in' if operator == '=' else 'not in',
                digests)]

    def get_booking_field(self, name):
        return getattr(self.booking, name)

    @classmethod
    def get_strikes(cls, visitors, names):
        "The strikes of each visitor's ID, and the restriction they bring"
        pool = Pool()
        Strike = pool.get('zl.reservation.strike')
        Configuration = pool.get('zl.reservation.configuration')
        digests = {v.id_digest for v in visitors if v.id_digest}
        result = {n: {v.id: None for v in visitors} for n in names}
        if 'strikes' in names:
            found = Strike.of('id', digests)
            result['strikes'] = {
                v.id: found.get(v.id_digest, []) for v in visitors}
        if 'restricted_until' in names:
            today = Configuration.now().date()
            restricted = Strike.restricted_until('id', digests, today)
            result['restricted_until'] = {
                v.id: restricted.get(v.id_digest) for v in visitors}
        return result

    @classmethod
    def get_states(cls):
        pool = Pool()
        Booking = pool.get('zl.booking')
        return Booking.fields_get(['state'])['state']['selection']

    @classmethod
    def no_show_count(cls, id_type, id_number):
        "How often this ID booked and never came (for a no-show policy)"
        pool = Pool()
        Configuration = pool.get('zl.reservation.configuration')
        digest = identity.id_digest(
            Configuration.get_id_secret(), id_type, id_number)
        with without_check_access():
            return cls.search([
                    ('id_digest', '=', digest),
                    ('booking.state', '=', 'no_show'),
                    ], count=True)
