# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.tests.test_tryton import ModuleTestCase


class ZlReservationTestCase(ModuleTestCase):
    "Test zl_reservation module"
    module = 'zl_reservation'


del ModuleTestCase
