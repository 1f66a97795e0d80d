# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError
from trytond.res import user


class TicketValidationError(ValidationError):
    pass


class ImageValidationError(ValidationError):
    pass


class SellerValidationError(ValidationError):
    pass


class PasswordPolicyError(ValidationError):
    pass


class PasswordError(user.PasswordError):
    "The password policy, caught like Tryton's"


class LogAccessError(AccessError):
    pass


class DataScopeError(UserError):
    pass


class RoleTickError(ValidationError):
    pass
