# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.tests.test_tryton import ModuleTestCase


class ZlGateTestCase(ModuleTestCase):
    "Test zl_gate module"
    module = 'zl_gate'


del ModuleTestCase
