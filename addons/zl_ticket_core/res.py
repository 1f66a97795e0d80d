# This file is part of zhonglian-ticketing. See README.md for the licence.
import re

from sql import Null

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .audit import AuditMixin
from .common import CodedMixin
from .exceptions import PasswordPolicyError

# The manual: accounts are made of letters, digits and symbols.
LOGIN_RE = re.compile(r'^[A-Za-z0-9._@+\-]+$')


class Group(AuditMixin, metaclass=PoolMeta):
    __name__ = 'res.group'


class Role(AuditMixin, CodedMixin, metaclass=PoolMeta):
    __name__ = 'res.role'
    _code_unique_message = 'zl_ticket_core.msg_role_code_unique'

    code = fields.Char(
        "Code", required=True, strip=True,
        help="Free reference, unique (letters, digits, symbols).")
    remark = fields.Text("Remark")
    menus = fields.Function(fields.Many2Many(
            'ir.ui.menu', None, None, "Pages",
            help="The menus that the role's groups open."),
        'get_permissions')
    buttons = fields.Function(fields.Many2Many(
            'ir.model.button', None, None, "Operations",
            help="The buttons that the role's groups may click."),
        'get_permissions')
    accesses = fields.Function(fields.Many2Many(
            'ir.model.access', None, None, "Data Operations",
            help="What the role's groups may read, create, edit, delete."),
        'get_permissions')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('code', 'ASC'))

    @classmethod
    def __register__(cls, module):
        table = cls.__table_handler__(module)
        had_code = table.column_exist('code')
        super().__register__(module)
        if not had_code:
            # Roles created before this module get their id as code.
            cursor = Transaction().connection.cursor()
            t = cls.__table__()
            cursor.execute(*t.update(
                    [t.code], [t.id.cast('VARCHAR')],
                    where=t.code == Null))

    @classmethod
    def get_permissions(cls, roles, names):
        pool = Pool()
        Menu = pool.get('ir.ui.menu')
        Button = pool.get('ir.model.button')
        Access = pool.get('ir.model.access')
        models = {'menus': Menu, 'buttons': Button, 'accesses': Access}
        result = {n: {} for n in names}
        with without_check_access():
            for role in roles:
                groups = [g.id for g in role.groups]
                for name in names:
                    domain = [('groups', 'in', groups)]
                    if name == 'accesses':
                        domain = [('group', 'in', groups)]
                    result[name][role.id] = [
                        r.id for r in models[name].search(domain)]
        return result


class User(AuditMixin, metaclass=PoolMeta):
    __name__ = 'res.user'

    zl_user_groups = fields.Many2Many(
        'zl.user.group-res.user', 'user', 'user_group', "User Groups",
        help="The user groups (用户组) whose data permissions apply.")

    @classmethod
    def validate_fields(cls, users, field_names):
        super().validate_fields(users, field_names)
        cls.check_login(users, field_names)

    @classmethod
    def check_login(cls, users, field_names=None):
        if field_names and 'login' not in field_names:
            return
        for user in users:
            if user.login and not LOGIN_RE.match(user.login):
                raise PasswordPolicyError(gettext(
                        'zl_ticket_core.msg_user_login_format',
                        login=user.login))

    @classmethod
    def get_login(cls, login, parameters):
        # Every login attempt with a password is an operation of the
        # manual's 日志查看; the first step of sao's login has none.
        pool = Pool()
        Log = pool.get('ir.model.log')
        try:
            user_id = super().get_login(login, parameters)
        except Exception:
            if 'password' in parameters:
                cls._log_login(Log, login, None)
            raise
        if 'password' in parameters:
            cls._log_login(Log, login, user_id)
        return user_id

    @classmethod
    def _log_login(cls, Log, login, user_id):
        transaction = Transaction()
        if user_id:
            resource = cls(user_id)
        else:
            users = cls.search([('login', '=', login)], limit=1)
            resource = users[0] if users else None
        ip_address = None
        request = transaction.context.get('_request') or {}
        if request:
            ip_address = request.get('remote_addr')
        transaction.log_records.append(Log(
                resource=resource,
                record_name=resource.rec_name if resource else login,
                event='login' if user_id else 'login_failed',
                user=user_id,
                login=login[:256],
                ip_address=ip_address))


class UserRoleLink(AuditMixin, metaclass=PoolMeta):
    __name__ = 'res.user.role'
