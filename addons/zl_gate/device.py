# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Gate devices (检票设置): where they stand, which tickets they accept,
and the Tryton account each one logs in with."""
from sql import Null

from trytond.model import (
    Check,
    DeactivableMixin,
    ModelSQL,
    ModelView,
    fields,
)
from trytond.modules.zl_ticket_core.audit import AuditMixin
from trytond.modules.zl_ticket_core.common import CodedMixin
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access

from . import facts
from .bundle import OfflineService
from .gate import GateService


class Device(
        GateService, OfflineService, AuditMixin, CodedMixin,
        DeactivableMixin, ModelSQL, ModelView):
    "A turnstile or hand scanner: one Tryton account per device"
    __name__ = 'zl.gate.device'
    __string__ = "Gate Device"
    _code_unique_message = 'zl_gate.msg_device_code_unique'

    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True, help="For example 一楼闸机入口.")
    location = fields.Char("Location", help="The zone or entrance.")
    direction = fields.Selection([
            ('entry', "Entry"),
            ('exit', "Exit"),
            ], "Direction", required=True,
        help="An exit device counts people leaving and never uses a pass.")
    tickets = fields.Many2Many(
        'zl.gate.device-zl.ticket', 'device', 'ticket', "Accepted Tickets",
        domain=[('active', '=', True)],
        help="The tickets this device lets in (可检门票).")
    tolerance_before = fields.Integer(
        "Tolerance Before", required=True,
        help="Minutes before a session's check-in start the device "
        "already admits.")
    tolerance_after = fields.Integer(
        "Tolerance After", required=True,
        help="Minutes after a session's check-in end the device still "
        "admits.")
    user = fields.Many2One(
        'res.user', "Device Account", readonly=True, ondelete='RESTRICT')
    login = fields.Function(
        fields.Char("Account", help="The login name the device uses."),
        'get_login', setter='set_account')
    password = fields.Function(
        fields.Char("Password", strip=False,
            help="Set or change the device's password: the device must "
            "log in again with it."),
        'get_password', setter='set_account')
    last_seen = fields.DateTime("Last Seen", readonly=True)
    app_version = fields.Char("App Version", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('tolerance_before_positive', Check(t, t.tolerance_before >= 0),
                'zl_gate.msg_device_tolerance_positive'),
            ('tolerance_after_positive', Check(t, t.tolerance_after >= 0),
                'zl_gate.msg_device_tolerance_positive'),
            ]
        cls._order.insert(0, ('code', 'ASC'))
        cls.__rpc__.update({
                'redeem': RPC(readonly=False),
                'annul': RPC(readonly=False),
                'offline_bundle': RPC(readonly=False),
                'upload_offline': RPC(readonly=False),
                })

    @classmethod
    def default_direction(cls):
        return 'entry'

    @classmethod
    def default_tolerance_before(cls):
        return 0

    @classmethod
    def default_tolerance_after(cls):
        return 0

    def get_login(self, name):
        return self.user.login if self.user else None

    def get_password(self, name):
        # Never read back: the field only takes a new one (as res.user's).
        return 'x' * 10 if self.user else None

    @classmethod
    def set_account(cls, devices, name, value):
        """Create or change the device's account.  A new password logs
        the device out of every session (rotation)."""
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        if name == 'password' and (not value or value == 'x' * 10):
            return
        group = ModelData.get_id('zl_gate', 'group_gate_device')
        with without_check_access():
            for device in cls.browse(devices):
                if device.user:
                    if name == 'login' and value:
                        User.write([device.user], {'login': value})
                    elif name == 'password':
                        User.write([device.user], {'password': value})
                        cls.end_sessions([device])
                    continue
                values = {
                    'name': device.name,
                    'login': value if name == 'login' else (
                        'gate-%s' % device.code),
                    'groups': [('add', [group])],
                    'menu': None,
                    }
                if name == 'password':
                    values['password'] = value
                user, = User.create([values])
                cls.write([device], {'user': user.id})

    @classmethod
    def end_sessions(cls, devices):
        "Log the devices' accounts out of every open session, at once"
        pool = Pool()
        Session = pool.get('ir.session')
        users = [d.user.id for d in devices if d.user]
        if users:
            with without_check_access():
                Session.delete(Session.search([('create_uid', 'in', users)]))

    @classmethod
    def on_modification(cls, mode, devices, field_names=None):
        super().on_modification(mode, devices, field_names=field_names)
        facts.forget_devices()
        if mode == 'write' and (
                field_names is None or 'active' in field_names):
            pool = Pool()
            User = pool.get('res.user')
            with without_check_access():
                devices = cls.browse(devices)
                for active in (True, False):
                    users = [d.user for d in devices
                        if d.user and d.active == active
                        and d.user.active != active]
                    if users:
                        User.write(users, {'active': active})
                cls.end_sessions([d for d in devices if not d.active])

    @classmethod
    def on_delete(cls, devices):
        callback = super().on_delete(devices)
        users = [d.user for d in devices if d.user]

        def disable():
            pool = Pool()
            User = pool.get('res.user')
            with without_check_access():
                cls.end_sessions(devices)
                User.write(users, {'active': False})
        if users:
            # Keep the account (the log names it), but it can no longer
            # log in.
            callback.append(disable)
        return callback

    @classmethod
    def calling_device(cls):
        """The active device whose account makes this call, or None.
        Read from the table at every call: a device disabled a moment ago
        is refused at once, in every worker, whatever session it holds."""
        cursor = Transaction().connection.cursor()
        t = cls.__table__()
        cursor.execute(*t.select(t.id,
                where=(t.user == Transaction().user)
                & (t.user != Null) & (t.active == True),  # noqa: E712
                limit=1))
        row = cursor.fetchone()
        return row[0] if row else None

    @classmethod
    def copy(cls, devices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('user', None)
        default.setdefault('last_seen', None)
        default.setdefault('app_version', None)
        default.setdefault('code', lambda data: data['code'] + '-copy')
        return super().copy(devices, default=default)


class DeviceTicket(ModelSQL):
    __name__ = 'zl.gate.device-zl.ticket'
    __string__ = "Gate Device Ticket"

    device = fields.Many2One(
        'zl.gate.device', "Device", required=True, ondelete='CASCADE')
    ticket = fields.Many2One(
        'zl.ticket', "Ticket", required=True, ondelete='CASCADE')

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        facts.forget_devices()
