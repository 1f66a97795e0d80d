# This file is part of zhonglian-ticketing. See README.md for the licence.
import datetime as dt
import re

from sql import Literal
from sql.aggregate import Count, Max, Min

from trytond import config
from trytond.cache import Cache
from trytond.exceptions import LoginException, RateLimitException
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from . import logs
from .audit import AuditMixin
from .exceptions import PasswordError, PasswordPolicyError

# The manual: accounts are made of letters, digits and symbols.
LOGIN_RE = re.compile(r'^[A-Za-z0-9._@+\-]+$')


class SecurityEpochMixin:
    "Changes of users' groups start a new security epoch"
    __slots__ = ()

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        Pool().get('ir.configuration').bump_security_epoch()


class UserGroupLink(SecurityEpochMixin, metaclass=PoolMeta):
    __name__ = 'res.user-res.group'


class User(AuditMixin, metaclass=PoolMeta):
    __name__ = 'res.user'

    zl_user_groups = fields.Many2Many(
        'zl.user.group-res.user', 'user', 'user_group', "User Groups",
        help="The user groups (用户组) whose data permissions apply.")

    _groups_cache = Cache('zl.res.user.groups', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # res.user says "same login" in plain English, which gettext
        # cannot translate: a message says it in the user's language.
        cls._sql_constraints = [
            (name, constraint, 'zl_ticket_core.msg_user_login_unique'
                if name == 'login_key' else message)
            for name, constraint, message in cls._sql_constraints]

    @classmethod
    def default_language(cls):
        # 用户管理 → 新建 sets no language: a new account works in the
        # database's language (ir.configuration, zh_CN on a Chinese site)
        # instead of Tryton's English.
        pool = Pool()
        Configuration = pool.get('ir.configuration')
        Lang = pool.get('ir.lang')
        langs = Lang.search([
                ('code', '=', Configuration.get_language()),
                ('translatable', '=', True),
                ], limit=1)
        return langs[0].id if langs else None

    @classmethod
    def validate_fields(cls, users, field_names):
        super().validate_fields(users, field_names)
        cls.check_login(users, field_names)

    @classmethod
    def get_groups(cls):
        # Tryton caches the groups per user only: keyed on the security
        # epoch too, a group taken from a user is gone in every process as
        # soon as the change is committed (ir.configuration.security_epoch).
        pool = Pool()
        Configuration = pool.get('ir.configuration')
        UserGroup = pool.get('res.user-res.group')
        Group = pool.get('res.group')
        transaction = Transaction()
        if '_groups' in transaction.context:
            return super().get_groups()
        key = (transaction.user, Configuration.security_epoch())
        groups = cls._groups_cache.get(key)
        if groups is not None:
            return groups
        # As res.user.get_groups, whose cache this one replaces.
        cursor = transaction.connection.cursor()
        group = Group.__table__()
        user_group = UserGroup.user_group_all_table()
        cursor.execute(*user_group
            .join(group, 'LEFT', user_group.group == group.id)
            .select(
                user_group.group,
                where=((user_group.user == transaction.user)
                    & (group.active == Literal(True))),
                order_by=[user_group.group.asc]))
        return cls._groups_cache.set(key, tuple(g for g, in cursor))

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
    def validate_password(cls, password, users):
        # Tryton measures and compares the password as typed: eight spaces
        # pass its length rule and 'login  ' is not the login.  Spaces
        # around a password add nothing: the policy applies to it stripped.
        stripped = password.strip()
        if not stripped:
            raise PasswordError(gettext(
                    'zl_ticket_core.msg_password_blank'))
        length = config.getint('password', 'length', default=0)
        if len(stripped.encode('utf-8')) < length:
            raise PasswordError(gettext(
                    'zl_ticket_core.msg_password_length', length=length))
        for user in users:
            for name in ['login', 'name', 'email']:
                value = (getattr(user, name, None) or '').strip()
                if value and stripped.lower() == value.lower():
                    raise PasswordError(gettext(
                            'zl_ticket_core.msg_password_%s' % name))
        super().validate_password(password, users)

    @classmethod
    def get_login(cls, login, parameters):
        # Every login attempt with a password is an operation of the
        # manual's 日志查看; the first step of sao's login has none.
        pool = Pool()
        Log = pool.get('ir.model.log')
        try:
            user_id = cls._authenticate(login, parameters)
        except Exception:
            if 'password' in parameters:
                cls._log_login(Log, login, None)
            raise
        if 'password' in parameters:
            cls._log_login(Log, login, user_id)
        return user_id

    @classmethod
    def _authenticate(cls, login, parameters):
        """res.user's get_login without its sleep; replaces it.

        Tryton delays every attempt after a failure with time.sleep in the
        worker (up to 2**failures - 1 s), so that a flood of wrong logins
        holds every sync worker and stalls everyone's requests.  Here the
        same back-off is a window: an attempt inside it is refused at once
        with RateLimitException (HTTP 429) and checks no password."""
        pool = Pool()
        LoginAttempt = pool.get('res.user.login.attempt')
        UserDevice = pool.get('res.user.device')
        parameters = parameters.copy()

        if LoginAttempt.count_ip() > config.getint(
                'session', 'max_attempt_ip_network', default=300):
            raise RateLimitException()
        device_cookie = UserDevice.get_valid_cookie(
            login, parameters.get('device_cookie'))
        parameters['device_cookie'] = device_cookie
        # Only attempts with a password wait: the first step of a login
        # (sao asks for the password) checks nothing, and refused it
        # answered a wrong password with "too many requests".
        if ('password' in parameters
                and LoginAttempt.retry_after(login, device_cookie) > 0):
            raise RateLimitException()
        # From here as in res.user.get_login.
        for methods in config.get(
                'session', 'authentications', default='password').split(','):
            user_ids = set()
            for method in methods.split('+'):
                if user_ids:
                    try:
                        method, options = method.split('?', 1)
                    except ValueError:
                        options = []
                    else:
                        options = options.split(':')
                    if cls._check_login_options(options, login, parameters):
                        continue
                func = getattr(cls, '_login_%s' % method, None)
                if func is None:
                    break
                user_ids.add(func(login, parameters))
                if len(user_ids) != 1 or not all(user_ids):
                    break
            if len(user_ids) == 1 and all(user_ids):
                LoginAttempt.remove(login, device_cookie)
                return user_ids.pop()
        LoginAttempt.add(login, device_cookie)

    @classmethod
    def _login_password(cls, login, parameters):
        # After a wrong password, sao asks for it again in the same words:
        # say that it was wrong while a failure of this account from this
        # device still counts.
        if 'password' not in parameters:
            LoginAttempt = Pool().get('res.user.login.attempt')
            if LoginAttempt.count(login, parameters.get('device_cookie')):
                raise LoginException('password', gettext(
                        'zl_ticket_core.msg_user_password_retry',
                        login=login), type='password')
        return super()._login_password(login, parameters)

    @classmethod
    def _log_login(cls, Log, login, user_id):
        pool = Pool()
        LoginAttempt = pool.get('res.user.login.attempt')
        transaction = Transaction()
        if user_id:
            resource = cls(user_id)
        else:
            users = cls.search([('login', '=', login)], limit=1)
            resource = users[0] if users else None
        if resource:
            name, logged = resource.rec_name, resource.login
        else:
            # No such account: what was typed may be a password.  Keep a
            # marker that tells repeated attempts of one name apart, and
            # the same in the server log (trytond.security logs the name).
            name, logged = None, LoginAttempt.login_marker(login)
            logs.hide_failed_login(login, logged)
        ip_address = None
        request = transaction.context.get('_request') or {}
        if request:
            ip_address = request.get('remote_addr')
        transaction.log_records.append(Log(
                resource=resource,
                record_name=name,
                event='login' if user_id else 'login_failed',
                user=user_id,
                login=logged[:256],
                ip_address=ip_address))


class LoginAttempt(metaclass=PoolMeta):
    """Failed logins are counted per keyed digest of the login name,
    never per name: the name typed may be a password."""
    __name__ = 'res.user.login.attempt'

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        # Attempts stored before by name; they only live for
        # [session] timeout anyway.
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.delete(where=~table.login.like('zl:%')))

    @classmethod
    def login_digest(cls, login):
        pool = Pool()
        Configuration = pool.get('ir.configuration')
        return 'zl:' + Configuration.login_digest(login or '')

    @classmethod
    def login_marker(cls, login):
        "What ir.model.log keeps of a login name that is no account"
        return '#' + cls.login_digest(login)[3:15]

    @classmethod
    def add(cls, login, device_cookie=None):
        super().add(cls.login_digest(login), device_cookie)

    @classmethod
    def remove(cls, login, device_cookie=None):
        super().remove(cls.login_digest(login), device_cookie)

    @classmethod
    def count(cls, login, device_cookie=None):
        return super().count(cls.login_digest(login), device_cookie)

    @classmethod
    def retry_after(cls, login, device_cookie=None):
        """Seconds before login (from this device) may be tried again.

        After n recent failures the next attempt waits 2**(n-1) s from the
        last one (1, 2, 4, 8, 16 s with the default max_attempt of 5);
        beyond max_attempt failures it waits until the oldest expires
        ([session] timeout): the limit of Tryton, without sleeping."""
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.select(
                Count(), Min(table.create_date), Max(table.create_date),
                where=(table.login == cls.login_digest(login))
                & (table.device_cookie == device_cookie)
                & (table.create_date >= cls.delay())))
        count, first, last = cursor.fetchone()
        if not count:
            return 0
        first, last = (
            dt.datetime.fromisoformat(d) if isinstance(d, str) else d
            for d in (first, last))
        now = dt.datetime.now()
        if count > config.getint('session', 'max_attempt', default=5):
            timeout = config.getint('session', 'timeout')
            until = first + dt.timedelta(seconds=timeout)
        else:
            until = last + dt.timedelta(seconds=2 ** (count - 1))
        return max((until - now).total_seconds(), 0)


class UserRoleLink(AuditMixin, metaclass=PoolMeta):
    __name__ = 'res.user.role'
