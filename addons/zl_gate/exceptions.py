# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError


class GateError(UserError):
    """A gate call that cannot be answered with a decision (a disabled
    device, a malformed scan, a clock far off), with the stable code of
    doc/gate.md"""

    def __init__(self, code, message, description=''):
        super().__init__(message, description)
        self.code = code


class GateAccessError(AccessError):
    pass
