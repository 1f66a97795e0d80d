# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class ApiError(UserError):
    """A visitor API refusal with its stable code and HTTP status
    (doc/visitor-api.md)"""

    def __init__(self, code, message, status=400, **extra):
        super().__init__(message)
        self.code = code
        self.status = status
        self.extra = extra


class HomepageValidationError(ValidationError):
    pass


class PromoValidationError(ValidationError):
    pass


class ConfigurationValidationError(ValidationError):
    pass
