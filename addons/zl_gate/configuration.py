# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.model import fields
from trytond.pool import PoolMeta


class Configuration(metaclass=PoolMeta):
    __name__ = 'zl.reservation.configuration'

    gate_annul_window = fields.Integer(
        "Annul Window", required=True,
        help="Seconds after an admission during which a gate may annul it "
        "(the turnstile did not turn) and give the use back.")
    gate_max_drift = fields.Integer(
        "Allowed Clock Drift", required=True,
        help="Seconds an offline gate's clock may differ from the "
        "server's before it refuses to decide.")
    gate_bundle_hours = fields.Integer(
        "Offline Bundle Validity", required=True,
        help="Hours an offline gate may decide with one bundle.")

    @classmethod
    def default_gate_annul_window(cls):
        return 30

    @classmethod
    def default_gate_max_drift(cls):
        return 120

    @classmethod
    def default_gate_bundle_hours(cls):
        return 24
