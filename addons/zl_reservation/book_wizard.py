# This file is part of zhonglian-ticketing. See README.md for the licence.
"""代客预约: staff book at the window through the same service."""
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, PYSONEncoder
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from . import identity


class BookStart(ModelView):
    __name__ = 'zl.booking.book.start'
    __string__ = "Book for a Visitor"

    # Record rules keep the sellers to the user's data scope; the booking
    # service checks the clerk is one of the seller's accounts.
    seller = fields.Many2One('zl.seller', "Seller", required=True)
    ticket = fields.Many2One(
        'zl.ticket', "Ticket", required=True,
        domain=[
            ('on_shelf', '=', True),
            ('sellers', '=', Eval('seller', -1)),
            ])
    ticket_kind = fields.Function(
        fields.Selection([
                ('individual', "Individual"),
                ('group', "Group"),
                ], "Kind"),
        'on_change_with_ticket_kind')
    slot = fields.Many2One(
        'zl.reservation.slot', "Slot", required=True,
        domain=[
            ('plan.tickets', '=', Eval('ticket', -1)),
            ('plan.state', '=', 'active'),
            ('closed', '=', False),
            ])
    visitors = fields.One2Many(
        'zl.booking.book.start.visitor', None, "Visitors",
        states={'invisible': Eval('ticket_kind') == 'group'})
    contact_name = fields.Char("Contact")
    contact_phone = fields.Char("Contact Phone")
    group_name = fields.Char(
        "Group Name", states={'invisible': Eval('ticket_kind') != 'group'})
    group_leader = fields.Char(
        "Group Leader", states={'invisible': Eval('ticket_kind') != 'group'})
    group_size = fields.Integer(
        "Group Size", states={'invisible': Eval('ticket_kind') != 'group'})

    @fields.depends('ticket')
    def on_change_with_ticket_kind(self, name=None):
        return self.ticket.kind if self.ticket else None


class BookStartVisitor(ModelView):
    __name__ = 'zl.booking.book.start.visitor'
    __string__ = "Book for a Visitor: Visitor"

    name = fields.Char("Name", required=True)
    id_type = fields.Selection(identity.ID_TYPES, "ID Type", required=True)
    id_number = fields.Char("ID Number", required=True)
    birth_date = fields.Date(
        "Birth Date",
        states={'invisible': Eval('id_type') == 'resident_id'},
        help="For documents other than the resident ID card: the visit "
        "policy's minors rules need it.")
    phone = fields.Char("Phone")

    @classmethod
    def default_id_type(cls):
        return 'resident_id'


def given_birth_date(visitor):
    """The birth date to send for a visitor of the wizard: other documents
    than the resident ID only (the number says it); a client that does
    not know the field sends none"""
    birth = getattr(visitor, 'birth_date', None)
    if birth and visitor.id_type != 'resident_id':
        return birth.isoformat()
    return None


class Book(Wizard):
    __name__ = 'zl.booking.book'
    __string__ = "Book for a Visitor"

    start = StateView('zl.booking.book.start',
        'zl_reservation.booking_book_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Book", 'book', 'tryton-ok', default=True),
            ])
    book = StateAction('zl_reservation.act_booking_form')

    def default_start(self, fields):
        pool = Pool()
        Seller = pool.get('zl.seller')
        sellers = Seller.search([('users', '=', Transaction().user)])
        return {'seller': sellers[0].id if len(sellers) == 1 else None}

    def do_book(self, action):
        pool = Pool()
        Booking = pool.get('zl.booking')
        start = self.start
        request = {
            'ticket': start.ticket.id,
            'slot': start.slot.id,
            'visitors': [{
                    'name': v.name, 'id_type': v.id_type,
                    'id_number': v.id_number, 'phone': v.phone,
                    'birth_date': given_birth_date(v),
                    } for v in start.visitors],
            'contact': {
                'name': start.contact_name, 'phone': start.contact_phone},
            }
        if start.ticket.kind == 'group':
            request['group'] = {
                'name': start.group_name, 'leader': start.group_leader,
                'size': start.group_size}
        # Wizards run without access checks: the clerk is the user, and the
        # seller's rule (accounts, scope, hidden tickets) decides.
        booking = Booking.book(
            request, start.seller.id, clerk=Transaction().user)
        # The wizard's state is stored in ir_session_wizard: keep only the
        # masked ID numbers there.
        start.visitors = [{
                'name': v.name, 'id_type': v.id_type,
                'id_number': booked['id_number'], 'phone': v.phone,
                'birth_date': getattr(v, 'birth_date', None),
                } for v, booked in zip(start.visitors, booking['visitors'])]
        # The clerk sees the booking just made: its form first (the list
        # would be one row), limited to it.
        action['views'].reverse()
        action['pyson_domain'] = PYSONEncoder().encode(
            [('id', '=', booking['id'])])
        return action, {'res_id': [booking['id']]}
