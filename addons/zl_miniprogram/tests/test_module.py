# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.tests.test_tryton import ModuleTestCase


class ZlMiniprogramTestCase(ModuleTestCase):
    "Test zl_miniprogram module"
    module = 'zl_miniprogram'


del ModuleTestCase
