# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

# Nothing: the gate methods read what they need without access checks.
_NONE = {'read': False, 'write': False, 'create': False, 'delete': False}
# What Tryton reads under access checks to word a refusal (names of
# models, fields and groups, messages and their translations): nothing
# of the site's data.
_READABLE = {
    'ir.model', 'ir.model.field', 'ir.message', 'ir.translation', 'ir.lang',
    'res.group'}


class ModelAccess(metaclass=PoolMeta):
    __name__ = 'ir.model.access'

    @classmethod
    def get_access(cls, models):
        """A device account may call the gate methods and nothing else:
        Tryton opens a model without access records to every user, so the
        Gate Device group is refused every model explicitly (also the
        ones of modules installed later)."""
        access = super().get_access(models)
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        with without_check_access():
            try:
                group = ModelData.get_id('zl_gate', 'group_gate_device')
            except KeyError:  # while the module is being installed
                return access
            groups = User.get_groups()
        if group in groups:
            access = {m: (a if m in _READABLE else _NONE.copy())
                for m, a in access.items()}
        return access
