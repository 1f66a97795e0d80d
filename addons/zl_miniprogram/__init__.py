# This file is part of zhonglian-ticketing. See README.md for the licence.

# The visitor API's routes register on trytond's WSGI application.
from . import routes  # noqa: F401
