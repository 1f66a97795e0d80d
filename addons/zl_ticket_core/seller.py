# This file is part of zhonglian-ticketing. See README.md for the licence.
from sql import Literal, Null, NullsLast

from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, check_access, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .audit import AuditMixin
from .common import CodedMixin
from .exceptions import SellerValidationError


class Distributor(
        AuditMixin, CodedMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'zl.distributor'
    __string__ = "Distributor"
    _code_unique_message = 'zl_ticket_core.msg_distributor_code_unique'

    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True)
    contact = fields.Char("Contact")
    phone = fields.Char("Phone")
    users = fields.Many2Many(
        'zl.distributor-res.user', 'distributor', 'user', "Users")
    sellers = fields.One2Many('zl.seller', 'distributor', "Sellers")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('code', 'ASC'))


class DistributorUser(ModelSQL):
    __name__ = 'zl.distributor-res.user'
    __string__ = "Distributor User"

    distributor = fields.Many2One(
        'zl.distributor', "Distributor", required=True, ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')


class Seller(AuditMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'zl.seller'
    __string__ = "Seller"

    name = fields.Char("Name", required=True)
    kind = fields.Selection([
            ('wechat_mp', "WeChat Mini-Program"),
            ('window', "Ticket Window"),
            ('kiosk', "Self-Service Kiosk"),
            ('distributor', "Distributor"),
            ('ota', "OTA"),
            ], "Kind", required=True)
    distributor = fields.Many2One(
        'zl.distributor', "Distributor", ondelete='RESTRICT',
        states={
            'invisible': Eval('kind') != 'distributor',
            'required': Eval('kind') == 'distributor',
            })
    users = fields.Many2Many(
        'zl.seller-res.user', 'seller', 'user', "User Accounts",
        help="The accounts that sell through this seller.")
    tickets = fields.Many2Many(
        'zl.seller-zl.ticket', 'seller', 'ticket', "Authorised Tickets",
        help="The tickets this seller may sell (授权售票).")
    hidden_tickets = fields.Many2Many(
        'zl.seller-zl.ticket.hidden', 'seller', 'ticket', "Hidden Tickets",
        help="Tickets left out of the seller's public list; "
        "a group ticket is then reached only through its promotion code.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))

    @classmethod
    def default_kind(cls):
        return 'wechat_mp'

    @classmethod
    def sale_terms(cls, seller_id, ticket_id, clerk=None, promotion=None):
        """授权售票: the one rule of who may sell which ticket through which
        seller, for every path (window wizard, JSON-RPC, visitor API).

        The seller is active; the ticket is active, on shelf and authorised
        for it; a ticket hidden for this seller needs a promotion the
        server verified (promotion: the ticket id it opens); a clerk (the
        staff user selling, None when the server itself is the seller's
        face) is one of the seller's accounts and has it in their data
        scope.  Return what the booking rules need of the ticket, or None.

        One query: it is on the hot path of every booking."""
        pool = Pool()
        Ticket = pool.get('zl.ticket')
        SellerTicket = pool.get('zl.seller-zl.ticket')
        Hidden = pool.get('zl.seller-zl.ticket.hidden')
        SellerUser = pool.get('zl.seller-res.user')
        DataPermission = pool.get('zl.data.permission')
        t, s = Ticket.__table__(), cls.__table__()
        st, h = SellerTicket.__table__(), Hidden.__table__()
        su = SellerUser.__table__()
        query = (t
            .join(s, condition=s.id == seller_id)
            .join(st, 'LEFT', condition=(st.seller == s.id)
                & (st.ticket == t.id))
            .join(h, 'LEFT', condition=(h.seller == s.id)
                & (h.ticket == t.id))
            .join(su, 'LEFT', condition=(su.seller == s.id)
                & (su.user == (clerk if clerk is not None else -1))))
        extra = cls._sale_terms_extra(t)
        cursor = Transaction().connection.cursor()
        cursor.execute(*query.select(
                t.active, t.on_shelf, s.active, st.id, h.id, su.id,
                t.kind, t.group_min, t.group_max, t.per_user_limit, t.stock,
                t.usable_count, t.name, s.name, t.refundable, s.kind,
                *extra.values(),
                where=t.id == ticket_id, limit=1))
        row = cursor.fetchone()
        if not row:
            return None
        (active, on_shelf, seller_active, authorised, hidden, account,
            kind, group_min, group_max, per_user_limit, stock, usable_count,
            ticket_name, seller_name, refundable, seller_kind) = row[:16]
        if not (active and on_shelf and seller_active and authorised):
            return None
        if hidden and promotion != ticket_id:
            return None
        if clerk is not None:
            scope = DataPermission.get_scope(clerk)
            if not account or not (
                    scope['all'] or seller_id in scope['seller']):
                return None
        return {
            'id': ticket_id, 'name': ticket_name, 'seller_name': seller_name,
            'kind': kind, 'group_min': group_min, 'group_max': group_max,
            'per_user_limit': per_user_limit, 'stock': stock,
            'usable_count': usable_count, 'refundable': bool(refundable),
            'seller_kind': seller_kind,
            **dict(zip(extra, row[16:])),
            }

    @classmethod
    def _sale_terms_extra(cls, ticket):
        """{key: column of the ticket table ticket} that sale_terms also
        answers: how a module adds the ticket's own booking rules to the
        one query"""
        return {}

    @classmethod
    def listed_tickets(cls, seller_id):
        """The tickets a seller's public face lists (小程序 ticket list), in
        display order: what sale_terms would sell without a clerk or a
        promotion — active, on shelf, authorised, not hidden, the seller
        active."""
        pool = Pool()
        Ticket = pool.get('zl.ticket')
        SellerTicket = pool.get('zl.seller-zl.ticket')
        Hidden = pool.get('zl.seller-zl.ticket.hidden')
        t, s = Ticket.__table__(), cls.__table__()
        st, h = SellerTicket.__table__(), Hidden.__table__()
        query = (t
            .join(st, condition=(st.ticket == t.id) & (st.seller == seller_id))
            .join(s, condition=s.id == st.seller)
            .join(h, 'LEFT', condition=(h.seller == s.id)
                & (h.ticket == t.id))
            .select(t.id,
                where=(t.active == Literal(True))
                & (t.on_shelf == Literal(True))
                & (s.active == Literal(True)) & (h.id == Null),
                order_by=[NullsLast(t.sequence.asc), t.name.asc, t.id.asc]))
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return [r[0] for r in cursor]

    @classmethod
    def validate_fields(cls, sellers, field_names):
        super().validate_fields(sellers, field_names)
        cls.check_tickets(sellers, field_names)

    @classmethod
    @without_check_access
    def check_tickets(cls, sellers, field_names=None):
        if field_names and 'tickets' not in field_names:
            return
        for seller in cls.browse(sellers):
            for ticket in seller.tickets:
                if not ticket.active:
                    raise SellerValidationError(gettext(
                            'zl_ticket_core.msg_seller_ticket_inactive',
                            seller=seller.rec_name, ticket=ticket.rec_name))


class SellerUser(ModelSQL):
    __name__ = 'zl.seller-res.user'
    __string__ = "Seller User"

    seller = fields.Many2One(
        'zl.seller', "Seller", required=True, ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')


class SellerTicket(ModelSQL):
    __name__ = 'zl.seller-zl.ticket'
    __string__ = "Seller Authorised Ticket"

    seller = fields.Many2One(
        'zl.seller', "Seller", required=True, ondelete='CASCADE')
    ticket = fields.Many2One(
        'zl.ticket', "Ticket", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('seller_ticket_uniq', Unique(t, t.seller, t.ticket),
                'zl_ticket_core.msg_seller_ticket_unique'),
            ]


class SellerHiddenTicket(ModelSQL):
    __name__ = 'zl.seller-zl.ticket.hidden'
    __string__ = "Seller Hidden Ticket"

    seller = fields.Many2One(
        'zl.seller', "Seller", required=True, ondelete='CASCADE')
    ticket = fields.Many2One(
        'zl.ticket', "Ticket", required=True, ondelete='CASCADE')


class AuthoriseTicketStart(ModelView):
    __name__ = 'zl.ticket.authorise.start'
    __string__ = "Authorise Ticket Start"

    tickets = fields.Many2Many(
        'zl.ticket', None, None, "Tickets", readonly=True)
    sellers = fields.Many2Many(
        'zl.seller', None, None, "Sellers",
        help="The sellers that may sell the tickets.")


class AuthoriseTicket(Wizard):
    "授权售票 from the ticket list: choose the sellers of the tickets"
    __name__ = 'zl.ticket.authorise'
    __string__ = "Authorise Ticket"

    start = StateView(
        'zl.ticket.authorise.start',
        'zl_ticket_core.ticket_authorise_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Authorise", 'authorise', 'tryton-ok', default=True),
            ])
    authorise = StateTransition()

    def default_start(self, fields):
        sellers = {s.id for t in self.records for s in t.sellers}
        return {
            'tickets': [t.id for t in self.records],
            'sellers': sorted(sellers),
            }

    @check_access
    def transition_authorise(self):
        pool = Pool()
        Seller = pool.get('zl.seller')
        chosen = set(self.start.sellers)
        records = set(self.records)
        to_write = []
        # Wizards run without access checks: turned on (decorator) so only
        # the sellers in the user's data scope are touched, with the
        # user's rights, and the writes are logged like any other.
        for seller in Seller.search([]):
            tickets = set(seller.tickets)
            if seller in chosen and records - tickets:
                action = ('add', [t.id for t in records - tickets])
            elif seller not in chosen and records & tickets:
                action = ('remove', [t.id for t in records & tickets])
            else:
                continue
            to_write.extend(([seller], {'tickets': [action]}))
        if to_write:
            Seller.write(*to_write)
        return 'end'
