# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Old/new values for ir.model.log.

Tryton logs writes (field names only), deletes, buttons and wizards.  The
manual wants every back-office operation readable, so models that mix this
in also log creates and store what each write changed.
"""
import json

from trytond.model import Model, dualmethod
from trytond.transaction import Transaction, without_check_access

# Never written into a log, whatever the model.
SECRET_FIELDS = {
    'password', 'password_hash', 'password_reset', 'password_reset_expire',
    'create_uid', 'create_date', 'write_uid', 'write_date',
    }


def mask(value):
    "Keep the first 4 and last 4 characters: 1101**********1234"
    if not value:
        return value
    value = str(value)
    if len(value) <= 8:
        return value[:1] + '*' * (len(value) - 1)
    return value[:4] + '*' * (len(value) - 8) + value[-4:]


class AuditMixin:
    __slots__ = ()
    # Fields logged masked (ID numbers), per model.
    _audit_masked = set()

    @classmethod
    def _audit_enabled(cls):
        transaction = Transaction()
        return bool(cls._log and (
                (transaction.user and transaction.check_access)
                or transaction.context.get('_log')))

    @classmethod
    def _audit_names(cls, names):
        return sorted(
            n for n in names
            if n in cls._fields and n not in SECRET_FIELDS)

    @classmethod
    def _audit_value(cls, record, name):
        field = cls._fields[name]
        value = getattr(record, name, None)
        if value is None or value == '':
            return None
        if name in cls._audit_masked:
            return mask(value)
        if field._type == 'binary':
            return '<%s bytes>' % len(value)
        if isinstance(value, Model):
            return value.rec_name
        if isinstance(value, (list, tuple)):
            return ', '.join(sorted(
                v.rec_name if isinstance(v, Model) else str(v)
                for v in value)) or None
        return str(value)

    @classmethod
    @without_check_access
    def _audit_snapshot(cls, records, names):
        records = cls.browse([r.id for r in records])
        return {
            r.id: {n: cls._audit_value(r, n) for n in names}
            for r in records}

    @classmethod
    def create(cls, vlist):
        records = super().create(vlist)
        if cls._audit_enabled():
            names = cls._audit_names(set().union(*vlist))
            snapshot = cls._audit_snapshot(records, names)
            for record in records:
                changes = [
                    [n, None, v] for n, v in snapshot[record.id].items()
                    if v is not None]
                cls.log([record], 'create', changes=json.dumps(
                        changes, ensure_ascii=False))
        return records

    @classmethod
    def write(cls, *args):
        if not cls._audit_enabled():
            return super().write(*args)
        before = []
        actions = iter(args)
        for records, values in zip(actions, actions):
            names = cls._audit_names(values)
            before.append((records, names, cls._audit_snapshot(
                        records, names)))
        super().write(*args)
        changes = {}
        for records, names, old in before:
            new = cls._audit_snapshot(records, names)
            for record in records:
                changes.setdefault(record.id, []).extend(
                    [n, old[record.id][n], new[record.id][n]]
                    for n in names
                    if old[record.id][n] != new[record.id][n])
        # Native write logs are queued in the transaction until commit:
        # complete the newest one of each record with its values.
        for log in reversed(Transaction().log_records or []):
            resource = log.resource
            if (log.event == 'write'
                    and getattr(log, 'changes', None) is None
                    and isinstance(resource, Model)
                    and resource.__name__ == cls.__name__
                    and resource.id in changes):
                log.changes = json.dumps(
                    changes.pop(resource.id), ensure_ascii=False)

    @dualmethod
    def log(cls, records, event, target=None, user=None, **extra):
        # One call per record to keep each record's name beside its log,
        # so deleted records stay identifiable.
        for record in records:
            with without_check_access():
                name = record.rec_name
            super().log(
                [record], event, target=target, user=user,
                record_name=name, **extra)
