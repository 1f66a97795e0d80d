# This file is part of zhonglian-ticketing. See README.md for the licence.
"""User groups (用户组) and data permissions (数据权限).

A user's data scope is the union of the data permissions given to the user
groups the user belongs to.  Record rules read it from the rule context
(see ir.Rule), so any model hangs itself on the scope with one rule whose
domain uses the context keys of `DataPermission.scope_context`.
"""
from trytond.cache import Cache
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .audit import AuditMixin
from .common import CodedMixin


class ScopeChangeMixin:
    """Records that make up someone's data scope.  A change starts a new
    security epoch, on which the scope and rule caches key, so no process
    serves a revoked scope once the change is committed; the caches are
    cleared too (Cache.clear: in every process through PostgreSQL NOTIFY
    with [cache] clean_timeout = 0, see README.md)."""
    __slots__ = ()

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        Pool().get('ir.configuration').bump_security_epoch()


class UserGroup(
        ScopeChangeMixin, AuditMixin, CodedMixin, DeactivableMixin, ModelSQL,
        ModelView):
    __name__ = 'zl.user.group'
    __string__ = "User Group"
    _code_unique_message = 'zl_ticket_core.msg_user_group_code_unique'

    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True)
    remark = fields.Text("Remark")
    users = fields.Many2Many(
        'zl.user.group-res.user', 'user_group', 'user', "Members")
    permissions = fields.Many2Many(
        'zl.data.permission-zl.user.group', 'user_group', 'permission',
        "Data Permissions")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('code', 'ASC'))


class UserGroupUser(ScopeChangeMixin, ModelSQL):
    __name__ = 'zl.user.group-res.user'
    __string__ = "User Group Member"

    user_group = fields.Many2One(
        'zl.user.group', "User Group", required=True, ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('user_group_user_uniq', Unique(t, t.user_group, t.user),
                'zl_ticket_core.msg_user_group_member_unique'),
            ]


class DataPermission(
        ScopeChangeMixin, AuditMixin, DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'zl.data.permission'
    __string__ = "Data Permission"

    category = fields.Selection([
            ('user_group', "User Group"),
            ], "Category", required=True)
    name = fields.Char("Name", required=True)
    all_data = fields.Boolean(
        "All Data", help="Open every record, present and future.")
    user_groups = fields.Many2Many(
        'zl.data.permission-zl.user.group', 'permission', 'user_group',
        "User Groups")
    sellers = fields.Many2Many(
        'zl.data.permission-zl.seller', 'permission', 'seller', "Sellers",
        states={'invisible': Eval('all_data', False)})
    distributors = fields.Many2Many(
        'zl.data.permission-zl.distributor', 'permission', 'distributor',
        "Distributors",
        states={'invisible': Eval('all_data', False)})

    _scope_cache = Cache('zl.data.permission.scope', context=False)

    @classmethod
    def default_category(cls):
        return 'user_group'

    @classmethod
    def default_all_data(cls):
        return False

    @classmethod
    def scope_fields(cls):
        "Map a scope key to the Many2Many field that opens it"
        return {'seller': 'sellers', 'distributor': 'distributors'}

    @classmethod
    def get_scope(cls, user_id=None):
        """Return {'all': bool, <key>: [ids]} for the user.

        Root and the built-in administrator see everything; anyone else
        sees what the permissions of their user groups open."""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Configuration = pool.get('ir.configuration')
        if user_id is None:
            user_id = Transaction().user
        cache_key = (user_id, Configuration.security_epoch())
        scope = cls._scope_cache.get(cache_key)
        if scope is not None:
            return scope
        keys = cls.scope_fields()
        if user_id in {0, ModelData.get_id('res', 'user_admin')}:
            scope = {'all': True, **{k: [] for k in keys}}
        else:
            with without_check_access():
                permissions = cls.search([
                        ('user_groups.users', '=', user_id),
                        ('user_groups.active', '=', True),
                        ])
                scope = {'all': any(p.all_data for p in permissions)}
                for key, field in keys.items():
                    scope[key] = sorted({
                            r.id for p in permissions
                            for r in getattr(p, field)})
        cls._scope_cache.set(cache_key, scope)
        return scope

    @classmethod
    def scope_context(cls):
        "The record-rule context: zl_scope_all and zl_<key>_ids"
        scope = cls.get_scope()
        context = {'zl_scope_all': scope['all']}
        for key in cls.scope_fields():
            context['zl_%s_ids' % key] = scope[key]
        return context

    @classmethod
    def clear_scope_cache(cls):
        "Forget every cached scope, in every process, at commit"
        Pool().get('ir.configuration').bump_security_epoch()


class DataPermissionUserGroup(ScopeChangeMixin, ModelSQL):
    __name__ = 'zl.data.permission-zl.user.group'
    __string__ = "Data Permission User Group"

    permission = fields.Many2One(
        'zl.data.permission', "Permission", required=True,
        ondelete='CASCADE')
    user_group = fields.Many2One(
        'zl.user.group', "User Group", required=True, ondelete='CASCADE')


class DataPermissionSeller(ScopeChangeMixin, ModelSQL):
    __name__ = 'zl.data.permission-zl.seller'
    __string__ = "Data Permission Seller"

    permission = fields.Many2One(
        'zl.data.permission', "Permission", required=True,
        ondelete='CASCADE')
    seller = fields.Many2One(
        'zl.seller', "Seller", required=True, ondelete='CASCADE')


class DataPermissionDistributor(ScopeChangeMixin, ModelSQL):
    __name__ = 'zl.data.permission-zl.distributor'
    __string__ = "Data Permission Distributor"

    permission = fields.Many2One(
        'zl.data.permission', "Permission", required=True,
        ondelete='CASCADE')
    distributor = fields.Many2One(
        'zl.distributor', "Distributor", required=True, ondelete='CASCADE')
