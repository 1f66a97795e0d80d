# This file is part of zhonglian-ticketing. See README.md for the licence.
"Real-name checks: identity documents and mainland mobile numbers"
import datetime as dt
import hashlib
import hmac
import re

ID_TYPES = [
    ('resident_id', "Resident Identity Card"),
    ('passport', "Passport"),
    ('hk_macau_permit',
        "Mainland Travel Permit for Hong Kong and Macao Residents"),
    ('taiwan_permit', "Mainland Travel Permit for Taiwan Residents"),
    ]

# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = '10X98765432'
# First two digits of GB/T 2260 region codes, plus 81/82/83 (residence
# permits of Hong Kong, Macao, Taiwan residents) and 91 (foreigners'
# permanent residence ID card, 2023 format).
_PROVINCES = frozenset(
    [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
        41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
        71, 81, 82, 83, 91])

# [0-9], not \d: \d also matches non-ASCII digits such as '１'.
_RESIDENT_ID = re.compile(r'[0-9]{17}[0-9X]')
# Chinese passports (E12345678, EA1234567, G/D/S/P + 8 digits) are a
# subset of this generic pattern, which foreign passports need anyway.
_PASSPORT = re.compile(r'[A-Z0-9]{5,17}')
_HK_MACAU_PERMIT = re.compile(r'[HM][0-9]{8}(?:[0-9]{2})?')
_TAIWAN_PERMIT = re.compile(r'[0-9]{8}(?:[0-9]{2})?')
_MOBILE = re.compile(r'(?:\+?86)?(1[3-9][0-9]{9})')


def normalize_id(id_type, number):
    "Drop all whitespace and uppercase ('x' check char -> 'X')"
    if not isinstance(number, str):
        number = '' if number is None else str(number)
    return ''.join(number.split()).upper()


def _check_char(digits17):
    total = sum(int(d) * w for d, w in zip(digits17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def _is_valid_resident_id(number):
    if not _RESIDENT_ID.fullmatch(number):
        return False
    if int(number[:2]) not in _PROVINCES:
        return False
    year, month, day = number[6:10], number[10:12], number[12:14]
    try:
        birth = dt.date(int(year), int(month), int(day))
    except ValueError:  # 0230, month 13, ...
        return False
    if not dt.date(1900, 1, 1) <= birth <= dt.date.today():
        return False
    return _check_char(number[:17]) == number[17]


def is_valid_id(id_type, number):
    number = normalize_id(id_type, number)
    if id_type == 'resident_id':
        return _is_valid_resident_id(number)
    pattern = {
        'passport': _PASSPORT,
        'hk_macau_permit': _HK_MACAU_PERMIT,
        'taiwan_permit': _TAIWAN_PERMIT,
        }.get(id_type)
    return bool(pattern and pattern.fullmatch(number))


def birth_date(id_type, number):
    "The birth date a valid resident ID carries, else None"
    number = normalize_id(id_type, number)
    if id_type != 'resident_id' or not _is_valid_resident_id(number):
        return None
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


# Under this age on the visit date a visitor is a child: a gate asks for a
# guardian, the visit policy counts a minor.
CHILD_UNDER = 14


def age(birth, on_date):
    "Whole years from birth to on_date (a birthday on on_date counts)"
    return on_date.year - birth.year - (
        (on_date.month, on_date.day) < (birth.month, birth.day))


def age_band(birth, on_date, child_under=CHILD_UNDER, senior_over=60):
    """'child' (under 14), 'senior' (over 60) or None on on_date: what a
    gate attendant needs to know (a guardian, the priority lane) without
    the ID number"""
    if birth is None:
        return None
    years = age(birth, on_date)
    if years < child_under:
        return 'child'
    if years > senior_over:
        return 'senior'
    return None


def normalize_mobile(phone):
    """Return the 11-digit national number, or the input without spaces
    and dashes when it is not a mainland mobile number"""
    if not isinstance(phone, str):
        phone = '' if phone is None else str(phone)
    phone = re.sub(r'[\s-]', '', phone)
    match = _MOBILE.fullmatch(phone)
    return match.group(1) if match else phone


def is_valid_mobile(phone):
    return bool(_MOBILE.fullmatch(normalize_mobile(phone)))


def id_digest(secret, id_type, number):
    """Keyed hash of the document, so the database can enforce "one
    booking per person" without holding the number in clear"""
    message = f'{id_type}:{normalize_id(id_type, number)}'
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def mask_id(number):
    "Keep the first 4 and last 4 characters: 1101**********1234"
    number = '' if number is None else str(number)
    if len(number) <= 8:
        return number[:1] + '*' * (len(number) - 1)
    return number[:4] + '*' * (len(number) - 8) + number[-4:]


def make_resident_id(region='110101', birth='19900307', seq='123'):
    "Valid 18-character resident ID, for tests and benchmarks"
    body = f'{region}{birth}{seq}'
    if not re.fullmatch(r'[0-9]{17}', body):
        raise ValueError(f'need 6 + 8 + 3 digits, got {body!r}')
    return body + _check_char(body)
