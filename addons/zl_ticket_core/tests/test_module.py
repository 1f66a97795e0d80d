# This file is part of zhonglian-ticketing. See README.md for the licence.
from trytond.tests.test_tryton import ModuleTestCase


class ZlTicketCoreTestCase(ModuleTestCase):
    "Test zl_ticket_core module"
    module = 'zl_ticket_core'


del ModuleTestCase
