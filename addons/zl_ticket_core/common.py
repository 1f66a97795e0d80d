# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.model import Unique
from trytond.transaction import Transaction


def forget_cached(Model, ids):
    "Drop the transaction's cached values of records changed by plain SQL"
    transaction = Transaction()
    transaction.counter += 1
    for cache in transaction.cache.values():
        if Model.__name__ in cache:
            for id_ in ids:
                cache[Model.__name__].pop(id_, None)


class CodedMixin:
    "Records known by a unique code (编号) and a name, found by either"
    __slots__ = ()
    _code_rec_name = '%(code)s - %(name)s'
    _code_unique_message = None  # message id of the uniqueness error

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code), cls._code_unique_message),
            ]

    def get_rec_name(self, name):
        return self._code_rec_name % {'code': self.code, 'name': self.name}

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('code', operator, operand, *extra),
            ('name', operator, operand, *extra),
            ]
