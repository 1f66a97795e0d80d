# This file is part of zhonglian-ticketing. See README.md for the licence.
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    Check,
    DeactivableMixin,
    ModelSQL,
    ModelView,
    fields,
    sequence_ordered,
)
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .audit import AuditMixin
from .common import CodedMixin, forget_cached
from .exceptions import TicketValidationError
from .image import ALBUM_SIZE, POSTER_SIZE, check_image, sanitize_html

PRICE_DIGITS = (16, 2)


class Category(AuditMixin, sequence_ordered(), ModelSQL, ModelView):
    __name__ = 'zl.ticket.category'
    __string__ = "Ticket Category"

    name = fields.Char("Name", required=True, translate=True)
    tickets = fields.One2Many('zl.ticket', 'category', "Tickets")


class Ticket(
        AuditMixin, CodedMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'zl.ticket'
    __string__ = "Ticket"
    _code_rec_name = '[%(code)s] %(name)s'
    _code_unique_message = 'zl_ticket_core.msg_ticket_code_unique'

    # 基础参数
    name = fields.Char("Name", required=True)
    code = fields.Char(
        "Code", required=True, strip=True,
        help="Unique for every ticket (门票编号).")
    kind = fields.Selection([
            ('individual', "Individual"),
            ('group', "Group"),
            ], "Kind", required=True)
    group_min = fields.Integer(
        "Group Minimum",
        states={
            'invisible': Eval('kind') != 'group',
            'required': Eval('kind') == 'group',
            })
    group_max = fields.Integer(
        "Group Maximum",
        states={
            'invisible': Eval('kind') != 'group',
            'required': Eval('kind') == 'group',
            })
    same_day_only = fields.Boolean(
        "Same Day Only", help="Usable only on the day it is sold.")
    expiry_mode = fields.Selection([
            ('visit_date', "On the Visit Date"),
            ('after_purchase', "Days after Purchase"),
            ], "Expiry Mode", required=True)
    validity = fields.Integer(
        "Validity", required=True,
        help="Days the ticket stays valid; -1 for unlimited.")
    usable_scope = fields.Selection([
            ('site', "Whole Site"),
            ('gates', "Accepting Gates Only"),
            ], "Usable Scope", required=True)
    package = fields.Boolean(
        "Package", help="A package ticket admits to its component tickets.")
    components = fields.Many2Many(
        'zl.ticket-zl.ticket.component', 'package', 'component',
        "Component Tickets",
        domain=[
            ('package', '=', False),
            ('id', '!=', Eval('id', -1)),
            ],
        states={'invisible': ~Eval('package', False)})
    refundable = fields.Boolean(
        "Refundable", help="Bookings of this ticket may be cancelled.")
    usable_count = fields.Integer(
        "Usable Count", required=True,
        help="Entries one pass allows (1: one person, one entry).")
    rescan_count = fields.Integer(
        "Re-scan Count", required=True,
        help="Extra scans accepted after an entry.")
    rescan_interval = fields.Integer(
        "Re-scan Interval", required=True,
        help="Minutes between two accepted scans.")
    real_name = fields.Boolean(
        "Real Name", help="Visitors enter name and ID number.")

    # 销售参数
    price = fields.Numeric("Price", digits=PRICE_DIGITS, required=True)
    original_price = fields.Numeric(
        "Original Price", digits=PRICE_DIGITS, required=True)
    stock = fields.Integer(
        "Stock", required=True,
        help="Passes that may still be sold; -1 for unlimited.")
    per_user_limit = fields.Integer(
        "Per-User Limit", required=True,
        help="Bookings one visitor account may hold; 0 for unlimited. "
        "Applies to the mini-program.")
    commission = fields.Numeric(
        "Commission", digits=PRICE_DIGITS, required=True)
    bonus_points = fields.Integer("Bonus Points", required=True)

    # 前端设置
    category = fields.Many2One(
        'zl.ticket.category', "Category", ondelete='RESTRICT')
    sequence = fields.Integer("Display Order")
    on_shelf = fields.Boolean(
        "On Shelf", readonly=True,
        help="Only tickets on shelf can be booked.")
    carousel = fields.Boolean(
        "Carousel", help="Shown in the mini-program's carousel.")
    phone = fields.Char("Phone")
    address = fields.Char("Address")

    # 图文介绍
    poster = fields.Binary("Poster", help="600×800 pixels.")
    images = fields.One2Many('zl.ticket.image', 'ticket', "Album")
    sellers = fields.Many2Many(
        'zl.seller-zl.ticket', 'ticket', 'seller', "Sellers", readonly=True,
        help="The sellers authorised to sell the ticket.")
    intro = fields.Text("Introduction")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The booking engine moves stock with plain SQL: the database keeps
        # it within bounds whatever the path (-1 is unlimited).
        cls._sql_constraints += [
            ('stock_unlimited_or_positive', Check(t, t.stock >= -1),
                'zl_ticket_core.msg_ticket_stock_check'),
            ('per_user_limit_positive', Check(t, t.per_user_limit >= 0),
                'zl_ticket_core.msg_ticket_per_user_limit_check'),
            ]
        cls._order = [
            ('sequence', 'ASC NULLS LAST'),
            ('code', 'ASC'),
            ('id', 'ASC'),
            ]
        cls._buttons.update({
                'put_on_shelf': {
                    'invisible': Eval('on_shelf', False),
                    'depends': ['on_shelf'],
                    },
                'take_off_shelf': {
                    'invisible': ~Eval('on_shelf', False),
                    'depends': ['on_shelf'],
                    },
                })

    @classmethod
    def default_kind(cls):
        return 'individual'

    @classmethod
    def default_expiry_mode(cls):
        return 'visit_date'

    @classmethod
    def default_validity(cls):
        return -1

    @classmethod
    def default_usable_scope(cls):
        return 'gates'

    @classmethod
    def default_refundable(cls):
        return True

    @classmethod
    def default_usable_count(cls):
        return 1

    @staticmethod
    def default_rescan_count():
        return 0

    @staticmethod
    def default_rescan_interval():
        return 0

    @staticmethod
    def default_price():
        return Decimal(0)

    @staticmethod
    def default_original_price():
        return Decimal(0)

    @staticmethod
    def default_stock():
        return -1

    @staticmethod
    def default_per_user_limit():
        return 0

    @staticmethod
    def default_commission():
        return Decimal(0)

    @staticmethod
    def default_bonus_points():
        return 0

    @staticmethod
    def default_on_shelf():
        return False

    @classmethod
    def take_stock(cls, ticket_id, quantity):
        """Take quantity from the stock of a limited ticket in one
        conditional update; False when not enough is left"""
        cursor = Transaction().connection.cursor()
        t = cls.__table__()
        cursor.execute(*t.update(
                [t.stock], [t.stock - quantity],
                where=(t.id == ticket_id) & (t.stock != -1)
                & (t.stock >= quantity)))
        taken = cursor.rowcount == 1
        if not taken:
            cursor.execute(*t.select(t.stock, where=t.id == ticket_id))
            row = cursor.fetchone()
            taken = bool(row) and row[0] == -1
        forget_cached(cls, [ticket_id])
        return taken

    @classmethod
    def give_back_stock(cls, ticket_id, quantity):
        "Return quantity to the stock of a limited ticket"
        cursor = Transaction().connection.cursor()
        t = cls.__table__()
        cursor.execute(*t.update(
                [t.stock], [t.stock + quantity],
                where=(t.id == ticket_id) & (t.stock != -1)))
        forget_cached(cls, [ticket_id])

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('intro'):
            values['intro'] = sanitize_html(values['intro'])
        return values

    @classmethod
    def validate_fields(cls, tickets, field_names):
        super().validate_fields(tickets, field_names)
        cls.check_counts(tickets, field_names)
        cls.check_prices(tickets, field_names)
        cls.check_group_size(tickets, field_names)
        cls.check_poster(tickets, field_names)

    @classmethod
    def check_counts(cls, tickets, field_names=None):
        # (field, smallest allowed value, value allowed besides); stock and
        # per-user limit are Check constraints (the engine moves stock in SQL)
        rules = [
            ('validity', 1, -1),
            ('usable_count', 1, None),
            ('rescan_count', 0, None),
            ('rescan_interval', 0, None),
            ('bonus_points', 0, None),
            ]
        if field_names and not field_names & {r[0] for r in rules}:
            return
        for ticket in tickets:
            for name, minimum, special in rules:
                value = getattr(ticket, name)
                if value is None or value >= minimum or value == special:
                    continue
                msg = ('zl_ticket_core.msg_ticket_minimum_or_unlimited'
                    if special is not None
                    else 'zl_ticket_core.msg_ticket_minimum')
                raise TicketValidationError(gettext(
                        msg, ticket=ticket.rec_name,
                        field=cls.__names__(name)['field'],
                        minimum=minimum, special=special))

    @classmethod
    def check_prices(cls, tickets, field_names=None):
        if field_names and not field_names & {
                'price', 'original_price', 'commission'}:
            return
        for ticket in tickets:
            for name in ['price', 'original_price', 'commission']:
                if (getattr(ticket, name) or 0) < 0:
                    raise TicketValidationError(gettext(
                            'zl_ticket_core.msg_ticket_amount_negative',
                            ticket=ticket.rec_name,
                            field=cls.__names__(name)['field']))
            if (ticket.original_price or 0) < (ticket.price or 0):
                raise TicketValidationError(gettext(
                        'zl_ticket_core.msg_ticket_original_price',
                        ticket=ticket.rec_name))

    @classmethod
    def check_group_size(cls, tickets, field_names=None):
        if field_names and not field_names & {
                'kind', 'group_min', 'group_max'}:
            return
        for ticket in tickets:
            if ticket.kind != 'group':
                continue
            if not (1 <= (ticket.group_min or 0) <= (ticket.group_max or 0)):
                raise TicketValidationError(gettext(
                        'zl_ticket_core.msg_ticket_group_size',
                        ticket=ticket.rec_name))

    @classmethod
    def check_poster(cls, tickets, field_names=None):
        if field_names and 'poster' not in field_names:
            return
        for ticket in tickets:
            check_image(
                ticket.poster, POSTER_SIZE,
                cls.__names__('poster')['field'], ticket.rec_name)

    @classmethod
    @ModelView.button
    def put_on_shelf(cls, tickets):
        cls.write(tickets, {'on_shelf': True})

    @classmethod
    @ModelView.button
    def take_off_shelf(cls, tickets):
        cls.write(tickets, {'on_shelf': False})

    @classmethod
    def copy(cls, tickets, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('code', lambda data: data['code'] + '-copy')
        default.setdefault('on_shelf', False)
        return super().copy(tickets, default=default)


class TicketComponent(ModelSQL):
    __name__ = 'zl.ticket-zl.ticket.component'
    __string__ = "Package Component"

    package = fields.Many2One(
        'zl.ticket', "Package", required=True, ondelete='CASCADE')
    component = fields.Many2One(
        'zl.ticket', "Component", required=True, ondelete='RESTRICT')


class TicketImage(AuditMixin, sequence_ordered(), ModelSQL, ModelView):
    __name__ = 'zl.ticket.image'
    __string__ = "Ticket Album Image"

    ticket = fields.Many2One(
        'zl.ticket', "Ticket", required=True, ondelete='CASCADE')
    image = fields.Binary("Image", required=True, help="600×450 pixels.")
    caption = fields.Char("Caption")

    @classmethod
    def validate_fields(cls, images, field_names):
        super().validate_fields(images, field_names)
        if field_names and 'image' not in field_names:
            return
        for image in images:
            check_image(
                image.image, ALBUM_SIZE,
                cls.__names__('image')['field'], image.ticket.rec_name)
