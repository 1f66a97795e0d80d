# This file is part of zhonglian-ticketing. See README.md for the licence.

# The visitor API's routes and the H5 page register on trytond's WSGI
# application.
from . import h5, routes  # noqa: F401
