# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The data permission extended with gates (检票设备): a gate operator
sees the devices, and their check-in records, that his permissions open
(the manual's "检票设备：查看检票数据需要使用")."""
from trytond.model import ModelSQL, fields
from trytond.modules.zl_ticket_core.data_scope import ScopeChangeMixin
from trytond.pool import PoolMeta
from trytond.pyson import Eval


class DataPermission(metaclass=PoolMeta):
    __name__ = 'zl.data.permission'

    devices = fields.Many2Many(
        'zl.data.permission-zl.gate.device', 'permission', 'device',
        "Gate Devices",
        states={'invisible': Eval('all_data', False)})

    @classmethod
    def scope_fields(cls):
        return {**super().scope_fields(), 'device': 'devices'}


class DataPermissionDevice(ScopeChangeMixin, ModelSQL):
    __name__ = 'zl.data.permission-zl.gate.device'
    __string__ = "Data Permission Gate Device"

    permission = fields.Many2One(
        'zl.data.permission', "Permission", required=True,
        ondelete='CASCADE')
    device = fields.Many2One(
        'zl.gate.device', "Device", required=True, ondelete='CASCADE')
