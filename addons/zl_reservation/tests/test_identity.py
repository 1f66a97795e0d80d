# This file is part of zhonglian-ticketing. See README.md for the licence.
import datetime as dt
import hashlib
import hmac

import pytest

from trytond.modules.zl_reservation import identity

GB_EXAMPLE = '11010519491231002X'  # the example printed in GB 11643-1999
RESIDENT_IDS = [
    GB_EXAMPLE,
    identity.make_resident_id(),
    identity.make_resident_id('440305', '20000229', '001'),  # leap day
    identity.make_resident_id('650102', '19000101', '999'),
    identity.make_resident_id('810000', '19851231', '456'),  # Hong Kong
    identity.make_resident_id('910000', '19700101', '000'),  # foreigner
    ]


def test_id_types():
    assert [code for code, _ in identity.ID_TYPES] == [
        'resident_id', 'passport', 'hk_macau_permit', 'taiwan_permit']


@pytest.mark.parametrize('number', RESIDENT_IDS)
def test_resident_id_valid(number):
    assert len(number) == 18
    assert identity.is_valid_id('resident_id', number)


def test_make_resident_id_check_chars():
    assert identity.make_resident_id('110105', '19491231', '002') == (
        GB_EXAMPLE)
    # Every check character is reachable through the sequence number.
    checks = {identity.make_resident_id(seq=f'{i:03}')[-1]
        for i in range(100)}
    assert checks == set('0123456789X')
    with pytest.raises(ValueError):
        identity.make_resident_id(seq='12')
    with pytest.raises(ValueError):
        identity.make_resident_id(region='11010A')


@pytest.mark.parametrize('number', RESIDENT_IDS)
def test_resident_id_any_one_char_change_fails(number):
    for i in range(18):
        for char in '0123456789X':
            if char == number[i]:
                continue
            changed = number[:i] + char + number[i + 1:]
            assert not identity.is_valid_id('resident_id', changed), changed


def test_resident_id_normalized():
    assert identity.normalize_id('resident_id', ' 110105 19491231 002x ') == (
        GB_EXAMPLE)
    assert identity.is_valid_id('resident_id', GB_EXAMPLE.lower())
    assert identity.is_valid_id('resident_id', '110105 19491231 002x')
    assert identity.normalize_id('passport', None) == ''


@pytest.mark.parametrize('birth', [
        '19900230',  # no such day
        '19901301',  # month 13
        '19900001',
        '19900100',
        '18991231',  # before 1900
        '00000101',
        ])
def test_resident_id_bad_birth_date(birth):
    number = identity.make_resident_id('110101', birth, '123')
    assert not identity.is_valid_id('resident_id', number)


def test_resident_id_birth_date_not_in_future():
    today = dt.date.today()
    tomorrow = today + dt.timedelta(days=1)
    assert identity.is_valid_id('resident_id', identity.make_resident_id(
                birth=today.strftime('%Y%m%d')))
    assert not identity.is_valid_id('resident_id', identity.make_resident_id(
                birth=tomorrow.strftime('%Y%m%d')))
    assert not identity.is_valid_id('resident_id', identity.make_resident_id(
                birth='29990101'))


@pytest.mark.parametrize('region', [
        '000000', '100101', '160101', '240101', '380101', '470101',
        '550101', '660101', '720101', '840101', '900101', '990101'])
def test_resident_id_bad_region(region):
    number = identity.make_resident_id(region, '19900307', '123')
    assert not identity.is_valid_id('resident_id', number)


@pytest.mark.parametrize('number', [
        '', None, 12345, GB_EXAMPLE[:17], GB_EXAMPLE + '0', '1' * 18,
        '11010519491231002Y', 'X1010519491231002X',
        '１１' + GB_EXAMPLE[2:],  # full-width digits are not digits here
        '11010519491231002X\n1',
        ])
def test_resident_id_malformed(number):
    assert not identity.is_valid_id('resident_id', number)


@pytest.mark.parametrize('id_type, number', [
        ('passport', 'E12345678'),
        ('passport', 'EA1234567'),
        ('passport', 'g12345678'),
        ('passport', 'P 1234 5678'),
        ('passport', 'C01X00T47'),  # foreign passport
        ('passport', '12345'),
        ('passport', 'A' * 17),
        ('hk_macau_permit', 'H12345678'),
        ('hk_macau_permit', 'M1234567801'),
        ('hk_macau_permit', 'h12345678'),
        ('taiwan_permit', '12345678'),
        ('taiwan_permit', '1234567801'),
        ])
def test_other_id_valid(id_type, number):
    assert identity.is_valid_id(id_type, number)


@pytest.mark.parametrize('id_type, number', [
        ('passport', 'E123'),  # too short
        ('passport', 'A' * 18),
        ('passport', 'E1234567-8'),
        ('passport', 'É12345678'),
        ('passport', ''),
        ('hk_macau_permit', 'X12345678'),
        ('hk_macau_permit', 'H1234567'),
        ('hk_macau_permit', 'H123456789'),
        ('hk_macau_permit', 'H12345678012'),
        ('hk_macau_permit', '12345678'),
        ('taiwan_permit', '1234567'),
        ('taiwan_permit', '123456789'),
        ('taiwan_permit', 'T12345678'),
        ('taiwan_permit', '12345678901'),
        ('unknown', 'E12345678'),
        (None, 'E12345678'),
        ])
def test_other_id_invalid(id_type, number):
    assert not identity.is_valid_id(id_type, number)


@pytest.mark.parametrize('phone, national', [
        ('13812345678', '13812345678'),
        ('19912345678', '19912345678'),
        ('+8613812345678', '13812345678'),
        ('8613812345678', '13812345678'),
        ('+86 138-1234-5678', '13812345678'),
        (' 159 1234 5678 ', '15912345678'),
        ])
def test_mobile_valid(phone, national):
    assert identity.is_valid_mobile(phone)
    assert identity.normalize_mobile(phone) == national


@pytest.mark.parametrize('phone', [
        '', None, '138123456789', '1381234567', '12812345678',
        '11812345678', '23812345678', '+8513812345678', '+86+8613812345678',
        '8613812345678 9', '1381234567a', '138１２345678'])
def test_mobile_invalid(phone):
    assert not identity.is_valid_mobile(phone)


def test_normalize_mobile():
    assert identity.normalize_mobile('+86 138-1234-5678') == '13812345678'
    # Not a mobile: only spaces and dashes go.
    assert identity.normalize_mobile('010-6512 3456') == '01065123456'


def test_id_digest():
    secret = b'0123456789abcdef'
    digest = identity.id_digest(secret, 'resident_id', GB_EXAMPLE)
    assert digest == hmac.new(
        secret, b'resident_id:' + GB_EXAMPLE.encode(),
        hashlib.sha256).hexdigest()
    assert GB_EXAMPLE not in digest
    assert digest == identity.id_digest(
        secret, 'resident_id', ' 110105 19491231 002x')
    assert digest != identity.id_digest(secret, 'passport', GB_EXAMPLE)
    assert digest != identity.id_digest(
        b'another secret', 'resident_id', GB_EXAMPLE)
    assert digest != identity.id_digest(
        secret, 'resident_id', identity.make_resident_id())
    assert identity.id_digest(secret, 'passport', 'e12345678') == (
        identity.id_digest(secret, 'passport', 'E1234 5678'))


def test_mask_id():
    assert identity.mask_id('110105194912310021') == '1101**********0021'
    assert identity.mask_id('E12345678') == 'E123*5678'
    assert identity.mask_id('12345678') == '1*******'
    assert identity.mask_id('1') == '1'
    assert identity.mask_id('') == ''
    assert identity.mask_id(None) == ''
