# This file is part of zhonglian-ticketing. See README.md for the licence.
import hashlib
import hmac
import json
import secrets
from weakref import WeakKeyDictionary

from sql import Null
from sql.aggregate import Max
from sql.conditionals import Coalesce

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .audit import AuditMixin
from .exceptions import LogAccessError


class Configuration(metaclass=PoolMeta):
    __name__ = 'ir.configuration'

    # Key of the digests of login names (res.user.login.attempt, failed
    # logins in ir.model.log): a password typed as login name must not be
    # found back from them with a dictionary.  Field access denies it to
    # every group (ir.xml).
    zl_login_secret = fields.Char(
        "Login Secret", readonly=True, strip=False)
    _login_secret_cache = Cache(
        'ir.configuration.zl_login_secret', context=False)
    # Counts the changes of who may read what: users' groups, data scopes.
    zl_security_epoch = fields.Integer("Security Epoch", readonly=True)
    # transaction: (its started_at, the epoch it read)
    _security_epochs = WeakKeyDictionary()

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # Made at installation: on first use, two workers would race.
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.select(
                table.id, table.zl_login_secret, order_by=table.id, limit=1))
        row = cursor.fetchone()
        secret = secrets.token_hex(32)
        if not row:
            cursor.execute(*table.insert(
                    [table.zl_login_secret], [[secret]]))
        elif not row[1]:
            cursor.execute(*table.update(
                    [table.zl_login_secret], [secret],
                    where=table.id == row[0]))

    @classmethod
    def login_digest(cls, login):
        "Keyed SHA-256 (hex) of a login name"
        secret = cls._login_secret_cache.get(None)
        if secret is None:
            cursor = Transaction().connection.cursor()
            table = cls.__table__()
            cursor.execute(*table.select(
                    table.zl_login_secret,
                    where=table.zl_login_secret != Null,
                    order_by=table.id, limit=1))
            secret, = cursor.fetchone()
            cls._login_secret_cache.set(None, secret)
        return hmac.new(
            secret.encode(), login.encode('utf-8'), hashlib.sha256).hexdigest()

    @classmethod
    def security_epoch(cls):
        """The security epoch as this transaction sees it (read once).

        Caches of users' groups, rule domains and data scopes key on it.
        Cache.clear reaches the other processes through PostgreSQL NOTIFY,
        which arrives a few milliseconds after the commit: a request served
        meanwhile would still get what was just revoked.  A change bumps the
        epoch in its own transaction, so any transaction that sees the
        change sees the new epoch too and misses the old entries."""
        transaction = Transaction()
        # A commit starts a new snapshot (and resets started_at).
        started_at, epoch = cls._security_epochs.get(
            transaction, (None, None))
        if started_at != transaction.started_at:
            cursor = transaction.connection.cursor()
            table = cls.__table__()
            cursor.execute(*table.select(
                    Coalesce(Max(table.zl_security_epoch), 0)))
            epoch, = cursor.fetchone()
            cls._security_epochs[transaction] = (
                transaction.started_at, epoch)
        return epoch

    @classmethod
    def bump_security_epoch(cls):
        "Start a new security epoch when this transaction commits"
        pool = Pool()
        User = pool.get('res.user')
        Rule = pool.get('ir.rule')
        DataPermission = pool.get('zl.data.permission')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.update(
                [table.zl_security_epoch],
                [Coalesce(table.zl_security_epoch, 0) + 1]))
        cls._security_epochs.pop(transaction, None)
        # Until it commits, this transaction caches its entries apart (and
        # forgets them if it rolls back); at commit the other processes
        # drop the old entries.
        for cache in [User._groups_cache, Rule._domain_get_cache,
                DataPermission._scope_cache]:
            cache.clear()


class Log(metaclass=PoolMeta):
    __name__ = 'ir.model.log'

    record_name = fields.Char("Record", readonly=True)
    # A selection of the models of resource: staff read the model's name
    # in their language, not "zl.ticket"; searches and get_model keep the
    # technical name.
    model = fields.Function(
        fields.Selection('get_models', "Model"), 'get_model',
        searcher='search_model')
    changes = fields.Text(
        "Changes", readonly=True,
        help="The values before and after, as JSON.")
    changes_summary = fields.Function(
        fields.Text("Changes"), 'get_changes_summary')
    login = fields.Char("Login", readonly=True)
    ip_address = fields.Char("IP Address", readonly=True)

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        LoginAttempt = pool.get('res.user.login.attempt')
        super().__register__(module)
        # Failed logins of no account were kept with the name typed, which
        # may be a password: keep only its marker.
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.select(table.id, table.login,
                where=(table.event == 'login_failed')
                & (table.resource == Null)
                & ~table.login.like('#%')))
        for id_, login in cursor.fetchall():
            cursor.execute(*table.update(
                    [table.login, table.record_name],
                    [LoginAttempt.login_marker(login), None],
                    where=table.id == id_))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.event.selection += [
            ('create', "Created"),
            ('login', "Logged in"),
            ('login_failed', "Login failed"),
            ]
        cls.user.states['required'] = ~Eval('event').in_(
            ['transition', 'login_failed'])

    def get_model(self, name):
        if self.resource:
            return str(self.resource).split(',')[0]

    @classmethod
    def search_model(cls, name, clause):
        _, operator, value = clause[:3]
        if operator in {'=', '!='} and value:
            operator = 'like' if operator == '=' else 'not like'
            value = value + ',%'
        return [('resource', operator, value)]

    def get_changes_summary(self, name):
        pool = Pool()
        Field = pool.get('ir.model.field')
        if not self.changes:
            return None
        model = self.get_model(None)
        lines = []
        for field, old, new in json.loads(self.changes):
            label = Field.get_name(model, field) if model else field
            if old is None:
                lines.append('%s: %s' % (label, new))
            else:
                lines.append('%s: %s → %s' % (label, old, new))
        return '\n'.join(lines)

    @classmethod
    def _is_log_reader(cls):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        groups = set(User.get_groups())
        return ModelData.get_id('zl_ticket_core', 'group_page_log') in groups

    @classmethod
    def check_access(cls, ids, mode='read'):
        # Auditors read the trail without read access on every audited
        # model; everyone else keeps the native per-resource check.
        if mode == 'read' and cls._is_log_reader():
            return
        super().check_access(ids, mode=mode)

    @classmethod
    def search(cls, domain, offset=0, limit=None, order=None, count=False,
            **kwargs):
        transaction = Transaction()
        if (transaction.user and transaction.check_access
                and not kwargs.get('query') and cls._is_log_reader()):
            pool = Pool()
            ModelAccess = pool.get('ir.model.access')
            ModelAccess.check(cls.__name__, 'read')
            with without_check_access():
                return super().search(
                    domain, offset=offset, limit=limit, order=order,
                    count=count, **kwargs)
        return super().search(
            domain, offset=offset, limit=limit, order=order, count=count,
            **kwargs)

    @classmethod
    def check_modification(cls, mode, logs, values=None, external=False):
        super().check_modification(
            mode, logs, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise LogAccessError(gettext('zl_ticket_core.msg_log_immutable'))


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        DataPermission = pool.get('zl.data.permission')
        context = super()._get_context(model_name)
        context.update(DataPermission.scope_context())
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        # The data scope depends on the user, not only on the groups; and
        # on the security epoch (see ir.configuration.security_epoch).
        pool = Pool()
        Configuration = pool.get('ir.configuration')
        return super()._get_cache_key(model_names) + (
            Transaction().user, Configuration.security_epoch())


class UIMenu(AuditMixin, metaclass=PoolMeta):
    __name__ = 'ir.ui.menu'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # ir.* models are not logged by default; menu management is a
        # back-office operation like any other.
        cls._log = True
