# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Roles as the manual shows them: 角色管理 → 页面权限 / 操作权限.

A role's pages and operations are tick lists.  Underneath, each page is a
Tryton group (``res.group`` with ``zl_page``) that holds the page's menu
and what the page needs to open and work (model access, and the read-only
data groups it inherits through ``parent``); each operation is a group
(``zl_operation``) named in its button's groups.  Ticking adds the group to
the role, unticking removes it, and user_role gives the role's users the
role's groups: no permission system of our own, only Tryton's.
"""
from sql import Null

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .audit import AuditMixin
from .common import CodedMixin
from .exceptions import RoleTickError
from .res import SecurityEpochMixin

# Role field → the res.group field that marks its tick groups.
TICKS = {
    'pages': 'zl_page',
    'operations': 'zl_operation',
    }


class Group(SecurityEpochMixin, AuditMixin, metaclass=PoolMeta):
    __name__ = 'res.group'

    zl_page = fields.Many2One(
        'ir.ui.menu', "Page", ondelete='SET NULL',
        help="The page this group opens, with all the page needs: "
        "ticking the page on a role gives the role this group.")
    zl_operation = fields.Many2One(
        'ir.model.button', "Operation", ondelete='SET NULL',
        help="The button this group may click: "
        "ticking the operation on a role gives the role this group.")


class Role(AuditMixin, CodedMixin, metaclass=PoolMeta):
    __name__ = 'res.role'
    _code_unique_message = 'zl_ticket_core.msg_role_code_unique'

    code = fields.Char(
        "Code", required=True, strip=True,
        help="Free reference, unique (letters, digits, symbols).")
    remark = fields.Text("Remark", translate=True)
    pages = fields.Function(fields.MultiSelection(
            'get_page_selection', "Pages", sort=False,
            help="Ticked: the role's users see the page and work in it; "
            "unticked: they neither see nor use it (from their next login)."),
        'get_ticks', setter='set_ticks')
    operations = fields.Function(fields.MultiSelection(
            'get_operation_selection', "Operations", sort=False,
            help="The buttons the role's users may click on the pages "
            "they see."),
        'get_ticks', setter='set_ticks')
    accesses = fields.Function(fields.Many2Many(
            'ir.model.access', None, None, "Data Access",
            help="What the role's groups may read, create, edit, delete: "
            "follows from the pages and operations."),
        'get_accesses')

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
    def _tick_groups(cls, name):
        "The tick groups of a role field, in the menu's order"
        pool = Pool()
        Group = pool.get('res.group')
        marker = TICKS[name]
        with without_check_access():
            groups = Group.search([(marker, '!=', None)])
        if name == 'pages':
            def key(group):
                path, menu = [], group.zl_page
                while menu:
                    path.insert(0, (menu.sequence or 0, menu.id))
                    menu = menu.parent
                return path
        else:
            def key(group):
                button = group.zl_operation
                return (button.model_ref.string, button.name)
        return sorted(groups, key=key)

    @classmethod
    def _tick_label(cls, group):
        if group.zl_page:
            return group.zl_page.complete_name
        button = group.zl_operation
        return '%s / %s' % (
            button.model_ref.string, button.string or button.name)

    @classmethod
    def _tick_selection(cls, name):
        with without_check_access():
            return [(str(g.id), cls._tick_label(g))
                for g in cls._tick_groups(name)]

    @classmethod
    def get_page_selection(cls):
        return cls._tick_selection('pages')

    @classmethod
    def get_operation_selection(cls):
        return cls._tick_selection('operations')

    @classmethod
    def get_ticks(cls, roles, names):
        result = {}
        for name in names:
            ticks = {g.id for g in cls._tick_groups(name)}
            result[name] = {
                r.id: [str(g.id) for g in r.groups if g.id in ticks]
                for r in roles}
        return result

    @classmethod
    def set_ticks(cls, roles, name, value):
        ticks = {g.id for g in cls._tick_groups(name)}
        try:
            wanted = {int(v) for v in value or []}
        except (TypeError, ValueError):
            wanted = None
        if wanted is None or not wanted <= ticks:
            raise RoleTickError(gettext('zl_ticket_core.msg_role_tick'))
        to_write = []
        for role in roles:
            current = {g.id for g in role.groups} & ticks
            if current != wanted:
                to_write.extend([[role], {'groups': [
                                ('add', list(wanted - current)),
                                ('remove', list(current - wanted)),
                                ]}])
        if to_write:
            cls.write(*to_write)

    @classmethod
    def _audit_value(cls, record, name):
        # The log says which pages and operations, not group ids.
        if name in TICKS:
            pool = Pool()
            Group = pool.get('res.group')
            ids = getattr(record, name, None) or []
            return ', '.join(
                cls._tick_label(g) for g in Group.browse(map(int, ids))
                ) or None
        return super()._audit_value(record, name)

    @classmethod
    def get_accesses(cls, roles, name):
        pool = Pool()
        Access = pool.get('ir.model.access')
        result = {}
        with without_check_access():
            for role in roles:
                # With the data groups the pages inherit through parent.
                groups, todo = set(), list(role.groups)
                while todo:
                    group = todo.pop()
                    if group.id not in groups:
                        groups.add(group.id)
                        if group.parent:
                            todo.append(group.parent)
                result[role.id] = [a.id for a in Access.search(
                        [('group', 'in', list(groups))])]
        return result
