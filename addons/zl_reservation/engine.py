# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Plumbing shared by the engine's entry points (booking, cancellation,
and next the gate and the visitor API): a decision's own transaction,
advisory locks, plain inserts, cache forgetting, input checks and coded
refusals answered as RPC results.

Nothing here knows a business rule; the rules live on the models that own
their tables (zl.seller's sale terms, the slot's places, the booking).
"""
import functools
import hashlib
import re
import struct

from trytond import backend
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.modules.zl_ticket_core.common import forget_cached
from trytond.pool import Pool
from trytond.rpc import RPCReturnException
from trytond.transaction import Transaction

from .exceptions import BookingAccessError, BookingError

MAX_TEXT = 128
# NUL and the other C0 controls: PostgreSQL refuses NUL in text, and none
# of them belongs in a name, a phone or a key.
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')


def refusal(code, **kwargs):
    """The engine's refusal with its code and translated message
    (doc/api.md); the message's arguments stay on it for clients that
    answer them as data (the visitor API's `until`)"""
    error = BookingError(
        code, gettext('zl_reservation.msg_%s' % code, **kwargs))
    error.arguments = kwargs
    return error


def text(value, required=False):
    """A client's short text, stripped; None when empty and not required.

    Anything but a printable string of at most MAX_TEXT characters is an
    invalid_request, so that no raw database error reaches the client."""
    if value is not None and not isinstance(value, str):
        raise refusal('invalid_request')
    value = (value or '').strip()
    if not value:
        if required:
            raise refusal('invalid_request')
        return None
    if len(value) > MAX_TEXT or _CONTROL.search(value):
        raise refusal('invalid_request')
    return value


def positive_int(value):
    "A record id or count sent by a client"
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise refusal('invalid_request')
    return value


def lock_key(*parts):
    "A 64-bit advisory lock key for parts"
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return struct.unpack('>q', digest)[0]


def advisory_lock(keys):
    """Take transaction-level advisory locks in one global order (sorted),
    so that two decisions never deadlock on them"""
    if backend.name != 'postgresql' or not keys:
        return
    cursor = Transaction().connection.cursor()
    keys = sorted(set(keys))
    # One statement: its calls run in the order written.
    cursor.execute('SELECT %s' % ', '.join(
            ['pg_advisory_xact_lock(%s)'] * len(keys)), keys)


def read_committed(transaction):
    """Turn an idle transaction READ COMMITTED and tell whether it was
    done: a decision then runs in it (decide() with the context
    _zl_decide) instead of a transaction and a connection of its own.
    Tryton sets its level again on every connection it hands out."""
    if backend.name != 'postgresql' or transaction.readonly:
        return False
    import psycopg
    connection = transaction.connection
    if connection.info.transaction_status != (
            psycopg.pq.TransactionStatus.IDLE):
        return False
    connection.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
    return True


# A decision's statements are few, selective (keys, ids) and the same at
# every booking: psycopg prepares them after five runs on a connection, and
# PostgreSQL should then plan them once.  Left to itself it plans them again
# at every bind (custom plans: 0.4-0.7 ms each, the visit policy's one
# statement the most), longer than they take to run.
GENERIC_PLANS = 'SET LOCAL plan_cache_mode = force_generic_plan'


def decide(func, *args):
    """Run func(*args) as one decision and return its result.

    On PostgreSQL it runs in a READ COMMITTED transaction of its own: the
    conditional updates of hot rows wait for the row lock and re-read the
    committed row, where Tryton's REPEATABLE READ would fail and retry.
    Elsewhere, or when already deciding (tests, nested calls), it runs in
    the caller's transaction behind a savepoint so a refusal leaves
    nothing half-written."""
    transaction = Transaction()
    if (backend.name != 'postgresql'
            or transaction.context.get('_zl_decide')):
        cursor = transaction.connection.cursor()
        cursor.execute('SAVEPOINT zl_decide' + (
                '; ' + GENERIC_PLANS if backend.name == 'postgresql' else ''))
        try:
            result = func(*args)
        except Exception:
            cursor.execute('ROLLBACK TO SAVEPOINT zl_decide')
            raise
        cursor.execute('RELEASE SAVEPOINT zl_decide')
        return result
    import psycopg
    with transaction.new_transaction() as decision, \
            decision.set_context(_zl_decide=True):
        connection = decision.connection
        # Nothing was done yet in it: its level can still change.
        connection.rollback()
        connection.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        connection.cursor().execute(GENERIC_PLANS)
        return func(*args)


def insert_rows(table, columns, rows):
    "Insert rows with plain SQL and return their ids, in order"
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    ids = []
    # One statement per row keeps the ids in the rows' order.
    for row in rows:
        if transaction.database.has_returning():
            cursor.execute(*table.insert(columns, [row], returning=[table.id]))
            ids.append(cursor.fetchone()[0])
        else:
            cursor.execute(*table.insert(columns, [row]))
            ids.append(cursor.lastrowid)
    return ids


# Shared with zl_ticket_core, whose models also move by plain SQL.
forget = forget_cached


class ReturnError(RPCReturnException):
    "Answer an RPC with {'error': ...} after rolling the transaction back"

    def __init__(self, code, message):
        super().__init__()
        self.code = code
        self.message = message

    def result(self):
        return {'error': {'code': self.code, 'message': self.message}}


def rpc_answer(func):
    """A JSON-RPC method answers a refusal as {'error': {'code',
    'message'}} after rolling back, never as a traceback; an operation
    the caller's groups may not run answers the code forbidden."""
    @functools.wraps(func)
    def wrapper(cls, *args):
        try:
            return func(cls, *args)
        except BookingError as error:
            raise ReturnError(error.code, error.message)
        except AccessError as error:
            raise ReturnError('forbidden', error.message)
    return wrapper


def check_button(Model, name):
    """Refuse (forbidden) unless the user's groups may click the button
    name of Model: an operation has one permission, ir.model.button's,
    whether it is clicked in the back office or called over JSON-RPC."""
    pool = Pool()
    Button = pool.get('ir.model.button')
    User = pool.get('res.user')
    transaction = Transaction()
    if transaction.user == 0 or not transaction.check_access:
        return
    groups = Button.get_groups(Model.__name__, name)
    if groups:
        if not groups & set(User.get_groups()):
            raise refusal('forbidden')
    else:
        # Tryton's rule for a button without groups: write access.
        pool.get('ir.model.access').check(Model.__name__, 'write')


class EngineOwnedMixin:
    """Records the engine alone creates and writes (bookings, visitors,
    passes): an external create or write is refused, also for a group a
    site would grant write access by mistake."""
    __slots__ = ()

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if external and mode in {'create', 'write'}:
            raise BookingAccessError(
                gettext('zl_reservation.msg_booking_engine'))
