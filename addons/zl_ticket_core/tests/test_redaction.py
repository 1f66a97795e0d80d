# This file is part of zhonglian-ticketing. See README.md for the licence.
"ID numbers never reach a log line: redaction.py (the rule), logs.py (hook)"
import logging

import pytest

from trytond.modules.zl_ticket_core import logs
from trytond.modules.zl_ticket_core.redaction import (
    MIN_DIGITS,
    REDACTED,
    has_id_like,
    redact,
)

GB_EXAMPLE = '11010519491231002X'  # the example printed in GB 11643-1999
ID_LIKE = [
    GB_EXAMPLE,
    GB_EXAMPLE.lower(),
    '110101199003074258',  # 18 digits
    GB_EXAMPLE[:17],  # what the dispatcher's 17-character cut leaves
    '110105491231002',  # 15-digit ID of before 1999
    '1' * MIN_DIGITS,
    '6222021234567890123',  # bank card, 19 digits
    '110105 19491231 002X',  # written in groups
    '110105-19491231-002X',
    '１１０１０５１９４９１２３１００２Ｘ',  # full-width
    ]
NOT_ID_LIKE = [
    '1' * (MIN_DIGITS - 1),
    '13800138000',  # mobile number
    '2026-11-25 22:15:28,123',
    '127.0.0.1:8000',
    '1732570528.123456',  # epoch seconds with a fraction
    '11010519491  2310',  # two spaces break the run
    'E12345678',  # passport
    'model.zl.seller.search',
    '',
    ]


@pytest.mark.parametrize('number', ID_LIKE)
def test_id_like_alone(number):
    assert redact(number) == REDACTED
    assert has_id_like(number)


@pytest.mark.parametrize('number', ID_LIKE)
@pytest.mark.parametrize('template', [
        "{}",
        "id_number={}",
        "('id_number', '=', '{}')",
        "[[\"visitors.id_number\", \"=\", \"{}...\"]]",
        "身份证号{}有误",
        "abc{}def",
        "{} and {}",
        ])
def test_id_like_in_text(number, template):
    text = template.format(number, number)
    redacted = redact(text)
    assert redacted == template.format(REDACTED, REDACTED)
    digits = ''.join(c for c in number if c.isdigit())
    assert digits[:MIN_DIGITS] not in ''.join(
        c for c in redacted if c.isdigit())


@pytest.mark.parametrize('text', NOT_ID_LIKE)
def test_other_text_kept(text):
    assert redact(text) == text
    assert not has_id_like(text)


def test_every_cut_of_an_id_from_14_digits():
    "Any prefix long enough to narrow a person down is redacted"
    for length in range(len(GB_EXAMPLE) + 1):
        cut = GB_EXAMPLE[:length]
        expected = REDACTED if length >= MIN_DIGITS else cut
        assert redact(cut + '...') == expected + '...', length


def test_non_text():
    assert redact(None) is None
    assert redact(110105194912310021) == 110105194912310021
    assert not has_id_like(None)


@pytest.fixture
def hooked():
    "A logger whose records go through the redacting factory"
    previous = logging.getLogRecordFactory()
    logs.install()
    logs.install()  # once only, however often the module is imported
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    logger = logging.getLogger('zl_test_redaction')
    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, records
    logger.removeHandler(handler)
    logging.setLogRecordFactory(previous)


def test_hook_installed_on_import():
    assert getattr(logging.getLogRecordFactory(), 'zl_redacting', False)


def test_hook_redacts_message_and_arguments(hooked):
    logger, records = hooked
    logger.info('%s.%s(%r) from %s', 'zl.seller', 'search',
        [('name', '=', GB_EXAMPLE[:17] + '...')], 'clerk')
    logger.info('plain %s', 'text')
    logger.info('%(id)s', {'id': GB_EXAMPLE})
    assert records == [
        "zl.seller.search([('name', '=', '%s...')]) from clerk" % REDACTED,
        'plain text',
        REDACTED,
        ]


def test_hook_redacts_exception_text(hooked):
    logger, records = hooked
    try:
        raise ValueError('bad id %s' % GB_EXAMPLE)
    except ValueError:
        logger.exception('call failed for %s', GB_EXAMPLE[:17])
    text, = records
    assert 'call failed for %s' % REDACTED in text
    assert 'ValueError: bad id %s' % REDACTED in text
    assert GB_EXAMPLE[:MIN_DIGITS] not in text


def test_hook_survives_wrong_arguments(hooked):
    logger, records = hooked
    logger.info('%s %s', GB_EXAMPLE)  # one argument short
    text, = records
    assert GB_EXAMPLE[:MIN_DIGITS] not in text
    assert REDACTED in text


def test_hook_hides_failed_login(hooked):
    "trytond.security's 'login failed' names the marker, not the typed name"
    _, records = hooked
    security = logging.getLogger('trytond.security')
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    security.addHandler(handler)
    try:
        logs.hide_failed_login('Secret-Pass-2026', '#0123456789ab')
        security.error("login failed for '%s' from '%s' on database '%s'",
            'Secret-Pass-2026', '127.0.0.1', 'db')
        # Only once, and only that name.
        security.error("login failed for '%s' from '%s' on database '%s'",
            'Secret-Pass-2026', '127.0.0.1', 'db')
    finally:
        security.removeHandler(handler)
    assert records == [
        "login failed for '#0123456789ab' from '127.0.0.1' on database 'db'",
        "login failed for 'Secret-Pass-2026' from '127.0.0.1'"
        " on database 'db'",
        ]
