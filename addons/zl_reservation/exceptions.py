# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


class BookingError(UserError):
    """A refused booking or cancellation, with the stable code of doc/api.md
    (sold_out, not_open, closed, limit_exceeded, duplicate_visitor,
    invalid_id_number, invalid_phone, ticket_not_available, group_size,
    ...)."""

    def __init__(self, code, message, description=''):
        super().__init__(message, description)
        self.code = code
        self.arguments = {}


class PlanValidationError(ValidationError):
    pass


class BookingAccessError(AccessError):
    pass


class SlotAccessError(AccessError):
    pass


class ConfigurationValidationError(ValidationError):
    pass
