# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The H5 page checks ID numbers and phones as the visitor types
(addons/zl_miniprogram/h5/idcard.js); the server decides by
zl_reservation/identity.py.  The two must never disagree: thousands of
numbers near the edge of every rule, run through the page's module in
Chromium and through identity.py.  No database: the module is served
from the tree under a made-up origin."""
import datetime as dt
import random
import re

import pytest
from playwright.sync_api import sync_playwright
from zl_testing import CHROMIUM_ARGS, ROOT

from trytond.modules.zl_reservation.identity import (
    _PROVINCES,
    is_valid_id,
    is_valid_mobile,
    make_resident_id,
    normalize_id,
)

pytestmark = pytest.mark.browser

H5 = ROOT / 'addons' / 'zl_miniprogram' / 'h5'
ORIGIN = 'http://h5.test/'


@pytest.fixture(scope='module')
def page():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path='/usr/bin/chromium', args=CHROMIUM_ARGS)
        page = browser.new_page()

        def serve(route):
            name = route.request.url[len(ORIGIN):]
            if name == 'idcard.js':
                route.fulfill(path=H5 / name,
                    content_type='text/javascript; charset=utf-8')
            else:
                route.fulfill(body='<!DOCTYPE html><title>t</title>',
                    content_type='text/html; charset=utf-8')
        page.route(ORIGIN + '**', serve)
        page.goto(ORIGIN)
        yield page
        browser.close()


CHECKS = '''async ([numbers, documents, phones, today]) => {
    const checks = await import(new URL('idcard.js', location.href).href);
    return {
        resident: numbers.map(n => checks.residentIdError(n, today)),
        documents: documents.map(
            ([type, n]) => checks.idError(type, n, today) === null),
        phones: phones.map(p => checks.phoneError(p) === null),
    };
}'''


def resident_error(number):
    "What residentIdError must answer, from identity.py"
    if is_valid_id('resident_id', number):
        return None
    number = normalize_id('resident_id', number)
    if re.fullmatch('[0-9]{17}[0-9X]', number) and is_valid_id(
            'resident_id', make_resident_id(
                number[:6], number[6:14], number[14:17])):
        return 'checksum'
    return 'format'


def test_id_checks_agree_with_server(page):
    today, rng = dt.date.today(), random.Random(11643)
    numbers = resident_cases(today, rng)
    documents, phones = document_cases(rng), phone_cases(rng)
    answers = page.evaluate(CHECKS, [numbers, documents, phones,
            today.isoformat()])
    assert [len(a) for a in answers.values()] == [
        len(numbers), len(documents), len(phones)]
    wrong = [f'resident_id {n!r}: page {a!r}, server {resident_error(n)!r}'
        for n, a in zip(numbers, answers['resident'])
        if a != resident_error(n)]
    wrong += [f'{t} {n!r}: page {a}, server {is_valid_id(t, n)}'
        for (t, n), a in zip(documents, answers['documents'])
        if a != is_valid_id(t, n)]
    wrong += [f'phone {p!r}: page {a}, server {is_valid_mobile(p)}'
        for p, a in zip(phones, answers['phones'])
        if a != is_valid_mobile(p)]
    assert not wrong, f'{len(wrong)} disagreements:\n' + '\n'.join(
        wrong[:60])


# ID numbers and phones for comparing the page's checks with identity.py --

def resident_cases(today, rng):
    """About 2,000 resident ID numbers, valid and not, near the edges of
    every rule of identity._is_valid_resident_id"""
    provinces = sorted(_PROVINCES)
    start = dt.date(1900, 1, 1)

    def birth():
        return start + dt.timedelta(days=rng.randrange(
                (today - start).days + 1))

    def make(region=None, born=None, seq=None):
        region = region or '%02d%04d' % (
            rng.choice(provinces), rng.randrange(10000))
        born = born or birth().strftime('%Y%m%d')
        return make_resident_id(region, born, seq or '%03d' % rng.randrange(
                1000))
    valid = [make() for _ in range(400)]
    edges = [start, today, start - dt.timedelta(days=1),
        today + dt.timedelta(days=1), dt.date(2000, 2, 29),
        today + dt.timedelta(days=400), dt.date(2099, 12, 31)]
    cases = valid + [make(born=d.strftime('%Y%m%d')) for d in edges]
    # Every two-digit region prefix, good and bad.
    cases += [make(region='%02d0101' % p) for p in range(100)]
    cases += [make(region='%02d0101' % p, born='19000101')
        for p in range(100)]
    # Dates that do not exist; future births.
    for _ in range(150):
        year = rng.randrange(1900, 2030)
        month, day = rng.choice([(0, 1), (13, 1), (19, 5), (1, 0), (1, 32),
                (4, 31), (6, 31), (2, 30), (2, 29), (11, 31)])
        cases.append(make(born='%04d%02d%02d' % (year, month, day)))
    for _ in range(50):
        cases.append(make(born=(today + dt.timedelta(
                        days=rng.randrange(1, 3650))).strftime('%Y%m%d')))
    # One character changed: mostly a wrong check character.
    alphabet = '0123456789X'
    for number in valid + valid[:200]:
        i = rng.randrange(18)
        c = rng.choice(alphabet.replace(number[i], ''))
        cases.append(number[:i] + c + number[i + 1:])
    # Lower-case x, whitespace anywhere, wrong lengths, strange characters.
    with_x = [n for n in (make() for _ in range(600)) if n[-1] == 'X']
    cases += [n[:-1] + 'x' for n in with_x]
    # Python's whitespace is not JS's: U+001C-U+001F, U+0085 are spaces
    # to str.split(), U+FEFF is not.
    spaces = [' ', '  ', '\t', '\n', '\u3000', '\xa0', '\r\n', '\v',
        '\x1c', '\x1f', '\x85', '\u2003', '\ufeff', '\u200b']
    for number in valid[:150]:
        i = rng.randrange(19)
        cases.append(number[:i] + rng.choice(spaces) + number[i:])
    cases += [' ' + n + ' ' for n in valid[:20]]
    cases += ['%s %s %s' % (n[:6], n[6:14], n[14:]) for n in valid[:20]]
    for number in valid[:150]:
        cases.append(number[:rng.randrange(18)])
        cases.append(number + rng.choice('0123456789X'))
    cases += [n[:6] + n[8:17] for n in valid[:30]]  # old 15-digit cards
    oddities = ['', ' ', 'X' * 18, '１' * 18, 'A' + '1' * 17,
        '11010119900307123-', '١١٠١٠١١٩٩٠٠٣٠٧١٢٣٤', '11010119900307123Y']
    for number in valid[:60]:
        i = rng.randrange(17)
        cases.append(number[:i] + rng.choice('aZ-.１٣*') + number[i + 1:])
    return cases + oddities


def document_cases(rng):
    "(id_type, number) of the other documents, valid and not"
    letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
    cases = []
    for _ in range(120):
        text = ''.join(rng.choice(letters) for _ in range(
                rng.randrange(2, 20)))
        cases.append(('passport', rng.choice(
                    [text, text.lower(), text[:3] + ' ' + text[3:],
                        text + '-', text + '\u3000'])))
    for _ in range(120):
        digits = ''.join(rng.choice('0123456789') for _ in range(
                rng.choice([7, 8, 9, 10, 11])))
        cases.append(('hk_macau_permit', rng.choice('HMhmXC') + digits))
        cases.append(('taiwan_permit', rng.choice(
                    [digits, digits[:4] + ' ' + digits[4:], 'T' + digits])))
    return cases


def phone_cases(rng):
    "Mobile numbers, valid and not, with the prefixes and separators"
    cases = []
    for _ in range(300):
        number = '1' + rng.choice('0123456789') + ''.join(
            rng.choice('0123456789') for _ in range(
                rng.choice([8, 9, 9, 9, 10])))
        prefix = rng.choice(['', '', '+86', '86', '0086', '+86 ', '+ 86',
                '+87', '８６'])
        shaped = rng.choice([number, f'{number[:3]} {number[3:7]} '
            f'{number[7:]}', f'{number[:3]}-{number[3:7]}-{number[7:]}',
            number + ' ', '\t' + number, number[:5] + 'a' + number[6:],
            number[:3] + rng.choice('\x1c\x85\ufeff\u3000') + number[3:],
            number.replace('3', '３')])
        cases.append(prefix + shaped)
    return cases + ['', ' ', '-', '+86', '13800138000x',
        '１３８００１３８０００']
